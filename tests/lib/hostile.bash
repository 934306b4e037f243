# Hostile input: the fixture and the runner for tests/hostile.tsv, loaded
# by tests/13-hostile.bats. Each row of the table is a command (with
# placeholders), its standard input (printf %b escapes, or a generator),
# (@none for nothing), the error code it must produce (- when it is refused before any record,
# as bad usage or a missing file is), its exit status, and what it is.
#
# Placeholders in commands: @tmp/NAME a file the fixture made; @keys/NAME a
# key file; @pin:X, @pins:X,Y, @pan:X what descriptor 3 holds (X, or - for
# an empty line); @now the time as Unix seconds; @sig a right signature of
# "{}" at @now; @oldsig a right one at 1000000000. Generators for standard
# input: @nest:N (N arrays deep), @big:N (a line of N MiB), @tampered,
# @expired, @badcrc (a code's payload changed, out of date, or with a wrong
# CRC).

hostile_fixture() {
	local dir=$1
	export WPAY_NOW=2026-11-22T07:00:00Z
	wpay-init >/dev/null
	wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing >/dev/null
	wpay-bind merchant approve cafe01 >/dev/null
	buyer_ready 1001
	wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
	# An order that expires, made an hour ago; a code that expires with it.
	wpay-order create cafe01 o3 --amount 1.00 --expires-in 1m >/dev/null
	wpay-mkqr cafe01 --amount 1.00 --reference e1 --expires-in 1m --format txt -o "$dir/e1.txt" | jq -r .payload >"$dir/expired"
	export WPAY_NOW=2026-11-22T08:00:00Z
	wpay-order create cafe01 o1 --amount 25.00 | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null
	wpay-refund cafe01 o1 r1 --amount 5.00 >/dev/null
	wpay-order create cafe01 o2 --amount 10.00 >/dev/null
	wpay-order create cafe01 o4 --amount 10.00 >/dev/null
	wpay-order close cafe01 o4 >/dev/null
	wpay-bind user add 1002 --nickname Poor >/dev/null
	wpay-bind wallet add poor@example.com >/dev/null
	wpay-bind user bind 1002 poor@example.com >/dev/null
	wpay-bind pin set u:1002 --pin-fd 3 3<<<135790 >/dev/null
	buyer_ready 1003 5555555555554444
	for _ in 1 2 3; do
		wpay-order query cafe01 o2 | wpay-pay --buyer u:1003 --pin-fd 3 3<<<999999 >/dev/null 2>&1 || true
	done
	# Codes: a signed one with its amount changed (CRC made good again), and one with a wrong CRC.
	local good
	good=$(wpay-mkqr cafe01 --amount 25.00 --reference q1 --format txt -o "$dir/q1.txt" | jq -r .payload)
	python3 - "$good" >"$dir/tampered" <<-'PY'
		import sys
		p = sys.argv[1].replace("540525.00", "540599.00")[:-4]
		crc = 0xFFFF
		for b in p.encode():
		    crc ^= b << 8
		    for _ in range(8):
		        crc = ((crc << 1) ^ 0x1021 if crc & 0x8000 else crc << 1) & 0xFFFF
		print(p + "%04X" % crc)
	PY
	printf '%s\n' "${good%????}0000" >"$dir/badcrc"
	# Images that lie, or are not images.
	python3 - "$dir" <<-'PY'
		import struct, sys, zlib
		d = sys.argv[1]
		def chunk(kind, data):
		    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
		png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0))
		png += chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
		open(d + "/liar.png", "wb").write(png)
		open(d + "/liar.pgm", "wb").write(b"P5\n40001 40001\n255\n" + b"\0" * 64)
		open(d + "/empty.png", "wb").write(b"")
		open(d + "/text.png", "wb").write(b"this is not an image\n")
	PY
	wpay-mkqr cafe01 -o "$dir/real.png" >/dev/null
	head -c 120 "$dir/real.png" >"$dir/cut.png"
	printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00' >"$dir/cut.jpg"
	printf 'no,header,here\n1,2,3\n' >"$dir/bad.csv"
	printf 'out_trade_no,amount,status\no1,1e3,paid\n' >"$dir/badamount.csv"
	printf '{"out_trade_no":"o1","amount":2500,"status":"paid"}\n{"out_trade_no":"o1","amount":2500,"status":"paid"}\n' >"$dir/dup.jsonl"
}

# Everything that holds money or state a request could change, except a
# wallet's count of wrong PINs (which wrong PINs must change). With SQL
# after it (say, a reset for the next row), that runs in the same session.
hostile_digest() { # [SQL]
	# Each table in the order of its key: PostgreSQL keeps an updated row
	# elsewhere, and a wallet's wrong PINs update it.
	db_sql "SELECT * FROM accounts ORDER BY 1; SELECT * FROM transfers ORDER BY 1; SELECT * FROM orders ORDER BY 1;
		SELECT * FROM payments ORDER BY 1; SELECT * FROM refunds ORDER BY 1; SELECT * FROM settlements ORDER BY 1;
		SELECT * FROM users ORDER BY 1; SELECT * FROM cards ORDER BY 1; SELECT * FROM merchants ORDER BY 1;
		SELECT * FROM bindings ORDER BY 1; SELECT * FROM codes ORDER BY 1; SELECT id, login, pin_hash FROM wallets ORDER BY 1;${1:-}" | sha256sum
}

# hostile_run DIR COMMAND STDIN: sets code and status (and out, err).
hostile_run() {
	local dir=$1 cmd=$2 input=$3 fd3="135790" now word
	now=$(date -u -d "${WPAY_NOW}" +%s)
	local -a argv=()
	eval "set -- $cmd"
	for word in "$@"; do
		case $word in
		@pin:*) fd3=${word#@pin:} ;;
		@pins:*) fd3=$(tr , '\n' <<<"${word#@pins:}") ;;
		@pan:*) fd3=${word#@pan:} ;;
		@now) argv+=("$now") ;;
		@sig) argv+=("sha256=$(printf '%s.{}' "$now" | openssl dgst -sha256 -mac HMAC \
			-macopt "hexkey:$(cat "$WPAY_KEYS/webhook-cafe01.key")" | sed 's/^.*= //')") ;;
		@oldsig) argv+=("sha256=$(printf '1000000000.{}' | openssl dgst -sha256 -mac HMAC \
			-macopt "hexkey:$(cat "$WPAY_KEYS/webhook-cafe01.key")" | sed 's/^.*= //')") ;;
		@tmp/*) argv+=("$dir/${word#@tmp/}") ;;
		@keys/*) argv+=("$WPAY_KEYS/${word#@keys/}") ;;
		*) argv+=("$word") ;;
		esac
	done
	[ "$fd3" = - ] && fd3=""
	case $input in
	@nest:*) python3 -c "import sys; n = int(sys.argv[1]); print('{\"a\":' + '[' * n + ']' * n + '}')" "${input#@nest:}" >"$dir/stdin" ;;
	@big:*) python3 -c "import sys; print('{\"a\":\"' + 'x' * (int(sys.argv[1]) << 20) + '\"}')" "${input#@big:}" >"$dir/stdin" ;;
	@tampered | @expired | @badcrc)
		if [ "${argv[0]}" = wpay-scanqr ]; then cp "$dir/${input#@}" "$dir/stdin"; else wpay-scanqr --payload <"$dir/${input#@}" >"$dir/stdin" 2>/dev/null || true; fi ;;
	@none) : >"$dir/stdin" ;;
	*) printf '%b' "$input" >"$dir/stdin" ;;
	esac
	status=0
	"${argv[@]}" <"$dir/stdin" >"$dir/out" 2>"$dir/err" 3<<<"$fd3" || status=$?
	out=$(head -c 2000 "$dir/out")
	err=$(head -c 2000 "$dir/err")
	code=$(jq -r 'select(.type == "error" or .valid == false) | .code // "invalid"' "$dir/out" 2>/dev/null | head -1)
	[ -n "$code" ] || code=-
}

# hostile_table DIR: every row of tests/hostile.tsv through hostile_run,
# each checked against the table; says what differs, and fails if any row
# does (or if the table has shrunk).
hostile_table() {
	local dir=$1 before after rows=0 failed=0 problem cmd input want_code want_status what
	before=$(hostile_digest)
	while IFS=$'\t' read -r cmd input want_code want_status what; do
		[[ "$cmd" == "#"* ]] && continue
		rows=$((rows + 1))
		hostile_run "$dir" "$cmd" "$input"
		# Wrong PINs count toward a lock; each row starts from none (u:1003 stays locked).
		after=$(hostile_digest "UPDATE wallets SET pin_failures = 0, locked_until = NULL WHERE login <> '1003@example.com'")
		problem=""
		[ "$code" = "$want_code" ] || problem="code $code, not $want_code"
		[ "$status" = "$want_status" ] || problem="$problem; status $status, not $want_status"
		[ -n "$err" ] || problem="$problem; nothing on standard error"
		[ "$after" = "$before" ] || problem="$problem; the ledger changed"
		if [ -n "$problem" ]; then
			failed=$((failed + 1))
			echo "row $rows ($what): $problem: $err" | head -c 400
			echo
			before=$after
		fi
	done <"$BATS_TEST_DIRNAME/hostile.tsv"
	echo "$rows hostile inputs, $failed not as the table says"
	[ "$rows" -ge 200 ]
	[ "$failed" -eq 0 ]
}
