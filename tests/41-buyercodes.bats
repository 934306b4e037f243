#!/usr/bin/env bats
# The buyer's payment code, scanned by a till or a vending machine (issue
# 16): EMV CPM, made after the wallet's PIN, good once and for a minute;
# charged without the PIN up to the no-PIN limit, above it confirmed by the
# buyer's PIN; replayed, expired, altered, foreign codes refused.

load helper

setup() {
	wpay_setup
	shop_ready
	wpay-bind merchant terminal add cafe01 VM-0001 >/dev/null
	buyer_ready 1002 "$(luhn_card 622202 19)"
	wpay-bind wallet topup u:1002 --amount 50.00 --request-no t1 >/dev/null
}

# A code for buyer $1 (default u:1001), its payload on stdout.
code_for() {
	wpay-mkqr --buyer "${1:-u:1001}" --pin-fd 3 --format txt -o "$BATS_TEST_TMPDIR/code.txt" 3<<<135790 |
		jq -r .payload
}

charge() { # CODE AMOUNT OUT_TRADE_NO [options]
	local code=$1 amount=$2 no=$3
	shift 3
	wpay-pay --merchant cafe01 --scanned "$code" --amount "$amount" --out-trade-no "$no" "$@"
}

balance() { wpay-bind wallet balance "$1" | jq -r .balance; }

@test "a buyer's code: EMV CPM in base64, made after the PIN, good for a minute, its token kept only as a hash" {
	run --separate-stderr wpay-mkqr --buyer u:1001 --pin-fd 4 --format txt -o "$BATS_TEST_TMPDIR/c.txt" 4<<<135790
	assert_success
	assert_equal "$(jq -c '[.type, .buyer, .created_at, .expires_at]' <<<"$output")" \
		'["buyer_code","u:1001","2026-11-22T08:00:00Z","2026-11-22T08:01:00Z"]'
	payload=$(jq -r .payload <<<"$output")
	hex=$(base64 -d <<<"$payload" | od -An -tx1 | tr -d ' \n')
	# 85 "CPV01", 61 { 4F the AID, 50 "WPAY", 5A nine BCD bytes "28...", 63 { 9F26 eight bytes } }
	[[ $hex =~ ^8505435056303161254f05f0575041595004575041595a0928[0-9]{16}630b9f2608[0-9a-f]{16}$ ]]
	token=$(sed -E 's/.*5a09([0-9]{18}).*/\1/' <<<"$hex")
	[ -s "$BATS_TEST_TMPDIR/c.txt" ]
	hash=$(db_sql "SELECT token_hash FROM buyer_codes")
	[[ $hash =~ ^[0-9a-f]{64}$ && $hash != *"$token"* ]]
	run --separate-stderr wpay-mkqr --buyer u:1001 --expires-in 2m --pin-fd 4 --format txt -o "$BATS_TEST_TMPDIR/d.txt" 4<<<135790
	assert_equal "$(jq -r .expires_at <<<"$output")" 2026-11-22T08:02:00Z
}

@test "refused codes: a wrong PIN (counted), a locked wallet, no user bound, a long life, a PIN in a record, merchant options" {
	run --separate-stderr wpay-mkqr --buyer u:1001 --pin-fd 4 4<<<000000
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" pin_wrong
	assert_equal "$(db_sql "SELECT count(*) FROM buyer_codes")" 0
	wpay-bind wallet add loose@example.com >/dev/null
	refuses 1 not_bound wpay-mkqr --buyer loose@example.com --pin-fd 4 4<<<135790
	refuses 1 bad_field wpay-mkqr --buyer u:1001 --expires-in 1h --pin-fd 4 4<<<135790
	refuses 1 bad_field wpay-mkqr --pin-fd 4 4<<<135790 <<<'{"buyer":"u:1001","pin":"135790"}'
	refuses 64 "" wpay-mkqr cafe01 --buyer u:1001
	refuses 64 "" wpay-mkqr --buyer u:1001 --amount 1.00
	# A batch's buyer codes would share one file name: each is money to whoever holds it.
	mkdir "$BATS_TEST_TMPDIR/out"
	refuses 1 bad_field wpay-mkqr --out-dir "$BATS_TEST_TMPDIR/out" --pin-fd 4 4<<<135790 <<<'{"buyer":"u:1001"}'
	assert_equal "$(ls "$BATS_TEST_TMPDIR/out")" ""
	refuses 1 not_found wpay-mkqr --buyer u:9999 --pin-fd 4 4<<<135790
}

@test "a vending machine charges the code without the PIN: a payment for its terminal, once; the replay answers the same" {
	code=$(code_for)
	run --separate-stderr charge "$code" 3.50 vend_1 --terminal VM-0001
	assert_success
	pay=$output
	assert_equal "$(jq -c '[.type, .amount, .buyer, .terminal, .out_trade_no, (.source | startswith("wallet:"))]' <<<"$pay")" \
		'["payment",350,"u:1001","VM-0001","vend_1",true]'
	assert_equal "$(balance u:1001)" 9650
	# The machine polls the order it made.
	assert_equal "$(wpay-order query cafe01 vend_1 | jq -c '[.state, .terminal, .origin]')" '["paid","VM-0001","api"]'
	run --separate-stderr charge "$code" 3.50 vend_1 --terminal VM-0001
	assert_success
	assert_equal "$output" "$pay"
	assert_equal "$(balance u:1001)" 9650
	assert_ledger_ok
}

@test "attack: a code used once, expired, altered, never made here, or another wallet's is refused and moves nothing" {
	code=$(code_for)
	charge "$code" 1.00 a1 >/dev/null
	refuses 1 code_used charge "$code" 1.00 a2
	[[ $stderr == *"this payment code was used already; it is good once"* && $stderr != *ord_* ]]
	old=$(code_for)
	export WPAY_NOW=2026-11-22T08:01:00Z
	refuses 1 code_expired charge "$old" 1.00 a3
	export WPAY_NOW=2026-11-22T08:00:30Z
	fresh=$(code_for)
	# One base64 character changed: the cryptogram no longer holds, or the token is another.
	for i in 34 40 55 60; do # in the token (5A) and in the cryptogram (9F26)
		c=${fresh:i:1}
		[ "$c" = A ] && r=B || r=A
		refuses 1 bad_code charge "${fresh:0:i}$r${fresh:i+1}" 1.00 a4
	done
	# A well-formed code this ledger never made (another ledger's keys).
	other=$(WPAY_KEYS="$BATS_TEST_TMPDIR/otherkeys" WPAY_DB="$BATS_TEST_TMPDIR/other.db" bash -c '
		wpay-init >/dev/null
		wpay-bind user add 7 --nickname X >/dev/null; wpay-bind wallet add x@example.com >/dev/null
		wpay-bind user bind 7 x@example.com >/dev/null; wpay-bind pin set u:7 --pin-fd 3 3<<<135790 >/dev/null
		wpay-mkqr --buyer u:7 --pin-fd 3 3<<<135790 | jq -r .payload')
	refuses 1 bad_code charge "$other" 1.00 a5
	# Another wallet app's CPM code (its AID is not wpay's).
	foreign=$(printf '\x85\x05CPV01\x61\x0d\x4f\x07\xa0\x00\x00\x00\x04\x10\x10\x50\x02MC' | base64 -w0)
	refuses 1 foreign_code charge "$foreign" 1.00 a6
	refuses 1 bad_code charge "https://qr.alipay.com/x" 1.00 a7
	# A label longer than "WPAY" (53 bytes): refused before any MAC is worked out.
	long=$(printf '\x85\x05CPV01\x61\x56\x4f\x05\xf0WPAY\x50\x35%s\x5a\x09\x28\0\0\0\0\0\0\0\0\x63\x0b\x9f\x26\x08\0\0\0\0\0\0\0\0' \
		"$(printf 'A%.0s' {1..53})" | base64 -w0)
	refuses 1 bad_code charge "$long" 1.00 a7
	refuses 1 missing_field charge "" 1.00 a8
	# The fresh code still pays, once, from its own wallet only.
	charge "$fresh" 2.00 a9 >/dev/null
	assert_equal "$(balance u:1001)" 9700
	assert_equal "$(balance u:1002)" 5000
	assert_ledger_ok
}

@test "above the no-PIN limit the order waits for the buyer's PIN; another buyer cannot confirm it" {
	run --separate-stderr wpay init --code-no-pin-limit 10 --code-no-pin-limit JPY:2000
	assert_success
	assert_equal "$(jq -c .code_no_pin_limit <<<"$output")" '{"default":"10","JPY":"2000"}'
	code=$(code_for)
	run --separate-stderr charge "$code" 20.00 big_1
	assert_success
	order=$output
	assert_equal "$(jq -c '[.type, .state, .awaiting, .buyer, .amount]' <<<"$order")" '["order","created","buyer_pin","u:1001",2000]'
	assert_equal "$(balance u:1001)" 10000
	refuses 1 buyer_mismatch wpay-pay --order "$(jq -r .id <<<"$order")" --buyer u:1002 --pin-fd 4 4<<<135790
	run --separate-stderr wpay-pay --order "$(jq -r .id <<<"$order")" --pin-fd 4 4<<<000000
	assert_equal "$(jq -r .code <<<"$output")" pin_wrong
	assert_equal "$(balance u:1001)" 10000
	run --separate-stderr wpay-pay --order "$(jq -r .id <<<"$order")" --pin-fd 4 4<<<135790
	assert_success
	pay=$output
	assert_equal "$(balance u:1001)" 8000
	# The till's replay now answers the payment.
	run --separate-stderr charge "$code" 20.00 big_1
	assert_equal "$output" "$pay"
	# At the limit, no PIN.
	charge "$(code_for)" 10.00 small_1 >/dev/null
	assert_equal "$(balance u:1001)" 7000
}

@test "attack: the limit raised after a charge waited for the PIN, the till charges the same sale again: it still waits" {
	wpay init --code-no-pin-limit 10 >/dev/null
	code=$(code_for)
	charge "$code" 20.00 big_1 >/dev/null
	wpay init --code-no-pin-limit 50 >/dev/null
	export WPAY_NOW=2026-11-22T08:10:00Z
	run --separate-stderr charge "$code" 20.00 big_1
	assert_success
	assert_equal "$(jq -c '[.state, .awaiting]' <<<"$output")" '["created","buyer_pin"]'
	assert_equal "$(balance u:1001)" 10000
}

@test "attack: a till cannot make the buyer follow or share, name another buyer or choose what pays" {
	code=$(code_for)
	for opt in --follow --share "--buyer u:1002" "--source card" --pin-each; do
		# shellcheck disable=SC2086
		refuses 64 "" charge "$code" 1.00 f1 $opt
	done
	refuses 1 bad_option wpay-pay <<<"{\"merchant\":\"cafe01\",\"scanned\":\"$code\",\"amount\":100,\"out_trade_no\":\"f2\",\"source\":\"card\"}"
	assert_equal "$(db_sql "SELECT count(*) FROM follows")" 0
}

@test "attack: two tills charging one code at once: one payment, the other refused" {
	code=$(code_for)
	for i in 1 2 3 4; do
		charge "$code" 1.00 "race_$i" >"$BATS_TEST_TMPDIR/out.$i" 2>/dev/null &
	done
	wait
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/out.* | jq -r 'select(.type == "payment") | .id' | wc -l)" 1
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/out.* | jq -r 'select(.type == "error") | .code' | sort -u)" code_used
	assert_equal "$(balance u:1001)" 9900
	assert_ledger_ok
}

@test "a batch of charges on stdin, each its own record; a bad one does not stop the rest" {
	a=$(code_for) b=$(code_for u:1002)
	run --separate-stderr wpay-pay <<-EOF
		{"merchant":"cafe01","scanned":"$a","amount":150,"out_trade_no":"b1","terminal":"VM-0001"}
		{"merchant":"cafe01","scanned":"$a","amount":150,"out_trade_no":"b2"}
		{"merchant":"cafe01","scanned":"$b","amount":-5,"out_trade_no":"b3"}
		{"merchant":"cafe01","scanned":"$b","amount":250,"out_trade_no":"b4"}
	EOF
	assert_failure 1
	assert_equal "$(jq -c '[.type, (.code // .buyer)]' <<<"$output" | tr '\n' ' ')" \
		'["payment","u:1001"] ["error","code_used"] ["error","bad_amount"] ["payment","u:1002"] '
}
