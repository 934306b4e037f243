#!/usr/bin/env bats
# Error records name what failed: the request's ref and identifying
# fields, and what the program learnt about it (wpay(7), ERRORS), so a
# script matches errors without having kept its requests.

load helper

setup() {
	wpay_setup
	shop_ready
}

@test "a payment that fails names its order, merchant, out_trade_no and wallet, learnt from the order id alone" {
	wpay-order create cafe01 big --amount 500.00 >/dev/null
	id=$(wpay-order query cafe01 big | jq -r .id)
	wallet=$(wpay-bind wallet show u:1001 | jq -r .id)
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <<<"{\"order\":\"$id\",\"ref\":\"line-7\"}"
	assert_failure 1
	assert_equal "$(jq -c '[.type, .code, .ref, .order, .merchant, .out_trade_no, .wallet]' <<<"$output")" \
		"[\"error\",\"insufficient_funds\",\"line-7\",\"$id\",\"m:cafe01\",\"big\",\"$wallet\"]"
}

@test "errors in a stream of orders each name their own out_trade_no; jq picks the failures out" {
	for n in 1 2 3; do wpay-order create cafe01 "o$n" --amount "$((n * 40)).00"; done >"$BATS_TEST_TMPDIR/orders"
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <"$BATS_TEST_TMPDIR/orders"
	assert_failure 1
	# 100.00 pays o1 (40.00) and o2 (80.00 is too much then), not o3 (120.00)
	assert_equal "$(jq -r 'select(.type == "error") | .out_trade_no' <<<"$output" | tr '\n' ' ')" "o2 o3 "
	assert_equal "$(jq -r 'select(.type == "payment") | .order' <<<"$output")" "$(jq -r 'select(.out_trade_no == "o1") | .id' "$BATS_TEST_TMPDIR/orders")"
}

@test "a refund that fails repeats merchant, out_trade_no and out_request_no, and the order it found" {
	wpay-order create cafe01 o1 --amount 25.00 | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null
	id=$(wpay-order query cafe01 o1 | jq -r .id)
	run --separate-stderr wpay-refund cafe01 o1 r1 --amount 30.00
	assert_failure 1
	assert_equal "$(jq -c '[.code, .merchant, .out_trade_no, .out_request_no, .order]' <<<"$output")" \
		"[\"over_refund\",\"cafe01\",\"o1\",\"r1\",\"$id\"]"
	# an order that does not exist: only what the request said
	run --separate-stderr wpay-refund <<<'{"merchant":"cafe01","out_trade_no":"nope","out_request_no":"r9","amount":1,"ref":7}'
	assert_failure 1
	assert_equal "$(jq -cS . <<<"$output" | jq -c 'del(.message)')" \
		'{"code":"not_found","merchant":"cafe01","out_request_no":"r9","out_trade_no":"nope","ref":7,"type":"error"}'
}

@test "an order from a scanned code that is refused names the code's merchant and reference" {
	wpay-mkqr cafe01 --amount 5.00 --reference menu_7 --format text >"$BATS_TEST_TMPDIR/code"
	payload=$(jq -r .payload "$BATS_TEST_TMPDIR/code")
	export WPAY_NOW=2026-12-30T08:00:00Z # long after the code expired
	run --separate-stderr wpay-order --buyer u:1001 <<<"$(jq -nc --arg t "$payload" '{type:"scan", text:$t}')"
	assert_failure 1
	assert_equal "$(jq -c '[.code, .merchant, .reference]' <<<"$output")" '["code_expired","m:cafe01","menu_7"]'
}

@test "identifying fields are repeated only as strings or integers, never a value that is not one" {
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <<<'{"order":{"x":1},"out_trade_no":["a"],"ref":{"k":"v"}}'
	assert_failure 1
	assert_equal "$(jq -c '[.code, has("order"), has("out_trade_no"), .ref]' <<<"$output")" '["bad_field",false,false,{"k":"v"}]'
}

@test "a line that is not a record has no request to repeat: its error gives the line number" {
	run --separate-stderr wpay-order <<<$'{"type":"order","op":"query","order":"ord_x","ref":1}\nnot json'
	assert_failure 1
	assert_equal "$(jq -c '[.code, .ref, .order]' <<<"${lines[0]}")" '["not_found",1,"ord_x"]'
	assert_equal "$(jq -c '[.code, .line]' <<<"${lines[1]}")" '["bad_json",2]'
}

@test "a learnt field does not leak into the next record's error" {
	wpay-order create cafe01 o1 --amount 500.00 >/dev/null
	id=$(wpay-order query cafe01 o1 | jq -r .id)
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <<<"{\"order\":\"$id\"}
{\"order\":\"ord_missing\"}"
	assert_failure 1
	assert_equal "$(jq -c '[.code, .order, .out_trade_no]' <<<"${lines[0]}")" "[\"insufficient_funds\",\"$id\",\"o1\"]"
	assert_equal "$(jq -c '[.code, .order, .out_trade_no]' <<<"${lines[1]}")" '["not_found","ord_missing",null]'
}
