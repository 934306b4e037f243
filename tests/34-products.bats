#!/usr/bin/env bats
# Products: the catalog (wpay-bind product), reusable product codes and
# cards (wpay-mkqr --product, --card), orders from them at the catalog's
# price (wpay-order), and stock taken at payment (wpay-pay).

load helper

setup() {
	wpay_setup
	init_ledger
	export WPAY_NOW=2026-11-22T08:00:00Z
	wpay-bind merchant add shop1 --name "Tea Shop" --city Hangzhou --kind enterprise --verified >/dev/null
	cd "$BATS_TEST_TMPDIR" # the images the tests draw
}

# Buyers u:1001 ... with cards, PIN 135790 and 100.00 each.
buyers() {
	local uid pans=(4111111111111111 5555555555554444 4012888888881881 378282246310005 6011111111111117)
	for uid in "$@"; do
		buyer_ready "$uid" "${pans[$((uid - 1001))]}"
		wpay-bind wallet topup "u:$uid" --amount 100.00 --request-no "t$uid" >/dev/null
	done
}

# A product and its code in tea.png.
tea() {
	wpay-bind product add shop1 tea --name "Green tea" --price 12.50 "$@" >/dev/null
	wpay-mkqr shop1 --product tea -o tea.png >/dev/null
}

pay() { # BUYER ORDER
	wpay-pay --buyer "u:$1" --pin-fd 3 3<<<135790 <<<"{\"order\":\"$2\"}"
}

@test "catalog: add, replay, show, list, update, remove, add again" {
	run --separate-stderr wpay-bind product add shop1 tea --name "Green tea" --price 12.50 --stock 5
	assert_success
	assert_equal "$(jq -c '[.type, .merchant, .sku, .name, .price, .currency, .stock, .sold, .created_at, .updated_at, has("removed_at")]' <<<"$output")" \
		'["product","m:shop1","tea","Green tea",1250,"CNY",5,0,"2026-11-22T08:00:00Z","2026-11-22T08:00:00Z",false]'
	first=$output
	# The same again answers the same record; anything else is a conflict.
	run --separate-stderr wpay-bind product add m:shop1 tea --name "Green tea" --price 12.50 --stock 5
	assert_success
	assert_equal "$output" "$first"
	before=$(ledger_digest)
	for args in "--name Green --price 12.50 --stock 5" "--name tea --price 12.51 --stock 5" "--name tea --price 12.50"; do
		run --separate-stderr wpay-bind product add shop1 tea $args
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" conflict
	done
	assert_equal "$(ledger_digest)" "$before"
	run --separate-stderr wpay-bind product show shop1 tea
	assert_equal "$output" "$first"
	# A product whose stock is not counted, and JSON requests.
	run --separate-stderr wpay-bind <<<'{"type":"product","op":"add","merchant":"shop1","sku":"cake_2","name":"Cake","price":800,"ref":7}'
	assert_success
	assert_equal "$(jq -c '[.sku, .price, .stock, .ref]' <<<"$output")" '["cake_2",800,null,7]'
	run --separate-stderr wpay-bind product list shop1
	assert_equal "$(jq -sc 'map(.sku)' <<<"$output")" '["cake_2","tea"]'
	# For a person: prices as money.
	run --separate-stderr bash -c 'wpay-bind product list shop1 | wpay-fmt'
	assert_success
	assert_line --regexp '^  product +m:shop1 +tea +Green tea +12\.50 CNY +5 +0 '

	export WPAY_NOW=2026-11-22T09:00:00Z
	run --separate-stderr wpay-bind product update shop1 tea --price 13 --stock none
	assert_success
	assert_equal "$(jq -c '[.name, .price, .stock, .created_at, .updated_at]' <<<"$output")" \
		'["Green tea",1300,null,"2026-11-22T08:00:00Z","2026-11-22T09:00:00Z"]'
	run --separate-stderr wpay-bind product update shop1 tea --stock 0 --name "Tea, green"
	assert_equal "$(jq -c '[.name, .price, .stock]' <<<"$output")" '["Tea, green",1300,0]'
	run --separate-stderr wpay-bind <<<'{"type":"product","op":"update","merchant":"shop1","sku":"tea","stock":null}'
	assert_equal "$(jq -c '.stock' <<<"$output")" null
	run --separate-stderr wpay-bind product remove shop1 tea
	assert_success
	assert_equal "$(jq -r .removed_at <<<"$output")" 2026-11-22T09:00:00Z
	removed=$output
	run --separate-stderr wpay-bind product remove shop1 tea
	assert_equal "$output" "$removed"
	run --separate-stderr wpay-bind product update shop1 tea --price 1
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" product_removed
	# Added again: back, with the details given.
	run --separate-stderr wpay-bind product add shop1 tea --name "Black tea" --price 9.90 --stock 3
	assert_success
	assert_equal "$(jq -c '[.name, .price, .stock, has("removed_at")]' <<<"$output")" '["Black tea",990,3,false]'
}

@test "catalog: every bad input is refused and changes nothing" {
	wpay-bind product add shop1 tea --name "Green tea" --price 12.50 >/dev/null
	wpay-bind merchant add usd1 --name "Dollar" --city Boston --country US --currency USD --kind enterprise --verified >/dev/null
	before=$(ledger_digest)
	# Command line: the decimal is checked before the ledger is opened.
	for args in "--price -1" "--price 1.234" "--price 99999999999999999" "--price abc" "--stock -1" "--stock 1.5" "--stock lots"; do
		run --separate-stderr wpay-bind product add shop1 x --name X $args
		assert_failure 64
	done
	run --separate-stderr wpay-bind product add shop1
	assert_failure 64
	run --separate-stderr wpay-bind product list
	assert_failure 64
	run --separate-stderr wpay-bind --price 1.00
	assert_failure 64
	check() { # CODE ARGS...
		local code=$1
		shift
		run --separate-stderr wpay-bind "$@"
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" "$code"
	}
	check bad_amount product add shop1 x --name X --price 0
	check bad_field product add shop1 "bad sku" --name X --price 1
	check bad_field product add shop1 "$(printf 'a%.0s' {1..26})" --name X --price 1
	check missing_field product add shop1 "" --name X --price 1
	check bad_field product add shop1 "tea';--" --name X --price 1
	check currency_mismatch product add shop1 x --name X --price 1 --currency USD
	check currency_mismatch product add usd1 x --name X --price 1
	check unknown_merchant product add nope x --name X --price 1
	check unknown_merchant product list nope
	check missing_field product add shop1 x --price 1
	check missing_field product add shop1 x --name X
	check unknown_product product show shop1 coffee
	check unknown_product product update shop1 coffee --price 1
	check unknown_product product remove shop1 coffee
	check missing_field product update shop1 tea
	# JSON: minor units, whole, in range; stock a whole number or null.
	for req in '{"price":0}' '{"price":-1}' '{"price":"12.50"}' '{"price":12.5}' '{"price":1000000000000001}' \
		'{"price":99999999999999999}'; do
		run --separate-stderr wpay-bind <<<"$(jq -c '. + {type:"product",op:"add",merchant:"shop1",sku:"x",name:"X"}' <<<"$req")"
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" bad_amount
	done
	for req in '{"stock":-1}' '{"stock":"3"}' '{"stock":1.5}' '{"name":""}' '{"name":"a\u0007b"}' '{"sku":12}'; do
		run --separate-stderr wpay-bind <<<"$(jq -c '{type:"product",op:"add",merchant:"shop1",sku:"x",name:"X",price:1} + .' <<<"$req")"
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" bad_field
	done
	# The limits themselves: a 25-character SKU, a 128-character name in any script.
	long=$(printf '茶%.0s' {1..128})
	run --separate-stderr wpay-bind product add shop1 "$(printf 'a%.0s' {1..25})" --name "$long" --price 0.01 --stock none
	assert_success
	assert_equal "$(jq -c '[(.sku | length), (.name | length), .price, .stock]' <<<"$output")" '[25,128,1,null]'
	run --separate-stderr wpay-bind product add shop1 y --name "${long}茶" --price 1
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	before=$(ledger_digest)
	run --separate-stderr wpay-bind <<<'{"type":"product","op":"sell","merchant":"shop1","sku":"tea"}'
	assert_equal "$(jq -r .code <<<"$output")" unknown_request
	assert_equal "$(ledger_digest)" "$before"
}

@test "a product code: static, the SKU signed in 62.05 and 89.03; every scan by any buyer is a new order" {
	buyers 1001 1002 1003
	wpay-bind product add shop1 tea --name "Green tea" --price 12.50 >/dev/null
	run --separate-stderr wpay-mkqr shop1 --product tea -o tea.png
	assert_success
	assert_equal "$(jq -c '[.type, .mode, .product, .name, .price, .merchant_name, has("amount"), has("reference"), has("expires_at")]' <<<"$output")" \
		'["code","static","tea","Green tea",1250,"Tea Shop",false,false,false]'
	payload=$(jq -r .payload <<<"$output")
	[[ $payload == 000201010211* ]]
	[[ $payload == *62070503tea* ]]
	[[ $payload == *0303tea90* ]]
	run --separate-stderr wpay-scanqr tea.png
	assert_equal "$(jq -c '[.product, .mode, .checks.signature, .merchant.reference, ([.emv.objects[].id] | index("54"))]' <<<"$output")" \
		'["tea","static","valid","tea",null]'
	ids=()
	for uid in 1001 1002 1003 1001; do
		run --separate-stderr bash -c "wpay-scanqr tea.png | wpay-order --buyer u:$uid"
		assert_success
		assert_equal "$(jq -c '[.origin, .amount, .subject, .buyer, .product, .quantity, .state, .out_trade_no == .id, has("request_no")]' <<<"$output")" \
			"[\"product_code\",1250,\"Green tea\",\"u:$uid\",\"tea\",1,\"created\",true,false]"
		ids+=("$(jq -r .id <<<"$output")")
	done
	assert_equal "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)" 4
	# All pay: no conflict for the second buyer (the price list's old bug).
	for i in 0 1 2; do
		run --separate-stderr pay $((1001 + i)) "${ids[$i]}"
		assert_success
		assert_equal "$(jq -r .amount <<<"$output")" 1250
	done
	assert_equal "$(wpay-bind product show shop1 tea | jq -c '[.stock, .sold]')" '[null,3]'
	# A list shows an order as a query does.
	assert_equal "$(wpay-order list --buyer u:1002)" "$(wpay-order query "${ids[1]}")"
	assert_ledger_ok
}

@test "a product order: quantity, the buyer's request_no replays, out_trade_no is the ledger's" {
	buyers 1001
	tea
	run --separate-stderr bash -c "wpay-scanqr tea.png | wpay-order --buyer u:1001 --quantity 3 --request-no r1"
	assert_success
	first=$output
	assert_equal "$(jq -c '[.amount, .quantity, .request_no]' <<<"$output")" '[3750,3,"r1"]'
	# A replay answers the same order, even after a price change.
	wpay-bind product update shop1 tea --price 20 >/dev/null
	run --separate-stderr bash -c "wpay-scanqr tea.png | wpay-order --buyer u:1001 --quantity 3 --request-no r1"
	assert_equal "$output" "$first"
	run --separate-stderr bash -c "wpay-scanqr tea.png | wpay-order --buyer u:1001 --quantity 2 --request-no r1"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" conflict
	# ... and after it sold out, or left the catalog.
	wpay-bind product update shop1 tea --stock 0 >/dev/null
	run --separate-stderr bash -c "wpay-scanqr tea.png | wpay-order --buyer u:1001 --quantity 3 --request-no r1"
	assert_equal "$output" "$first"
	wpay-bind product remove shop1 tea >/dev/null
	run --separate-stderr bash -c "wpay-scanqr tea.png | wpay-order --buyer u:1001 --quantity 3 --request-no r1"
	assert_equal "$output" "$first"
	wpay-bind product add shop1 tea --name "Green tea" --price 20 >/dev/null
	scan=$(wpay-scanqr tea.png)
	before=$(ledger_digest)
	for q in 0 -1 10001 '"2"' 1.5; do
		run --separate-stderr wpay-order --buyer u:1001 <<<"$(jq -c ". + {quantity: $q}" <<<"$scan")"
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" bad_field
	done
	for q in 0 -1 10001 x; do
		run --separate-stderr wpay-order --buyer u:1001 --quantity "$q" <<<"$scan"
		assert_failure 64
	done
	run --separate-stderr wpay-order --buyer u:1001 <<<"$(jq -c '. + {out_trade_no: "mine"}' <<<"$scan")"
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	run --separate-stderr wpay-order <<<"$scan"
	assert_equal "$(jq -r .code <<<"$output")" missing_field
	run --separate-stderr wpay-order --buyer u:1001 --request-no 'bad no' <<<"$scan"
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	run --separate-stderr wpay-order --buyer u:9999 <<<"$scan"
	assert_equal "$(jq -r .code <<<"$output")" not_found
	run --separate-stderr wpay-order create shop1 x --amount 1.00 --quantity 2
	assert_failure 64
	assert_equal "$(ledger_digest)" "$before"
	# A quantity whose price passes the limit of an amount.
	wpay-bind product update shop1 tea --price 999999999999.99 >/dev/null
	run --separate-stderr wpay-order --buyer u:1001 --quantity 10000 <<<"$scan"
	assert_equal "$(jq -r .code <<<"$output")" bad_amount
}

@test "a price change holds at once for new scans; orders made before keep their price" {
	buyers 1001 1002
	tea
	old=$(wpay-scanqr tea.png | wpay-order --buyer u:1001 | jq -r .id)
	wpay-bind product update shop1 tea --price 15.00 >/dev/null
	run --separate-stderr bash -c "wpay-scanqr tea.png | wpay-order --buyer u:1002"
	assert_equal "$(jq -r .amount <<<"$output")" 1500
	run --separate-stderr pay 1001 "$old"
	assert_success
	assert_equal "$(jq -r .amount <<<"$output")" 1250
	assert_ledger_ok
}

@test "a removed product: no code, no order; added again, its old codes order again" {
	buyers 1001
	tea
	wpay-bind product remove shop1 tea >/dev/null
	before=$(ledger_digest)
	run --separate-stderr bash -c "wpay-scanqr tea.png | wpay-order --buyer u:1001"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" product_removed
	run --separate-stderr wpay-mkqr shop1 --product tea
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" product_removed
	run --separate-stderr wpay-mkqr shop1 --product coffee
	assert_equal "$(jq -r .code <<<"$output")" unknown_product
	run --separate-stderr wpay-mkqr shop1 --product 'bad sku'
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	run --separate-stderr wpay-mkqr nope --product tea
	assert_equal "$(jq -r .code <<<"$output")" unknown_merchant
	assert_equal "$(ledger_digest)" "$before"
	wpay-bind product add shop1 tea --name "Green tea" --price 11.00 >/dev/null
	run --separate-stderr bash -c "wpay-scanqr tea.png | wpay-order --buyer u:1001"
	assert_success
	assert_equal "$(jq -r .amount <<<"$output")" 1100
}

@test "an order made before its product was removed is still paid, at its price, and its stock is taken" {
	buyers 1001 1002
	tea --stock 3
	a=$(wpay-scanqr tea.png | wpay-order --buyer u:1001 --quantity 2 | jq -r .id)
	b=$(wpay-scanqr tea.png | wpay-order --buyer u:1002 | jq -r .id)
	wpay-bind product remove shop1 tea >/dev/null
	run --separate-stderr pay 1001 "$a"
	assert_success
	assert_equal "$(jq -c '[.type, .amount]' <<<"$output")" '["payment",2500]'
	assert_equal "$(wpay-bind product show shop1 tea | jq -c '[.stock, .sold, has("removed_at")]')" '[1,2,true]'
	# Its stock still counts: one left, so the second order takes it.
	run --separate-stderr pay 1002 "$b"
	assert_success
	assert_equal "$(wpay-bind product show shop1 tea | jq -c '[.stock, .sold]')" '[0,3]'
	assert_ledger_ok
}

@test "a product code changed by hand fails its signature; its product marker only counts when signed" {
	buyers 1001
	tea
	wpay-bind product add shop1 tex --name Cheap --price 0.01 >/dev/null
	payload=$(jq -r .text <(wpay-scanqr tea.png))
	before=$(ledger_digest)
	# Another product of the cafe in 62.05 and 89.03, the CRC made good.
	forged=$(recrc "$(sed 's/0503tea/0503tex/; s/0303tea/0303tex/' <<<"$payload")")
	[[ $forged == *0303tex90* ]]
	for text in "$forged" "$(recrc "${payload/0303tea/0303cak}")"; do
		run --separate-stderr wpay-order --buyer u:1001 <<<"$(jq -nc --arg t "$text" '{type:"scan", text:$t}')"
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" bad_signature
	done
	# Without the signature it is no product code: an unsigned static code.
	unsigned=$(recrc "${payload%%90980004*}6304XXXX")
	run --separate-stderr wpay-order --buyer u:1001 --request-no u1 --allow-unsigned --amount 0.01 \
		<<<"$(jq -nc --arg t "$unsigned" '{type:"scan", text:$t}')"
	assert_success
	assert_equal "$(jq -c '[.origin, .amount, has("product")]' <<<"$output")" '["static_code",1,false]'
	run --separate-stderr wpay-order --buyer u:1001 <<<"$(jq -nc --arg t "$unsigned" '{type:"scan", text:$t}')"
	assert_equal "$(jq -r .code <<<"$output")" unsigned_code
}

@test "sold_out at order time, and at payment: nothing moves, the order stays unpaid; refunds do not restock" {
	buyers 1001 1002
	tea --stock 2
	run --separate-stderr bash -c "wpay-scanqr tea.png | wpay-order --buyer u:1001 --quantity 3"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" sold_out
	a=$(wpay-scanqr tea.png | wpay-order --buyer u:1001 --quantity 2 | jq -r .id)
	b=$(wpay-scanqr tea.png | wpay-order --buyer u:1002 | jq -r .id)
	run --separate-stderr pay 1001 "$a"
	assert_success
	assert_equal "$(jq -r .amount <<<"$output")" 2500
	paid=$output
	assert_equal "$(wpay-bind product show shop1 tea | jq -c '[.stock, .sold]')" '[0,2]'
	before=$(ledger_digest)
	run --separate-stderr pay 1002 "$b"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" sold_out
	assert_equal "$(ledger_digest)" "$before"
	assert_equal "$(wpay-order query "$b" | jq -r .state)" created
	# Paying the paid one again answers it and takes nothing.
	run --separate-stderr pay 1001 "$a"
	assert_equal "$output" "$paid"
	run --separate-stderr bash -c "wpay-scanqr tea.png | wpay-order --buyer u:1002"
	assert_equal "$(jq -r .code <<<"$output")" sold_out
	# A refund gives money back, not stock; a restock lets b be paid.
	wpay-refund shop1 "$a" rf1 --amount 12.50 --reason broken >/dev/null
	assert_equal "$(wpay-bind product show shop1 tea | jq -c '[.stock, .sold]')" '[0,2]'
	wpay-bind product update shop1 tea --stock 1 >/dev/null
	run --separate-stderr pay 1002 "$b"
	assert_success
	assert_equal "$(wpay-bind product show shop1 tea | jq -c '[.stock, .sold]')" '[0,3]'
	assert_ledger_ok
}

@test "two wpay-pay processes racing for the last unit: exactly one pays" {
	buyers 1001 1002
	tea --stock 0
	for round in 1 2 3 4; do
		wpay-bind product update shop1 tea --stock 1 >/dev/null
		a=$(wpay-scanqr tea.png | wpay-order --buyer u:1001 | jq -r .id)
		b=$(wpay-scanqr tea.png | wpay-order --buyer u:1002 | jq -r .id)
		pay 1001 "$a" >"$BATS_TEST_TMPDIR/a.out" 2>/dev/null &
		pa=$!
		pay 1002 "$b" >"$BATS_TEST_TMPDIR/b.out" 2>/dev/null &
		pb=$!
		ra=0 rb=0
		wait $pa || ra=$?
		wait $pb || rb=$?
		assert_equal "$(sort <<<"$ra $rb" | tr ' ' '\n' | sort | tr '\n' ' ')" "0 1 "
		assert_equal "$(cat "$BATS_TEST_TMPDIR/a.out" "$BATS_TEST_TMPDIR/b.out" | jq -r '.type + ":" + (.code // "")' | sort | tr '\n' ' ')" \
			"error:sold_out payment: "
		assert_equal "$(wpay-order query "$a" | jq -r .state)$(wpay-order query "$b" | jq -r .state)" \
			"$( ((ra == 0)) && echo paidcreated || echo createdpaid)"
		assert_equal "$(wpay-bind product show shop1 tea | jq -c '[.stock, .sold]')" "[0,$round]"
	done
	assert_ledger_ok
}

@test "two batches of payments racing for the last units: exactly the stock is sold, whole payments only" {
	buyers 1001
	tea --stock 3
	for i in 1 2 3 4 5 6; do
		wpay-scanqr tea.png | wpay-order --buyer u:1001 | jq -c '{order: .id}' >>"$BATS_TEST_TMPDIR/o$((i % 2))"
	done
	wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <"$BATS_TEST_TMPDIR/o0" >"$BATS_TEST_TMPDIR/p0" 2>/dev/null &
	p0=$!
	wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <"$BATS_TEST_TMPDIR/o1" >"$BATS_TEST_TMPDIR/p1" 2>/dev/null &
	p1=$!
	wait $p0 || true
	wait $p1 || true
	assert_equal "$(cat "$BATS_TEST_TMPDIR/p0" "$BATS_TEST_TMPDIR/p1" | jq -r '.type + ":" + (.code // "")' | sort | uniq -c | tr -s ' \n' '  ')" \
		" 3 error:sold_out 3 payment: "
	assert_equal "$(wpay-bind product show shop1 tea | jq -c '[.stock, .sold]')" '[0,3]'
	assert_equal "$(wpay-order list --buyer u:1001 --state paid | wc -l)" 3
	assert_equal "$(wpay-bind wallet balance u:1001 | jq -r .balance)" $((10000 - 3 * 1250))
	assert_ledger_ok
}

@test "a product card: its record and link; ordering from the card and from its link gives the same order" {
	buyers 1001
	wpay-bind product add shop1 tea --name 'Tea "Long Jing" =1+1 100%' --price 12.50 >/dev/null
	run --separate-stderr wpay-mkqr shop1 --product tea --card -o card.png
	assert_success
	card=$output
	assert_equal "$(jq -c '[.type, .title, .price, .currency, .merchant, .merchant_name, .sku, (.file // null)]' <<<"$card")" \
		'["product_card","Tea \"Long Jing\" =1+1 100%",1250,"CNY","m:shop1","Tea Shop","tea","card.png"]'
	[ "$(stat -c %s card.png)" -gt 500 ]
	payload=$(jq -r .payload <<<"$card")
	link=$(jq -r .link <<<"$card")
	[[ $link == https://pay.weibo.example/qr?c=* ]]
	# The link is the payload, percent-encoded: '+' and ' ' never appear raw.
	[[ ${link#*c=} != *[\ +/]* ]]
	assert_equal "$(python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.argv[1].split("c=", 1)[1]))' "$link")" "$payload"
	assert_equal "$(jq -r .text <(wpay-scanqr card.png))" "$payload"
	run --separate-stderr wpay-scanqr --payload <<<"$link"
	assert_success
	assert_equal "$(jq -c '[.format, .text == $p, .link == $l, .product, .checks.signature]' --arg p "$payload" --arg l "$link" <<<"$output")" \
		'["emv",true,true,"tea","valid"]'
	shape='[.type, .origin, .amount, .subject, .product, .quantity, .buyer]'
	from_card=$(wpay-order --buyer u:1001 <<<"$card" | jq -c "$shape")
	from_link=$(wpay-scanqr --payload <<<"$link" | wpay-order --buyer u:1001 | jq -c "$shape")
	from_code=$(wpay-scanqr card.png | wpay-order --buyer u:1001 | jq -c "$shape")
	assert_equal "$from_card" '["order","product_code",1250,"Tea \"Long Jing\" =1+1 100%","tea",1,"u:1001"]'
	assert_equal "$from_link" "$from_card"
	assert_equal "$from_code" "$from_card"
	# A card request on stdin; a card is for products only.
	run --separate-stderr wpay-mkqr <<<'{"merchant":"shop1","product":"tea","card":true}'
	assert_equal "$(jq -r .type <<<"$output")" product_card
	run --separate-stderr wpay-mkqr <<<'{"merchant":"shop1","card":true}'
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	run --separate-stderr wpay-mkqr <<<'{"merchant":"shop1","product":"tea","card":"yes"}'
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	run --separate-stderr wpay-mkqr <<<'{"merchant":"shop1","product":"tea","amount":100,"reference":"x"}'
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	run --separate-stderr wpay-mkqr shop1 --card
	assert_failure 64
	run --separate-stderr wpay-mkqr shop1 --product tea --amount 1.00 --reference x
	assert_failure 64
	run --separate-stderr wpay-mkqr --product tea
	assert_failure 64
}

@test "a card's image over a planted symlink replaces the link, never writes through it" {
	tea
	echo keep >"$BATS_TEST_TMPDIR/target"
	ln -s "$BATS_TEST_TMPDIR/target" card.png
	run --separate-stderr wpay-mkqr shop1 --product tea --card -o card.png
	assert_success
	assert_equal "$(cat "$BATS_TEST_TMPDIR/target")" keep
	[ ! -L card.png ] && [ "$(stat -c %s card.png)" -gt 500 ]
}

@test "a card link that is not only a payload is a web address, not a code" {
	buyers 1001
	tea
	link=$(wpay-mkqr shop1 --product tea --card | jq -r .link)
	for text in "$link&c=000201" "$link#x" "https://pay.weibo.example/qr?c=" "https://pay.weibo.example/qr?c=%0A$link" \
		"https://pay.weibo.example/qr?c=%zz" "https://pay.weibo.example/qr?c=%00"; do
		run --separate-stderr wpay-scanqr --payload <<<"$text"
		assert_equal "$(jq -r .format <<<"$output")" url
		run --separate-stderr bash -c 'wpay-scanqr --payload | wpay-order --buyer u:1001' <<<"$text"
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" bad_code
	done
}

@test "README's price list: a catalog from a menu, one code per product, any number of buyers" {
	buyers 1001 1002 1003
	printf '{"sku":"latte","name":"Latte","fen":2500}\n{"sku":"mocha","name":"Mocha","fen":2800}\n' >menu.json
	run --separate-stderr bash -c "jq -c '{type:\"product\", merchant:\"shop1\", sku:.sku, name:.name, price:.fen}' menu.json | wpay-bind"
	assert_success
	mkdir codes
	run --separate-stderr bash -c "jq -c '{merchant:\"shop1\", product:.sku, ref:.sku}' menu.json | wpay-mkqr --out-dir codes --name '{ref}.png'"
	assert_success
	assert_equal "$(jq -sc 'map([.product, .file])' <<<"$output")" '[["latte","codes/latte.png"],["mocha","codes/mocha.png"]]'
	for uid in 1001 1002 1003; do
		run --separate-stderr bash -c "wpay-scanqr codes/latte.png | wpay-order --buyer u:$uid --quantity 2 | wpay-pay --pin-fd 3 3<<<135790"
		assert_success
		assert_equal "$(jq -c '[.type, .amount, .buyer]' <<<"$output")" "[\"payment\",5000,\"u:$uid\"]"
	done
	assert_equal "$(wpay-bind product show shop1 latte | jq -r .sold)" 6
	assert_ledger_ok
}

@test "a card of a merchant named in Chinese: the link carries the UTF-8 payload, and orders" {
	buyers 1001
	wpay-bind merchant add cha1 --name "西湖茶馆" --city "杭州" --kind enterprise --verified >/dev/null
	wpay-bind product add cha1 longjing --name "龙井 250g" --price 88.00 >/dev/null
	card=$(wpay-mkqr cha1 --product longjing --card)
	link=$(jq -r .link <<<"$card")
	[[ $link == *%E8%A5%BF%E6%B9%96* ]]
	assert_equal "$(wpay-scanqr --payload <<<"$link" | jq -r .text)" "$(jq -r .payload <<<"$card")"
	run --separate-stderr bash -c 'wpay-scanqr --payload | wpay-order --buyer u:1001 | wpay-pay --pin-fd 3 3<<<135790' <<<"$link"
	assert_success
	assert_equal "$(jq -c '[.type, .amount]' <<<"$output")" '["payment",8800]'
	assert_equal "$(wpay-bind product show cha1 longjing | jq -r .sold)" 1
}
