#!/usr/bin/env bats
# wpay-order: orders from the merchant and from scanned codes, and their states.

load helper

setup() {
	wpay_setup
	init_ledger
	export WPAY_NOW=2026-11-22T08:00:00Z
	wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing >/dev/null
	wpay-bind merchant approve cafe01 >/dev/null
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
	run --separate-stderr wpay-order --buyer u:1001 --amount 12.50 --request-no req_1 <<<"$(wpay-scanqr --payload <<<"$payload")"
	assert_success
	assert_equal "$(jq -c '[.amount, .request_no, .origin, .out_trade_no == .id]' <<<"$output")" '[1250,"req_1","static_code",true]'
	run --separate-stderr wpay-order --buyer u:1001 <<<"$(wpay-scanqr --payload <<<"$payload" | jq -c '. + {amount: 990, request_no: "req_2"}')"
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
	run --separate-stderr wpay-order --allow-unsigned --buyer u:1001 --amount 1.00 --request-no u1 <<<"$scan"
	assert_success
	stranger=$(recrc "${unsigned//0106cafe01/0106nobody}")
	run --separate-stderr wpay-order --allow-unsigned --buyer u:1001 --amount 1.00 --request-no u2 <<<"$(wpay-scanqr --payload <<<"$stranger")"
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

# Two buyers with money: u:2001 (the merchant's real customer) and u:2002.
two_buyers() {
	buyer_ready 2001 4111111111111111
	buyer_ready 2002 5555555555554444
	wpay-bind wallet topup u:2001 --amount 100.00 --request-no t1 >/dev/null
	wpay-bind wallet topup u:2002 --amount 100.00 --request-no t1 >/dev/null
}

@test "attack: a buyer cannot take the merchant's out_trade_no through a static code (issue 10, C2)" {
	two_buyers
	static=$(wpay-mkqr cafe01 | jq -r .payload)
	dynamic=$(wpay-mkqr cafe01 --amount 25.00 --reference order_2 | jq -r .payload)
	before=$(ledger_digest)
	# The attack as reported: order 0.01 from the static code under the merchant's order_2, and pay it.
	run --separate-stderr bash -c "set -o pipefail; wpay-scanqr --payload <<<'$static' |
		wpay-order --buyer u:2002 --amount 0.01 --out-trade-no order_2 | wpay-pay --pin-fd 3 3<<<135790"
	assert_failure
	assert_equal "$(ledger_digest)" "$before"
	# The same as a field of the scan record.
	run --separate-stderr wpay-order --buyer u:2002 --request-no r1 <<<"$(wpay-scanqr --payload <<<"$static" | jq -c '. + {amount: 1, out_trade_no: "order_2"}')"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	assert_equal "$stderr" "wpay-order: out_trade_no 'order_2' belongs to the merchant; a buyer names an order from a static code by request_no (<stdin>:1)"
	assert_equal "$(ledger_digest)" "$before"
	# order_2 as the buyer's own request number lands in the buyer's namespace, not the merchant's.
	run --separate-stderr bash -c "set -o pipefail; wpay-scanqr --payload <<<'$static' |
		wpay-order --buyer u:2002 --amount 0.01 --request-no order_2 | wpay-pay --pin-fd 3 3<<<135790"
	assert_success
	assert_equal "$(jq -c '[.amount, .buyer]' <<<"$output")" '[1,"u:2002"]'
	attacker=$(jq -r .order <<<"$output")
	assert_equal "$(jq -r .out_trade_no <<<"$output")" "$attacker"
	assert_equal "$(wpay-order query "$attacker" | jq -c '[.out_trade_no == .id, .request_no, .origin]')" '[true,"order_2","static_code"]'
	# The real buyer scans the real code: order_2 is ordered and paid for 25.00.
	run --separate-stderr bash -c "set -o pipefail; wpay-scanqr --payload <<<'$dynamic' |
		wpay-order --buyer u:2001 | wpay-pay --pin-fd 3 3<<<135790"
	assert_success
	assert_equal "$(jq -c '[.out_trade_no, .amount, .buyer]' <<<"$output")" '["order_2",2500,"u:2001"]'
	assert_equal "$(wpay-order query cafe01 order_2 | jq -c '[.amount, .state, .buyer, .reference, .request_no]')" '[2500,"paid","u:2001","order_2",null]'
	paid=$(db_sql "SELECT body FROM events WHERE kind = 'order.paid'")
	assert_equal "$(jq -r 'select(.out_trade_no == "order_2") | .amount' <<<"$paid")" 2500
	# The merchant's notifications tell the two apart: its code's reference, the buyer's request number.
	assert_equal "$(jq -sr 'sort_by(.amount)[] | "\(.amount):\(.reference // "-"):\(.request_no // "-")"' <<<"$paid")" \
		"$(printf '1:-:order_2\n2500:order_2:-')"
	assert_ledger_ok
}

@test "a static code's order is the buyer's: keyed by buyer and request_no, replayed, never shared" {
	two_buyers
	wpay-bind merchant add shop02 --name "Shop Two" --city Beijing >/dev/null
	wpay-bind merchant approve shop02 >/dev/null
	static=$(wpay-mkqr cafe01 | jq -r .payload)
	scan=$(wpay-scanqr --payload <<<"$static")
	run --separate-stderr wpay-order --buyer u:2001 --amount 12.50 --request-no r1 <<<"$scan"
	assert_success
	first=$output
	assert_equal "$(jq -c '[.amount, .buyer, .request_no, .origin, (.out_trade_no == .id), has("reference")]' <<<"$output")" \
		'[1250,"u:2001","r1","static_code",true,false]'
	# A replay, by option or by field, answers the same order.
	run --separate-stderr wpay-order --buyer u:2001 --amount 12.50 --request-no r1 <<<"$scan"
	assert_equal "$output" "$first"
	run --separate-stderr wpay-order <<<"$(jq -c '. + {buyer: "u:2001", amount: 1250, request_no: "r1"}' <<<"$scan")"
	assert_equal "$output" "$first"
	before=$(ledger_digest)
	# The same key for another amount, or at another merchant, is a conflict.
	run --separate-stderr wpay-order --buyer u:2001 --amount 12.51 --request-no r1 <<<"$scan"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" conflict
	assert_equal "$stderr" "wpay-order: request_no r1 of u:2001 is order $(jq -r .id <<<"$first"), for another merchant or amount; use a new request_no (<stdin>:1)"
	run --separate-stderr wpay-order --buyer u:2001 --amount 12.50 --request-no r1 <<<"$(wpay-scanqr --payload <<<"$(wpay-mkqr shop02 | jq -r .payload)")"
	assert_equal "$(jq -r .code <<<"$output")" conflict
	# No buyer, no request_no, a bad one: refused.
	run --separate-stderr wpay-order --amount 12.50 --request-no r9 <<<"$scan"
	assert_equal "$(jq -r .code <<<"$output")" missing_field
	assert_equal "$stderr" "wpay-order: an order from a static code is the buyer's: give --buyer u:<uid> or a 'buyer' field (<stdin>:1)"
	run --separate-stderr wpay-order --buyer u:2001 --amount 12.50 <<<"$scan"
	assert_equal "$(jq -r .code <<<"$output")" missing_field
	run --separate-stderr wpay-order --buyer u:2001 --amount 12.50 --request-no 'r 1' <<<"$scan"
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	assert_equal "$(ledger_digest)" "$before"
	# Another buyer's r1 is another order.
	run --separate-stderr wpay-order --buyer u:2002 --amount 12.50 --request-no r1 <<<"$scan"
	assert_success
	[ "$(jq -r .id <<<"$output")" != "$(jq -r .id <<<"$first")" ]
	assert_equal "$(jq -c '[.buyer, .request_no]' <<<"$output")" '["u:2002","r1"]'
	run --separate-stderr wpay-order --out-trade-no r1 <<<"$scan"
	assert_failure 64
}

@test "schema v5: a ledger's earlier static-code orders keep answering their buyer's request number" {
	wpay-bind merchant add shop02 --name "Shop Two" --city Beijing >/dev/null
	wpay-bind merchant approve shop02 >/dev/null
	# Back to v4, with orders as v4 made them: the buyer's number as out_trade_no.
	schema_back_to_v4_sql | db_sql
	db_sql <<-'SQL'
		INSERT INTO orders(id, merchant_id, out_trade_no, amount, currency, subject, buyer, origin, expires_at, created_at) VALUES
			('ord_A', 'cafe01', 'req_1', 1250, 'CNY', 'Cafe Lu', '1001', 'static_code', 1795341600000, '2026-11-22T08:00:00Z'),
			('ord_B', 'cafe01', 'twice', 100, 'CNY', 'Cafe Lu', '1001', 'static_code', 1795341600000, '2026-11-22T08:00:00Z'),
			('ord_C', 'shop02', 'twice', 200, 'CNY', 'Shop Two', '1001', 'static_code', 1795341600000, '2026-11-22T08:00:00Z'),
			('ord_D', 'cafe01', 'order_9', 2500, 'CNY', 'Cafe Lu', NULL, 'dynamic_code', 1795341600000, '2026-11-22T08:00:00Z');
	SQL
	schema_version_set 4
	run --separate-stderr wpay-order query ord_A
	assert_success
	assert_equal "$(schema_version)" 9
	assert_equal "$(jq -c '[.out_trade_no, .request_no]' <<<"$output")" '["req_1","req_1"]'
	# A number the buyer used at two merchants stays as it was, on both.
	assert_equal "$(wpay-order query ord_B | jq -c '[.out_trade_no, .request_no]')" '["twice",null]'
	assert_equal "$(wpay-order query ord_D | jq -c '[.out_trade_no, .reference]')" '["order_9","order_9"]'
	payload=$(wpay-mkqr cafe01 | jq -r .payload)
	run --separate-stderr wpay-order --buyer u:1001 --amount 12.50 --request-no req_1 <<<"$(wpay-scanqr --payload <<<"$payload")"
	assert_success
	assert_equal "$(jq -r .id <<<"$output")" ord_A
}

@test "attack: --allow-unsigned cannot change a code this ledger made (issue 10, C1)" {
	two_buyers
	payload=$(wpay-mkqr cafe01 --amount 25.00 --reference order_1 --expires-in 15m | jq -r .payload)
	stripped=${payload%%90980004WPAY*}63040000
	[ "$stripped" != "$payload" ]
	forged=$(recrc "${stripped/540525.00/54040.01}")
	before=$(ledger_digest)
	run --separate-stderr bash -c "set -o pipefail; wpay-scanqr --payload <<<'$forged' |
		wpay-order --allow-unsigned --buyer u:2002 | wpay-pay --pin-fd 3 3<<<135790"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_code
	assert_equal "$stderr" "wpay-order: m:cafe01 made code order_1 for 25.00 CNY, not 0.01 CNY; only that code pays order_1 (<stdin>:1)"
	assert_equal "$(ledger_digest)" "$before"
	# Without its signature and its expiry (89 and 90), after the code expired: still expired.
	bare=$(recrc "${payload%%89370007CN.WPAY*}63040000")
	[ "$bare" != "$payload" ]
	export WPAY_NOW=2026-11-22T08:15:00Z
	run --separate-stderr wpay-order --allow-unsigned --buyer u:2002 <<<"$(wpay-scanqr --payload <<<"$bare")"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" code_expired
	assert_equal "$stderr" "wpay-order: the code expired at 2026-11-22T08:15:00Z; ask the merchant for a new one (<stdin>:1)"
	assert_equal "$(ledger_digest)" "$before"
	# Unchanged but unsigned, before it expires: it is the merchant's order_1, and expires with the code.
	export WPAY_NOW=2026-11-22T08:10:00Z
	run --separate-stderr wpay-order --allow-unsigned --buyer u:2001 <<<"$(wpay-scanqr --payload <<<"$bare")"
	assert_success
	assert_equal "$(jq -c '[.out_trade_no, .amount, .origin, .reference, .expires_at, has("request_no")]' <<<"$output")" \
		'["order_1",2500,"dynamic_code","order_1","2026-11-22T08:15:00Z",false]'
}

@test "--allow-unsigned: a dynamic code this ledger never made is the buyer's order, and cannot squat the merchant's reference" {
	two_buyers
	real=$(wpay-mkqr cafe01 --amount 25.00 --reference order_1 | jq -r .payload)
	# A code for cafe01 made elsewhere, unsigned, for a reference cafe01 has not issued yet.
	foreign=$(recrc "$(sed 's/62110507order_1/62100506pos_77/; s/89370007CN\.WPAY.*$/63040000/' <<<"$real")")
	scan=$(wpay-scanqr --payload <<<"$foreign")
	run --separate-stderr wpay-order --buyer u:2002 --request-no r1 <<<"$scan"
	assert_equal "$(jq -r .code <<<"$output")" unsigned_code
	run --separate-stderr wpay-order --allow-unsigned --buyer u:2002 <<<"$scan"
	assert_equal "$(jq -r .code <<<"$output")" missing_field
	run --separate-stderr bash -c "set -o pipefail; wpay-order --allow-unsigned --buyer u:2002 --request-no r1 <<<'$scan' | wpay-pay --pin-fd 3 3<<<135790"
	assert_success
	id=$(jq -r .order <<<"$output")
	assert_equal "$(jq -c '[.amount, .out_trade_no]' <<<"$output")" "[2500,\"$id\"]"
	assert_equal "$(wpay-order query "$id" | jq -c '[.origin, .reference, .request_no, .buyer, .state]')" \
		'["dynamic_code","pos_77","r1","u:2002","paid"]'
	run --separate-stderr wpay-order --allow-unsigned --buyer u:2002 --request-no r1 <<<"$scan"
	assert_equal "$(jq -r .id <<<"$output")" "$id"
	# The merchant issues pos_77 later: its own code orders and pays under out_trade_no pos_77.
	mine=$(wpay-mkqr cafe01 --amount 30.00 --reference pos_77 | jq -r .payload)
	run --separate-stderr bash -c "set -o pipefail; wpay-scanqr --payload <<<'$mine' | wpay-order --buyer u:2001 | wpay-pay --pin-fd 3 3<<<135790"
	assert_success
	assert_equal "$(jq -c '[.out_trade_no, .amount]' <<<"$output")" '["pos_77",3000]'
	assert_ledger_ok
}
