#!/usr/bin/env bats
# Review of issue 15 (the social storefront) as a thief, a dishonest buyer
# or merchant, a bank and a careless operator: each attack that was tried,
# passing when the code holds.

load helper

CITIC_CREDIT=622689

setup() {
	wpay_setup
	init_ledger
	export WPAY_NOW=2026-11-22T08:00:00Z
	wpay-bind merchant add vend01 --name "Vend" --city Beijing --kind enterprise --verified >/dev/null
	wpay-bind merchant add other01 --name "Other" --city Beijing --kind enterprise --verified >/dev/null
	buyer_ready 1001 "$(luhn_card $CITIC_CREDIT 16)"
}

citic() { # citic ID [more options]: a CITIC credit-card promotion
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

platform() { # a platform URL for queueing messages (nothing is delivered here)
	wpay-init --platform-notify-url https://platform.example.com/hook "$@" >/dev/null
}

message() { # MERCHANT TO REQUEST_NO TEXT
	run --separate-stderr wpay-notify message "$1" --to "$2" --request-no "$3" --text "$4"
}

@test "attack: an off larger than the price leaves the buyer one minor unit; one-unit refunds return exactly what was paid and given" {
	citic p1 --merchant vend01 --off 50.00 >/dev/null
	run --separate-stderr pay 1001 o1 0.07
	assert_success
	assert_equal "$(jq -c '[.amount, .paid, .promotion.discount]' <<<"$output")" '[7,1,6]'
	card=$(jq -r .source <<<"$output")
	for i in 1 2 3 4 5 6 7; do
		wpay-refund vend01 o1 "r$i" --amount 0.01 >/dev/null
	done
	assert_equal "$(db_sql "SELECT SUM(discount_returned), SUM(amount) FROM refunds")" "6|7"
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = 'sponsor:CITIC'")" 0
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = '$card'")" 0
	assert_equal "$(wpay-bind merchant balance vend01 | jq -r .pending)" 0
	# Never more than the order: the eighth unit is an over-refund.
	run --separate-stderr wpay-refund vend01 o1 r8 --amount 0.01
	assert_failure 1
	assert_ledger_ok
}

@test "attack: a percent discount on many odd partial refunds never returns more than it gave" {
	citic p1 --merchant vend01 --discount 33.3333% >/dev/null
	p=$(pay 1001 o1 99.99)
	d=$(jq -r .promotion.discount <<<"$p")
	for i in $(seq 1 9); do wpay-refund vend01 o1 "r$i" --amount 11.11 >/dev/null; done
	assert_equal "$(db_sql "SELECT SUM(discount_returned) FROM refunds")" "$d"
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = 'sponsor:CITIC'")" 0
	assert_ledger_ok
}

@test "attack: no promotion for the wallet balance, another wallet's card, a removed card, another currency" {
	citic p1 --all --off 1.00 >/dev/null
	wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
	run --separate-stderr pay 1001 o1 10.00 vend01 wallet
	assert_success
	assert_equal "$(jq -r '.promotion // "none"' <<<"$output")" none
	# Another buyer's CITIC card cannot be named by u:1001.
	buyer_ready 1002 "$(luhn_card $CITIC_CREDIT 19)"
	other=$(wpay-bind card list u:1002 | jq -r .id | head -n 1)
	run --separate-stderr pay 1001 o2 10.00 vend01 "$other"
	assert_failure
	assert_equal "$(db_sql "SELECT COUNT(*) FROM payments WHERE discount > 0")" 0
	# A removed card is no source, and its promotion not taken.
	mine=$(wpay-bind card list u:1001 | jq -r .id | head -n 1)
	wpay-bind card remove "$mine" >/dev/null
	run --separate-stderr pay 1001 o3 10.00 vend01 "$mine"
	assert_failure
	run --separate-stderr pay 1001 o4 10.00 vend01 card
	assert_failure
	assert_equal "$(wpay-bind promo show p1 | jq -c '[.spent, .uses]')" '[0,0]'
	assert_ledger_ok
}

@test "attack: a sponsor's promotion in a second currency is refused, else it would fail every matching payment" {
	wpay-bind merchant add usd01 --name "Usd" --city Beijing --kind enterprise --verified --currency USD >/dev/null
	wpay-bind user add 1002 --nickname Bo >/dev/null
	wpay-bind wallet add 1002@example.com --currency USD >/dev/null
	wpay-bind user bind 1002 1002@example.com >/dev/null
	wpay-bind card add u:1002 --pan-fd 3 3<<<"$(luhn_card $CITIC_CREDIT 19)" >/dev/null
	wpay-bind pin set u:1002 --pin-fd 3 3<<<135790 >/dev/null
	citic pcny --all --off 1.00 >/dev/null
	run --separate-stderr citic pusd --merchant usd01 --off 1.00
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" currency_mismatch
	[[ "$stderr" == *"another sponsor name"* ]]
	assert_equal "$(db_sql "SELECT COUNT(*) FROM promos")" 1
	# Under its own name it funds USD discounts, and the payment goes through.
	wpay-bind promo add pusd --sponsor CITIC_USD --issuer "China CITIC Bank" --card-type credit --merchant usd01 \
		--off 1.00 --from 2026-11-01 --until 2026-12-31 >/dev/null
	o=$(wpay-order <<<'{"type":"order","op":"create","merchant":"usd01","out_trade_no":"u1","amount":1000,"currency":"USD"}')
	run --separate-stderr wpay-pay --buyer u:1002 --source card --pin-fd 3 3<<<135790 <<<"$o"
	assert_success
	assert_equal "$(jq -c '[.currency, .paid, .promotion.id, .promotion.sponsor]' <<<"$output")" '["USD",900,"pusd","CITIC_USD"]'
	assert_equal "$(db_sql "SELECT currency || ':' || balance FROM accounts WHERE id LIKE 'sponsor:%' ORDER BY id" | paste -sd,)" "CNY:0,USD:-100"
	assert_ledger_ok
}

@test "attack: a product name with a bidi override or a C1 control is refused; it is a card's title" {
	for bad in $'Tea\u202eevil' $'Tea\u2067x' $'Tea\u0085x' $'Tea\tx'; do
		run --separate-stderr wpay-bind product add vend01 tea --name "$bad" --price 1.00
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" bad_field
	done
	wpay-bind product add vend01 tea --name "Tea" --price 1.00 >/dev/null
	run --separate-stderr wpay-bind product update vend01 tea --name $'Tea\u202e'
	assert_failure 1
	assert_equal "$(wpay-bind product show vend01 tea | jq -r .name)" Tea
	# Chinese, emoji with joiners: fine.
	run --separate-stderr wpay-bind product add vend01 tea2 --name $'龙井 \U0001F469\u200D\U0001F373' --price 1.00
	assert_success
}

@test "attack: a suspended merchant's promotion, product code and messages are all refused" {
	citic p1 --merchant vend01 --off 1.00 >/dev/null
	wpay-bind product add vend01 tea --name Tea --price 5.00 >/dev/null
	code=$(wpay-mkqr vend01 --product tea | jq -r .payload)
	platform
	wpay-bind user follow 1001 vend01 >/dev/null
	o=$(wpay-order create vend01 o1 --amount 10.00)
	wpay-bind merchant suspend vend01 --reason "fake goods" >/dev/null
	run --separate-stderr wpay-pay --buyer u:1001 --source card --pin-fd 3 3<<<135790 <<<"$o"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" merchant_not_approved
	assert_equal "$(wpay-bind promo show p1 | jq -r .spent)" 0
	run --separate-stderr wpay-order --buyer u:1001 <<<"$(wpay-scanqr --payload <<<"$code")"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" merchant_not_approved
	# A suspended seller must not use the platform to reach buyers (a
	# shop suspended for fake goods phishing its followers).
	message vend01 followers n1 "Pay me directly at my bank account"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" merchant_not_approved
	assert_equal "$(db_sql "SELECT COUNT(*) FROM events WHERE kind = 'message'")" 0
	assert_equal "$(db_sql "SELECT COUNT(*) FROM message_quota")" 0
	# Approved again, it may write.
	wpay-bind merchant approve vend01 >/dev/null
	message vend01 followers n1 "Back in business"
	assert_success
	assert_equal "$(jq -r .recipients <<<"$output")" 1
}

@test "attack: product quantity at the edges, and price times quantity beyond the largest amount" {
	wpay-bind product add vend01 gold --name Gold --price 1000000000.01 >/dev/null
	code=$(wpay-mkqr vend01 --product gold | jq -r .payload)
	scanned=$(wpay-scanqr --payload <<<"$code")
	for q in 0 -1 2.5 10001 9223372036854775807 9223372036854775808 x ""; do
		run --separate-stderr wpay-order --buyer u:1001 --quantity "$q" <<<"$scanned"
		assert_failure 64
	done
	for q in 0 -1 2.5 '"2"' 10001 9223372036854775807 -9223372036854775808 1e3 true null; do
		run --separate-stderr wpay-order --buyer u:1001 <<<"${scanned%\}},\"quantity\":$q}"
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" bad_field
	done
	# Beyond int64 is not JSON wpay reads.
	run --separate-stderr wpay-order --buyer u:1001 <<<"${scanned%\}},\"quantity\":9223372036854775808}"
	assert_failure 1
	# 10000 x 1,000,000,000.01 is over the largest amount: refused, not wrapped.
	run --separate-stderr wpay-order --buyer u:1001 --quantity 10000 <<<"$scanned"
	assert_failure 1
	assert_equal "$(db_sql "SELECT COUNT(*) FROM orders")" 0
	run --separate-stderr wpay-order --buyer u:1001 --quantity 1000 <<<"$scanned"
	assert_success
	assert_equal "$(jq -r .amount <<<"$output")" 100000000001000
}

@test "attack: a product code of merchant A cannot order merchant B's product of the same SKU; a price change is paid at the order's price" {
	wpay-bind product add vend01 tea --name Tea --price 5.00 >/dev/null
	wpay-bind product add other01 tea --name "Other tea" --price 1.00 >/dev/null
	code=$(wpay-mkqr vend01 --product tea | jq -r .payload)
	run --separate-stderr wpay-order --buyer u:1001 <<<"$(wpay-scanqr --payload <<<"$code")"
	assert_success
	assert_equal "$(jq -c '[.merchant, .amount]' <<<"$output")" '["m:vend01",500]'
	order=$(jq -r .id <<<"$output")
	wpay-bind product update vend01 tea --price 50.00 >/dev/null
	wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <<<"{\"order\":\"$order\"}"
	assert_success
	assert_equal "$(jq -r .amount <<<"$output")" 500
	assert_ledger_ok
}

@test "attack: a message of 500 CJK characters passes, 501 is refused; bidi and line controls are refused" {
	platform
	wpay-bind user follow 1001 vend01 >/dev/null
	t500=$(printf '新%.0s' $(seq 500))
	message vend01 followers n1 "$t500"
	assert_success
	message vend01 followers n2 "${t500}新"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	for bad in $'a\u202eknab.org' $'a\u2066b' $'line\nbreak' $'tab\there' $'esc\e[31m'; do
		message vend01 followers n3 "$bad"
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" bad_field
	done
	# A formula is text to the platform, carried as JSON, not run.
	message vend01 followers n4 '=HYPERLINK("http://evil.example","win")'
	assert_success
	assert_equal "$(db_sql "SELECT COUNT(*) FROM events WHERE kind = 'message'")" 2
}

@test "attack: the day's limits turn at midnight in the ledger's zone, not in UTC nor the caller's TZ" {
	platform --messages-per-merchant 1
	wpay-bind user follow 1001 vend01 >/dev/null
	# 23:59 in Asia/Shanghai (15:59 UTC), then 00:01 the next day.
	export WPAY_NOW=2026-11-22T15:59:00Z
	TZ=America/Los_Angeles message vend01 followers n1 "one"
	assert_success
	TZ=UTC message vend01 followers n2 "two"
	assert_equal "$(jq -r .code <<<"$output")" rate_limited
	export WPAY_NOW=2026-11-22T16:01:00Z
	TZ=UTC message vend01 followers n3 "three"
	assert_success
	assert_equal "$(db_sql "SELECT day || ':' || sent FROM message_quota WHERE party = 'm:vend01' ORDER BY day" | paste -sd,)" "2026-11-22:1,2026-11-23:1"
}

@test "attack: order:ID of another merchant's order, and a replay with other text" {
	platform
	wpay-bind user follow 1001 vend01 >/dev/null
	wpay-bind user follow 1001 other01 >/dev/null
	wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
	o=$(pay 1001 o1 5.00 other01 wallet | jq -r .order)
	message vend01 "order:$o" n1 "your order"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" not_found
	message other01 "order:$o" n1 "your order"
	assert_success
	message other01 "order:$o" n1 "Send your PIN to claim a refund"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" conflict
	message other01 followers n1 "your order"
	assert_equal "$(jq -r .code <<<"$output")" conflict
	assert_equal "$(db_sql "SELECT COUNT(*) FROM events WHERE kind = 'message'")" 1
}

@test "attack: no record or stderr of promotions or products carries the card number" {
	pan=$(luhn_card $CITIC_CREDIT 16)
	citic p1 --all --off 1.00 >/dev/null
	run --separate-stderr pay 1001 o1 10.00
	assert_success
	[[ "$output$stderr" != *"$pan"* && "$output$stderr" != *"${pan:6:6}"* ]]
	run --separate-stderr wpay-bind promo list
	[[ "$output" != *"$pan"* ]]
	run wpay-bill vend01 --since 2026-11-01 --until 2026-11-30
	[[ "$output" != *"$pan"* && "$output" != *"${pan:6:6}"* ]]
}

@test "attack: a refund after settlement of a discounted T0 payment: the discount goes back from the deposit, which the next payout makes whole" {
	export WPAY_NOW=2026-11-20T02:00:00Z
	wpay-bind merchant add t0shop --name "T0 shop" --city Beijing --kind enterprise --verified \
		--bank-account 6222000011112222 >/dev/null
	wpay-bind merchant deposit t0shop --amount 20000.00 --request-no d1 >/dev/null
	wpay-bind merchant update t0shop --settlement T0 >/dev/null
	citic p1 --merchant t0shop --discount 10% >/dev/null
	p=$(pay 1001 o1 100.00 t0shop)
	assert_equal "$(jq -c '[.paid, .promotion.discount, .fee]' <<<"$p")" '[9000,1000,60]'
	card=$(jq -r .source <<<"$p")
	export WPAY_NOW=2026-11-21T02:00:00Z
	assert_equal "$(wpay-settle | jq -c '[.mode, .payout]')" '["T0",9940]'
	run --separate-stderr wpay-refund t0shop o1 r1 --amount 50.00
	assert_success
	assert_equal "$(jq -c '[.from, .fee_returned, .discount_returned]' <<<"$output")" '["deposit",30,500]'
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = '$card'")" $((-9000 + 4500))
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = 'sponsor:CITIC'")" -500
	assert_equal "$(wpay-bind merchant balance t0shop | jq -c '[.deposit, .deposit_shortfall]')" '[1995030,4970]'
	wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
	pay 1001 o2 100.00 t0shop wallet >/dev/null
	export WPAY_NOW=2026-11-22T02:00:00Z
	dry=$(wpay-settle --dry-run | jq -c '[.mode, .net, .deposit_topup, .payout]')
	assert_equal "$dry" '["T0",9940,4970,4970]'
	assert_equal "$(wpay-settle | jq -c '[.mode, .net, .deposit_topup, .payout]')" "$dry"
	assert_equal "$(wpay-bind merchant balance t0shop | jq -c '[.deposit, .deposit_shortfall]')" '[2000000,0]'
	assert_equal "$(wpay-bind merchant show t0shop | jq -r .settlement)" T0
	assert_ledger_ok
}

@test "attack: a buyer who unfollows after a message is queued never gets it: withdrawn, not sent" {
	platform
	wpay-bind user follow 1001 vend01 >/dev/null
	message vend01 followers n1 "hello"
	assert_success
	wpay-bind user unfollow 1001 vend01 >/dev/null
	run --separate-stderr wpay-notify --once
	assert_success
	assert_equal "$output" ""
	assert_equal "$(db_sql "SELECT state || ' ' || attempts FROM events WHERE kind = 'message'")" "withdrawn 0"
	assert_equal "$(wpay-notify list --merchant vend01 | jq -r 'select(.kind == "message") | .state')" withdrawn
	# Following again does not bring it back, and redelivering failed events leaves it.
	wpay-bind user follow 1001 vend01 >/dev/null
	wpay-notify redeliver --merchant vend01 --failed >/dev/null 2>&1 || true
	run --separate-stderr wpay-notify --once
	assert_equal "$output" ""
}

@test "attack: the platform key planted as a symlink is refused by wpay init and never written through; open to others, nothing is sent" {
	echo "attacker's" >"$BATS_TEST_TMPDIR/target"
	ln -s "$BATS_TEST_TMPDIR/target" "$WPAY_KEYS/platform-webhook.key"
	run --separate-stderr wpay-init --platform-notify-url https://platform.example.com/hook
	assert_failure 77
	assert_equal "$(cat "$BATS_TEST_TMPDIR/target")" "attacker's"
	assert_equal "$(db_sql "SELECT COUNT(*) FROM settings WHERE name = 'platform_notify_url'")" 0
	rm "$WPAY_KEYS/platform-webhook.key"
	platform
	wpay-bind user follow 1001 vend01 >/dev/null
	message vend01 followers n1 "hello"
	chmod 644 "$WPAY_KEYS/platform-webhook.key"
	run --separate-stderr wpay-notify --once
	assert_equal "$(jq -r .result <<<"$output")" retry
	[[ "$(jq -r .error <<<"$output")" == *"open to group or others"* ]]
	assert_equal "$(db_sql "SELECT state FROM events WHERE kind = 'message'")" pending
}

@test "attack: a merchant name with a bidi override cannot reach a product card or a message body" {
	for bad in $'Shop\u202eknaB' $'Shop\u2066x' $'Shop\u0085x'; do
		run --separate-stderr wpay-bind merchant add evil01 --name "$bad" --city Beijing --kind enterprise --verified
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" bad_field
		run --separate-stderr wpay-bind merchant update vend01 --name "$bad"
		assert_failure 1
		run --separate-stderr wpay-bind merchant add evil02 --name Shop --city $'Bei\u202ejing' --kind enterprise --verified
		assert_failure 1
	done
	assert_equal "$(wpay-bind merchant show vend01 | jq -r .name)" Vend
	assert_equal "$(db_sql "SELECT COUNT(*) FROM merchants WHERE id LIKE 'evil%'")" 0
}

@test "attack: error messages about promotions and products are valid UTF-8 with controls escaped" {
	id=$(printf '新%.0s' $(seq 30))
	run --separate-stderr wpay-bind promo add "$id" --sponsor C --issuer I --card-type credit --all --off 1.00 \
		--from 2026-11-01 --until 2026-12-01
	assert_failure 1
	iconv -f UTF-8 -t UTF-8 <<<"$output$stderr" >/dev/null
	run --separate-stderr wpay-bind promo add p9 --sponsor C --issuer I --card-type credit --all \
		--discount $'\e[31m5%' --from 2026-11-01 --until 2026-12-01
	assert_failure 1
	[[ "$output$stderr" != *$'\e'* ]]
	run --separate-stderr wpay-bind product add vend01 $'t\e[2J' --name x --price 1.00
	assert_failure 1
	[[ "$output$stderr" != *$'\e'* ]]
	iconv -f UTF-8 -t UTF-8 <<<"$output$stderr" >/dev/null
}

@test "attack: batches racing for the last units of a discounted product: a sold-out payment gives its discount back, spent is exactly the sold units'" {
	citic p1 --merchant vend01 --off 1.00 --budget 100.00 >/dev/null
	wpay-bind product add vend01 tea --name Tea --price 5.00 --stock 3 >/dev/null
	code=$(wpay-mkqr vend01 --product tea | jq -r .payload)
	for b in 3001 3002; do
		buyer_ready "$b" "$(luhn_card 6226890${b} 16)"
		for i in 1 2 3; do
			wpay-scanqr --payload <<<"$code" | wpay-order --buyer "u:$b" | jq -c '{order: .id}' >>"$BATS_TEST_TMPDIR/o$b"
		done
	done
	for b in 3001 3002; do
		wpay-pay --buyer "u:$b" --source card --pin-fd 3 3<<<135790 <"$BATS_TEST_TMPDIR/o$b" >"$BATS_TEST_TMPDIR/p$b" 2>/dev/null &
	done
	wait
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/p3* | jq -r '.type + ":" + (.code // "")' | sort | uniq -c | tr -s ' \n' '  ')" \
		" 3 error:sold_out 3 payment: "
	assert_equal "$(wpay-bind promo show p1 | jq -c '[.spent, .uses]')" '[300,3]'
	assert_equal "$(db_sql "SELECT COALESCE(SUM(discount), 0) FROM payments")" 300
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = 'sponsor:CITIC'")" -300
	assert_equal "$(wpay-bind product show vend01 tea | jq -c '[.stock, .sold]')" '[0,3]'
	assert_ledger_ok
}

@test "attack: a merchant with no fee and a 50% discount on 0.03: two transfers, refunds of one and two units return 0 and 1 of the discount" {
	wpay-bind merchant add nofee --name "No fee" --city Beijing --kind enterprise --verified --fee-rate 0% >/dev/null
	citic p1 --merchant nofee --discount 50% >/dev/null
	run --separate-stderr pay 1001 o1 0.03 nofee
	assert_success
	assert_equal "$(jq -c '[.amount, .fee, .paid, .promotion.discount]' <<<"$output")" '[3,0,2,1]'
	assert_equal "$(db_sql "SELECT kind || ':' || amount FROM transfers WHERE to_account = 'pending:m:nofee' ORDER BY kind" | paste -sd,)" "discount:1,payment:2"
	assert_equal "$(wpay-refund nofee o1 r1 --amount 0.01 | jq -c '[.amount, .fee_returned, .discount_returned]')" '[1,0,null]'
	assert_equal "$(wpay-refund nofee o1 r2 --amount 0.02 | jq -c '[.amount, .fee_returned, .discount_returned]')" '[2,0,1]'
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = 'sponsor:CITIC'")" 0
	assert_ledger_ok
}

@test "attack: an argument of wpay-bind that is not UTF-8 is bad usage, not silently no field (a misleading missing_field)" {
	run --separate-stderr wpay-bind product add vend01 tea --name $'Tea\xff' --price 1.00
	assert_failure 64
	[[ "$stderr" == *"--name is not valid UTF-8 (byte 3)"* ]]
	run --separate-stderr wpay-bind product add vend01 $'t\xffa' --name Tea --price 1.00
	assert_failure 64
	run --separate-stderr wpay-bind promo add p1 --sponsor CITIC --issuer $'CITIC\xff' --card-type credit --all \
		--off 1.00 --from 2026-11-01 --until 2026-12-01
	assert_failure 64
	[[ "$stderr" == *"--issuer is not valid UTF-8"* ]]
	assert_equal "$(db_sql "SELECT (SELECT COUNT(*) FROM products) + (SELECT COUNT(*) FROM promos)")" 0
}
