#!/usr/bin/env bats
# Any currency from the command line (issue 16): --amount is a decimal in
# the minor units of --currency (ISO 4217: JPY 0 decimals, CNY 2, KWD 3),
# for codes, orders and refunds as for top-ups; an amount in another
# currency than the merchant's or the order's is refused, never read in
# theirs.

load helper

setup() {
	wpay_setup
	init_ledger
	export WPAY_NOW=2026-11-22T08:00:00Z
	wpay-bind merchant add ramen01 --name "Ramen Tokyo" --city Tokyo --country JP --currency JPY --mcc 5814 >/dev/null
	wpay-bind merchant approve ramen01 >/dev/null
	wpay-bind user add 2001 --nickname Ken >/dev/null
	wpay-bind wallet add ken@example.jp --currency JPY >/dev/null
	wpay-bind user bind 2001 ken@example.jp >/dev/null
	wpay-bind card add u:2001 --pan-fd 3 3<<<4111111111111111 >/dev/null
	wpay-bind pin set u:2001 --pin-fd 3 3<<<135790 >/dev/null
	wpay-bind wallet topup u:2001 --amount 5000 --currency JPY --request-no t1 >/dev/null
}

@test "a yen merchant from the command line: its code, an order, a payment, a refund and a settlement, all in yen" {
	run --separate-stderr wpay-mkqr ramen01 --amount 1200 --currency JPY --reference r1 --format txt -o "$BATS_TEST_TMPDIR/r1.txt"
	assert_success
	assert_equal "$(jq -c '[.amount, .currency]' <<<"$output")" '[1200,"JPY"]'
	payload=$(jq -r .payload <<<"$output")
	# EMV: 53 is the numeric code, 54 the amount with no decimals.
	[[ $payload == *5303392540412005802JP* ]]
	run --separate-stderr wpay-order create ramen01 o1 --amount 1200 --currency JPY
	assert_success
	assert_equal "$(jq -c '[.amount, .currency]' <<<"$output")" '[1200,"JPY"]'
	run --separate-stderr wpay-pay --buyer u:2001 --pin-fd 3 3<<<135790 <<<"$output"
	assert_success
	assert_equal "$(jq -c '[.amount, .fee, .currency]' <<<"$output")" '[1200,7,"JPY"]'
	run --separate-stderr wpay-refund ramen01 o1 r1 --amount 200 --currency JPY
	assert_success
	assert_equal "$(jq -c '[.amount, .currency]' <<<"$output")" '[200,"JPY"]'
	assert_equal "$(wpay-bind wallet balance u:2001 | jq -c '[.balance, .currency]')" '[4000,"JPY"]'
	export WPAY_NOW=2026-12-10T08:00:00Z
	wpay-settle --out "$BATS_TEST_TMPDIR/out" >/dev/null
	assert_equal "$(sed -n 2p "$BATS_TEST_TMPDIR"/out/payouts-2026-12-10.csv | cut -d, -f1,3,4)" "m:ramen01,994,JPY"
	assert_ledger_ok
}

@test "attack: a yen order refunded '--amount 2' (two yuan, 200 minor units) is refused, not paid out as 200 yen" {
	wpay-order create ramen01 o1 --amount 1000 --currency JPY | wpay-pay --buyer u:2001 --pin-fd 3 3<<<135790 >/dev/null
	refuses 1 currency_mismatch wpay-refund ramen01 o1 r1 --amount 2
	assert_equal "$stderr" "wpay-refund: the amount is in CNY but order $(wpay-order query ramen01 o1 | jq -r .id) is in JPY"
	# A record that says another currency is refused the same way; one that
	# says none is in the order's minor units, as wpay-refund(1) has it.
	order=$(wpay-order query ramen01 o1 | jq -r .id)
	refuses 1 currency_mismatch wpay-refund <<<"{\"order\":\"$order\",\"out_request_no\":\"r2\",\"amount\":200,\"currency\":\"CNY\"}"
	run --separate-stderr wpay-refund <<<"{\"order\":\"$order\",\"out_request_no\":\"r3\",\"amount\":2}"
	assert_success
	assert_equal "$(jq -c '[.amount, .currency]' <<<"$output")" '[2,"JPY"]'
	assert_ledger_ok
}

@test "a yen merchant's code or order in yuan is a currency_mismatch, and nothing is made" {
	refuses 1 currency_mismatch wpay-mkqr ramen01 --amount 12.00 --reference r1 --format txt -o "$BATS_TEST_TMPDIR/r1.txt"
	assert_equal "$stderr" "wpay-mkqr: the amount is in CNY but merchant m:ramen01 takes JPY"
	[ ! -e "$BATS_TEST_TMPDIR/r1.txt" ]
	refuses 1 currency_mismatch wpay-order create ramen01 o1 --amount 12.00 --currency CNY
	assert_equal "$stderr" "wpay-order: the amount is in CNY but merchant m:ramen01 takes JPY"
}

@test "each currency's decimals: none for JPY, three for KWD; more, or an unknown code, is bad usage (64)" {
	wpay-bind merchant add souk01 --name "Souk" --city Kuwait --country KW --currency KWD >/dev/null
	wpay-bind merchant approve souk01 >/dev/null
	run --separate-stderr wpay-order create souk01 k1 --amount 1.234 --currency KWD
	assert_success
	assert_equal "$(jq -c '[.amount, .currency]' <<<"$output")" '[1234,"KWD"]'
	for bad in "ramen01 o1 --amount 12.5 --currency JPY" "souk01 k2 --amount 1.2345 --currency KWD"; do
		# shellcheck disable=SC2086 # the words are the arguments
		refuses 64 "" wpay-order create $bad
		[[ $stderr == "wpay-order: --amount '"* ]]
	done
	refuses 64 "" wpay-order create ramen01 o1 --amount 1 --currency XXX
	assert_equal "$(head -n 1 <<<"$stderr")" "wpay-order: --amount '1': unknown currency 'XXX' (an ISO 4217 code, as CNY, JPY or KWD)"
	refuses 64 "" wpay-refund ramen01 o1 r1 --amount 1 --currency yen
	assert_equal "$(head -n 1 <<<"$stderr")" "wpay-refund: --amount '1': unknown currency 'yen' (an ISO 4217 code, as CNY, JPY or KWD)"
	refuses 64 "" wpay-mkqr ramen01 --amount 1 --currency ¥ --reference r1
	# --currency goes with an amount typed on the line, nowhere else.
	refuses 64 "" wpay-mkqr ramen01 --currency JPY
	assert_equal "$(head -n 1 <<<"$stderr")" "wpay-mkqr: --currency goes with --amount"
	refuses 64 "" wpay-order query ramen01 o1 --currency JPY
	refuses 64 "" wpay-order --currency JPY
	refuses 64 "" wpay-refund query ramen01 o1 r1 --currency JPY
	refuses 64 "" wpay-refund --currency JPY
}
