#!/bin/bash
# Unpack the few files we use from Debian's linux-source-6.12 (the kselftest
# harness, checkpatch) into $LPU_CACHE/linux-source/<package version>/ and
# print that directory. Nothing from the kernel tree is copied into the repo.
set -euo pipefail
CACHE=${LPU_CACHE:-/var/cache/lpu}
TARBALL=/usr/src/linux-source-6.12.tar.xz

if ! dpkg-query -W -f='${Status}' linux-source-6.12 2>/dev/null | grep -q 'ok installed'; then
	echo "fetch-kernel-source: installing linux-source-6.12" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends linux-source-6.12 >&2
fi
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
DIR=$CACHE/linux-source/$ver
if [ ! -f "$DIR/done" ]; then
	echo "fetch-kernel-source: unpacking kselftest harness and checkpatch from linux-source $ver" >&2
	rm -rf "$DIR" && mkdir -p "$DIR"
	tar -xf "$TARBALL" -C "$DIR" --strip-components=1 \
		linux-source-6.12/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.12/tools/testing/selftests/kselftest.h \
		linux-source-6.12/scripts/checkpatch.pl \
		linux-source-6.12/scripts/spelling.txt \
		linux-source-6.12/scripts/const_structs.checkpatch
	touch "$DIR/done"
fi
echo "$DIR"
