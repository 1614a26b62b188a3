#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Install everything uet needs to build and test on a Debian 12 host, as root.
# Idempotent: when every package is present it only checks and returns.
set -eu

BACKPORTS_LIST=/etc/apt/sources.list.d/uet-bookworm-backports.list
# The kernel, its headers and the matching uapi headers for user space.
KPKGS="linux-image-amd64 linux-headers-amd64 linux-libc-dev"
PKGS="linux-source-6.12 qemu-system-x86 busybox-static rdma-core ibverbs-utils
ibverbs-providers perftest python3-pyverbs libibverbs-dev librdmacm-dev
libnl-3-dev libnl-route-3-dev iproute2 tcpdump sparse bc bison flex
libelf-dev libssl-dev dwarves cpio xz-utils kmod gcc make pkg-config
ethtool iputils-ping netcat-openbsd strace rsync patch procps binutils python3
python3-docutils man-db util-linux"

log() { printf 'setup: %s\n' "$*"; }

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
have_612() {
	ls -d /lib/modules/6.12.*/build >/dev/null 2>&1 &&
		dpkg-query -W -f='${Version}' linux-libc-dev 2>/dev/null |
		grep -q '^6\.12\.'
}

if [ -z "$missing" ] && have_612; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	log "missing packages:$missing; run as root to install them"
	exit 1
fi

if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
	log "adding bookworm-backports to apt sources"
	echo "deb http://deb.debian.org/debian bookworm-backports main" >"$BACKPORTS_LIST"
fi

export DEBIAN_FRONTEND=noninteractive
log "apt-get update"
apt-get update -qq
if ! have_612; then
	log "installing the 6.12 kernel, headers and uapi headers from bookworm-backports"
	apt-get install -y -qq -t bookworm-backports $KPKGS >/dev/null
fi
if [ -n "$missing" ]; then
	log "installing:$missing"
	# shellcheck disable=SC2086
	apt-get install -y -qq $missing >/dev/null
fi
have_612 || { log "no 6.12 kernel build tree after install"; exit 1; }
log "done"
