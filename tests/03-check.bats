#!/usr/bin/env bats
# wpay-check: the books hold, and it notices when they do not.

load helper

@test "check on an empty ledger holds" {
	init_ledger
	run --separate-stderr wpay-check
	assert_success
	assert_equal "$(jq -c '[.type, .ok, .transfers, .violations]' <<<"$output")" '["check",true,0,[]]'
}

@test "check holds after money moves, and counts per currency" {
	init_ledger
	buyer_ready
	wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
	run --separate-stderr wpay-check
	assert_success
	assert_equal "$(jq -c '[.ok, .transfers, .currencies.CNY.sum]' <<<"$output")" '[true,1,0]'
}

@test "check finds a balance changed behind the ledger's back and exits 65" {
	init_ledger
	buyer_ready
	wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
	sqlite3 "$WPAY_DB" "UPDATE accounts SET balance = balance + 1 WHERE kind = 'wallet'"
	run --separate-stderr wpay-check
	assert_failure 65
	assert_equal "$(jq -r .ok <<<"$output")" false
	assert_equal "$(jq -r '[.violations[].code] | sort | join(",")' <<<"$output")" "balance_mismatch,sum_not_zero"
	[[ "${stderr_lines[0]}" == "wpay-check: wallet:wal_"*" has balance 10001 but its transfers sum to 10000" ]]
	[[ "$stderr" == *"CNY balances sum to 1, not zero"* ]]
}

@test "the schema refuses a negative wallet and changing a transfer" {
	init_ledger
	buyer_ready
	wpay-bind wallet topup u:1001 --amount 1.00 --request-no t1 >/dev/null
	run sqlite3 "$WPAY_DB" "UPDATE accounts SET balance = -1 WHERE kind = 'wallet'"
	assert_failure
	assert_output --partial "CHECK constraint failed"
	run sqlite3 "$WPAY_DB" "UPDATE transfers SET amount = 1"
	assert_failure
	assert_output --partial "transfers are immutable"
	run sqlite3 "$WPAY_DB" "DELETE FROM transfers"
	assert_failure
	assert_ledger_ok
}

@test "check without a ledger exits 66" {
	run --separate-stderr wpay-check
	assert_failure 66
	assert_output ""
}

@test "check -h prints usage" {
	run --separate-stderr wpay-check -h
	assert_success
	assert_output "usage: wpay-check [--db path]"
	run --separate-stderr wpay-check extra
	assert_failure 64
}
