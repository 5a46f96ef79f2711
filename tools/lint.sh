#!/bin/bash
# `make lint`: static checks that CI runs. Every step prints its findings;
# the script fails if any step found something.
#   sparse (make C=2) on the driver            no warnings
#   checkpatch.pl --strict on driver/ uapi/ and userspace  no errors, warnings or checks
#   QEMU's checkpatch.pl on qemu-device/       no errors or warnings
#   cppcheck on the userspace C                no findings
#   pahole on the uapi structs                 no holes or padding
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
KVER=$(tools/fetch-kernel.sh --print) || exit 2
KSRC=$(tools/fetch-kernel-source.sh) || exit 2
QEMU_BIN=$(tools/build-qemu.sh --print-path) || exit 2
QSRC=$(dirname "$(dirname "$QEMU_BIN")")/src
failed=()

step() { echo "=== lint: $1"; }

step "sparse (make C=2) on driver/"
out=$(make -s -C "/lib/modules/$KVER/build" M="$TOP" C=2 modules 2>&1 |
	grep -E 'warning:|error:' || true)
if [ -n "$out" ]; then echo "$out"; failed+=(sparse); fi

step "checkpatch --strict on driver/ uapi/ and the userspace C"
cp_run() {
	"$KSRC/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
		--ignore SPDX_LICENSE_TAG,FILE_PATH_CHANGES "$@" 2>&1 |
		grep -E 'ERROR|WARNING|CHECK' | sed '$a\\' || true
}
# uapi headers cannot use BIT(): it does not exist for userspace. The
# selftests are userspace too: C99 fixed-width types, a volatile
# sig_atomic_t signal flag and libdrm's CamelCase API are right there.
out=$(cp_run -f $(git ls-files 'driver/*.[ch]'))
out+=$(cp_run --ignore BIT_MACRO -f $(git ls-files 'uapi/*.h' firmware/lpu_fw.h))
out+=$(cp_run --ignore PREFER_KERNEL_TYPES,VOLATILE,CAMELCASE -f $(git ls-files 'selftests/*.[ch]'))
# The rest of the userspace C (liblpu, the tools) follows kernel style as
# well; it has no __printf() and keeps user-visible strings on one line.
out+=$(cp_run --ignore PREFER_KERNEL_TYPES,VOLATILE,CAMELCASE,LONG_LINE_STRING,PREFER_DEFINED_ATTRIBUTE_MACRO \
	-f $(git ls-files 'libruntime/*.[ch]' 'tools/*.[ch]' 'firmware/lpu-fwpack/*.[ch]'))
if [ -n "$out" ]; then echo "$out"; failed+=(checkpatch); fi

# QEMU's checkpatch applies different rules to tests/ and hw/ paths, so it
# reads the copies that tools/build-qemu.sh placed in QEMU's tree.
step "QEMU checkpatch on qemu-device/"
out=$(for f in $(git ls-files 'qemu-device/*.[ch]' 'qemu-device/tests/*.c'); do
	case "$f" in
	qemu-device/tests/*) t=tests/qtest/$(basename "$f") ;;
	*) t=hw/misc/lpu-v3/$(basename "$f") ;;
	esac
	(cd "$QSRC" && scripts/checkpatch.pl --no-tree -f "$t" 2>&1) |
		grep -E '^(ERROR|WARNING)' | sed "s|^|$f: |"
done)
if [ -n "$out" ]; then echo "$out"; failed+=(qemu-checkpatch); fi

step "cppcheck on userspace"
out=$(cppcheck --quiet --std=c11 --enable=warning,performance,portability \
	--inline-suppr --error-exitcode=1 -D__x86_64__ -I uapi -I firmware -I libruntime \
	--suppress='unknownMacro:selftests/*' \
	libruntime tools/lpu-smi tools/lpu-bench tools/lpu-run tools/lpu-compile firmware \
	selftests 2>&1)
[ $? = 0 ] || { echo "$out"; failed+=(cppcheck); }

step "pahole: no holes or padding in uapi structs"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/uapi.c" <<'EOC'
#include <drm/lpu_accel.h>
#include <lpu_hw.h>
#include <lpu_schedule.h>
#include <lpu_fw.h>
struct drm_lpu_info a1; struct drm_lpu_submit a2; struct drm_lpu_wait a3;
struct drm_lpu_copy a4; struct drm_lpu_exec a5; struct drm_lpu_bo_create a6;
struct drm_lpu_bo_info a7; struct drm_lpu_bo_wait a8;
union lpu_desc b1; struct lpu_fence_record b2; struct lpu_segment b3;
struct lpu_insn b4; struct lpu_exec_stats b5; struct lpu_cost b6;
struct lpu_sched_header c1; struct lpu_sched_section c2;
struct lpu_sched_manifest c3; struct lpu_sched_slot c4;
struct lpu_sched_tensor c5; struct lpu_sched_io c6;
struct lpu_fw_header d1; struct lpu_fw_section d2; struct lpu_fw_cost d3;
struct lpu_fw_engine d4; struct lpu_fw_thermal d5;
EOC
gcc -g -c -I uapi -I firmware $(pkg-config --cflags libdrm) -o "$tmp/uapi.o" "$tmp/uapi.c"
out=$(pahole "$tmp/uapi.o" | grep -B30 -E 'XXX|padding:' | grep -E '^(struct|union)|XXX|padding:' || true)
if [ -n "$out" ]; then echo "$out"; failed+=(pahole); fi

if [ ${#failed[@]} -gt 0 ]; then
	echo "lint: FAILED: ${failed[*]}"
	exit 1
fi
echo "lint: clean"
