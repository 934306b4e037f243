#!/usr/bin/env bats
# The README's main command runs, end to end, and leaves balanced books.

load helper

@test "the demo runs the loop on a throwaway ledger and the books balance" {
	# On PostgreSQL the demo's throwaway ledger is a database of its own.
	if db_is_pg; then
		WPAY_DEMO_DB=$(new_ledger demo)
		export WPAY_DEMO_DB
	fi
	run --separate-stderr sh tests/demo.sh "$WPAY_TEST_BIN"
	assert_success
	assert_equal "$(grep '"type":"check"' <<<"$output" | jq -r .ok)" true
	assert_equal "$(grep '"kind":"topup"' <<<"$output" | jq -r .id | uniq | wc -l)" 1
	assert_equal "$(grep '"type":"balance"' <<<"$output" | jq -r .balance | head -1)" 50000
	assert_equal "$(grep '"type":"payment"' <<<"$output" | jq -r .id | uniq | wc -l)" 1
	assert_equal "$(grep '"type":"payment"' <<<"$output" | jq -c '[.amount, .fee]' | head -1)" '[2500,15]'
	assert_equal "$(grep '"type":"refund"' <<<"$output" | jq -c '[.amount, .fee_returned]')" '[500,3]'
	assert_equal "$(grep '"type":"balance"' <<<"$output" | jq -r 'select(.wallet) | .balance' | tail -1)" $((50000 - 2500 + 500))
	[[ "$output" != *6222020200112345679* ]]
	assert_equal "$(grep '"type":"scan"' <<<"$output" | jq -c '[.checks.signature, .checks.crc, .merchant.amount]')" '["valid","ok",2500]'
	[[ "$output" == *"signature: valid"* ]]
	assert_equal "$(grep '"type":"settlement"' <<<"$output" | jq -c '[.mode, .net, .payout, .dry_run]' | sort -u)" \
		'["T0",1988,1988,null]
["T0",1988,1988,true]'
	assert_equal "$(grep '"type":"settlement"' <<<"$output" | grep -v dry_run | jq -r .id | uniq | wc -l)" 1
	[[ "$output" == *"m:cafe01,6222000011112222,19.88,CNY,stl_"* ]]
	assert_equal "$(grep '"type":"delivery"' <<<"$output" | jq -r .result | sort | uniq -c | tr -s ' ')" " 3 delivered"
	assert_equal "$(grep '"type":"verification"' <<<"$output" | jq -r .valid)" true
	ledger_absent
}
