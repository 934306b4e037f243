#!/usr/bin/env bats
# wpay-bill: a merchant's trade bill (every payment and refund of a trade
# date, settled or not) and fund bill (its accounts' movements), as CSV
# for accountants (zh headers, GBK, BOM) or JSON lines; and its bad input.
# The ledger's zone is Asia/Shanghai (UTC+8) and the cut-off hour 0.

load helper

pay() { # pay MERCHANT OUT_TRADE_NO AMOUNT [SUBJECT]
	wpay-order create "$1" "$2" --amount "$3" ${4:+--subject "$4"} |
		wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null
}

# 19 Oct: o0. 20 Oct: o1 (subject a formula), o2, a refund of o1 and of
# the 19th's o0. On 4 Nov the 19th is settled (T15): o0 and its refund.
setup() {
	wpay_setup
	init_ledger
	wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing --bank-account 6222000011112222 >/dev/null
	wpay-bind merchant approve cafe01 >/dev/null
	wpay-bind merchant add shop02 --name "Shop Two" --city Beijing >/dev/null
	wpay-bind merchant approve shop02 >/dev/null
	buyer_ready 1001
	export WPAY_NOW=2026-10-19T02:00:00Z
	wpay-bind wallet topup u:1001 --amount 1000.00 --request-no t1 >/dev/null
	pay cafe01 o0 50.00 "咖啡"
	export WPAY_NOW=2026-10-20T02:00:00Z # 10:00 in Shanghai
	pay cafe01 o1 100.00 "=HYPERLINK(\"http://evil.example\")"
	export WPAY_NOW=2026-10-20T15:59:57Z
	pay cafe01 o2 20.00 "拿铁"
	export WPAY_NOW=2026-10-20T15:59:58Z
	wpay-refund cafe01 o1 r1 --amount 10.00 >/dev/null
	export WPAY_NOW=2026-10-20T15:59:59Z # 23:59:59: still the 20th
	wpay-refund cafe01 o0 r0 --amount 5.00 >/dev/null
	export WPAY_NOW=2026-10-20T16:00:00Z # 00:00 on the 21st
	pay shop02 s1 30.00
	pay cafe01 o3 7.00
	export WPAY_NOW=2026-11-04T01:00:00Z
	wpay-settle --date 2026-11-04 >/dev/null
}

# The rows of a CSV bill as JSON arrays, one a line.
rows() {
	python3 -c 'import csv, json, sys
for r in csv.reader(open(sys.argv[1], newline="", encoding=sys.argv[2] if len(sys.argv) > 2 else "utf-8")):
    print(json.dumps(r, ensure_ascii=False))' "$@"
}

@test "the trade bill of a day: its payments and refunds, settled or not, in time order, then totals that sum them" {
	run --separate-stderr wpay-bill cafe01 --date 2026-10-20
	assert_success
	assert_equal "${lines[0]}" "time,order,out_trade_no,id,out_request_no,kind,amount,fee,net,currency,buyer,subject,settlement,settlement_date,discount,promotion"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/bill.csv"
	run python3 - "$BATS_TEST_TMPDIR/bill.csv" <<-'PY'
		import csv, sys
		rows = list(csv.reader(open(sys.argv[1], newline="")))[1:]
		lines, total = rows[:-1], rows[-1]
		got = [(r[2], r[4], r[5], r[6], r[7], r[8], r[10], r[11], r[13]) for r in lines]
		assert got == [
		    ("o1", "", "payment", "100.00", "0.60", "99.40", "u:1001", "'=HYPERLINK(\"http://evil.example\")", ""),
		    ("o2", "", "payment", "20.00", "0.12", "19.88", "u:1001", "拿铁", ""),
		    ("o1", "r1", "refund", "-10.00", "-0.06", "-9.94", "u:1001", "'=HYPERLINK(\"http://evil.example\")", ""),
		    ("o0", "r0", "refund", "-5.00", "-0.03", "-4.97", "u:1001", "咖啡", "2026-11-04"),
		], got
		assert [r[3][:4] for r in lines] == ["pay_", "pay_", "rfd_", "rfd_"] or all(r[3] for r in lines), lines
		assert all(r[0].startswith("2026-10-20T") for r in lines), lines
		assert lines[3][12].startswith("stl_") and lines[0][12] == "", lines
		# Totals equal the sums of the columns above them.
		cents = lambda s: round(float(s) * 100)
		for col in (6, 7, 8):
		    assert cents(total[col]) == sum(cents(r[col]) for r in lines), (col, total)
		assert total[5] == "total" and total[11] == "payments 2 refunds 2", total
		print("ok")
	PY
	assert_success
	assert_output ok
}

@test "--format jsonl: amounts in minor units, a total record; the lines sum to it" {
	run --separate-stderr wpay-bill m:cafe01 --date 2026-10-20 --format jsonl
	assert_success
	assert_equal "$(jq -s 'map(select(.type == "bill_line")) | length' <<<"$output")" 4
	assert_equal "$(jq -c 'select(.type == "bill_total") | del(.type)' <<<"$output")" \
		'{"payments":2,"refunds":2,"gross":12000,"refunded":1500,"fees":63,"net":10437,"currency":"CNY"}'
	assert_equal "$(jq -s '[.[] | select(.type == "bill_line") | .net] | add' <<<"$output")" 10437
	assert_equal "$(jq -r 'select(.out_request_no == "r0") | .settlement_date' <<<"$output")" 2026-11-04
	assert_equal "$(jq -r 'select(.out_trade_no == "o2") | .settlement' <<<"$output")" null
}

@test "the trade date follows the ledger's cut-off hour" {
	# Cut-off at 10:00: the 20th's trade day runs from 10:00 on the 20th
	# (02:00Z) to 10:00 on the 21st (02:00Z), so it takes o1 (02:00Z) and
	# o3 (16:00Z) and the rest of the 20th; o0 is the 19th's.
	db_sql "UPDATE settings SET value = '10' WHERE name = 'settle_cutoff_hour';
		INSERT INTO settings(name, value) SELECT 'settle_cutoff_hour', '10' WHERE NOT EXISTS
		(SELECT 1 FROM settings WHERE name = 'settle_cutoff_hour');"
	run --separate-stderr wpay-bill cafe01 --date 2026-10-20 --format jsonl
	assert_success
	assert_equal "$(jq -r 'select(.type == "bill_line") | .out_trade_no + "/" + .kind' <<<"$output" | tr '\n' ' ')" \
		"o1/payment o2/payment o1/refund o0/refund o3/payment "
	run --separate-stderr wpay-bill cafe01 --date 2026-10-19 --format jsonl
	assert_equal "$(jq -r 'select(.type == "bill_line") | .out_trade_no' <<<"$output" | tr '\n' ' ')" "o0 "
}

@test "--headers zh names Alipay's columns; --encoding gbk writes GBK (checked with iconv); --bom writes a UTF-8 BOM" {
	run --separate-stderr wpay-bill cafe01 --date 2026-10-20 --headers zh
	assert_success
	assert_equal "${lines[0]}" "完成时间,支付宝交易号,商户订单号,id,退款批次号/请求号,业务类型,订单金额（元）,服务费（元）,net,currency,对方账户,商品名称,settlement,settlement_date,支付宝优惠（元）,券名称"
	utf8=$output
	wpay-bill cafe01 --date 2026-10-20 --headers zh --encoding gbk -o "$BATS_TEST_TMPDIR/gbk.csv"
	! iconv -f UTF-8 -t UTF-8 "$BATS_TEST_TMPDIR/gbk.csv" >/dev/null 2>&1
	assert_equal "$(iconv -f GBK -t UTF-8 "$BATS_TEST_TMPDIR/gbk.csv")" "$utf8"
	# 商户 in GBK is C9 CC BB A7.
	head -c 200 "$BATS_TEST_TMPDIR/gbk.csv" | od -An -tx1 | tr -d ' \n' | grep -q c9ccbba7
	wpay-bill cafe01 --date 2026-10-20 --encoding gb18030 -o "$BATS_TEST_TMPDIR/gb18030.csv"
	assert_equal "$(iconv -f GB18030 -t UTF-8 "$BATS_TEST_TMPDIR/gb18030.csv" | tail -n +2)" "$(tail -n +2 <<<"$utf8")"
	wpay-bill cafe01 --date 2026-10-20 --bom -o "$BATS_TEST_TMPDIR/bom.csv"
	assert_equal "$(head -c 3 "$BATS_TEST_TMPDIR/bom.csv" | od -An -tx1 | tr -d ' ')" efbbbf
	assert_equal "$(grep -c $'\r' "$BATS_TEST_TMPDIR/bom.csv")" 0
}

@test "a character GBK cannot hold is an error naming the row, never a '?'; GB18030 holds it" {
	db_sql "UPDATE orders SET subject = 'café 🍰' WHERE out_trade_no = 'o2'"
	run --separate-stderr wpay-bill cafe01 --date 2026-10-20 --encoding gbk -o "$BATS_TEST_TMPDIR/gbk.csv"
	assert_failure 65
	[[ "$stderr" == *"row 3 of the bill (o2)"*"gbk"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/gbk.csv" ]
	assert_equal "$(ls "$BATS_TEST_TMPDIR" | grep -c tmp)" 0
	run --separate-stderr wpay-bill cafe01 --date 2026-10-20 --encoding gb18030
	assert_success
	[[ "$(iconv -f GB18030 -t UTF-8 <<<"$output")" == *"café 🍰"* ]]
}

@test "-o writes the file whole, 0644 less the umask, and replaces a planted link instead of following it" {
	printf 'precious\n' >"$BATS_TEST_TMPDIR/victim"
	ln -s "$BATS_TEST_TMPDIR/victim" "$BATS_TEST_TMPDIR/bill.csv"
	(umask 022 && wpay-bill cafe01 --date 2026-10-20 -o "$BATS_TEST_TMPDIR/bill.csv")
	assert_equal "$(cat "$BATS_TEST_TMPDIR/victim")" precious
	[ -f "$BATS_TEST_TMPDIR/bill.csv" ] && [ ! -L "$BATS_TEST_TMPDIR/bill.csv" ]
	assert_equal "$(stat -c %a "$BATS_TEST_TMPDIR/bill.csv")" 644
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/bill.csv")" 6
	(umask 077 && wpay-bill cafe01 --date 2026-10-20 -o "$BATS_TEST_TMPDIR/b2.csv")
	assert_equal "$(stat -c %a "$BATS_TEST_TMPDIR/b2.csv")" 600
	run --separate-stderr wpay-bill cafe01 --date 2026-10-20 -o /proc/no/such/bill.csv
	assert_failure 73
}

@test "the fund bill: each movement of the merchant's accounts with the balance after it" {
	wpay-bind merchant deposit cafe01 --amount 20000.00 --request-no d1 >/dev/null
	run --separate-stderr wpay-bill cafe01 --date 2026-11-04 --kind fund --format jsonl
	assert_success
	# The settlement of the 4th (pending -> payout) and the deposit, both that day.
	assert_equal "$(jq -r 'select(.type == "fund_line") | .kind + "/" + .account + "/" + (.in | tostring) + "/" + (.out | tostring)' <<<"$output" | sort | tr '\n' ' ')" \
		"deposit/deposit/2000000/0 deposit/payout/0/2000000 settlement/payout/4473/0 settlement/pending/0/4473 "
	assert_equal "$(jq -r 'select(.type == "fund_total") | [.pending, .deposit, .payout] | @csv' <<<"$output")" \
		"$(wpay-bind merchant balance cafe01 | jq -r '[.pending, .deposit] | @csv'),$((4473 - 2000000))"
	# Balances run: the day's first pending line starts from what the days before left.
	run --separate-stderr wpay-bill cafe01 --date 2026-10-20 --kind fund --format jsonl
	assert_equal "$(jq -s 'map(select(.type == "fund_line" and .account == "pending")) | (.[0].balance - .[0].in + .[0].out)' <<<"$output")" 4970
	assert_equal "$(jq -s 'map(select(.type == "fund_line" and .account == "pending")) | last | .balance' <<<"$output")" \
		"$((4970 + 9940 + 1988 - 994 - 497))"
	run --separate-stderr wpay-bill cafe01 --date 2026-10-20 --kind fund --headers zh
	assert_success
	assert_equal "${lines[0]}" "发生时间,账务流水号,业务流水号,业务类型,account,对方账号,收入金额（+元）,支出金额（-元）,账户余额（元）,currency"
}

@test "bad input: unknown merchant 66, bad dates and option combinations 64" {
	run --separate-stderr wpay-bill nobody --date 2026-10-20
	assert_failure 66
	[[ "$stderr" == *"nobody"* ]]
	for d in 2026-02-30 20261020 2026-10-20T00:00:00Z "" yesterday 2026-1-2; do
		run --separate-stderr wpay-bill cafe01 --date "$d"
		assert_failure 64
	done
	run --separate-stderr wpay-bill cafe01
	assert_failure 64
	run --separate-stderr wpay-bill --date 2026-10-20
	assert_failure 64
	run --separate-stderr wpay-bill cafe01 shop02 --date 2026-10-20
	assert_failure 64
	for args in "--kind sales" "--format xml" "--headers fr" "--encoding latin1" "--bom --encoding gbk" \
		"--format jsonl --encoding gbk" "--format jsonl --headers zh" "--format jsonl --bom"; do
		run --separate-stderr wpay-bill cafe01 --date 2026-10-20 $args
		assert_failure 64
	done
	run --separate-stderr wpay-bill cafe01 --date 2026-10-20 -o ""
	assert_failure 64
}

@test "an empty day is a header and a zero total" {
	run --separate-stderr wpay-bill shop02 --date 2026-10-20
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_equal "${lines[1]}" ",,,,,total,0.00,0.00,0.00,CNY,,payments 0 refunds 0,,,0.00,"
}

@test "round trip: each form of the bill reconciles against the ledger for its trade date" {
	for args in "" "--headers zh" "--headers zh --encoding gbk" "--headers zh --encoding gb18030" \
		"--headers zh --bom" "--bom" "--format jsonl"; do
		wpay-bill cafe01 --date 2026-10-20 $args -o "$BATS_TEST_TMPDIR/bill"
		run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/bill" --merchant cafe01 --trade-date 2026-10-20
		assert_success
		assert_equal "$(jq -c '[.compared, .differences, .trade_date]' <<<"$output")" '[2,0,"2026-10-20"]'
	done
	# The same bill against another day, or changed, does not agree.
	wpay-bill cafe01 --date 2026-10-20 --headers zh --encoding gbk -o "$BATS_TEST_TMPDIR/bill"
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/bill" --merchant cafe01 --trade-date 2026-10-19
	assert_failure 1
	assert_equal "$(jq -sc '[.[] | select(.type == "difference") | [.kind, .out_trade_no]]' <<<"$output")" \
		'[["missing_there","o0"],["missing_here","o1"],["missing_here","o2"]]'
	iconv -f GBK -t UTF-8 "$BATS_TEST_TMPDIR/bill" | sed 's/,20\.00,0\.12,/,20.00,0.13,/' |
		iconv -f UTF-8 -t GBK >"$BATS_TEST_TMPDIR/changed"
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/changed" --merchant cafe01 --trade-date 2026-10-20
	assert_failure 1
	assert_equal "$(jq -sc '[.[] | select(.type == "difference") | [.kind, .out_trade_no]]' <<<"$output")" \
		'[["fee_mismatch","o2"]]'
}

@test "a T0 merchant's refund after settlement comes out of its deposit: net 0 on the trade bill, out of deposit on the fund bill" {
	wpay-bind merchant deposit shop02 --amount 20000.00 --request-no d1 >/dev/null
	wpay-bind merchant update shop02 --kind enterprise --verified --settlement T0 >/dev/null
	export WPAY_NOW=2026-11-04T02:00:00Z
	pay shop02 t1 40.00
	export WPAY_NOW=2026-11-04T16:30:00Z # 00:30 on the 5th: the 4th is settled
	wpay-settle >/dev/null
	wpay-refund shop02 t1 rt1 --amount 10.00 >/dev/null
	run --separate-stderr wpay-bill shop02 --date 2026-11-05 --format jsonl
	assert_success
	assert_equal "$(jq -c 'select(.type == "bill_line") | [.kind, .amount, .fee, .net, .settlement]' <<<"$output")" \
		'["refund_from_deposit",-1000,-6,0,null]'
	assert_equal "$(jq -c 'select(.type == "bill_total") | [.refunds, .refunded, .net]' <<<"$output")" '[1,1000,0]'
	run --separate-stderr wpay-bill shop02 --date 2026-11-05 --kind fund --format jsonl
	assert_success
	# The refund leaves the deposit, the fee it returns goes back into it;
	# the settlement paid out s1 (29.82) and t1 (39.76).
	assert_equal "$(jq -c 'select(.type == "fund_line") | [.kind, .account, .in, .out]' <<<"$output" | sort | tr '\n' ' ')" \
		'["fee_refund","deposit",6,0] ["refund","deposit",0,1000] ["settlement","payout",6958,0] ["settlement","pending",0,6958] '
	assert_equal "$(jq -r 'select(.type == "fund_total") | .deposit' <<<"$output")" \
		"$(wpay-bind merchant balance shop02 | jq -r .deposit)"
}
