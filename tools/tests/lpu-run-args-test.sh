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
echo "1..12"
check "no job kind" 2 "usage:"
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
