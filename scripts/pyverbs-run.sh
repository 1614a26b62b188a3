#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The rdma-core pyverbs suite (Debian's copy) against a uet device and,
# for comparison in the same boot, an rxe device, on the two ends of a
# veth pair.  Until uet moves data this runs the API tests (the classes
# built on PyverbsAPITestCase: objects and queries); each uet result is
# a TAP line, and one more line compares uet with rxe.
set -u

T=$(mktemp -d)/tests
VA=uetpy0
VB=uetpy1

cp -r /usr/share/doc/rdma-core/tests "$T"
gunzip -f "$T"/*.gz 2>/dev/null

# The API test classes, and every test of them the suite would run.
classes=$(grep -ho '^class [A-Za-z0-9_]*(PyverbsAPITestCase)' "$T"/test_*.py |
	sed 's/^class \([A-Za-z0-9_]*\).*/\1/' | sort -u | paste -sd'|')
ids=$(cd "$T" && /usr/bin/python3 run_tests.py --list-tests 2>/dev/null |
	grep -E "^tests\.test_[a-z0-9_]+\.($classes)\.")

ip link add "$VA" type veth peer name "$VB"
for v in "$VA" "$VB"; do
	sysctl -qw "net.ipv6.conf.$v.accept_dad=0"
	ip link set "$v" up
done
ip addr add 10.94.0.1/24 dev "$VA"
ip addr add 10.94.0.2/24 dev "$VB"
modprobe rdma_rxe
rdma link add uet0 type uet netdev "$VA"
rdma link add rxe0 type rxe netdev "$VB"

for dev in rxe0 uet0; do
	echo "# pyverbs on $dev: run_tests.py --dev $dev --gid 0 -v" \
		"($(echo "$ids" | wc -l) API tests)"
	# shellcheck disable=SC2086
	(cd "$T" && timeout 600 /usr/bin/python3 run_tests.py --dev "$dev" \
		--gid 0 -v $ids) >"/tmp/pyverbs-$dev.log" 2>&1
	rc=$?
	sed "s/^/# pyverbs $dev: /" "/tmp/pyverbs-$dev.log"
	echo "# pyverbs $dev: exit status $rc"
done

/usr/bin/python3 "$(dirname "$0")/pyverbs-tap.py" /tmp/pyverbs-uet0.log \
	/tmp/pyverbs-rxe0.log

rdma link del uet0
rdma link del rxe0
ip link del "$VA"
