#!/bin/bash
# Build the guest debug kernel (KASAN, UBSAN, lockdep, kmemleak, ...) from
# Debian's linux-source-6.12, cached in $LPU_CACHE/debug-kernel/<key>/ where
# <key> hashes the source package version, tools/debug-kernel.config and
# this script. Prints the cache directory on stdout's last line:
#   <dir>/bzImage, <dir>/build (KDIR for lpu.ko), <dir>/modroot (modules)
#   --print-path   print the directory if it is built, fail otherwise
#
# DRM_SCHED and DRM_GEM_SHMEM_HELPER are hidden Kconfig symbols that only
# in-tree drivers select; on x86 those are amdgpu, nouveau and xe, each a
# large build. We give the two symbols a prompt in our copy of the tree
# instead: the code built is exactly the same, and the kernel builds in a
# fraction of the time.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${LPU_CACHE:-/var/cache/lpu}
TARBALL=/usr/src/linux-source-6.12.tar.xz
FRAG=$TOP/tools/debug-kernel.config
JOBS=${JOBS:-$(nproc)}

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true)
if [ -z "$srcver" ] || [ ! -f "$TARBALL" ]; then
	[ "${1:-}" = --print-path ] && { echo "build-debug-kernel: linux-source-6.12 not installed" >&2; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends linux-source-6.12 >&2
	srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
fi
key=$( { echo "$srcver"; cat "$FRAG" "$0"; } | sha256sum | cut -c1-16)
DIR=$CACHE/debug-kernel/$key

if [ "${1:-}" = --print-path ]; then
	[ -f "$DIR/done" ] || { echo "build-debug-kernel: not built yet (run tools/build-debug-kernel.sh)" >&2; exit 1; }
	echo "$DIR"
	exit 0
fi
if [ -f "$DIR/done" ]; then
	echo "$DIR"
	exit 0
fi

log() { echo "build-debug-kernel: $*" >&2; }
# Trees of older configs or source versions are ~10 GB of dead weight.
for old in "$CACHE"/debug-kernel/*; do
	[ -d "$old" ] && [ "$old" != "$DIR" ] && { log "removing old tree $old"; rm -rf "$old"; }
done
mkdir -p "$DIR"
if [ ! -d "$DIR/src" ]; then
	log "unpacking linux-source $srcver"
	rm -rf "$DIR/src.tmp" && mkdir -p "$DIR/src.tmp"
	tar -xf "$TARBALL" -C "$DIR/src.tmp" --strip-components=1
	sed -i '/^config DRM_SCHED$/,/^$/s/^\ttristate$/\ttristate "GPU scheduler (prompt added for out-of-tree accel drivers)"/' \
		"$DIR/src.tmp/drivers/gpu/drm/Kconfig"
	sed -i '/^config DRM_GEM_SHMEM_HELPER$/,/^\thelp/s/^\ttristate$/\ttristate "GEM shmem helpers (prompt added for out-of-tree accel drivers)"/' \
		"$DIR/src.tmp/drivers/gpu/drm/Kconfig"
	mv "$DIR/src.tmp" "$DIR/src"
fi

B=$DIR/build
mkdir -p "$B"
log "configuring (defconfig + kvm_guest.config + $(basename "$FRAG"))"
make -s -C "$DIR/src" O="$B" defconfig >&2
(cd "$DIR/src" && scripts/kconfig/merge_config.sh -m -O "$B" "$B/.config" \
	kernel/configs/kvm_guest.config "$FRAG" >/dev/null)
make -s -C "$DIR/src" O="$B" olddefconfig >&2

# Every option we asked for must have survived Kconfig's dependency rules.
bad=0
while IFS= read -r line; do
	case "$line" in ''|'#'*) continue ;; esac
	opt=${line%%=*} val=${line#*=}
	if [ "$val" = n ]; then
		grep -q "^$opt=" "$B/.config" && { log "$opt should be off"; bad=1; }
	else
		grep -qx "$line" "$B/.config" || { log "$opt=$val was not kept: $(grep "^$opt=\|$opt is not set" "$B/.config")"; bad=1; }
	fi
done <"$FRAG"
[ $bad = 0 ] || { log "config check failed"; exit 1; }

log "building with -j$JOBS (about 18 min on 2 cores the first time)"
start=$(date +%s)
make -C "$DIR/src" O="$B" -j"$JOBS" bzImage modules >&2
rm -rf "$DIR/modroot"
make -s -C "$DIR/src" O="$B" INSTALL_MOD_PATH="$DIR/modroot" modules_install >&2
cp "$B/arch/x86/boot/bzImage" "$DIR/bzImage"
make -s -C "$DIR/src" O="$B" kernelrelease >"$DIR/kernelrelease"
log "built in $(( $(date +%s) - start )) s"
touch "$DIR/done"
echo "$DIR"
