#!/bin/bash
# Make sure Debian's newest 6.12 kernel image and its headers are installed,
# and print its version (e.g. 6.12.117+deb12-amd64). The guest boots that
# image and lpu.ko is built against those headers.
#   --print   only print the newest installed version, install nothing
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

installed() {
	ls -d /lib/modules/6.12.*+deb12-amd64/build 2>/dev/null |
		sed 's|/lib/modules/||; s|/build||' | sort -V | tail -n 1
}

if [ "${1:-}" = --print ]; then
	v=$(installed)
	[ -n "$v" ] || { echo "fetch-kernel: no 6.12 kernel installed, run tools/fetch-kernel.sh" >&2; exit 1; }
	echo "$v"
	exit 0
fi

newest=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' |
	awk '{print $1}' | sed 's/^linux-image-//' | sort -V | tail -n 1)
if [ -z "$newest" ]; then
	echo "fetch-kernel: apt knows no linux-image-6.12.*+deb12-amd64; is bookworm-security in the sources and 'apt-get update' done?" >&2
	exit 1
fi
if [ ! -e "/boot/vmlinuz-$newest" ] || [ ! -d "/lib/modules/$newest/build" ]; then
	echo "fetch-kernel: installing linux-image-$newest and linux-headers-$newest" >&2
	apt-get install -y -q --no-install-recommends \
		"linux-image-$newest" "linux-headers-$newest" >&2
fi
echo "$newest"
