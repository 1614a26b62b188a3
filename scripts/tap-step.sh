# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Sourced by the check scripts: step NAME CMD... runs CMD into
# $LOG/step-N.log and prints a TAP line for it (and the log's tail when
# it fails) to stdout and $BUILD_TAP.  The caller sets LOG, BUILD_TAP
# and n.

step() {
	local name=$1
	shift
	n=$((n + 1))
	if "$@" >"$LOG/step-$n.log" 2>&1; then
		echo "ok $n $name" | tee -a "$BUILD_TAP"
		return 0
	fi
	echo "not ok $n $name" | tee -a "$BUILD_TAP"
	sed 's/^/# /' "$LOG/step-$n.log" | tail -n 40 | tee -a "$BUILD_TAP"
	return 1
}
