#!/usr/bin/env bats
# Hostile input across every program: each row of tests/hostile.tsv is
# refused with its error code and exit status, and the ledger does not
# change. See tests/lib/hostile.bash for the table's placeholders.

load helper
load lib/hostile

@test "every hostile input of tests/hostile.tsv is refused as the table says, and the ledger never changes" {
	dir="$BATS_TEST_TMPDIR/h"
	mkdir -p "$dir"
	init_ledger
	hostile_fixture "$dir"
	untraced hostile_table "$dir"
}
