#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# "make check": every build and lint step, the userspace unit tests, then
# the kselftests and external clients in a QEMU guest.  Each step is a
# TAP result; the last line is "N passed, M failed".
set -u

B=${1:?usage: check.sh BUILD_DIR}
TOP=$(cd "$(dirname "$0")/.." && pwd)
LOG=$B/logs
mkdir -p "$LOG"
BUILD_TAP=$LOG/build.tap
n=0

. "$TOP/scripts/tap-step.sh"

: >"$BUILD_TAP"
echo "== build and lint"
built=1
step "module builds with W=1 and sparse, no warnings" make -C "$TOP" module || built=0
step "provider builds with -Wall -Wextra -Werror" make -C "$TOP" provider || built=0
step "kselftests build" make -C "$TOP" selftests || built=0
step "checkpatch --strict is clean" make -C "$TOP" lint
step "Documentation/infiniband/uet.rst parses without warnings" \
	make -C "$TOP" docs
step "man pages render with man -l, without warnings" \
	bash "$TOP/scripts/man-check.sh" "$TOP/providers/uet/man"

echo "== userspace unit tests"
if [ "$built" = 1 ]; then
	bash "$TOP/scripts/unit-tests.sh" "$B" | tee "$LOG/unit.tap"
else
	echo "not ok 1 unit tests not run: build failed" | tee "$LOG/unit.tap"
fi

echo "== VM: kselftests, pyverbs"
if [ "$built" = 1 ]; then
	bash "$TOP/scripts/vm-run.sh" --timeout 3000 \
		--log "$LOG/console.log" -- \
		bash "$TOP/scripts/vm-tests.sh" "$B" 2>&1 | tee "$LOG/vm.log"
	vm_rc=${PIPESTATUS[0]}
	if [ "$vm_rc" != 0 ]; then
		echo "not ok 1 VM run exited with status $vm_rc (see $LOG/console.log)" |
			tee -a "$LOG/vm.log"
	fi
else
	echo "not ok 1 VM tests not run: build failed" | tee "$LOG/vm.log"
fi

echo "== summary (logs in $LOG)"
python3 "$TOP/scripts/tap-summary.py" "$BUILD_TAP" "$LOG/unit.tap" \
	"$LOG/vm.log" >"$LOG/summary"
rc=$?
cat "$LOG/summary"
exit $rc
