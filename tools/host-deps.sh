#!/bin/bash
# Install every host package the build, the VM runner and the tests need.
# Idempotent: a second run installs nothing and takes a second.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

# bookworm-backports carries meson >= 1.5 and python3-pycotap for QEMU 10;
# trixie's deb-src carries the QEMU 10.0.x source package.
add_source() {
	local file=$1 body=$2
	[ -f "$file" ] && return 0
	echo "host-deps: adding $file"
	printf '%s\n' "$body" | $SUDO tee "$file" >/dev/null
	NEED_UPDATE=1
}

NEED_UPDATE=0
add_source /etc/apt/sources.list.d/lpu-backports.sources \
"Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
add_source /etc/apt/sources.list.d/lpu-trixie-src.sources \
"Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"

PKGS=(
	# userspace build
	build-essential pkg-config libdrm-dev libpci-dev libkmod-dev libjson-c-dev
	# guest image
	busybox-static kmod udev cpio zstd xz-utils
	# out-of-tree module and kernel-side tooling
	bc flex bison libelf-dev libssl-dev sparse dwarves
	# QEMU build
	dpkg-dev ninja-build libglib2.0-dev libpixman-1-dev libfdt-dev
	python3-venv seabios
	# the device model's boot ROM: SHA-256 and RSA signatures (nettle, hogweed)
	nettle-dev libgmp-dev
	# lint
	cppcheck
	# schedules: CRC32C (ISA-L), BLAS for the device model's tensor engine,
	# numpy for the checkpoint generator and the reference implementation
	libisal-dev libopenblas-dev python3-numpy
)
# qemu-system-data: Debian's build of the option ROMs (linuxboot_dma.bin for
# -kernel boots, kvmvapic.bin) that the +ds source tarball does not carry.
BPO_PKGS=(meson python3-pycotap qemu-system-data)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
for p in "${BPO_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p/bookworm-backports")
done
# meson from bookworm itself is too old for QEMU 10: make sure it is the backport.
if dpkg --compare-versions "$(dpkg-query -W -f='${Version}' meson 2>/dev/null || echo 0)" lt 1.5; then
	missing+=("meson/bookworm-backports")
fi

if [ ${#missing[@]} -eq 0 ] && [ $NEED_UPDATE = 0 ]; then
	exit 0
fi
echo "host-deps: installing ${missing[*]}"
$SUDO apt-get update -q
[ ${#missing[@]} -eq 0 ] || $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
