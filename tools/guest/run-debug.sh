#!/bin/sh
# The debug-kernel lane (make check-debug): every guest selftest, then
# failslab on the driver's allocation paths, then a kmemleak scan and a last
# look at the kernel log. Each part is a suite for tools/tap-summary.awk.
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

# Boot-time objects are not ours to judge: forget them.
[ -e /sys/kernel/debug/kmemleak ] && echo clear > /sys/kernel/debug/kmemleak

sh /opt/lpu/run-selftests.sh || rc_all=1
run_suite debug-failslab sh /opt/lpu/failslab.sh
# A fixed budget of fuzzed calls (make fuzz N runs longer); the seed is
# printed so any failure replays.
run_suite debug-fuzz /opt/lpu/selftests/fuzz_lpu --calls 2500 --procs 4
run_suite debug-kmemleak sh /opt/lpu/kmemleak-check.sh
run_suite debug-kernel-log sh /opt/lpu/check-kernel-log.sh
exit $rc_all
