#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Runs inside the VM of "make check-debug", on the debug kernel: installs
# the provider (rdma_uet.ko comes from the kernel build, in-tree), runs
# the KUnit suites, a set of kselftests, the fault-injection pass, then
# unloads the driver and has kmemleak scan.  Prints TAP.  The host scans
# the kernel log for reports afterwards (scripts/debug-kernel/check.sh).
#
# Usage: vm-tests.sh BUILD_DIR TESTS [FI_TESTS]
#   TESTS     the kselftests of tools/testing/selftests/rdma to run,
#             separated by spaces, or "all" for every one of them and the
#             pyverbs suite
#   FI_TESTS  the kselftests of the fault-injection pass (default below)
set -u

B=${1:?usage: vm-tests.sh BUILD_DIR TESTS [FI_TESTS]}
TESTS=${2:?usage: vm-tests.sh BUILD_DIR TESTS [FI_TESTS]}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
DBG=/sys/kernel/debug
KSFT=$B/ksft-install
# Per-test timeout of the kselftest runner: the tests' own 900 s is sized
# for the stock kernel, traffic is about ten times slower here.
KSFT_TIMEOUT=3600
# The tests that see allocation failures, and how often one fails.
FI_TESTS=${3:-uet_pd_mr_ah uet_qp_srq uet_job uet_ibv_examples.sh}
# The tests set their device up before they arm it (device creation
# alone makes hundreds of allocations); FI_LINK_ROUNDS device creations
# run under it on their own.
FI_PROBABILITY=5
FI_LINK_ROUNDS=20
n=0

result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
	fi
}

elapsed() {
	echo $(($(date +%s) - $1))
}

read -r up _ </proc/uptime
echo "# kernel $(uname -r), booted in ${up%.*} s"
case $(uname -r) in
*-uetdebug) ;;
*)
	result 1 "the guest runs the debug kernel"
	exit 1
	;;
esac
if [ ! -w $DBG/kmemleak ]; then
	result 1 "kmemleak is enabled"
	exit 1
fi
# Leak suspects from boot are not ours: only report what comes later.
echo scan >$DBG/kmemleak
echo clear >$DBG/kmemleak
echo "uet-debug: boot leak suspects cleared" >/dev/kmsg

# The provider and the tools; rdma_uet.ko is the kernel's own.
make -s -C "$TOP" install-provider >/tmp/install.log 2>&1
result $? "make install-provider (provider, uet.driver) in the guest"
sed 's/^/# /' /tmp/install.log | grep -v -i 'sign' | tail -n 20
modinfo -F filename rdma_uet | sed 's/^/# rdma_uet: /'

# KUnit: the suites run when rdma_uet_kunit loads; their KTAP goes to
# the kernel log.  Each test case is one result here.
t0=$(date +%s)
before=$(dmesg | wc -l)
if modprobe rdma_uet_kunit; then
	dmesg | tail -n +$((before + 1)) | sed -E 's/^\[[ 0-9.]+\] //' \
		>/tmp/kunit.log
	# One result per test case (parameterised ones count once).
	awk '/^    # Subtest: / { suite = $3 }
	     /^    (not )?ok [0-9]+ / {
		if ($1 == "ok") print "ok\t" suite "." $3
		else print "not ok\t" suite "." $4
	     }' /tmp/kunit.log >/tmp/kunit.results
	[ -s /tmp/kunit.results ] || result 1 "kunit: no test case ran"
	while IFS=$'\t' read -r st name; do
		[ "$st" = ok ]
		result $? "kunit: $name"
	done </tmp/kunit.results
	grep -E '# [a-z_]+: pass:|# Totals: ' /tmp/kunit.log | sed 's/^ */# kunit /'
	# The whole KTAP when anything failed (indented, not counted again).
	! grep -q '^not ok' /tmp/kunit.results || sed 's/^/#  /' /tmp/kunit.log
	modprobe -r rdma_uet_kunit rdma_uet
else
	result 1 "kunit: modprobe rdma_uet_kunit"
fi
echo "# kunit took $(elapsed "$t0") s"

# The kselftests; in the representative set, with less data through
# netem, messages up to 1 MiB in uet_rc_data's sweeps, fewer teardown
# rounds than their defaults, and without the cases that fill a device
# limit (tens of thousands of objects, minutes each).
t0=$(date +%s)
if [ "$TESTS" != all ]; then
	export UET_NETEM_MIB=8 UET_TEST_MAX_LEN=1048576 UET_TEST_ROUNDS=3 \
		UET_TEST_LIMITS=0
fi
# Transfers may take this many times longer than on the stock kernel:
# with lockdep on throughout, 4 MiB in loopback took longer than 18 s.
export UET_TIME_SCALE=10
if [ "$TESTS" = all ]; then
	"$KSFT/run_kselftest.sh" -o "$KSFT_TIMEOUT"
else
	args=()
	for t in $TESTS; do
		args+=(-t "rdma:$t")
	done
	"$KSFT/run_kselftest.sh" -o "$KSFT_TIMEOUT" "${args[@]}"
fi
echo "# kselftests took $(elapsed "$t0") s"
if [ "$TESTS" = all ]; then
	t0=$(date +%s)
	bash "$TOP/scripts/pyverbs-run.sh"
	echo "# pyverbs took $(elapsed "$t0") s"
fi

# Fault injection: kmalloc (and the page allocator) fail now and then
# for the test processes, in calls that come through rdma_uet (the
# stack filter covers its text).  The tests may fail; the kernel must
# neither crash, warn nor leak, which the kmemleak scan below and the
# host's log scan check.
fault_setup() {
	local d=$DBG/$1 start=$2 end=$3

	echo Y >"$d/task-filter"
	echo "$FI_PROBABILITY" >"$d/probability"
	echo 1 >"$d/interval"
	echo 100000 >"$d/times"
	echo 0 >"$d/space"
	echo 0 >"$d/verbose"
	echo 32 >"$d/stacktrace-depth"
	echo "$start" >"$d/require-start"
	echo "$end" >"$d/require-end"
	[ ! -e "$d/ignore-gfp-wait" ] || echo N >"$d/ignore-gfp-wait"
	[ ! -e "$d/ignore-gfp-highmem" ] || echo N >"$d/ignore-gfp-highmem"
	[ ! -e "$d/min-order" ] || echo 0 >"$d/min-order"
}

fault_off() {
	echo 0 >"$DBG/$1/probability"
	echo $((100000 - $(cat "$DBG/$1/times")))
}

t0=$(date +%s)
modprobe rdma_uet
read -r _ size _ _ _ base _ < <(grep '^rdma_uet ' /proc/modules)
kinds=failslab
[ ! -d $DBG/fail_page_alloc ] || kinds="$kinds fail_page_alloc"
fi_ok=1
for k in $kinds; do
	fault_setup "$k" "$(printf '%u' $((base)))" \
		"$(printf '%u' $((base + size)))" || fi_ok=0
done
result $((1 - fi_ok)) "fault injection set up ($kinds, $FI_PROBABILITY% of the allocations in rdma_uet)"
# Device creation: rdma link add under fault injection either fails and
# leaves nothing, or makes a device that works.
ip link add uetfi0 type veth peer name uetfi1
ip link set uetfi0 up
made=0
bad=0
for _ in $(seq "$FI_LINK_ROUNDS"); do
	if bash -c 'echo 1 >/proc/self/make-it-fail && exec "$@"' _ \
		rdma link add uetfi type uet netdev uetfi0 2>/dev/null; then
		made=$((made + 1))
		ibv_devinfo -d uetfi >/dev/null 2>&1 || bad=$((bad + 1))
		rdma link del uetfi
	fi
	if rdma link show uetfi/1 >/dev/null 2>&1; then
		bad=$((bad + 1))
		rdma link del uetfi
	fi
done
ip link del uetfi0
[ "$bad" = 0 ]
result $? "fault injection: rdma link add, $FI_LINK_ROUNDS times: $made devices made, $bad broken or left"
for t in $FI_TESTS; do
	# The tests arm fault injection once their device is set up
	# (uet_fault_inject_begin(), uet_timed_cmd).  Filling a limit
	# exactly means nothing while allocations fail.
	UET_FAULT_INJECT=1 UET_TEST_LIMITS=0 timeout 900 \
		"$KSFT/rdma/$t" >"/tmp/fi-$t.log" 2>&1
	rc=$?
	oks=$(grep -c '^ok' "/tmp/fi-$t.log")
	fails=$(grep -c '^not ok' "/tmp/fi-$t.log")
	# 124: timed out, a test left waiting for good by a failed call.
	[ "$rc" != 124 ]
	result $? "fault injection: $t ran to its end (exit $rc; $oks results ok, $fails not ok)"
done
for k in $kinds; do
	echo "# $k: $(fault_off "$k") allocations failed"
done
echo "# fault injection took $(elapsed "$t0") s"

# Everything the tests may have left, then the driver itself.
for dev in $(rdma link show 2>/dev/null | awk '$2 ~ /^uet/ { split($2, a, "/"); print a[1] }'); do
	rdma link del "$dev"
done
modprobe -r rdma_uet
result $? "rdma_uet unloads after the tests"

# kmemleak only reports objects it saw unreferenced in two scans.
echo scan >$DBG/kmemleak
sleep 6
echo scan >$DBG/kmemleak
cat $DBG/kmemleak >/tmp/kmemleak.log
if [ -s /tmp/kmemleak.log ]; then
	result 1 "kmemleak: no leak"
	sed 's/^/# /' /tmp/kmemleak.log | head -n 200
else
	result 0 "kmemleak: no leak"
fi
[ -z "${UET_VM_OUT:-}" ] || cp /tmp/kmemleak.log /tmp/kunit.log /tmp/fi-*.log \
	"$UET_VM_OUT/" 2>/dev/null
exit 0
