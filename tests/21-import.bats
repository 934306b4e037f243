#!/usr/bin/env bats
# wpay-init --import: an SQLite ledger moved, with all its history, into a
# PostgreSQL ledger that holds no data yet; all of it in one transaction,
# or nothing. Needs a PostgreSQL server: setup_file starts a throwaway
# cluster on a Unix socket in its own directory, unless WPAY_PG_HOST names
# one already running (make check-pg). Each test gets a database of its own.

load helper
load lib/pg

# The tables with the columns they sort by; the import must know every one.
TABLES="settings:name accounts:id transfers:id users:uid wallets:id cards:id bindings:id merchants:id codes:id
	orders:id payments:id payments_due:payment_id refunds:id events:id event_attempts:event_id,attempt follows:uid,merchant_id
	settlements:id products:merchant_id,sku promos:id promo_uses:promo_id,uid messages:id message_quota:day,party
	wallet_transfers:id withdrawals:id wallet_daily:wallet_id,day,kind terminals:merchant_id,terminal_id
	buyer_codes:token_hash"

# A history to move, made once: two merchants (one T0 with its deposit,
# one T15), three buyers with cards and PINs (one with a wrong try
# counted, one bound twice), a dynamic and a static code, orders paid,
# refunded, left unpaid and closed, a follow, a settlement with --out, and
# notifications delivered and failed.
make_history() {
	local srv=$BATS_FILE_TMPDIR/srv
	export WPAY_DB=$BATS_FILE_TMPDIR/src/ledger.db WPAY_KEYS=$BATS_FILE_TMPDIR/src/keys HOME=$BATS_FILE_TMPDIR
	wpay-init --allow-private-notify --pin-tries 5 --refund-window 30 >/dev/null
	export WPAY_NOW=2026-10-20T02:00:00Z
	mkdir -p "$srv"
	python3 "$BATS_TEST_DIRNAME/lib/webhook_server.py" "$srv" &
	echo $! >"$srv/pid"
	for _ in $(seq 100); do [ -s "$srv/port" ] && break; sleep 0.05; done
	local url="http://127.0.0.1:$(cat "$srv/port")/hook"
	wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing --bank-account 6222000011112222 \
		--notify-url "$url" >/dev/null
	wpay-bind merchant approve cafe01 >/dev/null
	wpay-bind merchant add shop02 --name 'Shop "Two" \ 二' --city Beijing --notify-url "$url" >/dev/null
	wpay-bind merchant approve shop02 >/dev/null
	wpay-bind merchant deposit cafe01 --amount 20000.00 --request-no d1 >/dev/null
	wpay-bind merchant update cafe01 --kind enterprise --verified --settlement T0 >/dev/null
	buyer_ready 1001
	buyer_ready 1002 5555555555554444
	wpay-bind wallet topup u:1001 --amount 1000.00 --request-no t1 >/dev/null
	wpay-bind wallet topup u:1002 --amount 500.00 --request-no t2 >/dev/null
	# A second card made the default; the first removed.
	local c1 c2
	c1=$(wpay-bind card list u:1001 | jq -r .id)
	c2=$(wpay-bind card add u:1001 --pan-fd 3 3<<<5105105105105100 | jq -r .id)
	wpay-bind card default "$c2" >/dev/null
	wpay-bind card remove "$c1" >/dev/null
	# Bound, unbound, bound again: two bindings.
	wpay-bind user add 1003 --nickname Mo >/dev/null
	wpay-bind wallet add mo@example.com >/dev/null
	wpay-bind user bind 1003 mo@example.com >/dev/null
	wpay-bind user unbind 1003 >/dev/null
	wpay-bind user bind 1003 mo@example.com >/dev/null
	# Codes: a dynamic one paid by scanning it (following the shop), a static one.
	local payload
	payload=$(wpay-mkqr cafe01 --amount 25.00 --reference order_1 --expires-in 15m | jq -r .payload)
	wpay-scanqr --payload <<<"$payload" | wpay-order --buyer u:1001 |
		wpay-pay --pin-fd 3 --follow 3<<<135790 >/dev/null
	payload=$(wpay-mkqr shop02 | jq -r .payload)
	wpay-scanqr --payload <<<"$payload" | wpay-order --buyer u:1002 --amount 12.50 --request-no req_1 |
		wpay-pay --pin-fd 3 3<<<135790 >/dev/null
	wpay-order create cafe01 o1 --amount 100.00 | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null
	wpay-order create shop02 s1 --amount 30.00 | wpay-pay --buyer u:1002 --pin-fd 3 3<<<135790 >/dev/null
	wpay-refund cafe01 o1 r1 --amount 40.00 --reason "broken cup" >/dev/null
	wpay-order create cafe01 o2 --amount 5.00 >/dev/null
	wpay-order close cafe01 o2 >/dev/null
	wpay-order create shop02 s2 --amount 7.00 >/dev/null
	# A wrong PIN, counted against u:1002's wallet.
	wpay-order create shop02 s3 --amount 1.00 | wpay-pay --buyer u:1002 --pin-fd 3 3<<<000000 >/dev/null 2>&1 || true
	# The micro-wallet: a transfer with a note, and a withdrawal to a debit
	# card that the settlement below pays out.
	wpay-bind wallet transfer u:1001 u:1003 --amount 60.00 --request-no g1 --note "rent 房租" --pin-fd 3 \
		3<<<135790 >/dev/null
	wpay-bind card add u:1003 --pan-fd 3 3<<<"$(luhn_card 621700 19)" >/dev/null
	wpay-bind pin set u:1003 --pin-fd 3 3<<<135790 >/dev/null
	wpay-bind wallet withdraw u:1003 --amount 25.00 --request-no w1 --pin-fd 3 3<<<135790 >/dev/null
	# A vending machine, and a buyer's code it charged; one code left unused.
	wpay-bind merchant terminal add cafe01 VM-1 --name "hall 1" >/dev/null
	local code
	code=$(wpay-mkqr --buyer u:1001 --pin-fd 3 3<<<135790 | jq -r .payload)
	wpay-pay --merchant cafe01 --scanned "$code" --amount 2.00 --out-trade-no v1 --terminal VM-1 >/dev/null
	wpay-mkqr --buyer u:1003 --pin-fd 3 3<<<135790 >/dev/null
	# The next day: cafe01 (T0) settled with a payout file; then notifications,
	# some refused by the endpoint.
	export WPAY_NOW=2026-10-21T02:00:00Z
	wpay-settle --out "$BATS_FILE_TMPDIR/payouts" >/dev/null
	printf '200\n500\n200\n503\n' >"$srv/statuses"
	wpay-notify --once >/dev/null || true
	kill "$(cat "$srv/pid")"
	# The storefront's tables, as their programs write them (issue 15's
	# commands fill these once they exist; the copy is the same).
	sqlite3 "$WPAY_DB" <<-'SQL'
		INSERT INTO products VALUES ('cafe01', 'mug', 'Mug "Lu" 杯', 2500, 'CNY', 10, 1, NULL,
			'2026-10-20T02:00:00Z', '2026-10-20T02:00:00Z');
		INSERT INTO promos VALUES ('citic1', 'CITIC', 'CITIC', NULL, 'credit', NULL, 100000, NULL, 2000, 1,
			10000000, 250, 1, 'CNY', 1792000000000, 1795000000000, '2026-10-20T02:00:00Z',
			'2026-10-20T02:00:00Z', NULL);
		INSERT INTO promo_uses VALUES ('citic1', '1001', 1);
		INSERT INTO messages VALUES ('msg_1', 'cafe01', 'm1', 'followers', 'New mugs!', 1, 2, '2026-10-20T02:00:00Z');
		INSERT INTO message_quota VALUES ('2026-10-20', 'm:cafe01', 1);
	SQL
	# Every table has rows, so every copy is proved.
	local t
	for t in $TABLES; do
		[ "$(sqlite3 "$WPAY_DB" "SELECT count(*) FROM ${t%%:*}")" -gt 0 ] || {
			echo "the history has no ${t%%:*}" >&2
			return 1
		}
	done
}

setup_file() {
	pg_start "$BATS_FILE_TMPDIR/pg"
	make_history
}

teardown_file() {
	pg_stop "$BATS_FILE_TMPDIR/pg"
}

setup() {
	wpay_setup
	# The SQLite ledger to move, a copy of the history with its keys.
	cp -a "$BATS_FILE_TMPDIR/src/." "$BATS_TEST_TMPDIR/"
	export WPAY_DB=$BATS_TEST_TMPDIR/ledger.db
	pgdb=wpay_import_${BATS_TEST_NUMBER}_$$_$RANDOM
	createdb "$pgdb"
	PG="postgresql:///$pgdb?host=$PGHOST"
}

teardown() {
	[ ! -f "$BATS_TEST_TMPDIR/srv/pid" ] || kill "$(cat "$BATS_TEST_TMPDIR/srv/pid")" 2>/dev/null || true
	dropdb --force --if-exists "$pgdb" 2>/dev/null || true
}

pg() {
	psql -X -q -A -t -F '|' -v ON_ERROR_STOP=1 -d "$pgdb" "$@"
}

# Every table in id order, as text: one engine's against the other's.
dump_sqlite() {
	local t
	for t in $TABLES; do
		echo "== ${t%%:*}"
		sqlite3 -separator '|' "$1" "SELECT * FROM ${t%%:*} ORDER BY ${t#*:}"
	done
}

dump_pg() {
	local t
	for t in $TABLES; do
		echo "== ${t%%:*}"
		pg -c "SELECT * FROM ${t%%:*} ORDER BY ${t#*:}"
	done
}

# Rows in the tables that make a ledger one in use, on the target.
pg_rows() {
	pg -c "SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM merchants) + (SELECT count(*) FROM users)
		+ (SELECT count(*) FROM wallets) + (SELECT count(*) FROM orders) + (SELECT count(*) FROM transfers)"
}

@test "the whole history moves: every table, row and column the same, the same check, the same balances" {
	# The import knows every table the ledger has.
	assert_equal "$(sqlite3 "$WPAY_DB" "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")" \
		"$(for t in $TABLES; do echo "${t%%:*}"; done | sort)"
	run --separate-stderr wpay-init --db "$PG" --import "$WPAY_DB"
	assert_success
	assert_equal "$stderr" ""
	rec=$output
	assert_equal "$(jq -r .imported.from <<<"$rec")" "$WPAY_DB"
	for t in $TABLES; do
		assert_equal "$(jq -r ".imported.tables.${t%%:*}" <<<"$rec")" \
			"$(sqlite3 "$WPAY_DB" "SELECT count(*) FROM ${t%%:*}")"
	done
	# Settings came along.
	assert_equal "$(jq -c '[.pin_max_tries, .refund_window_days, .allow_private_notify]' <<<"$rec")" '[5,30,true]'
	assert_equal "$(dump_pg)" "$(dump_sqlite "$WPAY_DB")"
	sqlite_check=$(wpay-check)
	assert_equal "$(jq -r .ok <<<"$sqlite_check")" true
	# The same record, byte for byte.
	assert_equal "$(wpay-check --db "$PG")" "$sqlite_check"
	for w in u:1001 u:1002 u:1003; do
		assert_equal "$(wpay-bind --db "$PG" wallet balance $w)" "$(wpay-bind wallet balance $w)"
		assert_equal "$(wpay-bind --db "$PG" wallet show $w)" "$(wpay-bind wallet show $w)"
	done
	for m in cafe01 shop02; do
		assert_equal "$(wpay-bind --db "$PG" merchant balance $m)" "$(wpay-bind merchant balance $m)"
	done
	# The wrong PIN counted before the move still counts.
	assert_equal "$(pg -c "SELECT pin_failures FROM wallets WHERE login = '1002@example.com'")" 1
}

@test "after the move the loop goes on on PostgreSQL: replays answer as before; orders expire, pay, refund, settle, notify" {
	wpay-init --db "$PG" --import "$WPAY_DB" >/dev/null
	sqlite_db=$WPAY_DB
	export WPAY_DB=$PG WPAY_NOW=2026-10-21T03:00:00Z
	# A replayed payment answers the same payment, and moves nothing.
	paid=$(sqlite3 "$sqlite_db" "SELECT p.id FROM payments p JOIN orders o ON o.id = p.order_id WHERE o.out_trade_no = 'o1'")
	before=$(dump_pg)
	run --separate-stderr bash -c "wpay-order create cafe01 o1 --amount 100.00 | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790"
	assert_success
	assert_equal "$(jq -r .id <<<"$output")" "$paid"
	# A replayed refund too.
	refund=$(sqlite3 "$sqlite_db" "SELECT id FROM refunds WHERE out_request_no = 'r1'")
	run --separate-stderr wpay-refund cafe01 o1 r1 --amount 40.00 --reason "broken cup"
	assert_success
	assert_equal "$(jq -r .id <<<"$output")" "$refund"
	assert_equal "$(dump_pg)" "$before"
	# The orders left unpaid have expired; a new one is paid and refunded.
	run --separate-stderr wpay-order expire
	assert_success
	assert_equal "$(wpay-order query shop02 s2 | jq -r .state)" closed
	run --separate-stderr bash -c "wpay-order create shop02 s4 --amount 3.00 | wpay-pay --buyer u:1002 --pin-fd 3 3<<<135790"
	assert_success
	assert_equal "$(jq -r .type <<<"$output")" payment
	run --separate-stderr bash -c "wpay-order create cafe01 o3 --amount 20.00 | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790"
	assert_success
	run --separate-stderr wpay-refund cafe01 o3 r3 --amount 5.00
	assert_success
	assert_equal "$(wpay-order query cafe01 o3 | jq -r .refunded)" 500
	# The right PIN cleared the counted try.
	assert_equal "$(pg -c "SELECT pin_failures FROM wallets WHERE login = '1002@example.com'")" 0
	# A new binding is numbered after the imported ones.
	wpay-bind user add 1004 --nickname New >/dev/null
	wpay-bind wallet add new@example.com >/dev/null
	run --separate-stderr wpay-bind user bind 1004 new@example.com
	assert_success
	assert_equal "$(pg -c "SELECT id FROM bindings WHERE uid = '1004'")" \
		"$(($(sqlite3 "$sqlite_db" "SELECT max(id) FROM bindings") + 1))"
	# cafe01 settled for 21 Oct before the move: the next date settles what came after.
	export WPAY_NOW=2026-10-21T16:30:00Z
	run --separate-stderr wpay-settle --out "$BATS_TEST_TMPDIR/payouts"
	assert_success
	assert_equal "$(jq -sc 'map([.merchant, .date, .payments])' <<<"$output")" '[["m:cafe01","2026-10-22",1]]'
	run --separate-stderr wpay-settle --out "$BATS_TEST_TMPDIR/payouts"
	assert_success
	assert_equal "$(jq -sc 'map([.merchant, .date])' <<<"$output")" '[["m:cafe01","2026-10-22"]]'
	assert_equal "$(pg -c "SELECT count(*) FROM settlements")" 2
	# The notifications that failed before the move are sent again, as their
	# second attempt, with the new ones, to the merchants' new endpoint.
	retry=$(pg -c "SELECT count(*) FROM events WHERE state <> 'delivered' AND attempts = 1")
	[ "$retry" -gt 0 ]
	srv=$BATS_TEST_TMPDIR/srv
	mkdir -p "$srv"
	python3 "$BATS_TEST_DIRNAME/lib/webhook_server.py" "$srv" &
	echo $! >"$srv/pid"
	for _ in $(seq 100); do [ -s "$srv/port" ] && break; sleep 0.05; done
	for m in cafe01 shop02; do
		wpay-bind merchant update $m --notify-url "http://127.0.0.1:$(cat "$srv/port")/hook" >/dev/null
	done
	export WPAY_NOW=2026-10-23T00:00:00Z
	run --separate-stderr wpay-notify --once
	assert_success
	assert_equal "$(jq -sr 'map(.result) | unique | join(",")' <<<"$output")" delivered
	assert_equal "$(pg -c "SELECT count(*) FROM events WHERE state <> 'delivered'")" 0
	assert_equal "$(pg -c "SELECT count(*) FROM event_attempts WHERE attempt = 2")" "$retry"
	assert_ledger_ok
}

@test "settings: the imported ones replace the target's, those on the command line win over both" {
	wpay-init --db "$PG" --cutoff-hour 2 --pin-tries 9 >/dev/null
	run --separate-stderr wpay-init --db "$PG" --import "$WPAY_DB" --pin-tries 7
	assert_success
	# 7 from the command line over 5 imported over 9; 30 imported; 2 the target's own.
	assert_equal "$(jq -c '[.pin_max_tries, .refund_window_days, .settle_cutoff_hour, .allow_private_notify]' <<<"$output")" \
		'[7,30,2,true]'
	assert_equal "$(pg -c "SELECT name, value FROM settings ORDER BY name")" "notify_allow_private|1
pin_max_tries|7
refund_window_days|30
settle_cutoff_hour|2"
	assert_equal "$(jq -r .imported.tables.settings <<<"$output")" 3
	# The source keeps its own.
	assert_equal "$(wpay-init | jq -c '[.pin_max_tries, .settle_cutoff_hour]')" '[5,0]'
}

@test "an older SQLite ledger is brought to the current schema first, then moved" {
	# Back to v4, as 06-order.bats does.
	{
		schema_back_to_v4_sql
		echo 'PRAGMA user_version = 4;'
	} | sqlite3 "$WPAY_DB"
	run --separate-stderr wpay-init --db "$PG" --import "$WPAY_DB"
	assert_success
	assert_equal "$(sqlite3 "$WPAY_DB" 'PRAGMA user_version')" 9
	assert_equal "$(jq -r .schema <<<"$output")" 9
	assert_equal "$(pg -c "SELECT reference FROM orders WHERE origin = 'dynamic_code'")" order_1
	assert_equal "$(dump_pg)" "$(dump_sqlite "$WPAY_DB")"
}

@test "a target that holds data already is refused with 73 and left as it was" {
	wpay-init --db "$PG" --import "$WPAY_DB" >/dev/null
	before=$(dump_pg)
	run --separate-stderr wpay-init --db "$PG" --import "$WPAY_DB"
	assert_failure 73
	assert_output ""
	assert_equal "$stderr" "wpay-init: cannot import $WPAY_DB into $PG: the target ledger already holds accounts; import only into a ledger with no data (a new database, after 'wpay init --db' or none); nothing was imported"
	assert_equal "$(dump_pg)" "$before"
	# One user is enough to make a ledger in use.
	dropdb --force "$pgdb"
	createdb "$pgdb"
	wpay-init --db "$PG" >/dev/null
	wpay-bind --db "$PG" user add 77 --nickname Other >/dev/null
	run --separate-stderr wpay-init --db "$PG" --import "$WPAY_DB"
	assert_failure 73
	[[ "$stderr" == *"the target ledger already holds users;"* ]]
	assert_equal "$(pg -c "SELECT uid FROM users")" 77
}

@test "bad sources and targets: no file, not a ledger, an SQLite target, a URI to import, keys missing" {
	run --separate-stderr wpay-init --db "$PG" --import "$BATS_TEST_TMPDIR/none.db"
	assert_failure 66
	assert_equal "$stderr" "wpay-init: cannot import $BATS_TEST_TMPDIR/none.db: No such file or directory"
	[ ! -e "$BATS_TEST_TMPDIR/none.db" ]
	echo "not a database, just text that is long enough to be read as a header by SQLite's pager" >"$BATS_TEST_TMPDIR/text.db"
	run --separate-stderr wpay-init --db "$PG" --import "$BATS_TEST_TMPDIR/text.db"
	assert_failure 65
	sqlite3 "$BATS_TEST_TMPDIR/other.db" "CREATE TABLE t (x); INSERT INTO t VALUES (1);"
	run --separate-stderr wpay-init --db "$PG" --import "$BATS_TEST_TMPDIR/other.db"
	assert_failure 66
	[[ "$stderr" == *"is not an initialised wpay ledger"* ]]
	# Nothing of these reached the target: its schema was never made.
	assert_equal "$(pg -c "SELECT to_regclass('wpay_schema') IS NULL")" t
	run --separate-stderr wpay-init --db "$BATS_TEST_TMPDIR/target.db" --import "$WPAY_DB"
	assert_failure 64
	[[ "$stderr" == *"--db (or WPAY_DB) must be a postgresql:// URI"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/target.db" ]
	run --separate-stderr wpay-init --import "$WPAY_DB"
	assert_failure 64
	run --separate-stderr wpay-init --db "$PG" --import "$PG"
	assert_failure 64
	[[ "$stderr" == *"--import takes an SQLite ledger file"* ]]
	run --separate-stderr wpay-init --db "$PG" --import "$WPAY_DB" --public-key
	assert_failure 64
	# New keys would make every imported PIN hash and card fingerprint useless.
	WPAY_KEYS=$BATS_TEST_TMPDIR/new-keys run --separate-stderr wpay-init --db "$PG" --import "$WPAY_DB"
	assert_failure 66
	[[ "$stderr" == *"--import needs the key directory the SQLite ledger was used with"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/new-keys" ]
	assert_equal "$(pg -c "SELECT to_regclass('wpay_schema') IS NULL")" t
}

@test "a source whose books do not balance fails the ledger check on the copy: 65, nothing imported" {
	# One cent moved between two balances without a transfer: the sum stays zero.
	sqlite3 "$WPAY_DB" "UPDATE accounts SET balance = balance + 1 WHERE id = (SELECT id FROM accounts WHERE kind = 'wallet' ORDER BY id LIMIT 1);
		UPDATE accounts SET balance = balance - 1 WHERE id = (SELECT id FROM accounts WHERE kind = 'card' ORDER BY id LIMIT 1);"
	run --separate-stderr wpay-init --db "$PG" --import "$WPAY_DB"
	assert_failure 65
	[[ "$stderr" == *"the ledger check fails on the copy (2 violations; the first: "*"has balance"* ]]
	assert_equal "$(pg_rows)" 0
}

@test "a text that is not UTF-8 in the source is named, with its table and row: 65, nothing imported" {
	sqlite3 "$WPAY_DB" "UPDATE users SET nickname = CAST(x'4cff75' AS TEXT) WHERE uid = '1003'"
	run --separate-stderr wpay-init --db "$PG" --import "$WPAY_DB"
	assert_failure 65
	[[ "$stderr" == *"table users, row '1003', column 2 holds text that is not UTF-8; the source ledger is damaged; nothing was imported" ]]
	assert_equal "$(pg_rows)" 0
}

@test "a target that loses rows on the way is caught by the count: 65, nothing imported" {
	wpay-init --db "$PG" >/dev/null
	pg <<-'SQL'
		CREATE FUNCTION lose() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
		CREATE TRIGGER lose BEFORE INSERT ON follows FOR EACH ROW EXECUTE FUNCTION lose();
	SQL
	run --separate-stderr wpay-init --db "$PG" --import "$WPAY_DB"
	assert_failure 65
	[[ "$stderr" == *"table follows: 1 rows read, 0 written"* ]]
	assert_equal "$(pg_rows)" 0
}

@test "killed in the middle (SIGKILL while it waits for the last table): the target stays empty, a rerun moves it all" {
	wpay-init --db "$PG" >/dev/null
	# Another session holds settlements, so the import stops there with
	# every other table written (uncommitted).
	mkfifo "$BATS_TEST_TMPDIR/locker"
	pg <"$BATS_TEST_TMPDIR/locker" >/dev/null &
	locker=$!
	exec 4>"$BATS_TEST_TMPDIR/locker"
	echo "BEGIN; LOCK TABLE settlements IN ACCESS EXCLUSIVE MODE;" >&4
	wait_for() { # SQL VALUE: poll for up to 20 s
		for _ in $(seq 400); do
			[ "$(pg -c "$1")" = "$2" ] && return 0
			sleep 0.05
		done
		echo "waited in vain for: $1 = $2" >&2
		return 1
	}
	wait_for "SELECT count(*) FROM pg_locks WHERE relation = 'settlements'::regclass AND granted" 1
	wpay-init --db "$PG" --import "$WPAY_DB" >"$BATS_TEST_TMPDIR/out" 2>&1 &
	importer=$!
	wait_for "SELECT left(query, 24) FROM pg_stat_activity WHERE application_name = 'wpay-init'
		AND datname = current_database() AND wait_event_type = 'Lock'" "INSERT INTO settlements("
	kill -9 "$importer"
	status=0
	wait "$importer" || status=$?
	assert_equal "$status" 137
	echo "COMMIT;" >&4
	exec 4>&-
	wait "$locker"
	# The server rolls back what the dead client left once it notices.
	wait_for "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'wpay-init' AND datname = current_database()" 0
	assert_equal "$(pg_rows)" 0
	run --separate-stderr wpay-init --db "$PG" --import "$WPAY_DB"
	assert_success
	assert_equal "$(dump_pg)" "$(dump_sqlite "$WPAY_DB")"
	assert_equal "$(json_sorted "$(wpay-check --db "$PG")")" "$(json_sorted "$(wpay-check)")"
}
