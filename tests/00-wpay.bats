#!/usr/bin/env bats
# The dispatcher: `wpay <program>` runs wpay-<program>.
# Uses no ledger of the engine under test: make check-pg leaves it out.

load helper

@test "wpay alone lists the programs, one line each" {
	run --separate-stderr wpay
	assert_success
	assert_line --regexp '^  init +create the ledger'
	assert_line --regexp '^  bind +users, wallets'
	assert_line --regexp '^  check +prove the ledger'
}

@test "wpay lists only programs that are installed beside it" {
	run --separate-stderr wpay
	for p in $(sed -n 's/^  \([a-z]*\) .*/\1/p' <<<"$output"); do
		[ -x "$WPAY_TEST_BIN/wpay-$p" ]
	done
}

@test "wpay bind -h runs wpay-bind" {
	run --separate-stderr wpay bind -h
	assert_success
	assert_output --partial "usage: wpay-bind"
}

@test "wpay passes arguments and exit status through" {
	run --separate-stderr wpay check
	assert_failure 66
	assert_equal "$stderr" "$(no_ledger_message wpay-check)"
}

@test "wpay with an unknown program says so and exits 64" {
	run --separate-stderr wpay frobnicate
	assert_failure 64
	assert_equal "$stderr" "wpay: 'frobnicate' is not a wpay program; run 'wpay' to list them"
}

@test "wpay refuses a path as a program name" {
	run --separate-stderr wpay ../../bin/sh
	assert_failure 64
}

@test "wpay --version" {
	run --separate-stderr wpay --version
	assert_success
	assert_output --regexp '^wpay [0-9]+\.[0-9]+\.[0-9]+$'
}
