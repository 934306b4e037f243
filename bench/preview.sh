#!/bin/sh
# The settlement forecast (`wpay-settle --preview`) of 1,000,000 unsettled
# payments over 10,000 T15 merchants, made over the last 20 days, so that
# each merchant's forecast spans the 17 settlement dates to come; next to
# the per-merchant, per-day sums the sqlite3 CLI makes on the same ledger
# (what a person would otherwise write, without the cut-offs, modes and
# carried balances). Then the first date is settled and compared with its
# forecast, and the ledger's digest before and after the forecast with
# each other (it writes nothing).
# Usage: bench/preview.sh [bin-dir] [payments] [merchants]
set -eu
bin=$(cd "${1:-bin}" && pwd)
n=${2:-1000000}
m=${3:-10000}
work=$(mktemp -d "${TMPDIR:-/tmp}/wpay-bench-preview.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export WPAY_KEYS="$work/keys" WPAY_DB="$work/ledger.db"
PATH="$bin:$PATH"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
wpay-init >/dev/null
sqlite3 "$WPAY_DB" >/dev/null <<SQL
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
  'paid', 0, strftime('%Y-%m-%dT%H:%M:%SZ', 'now', printf('-%d seconds', 60 + i * 7919 % (20 * 86400))),
  strftime('%Y-%m-%dT%H:%M:%SZ', 'now', printf('-%d seconds', 60 + i * 7919 % (20 * 86400))) FROM k;
INSERT INTO payments(id, order_id, merchant_id, wallet_id, buyer, source_account, amount, fee, currency, created_at)
  SELECT 'pay_' || substr(id, 5), id, merchant_id, 'wal_bench', NULL, 'card:bench', amount,
  (amount * 6000 + 500000) / 1000000, 'CNY', paid_at FROM orders;
INSERT INTO wallets(id, login, currency, created_at) VALUES ('wal_bench', 'bench', 'CNY', '$now');
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

timed() { # timed LABEL COMMAND...: prints "LABEL: S s, M MiB"; sets secs
	label=$1
	shift
	/usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out"
	read -r secs kib <"$work/time"
	echo "$label: ${secs} s, $((kib / 1024)) MiB peak"
}

digest() { sqlite3 "$WPAY_DB" "SELECT * FROM payments ORDER BY id; SELECT * FROM settlements ORDER BY id;
	SELECT * FROM accounts ORDER BY id; SELECT * FROM transfers ORDER BY id" | sha256sum; }

timed "sqlite3 CLI, per-merchant per-day sums" sqlite3 "$WPAY_DB" \
	"SELECT merchant_id, substr(created_at, 1, 10), count(*), sum(amount), sum(fee) FROM payments
	 WHERE settlement_id IS NULL GROUP BY 1, 2"
cli=$secs
echo "  ($(wc -l <"$work/out") merchant-days)"
before=$(digest)
timed "wpay-settle --preview" wpay-settle --preview
mv "$work/out" "$work/forecast"
echo "  ($(wc -l <"$work/forecast") forecasts, $(jq -s 'map(.payments) | add' "$work/forecast") payments," \
	"$(jq -r .date "$work/forecast" | sort -u | wc -l) dates; ratio to the CLI $(echo "$secs / $cli" | bc -l | cut -c1-4)x)"
[ "$(digest)" = "$before" ] && echo "  ledger unchanged by the forecast" || echo "  THE FORECAST CHANGED THE LEDGER"
first=$(jq -r .date "$work/forecast" | sort | head -n 1)
fields='[.merchant, .date, .mode, .payments, .gross, .fees, .net, .payout, .carried_out]'
timed "wpay-settle --date $first" wpay-settle --date "$first"
if [ "$(jq -c "select(.date == \"$first\") | $fields" "$work/forecast" | sort)" = \
	"$(jq -c "$fields" "$work/out" | sort)" ]; then
	echo "  the settlements of $first are their forecasts"
else
	echo "  THE SETTLEMENTS OF $first DIFFER FROM THEIR FORECASTS"
fi
