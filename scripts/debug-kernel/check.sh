#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# "make check-debug": the debug-kernel lane.  Builds (or brings up to
# date) the debug kernel with the driver in-tree (build.sh), boots it with
# the VM runner, runs the KUnit suites, a set of kselftests and the
# fault-injection pass there (vm-tests.sh), then fails on any KASAN,
# lockdep, UBSAN, kmemleak, WARN or BUG report in the guest's kernel log,
# which it prints.  Each step is a TAP result; the last line is
# "N passed, M failed, K skipped".
#
# Environment:
#   UET_DEBUG_FULL=1     every kselftest and the pyverbs suite instead of
#                        the representative set below
#   UET_DEBUG_TESTS="a b"  just these kselftests (and KUnit, fault injection)
#   UET_DEBUG_FI_TESTS="a b"  these kselftests in the fault-injection pass
#   UET_DEBUG_CACHE      where the kernel build is kept (build.sh)
set -u

B=${1:?usage: check.sh BUILD_DIR}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
LOG=$B/logs/debug
mkdir -p "$LOG"
BUILD_TAP=$LOG/build.tap
n=0

# Every object type (PD, MR, AH, CQ, QP, SRQ, jobs and job keys, uverbs
# objects), every opcode over RC, UC and UD (uet_rc_data) and RU (uet_ru),
# netem loss and reordering, malformed packets, teardown under traffic
# and module removal: about 20 minutes of TCG on the debug kernel.
SUBSET="uet_uverbs_abi uet_pd_mr_ah uet_qp_srq uet_job uet_rc_data uet_ru
uet_netem uet_wire_inject.py uet_teardown_load.sh uet_rmmod.sh"

# What counts as a report in the kernel log; leak suspects only once the
# guest has set aside those from boot (vm-tests.sh marks the log then).
REPORT='BUG:|WARNING:|UBSAN:|KASAN:|Oops|Kernel panic|general protection fault'
REPORT="$REPORT|INFO: trying to register non-static key"
LEAK='kmemleak: [0-9]+ new suspected'
MARK='uet-debug: boot leak suspects cleared'

. "$TOP/scripts/tap-step.sh"

: >"$BUILD_TAP"
echo "== build"
built=1
t0=$(date +%s)
step "debug kernel with the driver in-tree builds" \
	bash "$TOP/scripts/debug-kernel/build.sh" || built=0
echo "# debug kernel build took $(($(date +%s) - t0)) s" | tee -a "$BUILD_TAP"
step "provider builds" make -C "$TOP" provider || built=0
step "kselftests build" make -C "$TOP" selftests || built=0

kernel=$(sed -n 's/^KERNEL=//p' "$LOG/step-1.log")
kver=$(sed -n 's/^KVER=//p' "$LOG/step-1.log")
if [ -n "${UET_DEBUG_TESTS:-}" ]; then
	tests=$UET_DEBUG_TESTS
elif [ "${UET_DEBUG_FULL:-0}" = 1 ]; then
	tests=all
else
	tests=${SUBSET//$'\n'/ }
fi

echo "== VM on $kver: KUnit, kselftests ($tests), fault injection, kmemleak"
console=$LOG/console.log
: >"$console"
if [ "$built" = 1 ]; then
	t0=$(date +%s)
	# no5lvl: with the 5-level page tables QEMU's "-cpu max" offers,
	# this KASAN kernel reports wild accesses from its first interrupt.
	KVER=$kver nice -n "${UET_DEBUG_NICE:-0}" \
		bash "$TOP/scripts/vm-run.sh" --kernel "$kernel" --mem 3072 \
		--append "kasan_multi_shot no5lvl" --timeout 10800 --log "$console" \
		--out "$B/vm/debug" -- \
		bash "$TOP/scripts/debug-kernel/vm-tests.sh" "$B" "$tests" \
		${UET_DEBUG_FI_TESTS:+"$UET_DEBUG_FI_TESTS"} 2>&1 |
		tee "$LOG/vm.log"
	vm_rc=${PIPESTATUS[0]}
	echo "# VM run took $(($(date +%s) - t0)) s" | tee -a "$LOG/vm.log"
	if [ "$vm_rc" != 0 ]; then
		echo "not ok 1 VM run exited with status $vm_rc (see $console)" |
			tee -a "$LOG/vm.log"
	fi
else
	echo "not ok 1 VM tests not run: build failed" | tee "$LOG/vm.log"
fi

echo "== kernel log"
: >"$LOG/reports.tap"
if [ "$built" = 1 ]; then
	awk -v report="$REPORT" -v leak="$LEAK" -v mark="$MARK" '
		index($0, mark) { armed = 1 }
		$0 ~ report || (armed && $0 ~ leak) { print NR }' "$console" \
		>"$LOG/reports.lines"
	if [ -s "$LOG/reports.lines" ]; then
		echo "not ok 1 no KASAN, lockdep, UBSAN, kmemleak, WARN or BUG report" |
			tee -a "$LOG/reports.tap"
		# Each report with what follows it.
		head -n 20 "$LOG/reports.lines" | while read -r l; do
			echo "# ---- $console:$l"
			sed -n "$((l > 5 ? l - 5 : 1)),$((l + 60))p" "$console" |
				sed 's/^/# /'
		done | tee -a "$LOG/reports.tap"
	else
		echo "ok 1 no KASAN, lockdep, UBSAN, kmemleak, WARN or BUG report" |
			tee -a "$LOG/reports.tap"
	fi
fi

echo "== summary (logs in $LOG)"
python3 "$TOP/scripts/tap-summary.py" "$BUILD_TAP" "$LOG/vm.log" \
	"$LOG/reports.tap" >"$LOG/summary"
rc=$?
cat "$LOG/summary"
exit $rc
