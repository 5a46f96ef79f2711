#!/bin/sh
# Run every guest selftest, each framed as a suite for tools/tap-summary.awk,
# then check the kernel log and taint flags. Tests that unbind or unload the
# driver are named lpu_*_destructive* and run last.
T=/opt/lpu/selftests
rc_all=0

run_suite() {
	name=$1
	shift
	echo "# LPU-SUITE $name"
	"$@" 2>&1
	rc=$?
	echo "# LPU-SUITE-END $name rc=$rc"
	[ $rc = 0 ] || rc_all=1
}

for t in "$T"/lpu_*; do
	case "$t" in *destructive*) continue ;; esac
	[ -x "$t" ] && run_suite "guest-$(basename "$t")" "$t"
done
for t in "$T"/lpu_*destructive*; do
	[ -x "$t" ] && run_suite "guest-$(basename "$t")" "$t"
done
run_suite guest-kernel-log sh /opt/lpu/check-kernel-log.sh
exit $rc_all
