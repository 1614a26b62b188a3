#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A uet device goes away while processes use it: UET_TEST_ROUNDS (20)
# rounds each of "rdma link del", deleting the netdev and "rmmod
# rdma_uet", each while 4 uet_traffic processes hold a PD, an MR, a CQ
# and two RC QPs and send over them.  In every round each process gets
# IBV_EVENT_DEVICE_FATAL, its later verbs calls fail or return without
# hanging and its mappings are revoked (see uet_traffic.c); afterwards
# the device, its objects in "rdma res" and the UDP 4793 socket are gone.
# The processes do not hold the module (refcnt 0 while they run).  After
# the link and netdev rounds the module can be removed and loaded again;
# at the end dmesg has no warning.

. "$(dirname "$(realpath "$0")")/uet_lib.sh"

ROUNDS=${UET_TEST_ROUNDS:-20}
NPROC=4
DEV=uettL0
VA=uetlA
VB=uetlB
IP=10.96.0.1
TRAFFIC=$UET_LIB_DIR/uet_traffic
TMP=$(mktemp -d)
PIDS=()

cleanup() {
	local p

	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
	done
	modprobe rdma_uet 2>/dev/null
	rdma link del "$DEV" 2>/dev/null
	ip link del "$VA" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# The veth pair and the device on it.  uet_traffic waits for the GID.
dev_up() {
	if [ ! -e "/sys/class/net/$VA" ]; then
		uet_veth_add "$VA" "$VB" && ip addr add "$IP/24" dev "$VA" ||
			return 1
	fi
	rdma link add "$DEV" type uet netdev "$VA"
}

# Start the processes and wait up to 60 s until all send.
start_traffic() {
	local i _ n

	PIDS=()
	for i in $(seq "$NPROC"); do
		timeout -k 5 "$UET_CMD_TIMEOUT" "$TRAFFIC" "$DEV" "$IP" \
			>"$TMP/out$i" 2>&1 &
		PIDS+=("$!")
	done
	for _ in $(seq 600); do
		n=$(grep -l '^ready$' "$TMP"/out* 2>/dev/null | wc -l)
		[ "$n" = "$NPROC" ] && return 0
		grep -q '^failed' "$TMP"/out* && break
		sleep 0.1
	done
	echo "# only $n of $NPROC processes got traffic going"
	for i in $(seq "$NPROC"); do
		grep -q '^ready$' "$TMP/out$i" ||
			sed "s/^/# process $i: /" "$TMP/out$i"
	done
	return 1
}

# Wait for the processes: each must exit 0 after DEVICE_FATAL.
stop_traffic() {
	local i ok=0

	for i in $(seq "$NPROC"); do
		if ! wait "${PIDS[$((i - 1))]}" ||
		   ! grep -q '^fatal after' "$TMP/out$i" ||
		   ! grep -q '^ok$' "$TMP/out$i"; then
			ok=1
			sed "s/^/# process $i: /" "$TMP/out$i"
		fi
	done
	PIDS=()
	return $ok
}

# Nothing of the device is left: not in sysfs, "rdma link" or "rdma res",
# and no UDP 4793 socket.
all_gone() {
	! uet_dev_exists "$DEV" &&
		! rdma link show 2>/dev/null | grep -q " $DEV/" &&
		! rdma res show 2>/dev/null | grep -q " $DEV: " &&
		! ss -Huln 'sport = :4793' | grep -q .
}

dmesg_clean() {
	! dmesg | grep -E -q 'WARNING:|BUG:|refcount_t|leak|Oops|hung task'
}

# Seconds since the last call, as "$1 N.N s"; appended to PHASES.
phase() {
	local now=${EPOCHREALTIME/,/.}

	PHASES="$PHASES $1 $(awk -v a="$T_PHASE" -v b="$now" \
		'BEGIN { printf "%.1f", b - a }') s"
	T_PHASE=$now
}

# One round of teardown mode $1 (link, netdev or rmmod).
round() {
	local refcnt

	PHASES=
	T_PHASE=${EPOCHREALTIME/,/.}
	dev_up || { echo "# cannot create $DEV"; return 1; }
	phase "device up"
	start_traffic || return 1
	phase ", traffic going"
	case $1 in
	link)
		rdma link del "$DEV" || return 1
		;;
	netdev)
		ip link del "$VA" || return 1
		;;
	rmmod)
		# Processes with a context do not pin a driver that can
		# disassociate them.
		refcnt=$(cat /sys/module/rdma_uet/refcnt)
		if [ "$refcnt" != 0 ]; then
			echo "# rdma_uet refcnt $refcnt with $NPROC users"
			return 1
		fi
		modprobe -r rdma_uet || return 1
		;;
	esac
	phase ", teardown"
	stop_traffic || return 1
	phase ", processes done"
	uet_wait_for all_gone || { echo "# $DEV left behind"; return 1; }
	if [ "$1" = rmmod ]; then
		modprobe rdma_uet || return 1
	fi
	phase ", all gone"
	dmesg_clean || { echo "# dmesg has a warning"; return 1; }
}

# All rounds of mode $1; prints the time taken.
rounds() {
	local r t0=$SECONDS

	for r in $(seq "$ROUNDS"); do
		if ! round "$1"; then
			echo "# $1: round $r failed"
			return 1
		fi
		[ "$r" = 1 ] && ktap_print_msg "$1: round 1:$PHASES"
	done
	ktap_print_msg "$1: $ROUNDS rounds in $((SECONDS - t0)) s," \
		"$(sed -n 's/^fatal after \([0-9]*\).*/\1/p' "$TMP"/out* |
		   tr '\n' ' ')messages before DEVICE_FATAL in the last"
}

module_reloads() {
	modprobe -r rdma_uet && [ ! -d /sys/module/rdma_uet ] &&
		modprobe rdma_uet
}

uet_require_root
ktap_print_header
[ -x "$TRAFFIC" ] || ktap_exit_fail_msg "$TRAFFIC not built"
ktap_set_plan 6
modprobe -q ib_uverbs
modprobe rdma_uet || ktap_exit_fail_msg "cannot load rdma_uet"
dmesg -C

uet_check "rdma link del under load, $ROUNDS rounds" rounds link
uet_check "the module unloads and loads after the link rounds" \
	module_reloads
uet_check "ip link del under load, $ROUNDS rounds" rounds netdev
uet_check "the module unloads and loads after the netdev rounds" \
	module_reloads
uet_check "rmmod rdma_uet under load, $ROUNDS rounds" rounds rmmod
uet_check "dmesg has no warning" dmesg_clean
dmesg | grep -E 'WARNING:|BUG:|refcount_t|leak|Oops|hung task' -A5 |
	head -40 | sed 's/^/# /'

ktap_finished
