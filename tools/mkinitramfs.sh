#!/bin/bash
# Build the test guest's initramfs: busybox, kmod, systemd-udevd with our
# udev rule, the DRM modules lpu.ko needs (from the guest kernel's own module
# tree), lpu.ko, the tools, the selftests, the firmware folder, and the card
# firmware images (build/firmware/lpu, `make firmware`) in /lib/firmware/lpu
# where the kernel's firmware loader finds them in the initramfs root.
#
#   tools/mkinitramfs.sh KVER OUT.cpio
#
# Environment, for kernels that are not installed on the host (the debug
# kernel): LPU_MODROOT is the directory holding lib/modules/KVER (default /),
# LPU_KO the lpu.ko built for that kernel (default ./lpu.ko).
#
# The archive is left uncompressed: it is rebuilt often and the kernel
# unpacks an uncompressed cpio fastest under TCG.
set -euo pipefail
KVER=$1
OUT=$2
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

die() { echo "mkinitramfs: $*" >&2; exit 1; }
MODROOT=${LPU_MODROOT:-/}
KO=${LPU_KO:-$TOP/lpu.ko}
[ -f "$KO" ] || die "$KO is missing; build the module first"
[ -d "$MODROOT/lib/modules/$KVER/kernel" ] || die "no module tree for kernel $KVER in $MODROOT"
FWBUILD=$BUILD/firmware/lpu
[ -f "$FWBUILD/lpu-v3.bin" ] || die "$FWBUILD/lpu-v3.bin is missing; run 'make firmware' (lpu.ko cannot bind without it)"

# Copy the shared libraries an ELF file links to (not our own liblpu,
# which goes to /opt/lpu/lib).
copy_libs() {
	local deps lib
	# Scripts and static binaries have nothing to copy.
	deps=$(LD_LIBRARY_PATH=$BUILD/lib ldd "$1" 2>/dev/null) || return 0
	printf '%s\n' "$deps" | awk '/=>/ && $3 ~ /^\// {print $3} /^\t\/lib/ {print $1}' |
	while read -r lib; do
		case "$lib" in "$BUILD"/*) continue ;; esac
		[ -e "$STAGE$lib" ] || install -D -m 0755 "$lib" "$STAGE$lib"
	done
}

# Copy a host binary to the same path in the guest, with its libraries.
copy_elf() {
	local f
	for f in "$@"; do
		install -D -m 0755 "$f" "$STAGE$f"
		copy_libs "$f"
	done
}

mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,root}
mkdir -p "$STAGE"/etc/udev/rules.d "$STAGE"/opt/lpu/{bin,lib,selftests,firmware}

# busybox for the shell and coreutils; kmod for module handling.
install -m 0755 /usr/bin/busybox "$STAGE/bin/busybox"
for a in $(/usr/bin/busybox --list); do
	[ -e "$STAGE/bin/$a" ] || ln -s busybox "$STAGE/bin/$a"
done
copy_elf /usr/bin/kmod
for a in modprobe insmod rmmod lsmod modinfo depmod; do
	ln -sf /usr/bin/kmod "$STAGE/usr/sbin/$a"
done

# A real udevd and udevadm, and nothing but our rule.
copy_elf /lib/systemd/systemd-udevd /bin/udevadm
install -m 0644 "$TOP/tools/udev/60-lpu.rules" "$STAGE/etc/udev/rules.d/"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$STAGE/etc/passwd"
printf 'root:x:0:\nrender:x:%s:\n' "$(getent group render | cut -d: -f3)" >"$STAGE/etc/group"

# The guest kernel's modules that lpu.ko depends on, found through
# modules.dep so that indirect dependencies come along.
deps=$(/usr/sbin/modinfo -F depends "$KO" | tr ',' ' ')
echo "$deps" >"$STAGE/opt/lpu/module-deps"
MODDIR=/lib/modules/$KVER
SRCMODDIR=$MODROOT$MODDIR
declare -A seen=()
add_mod() {
	local name=$1 path dep
	path=$(/usr/sbin/modinfo -b "$MODROOT" -k "$KVER" -n "$name") ||
		die "module $name not in $SRCMODDIR"
	[ -n "${seen[$path]:-}" ] && return 0
	seen[$path]=1
	install -D -m 0644 "$path" "$STAGE$MODDIR/${path#"$SRCMODDIR"/}"
	for dep in $(/usr/sbin/modinfo -b "$MODROOT" -k "$KVER" -F depends "$name" | tr ',' ' '); do
		add_mod "$dep"
	done
}
for m in $deps; do add_mod "$m"; done
cp "$SRCMODDIR"/modules.order "$SRCMODDIR"/modules.builtin* "$STAGE$MODDIR/"
/usr/sbin/depmod -b "$STAGE" "$KVER"

# Our artefacts.
install -m 0644 "$KO" "$STAGE/opt/lpu/lpu.ko"
for f in "$BUILD"/bin/*; do
	[ -x "$f" ] || continue
	install -m 0755 "$f" "$STAGE/opt/lpu/bin/"
	copy_libs "$f"
done
if ls "$BUILD"/lib/liblpu.so* >/dev/null 2>&1; then
	cp -a "$BUILD"/lib/liblpu.so* "$STAGE/opt/lpu/lib/"
	copy_libs "$BUILD/lib/liblpu.so.0"
fi
if [ -d "$BUILD/selftests" ]; then
	cp -a "$BUILD/selftests/." "$STAGE/opt/lpu/selftests/"
	for f in "$BUILD"/selftests/*; do
		[ -f "$f" ] && [ -x "$f" ] && copy_libs "$f"
	done
fi
[ -d "$TOP/firmware" ] && cp -a "$TOP/firmware/." "$STAGE/opt/lpu/firmware/"

# The card's firmware where request_firmware() looks (/lib/firmware; the
# Debian kernel has the loader built in and reads the initramfs root), and
# the test variants under lpu/test/ for the firmware= parameter.
install -D -m 0644 "$FWBUILD/lpu-v3.bin" "$STAGE/lib/firmware/lpu/lpu-v3.bin"
if ls "$FWBUILD"/test/*.bin >/dev/null 2>&1; then
	mkdir -p "$STAGE/lib/firmware/lpu/test"
	cp "$FWBUILD"/test/*.bin "$STAGE/lib/firmware/lpu/test/"
fi

# MoE test data (`make moe-data`): the compiled schedules, their input and
# the numpy reference's outputs of every case build/moe/guest-cases lists,
# and the checkpoint make demo compiles in the guest.
if [ -f "$BUILD/moe/guest-cases" ]; then
	while read -r c; do
		[ -f "$BUILD/moe/$c/stamp" ] || die "MoE case $c is not built; run 'make moe-data'"
		mkdir -p "$STAGE/opt/lpu/moe/$c/ref"
		cp "$BUILD/moe/$c/schedule.lpus" "$BUILD/moe/$c/x.npy" \
			"$BUILD/moe/$c/compile.txt" "$STAGE/opt/lpu/moe/$c/"
		cp "$BUILD/moe/$c"/ref/*.npy "$STAGE/opt/lpu/moe/$c/ref/"
	done <"$BUILD/moe/guest-cases"
fi
if [ -f "$BUILD/moe/demo-ref/stamp" ]; then
	cp -a "$BUILD/moe/ckpt/demo" "$STAGE/opt/lpu/moe/demo-ckpt"
	mkdir -p "$STAGE/opt/lpu/moe/demo-ckpt/ref"
	cp "$BUILD/moe/demo-ref"/*.npy "$STAGE/opt/lpu/moe/demo-ckpt/ref/"
fi

install -m 0755 "$TOP/tools/guest/init" "$STAGE/init"
install -m 0755 "$TOP/tools/tap-suite.sh" "$STAGE/opt/lpu/tap-suite.sh"
for f in run-selftests.sh check-kernel-log.sh demo.sh run-debug.sh failslab.sh kmemleak-check.sh; do
	install -m 0755 "$TOP/tools/guest/$f" "$STAGE/opt/lpu/$f"
done
install -m 0644 "$TOP/tools/guest/kernel-report-patterns" "$STAGE/opt/lpu/"

(cd "$STAGE" && find . -print0 | sort -z | cpio --null -o -H newc --quiet) >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
