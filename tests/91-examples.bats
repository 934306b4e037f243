#!/usr/bin/env bats
# The EXAMPLES of the man pages, run as a reader would paste them from the
# rendered page, and what each command prints compared with what the page
# says it prints (and the OUTPUT samples with what the examples print). The
# convention the pages follow, and what is masked, are in tests/lib/manpage.py.
#
# The examples follow one story: wpay-bind(1) sets up the shop (Lu, u:1001,
# with a UnionPay card, PIN 135790 and 500.00; the cafe cafe01, T+0 with its
# deposit), wpay-mkqr(1) makes its codes, and the other pages go on from
# there. Each test below builds the state its page starts from, in a fresh
# HOME whose default ledger and key directory the examples use, on the test
# clock (WPAY_NOW), with a fixed signing key and webhook secret so that
# codes, signatures and CRCs come out the same on every run.
#
# Not compared with the page, and why: the images the examples write
# (counter.png, order_1.png, codes/*.png), since a page shows no pixels;
# they are read back by the wpay-scanqr(1) and wpay-order(1) examples, and
# their size is checked below.

load helper
load lib/pg

# A test-only Ed25519 key (its id is a215674c) and webhook secret: fixed so
# that the pages can show real payloads, signatures and CRCs.
SIGNING_KEY='-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIArMwPtvyYupVqEFI8GQnisbLYWRwAc5GP9FqWbdRLqY
-----END PRIVATE KEY-----'
WEBHOOK_SECRET=d4bce23c1612510be744d8f764ce071c9ce133b080838b322400446b05391ca2

setup() {
	wpay_setup
	unset WPAY_DB WPAY_KEYS # the default places, as a reader has them
	export TMPDIR="$BATS_TEST_TMPDIR/tmp"
	mkdir -p "$TMPDIR" "$BATS_TEST_TMPDIR/work"
	export WPAY_NOW=2026-11-22T08:00:00Z
	keys="$HOME/.config/wpay"
	mkdir -p "$HOME/.config"
	mkdir -m 700 "$keys"
	kid=$(printf '%s\n' "$SIGNING_KEY" | openssl pkey -pubout -outform DER | tail -c 32 | sha256sum | cut -c1-8)
	[ "$kid" = a215674c ]
	(
		umask 077
		printf '%s\n' "$SIGNING_KEY" >"$keys/signing-$kid.key"
		printf '%s\n' "$SIGNING_KEY" | openssl pkey -pubout -out "$keys/signing-$kid.pub"
		echo "$kid" >"$keys/signing.current"
		echo "$WEBHOOK_SECRET" >"$keys/webhook-cafe01.key"
	)
	wpay init >/dev/null
	cd "$BATS_TEST_TMPDIR/work"
	echo 6222020200112345679 >card.txt
	echo 135790 >pin.txt
}

teardown() {
	[ ! -s "$BATS_TEST_TMPDIR/srv/pid" ] || kill "$(cat "$BATS_TEST_TMPDIR/srv/pid")" 2>/dev/null || true
	pg_stop "$BATS_TEST_TMPDIR/pg"
}

# Run a page's examples here and compare what they print with the page.
# (MANPAGE=print shows what they print instead, to write a page's samples.)
examples() {
	run python3 "$BATS_TEST_DIRNAME/lib/manpage.py" "${MANPAGE:-run}" "$BATS_TEST_DIRNAME/../man/$1"
	assert_success
	[ "${MANPAGE:-run}" = run ] || { echo "$output"; false; } # print: show it
}

# The shop of wpay-bind(1)'s examples.
shop() {
	{
		wpay bind user add 1001 --nickname Lu
		wpay bind wallet add lu@example.com
		wpay bind user bind 1001 lu@example.com
		wpay bind card add u:1001 --pan-fd 3 3<card.txt
		wpay bind pin set u:1001 --pin-fd 3 3<pin.txt
		wpay bind wallet topup u:1001 --amount 500.00 --request-no topup_1
		wpay bind merchant add cafe01 --name "Cafe Lu" --city Beijing --kind enterprise --verified --mcc 5814
		wpay bind merchant deposit cafe01 --amount 20000.00 --request-no dep_1
		wpay bind merchant update cafe01 --settlement T0
	} >/dev/null
}

# The counter's static code and order_1's dynamic one, of wpay-mkqr(1).
codes() {
	wpay mkqr cafe01 -o counter.png >/dev/null
	wpay mkqr cafe01 --amount 25.00 --reference order_1 --expires-in 15m -o order_1.png >/dev/null
}

# Lu pays order_1 at the given time, as in wpay-pay(1).
pay_order_1() {
	WPAY_NOW=$1 wpay scanqr order_1.png | WPAY_NOW=$1 wpay order --buyer u:1001 |
		WPAY_NOW=$1 wpay pay --pin-fd 3 3<pin.txt >/dev/null
}

@test "wpay-bind(1) EXAMPLES print what the page says" {
	printf '{"id":"2001","name":"Ann"}\n{"id":"2002","name":"Bo"}\n' >followers.json
	examples wpay-bind.1
	assert_ledger_ok
}

@test "wpay(1) EXAMPLES print what the page says" {
	shop
	examples wpay.1
}

@test "wpay-init(1) EXAMPLES print what the page says, on a throwaway ledger; the shop moves to PostgreSQL" {
	shop
	# The database the page moves the shop's ledger to, on a server of the test's own.
	pg_start "$BATS_TEST_TMPDIR/pg"
	dropdb --if-exists wpay 2>/dev/null
	createdb wpay
	examples wpay-init.1
	# The throwaway ledger is not the default one, which stays as it was.
	[ "$(ls "$TMPDIR" | wc -l)" -eq 2 ]
	[ -s wpay-platform.pem ]
	! cmp -s wpay-platform.pem "$HOME/.config/wpay/signing-a215674c.pub"
}

@test "wpay-check(1) EXAMPLES print what the page says" {
	shop
	codes
	pay_order_1 2026-11-22T08:01:00Z
	export WPAY_NOW=2026-11-22T08:05:00Z
	mail() { echo "mail $*"; }
	export -f mail
	examples wpay-check.1
}

@test "wpay-mkqr(1) EXAMPLES print what the page says" {
	shop
	printf '{"sku":"latte","fen":2500}\n{"sku":"mocha","fen":2800}\n' >menu.json
	mkdir codes
	examples wpay-mkqr.1
	for f in counter.png order_1.png codes/latte.png codes/mocha.png; do [ "$(stat -c %s "$f")" -gt 1000 ]; done
}

@test "wpay-scanqr(1) EXAMPLES print what the page says" {
	shop
	codes
	mkdir codes
	printf '{"sku":"latte","fen":2500}\n{"sku":"mocha","fen":2800}\n' |
		jq -c '{merchant:"cafe01", amount:.fen, reference:.sku, ref:.sku}' |
		wpay mkqr --out-dir codes --name '{ref}.png' >/dev/null
	# photo.jpg: the counter's code, photographed (drawn by the test).
	wpay mkqr cafe01 --format txt -o counter.txt >/dev/null
	art_to_pnm P5 counter.txt >counter.pgm
	cjpeg counter.pgm >photo.jpg
	# codes/cheap.png: mocha's code reprinted at 2.80, its CRC made good.
	mocha=$(jq -r .text <(wpay scanqr codes/mocha.png))
	qrencode -o codes/cheap.png "$(recrc "${mocha/540528.00/54042.80}")"
	# chat.txt: order_1's payload at 2.50, as pasted into a chat.
	order_1=$(jq -r .text <(wpay scanqr order_1.png))
	echo "${order_1/540525.00/54042.50}" >chat.txt
	# typed.txt: order_1's payload typed in by hand, its CRC in lower case.
	echo "${order_1:0:-4}$(tr A-F a-f <<<"${order_1: -4}")" >typed.txt
	export WPAY_NOW=2026-11-22T08:05:00Z
	examples wpay-scanqr.1
}

@test "wpay-order(1) EXAMPLES print what the page says" {
	shop
	codes
	export WPAY_NOW=2026-11-22T08:05:00Z
	examples wpay-order.1
}

@test "wpay-pay(1) EXAMPLES print what the page says" {
	shop
	codes
	export WPAY_NOW=2026-11-22T08:05:00Z
	examples wpay-pay.1
	assert_ledger_ok
}

@test "wpay-fmt(1) EXAMPLES print what the page says" {
	shop
	codes
	export WPAY_NOW=2026-11-22T08:05:00Z
	examples wpay-fmt.1
}

@test "wpay-refund(1) EXAMPLES print what the page says" {
	shop
	codes
	pay_order_1 2026-11-22T08:05:00Z
	export WPAY_NOW=2026-11-22T08:30:00Z
	examples wpay-refund.1
	assert_ledger_ok
}

@test "wpay-settle(1) EXAMPLES print what the page says, after the cut-off" {
	shop
	wpay bind merchant update cafe01 --bank-account "6222 0200 1234 5678" >/dev/null
	codes
	pay_order_1 2026-11-22T08:05:00Z
	WPAY_NOW=2026-11-22T08:10:00Z wpay order create cafe01 table_8 --amount 38.00 --subject Lunch --buyer u:1001 |
		WPAY_NOW=2026-11-22T08:10:00Z wpay pay --source card --pin-fd 3 3<pin.txt >/dev/null
	WPAY_NOW=2026-11-22T08:30:00Z wpay refund cafe01 order_1 r1 --amount 5.00 --reason "broken cup" >/dev/null
	# Lu takes 100.00 out to the card, as in wpay-bind(1).
	WPAY_NOW=2026-11-22T09:00:00Z wpay bind wallet withdraw u:1001 --amount 100.00 --request-no cash_1 \
		--pin-fd 3 3<pin.txt >/dev/null
	# The cafe's own export, where table_8 is 36.00.
	printf 'out_trade_no,amount,status\norder_1,25.00,TRADE_SUCCESS\ntable_8,36.00,TRADE_SUCCESS\n' >ours.csv
	export WPAY_NOW=2026-11-22T16:30:00Z # 00:30 on 23 November in Shanghai
	examples wpay-settle.1
	assert_ledger_ok
}

@test "wpay-bill(1) EXAMPLES print what the page says, the day before its settlement" {
	shop
	codes
	pay_order_1 2026-11-22T08:05:00Z
	WPAY_NOW=2026-11-22T08:10:00Z wpay order create cafe01 table_8 --amount 38.00 --subject Lunch --buyer u:1001 |
		WPAY_NOW=2026-11-22T08:10:00Z wpay pay --source card --pin-fd 3 3<pin.txt >/dev/null
	WPAY_NOW=2026-11-22T08:30:00Z wpay refund cafe01 order_1 r1 --amount 5.00 --reason "broken cup" >/dev/null
	export WPAY_NOW=2026-11-22T09:00:00Z
	examples wpay-bill.1
	# The file is GBK: Alipay's names, not UTF-8.
	! iconv -f UTF-8 -t UTF-8 bill-2026-11-22.csv >/dev/null 2>&1
	[ "$(iconv -f GBK -t UTF-8 bill-2026-11-22.csv | head -1 | cut -d , -f 3)" = "商户订单号" ]
}

@test "wpay-notify(1) EXAMPLES print what the page says, against a notification really sent" {
	srv="$BATS_TEST_TMPDIR/srv"
	mkdir "$srv"
	printf '503\n503\n' >"$srv/statuses" # the cafe's endpoint is down for a while
	python3 "$BATS_TEST_DIRNAME/lib/webhook_server.py" "$srv" &
	echo $! >"$srv/pid"
	for _ in $(seq 100); do [ -s "$srv/port" ] && break; sleep 0.05; done
	wpay init --allow-private-notify >/dev/null # the endpoint is on 127.0.0.1
	shop
	wpay bind merchant update cafe01 --notify-url "http://127.0.0.1:$(cat "$srv/port")/n" >/dev/null
	codes
	pay_order_1 2026-11-22T08:00:00Z
	WPAY_NOW=2026-11-22T08:00:00Z wpay notify --once >>notify.jsonl
	# What the cafe received: the body as sent, and two of its headers.
	jq -j .body "$srv/requests" >body
	ts=$(jq -r '.headers["wpay-timestamp"]' "$srv/requests")
	sig=$(jq -r '.headers["wpay-signature"]' "$srv/requests")
	export ts sig
	cp "$HOME/.config/wpay/webhook-cafe01.key" .
	export WPAY_NOW=2026-11-22T08:04:00Z
	examples wpay-notify.1
	# What the page's openssl line prints is the signature the cafe got.
	want=$(printf '%s.' "$ts" | cat - body | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$WEBHOOK_SECRET")
	assert_equal "sha256=${want##* }" "$sig"
	assert_equal "$(wc -l <"$srv/requests")" 2
}

@test "every page with EXAMPLES has a test here, and shows its commands as sessions" {
	for page in "$BATS_TEST_DIRNAME"/../man/*.[17]; do
		name=$(basename "$page")
		if grep -q '^\.Sh EXAMPLES' "$page"; then
			grep -q "examples $name\$" "$BATS_TEST_FILENAME" || { echo "no test runs the examples of $name"; false; }
			# Commands go in literal displays, each after "$ ": .Dl would fold a long one.
			run sed -n '/^\.Sh EXAMPLES/,/^\.Sh [^E]/p' "$page"
			refute_line --regexp '^\.Dl'
			assert_line --regexp '^\$ '
		fi
	done
}

@test "a sample that is not what the program prints fails, in EXAMPLES and in OUTPUT" {
	shop
	codes
	pay_order_1 2026-11-22T08:05:00Z
	export WPAY_NOW=2026-11-22T08:30:00Z
	page="$BATS_TEST_DIRNAME/../man/wpay-refund.1"
	# The second refund returns 12 fen of fee, not 13; the OUTPUT sample is the first's.
	sed '/^\.Sh EXAMPLES/,$ s/"fee_returned":12,/"fee_returned":13,/' "$page" >wrong-example.1
	sed '/^\.Sh OUTPUT/,/^\.Sh EXIT/ s/"reason":"broken cup"/"reason":"broken mug"/' "$page" >wrong-output.1
	! cmp -s wrong-example.1 "$page" && ! cmp -s wrong-output.1 "$page"
	run python3 "$BATS_TEST_DIRNAME/lib/manpage.py" run wrong-example.1
	assert_failure
	assert_line 'wrong-example.1: example wpay refund cafe01 order_1 r2 --amount 20.00: printed something else than the page says'
	refute_line --partial 'example wpay refund cafe01 order_1 r1'
	run python3 "$BATS_TEST_DIRNAME/lib/manpage.py" run wrong-output.1
	assert_failure
	assert_line --regexp '^wrong-output.1: the OUTPUT sample \{"type":"refund",.*"reason":"broken mug".* is not what any example prints$'
	refute_line --partial 'printed something else'
}
