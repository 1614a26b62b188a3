#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Run a command as root inside a throwaway QEMU guest that boots the installed
# Debian 6.12 kernel and sees the host's file system.
#
# The guest's root is an overlay (tmpfs upper) on the host's / exported
# read-only over virtio-9p, so the build tree, rdma-core, perftest, pyverbs
# and /lib/modules look exactly as on the host, and whatever the guest writes
# stays in guest RAM.  The command runs in the caller's working directory;
# its stdout+stderr are streamed to our stdout and its exit status becomes
# ours.  The kernel console goes to the --log file, never to our stdout.
#
# A second, writable 9p share (--out) carries results out.  In the guest it
# is mounted at its host path too ($UET_VM_OUT), so a command can leave files
# there.  It holds output.log (the command's output), status, dmesg.log (the
# guest kernel log), qemu.log (QEMU's own stderr) and job (the command).
#
# Exit status: the command's, or
#   124  the --timeout expired (QEMU killed)
#   125  vm-run or the VM failed (bad usage, no status reported because of a
#        panic or a guest setup error, cwd not visible in the guest...)
#
# The command gets stdin from /dev/null, a clean environment (PATH, HOME=/root,
# LANG=C.UTF-8, UET_VM=1, UET_VM_OUT) and runs as root.  Notes:
#  - /run and /dev/shm are the guest's own tmpfs: host files there are not
#    visible (and the caller's cwd must not be there); /tmp is part of the
#    overlay, so a tree cloned under /tmp works and guest writes stay in RAM;
#  - the host root is mounted with cache=loose: build before running, as files
#    changed on the host while the guest runs may look stale in the guest;
#  - uses TCG (KVM is not usable on our build machines); the command starts
#    about 6 s after QEMU does on an idle 2-core machine.
set -eu

usage() {
	cat <<EOF
Usage: $0 [options] [--] COMMAND [ARGS...]

Options:
  --timeout SEC   kill the VM after SEC seconds and exit 124 (default 1800)
  --log FILE      guest kernel console log (default: console.log in the
                  results directory; build/vm/console.log links to the latest)
  --mem MB        guest memory (default 2048)
  --smp N         guest CPUs (default 2)
  --kernel PATH   kernel image (default: newest /boot/vmlinuz-6.12*, or
                  /boot/vmlinuz-\$KVER if KVER is set in the environment)
  --append ARGS   extra kernel command line parameters
  --out DIR       results directory (default: a new build/vm/run-*;
                  build/vm/last links to the latest)
  -h, --help      this help
EOF
}

die() {
	echo "vm-run: $*" >&2
	exit 125
}

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(dirname "$SCRIPT_DIR")
VMDIR=$REPO/build/vm

timeout=1800
log=
mem=2048
smp=2
kernel=
append=
out=

while [ $# -gt 0 ]; do
	case $1 in
	--timeout | --log | --mem | --smp | --kernel | --append | --out)
		[ $# -ge 2 ] || die "$1 needs an argument"
		opt=${1#--}
		val=$2
		shift 2
		;;
	--timeout=* | --log=* | --mem=* | --smp=* | --kernel=* | --append=* | --out=*)
		opt=${1%%=*}
		opt=${opt#--}
		val=${1#*=}
		shift
		;;
	-h | --help)
		usage
		exit 0
		;;
	--)
		shift
		break
		;;
	-*)
		usage >&2
		die "unknown option $1"
		;;
	*) break ;;
	esac
	case $opt in
	timeout) timeout=$val ;;
	log) log=$val ;;
	mem) mem=$val ;;
	smp) smp=$val ;;
	kernel) kernel=$val ;;
	append) append=$val ;;
	out) out=$val ;;
	esac
done
[ $# -gt 0 ] || {
	usage >&2
	die "no command given"
}
for n in "$timeout" "$mem" "$smp"; do
	case $n in
	'' | *[!0-9]* | 0) die "--timeout, --mem and --smp take positive integers" ;;
	esac
done

# Kernel image and version (the version selects /lib/modules/<version>).
if [ -n "$kernel" ]; then
	kver=${KVER:-$(basename "$kernel")}
	kver=${kver#vmlinuz-}
elif [ -n "${KVER:-}" ]; then
	kver=$KVER
	kernel=/boot/vmlinuz-$kver
else
	kernel=$(find /boot -maxdepth 1 -name 'vmlinuz-6.12*' | sort -V | tail -n 1)
	[ -n "$kernel" ] || die "no /boot/vmlinuz-6.12* installed (run scripts/setup.sh)"
	kver=${kernel#/boot/vmlinuz-}
fi
[ -r "$kernel" ] || die "cannot read kernel image $kernel"
[ -d "/lib/modules/$kver" ] || die "no /lib/modules/$kver for kernel $kernel (set KVER?)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found (run scripts/setup.sh)"

# The guest mounts tmpfs over these, so the caller's directory would be missing.
cwd=$(pwd -P)
case $cwd/ in
/run/* | /dev/* | /proc/* | /sys/*)
	die "the working directory $cwd is not visible in the guest; run from elsewhere"
	;;
esac

mkdir -p "$VMDIR"

# Initramfs, cached per kernel version and vm-initramfs.sh contents.
hash=$(sha256sum "$SCRIPT_DIR/vm-initramfs.sh" | cut -c 1-12)
initrd=$VMDIR/initramfs-$kver-$hash.cpio.gz
if [ ! -s "$initrd" ]; then
	echo "vm-run: building $initrd" >&2
	"$SCRIPT_DIR/vm-initramfs.sh" "$initrd" "$kver" || die "initramfs build failed"
	find "$VMDIR" -maxdepth 1 -name "initramfs-$kver-*.cpio.gz" ! -name "${initrd##*/}" -delete
fi

# Results share, with the job for vm-init.
if [ -n "$out" ]; then
	mkdir -p "$out"
	out=$(cd "$out" && pwd -P)
else
	out=$(mktemp -d "$VMDIR/run-$(date +%Y%m%d-%H%M%S)-XXXX")
	ln -sfn "${out##*/}" "$VMDIR/last"
fi
# A console log per run, so that concurrent runs do not mix their logs.
if [ -z "$log" ]; then
	log=$out/console.log
	case $log in
	"$VMDIR"/*) ln -sfn "${log#"$VMDIR"/}" "$VMDIR/console.log" ;;
	*) ln -sfn "$log" "$VMDIR/console.log" ;;
	esac
fi
rm -f "$out/status" "$out/status.tmp" "$out/dmesg.log"
: >"$out/output.log"
{
	echo "# Written by vm-run.sh, read by vm-init."
	printf 'UET_JOB_CWD=%q\n' "$cwd"
	printf 'UET_JOB_OUT=%q\n' "$out"
	printf 'UET_JOB_ARGS=('
	printf ' %q' "$@"
	printf ' )\n'
} >"$out/job"

mkdir -p "$(dirname "$log")"
log=$(cd "$(dirname "$log")" && pwd -P)/$(basename "$log")

init=$SCRIPT_DIR/vm-init
case $init in
*[[:space:]]*) die "the path $init contains white space; the kernel command line cannot carry it" ;;
esac

# QEMU option values escape ',' by doubling it.
qesc() {
	printf '%s' "${1//,/,,}"
}

# The console log keeps the kernel's default level (7: all but debug): the
# whole boot costs ~25 KB, well under 0.1 s of serial output.  panic=-1
# reboots at once on a panic, and -no-reboot turns that into a QEMU exit.
# tsc=reliable: under TCG on a loaded host the clocksource watchdog sees
# the emulated TSC skew, marks it unstable and patches code on the fly,
# which once crashed an idle vCPU ("Oops: int3"); the TSC is all we have.
cmdline="console=ttyS0 panic=-1 tsc=reliable uet.init=$init $append"
qemu=(
	qemu-system-x86_64
	-accel tcg -cpu max -m "$mem" -smp "$smp"
	-nodefaults -no-user-config -display none -no-reboot
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline"
	-chardev "file,id=console,path=$(qesc "$log")" -serial chardev:console
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=$(qesc "$out"),mount_tag=uetout,security_model=none,multidevs=remap"
)

qpid=
tpid=
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
	[ -z "$qpid" ] || kill -TERM "$qpid" 2>/dev/null || true
	[ -z "$tpid" ] || kill -TERM "$tpid" 2>/dev/null || true
}
trap cleanup EXIT
trap 'echo "vm-run: interrupted" >&2; exit 130' INT TERM HUP

# timeout(1) exits 124 when it had to stop QEMU (137 if even SIGKILL was
# needed).  --foreground keeps QEMU in our process group, so a Ctrl-C reaches
# it as well.
timeout --foreground -k 10 "$timeout" "${qemu[@]}" </dev/null >"$out/qemu.log" 2>&1 &
qpid=$!
# Stream the command's output as the guest appends it to the share; tail
# exits once QEMU is gone and it has read everything.
tail -n +1 -s 0.1 -f --pid="$qpid" "$out/output.log" &
tpid=$!

qrc=0
wait "$qpid" || qrc=$?
qpid=
wait "$tpid" || true
tpid=

if [ -f "$out/status" ]; then
	status=$(cat "$out/status")
	case $status in
	'' | *[!0-9]*) die "bad exit status '$status' in $out/status" ;;
	esac
	exit "$status"
fi

if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
	echo "vm-run: timed out after $timeout s; QEMU killed. Console log: $log" >&2
	exit 124
fi
{
	echo "vm-run: the guest stopped without reporting an exit status (QEMU status $qrc)."
	grep -m 1 -E 'Kernel panic|BUG:|Oops:|uet-initramfs: FATAL|vm-init: setup failed' "$log" |
		sed 's/^/vm-run: first sign of trouble: /' || true
	echo "vm-run: see the console log $log (last lines below) and $out/qemu.log"
	tail -n 20 "$log" | sed 's/^/  | /'
	[ ! -s "$out/qemu.log" ] || sed 's/^/  qemu: /' "$out/qemu.log"
} >&2
exit 125
