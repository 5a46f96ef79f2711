#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: liblpu.so.0 has the right soname and exports exactly the functions
# declared in lpu.h, each versioned LPU_0.1, and nothing else.
set -u
so=$1
header=$2
n=0
fail=0

check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fail=1
	fi
}

readelf -d "$so" | grep -q 'Library soname: \[liblpu.so.0\]'
check $? "soname is liblpu.so.0"

exported=$(nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }' | sort)
bad=$(echo "$exported" | grep -v '^lpu_[a-z_]*@@LPU_0\.1$')
[ -z "$bad" ]
check $? "only lpu_*@@LPU_0.1 functions are exported${bad:+ (extra: $bad)}"

declared=$(sed -n 's/^[a-z].*[ *]\(lpu_[a-z_]*\)(.*/\1/p' "$header" | sort -u)
names=$(echo "$exported" | sed 's/@@.*//')
[ -n "$declared" ] && [ "$declared" = "$names" ]
check $? "exports match the functions declared in lpu.h"

echo "1..$n"
exit $fail
