#!/usr/bin/env bats
# Lists (issue 13): wpay-order list, wpay-pay list, wpay-refund list and
# query, wpay-order query by payment, wpay-bind wallet statement.

load helper

# The cafe's day, a minute apart (so ids and times both order them):
# o1..o6 at cafe01, 08:01 to 08:06, o1-o4 paid by u:1001; s1 at shop02 at
# 08:07 paid by u:2002; o2 refunded 1.00 (r1) at 08:10 and the rest (r2)
# at 08:11; o5 closed. A day later, 23 November 08:00 (Shanghai 16:00), n1.
day() {
	shop_ready
	wpay-bind merchant add shop02 --name "Shop Two" --city Beijing >/dev/null
	wpay-bind merchant approve shop02 >/dev/null
	buyer_ready 2002 5500000000000004
	wpay-bind wallet topup u:2002 --amount 50.00 --request-no t1 >/dev/null
	local i
	for i in 1 2 3 4 5 6; do
		export WPAY_NOW=2026-11-22T08:0$i:00Z
		if [ "$i" -le 4 ]; then
			wpay-order create cafe01 "o$i" --amount "$i.00" | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null
		else
			wpay-order create cafe01 "o$i" --amount "$i.00" >/dev/null
		fi
	done
	export WPAY_NOW=2026-11-22T08:07:00Z
	wpay-order create shop02 s1 --amount 7.00 | wpay-pay --buyer u:2002 --pin-fd 3 3<<<135790 >/dev/null
	WPAY_NOW=2026-11-22T08:08:00Z wpay-order close cafe01 o5 >/dev/null
	WPAY_NOW=2026-11-22T08:10:00Z wpay-refund cafe01 o2 r1 --amount 1.00 >/dev/null
	WPAY_NOW=2026-11-22T08:11:00Z wpay-refund cafe01 o2 r2 --amount 1.00 >/dev/null
	export WPAY_NOW=2026-11-23T08:00:00Z
	wpay-order create cafe01 n1 --amount 9.00 | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null
}

setup() {
	wpay_setup
	day
}

@test "order list: every order oldest first, each the record 'order query' answers" {
	run --separate-stderr wpay-order list
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(jq -r .out_trade_no <<<"$output" | tr '\n' ' ')" "o1 o2 o3 o4 o5 o6 s1 n1 "
	# The same bytes as query prints, record for record.
	local id
	while read -r id; do
		assert_equal "$(grep -F "\"id\":\"$id\"" <<<"$output")" "$(wpay-order query "$id")"
	done < <(jq -r .id <<<"$output")
	# ids sort as the list does.
	assert_equal "$(jq -r .id <<<"$output" | LC_ALL=C sort)" "$(jq -r .id <<<"$output")"
}

@test "order list: filters by merchant, buyer, state, and a period" {
	assert_equal "$(wpay-order list --merchant shop02 | jq -r .out_trade_no)" s1
	assert_equal "$(wpay-order list --merchant m:cafe01 --buyer u:1001 | jq -r .out_trade_no | tr '\n' ' ')" "o1 o2 o3 o4 n1 "
	assert_equal "$(wpay-order list --buyer 2002 | jq -r .out_trade_no)" s1
	assert_equal "$(wpay-order list --state created | jq -r .out_trade_no)" o6
	# Options before the command work as well.
	assert_equal "$(wpay-order --db "$WPAY_DB" --state created list | jq -r .out_trade_no)" o6
	assert_equal "$(wpay-pay --buyer u:2002 list | jq -r .out_trade_no)" s1
	run --separate-stderr wpay-pay --follow list
	assert_failure 64
	assert_equal "$(wpay-order list --state closed | jq -r .out_trade_no | tr '\n' ' ')" "o2 o5 "
	assert_equal "$(wpay-order list --merchant cafe01 --state paid | jq -r .out_trade_no | tr '\n' ' ')" "o1 o3 o4 n1 "
	# Half open: 08:02 in, 08:04 out.
	assert_equal "$(wpay-order list --since 2026-11-22T08:02:00Z --until 2026-11-22T08:04:00Z | jq -r .out_trade_no | tr '\n' ' ')" "o2 o3 "
	# A bare date is a day in the ledger's zone (Asia/Shanghai): 22
	# November there ends at 16:00 UTC, so n1 (23rd, 16:00 local) is the
	# 23rd's.
	assert_equal "$(wpay-order list --since 2026-11-22 --until 2026-11-22 | wc -l)" 7
	assert_equal "$(wpay-order list --since 2026-11-23 | jq -r .out_trade_no)" n1
	assert_equal "$(wpay-order list --until 2026-11-21 | wc -l)" 0
	# +08:00 is as good as Z.
	assert_equal "$(wpay-order list --since 2026-11-22T16:06:00+08:00 --merchant cafe01 | jq -r .out_trade_no | tr '\n' ' ')" "o6 n1 "
}

@test "order list pages: --limit n and --after the last id cover every order exactly once" {
	local all after="" pages=0 got=""
	all=$(wpay-order list | jq -r .id)
	for n in 1 2 3 5; do
		after="" got="" pages=0
		while :; do
			page=$(wpay-order list --limit "$n" ${after:+--after "$after"} | jq -r .id)
			pages=$((pages + 1))
			[ -n "$page" ] && got+="$page"$'\n'
			[ "$(grep -c . <<<"$page")" -lt "$n" ] && break
			after=$(tail -n 1 <<<"$page")
		done
		assert_equal "$got" "$all"$'\n'
		assert_equal "$pages" $((8 / n + 1))
	done
	# With a filter too.
	first=$(wpay-order list --merchant cafe01 --state paid --limit 2)
	assert_equal "$(jq -r .out_trade_no <<<"$first" | tr '\n' ' ')" "o1 o3 "
	assert_equal "$(wpay-order list --merchant cafe01 --state paid --after "$(tail -n 1 <<<"$first" | jq -r .id)" | jq -r .out_trade_no | tr '\n' ' ')" "o4 n1 "
}

@test "pay list and refund list: the records pay and refund answered, with their filters and pages" {
	run --separate-stderr wpay-pay list
	assert_success
	assert_equal "$(jq -r .out_trade_no <<<"$output" | tr '\n' ' ')" "o1 o2 o3 o4 s1 n1 "
	# The payment record as wpay-pay printed it when it paid.
	paid=$(WPAY_NOW=2026-11-23T09:00:00Z wpay-order create cafe01 n2 --amount 2.00 |
		WPAY_NOW=2026-11-23T09:00:00Z wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790)
	assert_equal "$(wpay-pay list --since 2026-11-23T09:00:00Z)" "$paid"
	order=$(wpay-order query cafe01 o3 | jq -r .id)
	assert_equal "$(wpay-pay list --order "$order" | jq -r .out_trade_no)" o3
	assert_equal "$(wpay-pay list --merchant shop02 | jq -r .buyer)" u:2002
	assert_equal "$(wpay-pay list --buyer u:1001 --merchant cafe01 --limit 2 | jq -r .out_trade_no | tr '\n' ' ')" "o1 o2 "
	assert_equal "$(wpay-pay list --buyer 2002 --since 2026-11-23 | wc -l)" 0

	run --separate-stderr wpay-refund list
	assert_success
	assert_equal "$(jq -r .out_request_no <<<"$output" | tr '\n' ' ')" "r1 r2 "
	assert_equal "$(head -n 1 <<<"$output")" "$(wpay-refund query cafe01 o2 r1)"
	assert_equal "$(wpay-refund list --merchant shop02 | wc -l)" 0
	assert_equal "$(wpay-refund list --buyer u:1001 --after "$(head -n 1 <<<"$output" | jq -r .id)" | jq -r .out_request_no)" r2
	o2=$(wpay-order query cafe01 o2 | jq -r .id)
	assert_equal "$(wpay-refund list --order "$o2" --until 2026-11-22T08:11:00Z | jq -r .out_request_no)" r1
}

@test "order query by payment id; refund query by merchant, out_trade_no and out_request_no" {
	pay=$(wpay-pay list --merchant shop02 | jq -r .id)
	assert_equal "$(wpay-order query "$pay")" "$(wpay-order query shop02 s1)"
	assert_equal "$(wpay-order <<<"{\"type\":\"order\",\"op\":\"query\",\"payment\":\"$pay\"}" | jq -r .out_trade_no)" s1
	run --separate-stderr wpay-order query pay_01M80FPM806WT2AV422Z8NXKXY
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" not_found
	assert_equal "$stderr" "wpay-order: no payment 'pay_01M80FPM806WT2AV422Z8NXKXY'"

	run --separate-stderr wpay-refund query cafe01 o2 r2
	assert_success
	assert_equal "$(jq -c '[.type, .out_trade_no, .out_request_no, .amount, .from]' <<<"$output")" '["refund","o2","r2",100,"pending"]'
	# As a record, with a ref, next to a refund.
	run --separate-stderr wpay-refund <<-'EOF'
		{"type":"refund","op":"query","merchant":"cafe01","out_trade_no":"o2","out_request_no":"r1","ref":"q1"}
		{"type":"refund","op":"query","merchant":"cafe01","out_trade_no":"o2","out_request_no":"r9","ref":"q2"}
		{"type":"refund","op":"query","merchant":"cafe01","out_trade_no":"o9","out_request_no":"r1","ref":"q3"}
		{"type":"refund","op":"frob","merchant":"cafe01","out_trade_no":"o2","out_request_no":"r1"}
	EOF
	assert_failure 1
	assert_equal "$(jq -c '[.ref, .type, .code // .out_request_no]' <<<"$output" | tr '\n' ' ')" \
		'["q1","refund","r1"] ["q2","error","not_found"] ["q3","error","not_found"] [null,"error","unknown_request"] '
	assert_equal "$(sed -n 1,2p <<<"$stderr")" "wpay-refund: m:cafe01 has no refund out_request_no r9 of out_trade_no o2 (<stdin>:2)
wpay-refund: m:cafe01 has no refund out_request_no r1 of out_trade_no o9 (<stdin>:3)"
	run --separate-stderr wpay-refund query nope o2 r1
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" unknown_merchant
	# A query moves nothing and takes no amount.
	run --separate-stderr wpay-refund query cafe01 o2 r1 --amount 1.00
	assert_failure 64
	assert_ledger_ok
}

@test "lists: an unknown merchant, buyer, order or wallet is an error, not an empty list" {
	run --separate-stderr wpay-order list --merchant nope
	assert_failure 1
	assert_equal "$(jq -c '[.type, .code]' <<<"$output")" '["error","unknown_merchant"]'
	assert_equal "$stderr" "wpay-order: no merchant 'nope' in this ledger; 'wpay bind merchant list' shows them"
	run --separate-stderr wpay-pay list --buyer u:9999
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" not_found
	assert_equal "$stderr" "wpay-pay: no user '9999'"
	run --separate-stderr wpay-refund list --order ord_01M80FPM80057QJ41SQVWW02VT
	assert_failure 1
	assert_equal "$stderr" "wpay-refund: no order 'ord_01M80FPM80057QJ41SQVWW02VT'"
	run --separate-stderr wpay-bind wallet statement nobody@example.com
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" not_found
	run --separate-stderr wpay-bind wallet statement u:4242
	assert_failure 1
}

@test "lists: bad dates, a period that ends before it starts, bad limits, an --after of another kind" {
	local prog
	for prog in "wpay-order list" "wpay-pay list" "wpay-refund list" "wpay-bind wallet statement u:1001"; do
		run --separate-stderr $prog --since 2026-13-01
		assert_failure 64
		assert_equal "$(jq -r .code <<<"$output")" bad_date
		run --separate-stderr $prog --until yesterday
		assert_failure 64
		assert_equal "$(jq -r .code <<<"$output")" bad_date
		run --separate-stderr $prog --since 2026-11-22 --until 2026-11-21
		assert_failure 64
		assert_equal "$(jq -r .code <<<"$output")" bad_period
		run --separate-stderr $prog --since 2026-11-22T08:00:00Z --until 2026-11-22T08:00:00Z
		assert_failure 64
		assert_equal "$(jq -r .code <<<"$output")" bad_period
		for n in 0 -1 99999999999 1.5 ten ""; do
			run --separate-stderr $prog --limit "$n"
			assert_failure 64
			assert_output ""
		done
	done
	run --separate-stderr wpay-order list --limit 1000000000
	assert_success
	pay=$(wpay-pay list --limit 1 | jq -r .id)
	run --separate-stderr wpay-order list --after "$pay"
	assert_failure 64
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	assert_equal "$stderr" "wpay-order: --after '$pay' is not an order id (ord_...)"
	for bad in ord_ ord_x "ord_01M80FPM80057QJ41SQVWW02V" "ord_01M80FPM80057QJ41SQVWW02VTT" "ord_81M80FPM80057QJ41SQVWW02VT" \
		"ord_01M80FPM80057QJ41SQVWW02Vu" "' OR 1=1 --"; do
		run --separate-stderr wpay-order list --after "$bad"
		assert_failure 64
		assert_equal "$(jq -r .code <<<"$output")" bad_field
	done
	run --separate-stderr wpay-pay list --after "$(wpay-order list --limit 1 | jq -r .id)"
	assert_failure 64
	run --separate-stderr wpay-refund list --after "$pay"
	assert_failure 64
	run --separate-stderr wpay-bind wallet statement u:1001 --after "$pay"
	assert_failure 64
	assert_equal "$stderr" "wpay-bind: --after '$pay' is not a transfer id (tr_...)"
	run --separate-stderr wpay-pay list --order "$pay"
	assert_failure 64
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	run --separate-stderr wpay-order list --state refunded
	assert_failure 64
	assert_equal "$stderr" "wpay-order: --state 'refunded' is not an order's state (created, paid, closed, finished)"
	# Options of one list are not another's; lists take no operands.
	run --separate-stderr wpay-pay list --state paid
	assert_failure 64
	run --separate-stderr wpay-order list --order x
	assert_failure 64
	run --separate-stderr wpay-order list cafe01
	assert_failure 64
	run --separate-stderr wpay-bind wallet statement
	assert_failure 64
	run --separate-stderr wpay-bind wallet statement u:1001 u:2002
	assert_failure 64
	run --separate-stderr wpay-bind wallet statement u:1001 --merchant cafe01
	assert_failure 64
}

@test "wallet statement: every movement with the running balance; the last is the balance now, after refunds" {
	run --separate-stderr wpay-bind wallet statement u:1001
	assert_success
	assert_equal "$(jq -c '[.kind, .amount, .balance]' <<<"$output" | tr '\n' ' ')" \
		'["topup",10000,10000] ["payment",-100,9900] ["payment",-200,9700] ["payment",-300,9400] ["payment",-400,9000] ["refund",100,9100] ["refund",100,9200] ["payment",-900,8300] '
	assert_equal "$(tail -n 1 <<<"$output" | jq -r .balance)" "$(wpay-bind wallet balance u:1001 | jq -r .balance)"
	# Each names what it belongs to.
	o2=$(wpay-order query cafe01 o2 | jq -r .id)
	r1=$(wpay-refund query cafe01 o2 r1 | jq -r .id)
	pay2=$(wpay-pay list --order "$o2" | jq -r .id)
	assert_equal "$(sed -n 3p <<<"$output" | jq -c '[.order, .payment, .other]')" "[\"$o2\",\"$pay2\",\"pending:m:cafe01\"]"
	assert_equal "$(sed -n 6p <<<"$output" | jq -c '[.order, .refund, .ref, .at]')" "[\"$o2\",\"$r1\",\"r1\",\"2026-11-22T08:10:00Z\"]"
	assert_equal "$(head -n 1 <<<"$output" | jq -r .other)" "card:$(wpay-bind card list u:1001 | jq -r .id)"
	# The sums of the movements are the balance.
	assert_equal "$(jq -s 'map(.amount) | add' <<<"$output")" 8300
	# From a time: the balance before it is carried in.
	assert_equal "$(wpay-bind wallet statement u:1001 --since 2026-11-22T08:03:00Z | jq -c '[.amount, .balance]' | tr '\n' ' ')" \
		'[-300,9400] [-400,9000] [100,9100] [100,9200] [-900,8300] '
	assert_equal "$(wpay-bind wallet statement u:1001 --since 2026-11-22 --until 2026-11-22 | tail -n 1 | jq -r .balance)" 9200
	# Pages carry the balance on too.
	page=$(wpay-bind wallet statement u:1001 --limit 3)
	assert_equal "$(wc -l <<<"$page")" 3
	assert_equal "$(wpay-bind wallet statement u:1001 --after "$(tail -n 1 <<<"$page" | jq -r .id)" | jq -c .balance | tr '\n' ' ')" \
		"9400 9000 9100 9200 8300 "
	# The other buyer's wallet, by its login.
	assert_equal "$(wpay-bind wallet statement 2002@example.com | jq -c '[.kind, .balance]' | tr '\n' ' ')" '["topup",5000] ["payment",4300] '
	# A card payment is not the wallet's movement.
	WPAY_NOW=2026-11-23T09:00:00Z wpay-order create cafe01 c1 --amount 3.00 |
		WPAY_NOW=2026-11-23T09:00:00Z wpay-pay --buyer u:1001 --source card --pin-fd 3 3<<<135790 >/dev/null
	assert_equal "$(wpay-bind wallet statement u:1001 | wc -l)" 8
	# A full refund of a wallet payment, then the balances again.
	WPAY_NOW=2026-11-23T10:00:00Z wpay-refund cafe01 n1 back --amount 9.00 >/dev/null
	run --separate-stderr wpay-bind wallet statement u:1001 --since 2026-11-23
	assert_equal "$(jq -c '[.kind, .amount, .balance]' <<<"$output" | tr '\n' ' ')" '["payment",-900,8300] ["refund",900,9200] '
	assert_equal "$(tail -n 1 <<<"$output" | jq -r .balance)" "$(wpay-bind wallet balance u:1001 | jq -r .balance)"
}

@test "lists: hostile text comes out as the query's JSON; output that cannot be written is 74" {
	WPAY_NOW=2026-11-23T09:00:00Z wpay-order create cafe01 h1 --amount 1.00 \
		--subject $'=HYPERLINK("x")"\\\u2028 </script> \u00e9\U0001F600' >/dev/null
	row=$(wpay-order list --since 2026-11-23T09:00:00Z)
	assert_equal "$row" "$(wpay-order query cafe01 h1)"
	assert_equal "$(jq -r .subject <<<"$row")" $'=HYPERLINK("x")"\\\u2028 </script> \u00e9\U0001F600'
	run --separate-stderr bash -c 'wpay-order list >/dev/full'
	assert_failure 74
	assert_equal "$stderr" "wpay-order: cannot write the list: standard output failed"
}

@test "lists stream in the same memory however long, and never take the write lock" {
	# 20,000 more orders, 30 days back (ids and created_at from the clock).
	awk 'BEGIN { for (i = 1; i <= 20000; i++) printf "{\"type\":\"order\",\"merchant\":\"shop02\",\"out_trade_no\":\"b%d\",\"amount\":100}\n", i }' |
		WPAY_NOW=2026-10-23T08:00:00Z wpay-order >/dev/null
	# ASan keeps freed memory in quarantine (256 MiB): keep it small here, or
	# every page of rows freed would look kept (PostgreSQL's pages under CI).
	rss() { ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1 /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; }
	small=$(rss wpay-order list --merchant cafe01)
	big=$(rss wpay-order list --merchant shop02)
	assert_equal "$(wpay-order list --merchant shop02 | wc -l)" 20001
	# 20,000 records are some 7 MB of JSON, several times that as objects: a
	# list that kept them would show. 8 MiB of room for what a sanitizer's
	# allocator keeps of freed pages (ASan on PostgreSQL in CI kept 4.1 MiB).
	[ "$big" -lt $((small + 8192)) ] || { echo "max RSS $small KiB for 6 orders, $big KiB for 20,001"; false; }
	assert_equal "$(wpay-order list --merchant shop02 --since 2026-11-01 | jq -r .out_trade_no)" s1
	assert_equal "$(wpay-order list --merchant shop02 --until 2026-10-24 --limit 3 | jq -r .out_trade_no | tr '\n' ' ')" "b1 b2 b3 "
	# A writer holds the ledger; the list still reads.
	if ! db_is_pg; then
		printf 'BEGIN IMMEDIATE;\n.shell touch %s/held; sleep 3\nCOMMIT;\n' "$BATS_TEST_TMPDIR" | sqlite3 "$WPAY_DB" &
		holder=$!
		while [ ! -e "$BATS_TEST_TMPDIR/held" ]; do sleep 0.1; done
		start=$SECONDS
		run --separate-stderr wpay-order list --merchant cafe01 --limit 2
		assert_success
		assert_equal "$(wc -l <<<"$output")" 2
		[ $((SECONDS - start)) -lt 2 ] # it did not wait for the writer
		wait "$holder"
	fi
}
