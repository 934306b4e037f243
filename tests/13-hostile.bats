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
	before=$(hostile_digest)
	rows=0 failed=0
	while IFS=$'\t' read -r cmd input want_code want_status what; do
		[[ "$cmd" == "#"* ]] && continue
		rows=$((rows + 1))
		hostile_run "$dir" "$cmd" "$input"
		after=$(hostile_digest)
		problem=""
		[ "$code" = "$want_code" ] || problem="code $code, not $want_code"
		[ "$status" = "$want_status" ] || problem="$problem; status $status, not $want_status"
		[ -n "$err" ] || problem="$problem; nothing on standard error"
		[ "$after" = "$before" ] || problem="$problem; the ledger changed"
		if [ -n "$problem" ]; then
			failed=$((failed + 1))
			echo "row $rows ($what): $problem: $err" | head -c 400
			echo
			before=$after
		fi
		# Wrong PINs count toward a lock; each row starts from none (u:1003 stays locked).
		db_sql "UPDATE wallets SET pin_failures = 0, locked_until = NULL WHERE login <> '1003@example.com'"
	done <"$BATS_TEST_DIRNAME/hostile.tsv"
	echo "$rows hostile inputs, $failed not as the table says"
	[ "$rows" -ge 200 ]
	[ "$failed" -eq 0 ]
}
