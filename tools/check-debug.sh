#!/bin/bash
# `make check-debug`: every guest selftest, failslab and a kmemleak scan on
# the debug kernel (KASAN, UBSAN, lockdep, kmemleak, DEBUG_OBJECTS, ...).
# Prints framed TAP suites for tools/tap-summary.awk.
#   --if-cached   run only if the debug kernel is already built (make fuzz)
# LPU_DEBUG_CMD replaces the guest command (tools/fuzz.sh uses it).
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
TIMEOUT=${GUEST_TIMEOUT:-900}

# A lane that cannot even start must fail visibly, never vanish from the
# summary: report it as a failed suite of its own.
setup_failed() {
	echo "# LPU-SUITE debug-setup"
	echo "1..1"
	echo "not ok 1 debug lane set up: $1"
	echo "# LPU-SUITE-END debug-setup rc=1"
	exit 1
}

if [ "${1:-}" = --if-cached ]; then
	DK=$("$TOP/tools/build-debug-kernel.sh" --print-path 2>/dev/null) || {
		echo "# debug kernel not built: skipping the debug lane (make check-debug builds it)"
		exit 0
	}
else
	DK=$("$TOP/tools/build-debug-kernel.sh" | tail -n 1) &&
		[ -f "$DK/done" ] || setup_failed "the debug kernel did not build"
fi
KVER=$(cat "$DK/kernelrelease") || setup_failed "no kernelrelease in $DK"

# lpu.ko for the debug kernel, built from a copy so that it never mixes
# objects with the module built in place for Debian's kernel.
MOD=$BUILD/debug-module
rm -rf "$MOD" && mkdir -p "$MOD/driver" "$MOD/uapi" "$MOD/firmware"
cp "$TOP/Kbuild" "$MOD/" && cp "$TOP"/driver/*.[ch] "$MOD/driver/" &&
	cp -r "$TOP"/uapi/. "$MOD/uapi/" &&
	cp "$TOP/firmware/lpu_fw.h" "$MOD/firmware/" ||
	setup_failed "copying the driver sources"
make -s -C "$DK/build" M="$MOD" modules >&2 ||
	setup_failed "lpu.ko did not build for $KVER"

LPU_MODROOT=$DK/modroot LPU_KO=$MOD/lpu.ko \
	"$TOP/tools/mkinitramfs.sh" "$KVER" "$BUILD/guest/initramfs-debug.cpio" ||
	setup_failed "the debug initramfs did not build"

"$TOP/tools/vm-run.sh" --timeout "$TIMEOUT" --mem 2048 \
	--kernel "$DK/bzImage" --initrd "$BUILD/guest/initramfs-debug.cpio" \
	--log "$BUILD/guest/check-debug.log" --cmd "${LPU_DEBUG_CMD:-sh /opt/lpu/run-debug.sh}"
"$TOP/tools/vm-suite.sh" debug-vm $? "$BUILD/guest/check-debug.log"
