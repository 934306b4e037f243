#!/usr/bin/env bats
# wpay-check: the books hold, and it notices when they do not.

load helper

@test "check on an empty ledger holds" {
	init_ledger
	run --separate-stderr wpay-check
	assert_success
	assert_equal "$(jq -c '[.type, .ok, .transfers, .violations]' <<<"$output")" '["check",true,0,[]]'
}

@test "check holds after money moves, and counts per currency" {
	init_ledger
	buyer_ready
	wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
	run --separate-stderr wpay-check
	assert_success
	assert_equal "$(jq -c '[.ok, .transfers, .currencies.CNY.sum]' <<<"$output")" '[true,1,0]'
}

@test "check finds a balance changed behind the ledger's back and exits 65" {
	init_ledger
	buyer_ready
	wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
	db_sql "UPDATE accounts SET balance = balance + 1 WHERE kind = 'wallet'"
	run --separate-stderr wpay-check
	assert_failure 65
	assert_equal "$(jq -r .ok <<<"$output")" false
	assert_equal "$(jq -r '[.violations[].code] | sort | join(",")' <<<"$output")" "balance_mismatch,sum_not_zero"
	[[ "${stderr_lines[0]}" == "wpay-check: wallet:wal_"*" has balance 10001 but its transfers sum to 10000" ]]
	[[ "$stderr" == *"CNY balances sum to 1, not zero"* ]]
}

@test "the schema refuses a negative wallet and changing a transfer" {
	init_ledger
	buyer_ready
	wpay-bind wallet topup u:1001 --amount 1.00 --request-no t1 >/dev/null
	# (SQLite says "CHECK constraint failed", PostgreSQL "violates check constraint".)
	run db_sql "UPDATE accounts SET balance = -1 WHERE kind = 'wallet'"
	assert_failure
	assert_output --regexp "CHECK constraint failed|violates check constraint"
	run db_sql "UPDATE transfers SET amount = 1"
	assert_failure
	assert_output --partial "transfers are immutable"
	run db_sql "DELETE FROM transfers"
	assert_failure
	assert_output --partial "transfers are immutable"
	assert_ledger_ok
}

# Issue 10, M2: 10,000 top-ups of 10^15 (10 trillion yuan) each passed
# int64 in the check's sums, which ended it with status 70. A balance
# now stays within 10^15 either way: the card that funds a top-up may owe
# at most that, so the rest are refused, one clear record each.
@test "10,000 top-ups of 10^15 stop at the balance limit, one record each; the check holds" {
	cd "$BATS_TEST_TMPDIR"
	init_ledger
	wpay-bind wallet add a@example.com >/dev/null
	wpay-bind card add a@example.com --pan-fd 3 3<<<4111111111111111 >/dev/null
	wpay-bind wallet add b@example.com >/dev/null
	wpay-bind card add b@example.com --pan-fd 3 3<<<5555555555554444 >/dev/null
	# (awk, not a shell loop: bats traces every shell command.)
	seq 5000 | awk '{ for (w = 0; w < 2; w++) printf "{\"type\":\"wallet\",\"op\":\"topup\",\"wallet\":\"%s@example.com\",\"amount\":1000000000000000,\"request_no\":\"t%d\"}\n", w ? "b" : "a", $1 }' >topups.jsonl
	status=0
	wpay-bind <topups.jsonl >out.jsonl 2>err.txt || status=$?
	assert_equal "$status" 1
	assert_equal "$(jq -r .type out.jsonl | sort | uniq -c | tr -s ' ')" " 9998 error
 2 transfer"
	assert_equal "$(jq -r 'select(.type == "error") | .code' out.jsonl | sort -u)" balance_limit
	[[ "$(head -1 err.txt)" == "wpay-bind: card:card_"*" holds -10000000000000.00 CNY; taking 10000000000000.00 CNY would take it past -10000000000000.00 CNY, the most one account may owe; use smaller amounts or another account (<stdin>:3)" ]]
	assert_equal "$(wpay-bind wallet balance a@example.com | jq -r .balance)" 1000000000000000
	assert_ledger_ok
}

@test "a balance may not pass 10^15 either way; one past it may still move back towards zero" {
	init_ledger
	buyer_ready
	wpay-bind wallet topup u:1001 --amount 9999999999999.99 --request-no t1 >/dev/null
	run --separate-stderr wpay-bind wallet topup u:1001 --amount 0.02 --request-no t2
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" balance_limit
	run --separate-stderr wpay-bind wallet topup u:1001 --amount 0.01 --request-no t3
	assert_success
	# A ledger from before the limit, with a balance past it: it may move
	# back towards zero, not further away; the check names it.
	wpay-bind merchant add cafe01 --name Cafe --city Beijing >/dev/null
	wpay-bind merchant approve cafe01 >/dev/null
	wpay-bind merchant deposit cafe01 --amount 1.00 --request-no d1 >/dev/null
	db_sql "UPDATE accounts SET balance = balance - 2000000000000000 WHERE kind = 'payout'"
	run --separate-stderr wpay-bind merchant deposit cafe01 --amount 1.00 --request-no d2
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" balance_limit
	run --separate-stderr wpay-bind merchant withdraw cafe01 --amount 1.00 --request-no w1
	assert_success
	run --separate-stderr wpay-check
	assert_failure 65
	assert_equal "$(jq -r '[.violations[].code] | sort | join(",")' <<<"$output")" "balance_limit,balance_mismatch,sum_not_zero"
	[[ "$stderr" == *"payout:m:cafe01 (payout) holds -2000000000000000, past the limit of 1000000000000000 either way"* ]]
}

# The check's sums are exact: an account's transfers in may pass int64
# long before its balance does, and so may many balances at the limit.
@test "check sums exactly: 9,300 deposits and withdrawals of 10^15, and 9,300 wallets at the limit" {
	cd "$BATS_TEST_TMPDIR"
	init_ledger
	wpay-bind merchant add cafe01 --name Cafe --city Beijing >/dev/null
	wpay-bind merchant approve cafe01 >/dev/null
	seq 9300 | awk '{ for (k = 0; k < 2; k++) printf "{\"type\":\"merchant\",\"op\":\"%s\",\"merchant\":\"cafe01\",\"amount\":1000000000000000,\"request_no\":\"%s%d\"}\n", k ? "withdraw" : "deposit", k ? "w" : "d", $1 }' | wpay-bind >/dev/null
	assert_ledger_ok
	assert_equal "$(jq -r .transfers <<<"$output")" 18600
	python3 - <<-'PY' >wallets.jsonl
		def luhn(body):
		    s = 0
		    for i, ch in enumerate(reversed(body)):
		        d = int(ch) * (2 if i % 2 == 0 else 1)
		        s += d - 9 if d > 9 else d
		    return body + str((10 - s % 10) % 10)
		for i in range(9300):
		    w = "w%d@example.com" % i
		    print('{"type":"wallet","op":"add","login":"%s"}' % w)
		    print('{"type":"card","op":"add","wallet":"%s","pan":"%s"}' % (w, luhn("411111%09d" % i)))
		    print('{"type":"wallet","op":"topup","wallet":"%s","amount":1000000000000000,"request_no":"t"}' % w)
	PY
	wpay-bind <wallets.jsonl >/dev/null
	assert_ledger_ok
	assert_equal "$(jq -c '[.currencies.CNY.sum, .currencies.CNY.accounts]' <<<"$output")" '[0,18604]'
}

@test "check without a ledger exits 66" {
	run --separate-stderr wpay-check
	assert_failure 66
	assert_output ""
}

@test "check -h prints usage" {
	run --separate-stderr wpay-check -h
	assert_success
	assert_output "usage: wpay-check [--db path]"
	run --separate-stderr wpay-check extra
	assert_failure 64
}
