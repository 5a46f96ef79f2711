#!/bin/sh
# Run one test suite, framed for tools/tap-summary.awk, which judges it by
# its TAP output and its exit status (so this script always exits 0).
# Used by `make check` on the host and by the guest scripts (busybox sh).
#   tools/tap-suite.sh NAME COMMAND [ARGS...]
name=$1
shift
echo "# LPU-SUITE $name"
"$@" 2>&1
echo "# LPU-SUITE-END $name rc=$?"
