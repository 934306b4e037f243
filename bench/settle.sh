#!/bin/sh
# Settlement of 1,000,000 payments over 10,000 merchants: wall time and
# peak memory of `wpay-settle`, with and without --out, and of its rerun;
# next to the same aggregation by the database's own command-line tool on
# the same database. The ledger is made with SQL for speed (merchants,
# their accounts, orders and payments 16 to 45 days old, and one funding
# transfer per merchant so the books balance); wpay-check runs after.
# Goals: SQLite (issue 5) under 10 s and 64 MiB, rerun under 1 s;
# PostgreSQL (issue 12, --db) under 20 s.
# Usage: bench/settle.sh [--db postgresql://.../DB?host=...] [bin-dir] [payments] [merchants]
#   With --db, DB must exist; the bench makes and drops DB_settle and
#   DB_copy beside it.
set -eu
uri=
if [ "${1:-}" = --db ]; then
	uri=$2
	shift 2
fi
bin=$(cd "${1:-bin}" && pwd)
n=${2:-1000000}
m=${3:-10000}
work=$(mktemp -d "${TMPDIR:-/tmp}/wpay-bench-settle.XXXXXX")
export WPAY_KEYS="$work/keys"
PATH="$bin:$PATH"
date=$(TZ=Asia/Shanghai date +%F)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
if [ -n "$uri" ]; then
	db_uri() { printf '%s' "$uri" | sed -E "s#^(postgres(ql)?://[^/?]*)/([^?]*)#\\1/\\3_$1#"; }
	base=$(printf '%s' "$uri" | sed -E 's#^postgres(ql)?://[^/?]*/([^?]*).*#\2#')
	sql() { psql -XAtq -v ON_ERROR_STOP=1 "$uri" "$@"; }
	sql -c "DROP DATABASE IF EXISTS ${base}_settle" -c "DROP DATABASE IF EXISTS ${base}_copy" \
		-c "CREATE DATABASE ${base}_settle ENCODING 'UTF8' TEMPLATE template0"
	trap 'sql -c "DROP DATABASE IF EXISTS ${base}_settle" -c "DROP DATABASE IF EXISTS ${base}_copy" >/dev/null 2>&1; rm -rf "$work"' EXIT INT TERM
	export WPAY_DB="$(db_uri settle)"
	wpay-init >/dev/null
	psql -XAtq -v ON_ERROR_STOP=1 "$WPAY_DB" <<SQL
BEGIN;
INSERT INTO merchants(id, kind, name, city, mcc, country, currency, fee_ppm, settlement, bank_account, created_at,
  updated_at) SELECT format('m%s', lpad(i::text, 5, '0')), 'individual', 'Shop', 'Beijing', '5814', 'CN', 'CNY', 6000,
  'T15', format('6222%s', lpad(i::text, 12, '0')), '$now', '$now' FROM generate_series(1, $m) i;
INSERT INTO wallets(id, login, currency, created_at) VALUES ('wal_bench', 'bench', 'CNY', '$now');
INSERT INTO accounts(id, kind, owner, currency, created_at)
  SELECT 'pending:m:' || id, 'pending', 'm:' || id, 'CNY', '$now' FROM merchants
  UNION ALL SELECT 'payout:m:' || id, 'payout', 'm:' || id, 'CNY', '$now' FROM merchants
  UNION ALL SELECT 'deposit:m:' || id, 'deposit', 'm:' || id, 'CNY', '$now' FROM merchants
  UNION ALL SELECT 'card:bench', 'card', 'bench', 'CNY', '$now'
  UNION ALL SELECT 'fees:CNY', 'fees', 'CNY', 'CNY', '$now';
INSERT INTO orders(id, merchant_id, out_trade_no, amount, currency, origin, state, expires_at, created_at, paid_at)
  SELECT format('ord_%s', lpad(i::text, 10, '0')), format('m%s', lpad((i % $m + 1)::text, 5, '0')), 'o' || i,
  100 + i % 5000, 'CNY', 'api', 'paid', 0,
  to_char((now() - make_interval(secs => 16 * 86400 + i % (29 * 86400))) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
  to_char((now() - make_interval(secs => 16 * 86400 + i % (29 * 86400))) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
  FROM generate_series(1, $n) i;
INSERT INTO payments(id, order_id, merchant_id, wallet_id, buyer, source_account, amount, fee, currency, created_at)
  SELECT 'pay_' || substr(id, 5), id, merchant_id, 'wal_bench', NULL, 'card:bench', amount,
  (amount * 6000 + 500000) / 1000000, 'CNY', paid_at FROM orders;
INSERT INTO transfers(id, idem_key, group_id, kind, from_account, to_account, amount, currency, created_at)
  SELECT 'tr_' || merchant_id, 'bench:' || merchant_id, 'tr_bench', 'payment', 'card:bench',
  'pending:m:' || merchant_id, SUM(amount - fee), 'CNY', '$now' FROM payments GROUP BY merchant_id
  UNION ALL SELECT 'tr_fees', 'bench:fees', 'tr_bench', 'fee', 'card:bench', 'fees:CNY', SUM(fee), 'CNY', '$now'
  FROM payments;
UPDATE accounts SET balance = (SELECT SUM(amount) FROM transfers WHERE to_account = accounts.id)
  WHERE kind IN ('pending', 'fees');
UPDATE accounts SET balance = -(SELECT SUM(amount) FROM transfers WHERE from_account = 'card:bench')
  WHERE id = 'card:bench';
COMMIT;
-- Only the tables that hold rows: those the settlement fills (settlements)
-- stay as a new ledger's, never analyzed. Analyzed empty, the planner
-- would take them for empty all through the run while they grow by 10,000
-- rows, and look each merchant up by a scan (a ledger in use holds its
-- settlements already).
SELECT format('VACUUM ANALYZE %I', relname) FROM pg_class WHERE relkind = 'r'
  AND relnamespace = current_schema()::regnamespace AND pg_relation_size(oid) > 0 \gexec
SQL
	sql -c "CREATE DATABASE ${base}_copy TEMPLATE ${base}_settle"
	copy() { sql -c "DROP DATABASE ${base}_settle" -c "CREATE DATABASE ${base}_settle TEMPLATE ${base}_copy"; }
	printf '#!/bin/sh\nexec psql -XAtq "$WPAY_DB" -c "$1"\n' >"$work/cli"
	cli_name="psql"
else
	trap 'rm -rf "$work"' EXIT INT TERM
	export WPAY_DB="$work/ledger.db"
	wpay-init >/dev/null
	sqlite3 "$WPAY_DB" <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $m)
INSERT INTO merchants(id, kind, name, city, mcc, country, currency, fee_ppm, settlement, bank_account, created_at,
  updated_at) SELECT printf('m%05d', i), 'individual', 'Shop', 'Beijing', '5814', 'CN', 'CNY', 6000, 'T15',
  printf('6222%012d', i), '$now', '$now' FROM k;
INSERT INTO accounts(id, kind, owner, currency, created_at)
  SELECT 'pending:m:' || id, 'pending', 'm:' || id, 'CNY', '$now' FROM merchants
  UNION ALL SELECT 'payout:m:' || id, 'payout', 'm:' || id, 'CNY', '$now' FROM merchants
  UNION ALL SELECT 'deposit:m:' || id, 'deposit', 'm:' || id, 'CNY', '$now' FROM merchants
  UNION ALL SELECT 'card:bench', 'card', 'bench', 'CNY', '$now'
  UNION ALL SELECT 'fees:CNY', 'fees', 'CNY', 'CNY', '$now';
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $n)
INSERT INTO orders(id, merchant_id, out_trade_no, amount, currency, origin, state, expires_at, created_at, paid_at)
  SELECT printf('ord_%010d', i), printf('m%05d', i % $m + 1), printf('o%d', i), 100 + i % 5000, 'CNY', 'api',
  'paid', 0, strftime('%Y-%m-%dT%H:%M:%SZ', 'now', printf('-%d seconds', 16 * 86400 + i % (29 * 86400))),
  strftime('%Y-%m-%dT%H:%M:%SZ', 'now', printf('-%d seconds', 16 * 86400 + i % (29 * 86400))) FROM k;
INSERT INTO payments(id, order_id, merchant_id, wallet_id, buyer, source_account, amount, fee, currency, created_at)
  SELECT 'pay_' || substr(id, 5), id, merchant_id, 'wal_bench', NULL, 'card:bench', amount,
  (amount * 6000 + 500000) / 1000000, 'CNY', paid_at FROM orders;
INSERT INTO transfers(id, idem_key, group_id, kind, from_account, to_account, amount, currency, created_at)
  SELECT 'tr_' || merchant_id, 'bench:' || merchant_id, 'tr_bench', 'payment', 'card:bench',
  'pending:m:' || merchant_id, SUM(amount - fee), 'CNY', '$now' FROM payments GROUP BY merchant_id
  UNION ALL SELECT 'tr_fees', 'bench:fees', 'tr_bench', 'fee', 'card:bench', 'fees:CNY', SUM(fee), 'CNY', '$now'
  FROM payments;
UPDATE accounts SET balance = (SELECT SUM(amount) FROM transfers WHERE to_account = accounts.id)
  WHERE kind IN ('pending', 'fees');
UPDATE accounts SET balance = -(SELECT SUM(amount) FROM transfers WHERE from_account = 'card:bench')
  WHERE id = 'card:bench';
COMMIT;
SQL
	cp "$WPAY_DB" "$work/copy.db"
	copy() {
		cp "$work/copy.db" "$WPAY_DB"
		rm -f "$WPAY_DB-wal" "$WPAY_DB-shm"
	}
	printf '#!/bin/sh\nexec sqlite3 "%s" "$1"\n' "$work/copy.db" >"$work/cli"
	cli_name="sqlite3"
fi
cutoff=$(date -u -d "$date 00:00 +0800" +%Y-%m-%dT%H:%M:%SZ)

# The CPU time too: on a shared machine the wall time is what the others
# left over, the CPU time what the program cost.
timed() { # timed LABEL COMMAND...: prints "LABEL: S s (C s CPU), M MiB"
	label=$1
	shift
	/usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" >"$work/out"
	read -r secs kib user sys <"$work/time"
	echo "$label: ${secs} s ($(echo "$user + $sys" | bc) s CPU), $((kib / 1024)) MiB peak"
}

chmod +x "$work/cli"
timed "$cli_name CLI, the same per-merchant sums" "$work/cli" \
	"SELECT merchant_id, count(*), sum(amount), sum(fee) FROM payments WHERE settlement_id IS NULL
	 AND created_at < '$cutoff' GROUP BY merchant_id"
echo "  ($(wc -l <"$work/out") merchants)"
timed "wpay-settle --out" wpay-settle --date "$date" --out "$work/payouts"
echo "  ($(wc -l <"$work/out") settlements, $(jq -s 'map(.payments) | add' "$work/out") payments, $(ls "$work/payouts" | wc -l) files)"
timed "rerun" wpay-settle --date "$date" --out "$work/payouts"
copy
timed "wpay-settle without --out, on a fresh copy" wpay-settle --date "$date"
timed "rerun" wpay-settle --date "$date"
if [ -n "$uri" ]; then
	echo "goal: under 20 s"
else
	echo "goal: under 10 s and 64 MiB, rerun under 1 s"
fi
echo "ledger check after: $(wpay-check | jq -c '{ok, transfers}')"
