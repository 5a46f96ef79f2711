#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build qemu-system-x86_64 with the LPU v3 device model (qemu-device/) in tree.
#
#   tools/build-qemu.sh              build (incrementally), print the binary path
#   tools/build-qemu.sh --print-path print the binary path, build nothing
#   tools/build-qemu.sh --qtest      build, then build and run the lpu-v3 qtest
#                                    (TAP on stdout, non-zero exit on failure)
#
# The last line on stdout is always the absolute path of qemu-system-x86_64;
# progress goes to stderr.
#
# QEMU comes from Debian's qemu 10.0.x source package (trixie deb-src, which
# tools/host-deps.sh adds). The source tree and build directory live outside
# the clone, in $LPU_CACHE/qemu/<key>/, where <key> hashes everything that
# shapes the tree: the source package, this script and the configure flags.
# Our files are copied in only when their content changed, so their mtimes
# stay put and ninja rebuilds just what a change in qemu-device/ touches.
set -euo pipefail

LPU_CACHE=${LPU_CACHE:-/var/cache/lpu}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SELF="$REPO/tools/build-qemu.sh"
SRC_CACHE="$LPU_CACHE/src"
QEMU_SERIES=10.0
# Debian's python3 carries meson >= 1.5 (bookworm-backports); the python on
# PATH may be a pyenv one without it, and configure would fall back to the
# meson wheel bundled with QEMU.
PYTHON=/usr/bin/python3
MESON_MIN=1.5
CONFIGURE_FLAGS=(
	--target-list=x86_64-softmmu
	--without-default-features
	--disable-docs
	--disable-tools
	--disable-user
	--disable-install-blobs
	--enable-nettle
	--firmwarepath=/usr/share/qemu:/usr/share/seabios
	--python="$PYTHON"
)

MODE=build
case "${1:-}" in
"") ;;
--print-path) MODE=path ;;
--qtest) MODE=qtest ;;
-h | --help)
	sed -n '4,12p' "$SELF" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "build-qemu: unknown option '$1' (try --help)" >&2
	exit 2
	;;
esac

log() { echo "build-qemu: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# ---- source package ---------------------------------------------------------

newest_dsc() {
	local f
	f=$(ls "$SRC_CACHE"/qemu_"$QEMU_SERIES".*.dsc 2>/dev/null | sort -V | tail -n1)
	[ -n "$f" ] || return 1
	# A .dsc is only usable with the tarballs it names next to it.
	local t
	for t in $(awk '/^Files:/{f=1;next} /^[^ ]/{f=0} f{print $3}' "$f"); do
		[ -f "$SRC_CACHE/$t" ] || return 1
	done
	echo "$f"
}

fetch_source() {
	local ver
	log "fetching the qemu $QEMU_SERIES source package into $SRC_CACHE"
	ver=$(apt-cache showsrc qemu 2>/dev/null | awk '/^Version:/{print $2}' |
		grep "^1:$QEMU_SERIES\.\|^$QEMU_SERIES\." | sort -V | tail -n1) || true
	if [ -z "$ver" ]; then
		log "no qemu $QEMU_SERIES in the deb-src index; running tools/host-deps.sh and apt-get update"
		"$REPO/tools/host-deps.sh" >&2
		apt-get update -q >&2
		ver=$(apt-cache showsrc qemu | awk '/^Version:/{print $2}' |
			grep "^1:$QEMU_SERIES\.\|^$QEMU_SERIES\." | sort -V | tail -n1) ||
			die "apt knows no qemu $QEMU_SERIES.x source package (is trixie deb-src configured?)"
	fi
	mkdir -p "$SRC_CACHE"
	(cd "$SRC_CACHE" && apt-get source --download-only "qemu=$ver" >&2) ||
		die "apt-get source qemu=$ver failed"
}

# ---- checks -----------------------------------------------------------------

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# The device model's tensor engine links OpenBLAS (libopenblas-dev).
check_openblas() {
	pkg-config --exists openblas ||
		die "pkg-config finds no openblas; install libopenblas-dev (tools/host-deps.sh)"
}

check_meson() {
	local v
	v=$("$PYTHON" -c 'import mesonbuild.coredata as c; print(c.version)' 2>/dev/null) ||
		die "$PYTHON has no meson module; run tools/host-deps.sh (meson from bookworm-backports)"
	version_ge "$v" "$MESON_MIN" ||
		die "meson $v is too old for QEMU $QEMU_SERIES (need >= $MESON_MIN, bookworm-backports)"
}

# ---- copying our files in ---------------------------------------------------

# Copy only when the content differs, so unchanged files keep their mtime.
sync_file() {
	local src=$1 dst=$2
	if ! cmp -s "$src" "$dst"; then
		cp "$src" "$dst.tmp.$$"
		mv -f "$dst.tmp.$$" "$dst"
		log "updated ${dst#"$TREE"/}"
	fi
}

sync_device() {
	local dir="$TREE/hw/misc/lpu-v3" f name
	mkdir -p "$dir"
	for f in "$REPO"/qemu-device/*; do
		[ -f "$f" ] && sync_file "$f" "$dir/$(basename "$f")"
	done
	sync_file "$REPO/uapi/lpu_hw.h" "$dir/lpu_hw.h"
	sync_file "$REPO/firmware/lpu_fw.h" "$dir/lpu_fw.h"
	sync_file "$REPO/qemu-device/tests/lpu-v3-test.c" "$TREE/tests/qtest/lpu-v3-test.c"
	# Files removed from qemu-device/ must not linger in the tree.
	for f in "$dir"/*; do
		name=$(basename "$f")
		[ "$name" = lpu_hw.h ] || [ "$name" = lpu_fw.h ] || [ -f "$REPO/qemu-device/$name" ] || {
			rm -f "$f"
			log "removed hw/misc/lpu-v3/$name"
		}
	done
}

# Hook hw/misc/lpu-v3 into QEMU's build files. Runs once, on a fresh tree.
hook_tree() {
	echo "subdir('lpu-v3')" >>"$TREE/hw/misc/meson.build"
	echo "source lpu-v3/Kconfig" >>"$TREE/hw/misc/Kconfig"
	sed -i "s|^    'hw/misc',\$|&\n    'hw/misc/lpu-v3',|" "$TREE/meson.build"
	grep -q "'hw/misc/lpu-v3'," "$TREE/meson.build" ||
		die "could not add hw/misc/lpu-v3 to trace_events_subdirs"
	# The qtest runs on x86 targets whenever the device is built, and finds
	# lpu_hw.h through the include directory hw/misc/lpu-v3/meson.build exports.
	sed -i "s|^  (config_all_devices.has_key('CONFIG_PVPANIC_PCI') ? \['pvpanic-pci-test'\] : \[\]) + *\\\\\$|&\n  (config_all_devices.has_key('CONFIG_LPU_V3') ? ['lpu-v3-test'] : []) +                  \\\\|" \
		"$TREE/tests/qtest/meson.build"
	sed -i "s|^qtest_executables = {}\$|qtests += {'lpu-v3-test': [declare_dependency(include_directories: lpu_v3_inc), crypto]}\n&|" \
		"$TREE/tests/qtest/meson.build"
	[ "$(grep -c "lpu-v3-test" "$TREE/tests/qtest/meson.build")" = 2 ] ||
		die "could not hook lpu-v3-test into tests/qtest/meson.build"
}

unpack() {
	local tmp
	log "unpacking $(basename "$DSC") into $KEYDIR"
	tmp=$(mktemp -d "$KEYDIR/unpack.XXXXXX")
	# dpkg-source applies Debian's patches, among them the one that skips
	# unpacking the edk2 blobs the +ds tarball does not carry.
	dpkg-source --no-check -x "$DSC" "$tmp/src" >&2
	TREE="$tmp/src"
	hook_tree
	mv "$tmp/src" "$KEYDIR/src"
	# dpkg-source left a copy of the orig tarball next to the tree.
	rm -rf "$tmp"
	TREE="$KEYDIR/src"
}

configure_tree() {
	log "configuring: ${CONFIGURE_FLAGS[*]}"
	rm -rf "$BUILD"
	mkdir -p "$BUILD"
	(cd "$BUILD" && "$TREE/configure" "${CONFIGURE_FLAGS[@]}" >&2) ||
		die "configure failed"
	local v
	v=$("$BUILD/pyvenv/bin/meson" --version) || die "no meson in $BUILD/pyvenv"
	version_ge "$v" "$MESON_MIN" || die "configure picked meson $v (< $MESON_MIN)"
	# The boot ROM verifies firmware signatures with QEMU's akcipher API,
	# which needs nettle's public-key half (hogweed) for RSA.
	grep -q '^#define CONFIG_HOGWEED' "$BUILD/config-host.h" ||
		die "configure found no hogweed (nettle's RSA); install nettle-dev and libgmp-dev (tools/host-deps.sh)"
	touch "$KEYDIR/configured"
}

# A binary run from the build tree looks up firmware below build/qemu-bundle
# (QEMU's relocatable layout), not in the configured firmware path: point the
# bundle's copies of those directories at Debian's firmware packages.
link_firmware() {
	local d
	for d in /usr/share/qemu /usr/share/seabios; do
		[ -d "$d" ] || continue
		[ -L "$BUILD/qemu-bundle$d" ] && continue
		mkdir -p "$(dirname "$BUILD/qemu-bundle$d")"
		rm -rf "$BUILD/qemu-bundle$d"
		ln -s "$d" "$BUILD/qemu-bundle$d"
	done
}

# Trees of older script versions or source packages are dead weight
# (~700 MB each); drop those nobody is using right now.
prune_old_trees() {
	local d
	for d in "$LPU_CACHE"/qemu/*; do
		[ "$d" != "$KEYDIR" ] && [ -f "$d/lock" ] || continue
		[[ $(basename "$d") =~ ^[0-9a-f]{16}$ ]] || continue
		if flock -n "$d/lock" true; then
			log "removing stale tree $d"
			rm -rf "$d"
		fi
	done
}

# ---- main -------------------------------------------------------------------

DSC=$(newest_dsc) || {
	fetch_source
	DSC=$(newest_dsc) || die "no usable qemu_$QEMU_SERIES.*.dsc in $SRC_CACHE"
}
ORIG=$(awk '/^Files:/{f=1;next} /^[^ ]/{f=0} f && $3 ~ /orig\.tar/{print $3}' "$DSC")
[ -n "$ORIG" ] || die "$DSC names no orig tarball"

check_openblas
KEY=$({
	echo "$(basename "$DSC") $(sha256sum <"$DSC")"
	echo "$ORIG $(sha256sum <"$SRC_CACHE/$ORIG")"
	sha256sum <"$SELF"
	printf '%s\n' "${CONFIGURE_FLAGS[@]}"
	# meson resolves the library when it configures the tree.
	echo "openblas $(pkg-config --modversion openblas) $(pkg-config --libs openblas)"
} | sha256sum | cut -c1-16)
KEYDIR="$LPU_CACHE/qemu/$KEY"
TREE="$KEYDIR/src"
BUILD="$KEYDIR/build"
BIN="$BUILD/qemu-system-x86_64"

if [ "$MODE" = path ]; then
	echo "$BIN"
	exit 0
fi

mkdir -p "$KEYDIR"
# Concurrent callers (other helpers, CI) share one tree: serialise them.
exec 9>"$KEYDIR/lock"
flock 9

check_meson
[ -d "$TREE" ] || unpack
sync_device
[ -f "$KEYDIR/configured" ] || configure_tree

start=$SECONDS
log "ninja -j2 qemu-system-x86_64 in $BUILD"
ninja -C "$BUILD" -j2 qemu-system-x86_64 >&2 || die "build failed"
log "build step took $((SECONDS - start)) s"
link_firmware
prune_old_trees

rc=0
if [ "$MODE" = qtest ]; then
	ninja -C "$BUILD" -j2 tests/qtest/lpu-v3-test >&2 || die "qtest build failed"
	# The qtest signs the images it builds with the TEST key, and gives the
	# device the matching public key.
	(cd "$BUILD" && QTEST_QEMU_BINARY=./qemu-system-x86_64 \
		LPU_FW_KEY_DIR="$REPO/firmware/keys" \
		./tests/qtest/lpu-v3-test --tap -k) || rc=$?
	[ $rc = 0 ] || log "qtest FAILED (exit $rc)"
fi
echo "$BIN"
exit $rc
