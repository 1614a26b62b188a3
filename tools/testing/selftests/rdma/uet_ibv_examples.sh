#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The libibverbs examples (ibverbs-utils) ibv_rc_pingpong, ibv_ud_pingpong
# and ibv_srq_pingpong exchange data, checked with -c, over uet:
#  - single device: server and client on the same device, the client
#    connecting to the device's own address;
#  - two namespaces: a veth pair split across two network namespaces, a
#    device on each end, the server in the first on its device, the
#    client in the second on the other; the examples' TCP exchange also
#    goes over the veth.
# Each runs with a few message sizes (ibv_ud_pingpong up to the port MTU)
# and ibv_rc_pingpong once with -e; both sides must exit with status 0
# within UET_TEST_TIMEOUT seconds (120).
#
# UET_TEST_LINK_TYPE (uet) selects the device type, e.g. rxe to check the
# test itself; UET_TEST_NETNS=0 keeps both veth ends in the init namespace
# (see uet_lib.sh) for drivers without network namespace support.

. "$(dirname "$(realpath "$0")")/uet_lib.sh"

ITERS=100
SIZES="1 4096 65536"
PORT=18600

# Single device.
SDEV=uetpS0
SVA=uetpS
SVB=uetpT
SIP=10.98.0.1
# Two namespaces.
NSA=uetpnsA
NSB=uetpnsB
VA=uetpA
VB=uetpB
DA=uetpA0
DB=uetpB0
IPA=10.98.1.1
IPB=10.98.1.2

trap uet_pair_cleanup EXIT

# run_example NAME SERVER_NS SERVER_DEV SERVER_GID CLIENT_NS CLIENT_DEV
#	CLIENT_GID SERVER_IP ARGS...
run_example() {
	local name=$1 sns=$2 sdev=$3 sgid=$4 cns=$5 cdev=$6 cgid=$7 ip=$8

	shift 8
	PORT=$((PORT + 1))
	UET_SRV=("$name" -d "$sdev" -i 1 -g "$sgid" -p "$PORT" -n "$ITERS"
		 -c "$@")
	UET_CLI=("$name" -d "$cdev" -i 1 -g "$cgid" -p "$PORT" -n "$ITERS"
		 -c "$@" "$ip")
	uet_run_pair "$sns" "$cns" "$PORT"
}

# run_all SETUP SERVER_NS SERVER_DEV SERVER_GID CLIENT_NS CLIENT_DEV
#	CLIENT_GID SERVER_IP: every example with every size.
run_all() {
	local setup=$1 mtu s

	shift
	mtu=$(uet_active_mtu "$2")
	for s in $SIZES; do
		uet_check "$setup: ibv_rc_pingpong -s $s" \
			run_example ibv_rc_pingpong "$@" -s "$s"
	done
	uet_check "$setup: ibv_rc_pingpong -e -s 4096" \
		run_example ibv_rc_pingpong "$@" -e -s 4096
	for s in 1 "${mtu:-1024}"; do
		uet_check "$setup: ibv_ud_pingpong -s $s" \
			run_example ibv_ud_pingpong "$@" -s "$s"
	done
	for s in $SIZES; do
		uet_check "$setup: ibv_srq_pingpong -s $s" \
			run_example ibv_srq_pingpong "$@" -s "$s"
	done
}

uet_require_root
ktap_print_header
for p in ibv_rc_pingpong ibv_ud_pingpong ibv_srq_pingpong timeout ss; do
	if ! command -v "$p" >/dev/null; then
		ktap_skip_all "$p is not installed"
		exit "$KSFT_SKIP"
	fi
done
ktap_set_plan 18
ktap_print_msg "device type $UET_LINK_TYPE, $ITERS iterations," \
	"timeout ${UET_CMD_TIMEOUT}s, namespaces $UET_NETNS"
UET_SHOW='bytes in|iters in'
modprobe -q ib_uverbs

# Single device talking to itself.
uet_single_dev_up "$SVA" "$SVB" "$SIP" "$SDEV"
sgid=$UET_SGID
ktap_print_msg "$SDEV on $SVA, $SIP at GID index $sgid," \
	"active MTU $(uet_active_mtu "$SDEV")"
run_all "single device" "" "$SDEV" "$sgid" "" "$SDEV" "$sgid" "$SIP"
uet_pair_cleanup

# Two devices on a veth pair across two namespaces.
uet_two_ns_up "$NSA" "$NSB" "$VA" "$VB" "$IPA" "$IPB" "$DA" "$DB"
gida=$UET_GIDA
gidb=$UET_GIDB
ktap_print_msg "$DA on $VA, $IPA at GID index $gida;" \
	"$DB on $VB, $IPB at GID index $gidb"
run_all "two namespaces" "$NSA" "$DA" "$gida" "$NSB" "$DB" "$gidb" "$IPA"
uet_ns_exec "$NSB" ip -s link show dev "$VB" | sed 's/^/# /'

ktap_finished
