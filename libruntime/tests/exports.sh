#!/bin/sh
# SPDX-License-Identifier: MIT
# TAP: liblpu.so.0 has the right soname and exports exactly the functions
# declared in lpu.h, each with a version node of liblpu.map; the functions
# of LPU_0.1 keep that version (the ABI of older binaries), lpu_query@LPU_0.1
# as the compatibility version of lpu_query@@LPU_0.4.
set -u
so=$1
header=$2
map=$(dirname "$header")/liblpu.map
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
nodes="LPU_0.1 LPU_0.2 LPU_0.3 LPU_0.4"
# Default versions (@@), and the compatibility versions (@) that binaries
# built with an older lpu.h keep calling.
defaults=$(echo "$exported" | grep '@@')
compat=$(echo "$exported" | grep -v '@@')
bad=$(echo "$defaults" | grep -v '^lpu_[a-z_]*@@LPU_0\.[1234]$')
[ -z "$bad" ]
check $? "only lpu_*@@LPU_0.1 to LPU_0.4 functions are exported${bad:+ (extra: $bad)}"
[ "$compat" = "lpu_query@LPU_0.1" ]
rc=$?
check $rc "the one compatibility symbol is lpu_query@LPU_0.1 (struct lpu_info before 0.4)$([ $rc = 0 ] || echo " (found: $compat)")"

declared=$(sed -n 's/^[a-z].*[ *]\(lpu_[a-z_]*\)(.*/\1/p' "$header" | sort -u)
names=$(echo "$defaults" | sed 's/@@.*//')
[ -n "$declared" ] && [ "$declared" = "$names" ]
check $? "exports match the functions declared in lpu.h"

# Every name listed in a node of the map is exported with that node, as
# its default or as a compatibility version.
for node in $nodes; do
	want=$(awk -v n="$node" '$1 == n { on = 1; next }
		on && /^}/ { on = 0 } on && /;$/ && !/:/ && !/\*/ {
		sub(/;$/, "", $1); print $1 }' "$map" | sort)
	got=$(echo "$exported" | sed -n "s/@@*$node\$//p" | sort)
	[ -n "$want" ] && [ "$want" = "$got" ]
	check $? "the functions of $node keep version $node"
done

echo "1..$n"
exit $fail
