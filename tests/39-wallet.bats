#!/usr/bin/env bats
# The micro-wallet's money going out (issue 16): transfers to another
# wallet and withdrawals to a debit card, PIN-confirmed, idempotent by
# request_no, in one currency, within daily limits set by wpay init; a
# withdrawal paid out by settlement into the payout file, and given back
# when the bank fails it.

load helper

setup() {
	wpay_setup
	init_ledger
	export WPAY_NOW=2026-11-22T08:00:00Z
	buyer_ready 1001 "$(luhn_card 622202 19)" # a debit card
	buyer_ready 1002
	wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
}

# PINs go in on fd 4: a redirection of fd 3 around a failing assertion
# would hide the failure (bats reports on fd 3).
transfer() { # FROM TO AMOUNT REQ [options]
	local from=$1 to=$2 amount=$3 req=$4
	shift 4
	wpay-bind wallet transfer "$from" "$to" --amount "$amount" --request-no "$req" --pin-fd 4 "$@" 4<<<135790
}

balance() { wpay-bind wallet balance "$1" | jq -r .balance; }

@test "a transfer moves the money once, shows on both statements with its note, and a replay answers the same" {
	run --separate-stderr transfer u:1001 u:1002 30.00 x1 --note "dinner, split"
	assert_success
	rec=$output
	assert_equal "$(jq -c '[.type, .amount, .currency, .request_no, .note]' <<<"$rec")" \
		'["wallet_transfer",3000,"CNY","x1","dinner, split"]'
	assert_equal "$(balance u:1001)" 7000
	assert_equal "$(balance u:1002)" 3000
	for side in u:1001 u:1002; do
		run --separate-stderr wpay-bind wallet statement "$side"
		assert_success
		line=$(jq -c 'select(.kind == "wallet_transfer") | [.amount, .ref, .note]' <<<"$output")
		amount=3000
		[ "$side" = u:1001 ] && amount=-3000
		assert_equal "$line" "[$amount,\"$(jq -r .id <<<"$rec")\",\"dinner, split\"]"
	done
	run --separate-stderr transfer u:1001 u:1002 30.00 x1
	assert_success
	assert_equal "$output" "$rec"
	assert_equal "$(balance u:1001)" 7000
	# The same request number for another amount is not a replay.
	refuses 1 idempotency_conflict transfer u:1001 u:1002 31.00 x1
	assert_ledger_ok
}

@test "refused transfers: to oneself, across currencies, in another currency, past the balance, to no wallet, a PIN in a record" {
	refuses 1 same_wallet transfer u:1001 1001@example.com 1.00 x1
	assert_equal "$stderr" "wpay-bind: wallet $(wpay-bind wallet show u:1001 | jq -r .id) cannot transfer to itself; name the wallet the money goes to"
	wpay-bind wallet add yen@example.jp --currency JPY >/dev/null
	refuses 1 currency_mismatch transfer u:1001 yen@example.jp 1.00 x2
	[[ $stderr == *"holds CNY and wallet"*"holds JPY: a transfer stays in one currency, with no conversion" ]]
	refuses 1 currency_mismatch transfer u:1001 u:1002 100 x3 --currency JPY
	refuses 1 insufficient_funds transfer u:1001 u:1002 100.01 x4
	refuses 1 not_found transfer u:1001 nobody@example.com 1.00 x5
	refuses 1 bad_field wpay-bind --pin-fd 4 4<<<135790 <<<'{"type":"wallet","op":"transfer","wallet":"u:1001","to":"u:1002","amount":100,"request_no":"x6","pin":"135790"}'
	refuses 1 bad_field transfer u:1001 u:1002 1.00 x7 --note $'a\nb'
	refuses 1 bad_amount wpay-bind --pin-fd 4 4<<<135790 <<<'{"type":"wallet","op":"transfer","wallet":"u:1001","to":"u:1002","amount":-5,"request_no":"x8"}'
	refuses 1 bad_amount wpay-bind --pin-fd 4 4<<<135790 <<<'{"type":"wallet","op":"transfer","wallet":"u:1001","to":"u:1002","amount":"5","request_no":"x9"}'
	refuses 64 "" transfer u:1001 u:1002 -1.00 x10
	refuses 64 "" transfer u:1001 u:1002 99999999999999999999 x11
	assert_equal "$(balance u:1001)" 10000
}

@test "attack: a wrong PIN moves nothing and counts, three lock the wallet, and the right PIN is then refused too" {
	for left in 2 1; do
		run --separate-stderr wpay-bind wallet transfer u:1001 u:1002 --amount 1.00 --request-no x1 --pin-fd 4 4<<<000000
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" pin_wrong
		[[ $stderr == *"$left tr"* ]]
	done
	run --separate-stderr wpay-bind wallet withdraw u:1001 --amount 1.00 --request-no w1 --pin-fd 4 4<<<000000
	assert_equal "$(jq -r .code <<<"$output")" pin_locked
	refuses 1 pin_locked transfer u:1001 u:1002 1.00 x1
	assert_equal "$(balance u:1001)" 10000
	assert_equal "$(balance u:1002)" 0
}

@test "daily limits: set by wpay init per currency, shown in its record, counted per business day, refused past them" {
	run --separate-stderr wpay init --transfer-limit 50 --withdrawal-limit 20 --transfer-limit JPY:3000
	assert_success
	assert_equal "$(jq -c .daily_limits <<<"$output")" \
		'{"transfer":{"default":"50","JPY":"3000"},"withdrawal":{"default":"20"}}'
	transfer u:1001 u:1002 30.00 x1 >/dev/null
	refuses 1 over_limit transfer u:1001 u:1002 20.01 x2
	[[ $stderr == *"transfer 20.01 CNY from wallet wal_"*" is over its daily transfer limit of 50.00 CNY: 20.00 CNY is left for 2026-11-22" ]]
	transfer u:1001 u:1002 20.00 x3 >/dev/null
	# A replay is not counted again.
	transfer u:1001 u:1002 20.00 x3 >/dev/null
	refuses 1 over_limit transfer u:1001 u:1002 0.01 x4
	# The next business day (midnight in Asia/Shanghai, 16:00 UTC) starts afresh.
	export WPAY_NOW=2026-11-22T16:00:00Z
	transfer u:1001 u:1002 0.01 x4 >/dev/null
	# Withdrawals have their own limit.
	refuses 1 over_limit wpay-bind wallet withdraw u:1001 --amount 20.01 --request-no w1 --pin-fd 4 4<<<135790
	run --separate-stderr wpay-bind wallet withdraw u:1001 --amount 20.00 --request-no w1 --pin-fd 4 4<<<135790
	assert_success
	assert_ledger_ok
}

@test "bad daily limits are refused by wpay init: decimals with no currency, an unknown currency, a sign, too many decimals" {
	for bad in 1.5 XYZ:5 -5 JPY:1.5 CNY:1.001 CN:5 abc 1000000000000000; do
		run --separate-stderr wpay init --transfer-limit "$bad"
		assert_failure 64
		[[ $stderr == *"--transfer-limit '$bad': "* ]]
	done
	assert_equal "$(wpay init | jq -c .daily_limits.transfer)" '{"default":"50000"}'
}

@test "attack: concurrent transfers out of one wallet never overdraw it nor pass its daily limit" {
	wpay init --transfer-limit 80 >/dev/null
	for i in $(seq 1 10); do
		transfer u:1001 u:1002 15.00 "c$i" >"$BATS_TEST_TMPDIR/out.$i" 2>/dev/null &
	done
	wait
	ok=$(cat "$BATS_TEST_TMPDIR"/out.* | jq -r 'select(.type == "wallet_transfer") | .id' | wc -l)
	refused=$(cat "$BATS_TEST_TMPDIR"/out.* | jq -r 'select(.type == "error") | .code' | sort -u)
	# 80.00 a day lets five of 15.00 through; the balance (100.00) would let six.
	assert_equal "$ok" 5
	assert_equal "$refused" over_limit
	assert_equal "$(balance u:1001)" 2500
	assert_equal "$(balance u:1002)" 7500
	wpay init --transfer-limit 1000 >/dev/null
	for i in $(seq 11 20); do
		transfer u:1001 u:1002 6.00 "c$i" >"$BATS_TEST_TMPDIR/more.$i" 2>/dev/null &
	done
	wait
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/more.* | jq -r 'select(.type == "wallet_transfer") | .id' | wc -l)" 4
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/more.* | jq -r 'select(.type == "error") | .code' | sort -u)" insufficient_funds
	assert_equal "$(balance u:1001)" 100
	assert_ledger_ok
}

@test "a withdrawal waits in clearing, goes into the next payout file, and a rerun writes the same" {
	run --separate-stderr wpay-bind wallet withdraw u:1001 --amount 40.00 --request-no w1 --pin-fd 4 4<<<135790
	assert_success
	wd=$output
	id=$(jq -r .id <<<"$wd")
	card=$(wpay-bind wallet show u:1001 | jq -r .default_card)
	assert_equal "$(jq -c '[.type, .state, .amount, .card, (.card_masked | test("^622202\\*+[0-9]{4}$"))]' <<<"$wd")" \
		"[\"withdrawal\",\"pending\",4000,\"$card\",true]"
	assert_equal "$(balance u:1001)" 6000
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = 'clearing:withdrawals.CNY'")" 4000
	# A replay answers the same record.
	run --separate-stderr wpay-bind wallet withdraw u:1001 --amount 40.00 --request-no w1 --pin-fd 4 4<<<135790
	assert_equal "$output" "$wd"
	export WPAY_NOW=2026-11-23T08:00:00Z
	run --separate-stderr wpay-settle --date 2026-11-23 --out "$BATS_TEST_TMPDIR/out"
	assert_success
	assert_equal "$(jq -c '[.type, .id, .state, .payout_date]' <<<"$output")" "[\"withdrawal\",\"$id\",\"sent\",\"2026-11-23\"]"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out/payouts-2026-11-23.csv")" "payee,account,amount,currency,reference
$(wpay-bind wallet show u:1001 | jq -r .id),$card,40.00,CNY,$id"
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = 'clearing:withdrawals.CNY'")" 0
	first=$output
	run --separate-stderr wpay-settle --date 2026-11-23 --out "$BATS_TEST_TMPDIR/out"
	assert_success
	assert_equal "$output" "$first"
	# The next date does not take it again.
	export WPAY_NOW=2026-11-24T08:00:00Z
	run --separate-stderr wpay-settle --date 2026-11-24 --out "$BATS_TEST_TMPDIR/out"
	assert_success
	assert_equal "$output" ""
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out/payouts-2026-11-24.csv")" "payee,account,amount,currency,reference"
	assert_ledger_ok
}

@test "a withdrawal made after a date's cut-off waits for the next date" {
	export WPAY_NOW=2026-11-22T16:30:00Z # 00:30 on the 23rd in Shanghai
	wpay-bind wallet withdraw u:1001 --amount 1.00 --request-no w1 --pin-fd 4 4<<<135790 >/dev/null
	export WPAY_NOW=2026-11-23T08:00:00Z
	run --separate-stderr wpay-settle --date 2026-11-23
	assert_success
	assert_equal "$output" ""
	export WPAY_NOW=2026-11-24T08:00:00Z
	run --separate-stderr wpay-settle --date 2026-11-24
	assert_equal "$(jq -r .state <<<"$output")" sent
}

@test "a payout the bank failed brings the money back to the wallet once; one not sent yet, or unknown, is refused" {
	id=$(wpay-bind wallet withdraw u:1001 --amount 40.00 --request-no w1 --pin-fd 4 4<<<135790 | jq -r .id)
	refuses 1 not_sent wpay-settle --payout-failed "$id"
	refuses 1 not_found wpay-settle --payout-failed wd_nothing
	refuses 64 "" wpay-settle --payout-failed "$id" --date 2026-11-23
	refuses 64 "" wpay-settle --reason "closed"
	export WPAY_NOW=2026-11-23T08:00:00Z
	wpay-settle --date 2026-11-23 >/dev/null
	run --separate-stderr wpay-settle --payout-failed "$id" --reason "account closed"
	assert_success
	rec=$output
	assert_equal "$(jq -c '[.id, .state, .reason, .payout_date]' <<<"$rec")" "[\"$id\",\"failed\",\"account closed\",\"2026-11-23\"]"
	assert_equal "$(balance u:1001)" 10000
	# The payout file written again leaves it out: sent twice, it pays nothing.
	wpay-settle --date 2026-11-23 --out "$BATS_TEST_TMPDIR/out" >/dev/null
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out/payouts-2026-11-23.csv")" "payee,account,amount,currency,reference"
	run --separate-stderr wpay-settle --payout-failed "$id" --reason "again"
	assert_success
	assert_equal "$output" "$rec"
	assert_equal "$(balance u:1001)" 10000
	assert_equal "$(wpay-bind wallet statement u:1001 | jq -r .kind | sort | tr '\n' ' ')" "topup withdrawal withdrawal_returned "
	assert_ledger_ok
}

@test "refused withdrawals: to a credit card, to another wallet's card, a card changed on replay, past the balance" {
	visa=$(wpay-bind card add u:1001 --pan-fd 3 3<<<"$(luhn_card 622575 16)" | jq -r .id)
	refuses 1 not_debit wpay-bind wallet withdraw u:1001 --amount 1.00 --request-no w1 --card "$visa" --pin-fd 4 4<<<135790
	[[ $stderr == *"is a credit card: money is withdrawn only to a debit card; name one with --card" ]]
	other=$(wpay-bind wallet show u:1002 | jq -r .default_card)
	refuses 1 not_found wpay-bind wallet withdraw u:1001 --amount 1.00 --request-no w1 --card "$other" --pin-fd 4 4<<<135790
	# u:1002's only card is a Visa credit card.
	wpay-bind wallet topup u:1002 --amount 5.00 --request-no t1 >/dev/null
	refuses 1 not_debit wpay-bind wallet withdraw u:1002 --amount 1.00 --request-no w1 --pin-fd 4 4<<<135790
	second=$(wpay-bind card add u:1001 --pan-fd 3 3<<<"$(luhn_card 621700 19)" | jq -r .id)
	wpay-bind wallet withdraw u:1001 --amount 1.00 --request-no w2 --pin-fd 4 4<<<135790 >/dev/null
	refuses 1 idempotency_conflict wpay-bind wallet withdraw u:1001 --amount 1.00 --request-no w2 --card "$second" --pin-fd 4 4<<<135790
	refuses 1 insufficient_funds wpay-bind wallet withdraw u:1001 --amount 99.01 --request-no w3 --pin-fd 4 4<<<135790
	assert_ledger_ok
}
