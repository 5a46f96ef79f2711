#!/bin/bash
# Host test of lpu-run's command line: every bad argument is refused with
# exit status 2 and a message naming it, before any card is touched; good
# arguments get as far as opening the card (none on the host: status 1).
RUN=${1:?usage: lpu-run-args-test.sh PATH-TO-lpu-run}
n=0
check() { # name expected_rc expected_stderr_substring args...
	local name=$1 want_rc=$2 want_msg=$3 err rc
	shift 3
	n=$((n + 1))
	err=$("$RUN" "$@" 2>&1 >/dev/null)
	rc=$?
	if [ $rc = "$want_rc" ] && [[ $err == *"$want_msg"* ]]; then
		echo "ok $n $name"
	else
		echo "not ok $n $name (rc=$rc, stderr '$err')"
	fi
}
echo "1..29"
check "no job kind" 2 "usage:"
check "schedule and --nop" 2 "usage:" s.lpus --nop
check "two schedules" 2 "usage:" a.lpus b.lpus
check "schedule option without a schedule" 2 "usage:" --nop --repeat 2
check "input without '='" 2 "invalid --input 'x'" s.lpus --input x
check "input without a name" 2 "invalid --input '=x.npy'" s.lpus --input =x.npy
check "input without a file" 2 "invalid --input 'x='" s.lpus --input x=
check "input name too long" 2 "invalid --input" s.lpus --input "$(printf 'n%.0s' $(seq 60))=x.npy"
check "the same input twice" 2 "--input x given twice" s.lpus --input x=a.npy --input x=b.npy
check "17 inputs" 2 "more than 16 --input" s.lpus $(for i in $(seq 17); do echo --input i$i=f; done)
check "repeat 0" 2 "invalid repeat '0'" s.lpus --repeat 0
check "repeat no number" 2 "invalid repeat 'x'" s.lpus --repeat x
check "rtol without --compare" 2 "need --compare" s.lpus --rtol 1e-3
check "rtol and --exact" 2 "exclude each other" s.lpus --compare d --rtol 1e-3 --exact
check "negative rtol" 2 "invalid rtol '-1'" s.lpus --compare d --rtol -1
check "rtol no number" 2 "invalid rtol 'abc'" s.lpus --compare d --rtol abc
check "timeout above the limit" 2 "invalid timeout (ms) '60001'" s.lpus --timeout 60001
check "both job kinds" 2 "usage:" --nop --copy 4K
check "copy size 0" 2 "invalid size '0'" --copy 0
check "copy size with unknown suffix" 2 "invalid size '2G'" --copy 2G
check "copy size above 1 GiB" 2 "invalid size '1025M'" --copy 1025M
check "negative copy size" 2 "invalid size '-1K'" --copy -1K
check "copy size that is no number" 2 "invalid size 'abc'" --copy abc
check "copy size that overflows" 2 "invalid size '99999999999999999999'" --copy 99999999999999999999
check "bad queue" 2 "invalid queue 'x'" --nop -q x
check "nop cycles above the limit" 2 "invalid cycles" --nop -c 1000000001
check "good copy arguments reach the card" 1 "cannot open" --copy 64M -i 7
check "good nop arguments reach the card" 1 "cannot open" --nop -n 2 -i 7
check "good schedule arguments reach the card" 1 "cannot open" s.lpus --input x=x.npy --output-dir o --repeat 3 --compare r --rtol 1e-4 --timeout 1000 -i 7
