#!/usr/bin/env bats
# PostgreSQL as the ledger, what only a server can show: a server that is
# down or goes down in the middle of a batch, a password in the URI, a
# database that holds another program's tables, and where a card number
# could end up on a server (pg_dump, its files, its log).
#
# Runs in `make check` too: there this file starts a throwaway cluster of
# its own (tests/lib/pg-cluster) in setup_file and stops it in
# teardown_file; under `make check-pg` it uses the harness's. The tests that
# stop a server stop one of their own (private_cluster), never the shared
# one the other lane's tests are using.

load helper

cluster=$BATS_TEST_DIRNAME/lib/pg-cluster

setup_file() {
	if [ "${WPAY_TEST_BACKEND:-sqlite}" != pg ]; then
		# fd 3 closed: a server that kept bats' descriptor would hold bats open.
		WPAY_PG_OWN=$(sh "$cluster" start 3>&-)
		WPAY_PG_HOST=$WPAY_PG_OWN
		WPAY_PG_BIN=$(sh "$cluster" bindir)
		PGHOST=$WPAY_PG_OWN
		PGUSER=$(id -un)
		export WPAY_PG_OWN WPAY_PG_HOST WPAY_PG_BIN PGHOST PGUSER
		export WPAY_TEST_BACKEND=pg
	fi
}

teardown_file() {
	[ -z "${WPAY_PG_OWN:-}" ] || sh "$cluster" stop "$WPAY_PG_OWN"
}

setup() {
	wpay_setup
	# Anything a program mistook for a path would land here, not in the tree.
	cd "$BATS_TEST_TMPDIR"
}

teardown() {
	[ ! -s "$BATS_TEST_TMPDIR/private" ] || sh "$cluster" stop "$(cat "$BATS_TEST_TMPDIR/private")"
	wpay_teardown
}

# private_cluster: a server of this test's own, with one empty database
# "wpay"; WPAY_DB points at it, and `private_ctl stop|start` stop and start it.
private_cluster() {
	local dir
	dir=$(sh "$cluster" start 3>&-)
	echo "$dir" >"$BATS_TEST_TMPDIR/private"
	pg_psql -h "$dir" -d postgres -c "CREATE DATABASE wpay"
	export WPAY_DB="postgresql:///wpay?host=$dir"
}
private_ctl() {
	case $1 in
	stop) sh "$cluster" ctl "$(cat "$BATS_TEST_TMPDIR/private")" stop -m immediate -w >/dev/null ;;
	start) sh "$cluster" ctl "$(cat "$BATS_TEST_TMPDIR/private")" start -w >/dev/null 3>&- ;;
	esac
}

@test "init on an empty database makes the ledger and says so; again, it makes nothing" {
	run --separate-stderr wpay-init
	assert_success
	assert_equal "$(jq -r .db <<<"$output")" "$WPAY_DB"
	assert_equal "$(jq -r '.created | length' <<<"$output")" 6
	for t in settings accounts transfers wallets merchants orders payments refunds events settlements event_attempts; do
		assert_equal "$(db_sql "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '$t'")" 1
	done
	before=$(ledger_digest)
	run --separate-stderr wpay-init
	assert_success
	assert_equal "$(jq -c .created <<<"$output")" "[]"
	assert_equal "$(ledger_digest)" "$before"
	assert_ledger_ok
}

@test "init refuses a database that holds another program's tables, and leaves them as they were" {
	db_sql "CREATE TABLE customers (id integer PRIMARY KEY, name text); INSERT INTO customers VALUES (1, 'Lu')"
	run --separate-stderr wpay-init
	assert_failure 65
	assert_output ""
	[[ "$stderr" == "wpay-init: "*"$(pg_dbname "$WPAY_DB")"*"not a wpay ledger"* ]]
	assert_equal "$(db_sql "SELECT string_agg(table_name, ',') FROM information_schema.tables WHERE table_schema = current_schema()")" customers
	assert_equal "$(db_sql "SELECT id, name FROM customers")" "1|Lu"
	# The programs that open a ledger refuse it too, and write nothing.
	run --separate-stderr wpay-bind user add 1001 --nickname Lu
	assert_failure 65
	assert_output ""
	assert_equal "$(db_sql "SELECT string_agg(table_name, ',') FROM information_schema.tables WHERE table_schema = current_schema()")" customers
}

@test "a URI libpq cannot read is a usage error (64), never echoed; a database not in UTF8 is refused (78); a newer schema (65)" {
	for uri in "postgresql://lu:s3cretpw@[::1/wpay" "postgresql:///wpay?nosuchparam=1&password=s3cretpw"; do
		run --separate-stderr wpay-check --db "$uri"
		assert_failure 64
		[[ "$stderr" == "wpay-check: the database URI cannot be read"*"postgresql://[user@]"* ]] || fail "$uri: $stderr"
		[[ "$stderr" != *s3cretpw* ]] || fail "$uri echoed: $stderr"
	done
	# A careless operator's database in another encoding: names in Chinese
	# would not fit, so it is refused before anything is made in it.
	name=wpay_ascii_$$
	pg_admin -c "CREATE DATABASE $name ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
	run --separate-stderr wpay-init --db "postgresql:///$name?host=$WPAY_PG_HOST"
	pg_admin -c "DROP DATABASE $name"
	assert_failure 78
	[[ "$stderr" == *"not in UTF8"*"ENCODING 'UTF8'"* ]] || fail "$stderr"
	# A ledger from a newer wpay is left alone.
	init_ledger
	db_sql "UPDATE wpay_schema SET version = 99"
	run --separate-stderr wpay-bind user list
	assert_failure 65
	[[ "$stderr" == *"schema v99, newer than this wpay knows"* ]] || fail "$stderr"
}

@test "a password in the URI is refused, exit 64, pointing to ~/.pgpass or PGPASSFILE, and never echoed" {
	init_ledger
	host=$WPAY_PG_HOST name=$(pg_dbname "$WPAY_DB")
	# The last three as libpq reads them: a '?' in the password, the key
	# percent-encoded, and a client key's password (found by a review).
	for uri in "postgresql://$PGUSER:s3cretpw@/$name?host=$host" "postgres://$PGUSER:s3cretpw@/$name?host=$host" \
		"postgresql:///$name?host=$host&password=s3cretpw" "postgresql://$PGUSER:s3?cretpw@/$name?host=$host" \
		"postgresql:///$name?host=$host&%70assword=s3cretpw" "postgresql:///$name?host=$host&sslpassword=s3cretpw"; do
		for prog in wpay-init wpay-check "wpay-bind user list" "wpay-settle --dry-run"; do
			run --separate-stderr $prog --db "$uri"
			assert_failure 64
			[[ "$stderr" == *".pgpass"* && "$stderr" == *PGPASSFILE* ]] || fail "$prog --db $uri: $stderr"
			[[ "$output$stderr" != *s3cretpw* ]] || fail "$prog --db $uri echoed the password: $stderr"
			WPAY_DB=$uri run --separate-stderr $prog
			assert_failure 64
			[[ "$stderr" == *PGPASSFILE* ]] || fail "$prog with WPAY_DB=$uri: $stderr"
			[[ "$output$stderr" != *s3cretpw* ]] || fail "$prog with WPAY_DB=$uri echoed the password: $stderr"
		done
	done
	# Without the password the same database is fine.
	run --separate-stderr wpay-check --db "postgresql://$PGUSER@/$name?host=$host"
	assert_success
}

@test "a server that is down: every program says which database, exits 75, and the ledger is as it was" {
	private_cluster
	shop_ready
	wpay-order create cafe01 o1 --amount 10.00 >/dev/null
	wpay-order create cafe01 o2 --amount 10.00 | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null
	before=$(ledger_digest)
	private_ctl stop
	local -a progs=(
		"wpay-init"
		"wpay-check"
		"wpay-bind user list"
		"wpay-bind wallet topup u:1001 --amount 1.00 --request-no t2"
		"wpay-mkqr cafe01 --format txt -o $BATS_TEST_TMPDIR/c.txt"
		"wpay-order create cafe01 o3 --amount 1.00"
		"wpay-order query cafe01 o1"
		"wpay-pay --buyer u:1001 --pin-fd 3"
		"wpay-refund cafe01 o2 r1 --amount 1.00"
		"wpay-settle"
		"wpay-notify --once"
	)
	for prog in "${progs[@]}"; do
		run --separate-stderr $prog 3<<<135790 <<<'{"type":"order","merchant":"cafe01","out_trade_no":"o1"}'
		[ "$status" -eq 75 ] || fail "$prog: status $status, not 75: $stderr"
		[[ "$stderr" == "${prog%% *}: "* ]] || fail "$prog: $stderr"
		# The database by its URI, or the server by its socket.
		[[ "$stderr" == *"$WPAY_DB"* || "$stderr" == *"$(cat "$BATS_TEST_TMPDIR/private")"* ]] ||
			fail "$prog does not say which database: $stderr"
		# What it printed, if anything, is error records: nothing was done.
		[ -z "$output" ] || [ "$(jq -r .type <<<"$output" | sort -u)" = error ] || fail "$prog printed: $output"
	done
	# Through the dispatcher, the same status.
	run --separate-stderr wpay check
	assert_failure 75
	private_ctl start
	assert_equal "$(ledger_digest)" "$before"
	assert_ledger_ok
}

@test "the server stopped in the middle of 2,000 payments: exit 75, and every payment printed is in the ledger, and only those" {
	private_cluster
	export WPAY_NOW=2026-11-01T02:00:00Z
	init_ledger
	wpay-bind merchant add m1 --name Shop --city Beijing >/dev/null
	wpay-bind merchant approve m1 >/dev/null
	. "$BATS_TEST_DIRNAME/lib/fixture.sh"
	rich_buyer
	seq 2000 | awk '{ printf "{\"type\":\"order\",\"merchant\":\"m1\",\"out_trade_no\":\"o%d\",\"amount\":%d}\n", $1, 100 + $1 % 900 }' |
		wpay-order >orders
	assert_equal "$(wc -l <orders)" 2000
	printf '135790\n' >pin
	# The orders come in at a steady pace, so the server goes down with
	# payments still to make, whatever this machine's speed.
	awk '{ print; fflush() } NR % 20 == 0 { system("sleep 0.02") }' orders |
		wpay-pay --buyer u:1001 --pin-fd 3 3<pin >paid 2>pay.err &
	pay=$!
	for _ in $(seq 1000); do
		[ "$(wc -l <paid)" -ge 100 ] && break
		sleep 0.01
	done
	private_ctl stop
	status=0
	wait "$pay" || status=$?
	[ "$status" -eq 75 ] || fail "wpay-pay ended with $status, not 75: $(cat pay.err)"
	printed=$(jq -rR 'fromjson? | select(.type == "payment") | "\(.id)|\(.order)|\(.amount)"' paid | sort)
	[ "$(wc -l <<<"$printed")" -ge 100 ] || fail "only $(wc -l <<<"$printed") payments were printed before the stop"
	[ "$(wc -l <<<"$printed")" -lt 2000 ] || fail "every payment was made before the server stopped"
	private_ctl start
	stored=$(db_sql "SELECT id, order_id, amount FROM payments" | sort)
	assert_equal "$(wc -l <<<"$stored")" "$(wc -l <<<"$printed")"
	assert_equal "$stored" "$printed"
	assert_equal "$(db_sql "SELECT count(*) FROM transfers WHERE kind = 'payment'")" "$(wc -l <<<"$printed")"
	assert_ledger_ok
	# The rerun pays the rest, and answers the paid ones as they were.
	wpay-pay --buyer u:1001 --pin-fd 3 3<pin <orders >rerun
	assert_equal "$(jq -r .type rerun | sort | uniq -c | tr -s ' ')" " 2000 payment"
	assert_equal "$(db_sql "SELECT count(*), count(DISTINCT order_id) FROM payments")" "2000|2000"
	[ -z "$(comm -23 <(echo "$printed") <(jq -r '"\(.id)|\(.order)|\(.amount)"' rerun | sort))" ]
	assert_ledger_ok
}

@test "a card number never reaches the server: not in pg_dump, the database's files, the WAL or the log" {
	private_cluster
	local pan pin=246801
	pan=$(luhn_card 622202020019876543 19)
	shop_ready
	wpay-bind wallet add pan@example.com >/dev/null
	run --separate-stderr wpay-bind card add pan@example.com --pan-fd 3 3<<<"$pan"
	assert_success
	wpay-bind pin set pan@example.com --pin-fd 3 3<<<"$pin" >/dev/null
	# A refused card (a duplicate) and a wrong PIN: their errors may reach the log.
	wpay-bind card add u:1001 --pan-fd 3 3<<<"$pan" >/dev/null 2>&1 || true
	wpay-order create cafe01 o1 --amount 1.00 | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135791 >/dev/null 2>&1 || true
	assert_equal "$(db_sql "SELECT bin || '/' || last4 FROM cards WHERE wallet_id = (SELECT id FROM wallets WHERE login = 'pan@example.com')")" "622202/${pan: -4}"
	run ledger_dump
	assert_success
	assert_output --partial "CREATE TABLE"
	refute_output --partial "$pan"
	refute_output --partial "${pan:6:9}"
	refute_output --partial "$pin"
	dir=$(cat "$BATS_TEST_TMPDIR/private")
	db_sql "CHECKPOINT"
	oid=$(db_sql "SELECT oid FROM pg_database WHERE datname = current_database()")
	[ -d "$dir/data/base/$oid" ]
	# (Not the PIN's six digits: hex ids and hashes in the files may hold them by chance.)
	run grep -rla -e "$pan" -e "${pan:6:9}" "$dir/data/base/$oid" "$dir/data/pg_wal" "$dir/log"
	assert_output ""
	[ -s "$dir/log" ]
}

# Two orders: the first one's PIN is read and it runs alone; the second
# runs in a batch whose writes are sent without waiting (store_write), which
# is what these attacks aim at.
two_orders() { # two_orders FIRST SECOND AMOUNT [MERCHANT-OF-THE-FIRST]
	printf '{"type":"order","merchant":"%s","out_trade_no":"%s","amount":100}\n{"type":"order","merchant":"cafe01","out_trade_no":"%s","amount":%s}\n' "${4:-cafe01}" "$1" "$2" "$3" |
		wpay-order
}

@test "attack: an order closed while a batched payment waits on its row is not charged" {
	shop_ready
	two_orders o0 c1 5000 >orders
	id=$(jq -r 'select(.out_trade_no == "c1") | .id' orders)
	# Another session holds the order, then closes it, as wpay order close would.
	(
		echo "BEGIN; SELECT 1 FROM orders WHERE id = '$id' FOR UPDATE;"
		sleep 2
		echo "UPDATE orders SET state = 'closed', close_reason = 'closed', closed_at = '2026-11-22T08:00:00Z' WHERE id = '$id'; COMMIT;"
	) | psql -XAtq "$WPAY_DB" >/dev/null &
	sleep 0.5
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <orders
	wait
	assert_failure 1
	assert_equal "$(jq -r '[.type, .code // .out_trade_no] | join(" ")' <<<"$output" | paste -sd,)" "payment o0,error order_closed"
	assert_equal "$(db_sql "SELECT count(*) FROM payments")" 1
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE kind = 'wallet'")" 9900
	assert_equal "$(db_sql "SELECT state FROM orders WHERE id = '$id'")" closed
	assert_ledger_ok
}

@test "attack: two workers paying 6 x 10^14 each into one merchant at once: one is refused at the 10^15 limit, the books hold" {
	shop_ready
	for u in 2001 2002; do
		buyer_ready "$u" "$([ "$u" = 2001 ] && echo 5555555555554444 || echo 4012888888881881)"
		wpay-bind wallet topup "u:$u" --amount 6000000000010.00 --request-no "t$u" >/dev/null
	done
	# The first orders (their PINs read, each run alone) go to another shop,
	# so that only the batched second ones meet at cafe01's balance, which
	# both batches read before either commits.
	wpay-bind merchant add other01 --name Other --city Beijing >/dev/null
	wpay-bind merchant approve other01 >/dev/null
	two_orders a0 a1 600000000000000 other01 >a.orders
	two_orders b0 b1 600000000000000 other01 >b.orders
	(
		echo "BEGIN; SELECT 1 FROM accounts WHERE id = 'pending:m:cafe01' FOR UPDATE;"
		sleep 2
		echo "COMMIT;"
	) | psql -XAtq "$WPAY_DB" >/dev/null &
	sleep 0.5
	wpay-pay --buyer u:2001 --pin-fd 3 3<<<135790 <a.orders >a.out 2>a.err &
	a=$!
	wpay-pay --buyer u:2002 --pin-fd 3 3<<<135790 <b.orders >b.out 2>b.err &
	b=$!
	wait $a || true
	wait $b || true
	wait
	assert_equal "$(cat a.out b.out | jq -r '.code // .type' | sort | paste -sd,)" "balance_limit,payment,payment,payment"
	assert_equal "$(db_sql "SELECT count(*) FROM payments")" 3
	assert_ledger_ok
}

@test "attack: with --pin-each, a record that must run again never reads the next record's PIN line" {
	shop_ready
	wallet=$(db_sql "SELECT id FROM accounts WHERE kind = 'wallet'")
	card=$(db_sql "SELECT id FROM accounts WHERE kind = 'card'")
	printf '{"type":"order","merchant":"cafe01","out_trade_no":"a1","amount":6000}\n{"type":"order","merchant":"cafe01","out_trade_no":"a2","amount":1000}\n' |
		wpay-order >orders
	printf '135790\n135790\n' >pins
	# Another session holds the wallet, then moves 60.00 out of it after
	# the payment has read its balance: the first record cannot be paid.
	(
		echo "BEGIN; SELECT balance FROM accounts WHERE id = '$wallet' FOR UPDATE;"
		sleep 2
		echo "UPDATE accounts SET balance = balance - 6000 WHERE id = '$wallet';"
		echo "UPDATE accounts SET balance = balance + 6000 WHERE id = '$card';"
		echo "INSERT INTO transfers(id, idem_key, group_id, kind, from_account, to_account, amount, currency, created_at)"
		echo "  VALUES ('tr_x', 'x', 'tr_x', 'withdraw', '$wallet', '$card', 6000, 'CNY', '2026-11-22T08:00:00Z'); COMMIT;"
	) | psql -XAtq "$WPAY_DB" >/dev/null &
	sleep 0.5
	run --separate-stderr wpay-pay --pin-each --buyer u:1001 --pin-fd 3 3<pins <orders
	wait
	assert_failure 1
	assert_equal "$(jq -r '.code // .type' <<<"$output" | paste -sd,)" "insufficient_funds,payment"
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE id = '$wallet'")" 3000
	assert_ledger_ok
}

@test "attack: two wpay-mkqr workers making the same references at once both answer the code the ledger keeps" {
	init_ledger
	wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing >/dev/null
	wpay-bind merchant approve cafe01 >/dev/null
	seq 2000 | awk '{ printf "{\"merchant\":\"cafe01\",\"amount\":%d,\"reference\":\"r%d\"}\n", 100 + $1, $1 }' >refs
	# A second apart, so that each worker's own code for a reference would
	# differ (its expiry, its signature) from the other's.
	WPAY_NOW=2026-11-22T08:00:00Z wpay-mkqr <refs >a.out 2>a.err &
	a=$!
	WPAY_NOW=2026-11-22T08:00:01Z wpay-mkqr <refs >b.out 2>b.err &
	b=$!
	wait $a
	wait $b
	db_sql "SELECT reference, payload FROM codes ORDER BY reference" | tr '|' '\t' >stored
	for w in a b; do
		jq -r '[.reference, .payload] | @tsv' $w.out | LC_ALL=C sort >$w.answered
		cmp -s stored $w.answered || fail "worker $w answered a code the ledger does not keep: $(diff stored $w.answered | head -4)"
	done
	assert_equal "$(wc -l <stored)" 2000
}

# Issue 12's speed: a batch reads the orders it pays ahead, in one query,
# and sends like writes as one statement each (store_write_many).

@test "gathered inserts: one statement per text, seen by the next read, a write that overtook what it needs dooms the batch" {
	init_ledger
	run "$WPAY_UNIT_BIN/bulk_writes" "$WPAY_DB"
	assert_success
	refute_output --partial "not ok"
	assert_output --partial "ok 1 - writes are deferred on PostgreSQL only"
}

@test "reads of many rows (a day's bill lines) arrive a row at a time; a statement in their middle reads the rest first" {
	init_ledger
	run "$WPAY_UNIT_BIN/many_rows" "$WPAY_DB"
	assert_success
	refute_output --partial "not ok"
	assert_output --partial "ok 1 - a read of many rows gives every row, in order"
}

@test "one batch that moves more than 64 accounts (70 merchants' orders): every balance moves by its transfers" {
	shop_ready
	merchants_with_orders m 70
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <orders
	assert_success
	assert_equal "$(grep -c '"type":"payment"' <<<"$output")" 70
	assert_ledger_ok
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE kind = 'wallet'")" $((10000 - 70 * 100 - 70 * 71 / 2))
	assert_equal "$(db_sql "SELECT count(*) FROM accounts a WHERE balance <> (SELECT COALESCE(SUM(amount), 0) FROM transfers WHERE to_account = a.id) - (SELECT COALESCE(SUM(amount), 0) FROM transfers WHERE from_account = a.id)")" 0
}

@test "attack: an order closed after its batch read it ahead is not charged" {
	shop_ready
	two_orders o0 c1 5000 >orders
	id=$(jq -r 'select(.out_trade_no == "c1") | .id' orders)
	# Both orders are read ahead together; the PIN, asked for by the first,
	# is held back until the second is closed for good (the FIFO opened
	# read-write, so that wpay-pay starts at once and waits in its read).
	mkfifo pin
	wpay-pay --buyer u:1001 --pin-fd 3 3<>pin <orders >paid 2>err &
	pay=$!
	sleep 0.5
	wpay-order close "$id" >/dev/null
	echo 135790 >pin
	status=0
	wait $pay || status=$?
	assert_equal "$status" 1
	assert_equal "$(jq -r '[.type, .code // .out_trade_no] | join(" ")' paid | paste -sd,)" "payment o0,error order_closed"
	assert_equal "$(db_sql "SELECT count(*) FROM payments")" 1
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE kind = 'wallet'")" 9900
	assert_ledger_ok
}

@test "one order twice in one batch is paid once, and both answers are that payment" {
	shop_ready
	two_orders o0 o1 200 >orders
	wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <orders >/dev/null # the PIN's run, alone
	printf '{"type":"order","merchant":"cafe01","out_trade_no":"o%s","amount":300}\n' 2 3 | wpay-order >more
	cat more more >twice
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <twice
	assert_success
	assert_equal "$(jq -r '.out_trade_no + " " + .id' <<<"$output" | sort -u | wc -l)" 2
	assert_equal "$(db_sql "SELECT count(*) FROM payments")" 4
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE kind = 'wallet'")" $((10000 - 100 - 200 - 300 - 300))
	assert_ledger_ok
}

# n merchants m001.. added and approved, in one bind run.
many_merchants() {
	for i in $(seq -w 1 "$1"); do
		printf '{"type":"merchant","op":"add","merchant_no":"m%s","name":"Shop %s","city":"Beijing"}\n' "$i" "$i"
		printf '{"type":"merchant","op":"approve","merchant":"m%s"}\n' "$i"
	done | wpay-bind >/dev/null
}

@test "attack: a batch doomed while its commit moves more than 512 balances runs again (it ended with 70)" {
	shop_ready
	wpay-bind wallet topup u:1001 --amount 1000.00 --request-no t2 >/dev/null
	many_merchants 520
	for i in $(seq -w 1 520); do
		printf '{"type":"order","merchant":"m%s","out_trade_no":"o%s","amount":100}\n' "$i" "$i"
	done | wpay-order >orders
	# The first order runs alone (its PIN); the second batch's commit moves
	# the fees first (ids in order), then 519 pendings and the wallet. The
	# fees' move fails there once, as a deadlock would; its answer is read
	# when the commands in flight pass 512, in the middle of those moves.
	db_sql "CREATE SEQUENCE once;
		CREATE FUNCTION deadlock_once() RETURNS trigger LANGUAGE plpgsql AS \$\$
		BEGIN
			IF NEW.id = 'fees:CNY' AND nextval('once') = 2 THEN
				RAISE EXCEPTION 'injected deadlock' USING ERRCODE = '40P01';
			END IF;
			RETURN NEW;
		END \$\$;
		CREATE TRIGGER deadlock_once BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION deadlock_once();"
	run --separate-stderr wpay-pay --batch-size 1000 --buyer u:1001 --pin-fd 3 3<<<135790 <orders
	assert_equal "$stderr" ""
	assert_success
	[ "$(db_sql "SELECT last_value FROM once")" -gt 2 ] || fail "the injected deadlock never happened"
	assert_equal "$(grep -c '"type":"payment"' <<<"$output")" 520
	assert_equal "$(db_sql "SELECT balance FROM accounts WHERE kind = 'wallet'")" $((10000 + 100000 - 520 * 100))
	assert_ledger_ok
}
