# Shared set-up for the bats files: the test build of the programs first on
# PATH (it honours WPAY_NOW), and HOME, the ledger and the keys inside the
# test's own temporary directory, so no test sees another's state.
#
# The ledger's backend is WPAY_TEST_BACKEND's: sqlite (the default, `make
# check`), a file in the test's directory; or pg (`make check-pg`), a
# database of its own on the cluster tests/run started (WPAY_PG_HOST),
# dropped when the test ends. Tests look inside through tests/lib/db.sh
# (db_sql, ledger_digest), never sqlite3 or psql directly; a test about the
# SQLite file itself says so with use_sqlite_file.

bats_require_minimum_version 1.5.0

load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

: "${WPAY_TEST_BIN:?run the tests with make check}"
: "${WPAY_SHARED:=$BATS_TEST_DIRNAME/../../shared}"
PATH="$WPAY_TEST_BIN:$PATH"
export PATH
export WPAY_TEST_BACKEND=${WPAY_TEST_BACKEND:-sqlite}
case $WPAY_TEST_BACKEND in
sqlite) ;;
pg) : "${WPAY_PG_HOST:?WPAY_TEST_BACKEND=pg needs a cluster: run the tests with make check-pg}" ;;
*) echo "WPAY_TEST_BACKEND is sqlite or pg, not '$WPAY_TEST_BACKEND'" >&2; exit 64 ;;
esac

source "$(dirname "${BASH_SOURCE[0]}")/lib/db.sh"

wpay_setup() {
	export HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$HOME"
	export WPAY_PG_DBLIST="$BATS_TEST_TMPDIR/pg-databases"
	WPAY_DB=$(new_ledger ledger) || return 1
	export WPAY_DB
	export WPAY_KEYS="$BATS_TEST_TMPDIR/keys"
	unset WPAY_NOW XDG_DATA_HOME XDG_CONFIG_HOME
	# Sanitizer builds: a leak or error is a test failure.
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=99"
}

setup() {
	wpay_setup
}

# Every database the test made is dropped (a file ledger goes with the
# test's directory). A file with a teardown of its own calls this too.
wpay_teardown() {
	db_drop_all
}

teardown() {
	wpay_teardown
}

# For a test about the SQLite file itself (its mode, its path, what is in
# its bytes): an SQLite ledger in the test's directory, on either backend.
use_sqlite_file() {
	export WPAY_DB="$BATS_TEST_TMPDIR/ledger.db"
}

# A test that reads the project's shared data (EMV vectors, QR photos; make
# check passes SHARED=..., ../shared by default) starts with
# `need_shared vectors` (the directories it reads): a clone without them
# skips the test and says why. A file missing from a directory that is
# there still fails the test.
need_shared() {
	local dir
	for dir in "$@"; do
		[ -d "$WPAY_SHARED/$dir" ] || skip "no shared test data: WPAY_SHARED=$WPAY_SHARED has no $dir/"
	done
}

# A fresh ledger with its keys.
init_ledger() {
	wpay-init >/dev/null
}

# What PROG says, exiting 66, where WPAY_DB holds no ledger: no file, or
# a database without wpay's tables.
no_ledger_message() { # PROG
	if db_is_pg; then
		echo "$1: $WPAY_DB is not an initialised wpay ledger; run 'wpay init'"
	else
		echo "$1: ledger $WPAY_DB does not exist; run 'wpay init' (or point --db or WPAY_DB at it)"
	fi
}

# untraced CMD...: CMD in a subshell without bats' trace of each command
# (its DEBUG trap), which slows a long loop in shell several times. A
# failure in CMD fails the test at this line; CMD's variables stay in the
# subshell, so it says what it found on its output.
untraced() {
	(
		trap - DEBUG
		"$@"
	)
}

# The ledger check must hold.
assert_ledger_ok() {
	run --separate-stderr wpay-check
	assert_success
	assert_equal "$(jq -r .ok <<<"$output")" true
}

# Complete a card number prefix to len digits with a valid Luhn check digit.
luhn_card() {
	local prefix=$1 len=$2 body digit sum=0 i d
	body=$prefix
	while [ ${#body} -lt $((len - 1)) ]; do body="${body}0"; done
	for ((i = ${#body} - 1, pos = 0; i >= 0; i--, pos++)); do
		d=${body:i:1}
		if ((pos % 2 == 0)); then
			d=$((d * 2))
			((d > 9)) && d=$((d - 9))
		fi
		sum=$((sum + d))
	done
	digit=$(((10 - sum % 10) % 10))
	echo "$body$digit"
}

# webhook_start: a local endpoint (tests/lib/webhook_server.py) in
# $BATS_TEST_TMPDIR/srv, answering what srv/statuses says; sets srv and
# url. The ledger must allow it (wpay init --allow-private-notify); the
# caller's teardown kills "$(cat "$srv/pid")".
webhook_start() {
	srv="$BATS_TEST_TMPDIR/srv"
	mkdir -p "$srv"
	python3 "$BATS_TEST_DIRNAME/lib/webhook_server.py" "$srv" &
	echo $! >"$srv/pid"
	for _ in $(seq 100); do [ -s "$srv/port" ] && break; sleep 0.05; done
	url="http://127.0.0.1:$(cat "$srv/port")/hook"
}

# A user u:1001 bound to a wallet with a Visa test card and PIN 135790.
buyer_ready() {
	wpay-bind user add "${1:-1001}" --nickname "Lu" >/dev/null
	wpay-bind wallet add "${1:-1001}@example.com" >/dev/null
	wpay-bind user bind "${1:-1001}" "${1:-1001}@example.com" >/dev/null
	wpay-bind card add "u:${1:-1001}" --pan-fd 3 3<<<"${2:-4111111111111111}" >/dev/null
	wpay-bind pin set "u:${1:-1001}" --pin-fd 3 3<<<135790 >/dev/null
}

# Approve merchant $1 and drop the events that told it so (merchant.*), for
# tests that count the deliveries of payment events; 33-approval tests them.
approve_quietly() {
	wpay-bind merchant approve "$1" >/dev/null
	db_sql "DELETE FROM events WHERE merchant_id = '$1' AND kind LIKE 'merchant.%'"
}

# A fresh ledger, the clock at 2026-11-22T08:00:00Z, the merchant cafe01,
# and the buyer u:1001 (PIN 135790) with 100.00 in the wallet.
shop_ready() {
	init_ledger
	export WPAY_NOW=2026-11-22T08:00:00Z
	wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing >/dev/null
	wpay-bind merchant approve cafe01 >/dev/null
	buyer_ready 1001
	wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
}

# N approved merchants PREFIX01... and an order of each (amount 100 + i
# minor units) in ./orders: a batch that meets many merchants' accounts.
merchants_with_orders() { # PREFIX N
	local i
	for i in $(seq -w 1 "$2"); do
		wpay-bind merchant add "$1$i" --name "Shop $i" --city Beijing >/dev/null
		wpay-bind merchant approve "$1$i" >/dev/null
	done
	for i in $(seq -w 1 "$2"); do
		printf '{"type":"order","merchant":"%s%s","out_trade_no":"o%s","amount":%d}\n' "$1" "$i" "$i" $((100 + 10#$i))
	done | wpay-order >orders
}

# jq -cS of the first argument, for comparing JSON whatever its key order.
json_sorted() {
	jq -cS . <<<"$1"
}

# Codes drawn as terminal art (wpay-mkqr --format txt) laid side by side
# into one PNM image of the given kind (P2, P3, P5, P6), 4 pixels a module:
#   art_to_pnm P5 a.txt [b.txt ...] > out.pgm
art_to_pnm() {
	python3 - "$@" <<-'PY'
		import sys
		kind, files = sys.argv[1], sys.argv[2:]
		def modules(path):  # rows of booleans, True = light
		    rows = []
		    for line in open(path, encoding="utf-8").read().splitlines():
		        top, bottom = [], []
		        for ch in line:
		            top.append(ch in "\u2588\u2580"); bottom.append(ch in "\u2588\u2584")
		        rows += [top, bottom]
		    return rows
		codes = [modules(f) for f in files]
		s, mh = 4, max(len(c) for c in codes)
		light = [[True] * sum(len(c[0]) for c in codes) for _ in range(mh)]
		x0 = 0
		for c in codes:
		    for y, row in enumerate(c):
		        for x, v in enumerate(row):
		            light[y][x0 + x] = v
		    x0 += len(c[0])
		w, h = len(light[0]) * s, mh * s
		px = [255 if light[y // s][x // s] else 0 for y in range(h) for x in range(w)]
		out = sys.stdout.buffer
		if kind == "P5":
		    out.write(b"P5\n# made by the tests\n%d %d\n255\n" % (w, h) + bytes(px))
		elif kind == "P6":
		    out.write(b"P6\n%d %d\n255\n" % (w, h) + bytes(v for p in px for v in (p, p, p)))
		elif kind == "P2":
		    out.write(b"P2\n%d %d\n15\n" % (w, h) + " ".join(str(p * 15 // 255) for p in px).encode() + b"\n")
		else:
		    out.write(b"P3\n%d %d\n255\n" % (w, h) + " ".join("%d %d %d" % (p, p, p) for p in px).encode() + b"\n")
	PY
}

# A payload with its CRC recomputed, so only a signature can tell a change.
recrc() {
	python3 -c '
import sys
p = sys.argv[1][:-4]
c = 0xFFFF
for b in p.encode():
    c ^= b << 8
    for _ in range(8):
        c = ((c << 1) ^ 0x1021) & 0xFFFF if c & 0x8000 else (c << 1) & 0xFFFF
print(p + "%04X" % c)' "$1"
}

# refuses STATUS CODE COMMAND...: fails with STATUS and the error record CODE
# (any, when CODE is empty), and the ledger is as it was.
refuses() {
	local status=$1 code=$2 before
	shift 2
	before=$(ledger_digest)
	run --separate-stderr "$@"
	assert_failure "$status"
	if [ -n "$code" ]; then
		assert_equal "$(jq -r .code <<<"$output" | tail -n 1)" "$code"
	fi
	assert_equal "$(ledger_digest)" "$before"
}
