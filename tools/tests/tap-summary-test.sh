#!/bin/bash
# Host test of tools/tap-summary.awk: the counter that decides whether
# `make check` is green must not be fooled by missing, crashed or empty suites.
AWK=$(dirname "$0")/../tap-summary.awk
n=0
check() { # name expected_last_line expected_rc input
	local out rc last
	n=$((n + 1))
	out=$(printf "$4" | awk -f "$AWK")
	rc=$?
	last=$(printf '%s\n' "$out" | tail -n 1)
	if [ "$last" = "$2" ] && [ $rc = "$3" ]; then
		echo "ok $n $1"
	else
		echo "not ok $n $1 (got '$last' rc=$rc)"
	fi
}
echo "1..9"
check "all pass" "2 passed, 0 failed" 0 '# LPU-SUITE a\n1..2\nok 1 x\nok 2 y\n# LPU-SUITE-END a rc=0\n'
check "a failure fails" "1 passed, 1 failed" 1 '# LPU-SUITE a\n1..2\nok 1 x\nnot ok 2 y\n# LPU-SUITE-END a rc=1\n'
check "missing planned results fail" "2 passed, 1 failed" 1 '# LPU-SUITE a\n1..3\nok 1 x\nok 2 y\n# LPU-SUITE-END a rc=0\n'
check "more results than planned fail" "3 passed, 1 failed" 1 '# LPU-SUITE a\n1..2\nok 1 x\nok 2 y\nok 3 z\n# LPU-SUITE-END a rc=0\n'
check "non-zero exit without a failure fails" "1 passed, 1 failed" 1 '# LPU-SUITE a\n1..1\nok 1 x\n# LPU-SUITE-END a rc=2\n'
check "a suite that never ends fails" "1 passed, 1 failed" 1 '# LPU-SUITE a\n1..1\nok 1 x\n'
check "no test at all fails" "0 passed, 1 failed" 1 '# LPU-SUITE a\n# LPU-SUITE-END a rc=0\n'
check "skips are not passes" "1 passed, 0 failed" 0 '# LPU-SUITE a\n1..2\nok 1 x\nok 2 y # SKIP no card\n# LPU-SUITE-END a rc=0\n'
check "plans of several producers add up" "3 passed, 1 failed" 1 '# LPU-SUITE a\n1..2\nok 1 x\nok 2 y\n1..2\nok 1 z\n# LPU-SUITE-END a rc=0\n'
