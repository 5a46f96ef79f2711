#!/bin/sh
# TAP: after the tests, the kernel must have logged no oops, WARN, BUG,
# hang, stall, lockup, memory-safety or locking report, and carry no taint
# beyond the expected ones. lpu.ko is out of tree (O, bit 12) and unsigned
# on Debian's signed kernel (E, bit 13). POSIX sh: runs under busybox.
echo "1..2"

# kernel-report-patterns has one extended regular expression per report
# kind. Most reports also print "Call Trace", but not all: hung tasks print
# none when hung_task_all_cpu_backtrace is off, kmemleak and RCU stalls print
# their own formats, and "refcount_t:" or "list_add corruption" come before
# the WARNING line, which a short log buffer may have lost.
bad=$(dmesg | grep -E -f /opt/lpu/kernel-report-patterns | head -n 20)
if [ -z "$bad" ]; then
	echo "ok 1 kernel log has no oops, WARN, BUG, hang, stall, lockup or leak report"
else
	echo "not ok 1 kernel log has no oops, WARN, BUG, hang, stall, lockup or leak report"
	echo "$bad" | sed 's/^/# /'
	dmesg | tail -n 80 | sed 's/^/# /'
fi
taint=$(cat /proc/sys/kernel/tainted)
allowed=$(((1 << 12) | (1 << 13)))
if [ $((taint & ~allowed)) -eq 0 ]; then
	echo "ok 2 kernel taint $taint has no flag beyond O and E"
else
	echo "not ok 2 kernel taint $taint has flags beyond O and E ($((taint & ~allowed)))"
fi
