#!/bin/bash
# The host's own verdict on a guest run, as a suite for tools/tap-summary.awk:
# did the guest finish, and did the kernel console (the second serial port,
# which reaches the host even if the guest hangs right after a report) stay
# free of oops, WARN, BUG, KASAN, UBSAN, lockdep and hung-task reports?
# VM_RUN_STATUS is tools/vm-run.sh's exit status.
#   tools/vm-suite.sh NAME VM_RUN_STATUS CONSOLE_LOG
name=$1 rc=$2 log=$3
TOP=$(cd "$(dirname "$0")/.." && pwd)
echo "# LPU-SUITE $name"
echo "1..2"
# The guest commands end with tap-suite.sh, which exits 0: any other status
# means the guest never ran them (124 hung or panicked, 125 init could not
# load the driver, 2 vm-run found no kernel, QEMU or initramfs).
if [ "$rc" = 0 ]; then
	echo "ok 1 guest booted and finished"
else
	echo "not ok 1 guest booted and finished (exit $rc; see $log)"
fi
if [ ! -f "$log.kernel" ]; then
	echo "not ok 2 kernel console has no oops, WARN, BUG, KASAN, UBSAN, lockdep or hang report (no console log $log.kernel)"
	echo "# LPU-SUITE-END $name rc=0"
	exit 0
fi
bad=$(tr -d '\r' <"$log.kernel" | grep -E -f "$TOP/tools/guest/kernel-report-patterns" | head -n 20)
if [ -z "$bad" ]; then
	echo "ok 2 kernel console has no oops, WARN, BUG, KASAN, UBSAN, lockdep or hang report"
else
	echo "not ok 2 kernel console has no oops, WARN, BUG, KASAN, UBSAN, lockdep or hang report"
	printf '%s\n' "$bad" | sed 's/^/# /'
	echo "# (full kernel console: $log.kernel)"
fi
echo "# LPU-SUITE-END $name rc=0"
