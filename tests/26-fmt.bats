#!/usr/bin/env bats
# wpay-fmt: records as tables for a person; and the progress line of long
# runs (pay, mkqr, scanqr, settle) on a terminal's stderr, never in a pipe.

load helper

# Records of every type the programs print, as they print them (and one
# type and one field no program prints yet).
records() {
	cat <<-'R'
		{"type":"user","id":"u:1001","uid":"1001","nickname":"Lu","wallet":"wal_01KQ3Z8Y6C0000000000000001","created_at":"2026-11-22T08:00:00Z"}
		{"type":"wallet","id":"wal_01KQ3Z8Y6C0000000000000001","login":"lu@example.com","currency":"CNY","user":"u:1001","pin_set":true,"locked_until":null,"default_card":"card_01KQ3Z8Y6C0000000000000002","created_at":"2026-11-22T08:00:00Z"}
		{"type":"card","id":"card_01KQ3Z8Y6C0000000000000002","wallet":"wal_01KQ3Z8Y6C0000000000000001","masked":"622202******5679","brand":"unionpay","default":true,"status":"active"}
		{"type":"merchant","id":"m:cafe01","merchant_no":"cafe01","name":"Cafe Lu","currency":"CNY","fee_rate":"0.6%","networks":["wpay","alipay"]}
		{"type":"transfer","id":"tr_01KQ3Z8Y6C0000000000000003","kind":"topup","from":"world:CNY","to":"wallet:wal_01KQ3Z8Y6C0000000000000001","amount":50000,"currency":"CNY","ref":"topup_1"}
		{"type":"balance","wallet":"wal_01KQ3Z8Y6C0000000000000001","balance":7500,"currency":"CNY"}
		{"type":"code","mode":"dynamic","merchant":"m:cafe01","amount":2500,"currency":"CNY","reference":"order_1"}
		{"type":"order","id":"ord_01KQ3Z8Y6C0000000000000004","merchant":"m:cafe01","out_trade_no":"order_1","amount":2500,"currency":"CNY","subject":"Latte","state":"created"}
		{"type":"payment","id":"pay_01KQ3Z8Y6C0000000000000005","order":"ord_01KQ3Z8Y6C0000000000000004","amount":2500,"fee":15,"currency":"CNY","paid_at":"2026-11-22T08:05:00Z"}
		{"type":"refund","id":"ref_01KQ3Z8Y6C0000000000000006","amount":500,"fee_returned":3,"currency":"CNY","reason":"broken cup"}
		{"type":"settlement","id":"stl_01KQ3Z8Y6C0000000000000007","merchant":"m:cafe01","date":"2026-11-23","payments":2,"gross":6300,"fees":38,"net":6262,"currency":"CNY"}
		{"type":"delivery","event":"evt_pay_01KQ3Z8Y6C0000000000000005","attempt":1,"result":"delivered","status":200}
		{"type":"scan","source":"order_1.png","index":1,"image":{"format":"png","width":264},"checks":{"crc":"ok"}}
		{"type":"statement_line","merchant":"m:cafe01","debit":2500,"currency":"USD","brand_new":"kept"}
		{"code":"no_type","note":"a record without a type"}
	R
}

@test "every record type is shown, amounts with their currency, every field kept" {
	run --separate-stderr wpay-fmt --tz UTC < <(records)
	assert_success
	for t in user wallet card merchant transfer balance code order payment refund settlement delivery scan statement_line "(no type)"; do
		assert_line --regexp "^  $(sed 's/[()]/\\&/g' <<<"$t")  "
	done
	assert_line --regexp '^  payment .* 25\.00 CNY +0\.15 CNY '
	assert_line --regexp '^  refund .* 5\.00 CNY +0\.03 CNY +broken cup$'
	assert_line --regexp '^  balance .* 75\.00 CNY$'
	assert_line --regexp '^  settlement .* 2  +63\.00 CNY +0\.38 CNY +62\.62 CNY$'
	# another currency, an unknown type, unknown fields: all there
	assert_line --regexp '^  statement_line  m:cafe01  25\.00 USD  kept$'
	assert_line --regexp '^# type +merchant +debit +brand_new$'
	assert_line --regexp '^  merchant .* wpay,alipay'
	assert_line --regexp '^  scan .* \{"format":"png","width":264\} +\{"crc":"ok"\}$'
	assert_line --regexp '^  wallet .* yes +- +card_01KQ3Z8Y'
	# the account's id is cut short too
	assert_line --regexp '^  transfer .* world:CNY +wallet:wal_01KQ3Z8Y  '
	[ "$(grep -c '^# type' <<<"$output")" -eq 15 ]
}

@test "columns are aligned within a table; a new table when the type changes" {
	printf '%s\n' '{"type":"order","out_trade_no":"a","amount":1,"currency":"CNY","subject":"x"}' \
		'{"type":"order","out_trade_no":"a_much_longer_one","amount":1234567,"currency":"CNY","subject":"y"}' \
		'{"type":"refund","amount":5,"currency":"CNY"}' >"$BATS_TEST_TMPDIR/in.jsonl"
	run wpay-fmt --tz UTC "$BATS_TEST_TMPDIR/in.jsonl"
	assert_success
	assert_line --index 0 '# type   out_trade_no       amount        subject'
	assert_line --index 1 '  order  a                      0.01 CNY  x'
	assert_line --index 2 '  order  a_much_longer_one  12345.67 CNY  y'
	assert_line --index 3 '# type    amount'
	assert_line --index 4 '  refund  0.05 CNY'
	# --window 1: a table a record, each as wide as it needs
	run wpay-fmt --tz UTC --window 1 "$BATS_TEST_TMPDIR/in.jsonl"
	assert_line --index 1 '  order  a             0.01 CNY  x'
}

@test "CJK text is aligned by display width" {
	printf '%s\n' '{"type":"merchant","name":"北京咖啡馆","city":"Beijing"}' \
		'{"type":"merchant","name":"Cafe","city":"Shanghai"}' >"$BATS_TEST_TMPDIR/in.jsonl"
	run wpay-fmt "$BATS_TEST_TMPDIR/in.jsonl"
	assert_success
	# 北京咖啡馆 is 5 characters, 10 columns wide: "Cafe" gets 6 spaces more
	assert_line --index 1 '  merchant  北京咖啡馆  Beijing'
	assert_line --index 2 '  merchant  Cafe        Shanghai'
}

@test "attack: a subject full of terminal controls and bidi overrides cannot reach the terminal" {
	printf '%s\n' '{"type":"order","subject":"\u001b[2J\u001b]0;owned\u0007red\u001b[31m\u009b6n\u202egnp.exe\u2066x\r\n\t\\","e\u001b[1mvil_key":"\u001b"}' \
		>"$BATS_TEST_TMPDIR/in.jsonl"
	printf 'raw \033[2J line \302\233\342\200\256 \377\n' >>"$BATS_TEST_TMPDIR/in.jsonl"
	for color in never always; do
		wpay-fmt --color $color "$BATS_TEST_TMPDIR/in.jsonl" >"$BATS_TEST_TMPDIR/out"
		# No C0 byte but newline (and, with colour, ESC starting our own SGR), no DEL, no C1, no bidi.
		! LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1a\x1c-\x1f\x7f]' "$BATS_TEST_TMPDIR/out"
		! grep -qP '\x{9b}|\x{202e}|\x{2066}' "$BATS_TEST_TMPDIR/out"
		! grep -qaP '\xff' "$BATS_TEST_TMPDIR/out"
		[ "$(grep -ao $'\e' "$BATS_TEST_TMPDIR/out" | wc -l)" -eq "$(grep -aoE $'\e\\[[0-9;]*m' "$BATS_TEST_TMPDIR/out" | wc -l)" ]
	done
	[ "$(grep -c $'\e' "$BATS_TEST_TMPDIR/out")" -gt 0 ] # colour was on
	run wpay-fmt --color never "$BATS_TEST_TMPDIR/in.jsonl"
	assert_line --partial '\x1b[2J\x1b]0;owned\x07red\x1b[31m\x9b6n\u202egnp.exe\u2066x\x0d\x0a\x09\\'
	assert_line --partial 'e\x1b[1mvil_key'
	assert_line '? raw \x1b[2J line \x9b\u202e \xff'
}

@test "a pipe that never ends still prints each record as it comes" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	wpay-fmt --tz UTC <"$BATS_TEST_TMPDIR/fifo" >"$BATS_TEST_TMPDIR/out" &
	pid=$!
	exec 5>"$BATS_TEST_TMPDIR/fifo" # kept open: no end of input
	echo '{"type":"order","out_trade_no":"first","amount":100,"currency":"CNY"}' >&5
	for _ in $(seq 100); do grep -q first "$BATS_TEST_TMPDIR/out" && break; sleep 0.05; done
	grep -qE '^  order  first +1\.00 CNY$' "$BATS_TEST_TMPDIR/out"
	# the same table goes on under its header
	echo '{"type":"order","out_trade_no":"second","amount":200,"currency":"CNY"}' >&5
	for _ in $(seq 100); do grep -q second "$BATS_TEST_TMPDIR/out" && break; sleep 0.05; done
	grep -qE '^  order  second +2\.00 CNY$' "$BATS_TEST_TMPDIR/out"
	[ "$(grep -c '^# type' "$BATS_TEST_TMPDIR/out")" -eq 1 ] # it fits: no new header
	kill -0 "$pid" # still reading
	exec 5>&-
	wait "$pid"
}

@test "short ids: 8 characters after the prefix when that is unique, more when two ids share them" {
	printf '%s\n' '{"type":"payment","id":"pay_01KQ3Z8Y6CAAAAAAAAAAAAAAAA","order":"ord_01KQ3Z8Y6CAAAAAAAAAAAAAAAA"}' \
		'{"type":"payment","id":"pay_01KQ3Z8Y6CABBBBBBBBBBBBBBB","order":"ord_01KQ3Z8Y6DAAAAAAAAAAAAAAAA"}' \
		'{"type":"payment","id":"pay_01KQ3Z8Z00000000000000000","order":"bad_01KQ3Z8Y6C"}' >"$BATS_TEST_TMPDIR/in.jsonl"
	run wpay-fmt "$BATS_TEST_TMPDIR/in.jsonl"
	assert_success
	# the payments share 11 characters: 12 tell them apart; the orders differ at the 10th
	assert_line --index 1 --regexp '^  payment  pay_01KQ3Z8Y6CAA  +ord_01KQ3Z8Y6C$'
	assert_line --index 2 --regexp '^  payment  pay_01KQ3Z8Y6CAB  +ord_01KQ3Z8Y6D$'
	# not a generated id (25 characters; a short one): shown whole
	assert_line --index 3 '  payment  pay_01KQ3Z8Z00000000000000000  bad_01KQ3Z8Y6C'
	# a lone id: 8 characters; a later one sharing them is told apart from it
	printf '%s\n' '{"type":"order","id":"ord_01KQ3Z8Y6CAAAAAAAAAAAAAAAA"}' '' 'a pause' \
		'{"type":"order","id":"ord_01KQ3Z8Y6CABAAAAAAAAAAAAAA"}' | wpay-fmt >"$BATS_TEST_TMPDIR/out"
	grep -q '^  order  ord_01KQ3Z8Y$' "$BATS_TEST_TMPDIR/out"
	grep -q '^  order  ord_01KQ3Z8Y6CAB$' "$BATS_TEST_TMPDIR/out"
}

@test "times in the ledger's zone; else TZ; --tz wins; a bad zone is a usage error" {
	in='{"type":"payment","paid_at":"2026-11-22T08:05:00Z"}'
	# no ledger: TZ
	run env WPAY_DB="$BATS_TEST_TMPDIR/none.db" TZ=America/New_York wpay-fmt <<<"$in"
	assert_success
	assert_line '  payment  2026-11-22 03:05:00 EST'
	[ ! -e "$BATS_TEST_TMPDIR/none.db" ] # nothing was made
	# the ledger's zone, Asia/Shanghai by default, whatever TZ says
	wpay-init >/dev/null
	run env TZ=America/New_York wpay-fmt <<<"$in"
	assert_line '  payment  2026-11-22 16:05:00 CST'
	wpay-init --settle-tz Europe/Berlin >/dev/null
	before=$(ledger_digest)
	run wpay-fmt <<<"$in"
	assert_line '  payment  2026-11-22 09:05:00 CET'
	assert_equal "$(ledger_digest)" "$before" # opened read-only
	run wpay-fmt --tz Asia/Tokyo <<<"$in"
	assert_line '  payment  2026-11-22 17:05:00 JST'
	run --separate-stderr wpay-fmt --tz Mars/Olympus <<<"$in"
	assert_failure 64
	# a date or text that is no time stays as it is
	run wpay-fmt --tz UTC <<<'{"type":"settlement","date":"2026-11-23","note":"2026-13-45T99:00:00Z"}'
	assert_line '  settlement  2026-11-23  2026-13-45T99:00:00Z'
}

@test "error records are marked, and red with colour" {
	printf '%s\n' '{"type":"payment","amount":1,"currency":"CNY"}' \
		'{"type":"error","code":"not_found","message":"no such order","ref":7}' >"$BATS_TEST_TMPDIR/in.jsonl"
	run wpay-fmt "$BATS_TEST_TMPDIR/in.jsonl"
	assert_success
	assert_line '! ERROR  not_found    7  no such order'
	run wpay-fmt --color always "$BATS_TEST_TMPDIR/in.jsonl"
	assert_line $'\e[1;31m! ERROR  not_found    7  no such order\e[0m'
	# auto: not on a pipe
	run wpay-fmt --color auto "$BATS_TEST_TMPDIR/in.jsonl"
	refute_output --partial $'\e'
}

@test "lines that are not records are passed through, marked; bad options and files" {
	{
		echo 'not json'
		echo '[1,2]'
		echo '{"type":"order","type":"twice"}'
		echo
		printf 'x%.0s' $(seq 2000)
		echo
		head -c 3000000 /dev/zero | tr '\0' y
		echo
		echo '{"type":"order","id":"after"}'
	} >"$BATS_TEST_TMPDIR/in.txt"
	run wpay-fmt "$BATS_TEST_TMPDIR/in.txt"
	assert_success
	assert_line --index 0 '? not json'
	assert_line --index 1 '? [1,2]'
	assert_line --index 2 '? {"type":"order","type":"twice"}'
	assert_line --index 3 "? $(printf 'x%.0s' $(seq 1000)) [... 1000 bytes more]"
	assert_line --index 4 --regexp '^\? y{1000} \[\.\.\. 2999000 bytes more\]$'
	assert_line --index 6 '  order  after'
	[ "${#lines[@]}" -eq 7 ]
	run --separate-stderr wpay-fmt --window 0 </dev/null
	assert_failure 64
	run --separate-stderr wpay-fmt --window 100001 </dev/null
	assert_failure 64
	run --separate-stderr wpay-fmt --window -1 </dev/null
	assert_failure 64
	run --separate-stderr wpay-fmt --color sometimes </dev/null
	assert_failure 64
	run --separate-stderr wpay-fmt "$BATS_TEST_TMPDIR/no-such-file" "$BATS_TEST_TMPDIR/in.txt"
	assert_failure 66
	assert_line '  order  after' # the other file was read
	run bash -c 'wpay-fmt </dev/null >/dev/full'
	assert_success # nothing to write
	run bash -c 'echo "{\"type\":\"x\"}" | wpay-fmt >/dev/full'
	assert_failure 74
}

# Progress: the program under script(1), so stderr is a terminal; the
# input comes slowly, so the run passes a second.
export SHELL=/bin/bash # script(1) runs its command with it: bash knows slowly
slowly() { # slowly LINE...: each line, then a pause
	for l in "$@"; do
		printf '%s\n' "$l"
		sleep 0.7
	done
}

@test "progress: scanqr on a terminal shows records, rate and errors, then erases the line" {
	export -f slowly
	export WPAY_DB="$BATS_TEST_TMPDIR/none.db" # no ledger: scanqr reads codes without one
	long=$(printf 'x%.0s' $(seq 9000)) # no QR code holds that: an error
	run script -qec "slowly hello 'http://x' '' hello $long hello | wpay-scanqr --payload >'$BATS_TEST_TMPDIR/out'" /dev/null
	[[ "$output" == *"wpay-scanqr: "*" payloads, "*"/s, 0 errors"* ]]
	[[ "$output" == *"wpay-scanqr: "*" payloads, "*"/s, 1 error"* ]]
	[[ "$output" == *$'\r\e[K' ]] # erased at the end
	# the error's message starts a line of its own: the progress line went first
	re=$'(^|\n|\e\\[K)wpay-scanqr: line 5 is longer'
	[[ "$output" =~ $re ]]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 5 ]
	# stderr to a pipe or a file: no progress at all
	slowly hello hello hello | wpay-scanqr --payload >/dev/null 2>"$BATS_TEST_TMPDIR/err"
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
}

@test "progress: pay counts payments and errors, keeps messages clear of the line, and erases it" {
	shop_ready
	o1=$(wpay-order create cafe01 p1 --amount 1.00)
	o2=$(wpay-order create cafe01 p2 --amount 2.00)
	o3=$(wpay-order create cafe01 p3 --amount 3.00)
	bad='{"type":"order","id":"ord_01KQ3Z8Y6C0000000000000000"}'
	export -f slowly
	export o1 o2 o3 bad
	run script -qec "slowly \"\$o1\" \"\$bad\" \"\$o2\" \"\$o3\" | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >'$BATS_TEST_TMPDIR/out'" /dev/null
	[[ "$output" == *"wpay-pay: 4 orders, "*"/s, 1 error"* ]]
	[[ "$output" == *$'\r\e[K' ]]
	# the bad order's message is on a line of its own
	re=$'(^|\n|\e\\[K)wpay-pay: no order'
	[[ "$output" =~ $re ]]
	[ "$(jq -r .type "$BATS_TEST_TMPDIR/out" | sort | uniq -c | tr -s ' ' | tr '\n' ,)" = " 1 error, 3 payment," ]
	# to a file: none
	o4=$(wpay-order create cafe01 p4 --amount 4.00)
	slowly "$o4" "$bad" | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null 2>"$BATS_TEST_TMPDIR/err" || true
	! grep -q orders "$BATS_TEST_TMPDIR/err"
	! grep -q $'\r' "$BATS_TEST_TMPDIR/err"
}

@test "progress: mkqr shows it on a terminal too, and a short run shows nothing" {
	shop_ready
	export -f slowly
	run script -qec "slowly '{\"merchant\":\"cafe01\",\"amount\":100,\"reference\":\"a\"}' '{\"merchant\":\"cafe01\",\"amount\":200,\"reference\":\"b\"}' | wpay-mkqr >/dev/null" /dev/null
	[[ "$output" == *"wpay-mkqr: "*" codes, "*"/s, 0 errors"* ]]
	# a run under a second: nothing
	run script -qec "echo '{\"merchant\":\"cafe01\",\"amount\":300,\"reference\":\"c\"}' | wpay-mkqr >/dev/null" /dev/null
	assert_output ""
}

@test "progress: settle shows merchants done of those due, and erases the line" {
	use_sqlite_file # the ledger is made with SQL, as bench/settle.sh makes it
	init_ledger
	m=3000
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	sqlite3 "$WPAY_DB" <<-SQL
		BEGIN;
		WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $m)
		INSERT INTO merchants(id, kind, name, city, mcc, country, currency, fee_ppm, settlement, bank_account,
		  created_at, updated_at) SELECT printf('m%05d', i), 'individual', 'Shop', 'Beijing', '5814', 'CN', 'CNY',
		  6000, 'T15', printf('6222%012d', i), '$now', '$now' FROM k;
		INSERT INTO accounts(id, kind, owner, currency, created_at)
		  SELECT 'pending:m:' || id, 'pending', 'm:' || id, 'CNY', '$now' FROM merchants
		  UNION ALL SELECT 'payout:m:' || id, 'payout', 'm:' || id, 'CNY', '$now' FROM merchants
		  UNION ALL SELECT 'deposit:m:' || id, 'deposit', 'm:' || id, 'CNY', '$now' FROM merchants
		  UNION ALL SELECT 'card:bench', 'card', 'bench', 'CNY', '$now'
		  UNION ALL SELECT 'fees:CNY', 'fees', 'CNY', 'CNY', '$now';
		WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $m)
		INSERT INTO orders(id, merchant_id, out_trade_no, amount, currency, origin, state, expires_at, created_at,
		  paid_at) SELECT printf('ord_%010d', i), printf('m%05d', i), printf('o%d', i), 1000, 'CNY', 'api', 'paid', 0,
		  strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-20 days'), strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-20 days') FROM k;
		INSERT INTO payments(id, order_id, merchant_id, wallet_id, buyer, source_account, amount, fee, currency,
		  created_at) SELECT 'pay_' || substr(id, 5), id, merchant_id, 'wal_bench', NULL, 'card:bench', amount, 6,
		  'CNY', paid_at FROM orders;
		INSERT INTO transfers(id, idem_key, group_id, kind, from_account, to_account, amount, currency, created_at)
		  SELECT 'tr_' || merchant_id, 'bench:' || merchant_id, 'tr_bench', 'payment', 'card:bench',
		  'pending:m:' || merchant_id, SUM(amount - fee), 'CNY', '$now' FROM payments GROUP BY merchant_id
		  UNION ALL SELECT 'tr_fees', 'bench:fees', 'tr_bench', 'fee', 'card:bench', 'fees:CNY', SUM(fee), 'CNY',
		  '$now' FROM payments;
		UPDATE accounts SET balance = (SELECT SUM(amount) FROM transfers WHERE to_account = accounts.id)
		  WHERE kind IN ('pending', 'fees');
		UPDATE accounts SET balance = -(SELECT SUM(amount) FROM transfers WHERE from_account = 'card:bench')
		  WHERE id = 'card:bench';
		COMMIT;
	SQL
	unset WPAY_NOW
	run script -qec "wpay-settle --batch-size 1 >'$BATS_TEST_TMPDIR/out'" /dev/null
	assert_success
	[[ "$output" == *"wpay-settle: "*" of 3,000 merchants, "*"/s, 0 errors"* ]]
	[[ "$output" == *$'\r\e[K' ]]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/out")" -eq 3000 ]
}

@test "attack: an endless stream of distinct ids and wide records keeps memory bounded" {
	# 200,000 payments, 400,000 distinct ids: more than fmt remembers, so it starts again
	awk 'BEGIN { for (i = 0; i < 200000; i++)
		printf "{\"type\":\"payment\",\"id\":\"pay_01KQ3Z8Y6C%016d\",\"order\":\"ord_01KQ3Z8Y6C%016d\",\"amount\":%d,\"currency\":\"CNY\",\"note\":\"%s\"}\n", i, i, i + 1, (i % 1000 ? "x" : sprintf("%0500d", 0)) }' |
		/usr/bin/time -f %M -o "$BATS_TEST_TMPDIR/kib" wpay-fmt --tz UTC >"$BATS_TEST_TMPDIR/out"
	[ "$(grep -c '^  payment' "$BATS_TEST_TMPDIR/out")" -eq 200000 ]
	# under 64 MiB (32 MiB measured); ASan's shadow and quarantine of freed
	# memory make the sanitizer build's figure meaningless (550 MiB)
	[[ "$WPAY_TEST_BIN" == */san/* ]] || [ "$(cat "$BATS_TEST_TMPDIR/kib")" -lt 65536 ]
	# ids shown within 32,768 distinct ids of each other (16,384 rows of two)
	# are told apart: no short form stands for two of them
	run awk '/^  payment/ { n++; for (c = 2; c <= 3; c++) { if (($c in at) && at[$c] != $0 && n - row[$c] < 16000) { print "twice: " $c; exit 1 }; at[$c] = $0; row[$c] = n } }' "$BATS_TEST_TMPDIR/out"
	assert_success
}

@test "--color auto: colour on a terminal, none with NO_COLOR, TERM=dumb or a pipe" {
	echo '{"type":"error","code":"not_found","message":"gone"}' >"$BATS_TEST_TMPDIR/in.jsonl"
	run script -qec "wpay-fmt '$BATS_TEST_TMPDIR/in.jsonl'" /dev/null
	assert_success
	assert_output --partial $'\e[1;31m! ERROR'
	run script -qec "NO_COLOR=1 wpay-fmt '$BATS_TEST_TMPDIR/in.jsonl'" /dev/null
	refute_output --partial $'\e'
	run script -qec "TERM=dumb wpay-fmt '$BATS_TEST_TMPDIR/in.jsonl'" /dev/null
	refute_output --partial $'\e'
	run script -qec "wpay-fmt --color never '$BATS_TEST_TMPDIR/in.jsonl'" /dev/null
	refute_output --partial $'\e'
}
