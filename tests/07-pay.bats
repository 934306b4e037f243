#!/usr/bin/env bats
# wpay-pay: payments as atomic ledger groups, PINs, idempotency, the loop.

load helper

setup() {
	wpay_setup
	shop_ready
}

order() { # order OUT_TRADE_NO AMOUNT [extra create args]
	wpay-order create cafe01 "$@" | jq -c .
}

@test "pay from the wallet: the amount to the merchant, the fee to the platform, an event queued" {
	o=$(order o1 --amount 25.00)
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <<<"$o"
	assert_success
	assert_equal "$(jq -c '[.type, .amount, .fee, .currency, .buyer, .out_trade_no]' <<<"$output")" '["payment",2500,15,"CNY","u:1001","o1"]'
	[[ "$(jq -r .source <<<"$output")" == wallet:wal_* ]]
	assert_equal "$(wpay-bind wallet balance u:1001 | jq -r .balance)" 7500
	assert_equal "$(wpay-bind merchant balance cafe01 | jq -r .pending)" 2485
	assert_equal "$(wpay-order query cafe01 o1 | jq -r .state)" paid
	assert_equal "$(db_sql "SELECT kind FROM events WHERE kind LIKE 'order.%'")" order.paid
	assert_equal "$(db_sql "SELECT body FROM events WHERE kind = 'order.paid'" | jq -c '[.amount, .fee]')" "[2500,15]"
	assert_ledger_ok
}

@test "paying a paid order answers the first payment and moves nothing" {
	o=$(order o1 --amount 25.00)
	first=$(wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <<<"$o")
	before=$(ledger_digest)
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <<<"$o"
	assert_success
	assert_equal "$output" "$first"
	assert_equal "$(ledger_digest)" "$before"
}

@test "the fee is the merchant's rate, rounded half up" {
	wpay-bind merchant update cafe01 --fee-rate 0.38% >/dev/null
	for pair in 100:0 131:0 132:1 263:1 264:1 1000000:3800; do
		amount=${pair%:*} want=${pair#*:}
		o=$(wpay-order create cafe01 "f$amount" --amount "$(printf '%d.%02d' $((amount / 100)) $((amount % 100)))")
		run --separate-stderr wpay-pay --buyer u:1001 --source card --pin-fd 3 3<<<135790 <<<"$o"
		assert_success
		[ "$(jq -r .fee <<<"$output")" = "$want" ] || { echo "fee of $amount: $(jq -r .fee <<<"$output"), want $want"; false; }
	done
	assert_ledger_ok
}

@test "wrong PINs are counted and lock the wallet; the lock ends; a right PIN is needed" {
	o=$(order o1 --amount 1.00)
	before=$(ledger_digest)
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<000000 <<<"$o"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" pin_wrong
	[[ "$stderr" == *"2 tries left"* ]]
	wpay-pay --buyer u:1001 --pin-fd 3 3<<<000001 <<<"$o" >/dev/null || true
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<000002 <<<"$o"
	assert_equal "$(jq -r .code <<<"$output")" pin_locked
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <<<"$o"
	assert_equal "$(jq -r .code <<<"$output")" pin_locked
	[[ "$stderr" == *"until 2026-11-22T11:00:00Z"* ]]
	assert_equal "$(wpay-bind wallet balance u:1001 | jq -r .balance)" 10000
	export WPAY_NOW=2026-11-22T09:59:00Z
	o2=$(order o2 --amount 1.00)
	export WPAY_NOW=2026-11-22T11:00:00Z
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <<<"$o"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" order_expired
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <<<"$o2"
	assert_success
	assert_ledger_ok
}

@test "PINs never come from records; no PIN source is an error" {
	o=$(order o1 --amount 1.00)
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <<<"$(jq -c '. + {pin: "135790"}' <<<"$o")"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3</dev/null <<<"$o"
	assert_equal "$(jq -r .code <<<"$output")" no_secret
	run --separate-stderr wpay-pay --pin-fd 9 <<<"$o"
	assert_failure 64
}

@test "one PIN for a batch by one buyer; --pin-each reads one per record" {
	for i in 1 2 3; do order "b$i" --amount 1.00; done >"$BATS_TEST_TMPDIR/orders"
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <"$BATS_TEST_TMPDIR/orders"
	assert_success
	assert_equal "${#lines[@]}" 3
	for i in 4 5; do order "b$i" --amount 1.00; done >"$BATS_TEST_TMPDIR/more"
	run --separate-stderr wpay-pay --buyer u:1001 --pin-each --pin-fd 3 3< <(printf '135790\n999999\n') <"$BATS_TEST_TMPDIR/more"
	assert_failure 1
	assert_equal "$(jq -r '.type' <<<"$output" | paste -sd,)" "payment,error"
}

@test "sources: the default card, a named card; a wallet never goes below zero" {
	o=$(order big --amount 500.00)
	before=$(ledger_digest)
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <<<"$o"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" insufficient_funds
	assert_equal "$(ledger_digest)" "$before"
	run --separate-stderr wpay-pay --buyer u:1001 --source card --pin-fd 3 3<<<135790 <<<"$o"
	assert_success
	[[ "$(jq -r .source <<<"$output")" == card:card_* ]]
	card=$(wpay-bind card add u:1001 --pan-fd 3 3<<<5555555555554444 | jq -r .id)
	run --separate-stderr wpay-pay --buyer u:1001 --source "$card" --pin-fd 3 3<<<135790 <<<"$(order c2 --amount 1.00)"
	assert_equal "$(jq -r .source <<<"$output")" "card:$card"
	run --separate-stderr wpay-pay --buyer u:1001 --source card_NOPE --pin-fd 3 3<<<135790 <<<"$(order c3 --amount 1.00)"
	assert_equal "$(jq -r .code <<<"$output")" not_found
	assert_ledger_ok
}

@test "closed orders and other buyers' orders are refused" {
	buyer_ready 1002 5555555555554444
	o=$(order mine --amount 1.00 --buyer u:1001)
	run --separate-stderr wpay-pay --buyer u:1002 --pin-fd 3 3<<<135790 <<<"$o"
	assert_equal "$(jq -r .code <<<"$output")" buyer_mismatch
	wpay-order close cafe01 mine >/dev/null
	run --separate-stderr wpay-pay --pin-fd 3 3<<<135790 <<<"$o"
	assert_equal "$(jq -r .code <<<"$output")" order_closed
	run --separate-stderr wpay-pay --pin-fd 3 3<<<135790 <<<"$(order nobody --amount 1.00)"
	assert_equal "$(jq -r .code <<<"$output")" missing_field
}

@test "--follow and --share close the loop: the buyer follows the shop, and gets a text to share" {
	run --separate-stderr wpay-pay --buyer u:1001 --follow --share --pin-fd 3 3<<<135790 <<<"$(order s1 --amount 25.00)"
	assert_success
	assert_equal "$(jq -r .following <<<"$output")" m:cafe01
	assert_equal "$(jq -r .share.text <<<"$output")" "I just paid 25.00 CNY at Cafe Lu with #wpay"
	assert_equal "$(db_sql 'SELECT uid, merchant_id FROM follows')" "1001|cafe01"
	first=$output
	run --separate-stderr wpay-pay --buyer u:1001 --follow --share --pin-fd 3 3<<<135790 <<<"$(wpay-order query cafe01 s1)"
	assert_equal "$output" "$first"
}

@test "the whole loop: scan | order | pay, and its replay changes nothing and prints the same" {
	wpay-mkqr cafe01 --amount 25.00 --reference order_1 -o "$BATS_TEST_TMPDIR/o1.png" >/dev/null
	loop() {
		wpay-scanqr "$BATS_TEST_TMPDIR/o1.png" | wpay-order --buyer u:1001 | wpay-pay --pin-fd 3 3<<<135790
	}
	run --separate-stderr loop
	assert_success
	first=$output
	assert_equal "$(jq -c '[.type, .out_trade_no, .amount]' <<<"$output")" '["payment","order_1",2500]'
	before=$(ledger_digest)
	run --separate-stderr loop
	assert_equal "$output" "$first"
	assert_equal "$(ledger_digest)" "$before"
	assert_ledger_ok
}

@test "two processes paying the same 1,000 orders at once: each paid exactly once" {
	wpay-bind wallet topup u:1001 --amount 100000.00 --request-no t2 >/dev/null
	for i in $(seq 1 1000); do printf '{"type":"order","merchant":"cafe01","out_trade_no":"c%d","amount":%d}\n' "$i" $((100 + i)); done |
		wpay-order >"$BATS_TEST_TMPDIR/orders"
	# What is tested is exactly-once, not the busy timeout: on a loaded
	# machine one writer can wait out the other's batches past 10 s.
	export WPAY_BUSY_TIMEOUT=120000
	wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <"$BATS_TEST_TMPDIR/orders" >"$BATS_TEST_TMPDIR/a" 2>&1 &
	a=$!
	wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <"$BATS_TEST_TMPDIR/orders" >"$BATS_TEST_TMPDIR/b" 2>&1 &
	b=$!
	wait $a
	wait $b
	assert_equal "$(jq -r .type "$BATS_TEST_TMPDIR/a" | sort | uniq -c | awk '{print $1, $2}')" "1000 payment"
	assert_equal "$(jq -r .type "$BATS_TEST_TMPDIR/b" | sort | uniq -c | awk '{print $1, $2}')" "1000 payment"
	assert_equal "$(jq -r .id "$BATS_TEST_TMPDIR/a" | sort | sha256sum)" "$(jq -r .id "$BATS_TEST_TMPDIR/b" | sort | sha256sum)"
	assert_equal "$(db_sql "SELECT COUNT(*), COUNT(DISTINCT order_id) FROM payments")" "1000|1000"
	assert_equal "$(db_sql "SELECT COUNT(*) FROM transfers WHERE kind = 'payment'")" 1000
	assert_ledger_ok
}
