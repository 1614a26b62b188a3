#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The rdma cgroup controller limits uet contexts and objects: in a cgroup
# v2 child with rdma.max "hca_handle=2 hca_object=3" for a uet device, a
# process opens two contexts and the third fails with EAGAIN (what
# ib_core's charge returns), and creates three objects and the fourth
# fails with EAGAIN; rdma.current counts what it holds and drops to 0
# when it exits without freeing anything.  The same process outside the
# cgroup is not limited.

. "$(dirname "$(realpath "$0")")/uet_lib.sh"

DEV=uettG0
VA=uetgA
VB=uetgB
IP=10.95.0.1
CGROOT=/sys/fs/cgroup
CG=$CGROOT/uet_test
HOLDER=$UET_LIB_DIR/uet_cg_holder
OUT=$(mktemp)
PID=
MOUNTED=
ENABLED=

cleanup() {
	[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null && wait "$PID"
	[ -d "$CG" ] && rmdir "$CG"
	[ -n "$ENABLED" ] && echo -rdma >"$CGROOT/cgroup.subtree_control"
	[ -n "$MOUNTED" ] && umount "$CGROOT"
	rdma link del "$DEV" 2>/dev/null
	ip link del "$VA" 2>/dev/null
	rm -f "$OUT"
}
trap cleanup EXIT

# Start the holder, in cgroup $1 ("" for the current one), with arguments
# CONTEXTS OBJECTS; wait up to 20 s for "ready".  Sets PID.
start_holder() {
	local cg=$1 _

	shift
	: >"$OUT"
	if [ -n "$cg" ]; then
		sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh \
			"$cg" "$HOLDER" "$DEV" "$@" >"$OUT" 2>&1 &
	else
		"$HOLDER" "$DEV" "$@" >"$OUT" 2>&1 &
	fi
	PID=$!
	for _ in $(seq 200); do
		grep -q '^ready$' "$OUT" && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/# holder: /' "$OUT"
	return 1
}

stop_holder() {
	kill -USR1 "$PID" && wait "$PID"
	local rc=$?

	PID=
	return $rc
}

said() {
	grep -qx "$1" "$OUT" || { sed 's/^/# holder: /' "$OUT"; return 1; }
}

# The values of $DEV in cgroup file $1, e.g. "hca_handle=2 hca_object=3"
# (the kernel ends each line with a space).
cg_values() {
	awk -v d="$DEV" '$1 == d { $1 = ""; print substr($0, 2) }' "$1"
}

# rdma.current of the cgroup for $DEV is "$1"; with $1 empty, no charge:
# 0/0 or no line.
current_is() {
	local cur

	cur=$(cg_values "$CG/rdma.current")
	if [ -n "$1" ]; then
		[ "$cur" = "$1" ]
	else
		[ -z "$cur" ] || [ "$cur" = "hca_handle=0 hca_object=0" ]
	fi || { echo "# rdma.current: $(cat "$CG/rdma.current")"; return 1; }
}

uet_require_root
ktap_print_header
[ -x "$HOLDER" ] || ktap_exit_fail_msg "$HOLDER not built"
if ! grep -q cgroup2 /proc/filesystems; then
	ktap_skip_all "no cgroup2 file system"
	exit "$KSFT_SKIP"
fi
if [ ! -e "$CGROOT/cgroup.controllers" ]; then
	mount -t cgroup2 none "$CGROOT" ||
		ktap_exit_fail_msg "cannot mount cgroup2 on $CGROOT"
	MOUNTED=1
fi
if ! grep -qw rdma "$CGROOT/cgroup.controllers"; then
	ktap_skip_all "no rdma cgroup controller (CONFIG_CGROUP_RDMA)"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 9
modprobe -q ib_uverbs
if ! grep -qw rdma "$CGROOT/cgroup.subtree_control"; then
	echo +rdma >"$CGROOT/cgroup.subtree_control" ||
		ktap_exit_fail_msg "cannot enable the rdma controller"
	ENABLED=1
fi
mkdir "$CG" || ktap_exit_fail_msg "cannot create $CG"
uet_single_dev_up "$VA" "$VB" "$IP" "$DEV"

set_max() {
	echo "$DEV hca_handle=2 hca_object=3" >"$CG/rdma.max" &&
		[ "$(cg_values "$CG/rdma.max")" = "hca_handle=2 hca_object=3" ]
}
uet_check "rdma.max takes limits for $DEV" set_max

uet_check "in the cgroup a holder starts" start_holder "$CG" 3 4
uet_check "a third context fails with EAGAIN" said "contexts 2: EAGAIN"
uet_check "a fourth object fails with EAGAIN" said "objects 3: EAGAIN"
uet_check "rdma.current counts 2 contexts, 3 objects" \
	current_is "hca_handle=2 hca_object=3"
uet_check "the holder exits without freeing" stop_holder
uet_check "rdma.current drops to 0" uet_wait_for current_is ""

uet_check "outside the cgroup the same holder is not limited" \
	eval 'start_holder "" 3 4 && said "contexts 3: ok" &&
	      said "objects 4: ok"'
uet_check "... and does not charge the cgroup" \
	eval 'current_is "" && stop_holder'

ktap_finished
