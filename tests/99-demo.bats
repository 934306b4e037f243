#!/usr/bin/env bats
# The README's main command runs, end to end, and leaves balanced books.

load helper

@test "the demo runs the loop on a throwaway ledger and the books balance" {
	run --separate-stderr sh tests/demo.sh "$WPAY_TEST_BIN"
	assert_success
	assert_equal "$(grep '"type":"check"' <<<"$output" | jq -r .ok)" true
	assert_equal "$(grep '"kind":"topup"' <<<"$output" | jq -r .id | uniq | wc -l)" 1
	assert_equal "$(grep '"type":"balance"' <<<"$output" | jq -r .balance | head -1)" 50000
	assert_equal "$(grep '"type":"payment"' <<<"$output" | jq -r .id | uniq | wc -l)" 1
	assert_equal "$(grep '"type":"payment"' <<<"$output" | jq -c '[.amount, .fee]' | head -1)" '[2500,15]'
	assert_equal "$(grep '"type":"refund"' <<<"$output" | jq -c '[.amount, .fee_returned]')" '[500,3]'
	assert_equal "$(grep '"type":"balance"' <<<"$output" | jq -r .balance | tail -1)" $((50000 - 2500 + 500))
	[[ "$output" != *6222020200112345679* ]]
	assert_equal "$(grep '"type":"scan"' <<<"$output" | jq -c '[.checks.signature, .checks.crc, .merchant.amount]')" '["valid","ok",2500]'
	[[ "$output" == *"signature: valid"* ]]
	[ ! -e "$WPAY_DB" ]
}
