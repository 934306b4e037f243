#!/usr/bin/env bats
# Attacks on issue 13's read side (review of c916e1f..6566e00). Each test
# is a finding of the review and fails until it is mended.

load helper

pay() { # pay MERCHANT OUT_TRADE_NO AMOUNT
	wpay-order create "$1" "$2" --amount "$3" |
		wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null
}

setup() {
	wpay_setup
	init_ledger
	export WPAY_NOW=2026-11-22T02:00:00Z # 10:00 on the 22nd in Shanghai
	wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing >/dev/null
	wpay-bind merchant approve cafe01 >/dev/null
	wpay-bind merchant add shop02 --name "Shop Two" --city Beijing >/dev/null
	wpay-bind merchant approve shop02 >/dev/null
	buyer_ready 1001
	wpay-bind wallet topup u:1001 --amount 500.00 --request-no t1 >/dev/null
}

@test "review: the fund bill's in and out totals never wrap past 2^63-1 (4,700 deposits and withdrawals of 10^15)" {
	python3 -c '
for i in range(4700):
    for op in ("deposit", "withdraw"):
        print("{\"type\":\"merchant\",\"op\":\"%s\",\"merchant\":\"shop02\",\"amount\":1000000000000000,\"request_no\":\"%s%d\"}" % (op, op, i))
' | wpay-bind >/dev/null
	run --separate-stderr wpay-bill shop02 --date 2026-11-22 --kind fund --format jsonl
	if [ "$status" -eq 0 ]; then
		# Summed with checks, or refused as sum_overflow: never a total
		# that is not the sum of its lines (it wraps: negative at 9,400
		# lines of 10^15, positive and wrong again at 20,000).
		run python3 -c '
import json, sys
recs = [json.loads(l) for l in sys.stdin]
lines, total = recs[:-1], recs[-1]
ok = total["in"] == sum(r["in"] for r in lines) and total["out"] == sum(r["out"] for r in lines)
print("ok" if ok else "total in %d out %d, lines sum to %d and %d" % (total["in"], total["out"],
      sum(r["in"] for r in lines), sum(r["out"] for r in lines)))' <<<"$output"
		assert_output ok
	else
		# refused, as a bill whose totals cannot be written (65)
		assert_failure 65
		assert_equal "$stderr" "wpay-bill: the fund bill's totals pass 2^63-1 minor units; bill a shorter day"
	fi
}

@test "review: a refund that names one merchant cannot refund another merchant's order by its id" {
	pay cafe01 o1 10.00
	order=$(wpay-order list --merchant cafe01 | jq -r .id)
	run --separate-stderr wpay-refund <<<"{\"type\":\"refund\",\"merchant\":\"shop02\",\"order\":\"$order\",\"out_request_no\":\"x1\",\"amount\":100}"
	assert_failure 1
	assert_equal "$(jq -r .type <<<"$output")" error
	assert_equal "$(wpay-order query "$order" | jq .refunded)" 0
}

@test "review: refund query for one merchant does not answer another merchant's refund named by order id" {
	pay cafe01 o1 10.00
	wpay-refund cafe01 o1 r1 --amount 1.00 >/dev/null
	order=$(wpay-order list --merchant cafe01 | jq -r .id)
	run --separate-stderr wpay-refund <<<"{\"type\":\"refund\",\"op\":\"query\",\"merchant\":\"shop02\",\"order\":\"$order\",\"out_request_no\":\"r1\"}"
	assert_failure 1
	assert_equal "$(jq -r .type <<<"$output")" error
}

@test "review: an error record never repeats a card number typed where a card id belongs" {
	run --separate-stderr wpay-bind card remove 4111111111111111
	assert_failure 1
	refute_output --partial 4111111111111111
	run --separate-stderr wpay-bind <<<'{"type":"card","op":"remove","card":"4111111111111111"}'
	assert_failure 1
	refute_output --partial 4111111111111111
}

@test "review: settle --reconcile does not copy a file's terminal escapes to standard error" {
	printf 'out_trade_no,amount\n"a\033]0;PWNED\007\033[2J",1.00\n"a\033]0;PWNED\007\033[2J",1.00\n' >"$BATS_TEST_TMPDIR/evil.csv"
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/evil.csv" --merchant cafe01
	assert_failure 65
	[[ $stderr != *$'\033'* && $stderr != *$'\007'* ]] || fail "raw escapes on stderr: $(printf %q "$stderr")"
}
