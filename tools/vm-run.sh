#!/bin/bash
# Boot the LPU test guest on the emulated card and run one shell command in
# it as root, after lpu.ko is loaded and udev has settled.
#
#   tools/vm-run.sh [options] --cmd 'COMMAND'
#
# Options:
#   --cmd CMD        shell command to run in the guest (required)
#   --timeout SEC    wall-clock limit for the whole boot (default 900)
#   --log FILE       also write the console log there (default build/guest/last.log)
#   --device-args A  extra lpu-v3 properties, e.g. ",sram-size=536870912" or
#                    ",x-fw-boot-hang=on" (the card never finishes booting)
#   --no-insmod      boot without loading lpu.ko
#   --kernel FILE    boot this kernel image (default: Debian's installed 6.12)
#   --initrd FILE    base initramfs (default build/guest/initramfs.cpio)
#   --extra-initrd F another cpio archive appended to it (e.g. bench data)
#   --mem MB         guest memory (default 1024)
#   --kvm            use KVM instead of TCG (opt-in: it failed to boot here)
#   --quiet-boot     don't echo the console, only the log file and COMMAND's exit
#
# The card always gets the TEST public key (fw-pubkey) that the images in
# build/firmware/ are signed with, so its boot ROM can verify them.
#
# The guest's userspace output (the first serial port) streams to stdout and
# to the --log file. The kernel's own console (the second serial port, every
# message up to warnings) goes to <log>.kernel, so kernel reports never cut
# into a TAP line and still reach the host if the guest hangs afterwards.
# The exit status is COMMAND's. A guest that hangs, panics or never reports
# its exit status fails with 124 and the tail of both logs, so a broken guest
# can never hang the caller. OPENBLAS_NUM_THREADS (default 1) reaches QEMU:
# the threads of the card's tensor engine.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
CMD=
TIMEOUT=900
LOG=$BUILD/guest/last.log
DEVARGS=
NOINSMOD=0
ACCEL=tcg
ECHO=1
KERNEL=
BASE=$BUILD/guest/initramfs.cpio
EXTRA=
MEM=1024

while [ $# -gt 0 ]; do
	case "$1" in
	--cmd) CMD=$2; shift 2 ;;
	--timeout) TIMEOUT=$2; shift 2 ;;
	--log) LOG=$2; shift 2 ;;
	--device-args) DEVARGS=$2; shift 2 ;;
	--no-insmod) NOINSMOD=1; shift ;;
	--kernel) KERNEL=$2; shift 2 ;;
	--initrd) BASE=$2; shift 2 ;;
	--extra-initrd) EXTRA=$2; shift 2 ;;
	--mem) MEM=$2; shift 2 ;;
	--kvm) ACCEL=kvm; shift ;;
	--quiet-boot) ECHO=0; shift ;;
	-h|--help) sed -n '2,31p' "$0"; exit 0 ;;
	*) echo "vm-run: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[ -n "$CMD" ] || { echo "vm-run: --cmd is required" >&2; exit 2; }
rm -f "$LOG" "$LOG.kernel"	# never let a caller judge a stale console

if [ -z "$KERNEL" ]; then
	KVER=$("$TOP/tools/fetch-kernel.sh" --print) || exit 2
	KERNEL=/boot/vmlinuz-$KVER
fi
[ -f "$KERNEL" ] || { echo "vm-run: no kernel image '$KERNEL'" >&2; exit 2; }
QEMU=${LPU_QEMU:-$("$TOP/tools/build-qemu.sh" --print-path)} || exit 2
[ -x "$QEMU" ] || { echo "vm-run: no QEMU binary at '$QEMU'; run 'make qemu'" >&2; exit 2; }
[ -f "$BASE" ] || { echo "vm-run: $BASE is missing; run 'make guest'" >&2; exit 2; }
[ -z "$EXTRA" ] || [ -f "$EXTRA" ] || { echo "vm-run: no archive '$EXTRA'" >&2; exit 2; }
FW_PUBKEY=$TOP/firmware/keys/test-signing-key.pub.der
[ -f "$FW_PUBKEY" ] || { echo "vm-run: the card's firmware key $FW_PUBKEY is missing" >&2; exit 2; }
# QEMU splits device properties at commas; a path with one cannot be passed.
case "$FW_PUBKEY" in *,*) echo "vm-run: '$FW_PUBKEY' has a comma, which QEMU cannot take in a property" >&2; exit 2 ;; esac

# The command travels as a second cpio archive appended to the base one:
# the kernel unpacks concatenated archives in order.
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/stage/opt/lpu"
printf '%s\n' "$CMD" >"$WORK/stage/opt/lpu/cmd.sh"
[ $NOINSMOD = 1 ] && touch "$WORK/stage/opt/lpu/no-insmod"
(cd "$WORK/stage" && find . | cpio -o -H newc --quiet) >"$WORK/cmd.cpio"
cat "$BASE" ${EXTRA:+"$EXTRA"} "$WORK/cmd.cpio" >"$WORK/initrd.cpio"

# The card's tensor engine computes with OpenBLAS inside QEMU. One thread
# unless the caller says otherwise: the two vCPUs already share this
# machine's cores, and make bench compares with numpy on one thread too.
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}

mkdir -p "$(dirname "$LOG")"
# The card sits behind a root port, as a discrete card would, so it has a
# real PCIe link for lpu-smi to report.
timeout -k 10 "$TIMEOUT" "$QEMU" \
	-M q35 -nodefaults -accel "$ACCEL" -cpu max -smp 2 -m "$MEM" \
	-display none -no-reboot \
	-kernel "$KERNEL" -initrd "$WORK/initrd.cpio" \
	-append "console=ttyS1 loglevel=5 panic=-1 oops=panic" \
	-chardev stdio,id=con,signal=off -serial chardev:con \
	-serial "file:$LOG.kernel" \
	-device pcie-root-port,id=rp0,bus=pcie.0,chassis=1 \
	-device "lpu-v3,bus=rp0,fw-pubkey=$FW_PUBKEY$DEVARGS" </dev/null 2>&1 |
	sed -u 's/\r$//' | if [ $ECHO = 1 ]; then tee "$LOG"; else cat >"$LOG"; fi
qemu_rc=${PIPESTATUS[0]}

rc=$(sed -n 's/^LPU-GUEST-EXIT \([0-9]*\)$/\1/p' "$LOG" | tail -n 1)
if [ -z "$rc" ]; then
	if [ "$qemu_rc" = 124 ]; then
		echo "vm-run: guest timed out after ${TIMEOUT}s (hung)" >&2
	else
		echo "vm-run: guest ended without reporting an exit status (panic or crash; QEMU exit $qemu_rc)" >&2
	fi
	echo "vm-run: last 30 lines of $LOG:" >&2
	tail -n 30 "$LOG" >&2
	echo "vm-run: last 60 lines of the kernel console $LOG.kernel:" >&2
	tail -n 60 "$LOG.kernel" | tr -d '\r' >&2
	exit 124
fi
exit "$rc"
