#!/usr/bin/env bats
# wpay-order: orders from the merchant and from scanned codes, and their states.

load helper

setup() {
	wpay_setup
	init_ledger
	export WPAY_NOW=2026-11-22T08:00:00Z
	wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing >/dev/null
	wpay-bind user add 1001 --nickname Lu >/dev/null
}


@test "create: an order; the same again; another amount is a conflict" {
	run --separate-stderr wpay-order create cafe01 table_7 --amount 38.00 --subject Lunch --buyer u:1001
	assert_success
	first=$output
	assert_equal "$(jq -c '[.type, .merchant, .out_trade_no, .amount, .currency, .subject, .buyer, .origin, .state, .expires_at]' <<<"$output")" \
		'["order","m:cafe01","table_7",3800,"CNY","Lunch","u:1001","api","created","2026-11-22T10:00:00Z"]'
	run --separate-stderr wpay-order create cafe01 table_7 --amount 38.00 --subject Lunch --buyer u:1001
	assert_equal "$output" "$first"
	before=$(ledger_digest)
	run --separate-stderr wpay-order create cafe01 table_7 --amount 38.01
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" conflict
	assert_equal "$(ledger_digest)" "$before"
}

@test "create refuses bad requests and changes nothing" {
	before=$(ledger_digest)
	for req in '{"type":"order","merchant":"nope","out_trade_no":"a","amount":1}' \
		'{"type":"order","merchant":"cafe01","out_trade_no":"bad no","amount":1}' \
		'{"type":"order","merchant":"cafe01","out_trade_no":"a","amount":0}' \
		'{"type":"order","merchant":"cafe01","out_trade_no":"a","amount":"1.00"}' \
		'{"type":"order","merchant":"cafe01","out_trade_no":"a","amount":1,"currency":"USD"}' \
		'{"type":"order","merchant":"cafe01","out_trade_no":"a","amount":1,"buyer":"u:9"}' \
		'{"type":"order","merchant":"cafe01","out_trade_no":"a","amount":1,"expires_in":"30s"}' \
		'{"type":"order","merchant":"cafe01","out_trade_no":"a","amount":1,"subject":"a\u0007b"}' \
		'{"type":"order","merchant":"cafe01","out_trade_no":"'"$(printf 'x%.0s' {1..65})"'","amount":1}' \
		'{"type":"order","op":"frob"}' '{"type":"user"}'; do
		run --separate-stderr wpay-order <<<"$req"
		assert_failure 1
		assert_equal "$(jq -r .type <<<"$output")" error
	done
	assert_equal "$(ledger_digest)" "$before"
	run --separate-stderr wpay-order create cafe01 a
	assert_failure 64
}

@test "from a dynamic code: the code fixes merchant, amount and out_trade_no; a replay is the same order" {
	wpay-mkqr cafe01 --amount 25.00 --reference order_1 --expires-in 15m -o "$BATS_TEST_TMPDIR/o1.png" >/dev/null
	run --separate-stderr bash -c "wpay-scanqr '$BATS_TEST_TMPDIR/o1.png' | wpay-order --buyer u:1001"
	assert_success
	first=$output
	assert_equal "$(jq -c '[.out_trade_no, .amount, .origin, .buyer, .expires_at]' <<<"$output")" \
		'["order_1",2500,"dynamic_code","u:1001","2026-11-22T08:15:00Z"]'
	run --separate-stderr bash -c "wpay-scanqr '$BATS_TEST_TMPDIR/o1.png' | wpay-order --buyer u:1001"
	assert_equal "$output" "$first"
}

@test "from a static code: the buyer names the amount and the request" {
	payload=$(wpay-mkqr cafe01 | jq -r .payload)
	run --separate-stderr wpay-order --buyer u:1001 <<<"$(wpay-scanqr --payload <<<"$payload")"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" missing_field
	run --separate-stderr wpay-order --buyer u:1001 --amount 12.50 --out-trade-no req_1 <<<"$(wpay-scanqr --payload <<<"$payload")"
	assert_success
	assert_equal "$(jq -c '[.amount, .out_trade_no, .origin]' <<<"$output")" '[1250,"req_1","static_code"]'
	run --separate-stderr wpay-order --buyer u:1001 <<<"$(wpay-scanqr --payload <<<"$payload" | jq -c '. + {amount: 990, out_trade_no: "req_2"}')"
	assert_success
	assert_equal "$(jq -r .amount <<<"$output")" 990
}

@test "a scan record's claims are not believed: tampered, unsigned, expired, foreign codes are refused" {
	payload=$(wpay-mkqr cafe01 --amount 25.00 --reference o1 --expires-in 15m | jq -r .payload)
	scan=$(wpay-scanqr --payload <<<"$payload")
	tampered=$(recrc "${payload/540525.00/540510.00}")
	[ "$tampered" != "$payload" ]
	before=$(ledger_digest)
	# A forged record: the payload is tampered, the checks claim all is well.
	run --separate-stderr wpay-order --buyer u:1001 <<<"$(jq -c --arg t "$tampered" '.text = $t' <<<"$scan")"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_signature
	unsigned=$(recrc "${payload%%8937*}63040000")
	run --separate-stderr wpay-order --buyer u:1001 <<<"$(jq -c --arg t "$unsigned" '.text = $t' <<<"$scan")"
	assert_equal "$(jq -r .code <<<"$output")" unsigned_code
	export WPAY_NOW=2026-11-22T08:15:00Z
	run --separate-stderr wpay-order --buyer u:1001 <<<"$scan"
	assert_equal "$(jq -r .code <<<"$output")" code_expired
	assert_equal "$stderr" "wpay-order: the code expired at 2026-11-22T08:15:00Z; ask the merchant for a new one (<stdin>:1)"
	assert_equal "$(ledger_digest)" "$before"
}

@test "--allow-unsigned takes a code without a signature, if the merchant is ours" {
	payload=$(wpay-mkqr cafe01 | jq -r .payload)
	unsigned=$(recrc "${payload%%8923*}63040000")
	scan=$(wpay-scanqr --payload <<<"$unsigned")
	run --separate-stderr wpay-order --allow-unsigned --buyer u:1001 --amount 1.00 --out-trade-no u1 <<<"$scan"
	assert_success
	stranger=$(recrc "${unsigned//0106cafe01/0106nobody}")
	run --separate-stderr wpay-order --allow-unsigned --buyer u:1001 --amount 1.00 --out-trade-no u2 <<<"$(wpay-scanqr --payload <<<"$stranger")"
	assert_equal "$(jq -r .code <<<"$output")" unknown_merchant
}

@test "query, close, and expire from cron; a closed order answers again" {
	wpay-order create cafe01 a --amount 1.00 >/dev/null
	wpay-order create cafe01 b --amount 2.00 --expires-in 4h >/dev/null
	run --separate-stderr wpay-order query cafe01 a
	assert_equal "$(jq -r .state <<<"$output")" created
	id=$(jq -r .id <<<"$output")
	run --separate-stderr wpay-order close "$id"
	assert_success
	assert_equal "$(jq -c '[.state, .close_reason, .closed_at]' <<<"$output")" '["closed","closed","2026-11-22T08:00:00Z"]'
	run --separate-stderr wpay-order close "$id"
	assert_success
	export WPAY_NOW=2026-11-22T11:00:00Z
	wpay-order create cafe01 c --amount 3.00 >/dev/null
	run --separate-stderr wpay-order expire
	assert_success
	assert_equal "$(jq -c '[.type, .closed, .finished]' <<<"$output")" '["expire",0,0]'
	export WPAY_NOW=2026-11-22T12:00:00Z
	run --separate-stderr wpay-order expire
	assert_equal "$(jq -c '[.closed]' <<<"$output")" '[1]'
	assert_equal "$(wpay-order query cafe01 b | jq -c '[.state, .close_reason]')" '["closed","expired"]'
	assert_equal "$(wpay-order query cafe01 c | jq -r .state)" created
	run --separate-stderr wpay-order query cafe01 nope
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" not_found
}

@test "an error record from upstream passes through in its place" {
	run --separate-stderr wpay-order <<-EOF
		{"type":"error","code":"no_code","message":"x","source":"a.png"}
		{"type":"order","merchant":"cafe01","out_trade_no":"a","amount":100}
	EOF
	assert_failure 1
	assert_equal "$(jq -r .type <<<"$output" | paste -sd,)" "error,order"
	assert_equal "$(jq -r .code <<<"$output" | head -1)" no_code
}
