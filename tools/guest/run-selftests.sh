#!/bin/sh
# Run every guest selftest, each framed as a suite for tools/tap-summary.awk,
# then check the kernel log and taint flags. Tests that unbind or unload the
# driver are named lpu_*_destructive* and run last.
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
