#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A process that dies holding uet objects - PD, MR, CQs (one with a
# completion channel and unpolled completions), an SRQ with posted work,
# QPs in RTS and in ERR, an AH - leaves nothing behind: once it has
# exited, "rdma res show" counts no object on the device, whether it
# exited by itself without freeing anything or was killed.  The device
# can then be removed.  (rdma res does not list AHs: the holder's AH is
# covered by that last step only.)  While it runs, "rdma -dd res show"
# gives uet's driver attributes of its QPs and CQs.

. "$(dirname "$(realpath "$0")")/uet_lib.sh"

DEV=uett11
VA=uetk0
VB=uetk1
SRC=10.97.0.1
DST=10.97.0.2
HOLDER=$UET_LIB_DIR/uet_res_holder
OUT=$(mktemp)
PID=

cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
	rdma link del "$DEV" 2>/dev/null
	ip link del "$VA" 2>/dev/null
	rm -f "$OUT"
}
trap cleanup EXIT

# Count of resource $1 on $DEV in "rdma res show", e.g. "0: uett11: pd 1
# cq 2 qp 3 cm_id 0 mr 1 ctx 1 srq 1"; empty if not listed.
res_count() {
	rdma res show 2>/dev/null |
		awk -v dev="$DEV:" -v res="$1" '$2 == dev {
			for (i = 3; i < NF; i += 2)
				if ($i == res) print $(i + 1)
		}'
}

# Every kind the holder creates is 0 on $DEV.
all_zero() {
	local r n

	for r in pd mr cq qp srq ctx; do
		n=$(res_count "$r")
		[ "$n" = 0 ] || return 1
	done
}

res_summary() {
	rdma res show 2>&1 | grep " $DEV: " | sed 's/^/# /'
}

# Start the holder and wait up to 20 s for "ready"; sets PID.
start_holder() {
	local _

	: >"$OUT"
	"$HOLDER" "$DEV" "$SRC" "$DST" >"$OUT" 2>&1 &
	PID=$!
	for _ in $(seq 200); do
		grep -q '^ready$' "$OUT" && return 0
		grep -q '^failed' "$OUT" && break
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/# holder: /' "$OUT"
	return 1
}

# The holder's objects are all listed while it lives.
holder_listed() {
	[ "$(res_count pd)" -ge 1 ] && [ "$(res_count mr)" -ge 1 ] &&
		[ "$(res_count cq)" -ge 2 ] && [ "$(res_count qp)" -ge 3 ] &&
		[ "$(res_count srq)" -ge 1 ] && [ "$(res_count ctx)" -ge 1 ]
}

# Every QP of the holder shows uet's driver attributes (rdma -dd): job 0
# and its number as the wire carries it, its send queue; the RTS QP, whose
# SEND no device answers, its PDC still in SYN with one PSN in flight.
qp_driver_attrs() {
	rdma -j -dd res show qp link "$DEV/1" | python3 -c '
import json, sys
qps = json.load(sys.stdin)
bad = [q for q in qps if q.get("drv_job") != 0 or
       q.get("drv_ri") != q["lqpn"] >> 12 or
       q.get("drv_pid_on_fep") != q["lqpn"] & 0xfff or
       q.get("drv_sq_depth", 0) < 1]
rts = [q for q in qps if q["state"] == "RTS"]
ok = len(qps) >= 3 and not bad and len(rts) == 1
if ok:
    r = rts[0]
    ok = (r.get("drv_pdc_state") == "syn" and r.get("drv_pdc", 0) > 0 and
          r.get("drv_peer_pdc") == 0 and r.get("drv_sq_sent") == 1 and
          (r["drv_next_psn"] - r["drv_acked_psn"]) & 0xffffffff == 2)
if not ok:
    print("# " + json.dumps(qps))
sys.exit(0 if ok else 1)'
}

# The CQs show their depth and use: the one holding the flush
# completions of the receives has them waiting.
cq_driver_attrs() {
	rdma -j -dd res show cq dev "$DEV" | python3 -c '
import json, sys
cqs = json.load(sys.stdin)
ok = len(cqs) >= 2 and all(
    c.get("drv_cq_depth") == c["cqe"] and
    0 <= c.get("drv_cq_used", -1) <= c["cqe"] and
    c.get("drv_cq_overflow") == 0 for c in cqs) and \
    any(c["drv_cq_used"] > 0 for c in cqs)
if not ok:
    print("# " + json.dumps(cqs))
sys.exit(0 if ok else 1)'
}

# Stop the holder with signal $1 and check its exit status is $2.
stop_holder() {
	local rc

	kill "-$1" "$PID"
	wait "$PID"
	rc=$?
	PID=
	[ "$rc" = "$2" ] || { echo "# holder exit status $rc, expected $2"; return 1; }
}

uet_require_root
ktap_print_header
ktap_set_plan 12

[ -x "$HOLDER" ] || ktap_exit_fail_msg "$HOLDER not built"
uet_veth_add "$VA" "$VB" || ktap_exit_fail_msg "cannot create veth pair"
if ! ip addr add "$SRC/24" dev "$VA" || ! ip addr add "$DST/24" dev "$VB"; then
	ktap_exit_fail_msg "cannot add addresses"
fi
rdma link add "$DEV" type uet netdev "$VA" ||
	ktap_exit_fail_msg "cannot create $DEV"

uet_check "no objects on a new device" all_zero

# 1. The process exits by itself without freeing anything.
uet_check "holder creates PD, MR, CQ, SRQ, QPs, AH" start_holder
uet_check "its objects are listed while it runs" holder_listed
uet_check "its QPs show job, RI/PIDonFEP, SQ and PDC state (rdma -dd)" \
	qp_driver_attrs
uet_check "its CQs show depth and completions waiting (rdma -dd)" \
	cq_driver_attrs
res_summary
uet_check "it exits normally without freeing" stop_holder USR1 0
uet_check "nothing is left after exit" uet_wait_for all_zero
res_summary

# 2. The process is killed.
uet_check "holder creates its objects again" start_holder
uet_check "its objects are listed again" holder_listed
uet_check "it is killed with SIGKILL" stop_holder KILL 137
uet_check "nothing is left after SIGKILL" uet_wait_for all_zero
res_summary

# Nothing holds the device any more.
remove_dev() {
	rdma link del "$DEV" && uet_wait_dev "$DEV" 0
}
uet_check "the device can be removed" remove_dev

ktap_finished
