#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# uet-job, the job launcher: as root it allocates a job and runs a command
# as an unprivileged user holding only the job's file descriptor; the
# command imports the job but cannot allocate one; the job lives exactly
# as long as the command holds it; an unprivileged uet-job is refused.

. "$(dirname "$(realpath "$0")")/uet_lib.sh"

DEV=uett22
NETDEV=uetl0
CLIENT=$UET_LIB_DIR/uet_job_client
HOLD=$(mktemp -u /tmp/uet-job-hold.XXXXXX)
PID=

cleanup() {
	rm -f "$HOLD"
	[ -n "$PID" ] && wait "$PID" 2>/dev/null
	rdma link del "$DEV" 2>/dev/null
	ip link del "$NETDEV" 2>/dev/null
}
trap cleanup EXIT

uet_require_root
ktap_print_header
ktap_set_plan 7

command -v uet-job >/dev/null || ktap_exit_fail_msg "uet-job is not installed"
uet_veth_add "$NETDEV" uetl1 &&
	rdma link add "$DEV" type uet netdev "$NETDEV" ||
	ktap_exit_fail_msg "cannot create $DEV"

uet_check "the command imports the job as nobody and cannot allocate one" \
	uet-job -d "$DEV" -j 4242 -u nobody -- "$CLIENT" "$DEV"
uet_check "the job ended with the command: its JobID is free again" \
	uet-job -d "$DEV" -j 4242 -u nobody -- "$CLIENT" "$DEV"

uet-job -d "$DEV" -j 0x4243 -n 16 -u nobody -- "$CLIENT" "$DEV" hold "$HOLD" &
PID=$!
for _ in $(seq 200); do
	[ -e "$HOLD" ] && break
	sleep 0.1
done
out=$(uet-job -d "$DEV" -j 0x4243 -- true 2>&1)
uet_check "while the command holds the job, its JobID is taken" \
	grep -q "File exists" <<<"$out"
rm -f "$HOLD"
wait "$PID"
rc=$?
PID=
uet_check "the holding command succeeded" test "$rc" = 0
uet_check "after it, the JobID is free" uet-job -d "$DEV" -j 0x4243 -- true

out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
	uet-job -d "$DEV" -j 77 -- true 2>&1)
uet_check "uet-job without privilege is refused with EPERM" \
	grep -q "Operation not permitted" <<<"$out"
uet-job -d "$DEV" -- true 2>/dev/null
uet_check "uet-job without a JobID is a usage error" test "$?" = 2

ktap_finished
