#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Build (or bring up to date) the debug kernel of "make check-debug":
# Debian's linux-source-6.12 with the uet driver in-tree (the hunks of
# scripts/in-tree/ applied, CONFIG_INFINIBAND_UET=m), configured as x86_64
# defconfig + kvm_guest.config + scripts/debug-kernel/uet-debug.config.
#
# Usage: scripts/debug-kernel/build.sh
#
# The build lives outside the source tree, in
#   ${UET_DEBUG_CACHE:-/var/cache/uet-debug-kernel}/<key>/
# where <key> hashes the config fragment, the linux-source version and the
# in-tree patch: src/ is the patched source, obj/ the O= build directory
# (kept, so later builds are incremental), mods/ the installed modules.
# The driver sources (and the uapi header) are synced into src/ on every
# run, by content, so only what changed is rebuilt; the kernel fixes of
# scripts/debug-kernel/core-fixes/ are applied on top.  /lib/modules/<release>
# is made a link to mods/, so that modprobe in the test VM (which sees the
# host root) finds rdma_uet.ko.  The kernel release ends in -uetdebug; no
# "build" link is left there, so the stock lane's choice of KVER is not
# affected.
#
# On success it prints two lines, "KERNEL=<bzImage>" and "KVER=<release>".
# The build log is <key>/build.log.
set -eu

TOP=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${UET_DEBUG_CACHE:-/var/cache/uet-debug-kernel}
KSRC_TAR=${KSRC_TAR:-/usr/src/linux-source-6.12.tar.xz}
FRAGMENT=$TOP/scripts/debug-kernel/uet-debug.config
PATCH=$TOP/scripts/in-tree/0001-RDMA-uet-hook-the-driver-into-the-build.patch
FIXES=$TOP/scripts/debug-kernel/core-fixes
JOBS=${UET_DEBUG_JOBS:-$(nproc)}

log() { printf 'debug-kernel: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

[ -r "$KSRC_TAR" ] || die "no $KSRC_TAR (run scripts/setup.sh)"
ksrc_ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) ||
	ksrc_ver=$(stat -c '%s-%Y' "$KSRC_TAR")
key=$({
	echo "$ksrc_ver"
	cat "$FRAGMENT" "$PATCH"
} | sha256sum | cut -c 1-16)
dir=$CACHE/$key
src=$dir/src
obj=$dir/obj
mods=$dir/mods
mkdir -p "$dir"
exec 9>"$dir/lock"
flock 9

if [ ! -f "$src/.uet-prepared" ]; then
	log "extracting $KSRC_TAR ($ksrc_ver) into $src"
	rm -rf "$src"
	mkdir -p "$src"
	tar -xJf "$KSRC_TAR" -C "$src" --strip-components=1
	patch -s -p1 -d "$src" <"$PATCH"
	touch "$src/.uet-prepared"
fi

# Fixes to the kernel that the lane found outside the driver (they go
# upstream on their own; the stock kernel still has the bugs).  Applied
# once, in order; when the set changes, the old set is reverted first, so
# only the files they touch are rebuilt.
applied=$dir/core-fixes.applied
want=$(cat "$FIXES"/*.patch 2>/dev/null | sha256sum | cut -c 1-16)
if [ "$(cat "$applied/stamp" 2>/dev/null)" != "$want" ]; then
	old=("$applied"/*.patch)
	for ((i = ${#old[@]} - 1; i >= 0; i--)); do
		[ -e "${old[i]}" ] || continue
		patch -s -R -p1 -d "$src" <"${old[i]}" || die "cannot revert ${old[i]}"
	done
	rm -rf "$applied"
	mkdir -p "$applied"
	for p in "$FIXES"/*.patch; do
		[ -e "$p" ] || continue
		log "applying $(basename "$p")"
		patch -s -p1 -d "$src" <"$p" || die "$p does not apply"
		cp "$p" "$applied/"
	done
	echo "$want" >"$applied/stamp"
fi

# The driver, by content: rsync without times gives the files it copies a
# new mtime and leaves identical ones alone.  Objects of the out-of-tree
# build in the source directory are not taken along.
rsync -r --checksum --delete --delete-excluded \
	--exclude='*.mod.c' \
	--include='*.[ch]' --include=Kconfig --include=Makefile --exclude='*' \
	"$TOP/drivers/infiniband/hw/uet/" "$src/drivers/infiniband/hw/uet/"
rsync -r --checksum "$TOP/include/uapi/rdma/uet-abi.h" \
	"$src/include/uapi/rdma/uet-abi.h"

# The configuration, regenerated in a scratch directory and copied only
# when it differs, so that an unchanged one rebuilds nothing.
cp "$FRAGMENT" "$src/kernel/configs/uet-debug.config"
rm -f "$dir/cfg/.config"
make -s -C "$src" O="$dir/cfg" defconfig kvm_guest.config uet-debug.config \
	>"$dir/config.log" 2>&1 || {
	cat "$dir/config.log" >&2
	die "configuration failed"
}
bad=$(grep -E '^(CONFIG_|# CONFIG_)' "$FRAGMENT" | while read -r line; do
	grep -qxF "$line" "$dir/cfg/.config" || echo "  $line"
done)
[ -z "$bad" ] || die "the configuration does not take these lines of $FRAGMENT:
$bad"
mkdir -p "$obj"
cmp -s "$dir/cfg/.config" "$obj/.config" || cp "$dir/cfg/.config" "$obj/.config"

log "building in $obj (log: $dir/build.log)"
start=$(date +%s)
if ! nice -n 19 make -C "$src" O="$obj" -j"$JOBS" olddefconfig bzImage modules \
	>"$dir/build.log" 2>&1; then
	grep -E 'error|Error' "$dir/build.log" | head -n 40 >&2
	die "kernel build failed, see $dir/build.log"
fi
kver=$(make -s -C "$src" O="$obj" kernelrelease)
rm -rf "$mods.tmp"
make -s -C "$src" O="$obj" INSTALL_MOD_PATH="$mods.tmp" \
	modules_install >>"$dir/build.log" 2>&1 || die "modules_install failed"
rm -f "$mods.tmp/lib/modules/$kver/build" "$mods.tmp/lib/modules/$kver/source"
rm -rf "$mods"
mv "$mods.tmp" "$mods"
log "built $kver in $(($(date +%s) - start)) s"

# Where the test VM's modprobe looks.
if [ -e "/lib/modules/$kver" ] && [ ! -L "/lib/modules/$kver" ]; then
	die "/lib/modules/$kver exists and is not our link; remove it"
fi
ln -sfn "$mods/lib/modules/$kver" "/lib/modules/$kver"

echo "KERNEL=$obj/arch/x86/boot/bzImage"
echo "KVER=$kver"
