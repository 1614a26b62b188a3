#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Userspace unit tests (TAP): run on the build host, no kernel involved.
set -u

B=${1:?usage: unit-tests.sh BUILD_DIR}
TOP=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$B/logs"
PROVIDER=$B/provider/libuet-rdmav34.so
n=0
fails=0

result() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		fails=$((fails + 1))
	fi
}

echo "TAP version 13"
echo "1..7"

bash "$TOP/scripts/rdma-core-v44/check.sh" >"$B/logs/rdma-core-abi.log" 2>&1
result $? "provider ABI declaration: v44.0 layouts, all 71 IBVERBS_PRIVATE_34 symbols bound"

# Every undefined symbol of the provider resolves against a versioned
# node that Debian's libibverbs and libc export.
bad=$(objdump -T "$PROVIDER" | grep '\*UND\*' |
	grep -v -E '\((IBVERBS_PRIVATE_34|IBVERBS_1\.[0-9]+|GLIBC_[0-9.]+)\)' |
	grep -v -E ' (__gmon_start__|_ITM_[A-Za-z]+|__cxa_finalize)$' |
	awk '{ print $NF }')
[ -z "$bad" ]
result $? "provider imports only IBVERBS_PRIVATE_34/IBVERBS_1.x/GLIBC symbols ${bad:+($bad)}"

objdump -T "$PROVIDER" | grep -q 'verbs_register_driver_34$'
result $? "provider registers through verbs_register_driver_34"

/usr/bin/python3 - "$PROVIDER" <<'PY'
import ctypes, os, sys
ctypes.CDLL("libibverbs.so.1", mode=ctypes.RTLD_GLOBAL)
ctypes.CDLL(sys.argv[1], mode=os.RTLD_NOW)
PY
result $? "provider loads with RTLD_NOW into Debian's libibverbs.so.1"

# The in-tree hooks apply to the kernel source the lane builds from.
t=$(mktemp -d)
mkdir -p "$t/drivers/infiniband/hw" "$t/Documentation/infiniband"
cp "$B/ksft/MAINTAINERS" "$t/" &&
	cp "$B/ksft/Documentation/infiniband/index.rst" \
		"$t/Documentation/infiniband/" &&
	cp "$B/ksft/drivers/infiniband/Kconfig" "$t/drivers/infiniband/" &&
	cp "$B/ksft/drivers/infiniband/hw/Makefile" "$t/drivers/infiniband/hw/" &&
	patch -s -d "$t" -p1 --dry-run \
		<"$TOP/scripts/in-tree/0001-RDMA-uet-hook-the-driver-into-the-build.patch"
result $? "in-tree Kconfig/Makefile/MAINTAINERS/index.rst hunks apply to linux-source-6.12"
rm -rf "$t"

# The SQ ring and doorbell protocol: the provider's uet_queue.h against a
# model of the kernel's send engine, two threads.  Its own TAP results
# are nested under this step's.
RD=$B/unit/ring_doorbell
mkdir -p "$B/unit"
gcc -O2 -pthread -Wall -Wextra -Werror -I"$TOP/providers/uet" \
	-I"$TOP/include/uapi" -o "$RD" "$TOP/tests/unit/ring_doorbell.c" \
	>"$B/logs/ring-doorbell-build.log" 2>&1
built=$?
result $built "ring/doorbell unit test builds with -Wall -Wextra -Werror"

if [ $built -eq 0 ]; then
	"$RD" >"$B/logs/ring-doorbell.log" 2>&1
	rc=$?
else
	rc=1
fi
sed 's/^/# /' "$B/logs/ring-doorbell.log" 2>/dev/null
result $rc "ring/doorbell protocol: two threads, millions of WQEs, nothing lost, stranded or kicked for nothing"

exit $((fails > 0))
