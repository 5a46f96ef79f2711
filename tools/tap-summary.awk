# Count TAP results across the suites `make check` runs, echo every line,
# and end with "N passed, N failed".
#
# Suites are delimited by "# LPU-SUITE <name>" and
# "# LPU-SUITE-END <name> rc=<status>" (printed by tools/tap-suite.sh and
# by the guest's test script). Only top-level result lines count; a suite
# that reports fewer results than its plan, exits non-zero without a failed
# result, or never ends (a crashed or hung run) is charged with a failure,
# so a broken run can never look green. Exit status: 0 only if something
# passed and nothing failed.

function fail_suite(why) {
	printf "not ok - %s: %s\n", suite, why
	failed++
}

function end_suite(rc) {
	if (plan >= 0 && seen < plan)
		fail_suite(sprintf("%d of %d planned results missing", plan - seen, plan))
	else if (plan >= 0 && seen > plan)
		fail_suite(sprintf("%d results but only %d planned", seen, plan))
	else if (plan < 0 && seen == 0)
		fail_suite("ran no test")
	if (rc != 0 && suite_failed == 0)
		fail_suite(sprintf("exited with status %d", rc))
	suite = ""
}

BEGIN { passed = 0; failed = 0; skipped = 0; suite = "" }

{ print; fflush() }

/^# LPU-SUITE-END / {
	if (suite != "") {
		rc = $0
		sub(/.* rc=/, "", rc)
		end_suite(rc + 0)
	}
	next
}

/^# LPU-SUITE / {
	if (suite != "")
		fail_suite("did not finish")
	suite = $3
	plan = -1
	seen = 0
	suite_failed = 0
	next
}

# A suite may run several TAP producers in a row; their plans add up.
suite != "" && /^1\.\.[0-9]+/ {
	plan = (plan < 0 ? 0 : plan) + substr($1, 4)
	next
}

suite != "" && /^ok [0-9]+/ {
	seen++
	if ($0 ~ /# *[Ss][Kk][Ii][Pp]/)
		skipped++
	else
		passed++
	next
}

suite != "" && /^not ok [0-9]+/ {
	seen++
	if ($0 ~ /# *TODO/) {
		skipped++
	} else {
		failed++
		suite_failed++
	}
	next
}

END {
	if (suite != "")
		fail_suite("did not finish")
	if (skipped)
		printf "# %d skipped\n", skipped
	printf "%d passed, %d failed\n", passed, failed
	exit (failed == 0 && passed > 0) ? 0 : 1
}
