#!/bin/sh
# TAP: after the tests, the kernel must have logged no oops, WARN or BUG and
# carry no taint beyond the expected ones. lpu.ko is out of tree (O, bit 12)
# and unsigned on Debian's signed kernel (E, bit 13).
echo "1..2"
bad=$(dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace|general protection|UBSAN|KASAN' | head -n 20)
if [ -z "$bad" ]; then
	echo "ok 1 kernel log has no oops, WARN, BUG or call trace"
else
	echo "not ok 1 kernel log has no oops, WARN, BUG or call trace"
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
