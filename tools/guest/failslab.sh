#!/bin/sh
# TAP: the driver's allocation paths under the kernel's failslab. Injection
# is task-filtered, so only slab allocations made for failslab_lpu fail (it
# marks itself with /proc/self/make-it-fail): open, submit, scheduler
# entities, jobs and fences hit -ENOMEM a quarter of the time. kmemleak and
# the kernel-log check that run afterwards catch leaks and warnings.
F=/sys/kernel/debug/failslab
BUDGET=100000
if [ ! -d $F ]; then
	echo "1..1"
	echo "not ok 1 failslab available # no $F: kernel lacks FAILSLAB"
	exit 1
fi
echo 0 > $F/verbose		# a stack per failure would flood the log
echo 1 > $F/task-filter
echo N > $F/ignore-gfp-wait	# GFP_KERNEL allocations are the ones we make
echo 25 > $F/probability
echo 0 > $F/interval
echo 0 > $F/space
echo $BUDGET > $F/times

/opt/lpu/selftests/failslab_lpu
rc=$?
injected=$((BUDGET - $(cat $F/times)))
echo 0 > $F/probability
echo 0 > $F/times

# failslab_lpu printed 1..2; two more results follow, so restate the plan.
echo "1..2"
if [ $injected -gt 0 ]; then
	echo "ok 1 failslab injected $injected allocation failures"
else
	echo "not ok 1 failslab injected no allocation failure"
fi
if lpu-run --nop -n 5 >/dev/null 2>&1; then
	echo "ok 2 the card works after failslab"
else
	echo "not ok 2 the card works after failslab"
fi
exit $rc
