#!/bin/bash
# `make fuzz`: run the seeded ioctl fuzzer (selftests/lpu/fuzz_lpu.c) in a
# guest, then the kernel-log check; on the debug kernel if it is built.
# LPU_FUZZ_ARGS carries the fuzzer's options (--calls, --seed, --procs).
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
CMD="sh /opt/lpu/tap-suite.sh fuzz /opt/lpu/selftests/fuzz_lpu ${LPU_FUZZ_ARGS:-}; sh /opt/lpu/tap-suite.sh fuzz-kernel-log sh /opt/lpu/check-kernel-log.sh"
# Long runs on a KASAN + lockdep kernel under TCG are slow, not hung.
if "$TOP/tools/build-debug-kernel.sh" --print-path >/dev/null 2>&1; then
	LPU_DEBUG_CMD=$CMD GUEST_TIMEOUT=${GUEST_TIMEOUT:-7200} \
		exec "$TOP/tools/check-debug.sh" --if-cached
fi
echo "# debug kernel not built: fuzzing on Debian's kernel (no KASAN/lockdep)"
"$TOP/tools/vm-run.sh" --timeout "${GUEST_TIMEOUT:-7200}" --log "$BUILD/guest/fuzz.log" --cmd "$CMD"
"$TOP/tools/vm-suite.sh" fuzz-vm $? "$BUILD/guest/fuzz.log"
