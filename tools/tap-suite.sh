#!/bin/bash
# Run one test suite for `make check`, framed for tools/tap-summary.awk.
#   tools/tap-suite.sh NAME COMMAND [ARGS...]
name=$1
shift
echo "# LPU-SUITE $name"
"$@" 2>&1
rc=$?
echo "# LPU-SUITE-END $name rc=$rc"
exit 0
