#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# uet_ru_pingpong, the RU example of the uetdv API, between two
# namespaces: a veth pair split across them, a uet device on each end,
# each side started by uet-job as an unprivileged user in job 4242 of its
# device, the TCP exchange over the veth; with RUD (the default) and ROD
# (-o), a few sizes, content checked (-c).  Both sides must exit with
# status 0 within UET_TEST_TIMEOUT seconds (120).

. "$(dirname "$(realpath "$0")")/uet_lib.sh"

ITERS=200
PORT=18700
NSA=uetqnsA
NSB=uetqnsB
VA=uetqA
VB=uetqB
DA=uetqA0
DB=uetqB0
IPA=10.98.2.1
IPB=10.98.2.2
JOB=4242

trap uet_pair_cleanup EXIT

# run_pp ARGS...: one server/client run with extra ARGS on both sides.
run_pp() {
	PORT=$((PORT + 1))
	UET_SRV=(uet-job -d "$DA" -j "$JOB" -u nobody -- uet_ru_pingpong
		 -d "$DA" -g "$gida" -p "$PORT" -n "$ITERS" -c "$@")
	UET_CLI=(uet-job -d "$DB" -j "$JOB" -u nobody -- uet_ru_pingpong
		 -d "$DB" -g "$gidb" -p "$PORT" -n "$ITERS" -c "$@" "$IPA")
	uet_run_pair "$NSA" "$NSB" "$PORT"
}

uet_require_root
ktap_print_header
for p in uet-job uet_ru_pingpong timeout ss; do
	if ! command -v "$p" >/dev/null; then
		ktap_skip_all "$p is not installed"
		exit "$KSFT_SKIP"
	fi
done
ktap_set_plan 7
UET_SHOW='bytes in|iters in'
modprobe -q ib_uverbs

uet_two_ns_up "$NSA" "$NSB" "$VA" "$VB" "$IPA" "$IPB" "$DA" "$DB"
gida=$UET_GIDA
gidb=$UET_GIDB
ktap_print_msg "$DA on $VA, $IPA at GID index $gida;" \
	"$DB on $VB, $IPB at GID index $gidb"

for s in 1 4096 65536; do
	uet_check "RUD: uet_ru_pingpong -s $s" run_pp -s "$s"
done
for s in 1 65536; do
	uet_check "ROD: uet_ru_pingpong -o -s $s" run_pp -o -s "$s"
done
uet_check "size 0" run_pp -s 0
# The jobs ended with the commands: the JobID is free on both devices.
uet_check "job $JOB is gone from both devices after the runs" \
	sh -c "uet-job -d $DA -j $JOB -- true && uet-job -d $DB -j $JOB -- true"

ktap_finished
