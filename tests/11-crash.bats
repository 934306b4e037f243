#!/usr/bin/env bats
# Crash safety, the short version of tests/lib/crash.sh (the full one kills
# each program 100 times over 10,000 items; see README): SIGKILL at random
# moments, rerun, and everything is done exactly once.

load helper

@test "wpay-pay killed at random moments: every order paid exactly once" {
	run --separate-stderr env WPAY_WORK="$BATS_TEST_TMPDIR" bash "$BATS_TEST_DIRNAME/lib/crash.sh" pay 2000 10
	[ "$status" = 0 ] || echo "$stderr"
	assert_success
}

@test "wpay-refund killed at random moments: every refund made exactly once" {
	run --separate-stderr env WPAY_WORK="$BATS_TEST_TMPDIR" bash "$BATS_TEST_DIRNAME/lib/crash.sh" refund 1000 10
	[ "$status" = 0 ] || echo "$stderr"
	assert_success
}

@test "wpay-settle killed at random moments: every merchant settled exactly once" {
	run --separate-stderr env WPAY_WORK="$BATS_TEST_TMPDIR" bash "$BATS_TEST_DIRNAME/lib/crash.sh" settle 3000 10
	[ "$status" = 0 ] || echo "$stderr"
	assert_success
}
