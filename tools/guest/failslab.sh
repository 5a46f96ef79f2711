#!/bin/sh
# TAP: run NOP jobs while the kernel's failslab fails a share of the slab
# allocations made on behalf of those processes only (task-filter +
# /proc/PID/make-it-fail), so the driver's allocation paths (open, submit,
# scheduler entities, jobs, fences) hit -ENOMEM. Every run must end cleanly,
# with success or an error, never a crash; kmemleak and the kernel-log check
# that run afterwards catch leaks and warnings.
F=/sys/kernel/debug/failslab
BUDGET=400
echo "1..3"
if [ ! -d $F ]; then
	echo "not ok 1 failslab injected failures # no $F: kernel lacks FAILSLAB"
	echo "not ok 2 runs under failslab ended cleanly"
	echo "not ok 3 the card works after failslab"
	exit 1
fi
echo 0 > $F/verbose		# a stack per failure would flood the log
echo 1 > $F/task-filter
echo N > $F/ignore-gfp-wait	# GFP_KERNEL allocations are the ones we make
echo 25 > $F/probability
echo 0 > $F/interval
echo 0 > $F/space
echo $BUDGET > $F/times

ok=0 failed=0 crashed=0
i=0
while [ $i -lt 40 ]; do
	sh -c 'echo 1 > /proc/self/make-it-fail && exec lpu-run --nop -n 10 -q '$((i % 4)) \
		>/dev/null 2>&1
	rc=$?
	if [ $rc = 0 ]; then ok=$((ok + 1))
	elif [ $rc -lt 128 ]; then failed=$((failed + 1))
	else crashed=$((crashed + 1)); fi
	i=$((i + 1))
done
left=$(cat $F/times)
echo 0 > $F/probability
echo 0 > $F/times
injected=$((BUDGET - left))

if [ $injected -gt 0 ]; then
	echo "ok 1 failslab injected $injected allocation failures ($ok runs succeeded, $failed failed cleanly)"
else
	echo "not ok 1 failslab injected no allocation failure"
fi
if [ $crashed = 0 ]; then
	echo "ok 2 runs under failslab ended cleanly"
else
	echo "not ok 2 $crashed runs under failslab died from a signal"
fi
if lpu-run --nop -n 5 >/dev/null 2>&1; then
	echo "ok 3 the card works after failslab"
else
	echo "not ok 3 the card works after failslab"
fi
