#!/bin/bash
# The firmware boot-timeout lane: a guest of its own whose card never
# leaves BOOTING (lpu-v3 property x-fw-boot-hang=on), booted without
# lpu.ko. In the guest, fwhang_lpu loads the driver and checks that probe
# gives up after fw_boot_timeout_ms with its one line, binds nothing and
# unloads; then the kernel log is checked. Prints framed TAP suites for
# tools/tap-summary.awk, like `make check-guest`.
#   tools/check-fw-hang.sh
# GUEST_TIMEOUT (default 600) bounds the boot; LPU_CACHE as for vm-run.sh.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
LOG=$TOP/build/guest/check-fw-hang.log
TIMEOUT=${GUEST_TIMEOUT:-600}
SUITE="sh /opt/lpu/tap-suite.sh"

# The DRM modules lpu.ko needs are loaded in the suite itself: if that
# fails, the suite fails instead of vanishing from the summary.
"$TOP/tools/vm-run.sh" --timeout "$TIMEOUT" --no-insmod \
	--device-args ',x-fw-boot-hang=on' --log "$LOG" \
	--cmd "$SUITE guest-fw-hang sh -c 'modprobe -a \$(cat /opt/lpu/module-deps) && /opt/lpu/selftests/fwhang_lpu'
$SUITE guest-fw-hang-kernel-log sh /opt/lpu/check-kernel-log.sh"
"$TOP/tools/vm-suite.sh" fw-hang-vm $? "$LOG"
