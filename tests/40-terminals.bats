#!/usr/bin/env bats
# A merchant's terminals, its tills and vending machines (issue 16): codes
# made for one carry it in EMV 62.07, and the orders placed from them (or
# created for one), their payments, refunds and notifications name it.

load helper

setup() {
	wpay_setup
	shop_ready
	wpay-bind merchant add shop02 --name "Shop Two" --city Beijing >/dev/null
	wpay-bind merchant approve shop02 >/dev/null
}

@test "terminals: added once (again revives it), listed, removed; records on stdin too" {
	run --separate-stderr wpay-bind merchant terminal add cafe01 VM-0001 --name "Vending machine, hall 1"
	assert_success
	assert_equal "$(jq -c '[.type, .merchant, .terminal, .name, .status, .removed_at]' <<<"$output")" \
		'["terminal","m:cafe01","VM-0001","Vending machine, hall 1","active",null]'
	first=$output
	run --separate-stderr wpay-bind merchant terminal add cafe01 VM-0001
	assert_equal "$output" "$first"
	wpay-bind merchant terminal add cafe01 till.2 >/dev/null
	assert_equal "$(wpay-bind merchant terminal list cafe01 | jq -r .terminal | tr '\n' ' ')" "VM-0001 till.2 "
	run --separate-stderr wpay-bind merchant terminal remove cafe01 till.2
	assert_success
	assert_equal "$(jq -r .status <<<"$output")" removed
	assert_equal "$(wpay-bind merchant terminal add cafe01 till.2 | jq -r .status)" active
	run --separate-stderr wpay-bind <<<'{"type":"terminal","op":"add","merchant":"shop02","terminal":"K1"}'
	assert_success
	assert_equal "$(jq -r .merchant <<<"$output")" m:shop02
	assert_equal "$(wpay-bind merchant terminal list shop02 | jq -r .terminal)" K1
}

@test "refused terminals: a bad id, a name with a control character, an unknown merchant or terminal" {
	refuses 1 missing_field wpay-bind merchant terminal add cafe01 ""
	for bad in "has space" "12345678901234567890123456" "a/b" $'t\n1'; do
		refuses 1 bad_field wpay-bind merchant terminal add cafe01 "$bad"
	done
	refuses 1 bad_field wpay-bind merchant terminal add cafe01 T1 --name $'a\tb'
	refuses 1 unknown_merchant wpay-bind merchant terminal add nobody T1
	refuses 1 unknown_terminal wpay-bind merchant terminal remove cafe01 T9
	refuses 64 "" wpay-bind merchant terminal add cafe01
	refuses 64 "" wpay-bind merchant terminal fly cafe01 T1
}

@test "a vending machine's code carries its terminal in 62.07; the order, payment and notification name it" {
	wpay-bind merchant terminal add cafe01 VM-0001 >/dev/null
	run --separate-stderr wpay-mkqr cafe01 --amount 3.50 --reference vend_1 --terminal VM-0001 --format txt -o "$BATS_TEST_TMPDIR/c.txt"
	assert_success
	assert_equal "$(jq -r .terminal <<<"$output")" VM-0001
	payload=$(jq -r .payload <<<"$output")
	[[ $payload == *62210506vend_10707VM-0001* ]]
	run --separate-stderr wpay-scanqr --payload <<<"$payload"
	assert_success
	scan=$output
	run --separate-stderr wpay-order --buyer u:1001 <<<"$scan"
	assert_success
	assert_equal "$(jq -c '[.out_trade_no, .terminal]' <<<"$output")" '["vend_1","VM-0001"]'
	run --separate-stderr wpay-pay --pin-fd 4 4<<<135790 <<<"$output"
	assert_success
	pay=$output
	assert_equal "$(jq -r .terminal <<<"$pay")" VM-0001
	# A replay, a query, the lists: the same record.
	run --separate-stderr wpay-pay --pin-fd 4 4<<<135790 <<<"$(wpay-order query cafe01 vend_1)"
	assert_equal "$output" "$pay"
	assert_equal "$(wpay-order query cafe01 vend_1 | jq -r .terminal)" VM-0001
	assert_equal "$(wpay-pay list --merchant cafe01)" "$pay"
	assert_equal "$(wpay-order list --merchant cafe01 | jq -r .terminal)" VM-0001
	assert_equal "$(db_sql "SELECT body FROM events WHERE kind = 'order.paid'" | jq -r .terminal)" VM-0001
	wpay-refund cafe01 vend_1 r1 --amount 1.00 >/dev/null
	assert_equal "$(db_sql "SELECT body FROM events WHERE kind = 'order.refunded'" | jq -r .terminal)" VM-0001
	# The same reference for another terminal, or none, is another code.
	refuses 1 conflict wpay-mkqr cafe01 --amount 3.50 --reference vend_1
	assert_ledger_ok
}

@test "a till's static code and an order created for a terminal carry it; codes for no such terminal are refused" {
	wpay-bind merchant terminal add cafe01 till.2 >/dev/null
	payload=$(wpay-mkqr cafe01 --terminal till.2 --format txt -o "$BATS_TEST_TMPDIR/s.txt" | jq -r .payload)
	[[ $payload == *62100706till.2* ]]
	run --separate-stderr wpay-order --buyer u:1001 --amount 12.00 --request-no q1 <<<"$(wpay-scanqr --payload <<<"$payload")"
	assert_success
	assert_equal "$(jq -r .terminal <<<"$output")" till.2
	run --separate-stderr wpay-order create cafe01 o1 --amount 5.00 --terminal till.2
	assert_success
	assert_equal "$(jq -r .terminal <<<"$output")" till.2
	refuses 1 unknown_terminal wpay-order create cafe01 o2 --amount 5.00 --terminal till.9
	refuses 1 unknown_terminal wpay-mkqr cafe01 --terminal till.9
	# Another merchant's terminal is not this one's.
	wpay-bind merchant terminal add shop02 K1 >/dev/null
	refuses 1 unknown_terminal wpay-mkqr cafe01 --terminal K1
	refuses 64 "" wpay-order query cafe01 o1 --terminal till.2
}

@test "attack: a code of a terminal removed since is refused at the scan; an altered 62.07 breaks the signature" {
	wpay-bind merchant terminal add cafe01 VM-0001 >/dev/null
	payload=$(wpay-mkqr cafe01 --terminal VM-0001 --format txt -o "$BATS_TEST_TMPDIR/s.txt" | jq -r .payload)
	scan=$(wpay-scanqr --payload <<<"$payload")
	wpay-bind merchant terminal remove cafe01 VM-0001 >/dev/null
	refuses 1 unknown_terminal wpay-order --buyer u:1001 --amount 1.00 --request-no q1 <<<"$scan"
	[[ $stderr == *"terminal VM-0001 of m:cafe01 was removed"* ]]
	wpay-bind merchant terminal add cafe01 VM-0001 >/dev/null
	wpay-bind merchant terminal add cafe01 VM-0002 >/dev/null
	# Another machine's label in the same place: the signature no longer holds.
	altered=$(recrc "${payload/VM-0001/VM-0002}")
	run --separate-stderr wpay-scanqr --payload <<<"$altered"
	refuses 1 bad_signature wpay-order --buyer u:1001 --amount 1.00 --request-no q2 <<<"$output"
	# Nor, signature stripped, with --allow-unsigned: a code this ledger made
	# is checked against the one it keeps, terminal and all.
	dynamic=$(wpay-mkqr cafe01 --amount 3.50 --reference vend_2 --terminal VM-0001 | jq -r .payload)
	bare=${dynamic%%8937*}
	relabeled=$(recrc "${bare/VM-0001/VM-0002}63040000")
	refuses 1 bad_code wpay-order --allow-unsigned --buyer u:1001 <<<"$(wpay-scanqr --payload <<<"$relabeled")"
	[[ $stderr == *"made code vend_2 for another terminal"* ]]
}
