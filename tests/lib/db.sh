# The ledger seen from the tests, on either backend: sourced (bash) by
# tests/helper.bash and by the scripts in tests/lib. WPAY_DB says which
# backend a call means: a postgresql:// or postgres:// URI is PostgreSQL,
# anything else an SQLite file. The PostgreSQL cluster is the one tests/run
# (or a test file itself) started with tests/lib/pg-cluster: WPAY_PG_HOST is
# its socket directory, WPAY_PG_BIN where its psql is, PGUSER its superuser.
#
#   db_sql [SQL]         run SQL (or standard input) on the ledger; rows as
#                        the sqlite3 shell prints them: a|b, NULL as nothing
#   db_sql_nofk [SQL]    the same with foreign keys not enforced, as the
#                        sqlite3 shell has them: old rows put in directly
#   ledger_digest        a hash of every table's rows (and the schema)
#   ledger_dump          all of the ledger as SQL text (sqlite3 .dump, pg_dump)
#   schema_version       the ledger's schema version (SQLite's user_version,
#                        PostgreSQL's wpay_schema table)
#   schema_version_set N set it, to make the ledger look older
#   ledger_absent        true when WPAY_DB holds no ledger: no file, or a
#                        database without a table
#   new_ledger NAME      print a WPAY_DB for a new, empty place: a file in
#                        the test's directory, or a new database
#   no_ledger            make WPAY_DB hold no ledger (the file gone, the
#                        database empty)
#   db_clone DB          print a WPAY_DB holding a copy of the ledger DB
#   db_drop DB           remove a ledger new_ledger or db_clone made
#   db_drop_all          remove every database new_ledger made in this test

db_is_pg() { # [DB]
	case ${1:-$WPAY_DB} in postgresql://* | postgres://*) return 0 ;; *) return 1 ;; esac
}

# psql as the tests read it: no psqlrc, unaligned, rows only, '|' between
# columns, quiet, stop at the first error.
pg_psql() {
	"${WPAY_PG_BIN:+$WPAY_PG_BIN/}psql" -X -q -A -t -F '|' -v ON_ERROR_STOP=1 "$@"
}

# psql on the cluster's maintenance database, to create and drop others.
pg_admin() {
	: "${WPAY_PG_HOST:?no PostgreSQL cluster: run the tests with make check-pg, or start one with tests/lib/pg-cluster}"
	PGOPTIONS="-c client_min_messages=warning" pg_psql -h "$WPAY_PG_HOST" -d postgres "$@"
}

# The database name in a postgresql:///NAME?host=DIR URI.
pg_dbname() {
	local rest=${1#*://}
	rest=${rest#*/}
	echo "${rest%%\?*}"
}

db_sql() {
	if db_is_pg; then
		if [ $# -gt 0 ]; then
			printf '%s\n' "$1" | pg_psql -d "$WPAY_DB" -f -
		else
			pg_psql -d "$WPAY_DB" -f -
		fi
	elif [ $# -gt 0 ]; then
		sqlite3 "$WPAY_DB" "$1"
	else
		sqlite3 "$WPAY_DB"
	fi
}

db_sql_nofk() {
	if db_is_pg; then
		# A superuser's session in replica mode fires no foreign key trigger.
		{
			echo "SET session_replication_role = replica;"
			if [ $# -gt 0 ]; then printf '%s\n' "$1"; else cat; fi
		} | pg_psql -d "$WPAY_DB" -f -
	else
		db_sql "$@"
	fi
}

ledger_digest() {
	if db_is_pg; then
		# The columns and indexes, then each table's rows as text, sorted:
		# a row that changed, came or went changes the digest, whatever the
		# order the server keeps them in. (Sequences are left out: a
		# rolled-back insert moves one, and that changes nothing.)
		pg_psql -d "$WPAY_DB" -f - <<-'SQL' | sha256sum | cut -d' ' -f1
			SELECT table_name, column_name, data_type, column_default, is_nullable FROM information_schema.columns
			    WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position;
			SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname;
			SELECT format('SELECT %L, r::text FROM %I r ORDER BY 2', table_name, table_name)
			    FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
			    ORDER BY table_name \gexec
		SQL
	else
		sqlite3 "$WPAY_DB" .dump | sha256sum | cut -d' ' -f1
	fi
}

ledger_dump() {
	if db_is_pg; then
		"${WPAY_PG_BIN:+$WPAY_PG_BIN/}pg_dump" --no-owner -d "$WPAY_DB"
	else
		sqlite3 "$WPAY_DB" .dump
	fi
}

schema_version() {
	if db_is_pg; then db_sql "SELECT version FROM wpay_schema"; else db_sql "PRAGMA user_version"; fi
}

# SQL that takes a current ledger's tables back to v4's: what v5, v6 and v7
# added, removed (accounts keep v7's wider kinds, which v4's rows satisfy).
# The caller sets the version.
# A settlement s's payments p, as lib/settle.h finds them (SETTLED_PAYMENTS).
settled_payments="(p.merchant_id = s.merchant_id AND p.id >= s.first_payment AND p.id <= s.last_payment
	AND p.settlement_id = s.id)"
# Payments left out of the settlement queue while unsettled, or in it settled: 0.
unqueued="SELECT (SELECT count(*) FROM payments p WHERE settlement_id IS NULL AND NOT EXISTS (SELECT 1
	FROM payments_due d WHERE d.merchant_id = p.merchant_id AND d.created_at = p.created_at AND d.payment_id = p.id))
	+ (SELECT count(*) FROM payments_due d JOIN payments p ON p.id = d.payment_id WHERE p.settlement_id IS NOT NULL)"

schema_back_to_v4_sql() {
	if db_is_pg; then
		echo "DROP TRIGGER payments_due_add ON payments; DROP FUNCTION payments_due_add();"
		echo "ALTER TABLE payments RESET (fillfactor);"
	else
		echo "DROP TRIGGER payments_due_add;"
	fi
	cat <<-'SQL'
		DROP TABLE wallet_transfers; DROP TABLE withdrawals; DROP TABLE wallet_daily; DROP TABLE terminals;
		DROP TABLE buyer_codes;
		ALTER TABLE codes DROP COLUMN terminal_id; ALTER TABLE orders DROP COLUMN terminal_id;
		-- v4 had no kind 'clearing' (v7 copies accounts under a CHECK without it).
		UPDATE accounts SET kind = 'payout' WHERE kind = 'clearing';
		DROP TABLE payments_due;
		ALTER TABLE settlements DROP COLUMN first_payment; ALTER TABLE settlements DROP COLUMN last_payment;
		CREATE INDEX payments_unsettled ON payments(merchant_id, created_at) WHERE settlement_id IS NULL;
		CREATE INDEX payments_settlement ON payments(settlement_id) WHERE settlement_id IS NOT NULL;
		DROP TABLE products; DROP TABLE promo_uses; DROP TABLE promos; DROP TABLE messages; DROP TABLE message_quota;
		DROP INDEX follows_merchant;
		ALTER TABLE merchants DROP COLUMN state; ALTER TABLE merchants DROP COLUMN state_reason;
		ALTER TABLE merchants DROP COLUMN state_at; ALTER TABLE merchants DROP COLUMN settlement_reason;
		ALTER TABLE orders DROP COLUMN product; ALTER TABLE orders DROP COLUMN quantity;
		ALTER TABLE payments DROP COLUMN discount; ALTER TABLE payments DROP COLUMN promo_id;
		ALTER TABLE payments DROP COLUMN card_brand; ALTER TABLE payments DROP COLUMN card_type;
		ALTER TABLE payments DROP COLUMN card_issuer; ALTER TABLE refunds DROP COLUMN discount_returned;
		ALTER TABLE settlements DROP COLUMN discounts; ALTER TABLE settlements DROP COLUMN discounts_returned;
		ALTER TABLE settlements DROP COLUMN deposit_topup;
		DROP INDEX orders_merchant; DROP INDEX orders_buyer; DROP INDEX payments_merchant; DROP INDEX payments_buyer;
		DROP INDEX refunds_merchant; DROP INDEX refunds_order; DROP INDEX events_merchant;
		DROP INDEX transfers_from_wallet; DROP INDEX transfers_to_wallet;
		DROP INDEX orders_buyer_request;
		ALTER TABLE orders DROP COLUMN request_no;
		ALTER TABLE orders DROP COLUMN reference;
	SQL
}

schema_version_set() { # N
	if db_is_pg; then db_sql "UPDATE wpay_schema SET version = $1"; else db_sql "PRAGMA user_version = $1"; fi
}

ledger_absent() {
	if db_is_pg; then
		[ "$(db_sql "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()")" = 0 ]
	else
		[ ! -e "$WPAY_DB" ]
	fi
}

# A new database's name: lower case, unique on the cluster, under 63 bytes.
pg_new_name() { # NAME
	local tag=${1//[^a-z0-9]/_}
	echo "wpay_${tag:0:20}_${BASHPID}_${SRANDOM:-$RANDOM$RANDOM}"
}

new_ledger() { # NAME
	if [ "${WPAY_TEST_BACKEND:-sqlite}" = pg ]; then
		local name
		name=$(pg_new_name "$1")
		pg_admin -c "CREATE DATABASE $name" >&2 || return 1
		[ -z "${WPAY_PG_DBLIST:-}" ] || echo "$name" >>"$WPAY_PG_DBLIST"
		echo "postgresql:///$name?host=$WPAY_PG_HOST"
	else
		echo "${BATS_TEST_TMPDIR:?}/$1.db"
	fi
}

no_ledger() {
	if db_is_pg; then
		local name
		name=$(pg_dbname "$WPAY_DB")
		pg_admin -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
	else
		rm -f "$WPAY_DB" "$WPAY_DB-wal" "$WPAY_DB-shm" "$WPAY_DB-journal"
	fi
}

db_clone() { # DB
	if db_is_pg "$1"; then
		local name
		name=$(pg_new_name copy)
		pg_admin -c "CREATE DATABASE $name TEMPLATE $(pg_dbname "$1")" >&2 || return 1
		[ -z "${WPAY_PG_DBLIST:-}" ] || echo "$name" >>"$WPAY_PG_DBLIST"
		echo "postgresql:///$name?host=$WPAY_PG_HOST"
	else
		local copy
		copy="$(dirname "$1")/copy-${BASHPID}-${SRANDOM:-$RANDOM$RANDOM}.db"
		# The WAL too: what it holds is the ledger as much as the file is.
		sqlite3 "$1" ".backup '$copy'" || return 1
		echo "$copy"
	fi
}

db_drop() { # DB
	if db_is_pg "$1"; then
		pg_admin -c "DROP DATABASE IF EXISTS $(pg_dbname "$1") WITH (FORCE)"
	else
		rm -f "$1" "$1-wal" "$1-shm" "$1-journal"
	fi
}

db_drop_all() {
	[ -n "${WPAY_PG_DBLIST:-}" ] && [ -s "$WPAY_PG_DBLIST" ] || return 0
	local name
	while read -r name; do
		pg_admin -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" || return 1
	done <"$WPAY_PG_DBLIST"
	: >"$WPAY_PG_DBLIST"
}
