#!/bin/bash
# `make fuzz`: run the seeded ioctl fuzzer (selftests/lpu/fuzz_lpu.c) in a
# guest, then the kernel-log check; on the debug kernel if it is built.
# LPU_FUZZ_ARGS carries the fuzzer's options (--calls, --seed, --procs).
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
CMD="sh /opt/lpu/tap-suite.sh fuzz /opt/lpu/selftests/fuzz_lpu ${LPU_FUZZ_ARGS:-}; sh /opt/lpu/tap-suite.sh fuzz-kernel-log sh /opt/lpu/check-kernel-log.sh"
if DK=$("$TOP/tools/build-debug-kernel.sh" --print-path 2>/dev/null); then
	LPU_DEBUG_CMD=$CMD exec "$TOP/tools/check-debug.sh" --if-cached
fi
echo "# debug kernel not built: fuzzing on Debian's kernel (no KASAN/lockdep)"
"$TOP/tools/vm-run.sh" --timeout 3600 --log "$BUILD/guest/fuzz.log" --cmd "$CMD"
