#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# The whole rdma-core pyverbs suite (Debian's copy) against a uet device
# and, for comparison in the same boot, an rxe device, on the two ends of
# a veth pair.  Each uet result is a TAP line (a skip is fine, a failure
# or an error is not); one more line holds only if uet passes at least as
# many tests as rxe with no failure and no error (pyverbs-tap.py).
#
# The full logs are left in $UET_VM_OUT (vm-run.sh copies that out of the
# guest) when it is set, and in /tmp otherwise.
set -u

T=$(mktemp -d)/tests
VA=uetpy0
VB=uetpy1
OUT=${UET_VM_OUT:-/tmp}
# One run of the suite takes a few minutes (under TCG, most of it is
# python starting); a test blocking forever in a verb is killed after this
# many seconds, counted as an error, and the suite goes on from the next
# test, at most MAX_ROUNDS times per device.
ROUND_TIMEOUT=${PYVERBS_ROUND_TIMEOUT:-600}
MAX_ROUNDS=3
TAP=$(dirname "$0")/pyverbs-tap.py

cp -r /usr/share/doc/rdma-core/tests "$T"
gunzip -f "$T"/*.gz 2>/dev/null

# Every test the suite has: the TAP report accounts for each of them.
(cd "$T" && /usr/bin/python3 run_tests.py --list-tests 2>/dev/null) |
	grep -E '^tests\.test_[a-z0-9_]+\.' >/tmp/pyverbs-ids

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

# The GID index of an IPv4 address: uet has one GID per address (the
# IPv4-mapped one; no RoCE types) and takes the lowest free index, so
# its index depends on when the IPv6 link-local address came.
gid_of() {
	local dev=$1 want=$2 f
	for f in /sys/class/infiniband/"$dev"/ports/1/gids/*; do
		if [ "$(cat "$f" 2>/dev/null)" = "$want" ]; then
			echo "${f##*/}"
			return 0
		fi
	done
	return 1
}
# uet0: wait for the address notifier to have filled the table.
for _ in $(seq 50); do
	uet_gid=$(gid_of uet0 0000:0000:0000:0000:0000:ffff:0a5e:0001) && break
	sleep 0.1
done
uet_gid=${uet_gid:-0}
# rxe0: GID 0, the default (link-local, RoCE v2) GID, which is how the
# reference numbers for rxe were taken.
rxe_gid=0

for dev in rxe0 uet0; do
	gid=$rxe_gid
	[ "$dev" = uet0 ] && gid=$uet_gid
	log=$OUT/pyverbs-$dev.log
	: >"$log"
	echo "# pyverbs on $dev: run_tests.py --dev $dev --gid $gid -v" \
		"($(wc -l </tmp/pyverbs-ids) tests;" \
		"GID $(cat "/sys/class/infiniband/$dev/ports/1/gids/$gid"))"
	start=$SECONDS
	cp /tmp/pyverbs-ids /tmp/pyverbs-todo
	for round in $(seq "$MAX_ROUNDS"); do
		# shellcheck disable=SC2046
		(cd "$T" && timeout -k 10 "$ROUND_TIMEOUT" /usr/bin/python3 \
			run_tests.py --dev "$dev" --gid "$gid" -v \
			$(cat /tmp/pyverbs-todo)) >>"$log" 2>&1
		case $? in
		124 | 137) ;;
		*) break ;;
		esac
		# On a line of its own even if the run was killed mid-line.
		printf "\nPYVERBS-TIMEOUT round %s after %s s\n" "$round" \
			"$ROUND_TIMEOUT" >>"$log"
		# The rest: every test that has not started (the one that hung
		# is an error).
		/usr/bin/python3 "$TAP" --pending /tmp/pyverbs-ids "$log" \
			>/tmp/pyverbs-todo
		[ -s /tmp/pyverbs-todo ] || break
	done
	sed "s/^/# pyverbs $dev: /" "$log"
	echo "# pyverbs $dev: $((SECONDS - start)) s for the suite"
done

/usr/bin/python3 "$TAP" --ids /tmp/pyverbs-ids \
	"$OUT/pyverbs-uet0.log" "$OUT/pyverbs-rxe0.log"

rdma link del uet0
rdma link del rxe0
ip link del "$VA"
