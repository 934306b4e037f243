#!/usr/bin/env bats
# wpay-refund: partial and full refunds, back to the source, fees pro rata.

load helper

setup() {
	wpay_setup
	shop_ready
	wpay-order create cafe01 o1 --amount 25.00 | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null
}

@test "partial refunds up to the amount paid; the fee comes back pro rata; a full refund closes the order" {
	run --separate-stderr wpay-refund cafe01 o1 r1 --amount 5.00 --reason "broken cup"
	assert_success
	assert_equal "$(jq -c '[.type, .amount, .fee_returned, .from, .reason, .out_request_no]' <<<"$output")" \
		'["refund",500,3,"pending","broken cup","r1"]'
	[[ "$(jq -r .to <<<"$output")" == wallet:wal_* ]]
	assert_equal "$(wpay-bind wallet balance u:1001 | jq -r .balance)" 8000
	assert_equal "$(wpay-order query cafe01 o1 | jq -c '[.state, .refunded]')" '["paid",500]'
	run --separate-stderr wpay-refund cafe01 o1 r2 --amount 20.01
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" over_refund
	assert_equal "$stderr" "wpay-refund: order $(wpay-order query cafe01 o1 | jq -r .id) has 20.00 CNY left to refund, not 20.01"
	run --separate-stderr wpay-refund cafe01 o1 r2 --amount 20.00
	assert_success
	assert_equal "$(jq -r .fee_returned <<<"$output")" 12
	assert_equal "$(wpay-order query cafe01 o1 | jq -c '[.state, .refunded, .close_reason]')" '["closed",2500,"refunded"]'
	assert_equal "$(wpay-bind wallet balance u:1001 | jq -r .balance)" 10000
	assert_equal "$(wpay-bind merchant balance cafe01 | jq -r .pending)" 0
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = 'fees:CNY'")" 0
	run --separate-stderr wpay-refund cafe01 o1 r3 --amount 0.01
	assert_equal "$(jq -r .code <<<"$output")" fully_refunded
	assert_equal "$(db_sql "SELECT COUNT(*) FROM events WHERE kind = 'order.refunded'")" 2
	assert_ledger_ok
}

@test "a refund is idempotent by out_request_no" {
	first=$(wpay-refund cafe01 o1 r1 --amount 5.00)
	before=$(ledger_digest)
	run --separate-stderr wpay-refund cafe01 o1 r1 --amount 5.00
	assert_success
	assert_equal "$output" "$first"
	assert_equal "$(ledger_digest)" "$before"
	run --separate-stderr wpay-refund cafe01 o1 r1 --amount 6.00
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" idempotency_conflict
	assert_equal "$(ledger_digest)" "$before"
}

@test "a card payment is refunded to the card" {
	wpay-order create cafe01 o2 --amount 30.00 | wpay-pay --buyer u:1001 --source card --pin-fd 3 3<<<135790 >/dev/null
	run --separate-stderr wpay-refund cafe01 o2 r1 --amount 30.00
	assert_success
	[[ "$(jq -r .to <<<"$output")" == card:card_* ]]
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE kind = 'card'")" -10000
	assert_ledger_ok
}

@test "unpaid, unknown and finished orders cannot be refunded; bad requests change nothing" {
	wpay-order create cafe01 unpaid --amount 1.00 >/dev/null
	before=$(ledger_digest)
	run --separate-stderr wpay-refund cafe01 unpaid r1 --amount 1.00
	assert_equal "$(jq -r .code <<<"$output")" not_paid
	run --separate-stderr wpay-refund cafe01 nope r1 --amount 1.00
	assert_equal "$(jq -r .code <<<"$output")" not_found
	for req in '{"merchant":"cafe01","out_trade_no":"o1","out_request_no":"bad no","amount":1}' \
		'{"merchant":"cafe01","out_trade_no":"o1","out_request_no":"r","amount":0}' \
		'{"merchant":"cafe01","out_trade_no":"o1","out_request_no":"r","amount":"1"}' \
		'{"merchant":"cafe01","out_trade_no":"o1","amount":1}' \
		'{"merchant":"cafe01","out_trade_no":"o1","out_request_no":"r","amount":9223372036854775807}'; do
		run --separate-stderr wpay-refund <<<"$req"
		assert_failure 1
	done
	assert_equal "$(ledger_digest)" "$before"
	wpay-init --refund-window 30 >/dev/null
	export WPAY_NOW=2026-12-22T08:00:01Z
	run --separate-stderr wpay-order expire
	assert_equal "$(jq -r .finished <<<"$output")" 1
	run --separate-stderr wpay-refund cafe01 o1 r1 --amount 1.00
	assert_equal "$(jq -r .code <<<"$output")" refund_window_over
	run --separate-stderr wpay-refund cafe01 o1
	assert_failure 64
}

@test "after settlement a T0 merchant's refund comes from its deposit" {
	wpay-bind merchant deposit cafe01 --amount 20000.00 --request-no d1 >/dev/null
	wpay-bind merchant update cafe01 --kind enterprise --verified --settlement T0 >/dev/null
	db_sql "UPDATE payments SET settlement_id = 'stl_test'"
	run --separate-stderr wpay-refund cafe01 o1 r1 --amount 5.00
	assert_success
	assert_equal "$(jq -r .from <<<"$output")" deposit
	assert_equal "$(wpay-bind merchant balance cafe01 | jq -r .deposit)" $((2000000 - 500 + 3))
	assert_ledger_ok
}

@test "attack: the refund window holds without 'wpay order expire' (issue 10, M1)" {
	wpay-init --refund-window 1 >/dev/null
	wpay-refund cafe01 o1 r1 --amount 5.00 >/dev/null
	first=$(wpay-refund cafe01 o1 r1 --amount 5.00)
	export WPAY_NOW=2027-02-20T08:00:00Z # 90 days on; nobody ran 'wpay order expire'
	before=$(ledger_digest)
	run --separate-stderr wpay-refund cafe01 o1 r2 --amount 5.00
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" refund_window_over
	assert_equal "$stderr" "wpay-refund: order $(wpay-order query cafe01 o1 | jq -r .id) was paid at 2026-11-22T08:00:00Z, past the refund window of 1 days"
	# A replay of the earlier refund still answers it.
	run --separate-stderr wpay-refund cafe01 o1 r1 --amount 5.00
	assert_success
	assert_equal "$output" "$first"
	assert_equal "$(ledger_digest)" "$before"
	# The window is a day: a day less a second after the payment, a refund goes through.
	export WPAY_NOW=2026-11-23T07:59:59Z
	run --separate-stderr wpay-refund cafe01 o1 r3 --amount 1.00
	assert_success
	export WPAY_NOW=2026-11-23T08:00:00Z
	run --separate-stderr wpay-refund cafe01 o1 r4 --amount 1.00
	assert_equal "$(jq -r .code <<<"$output")" refund_window_over
	assert_ledger_ok
}
