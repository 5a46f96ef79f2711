#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run every LPU selftest binary in order inside the guest, for manual use
# (tools/guest/run-selftests.sh is what `make check` runs). The destructive
# binary removes and reloads the card, so it runs last. Exit status is
# non-zero if any binary failed; each binary prints its own TAP.
dir=$(dirname "$0")
rc=0
for t in lpu_uapi lpu_jobs lpu_faults lpu_hotplug_destructive; do
	echo "# running $t"
	"$dir/$t" || rc=1
done
exit $rc
