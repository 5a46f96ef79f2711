# shellcheck shell=bash
# TAP results for the host test scripts: source it, call ok/not_ok per
# result, and end with tap_done (the plan, then a failing status if any
# result failed).
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
tap_done() { echo "1..$n"; [ "$failed" = 0 ]; }
