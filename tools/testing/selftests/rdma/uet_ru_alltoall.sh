#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# RU traffic all-to-all: 4 processes, two in each of two namespaces (a
# uet device on each end of a veth pair between them), one RU QP each, in
# job 77 (each namespace's pair started by uet-job, as nobody, sharing
# the job of its device).  Every process SENDs to, WRITEs into and READs
# from every other, by address table index, through netem loss,
# reordering, duplication and corruption on both veth ends;
# uet_ru_alltoall checks every byte and that each message arrived exactly
# once.  Then: retransmissions happened, the PDCs were shared (a handful
# per device, not one per QP pair), and they close once idle.  With RUD
# (default) and ROD.  UET_ALLTOALL_NETEM=0 leaves netem out.

. "$(dirname "$(realpath "$0")")/uet_lib.sh"

NSA=uetansA
NSB=uetansB
VA=uetaA
VB=uetaB
DA=uetaA0
DB=uetaB0
IPA=10.98.3.1
IPB=10.98.3.2
JOB=77
MSGS=${UET_ALLTOALL_MSGS:-12}
LOSSY=${UET_ALLTOALL_NETEM:-1}
NETEM="netem loss 5% reorder 10% 50% delay 1ms duplicate 2% corrupt 1%"
RANK=$UET_LIB_DIR/uet_ru_alltoall
PARAM=/sys/module/rdma_uet/parameters/pdc_idle_ms
DIR=$(mktemp -d)
OLD_IDLE=
FLAGS=

cleanup() {
	[ -n "$OLD_IDLE" ] && echo "$OLD_IDLE" >"$PARAM"
	rm -rf "$DIR"
	uet_pair_cleanup
}
trap cleanup EXIT

counter() {
	cat "/sys/class/infiniband/$1/ports/1/hw_counters/$2"
}

# run_ranks FLAGS: ranks 0, 1 on DA in NSA; 2, 3 on DB in NSB.
run_ranks() {
	local out=$DIR/out a b

	rm -f "$DIR"/addr.* "$DIR"/ready.* "$DIR"/done.*
	chmod 777 "$DIR"
	uet_ns_exec "$NSA" timeout 600 uet-job -d "$DA" -j "$JOB" -n 8 -u nobody -- \
		sh -c "$RANK $DIR 0 4 $DA $gida $MSGS $FLAGS & $RANK $DIR 1 4 $DA $gida $MSGS $FLAGS & wait %1 && wait %2" \
		>"$out.a" 2>&1 &
	a=$!
	uet_ns_exec "$NSB" timeout 600 uet-job -d "$DB" -j "$JOB" -n 8 -u nobody -- \
		sh -c "$RANK $DIR 2 4 $DB $gidb $MSGS $FLAGS & $RANK $DIR 3 4 $DB $gidb $MSGS $FLAGS & wait %1 && wait %2" \
		>"$out.b" 2>&1 &
	b=$!
	wait "$a" && wait "$b"
	local rc=$?
	sed 's/^/# /' "$out.a" "$out.b"
	[ "$rc" = 0 ] && [ "$(cat "$out.a" "$out.b" | grep -c 'all intact')" = 4 ]
}

uet_require_root
ktap_print_header
for p in uet-job tc timeout; do
	if ! command -v "$p" >/dev/null; then
		ktap_skip_all "$p is not installed"
		exit "$KSFT_SKIP"
	fi
done
ktap_set_plan $((5 + LOSSY))
modprobe -q ib_uverbs
uet_two_ns_up "$NSA" "$NSB" "$VA" "$VB" "$IPA" "$IPB" "$DA" "$DB"
gida=$UET_GIDA
gidb=$UET_GIDB
OLD_IDLE=$(cat "$PARAM")
echo 1000 >"$PARAM"
if [ "$LOSSY" = 1 ]; then
	uet_ns_exec "$NSA" tc qdisc add dev "$VA" root $NETEM &&
		uet_ns_exec "$NSB" tc qdisc add dev "$VB" root $NETEM ||
		ktap_exit_fail_msg "cannot add netem"
else
	NETEM="no netem"
fi
ktap_print_msg "4 ranks, $MSGS messages of each kind to each peer, $NETEM"

retx_a=$(counter "$DA" retransmits)
retx_b=$(counter "$DB" retransmits)
open_a=$(counter "$DA" pdc_opened)
open_b=$(counter "$DB" pdc_opened)
t0=$SECONDS
uet_check "RUD all-to-all: every byte, every message exactly once" run_ranks
ktap_print_msg "RUD all-to-all in $((SECONDS - t0)) s;" \
	"retransmits $DA +$(($(counter "$DA" retransmits) - retx_a))," \
	"$DB +$(($(counter "$DB" retransmits) - retx_b));" \
	"PDCs opened $DA +$(($(counter "$DA" pdc_opened) - open_a))," \
	"$DB +$(($(counter "$DB" pdc_opened) - open_b))"
if [ "$LOSSY" = 1 ]; then
	uet_check "the retransmit counters moved under netem" \
		test $(($(counter "$DA" retransmits) + $(counter "$DB" retransmits) - retx_a - retx_b)) -gt 0
fi
# Shared PDCs: per device, one initiator PDC per (job, destination IP)
# and the target PDCs of the peers' - a few, reopened at most after an
# idle close, where one per QP pair would be 2 x 3 per device.
uet_check "the PDCs are shared between the QPs of a device" \
	test $(($(counter "$DA" pdc_opened) - open_a)) -le 4 -a \
	     $(($(counter "$DB" pdc_opened) - open_b)) -le 4
idle_closed() {
	local _

	for _ in $(seq 200); do
		[ "$(counter "$DA" pdc_live)" = 0 ] &&
			[ "$(counter "$DB" pdc_live)" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}
uet_check "the PDCs close once idle" idle_closed

t0=$SECONDS
FLAGS=-o
uet_check "ROD all-to-all: every byte, every message exactly once" run_ranks
ktap_print_msg "ROD all-to-all in $((SECONDS - t0)) s"
uet_check "job $JOB is gone from both devices" \
	sh -c "uet-job -d $DA -j $JOB -- true && uet-job -d $DB -j $JOB -- true"

ktap_finished
