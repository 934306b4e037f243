#!/usr/bin/env bats
# Concurrency, the short version of tests/lib/concurrency.sh (the full run
# lasts a minute; see README): pay, refund, settle and notify at once on one
# ledger, and every invariant holds.

load helper

@test "pay, refund, settle and notify at once: nothing twice, nothing over, the books balance, no busy failure" {
	run --separate-stderr env WPAY_WORK="$BATS_TEST_TMPDIR" bash "$BATS_TEST_DIRNAME/lib/concurrency.sh" 8
	[[ "$status" -eq 0 ]] || { echo "$stderr"; false; }
	[[ "$output" == *"ledger check ok"* ]]
}
