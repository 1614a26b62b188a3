#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The rdma-core pyverbs suite (Debian's copy) against a uet device on a
# veth pair.  The whole run is logged; its device and port query tests
# are reported as TAP results, one per test.
set -u

T=$(mktemp -d)/tests
VA=uetpy0
DEV=uet0

cp -r /usr/share/doc/rdma-core/tests "$T"
gunzip -f "$T"/*.gz 2>/dev/null

ip link add "$VA" type veth peer name uetpy1
sysctl -qw "net.ipv6.conf.$VA.accept_dad=0"
ip link set "$VA" up
ip link set uetpy1 up
ip addr add 10.94.0.1/24 dev "$VA"
rdma link add "$DEV" type uet netdev "$VA"

echo "# pyverbs: /usr/bin/python3 run_tests.py --dev $DEV --gid 0 -v"
(cd "$T" && timeout 600 /usr/bin/python3 run_tests.py --dev "$DEV" \
	--gid 0 -v) >/tmp/pyverbs.log 2>&1
rc=$?
sed 's/^/# pyverbs: /' /tmp/pyverbs.log
echo "# pyverbs: exit status $rc"

# One TAP line per test of the modules uet supports so far.
/usr/bin/python3 "$(dirname "$0")/pyverbs-tap.py" /tmp/pyverbs.log \
	test_device test_pd test_addr test_cq

rdma link del "$DEV"
ip link del "$VA"
