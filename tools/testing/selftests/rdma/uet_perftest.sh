#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# perftest over uet, connected through perftest's own TCP exchange (no
# rdma_cm, no -R):
#  - two namespaces (a veth pair split across two network namespaces, a
#    device on each end, the server in the first, the client in the
#    second): RC ib_send_bw, ib_send_lat, ib_write_bw, ib_write_lat,
#    ib_read_bw, ib_read_lat from 1 byte to 1 MiB, ib_atomic_bw and
#    ib_atomic_lat with fetch-and-add and compare-and-swap (8 bytes), and
#    UD ib_send_bw and ib_send_lat from 1 byte to the port MTU;
#  - single device (server and client on the same device, the client
#    connecting to the device's own address): ib_send_bw, ib_write_bw and
#    ib_read_bw from 1 byte to 1 MiB.
# Both sides must exit with status 0 within UET_TEST_TIMEOUT seconds (120).
# The bandwidth and latency figures are printed, never judged.
#
# UET_TEST_LINK_TYPE (uet) selects the device type, e.g. rxe to check the
# test itself; UET_TEST_NETNS=0 keeps both veth ends in the init namespace
# (see uet_lib.sh) for drivers without network namespace support.

. "$(dirname "$(realpath "$0")")/uet_lib.sh"

ITERS=100
# 1 MiB messages: fewer iterations (perftest needs at least 5).
ITERS_BIG=10
SIZES="1 4096 65536 1048576"
PORT=18700

# Single device.
SDEV=uetpS1
SVA=uetpU
SVB=uetpV
SIP=10.99.0.1
# Two namespaces.
NSA=uetpnsC
NSB=uetpnsD
VA=uetpC
VB=uetpD
DA=uetpC0
DB=uetpD0
IPA=10.99.1.1
IPB=10.99.1.2

trap uet_pair_cleanup EXIT

# run_perf SERVER_NS SERVER_DEV SERVER_GID CLIENT_NS CLIENT_DEV CLIENT_GID
#	SERVER_IP PROGRAM ARGS...
run_perf() {
	local sns=$1 sdev=$2 sgid=$3 cns=$4 cdev=$5 cgid=$6 ip=$7 prog=$8

	shift 8
	PORT=$((PORT + 1))
	UET_SRV=("$prog" -F -d "$sdev" -i 1 -x "$sgid" -p "$PORT" "$@")
	UET_CLI=("$prog" -F -d "$cdev" -i 1 -x "$cgid" -p "$PORT" "$@" "$ip")
	uet_run_pair "$sns" "$cns" "$PORT"
}

# check SETUP PROGRAM ARGS...: one KTAP test, run in set-up SETUP's
# namespaces on its devices.
check() {
	local setup=$1 prog=$2

	shift 2
	if [ "$setup" = single ]; then
		uet_check "single device: $prog $*" run_perf \
			"" "$SDEV" "$sgid" "" "$SDEV" "$sgid" "$SIP" "$prog" "$@"
	else
		uet_check "two namespaces: $prog $*" run_perf \
			"$NSA" "$DA" "$gida" "$NSB" "$DB" "$gidb" "$IPA" "$prog" "$@"
	fi
}

iters_for() {
	if [ "$1" -ge 1048576 ]; then
		echo "$ITERS_BIG"
	else
		echo "$ITERS"
	fi
}

uet_require_root
ktap_print_header
for p in ib_send_bw ib_send_lat ib_write_bw ib_write_lat ib_read_bw \
	 ib_read_lat ib_atomic_bw ib_atomic_lat timeout ss; do
	if ! command -v "$p" >/dev/null; then
		ktap_skip_all "$p is not installed"
		exit "$KSFT_SKIP"
	fi
done
# Single device: 3 programs x 4 sizes.  Two namespaces: 6 RC programs x 4
# sizes, 2 atomic programs x 2 operations, 2 UD programs x 2 sizes.
ktap_set_plan 44
ktap_print_msg "device type $UET_LINK_TYPE, $ITERS iterations" \
	"($ITERS_BIG for 1 MiB), timeout ${UET_CMD_TIMEOUT}s," \
	"namespaces $UET_NETNS"
# perftest's result table: its header and its lines of figures.
UET_SHOW='^ *#bytes|^ *[0-9]+ +[0-9]+ '
modprobe -q ib_uverbs

# Single device talking to itself.
uet_single_dev_up "$SVA" "$SVB" "$SIP" "$SDEV"
sgid=$UET_SGID
ktap_print_msg "$SDEV on $SVA, $SIP at GID index $sgid"
for prog in ib_send_bw ib_write_bw ib_read_bw; do
	for s in $SIZES; do
		check single "$prog" -s "$s" -n "$(iters_for "$s")"
	done
done
uet_pair_cleanup

# Two devices on a veth pair across two namespaces.
uet_two_ns_up "$NSA" "$NSB" "$VA" "$VB" "$IPA" "$IPB" "$DA" "$DB"
gida=$UET_GIDA
gidb=$UET_GIDB
mtu=$(uet_active_mtu "$DA")
ktap_print_msg "$DA on $VA, $IPA at GID index $gida;" \
	"$DB on $VB, $IPB at GID index $gidb; active MTU $mtu"
for prog in ib_send_bw ib_send_lat ib_write_bw ib_write_lat ib_read_bw \
	    ib_read_lat; do
	for s in $SIZES; do
		check two "$prog" -s "$s" -n "$(iters_for "$s")"
	done
done
for prog in ib_atomic_bw ib_atomic_lat; do
	for op in FETCH_AND_ADD CMP_AND_SWAP; do
		check two "$prog" -A "$op" -n "$ITERS"
	done
done
for prog in ib_send_bw ib_send_lat; do
	for s in 1 "${mtu:-1024}"; do
		check two "$prog" -c UD -s "$s" -n "$ITERS"
	done
done
uet_ns_exec "$NSB" ip -s link show dev "$VB" | sed 's/^/# /'

ktap_finished
