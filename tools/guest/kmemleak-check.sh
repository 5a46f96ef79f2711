#!/bin/sh
# TAP: ask kmemleak for a scan and fail with its report if it found any
# unreferenced object allocated since run-debug.sh cleared the boot-time ones.
K=/sys/kernel/debug/kmemleak
echo "1..1"
if [ ! -e $K ]; then
	echo "not ok 1 kmemleak found no leak # no $K: kernel lacks DEBUG_KMEMLEAK"
	exit 1
fi
# An object is reported once it was unreferenced in two scans and is older
# than kmemleak's minimum age (5 s).
echo scan > $K
sleep 6
echo scan > $K
report=$(cat $K)
echo "# kmemleak scan: $(echo "$report" | grep -c '^unreferenced object') unreferenced objects"
if [ -z "$report" ]; then
	echo "ok 1 kmemleak found no leak"
else
	echo "not ok 1 kmemleak found leaks"
	echo "$report" | sed 's/^/# /'
fi
