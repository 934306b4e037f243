#!/usr/bin/env bats
# Card-type promotions: data in wpay-bind, a discount at a card payment funded
# by the sponsor, limits that hold under concurrent payers, refunds pro rata.

load helper

CITIC_CREDIT=622689
CITIC_DEBIT=622690

setup() {
	wpay_setup
	init_ledger
	export WPAY_NOW=2026-11-22T08:00:00Z
	wpay-bind merchant add vend01 --name "Vend" --city Beijing --kind enterprise --verified >/dev/null
	wpay-bind merchant add other01 --name "Other" --city Beijing --kind enterprise --verified >/dev/null
	buyer_ready 1001 "$(luhn_card $CITIC_CREDIT 16)"
}

citic() { # citic ID [more options]: a CITIC credit-card promotion at vend01
	local id=$1
	shift
	wpay-bind promo add "$id" --sponsor CITIC --issuer "China CITIC Bank" --card-type credit \
		--from 2026-11-01 --until 2026-12-31 "$@"
}

pay() { # pay BUYER OUT_TRADE_NO AMOUNT [MERCHANT] [SOURCE]
	local o
	o=$(wpay-order create "${4:-vend01}" "$2" --amount "$3")
	wpay-pay --buyer "u:$1" --source "${5:-card}" --pin-fd 3 3<<<135790 <<<"$o"
}

@test "promo add, show, list, remove; the same terms again answer the record" {
	run --separate-stderr citic p1 --merchant vend01 --discount 10% --min 20.00 --per-user 2 --budget 100000.00
	assert_success
	first=$output
	assert_equal "$(jq -c '[.type, .id, .sponsor, .sponsor_account, .issuer, .card_type, .merchant, .discount, .min, .per_user, .budget, .spent, .uses, .currency, .status]' <<<"$output")" \
		'["promo","p1","CITIC","sponsor:CITIC","China CITIC Bank","credit","m:vend01","10%",2000,2,10000000,0,0,"CNY","active"]'
	# --from and --until as dates are days in the ledger's zone (Asia/Shanghai).
	assert_equal "$(jq -c '[.from, .until]' <<<"$output")" '["2026-10-31T16:00:00Z","2026-12-31T16:00:00Z"]'
	assert_equal "$(db_sql "SELECT kind, currency FROM accounts WHERE id = 'sponsor:CITIC'")" "sponsor|CNY"
	run --separate-stderr citic p1 --merchant vend01 --discount 10% --min 20.00 --per-user 2 --budget 100000.00
	assert_success
	assert_equal "$output" "$first"
	assert_equal "$(wpay-bind promo show p1)" "$first"
	wpay-bind promo add p2 --sponsor CITIC --bin 6226 --card-type debit --all --off 5.00 \
		--from 2026-11-01T00:00:00Z --until 2026-11-30T00:00:00Z >/dev/null
	assert_equal "$(wpay-bind promo list | jq -s -c '[.[] | [.id, .bin, .merchant, .off]]')" '[["p1",null,"m:vend01",null],["p2","6226","all",500]]'
	run --separate-stderr wpay-bind promo remove p2
	assert_success
	assert_equal "$(jq -r .status <<<"$output")" removed
	removed=$output
	assert_equal "$(wpay-bind promo remove p2)" "$removed"
	# A record does the same as the command line.
	run --separate-stderr wpay-bind <<<'{"type":"promo","op":"add","id":"p3","sponsor":"CITIC","issuer":"China CITIC Bank","card_type":"credit","all":true,"off":300,"from":"2026-11-01","until":"2026-12-01"}'
	assert_success
	assert_equal "$(jq -c '[.id, .off, .merchant]' <<<"$output")" '["p3",300,"all"]'
}

@test "promo add refuses every bad input, and changes nothing" {
	wpay-bind promo add p0 --sponsor X --issuer Y --card-type credit --all --off 1.00 --from 2026-11-01 --until 2026-12-01 >/dev/null
	refuses 1 conflict wpay-bind promo add p0 --sponsor X --issuer Y --card-type credit --all --off 2.00 --from 2026-11-01 --until 2026-12-01
	base=(--sponsor CITIC --card-type credit --from 2026-11-01 --until 2026-12-31)
	refuses 1 bad_field wpay-bind promo add p1 "${base[@]}" --issuer I --all --discount 0%
	refuses 1 bad_field wpay-bind promo add p1 "${base[@]}" --issuer I --all --discount 100%
	refuses 1 bad_field wpay-bind promo add p1 "${base[@]}" --issuer I --all --discount 150%
	refuses 1 bad_field wpay-bind promo add p1 "${base[@]}" --issuer I --all --discount -5%
	refuses 1 bad_field wpay-bind promo add p1 "${base[@]}" --issuer I --all --discount 10
	refuses 1 bad_field wpay-bind promo add p1 "${base[@]}" --issuer I --all --discount 1.000001%
	refuses 1 bad_amount wpay-bind promo add p1 "${base[@]}" --issuer I --all --off 0
	refuses 1 bad_amount wpay-bind promo add p1 "${base[@]}" --issuer I --all --off -1.00
	refuses 1 bad_amount wpay-bind promo add p1 "${base[@]}" --issuer I --all --off 1.001
	refuses 1 bad_amount wpay-bind promo add p1 "${base[@]}" --issuer I --all --off =1+1
	refuses 1 bad_amount wpay-bind promo add p1 "${base[@]}" --issuer I --all --off 1.00 --min abc
	refuses 1 bad_amount wpay-bind promo add p1 "${base[@]}" --issuer I --all --off 1.00 --budget 0
	refuses 1 bad_field wpay-bind promo add p1 "${base[@]}" --issuer I --all --off 1.00 --per-user 0
	refuses 1 bad_field wpay-bind promo add p1 "${base[@]}" --issuer I --all --off 1.00 --per-user -1
	refuses 1 bad_field wpay-bind promo add p1 "${base[@]}" --issuer I --all --off 1.00 --per-user 99999999999
	refuses 1 bad_field wpay-bind promo add p1 "${base[@]}" --issuer I --all --off 1.00 --discount 5%
	refuses 1 bad_field wpay-bind promo add p1 "${base[@]}" --issuer I --all
	refuses 1 bad_field wpay-bind promo add p1 "${base[@]}" --issuer I --bin 6226 --all --off 1.00
	refuses 1 bad_field wpay-bind promo add p1 "${base[@]}" --all --off 1.00
	refuses 1 bad_field wpay-bind promo add p1 "${base[@]}" --bin 62a6 --all --off 1.00
	refuses 1 bad_field wpay-bind promo add p1 "${base[@]}" --bin 622689001 --all --off 1.00
	refuses 1 bad_field wpay-bind promo add p1 "${base[@]}" --issuer I --off 1.00
	refuses 1 bad_field wpay-bind promo add p1 "${base[@]}" --issuer I --all --merchant vend01 --off 1.00
	refuses 1 unknown_merchant wpay-bind promo add p1 "${base[@]}" --issuer I --merchant nosuch --off 1.00
	refuses 1 bad_field wpay-bind promo add p1 --sponsor CITIC --card-type prepaid --issuer I --all --off 1.00 --from 2026-11-01 --until 2026-12-31
	refuses 1 bad_field wpay-bind promo add p1 --sponsor "CI TIC" --card-type credit --issuer I --all --off 1.00 --from 2026-11-01 --until 2026-12-31
	refuses 1 bad_field wpay-bind promo add "bad id" "${base[@]}" --issuer I --all --off 1.00
	refuses 1 bad_date wpay-bind promo add p1 --sponsor CITIC --card-type credit --issuer I --all --off 1.00 --from 2026-02-30 --until 2026-12-31
	refuses 1 bad_date wpay-bind promo add p1 --sponsor CITIC --card-type credit --issuer I --all --off 1.00 --from yesterday --until 2026-12-31
	refuses 1 bad_period wpay-bind promo add p1 --sponsor CITIC --card-type credit --issuer I --all --off 1.00 --from 2026-12-31 --until 2026-11-01
	refuses 1 missing_field wpay-bind promo add p1 --sponsor CITIC --card-type credit --issuer I --all --off 1.00 --from 2026-11-01
	refuses 1 bad_currency wpay-bind promo add p1 "${base[@]}" --issuer I --all --off 1.00 --currency XXX
	refuses 1 currency_mismatch wpay-bind promo add p1 "${base[@]}" --issuer I --merchant vend01 --off 1.00 --currency USD
	refuses 1 bad_amount wpay-bind <<<'{"type":"promo","op":"add","id":"p1","sponsor":"C","issuer":"I","card_type":"credit","all":true,"off":true,"from":"2026-11-01","until":"2026-12-01"}'
	refuses 1 bad_field wpay-bind <<<'{"type":"promo","op":"add","id":"p1","sponsor":"C","issuer":"I\u0007","card_type":"credit","all":true,"off":1,"from":"2026-11-01","until":"2026-12-01"}'
	refuses 1 not_found wpay-bind promo show nosuch
	refuses 1 not_found wpay-bind promo remove nosuch
	refuses 1 not_found wpay-bind promo show "../x"
}

@test "a CITIC credit card gets the discount: the buyer pays less, the sponsor funds it, the merchant gets the full price, the fee on the full price" {
	citic p1 --merchant vend01 --discount 10% --min 20.00 >/dev/null
	run --separate-stderr pay 1001 o1 25.00
	assert_success
	assert_equal "$(jq -c '[.amount, .fee, .paid, .promotion, .card]' <<<"$output")" \
		'[2500,15,2250,{"id":"p1","sponsor":"CITIC","sponsor_account":"sponsor:CITIC","discount":250},{"brand":"unionpay","type":"credit","issuer":"China CITIC Bank"}]'
	first=$output
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = 'sponsor:CITIC'")" -250
	assert_equal "$(wpay-bind merchant balance vend01 | jq -r .pending)" 2485
	card=$(jq -r .source <<<"$output")
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = '$card'")" -2250
	assert_equal "$(db_sql "SELECT discount, promo_id, card_brand, card_type, card_issuer FROM payments")" "250|p1|unionpay|credit|China CITIC Bank"
	assert_equal "$(db_sql "SELECT kind, amount FROM transfers WHERE from_account = 'sponsor:CITIC'")" "discount|250"
	# The replay answers the same record.
	o=$(wpay-order query vend01 o1)
	assert_equal "$(wpay-pay --buyer u:1001 --source card --pin-fd 3 3<<<135790 <<<"$o")" "$first"
	# The notification carries the card and the promotion, never the number.
	body=$(db_sql "SELECT body FROM events WHERE kind = 'order.paid'")
	assert_equal "$(jq -c '[.card.type, .card.issuer, .promotion.id, .promotion.discount, .paid]' <<<"$body")" '["credit","China CITIC Bank","p1",250,2250]'
	pan=$(luhn_card $CITIC_CREDIT 16)
	[[ "$body" != *"$pan"* && "$body" != *"${pan:6:6}"* ]]
	assert_equal "$(wpay-bind promo show p1 | jq -c '[.spent, .uses]')" '[250,1]'
	assert_ledger_ok
}

@test "no discount for a debit card, another issuer, the wallet balance, below the minimum, another merchant, expired, not yet, removed" {
	buyer_ready 1002 "$(luhn_card $CITIC_DEBIT 16)"
	buyer_ready 1003 4111111111111111
	wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
	citic p1 --merchant vend01 --off 3.00 --min 20.00 >/dev/null
	nodisc() {
		run --separate-stderr "$@"
		assert_success
		assert_equal "$(jq -c '[.promotion, .paid]' <<<"$output")" '[null,null]'
	}
	nodisc pay 1002 d1 25.00
	assert_equal "$(jq -c .card <<<"$output")" '{"brand":"unionpay","type":"debit","issuer":"China CITIC Bank"}'
	nodisc pay 1003 v1 25.00
	assert_equal "$(jq -c .card.issuer <<<"$output")" '"Visa test issuer"'
	nodisc pay 1001 w1 25.00 vend01 wallet
	assert_equal "$(jq -c .card <<<"$output")" null
	nodisc pay 1001 m1 19.99
	nodisc pay 1001 x1 25.00 other01
	WPAY_NOW=2026-12-31T16:00:00Z nodisc pay 1001 late1 25.00
	WPAY_NOW=2026-10-31T15:59:59Z nodisc pay 1001 early1 25.00
	wpay-bind promo remove p1 >/dev/null
	nodisc pay 1001 r1 25.00
	assert_equal "$(db_sql "SELECT COUNT(*) FROM accounts WHERE id = 'sponsor:CITIC' AND balance = 0")" 1
	# At the minimum exactly and at the first millisecond it applies.
	citic p2 --merchant vend01 --off 3.00 --min 20.00 >/dev/null
	WPAY_NOW=2026-10-31T16:00:00Z run --separate-stderr pay 1001 ok1 20.00
	assert_equal "$(jq -r .promotion.discount <<<"$output")" 300
	assert_ledger_ok
}

@test "by BIN prefix; the largest discount wins, ties to the lowest id; never the whole price" {
	wpay-bind promo add b1 --sponsor CITIC --bin 622 --card-type credit --all --off 1.00 --from 2026-11-01 --until 2026-12-31 >/dev/null
	wpay-bind promo add b2 --sponsor UP --bin 62268 --card-type credit --all --discount 10% --from 2026-11-01 --until 2026-12-31 >/dev/null
	wpay-bind promo add a9 --sponsor UP --bin 6226 --card-type credit --all --discount 10% --from 2026-11-01 --until 2026-12-31 >/dev/null
	wpay-bind promo add z1 --sponsor X --bin 4111 --card-type credit --all --off 50.00 --from 2026-11-01 --until 2026-12-31 >/dev/null
	run --separate-stderr pay 1001 o1 5.00 # 10% is 0.50: 1.00 off is more
	assert_equal "$(jq -c '[.promotion.id, .promotion.discount]' <<<"$output")" '["b1",100]'
	run --separate-stderr pay 1001 o2 50.00 # 5.00 each: a9 before b2
	assert_equal "$(jq -c '[.promotion.id, .promotion.sponsor, .promotion.discount]' <<<"$output")" '["a9","UP",500]'
	wpay-bind promo add big --sponsor CITIC --bin 6226 --card-type credit --all --off 80.00 --from 2026-11-01 --until 2026-12-31 >/dev/null
	run --separate-stderr pay 1001 o3 0.50 # b1 and big are both capped at 0.49: a tie
	assert_equal "$(jq -c '[.promotion.id, .promotion.discount, .paid]' <<<"$output")" '["b1",49,1]'
	run --separate-stderr pay 1001 o4 0.01 # nothing can be taken off one fen
	assert_equal "$(jq -c '[.promotion, .paid]' <<<"$output")" '[null,null]'
	assert_ledger_ok
}

@test "the per-user limit holds, for this buyer only" {
	buyer_ready 1002 "$(luhn_card 622688 16)"
	citic p1 --all --off 2.00 --per-user 2 >/dev/null
	for i in 1 2 3; do pay 1001 "a$i" 10.00 | jq -c .promotion.discount; done >"$BATS_TEST_TMPDIR/d"
	assert_equal "$(tr '\n' ' ' <"$BATS_TEST_TMPDIR/d")" "200 200 null "
	assert_equal "$(pay 1002 b1 10.00 | jq -c .promotion.discount)" 200
	assert_equal "$(db_sql "SELECT uid, uses FROM promo_uses ORDER BY uid" | tr '\n' ' ')" "1001|2 1002|1 "
	assert_equal "$(wpay-bind promo show p1 | jq -c '[.spent, .uses]')" '[600,3]'
}

@test "the budget runs out exactly: six payers race for the last yuan, spent is the budget, never more" {
	citic p1 --merchant vend01 --off 3.00 --budget 10.00 >/dev/null
	for b in 2001 2002 2003 2004 2005 2006; do
		buyer_ready "$b" "$(luhn_card 6226890${b} 16)"
		wpay-order create vend01 "r$b" --amount 10.00 >"$BATS_TEST_TMPDIR/o$b"
	done
	for b in 2001 2002 2003 2004 2005 2006; do
		wpay-pay --buyer "u:$b" --source card --pin-fd 3 3<<<135790 <"$BATS_TEST_TMPDIR/o$b" >"$BATS_TEST_TMPDIR/p$b" 2>"$BATS_TEST_TMPDIR/e$b" &
	done
	wait
	for b in 2001 2002 2003 2004 2005 2006; do
		[ "$(jq -r .type "$BATS_TEST_TMPDIR/p$b")" = payment ] || { cat "$BATS_TEST_TMPDIR/p$b" "$BATS_TEST_TMPDIR/e$b"; false; }
	done
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/p2* | jq -s 'map(.promotion.discount // 0) | add')" 1000
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/p2* | jq -s -c 'map(.promotion.discount // 0) | sort')" '[0,0,100,300,300,300]'
	assert_equal "$(db_sql "SELECT spent, uses FROM promos")" "1000|4"
	assert_equal "$(db_sql "SELECT SUM(discount) FROM payments")" 1000
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = 'sponsor:CITIC'")" -1000
	assert_equal "$(wpay-bind promo show p1 | jq -r .status)" exhausted
	assert_ledger_ok
}

@test "refunds return the discount to the sponsor pro rata; a full refund returns all of it" {
	citic p1 --merchant vend01 --discount 10% >/dev/null
	p=$(pay 1001 o1 33.33) # discount 3.33
	assert_equal "$(jq -r .promotion.discount <<<"$p")" 333
	card=$(jq -r .source <<<"$p")
	run --separate-stderr wpay-refund vend01 o1 r1 --amount 10.00
	assert_success
	assert_equal "$(jq -c '[.amount, .discount_returned]' <<<"$output")" '[1000,99]'
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = 'sponsor:CITIC'")" -234
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = '$card'")" $((-3000 + 901))
	assert_equal "$(db_sql "SELECT discount_returned FROM refunds")" 99
	run --separate-stderr wpay-refund vend01 o1 r2 --amount 23.33
	assert_equal "$(jq -r .discount_returned <<<"$output")" 234
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = 'sponsor:CITIC'")" 0
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = '$card'")" 0
	assert_equal "$(wpay-bind merchant balance vend01 | jq -r .pending)" 0
	# The refund event says what went back; the replay the same record.
	assert_equal "$(db_sql "SELECT body FROM events WHERE kind = 'order.refunded'" | jq -s -c 'map(.discount_returned) | sort')" '[99,234]'
	assert_equal "$(wpay-refund vend01 o1 r2 --amount 23.33 | jq -r .discount_returned)" 234
	# A refunded discount does not free budget: spent counts what was granted.
	assert_equal "$(wpay-bind promo show p1 | jq -r .spent)" 333
	assert_ledger_ok
}

@test "batches racing: three payers of five orders each share a budget of 10.00 at 0.70 off; one buyer in two processes gets one use" {
	citic p1 --merchant vend01 --off 0.70 --budget 10.00 >/dev/null
	citic p2 --merchant other01 --off 1.00 --per-user 1 >/dev/null
	for b in 3001 3002 3003; do
		buyer_ready "$b" "$(luhn_card 6226890${b} 16)"
		for i in 1 2 3 4 5; do echo "{\"type\":\"order\",\"merchant\":\"vend01\",\"out_trade_no\":\"b${b}_$i\",\"amount\":500}"; done |
			wpay-order >"$BATS_TEST_TMPDIR/o$b"
	done
	for i in 1 2; do wpay-order create other01 "u$i" --amount 5.00 >"$BATS_TEST_TMPDIR/u$i"; done
	for b in 3001 3002 3003; do
		wpay-pay --buyer "u:$b" --source card --pin-fd 3 3<<<135790 <"$BATS_TEST_TMPDIR/o$b" >"$BATS_TEST_TMPDIR/p$b" 2>&1 &
	done
	for i in 1 2; do
		wpay-pay --buyer u:1001 --source card --pin-fd 3 3<<<135790 <"$BATS_TEST_TMPDIR/u$i" >"$BATS_TEST_TMPDIR/q$i" 2>&1 &
	done
	wait
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/p3* | jq -s -c 'map(.type) | unique')" '["payment"]'
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/p3* | jq -s 'map(.promotion.discount // 0) | add')" 1000
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/p3* | jq -s -c 'map(.promotion.discount // 0) | group_by(.) | map([.[0], length])')" '[[20,1],[70,14]]'
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/q* | jq -s -c 'map(.promotion.discount // 0) | sort')" '[0,100]'
	assert_equal "$(db_sql "SELECT id, spent FROM promos ORDER BY id" | tr '\n' ' ')" "p1|1000 p2|100 "
	assert_equal "$(db_sql "SELECT uses FROM promo_uses WHERE promo_id = 'p2'")" 1
	assert_ledger_ok
}

@test "settle and the bills show the discounts; net and payout are the full price's" {
	citic p1 --merchant vend01 --discount 10% >/dev/null
	pay 1001 o1 40.00 >/dev/null
	wpay-refund vend01 o1 r1 --amount 10.00 >/dev/null
	run --separate-stderr wpay-bill vend01 --date 2026-11-22 --format jsonl
	assert_success
	assert_equal "$(jq -s -c 'map(select(.type == "bill_line") | [.kind, .amount, .fee, .net, .discount, .promotion])' <<<"$output")" \
		'[["payment",4000,24,3976,400,"p1"],["refund",-1000,-6,-994,-100,"p1"]]'
	assert_equal "$(jq -s -c 'map(select(.type == "bill_total"))[0] | [.gross, .net, .discounts]' <<<"$output")" '[4000,2982,300]'
	run --separate-stderr wpay-bill vend01 --date 2026-11-22
	assert_success
	assert_equal "$(cut -d , -f 6-9,15,16 <<<"$output")" "kind,amount,fee,net,discount,promotion
payment,40.00,0.24,39.76,4.00,p1
refund,-10.00,-0.06,-9.94,-1.00,p1
total,30.00,0.18,29.82,3.00,"
	run --separate-stderr wpay-bill vend01 --date 2026-11-22 --kind fund --format jsonl
	assert_success
	assert_equal "$(jq -s -c 'map(select(.kind == "discount" or .kind == "discount_refund") | [.kind, .other, .in, .out]) | sort' <<<"$output")" \
		'[["discount","sponsor:CITIC",400,0],["discount_refund","sponsor:CITIC",0,100]]'
	export WPAY_NOW=2026-12-10T01:00:00Z
	run --separate-stderr wpay-settle
	assert_success
	assert_equal "$(jq -c 'select(.merchant == "m:vend01") | [.gross, .fees, .refunded, .fees_returned, .net, .payout, .discounts, .discounts_returned]' <<<"$output")" \
		'[4000,24,1000,6,2982,2982,400,100]'
	assert_equal "$(db_sql "SELECT discounts, discounts_returned FROM settlements")" "400|100"
	assert_ledger_ok
}

@test "attack: a formula cannot reach a bill through a promotion; a card number never reaches a record" {
	refuses 1 bad_field wpay-bind promo add '=HYPERLINK("http://evil.example")' --sponsor CITIC --issuer I --card-type credit --all --off 1.00 --from 2026-11-01 --until 2026-12-31
	refuses 1 bad_field wpay-bind promo add p1 --sponsor '@SUM(1)' --issuer I --card-type credit --all --off 1.00 --from 2026-11-01 --until 2026-12-31
	# An issuer is only compared with the card's bank, never printed in a bill.
	wpay-bind promo add p2 --sponsor CITIC --issuer '=1+1' --card-type credit --all --off 1.00 --from 2026-11-01 --until 2026-12-31 >/dev/null
	citic p1 --all --off 1.00 >/dev/null
	pay 1001 o1 10.00 >"$BATS_TEST_TMPDIR/p"
	assert_equal "$(jq -r .promotion.id "$BATS_TEST_TMPDIR/p")" p1
	run --separate-stderr wpay-bill vend01 --date 2026-11-22
	assert_success
	[[ "$output" != *"=1+1"* ]]
	pan=$(luhn_card $CITIC_CREDIT 16)
	! grep -q -e "$pan" -e "${pan:0:12}" <(cat "$BATS_TEST_TMPDIR/p"; db_sql "SELECT body FROM events"; db_sql "SELECT * FROM payments")
}

@test "pay list and refund list show the card, the promotion, what was paid and the discount returned, as the answers did" {
	citic p1 --merchant vend01 --discount 10% >/dev/null
	paid=$(pay 1001 o1 50.00)
	assert_equal "$(jq -c '[.paid, .promotion.discount, .card.issuer]' <<<"$paid")" '[4500,500,"China CITIC Bank"]'
	export WPAY_NOW=2026-11-22T08:00:01Z # a later id: lists go in id order
	other=$(pay 1001 o2 30.00 other01)
	assert_equal "$(jq -c '[.card.type, .promotion, .paid]' <<<"$other")" '["credit",null,null]'
	assert_equal "$(wpay-pay list)" "$paid
$other"
	refunded=$(wpay-refund vend01 o1 r1 --amount 20.00)
	assert_equal "$(jq -r .discount_returned <<<"$refunded")" 200
	assert_equal "$(wpay-refund list --merchant vend01 | jq -c 'del(.refunded, .state)')" \
		"$(jq -c 'del(.refunded, .state)' <<<"$refunded")"
}
