#!/bin/sh
# Run every guest selftest, each framed as a suite for tools/tap-summary.awk,
# then check the kernel log and taint flags. Tests that unbind or unload the
# driver are named lpu_*_destructive* and run last (lpu_fw_destructive, the
# firmware variants, before lpu_hotplug_destructive: glob order). The boot
# timeout needs a card of its own (tools/check-fw-hang.sh runs fwhang_lpu).
T=/opt/lpu/selftests
SUITE="sh /opt/lpu/tap-suite.sh"

for t in "$T"/lpu_*; do
	case "$t" in *destructive*) continue ;; esac
	[ -x "$t" ] && $SUITE "guest-$(basename "$t")" "$t"
done
for t in "$T"/lpu_*destructive*; do
	[ -x "$t" ] && $SUITE "guest-$(basename "$t")" "$t"
done
$SUITE guest-kernel-log sh /opt/lpu/check-kernel-log.sh
