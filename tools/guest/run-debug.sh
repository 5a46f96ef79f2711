#!/bin/sh
# The debug-kernel lane (make check-debug): every guest selftest, then
# failslab on the driver's allocation paths, a fixed budget of fuzzed ioctls,
# a kmemleak scan and a last look at the kernel log.
SUITE="sh /opt/lpu/tap-suite.sh"

# Boot-time objects are not ours to judge: forget them.
[ -e /sys/kernel/debug/kmemleak ] && echo clear > /sys/kernel/debug/kmemleak

sh /opt/lpu/run-selftests.sh
$SUITE debug-failslab sh /opt/lpu/failslab.sh
# make fuzz N runs longer; the seed is printed so any failure replays.
$SUITE debug-fuzz /opt/lpu/selftests/fuzz_lpu --calls 2500 --procs 4
$SUITE debug-kmemleak sh /opt/lpu/kmemleak-check.sh
$SUITE debug-kernel-log sh /opt/lpu/check-kernel-log.sh
