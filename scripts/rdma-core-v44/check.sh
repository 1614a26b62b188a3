#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Verify scripts/rdma-core-v44/include against this machine's Debian
# libibverbs 44 (see README):
#  1. abi-checks.c compiles: every v44.0 size/offset assert holds.
#  2. every IBVERBS_PRIVATE_34 symbol of libibverbs.so.1 is declared by our
#     headers and a shared object using them all links with --no-undefined,
#     each reference bound to IBVERBS_PRIVATE_34.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
inc=$here/include
gen=$(mktemp -d)
mkdir -p "$gen/kernel-abi"
python3 "$here/gen-kernel-abi.py" /usr/include/rdma/ib_user_verbs.h \
	"$gen/kernel-abi/ib_user_verbs.h"
lib=/usr/lib/x86_64-linux-gnu/libibverbs.so.1
cc=${CC:-gcc}
cflags="-std=gnu11 -Wall -Wextra -Werror -I$inc -I$gen"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$gen"' EXIT

fail() { echo "check: FAIL: $*" >&2; exit 1; }

[ -e /usr/include/infiniband/verbs.h ] || fail "libibverbs-dev is not installed"
[ -e "$lib" ] || fail "$lib missing (libibverbs1)"

# 1. layout asserts
$cc $cflags -c "$here/abi-checks.c" -o "$tmp/abi-checks.o" ||
	fail "abi-checks.c: layout differs from rdma-core v44.0"
echo "check: layout asserts OK"

# 2. every private symbol declared, linkable, bound to IBVERBS_PRIVATE_34
syms=$(objdump -T "$lib" | awk 'NF >= 2 && $(NF-1) == "IBVERBS_PRIVATE_34" &&
	$NF != "IBVERBS_PRIVATE_34" { print $NF }' | sort)
n=$(echo "$syms" | wc -l)
[ "$n" -eq 71 ] || fail "expected 71 IBVERBS_PRIVATE_34 symbols, found $n"
{
	echo '#include <infiniband/driver.h>'
	echo '#include <infiniband/cmd_write.h>'
	echo 'const void *uet_all_private_symbols[] = {'
	for s in $syms; do echo "	(const void *)&$s,"; done
	echo '};'
} >"$tmp/syms.c"
$cc $cflags -Werror=implicit-function-declaration -fPIC -shared \
	"$tmp/syms.c" -o "$tmp/syms.so" -libverbs -Wl,--no-undefined ||
	fail "a private symbol is undeclared or does not link"
bad=$(objdump -T "$tmp/syms.so" | awk '/\*UND\*/ && $NF !~ /^_(ITM|_gmon|_cxa)/ &&
	$(NF-1) != "(IBVERBS_PRIVATE_34)" && $(NF-1) !~ /^\(GLIBC/' || true)
[ -z "$bad" ] || fail "unversioned references: $bad"
echo "check: $n IBVERBS_PRIVATE_34 symbols declared and bound"
echo "check: OK"
