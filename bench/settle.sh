#!/bin/sh
# Settlement of 1,000,000 payments over 10,000 merchants: wall time and
# peak memory of `wpay-settle`, with and without --out, and of its rerun;
# next to the same aggregation by the sqlite3 command-line tool on the same
# database. The ledger is made with SQL for speed (merchants, their
# accounts, orders and payments 16 to 45 days old, and one funding transfer
# per merchant so the books balance); wpay-check runs after.
# Goal (issue 5): under 10 s and 64 MiB, rerun under 1 s.
# Usage: bench/settle.sh [bin-dir] [payments] [merchants]
set -eu
bin=$(cd "${1:-bin}" && pwd)
n=${2:-1000000}
m=${3:-10000}
work=$(mktemp -d "${TMPDIR:-/tmp}/wpay-bench-settle.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export WPAY_DB="$work/ledger.db" WPAY_KEYS="$work/keys"
PATH="$bin:$PATH"
wpay-init >/dev/null
date=$(TZ=Asia/Shanghai date +%F)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
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
cutoff=$(date -u -d "$date 00:00 +0800" +%Y-%m-%dT%H:%M:%SZ)

timed() { # timed LABEL COMMAND...: prints "LABEL: S s, M MiB"
	label=$1
	shift
	/usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out"
	read -r secs kib <"$work/time"
	echo "$label: ${secs} s, $((kib / 1024)) MiB peak"
}

timed "sqlite3 CLI, the same per-merchant sums" sqlite3 "$work/copy.db" \
	"SELECT merchant_id, count(*), sum(amount), sum(fee) FROM payments WHERE settlement_id IS NULL
	 AND created_at < '$cutoff' GROUP BY merchant_id"
echo "  ($(wc -l <"$work/out") merchants)"
timed "wpay-settle --out" wpay-settle --date "$date" --out "$work/payouts"
echo "  ($(wc -l <"$work/out") settlements, $(jq -s 'map(.payments) | add' "$work/out") payments, $(ls "$work/payouts" | wc -l) files)"
timed "rerun" wpay-settle --date "$date" --out "$work/payouts"
cp "$work/copy.db" "$WPAY_DB"
rm -f "$WPAY_DB-wal" "$WPAY_DB-shm"
timed "wpay-settle without --out, on a fresh copy" wpay-settle --date "$date"
timed "rerun" wpay-settle --date "$date"
echo "goal: under 10 s and 64 MiB, rerun under 1 s"
echo "ledger check after: $(wpay-check | jq -c '{ok, transfers}')"
