#!/bin/sh
# A merchant's day: `wpay-bill` for one merchant with 100,000 trades that
# day (and 10,000 refunds) in a ledger of 1,000,000 payments, as CSV,
# JSON lines and GBK with Alipay's column names; next to the same join
# written as CSV by the sqlite3 CLI, on the same database. Wall time and
# CPU time (on a shared machine the wall time is what the others left).
# Goal (issue 13): a day's bill for 100,000 trades in under 2 s.
# Usage: bench/bill.sh [bin-dir] [payments] [trades that day]
set -eu
bin=$(cd "${1:-bin}" && pwd)
n=${2:-1000000}
day=${3:-100000}
work=$(mktemp -d "${TMPDIR:-/tmp}/wpay-bench-bill.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export WPAY_KEYS="$work/keys" WPAY_DB="$work/ledger.db"
PATH="$bin:$PATH"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
date=$(TZ=Asia/Shanghai date -d "3 days ago" +%F)
since=$(date -u -d "$date 00:00 +0800" +%Y-%m-%dT%H:%M:%SZ)
until=$(date -u -d "$date 00:00 +0800 1 day" +%Y-%m-%dT%H:%M:%SZ)
wpay-init >/dev/null
# Every (n / day)-th payment is cafe01's, that day; the rest are 99 other
# merchants', over 30 days. One cafe01 trade in ten is refunded in part.
sqlite3 "$WPAY_DB" <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 100)
INSERT INTO merchants(id, kind, name, city, mcc, country, currency, fee_ppm, settlement, created_at, updated_at)
  SELECT CASE i WHEN 1 THEN 'cafe01' ELSE printf('m%05d', i) END, 'individual', 'Shop', 'Beijing', '5814', 'CN',
  'CNY', 6000, 'T15', '$now', '$now' FROM k;
INSERT INTO users(uid, nickname, created_at) VALUES ('1001', 'Lu', '$now');
INSERT INTO wallets(id, login, currency, created_at) VALUES ('wal_bench', 'bench', 'CNY', '$now');
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $n)
INSERT INTO orders(id, merchant_id, out_trade_no, amount, currency, subject, buyer, origin, state, expires_at,
  created_at, paid_at)
  SELECT printf('ord_%010d', i), CASE WHEN i % ($n / $day) = 0 THEN 'cafe01' ELSE printf('m%05d', i % 99 + 2) END,
  printf('o%d', i), 100 + i % 5000, 'CNY', '咖啡 ' || (i % 7), '1001', 'api', 'paid', 0,
  CASE WHEN i % ($n / $day) = 0 THEN strftime('%Y-%m-%dT%H:%M:%SZ', '$since', printf('+%d seconds', i % 86400))
  ELSE strftime('%Y-%m-%dT%H:%M:%SZ', 'now', printf('-%d seconds', i % (30 * 86400))) END, NULL FROM k;
UPDATE orders SET paid_at = created_at;
INSERT INTO payments(id, order_id, merchant_id, wallet_id, buyer, source_account, amount, fee, currency, created_at)
  SELECT 'pay_' || substr(id, 5), id, merchant_id, 'wal_bench', buyer, 'wallet:wal_bench', amount,
  (amount * 6000 + 500000) / 1000000, 'CNY', paid_at FROM orders;
INSERT INTO refunds(id, order_id, payment_id, merchant_id, out_request_no, amount, fee_returned, funded_from,
  created_at) SELECT 'ref_' || substr(id, 5), order_id, id, merchant_id, 'r1', amount / 2,
  fee / 2, 'pending', created_at FROM payments WHERE merchant_id = 'cafe01' AND substr(id, 5) % 100 = 0;
COMMIT;
SQL

timed() { # timed LABEL COMMAND...: prints "LABEL: S s (C s CPU), M MiB"
	label=$1
	shift
	/usr/bin/time -f "%e %M %U %S" -o "$work/time" "$@" >"$work/out"
	read -r secs kib user sys <"$work/time"
	echo "$label: ${secs} s ($(echo "$user + $sys" | bc) s CPU), $((kib / 1024)) MiB peak, $(wc -l <"$work/out") lines"
}

timed "sqlite3 CLI, the same join as CSV" sqlite3 -csv "$WPAY_DB" "SELECT p.created_at, p.order_id,
  o.out_trade_no, p.id, NULL, 'payment', p.amount, p.fee, p.amount - p.fee, p.currency, p.buyer, o.subject,
  p.settlement_id FROM payments p JOIN orders o ON o.id = p.order_id WHERE p.merchant_id = 'cafe01'
  AND p.created_at >= '$since' AND p.created_at < '$until' UNION ALL SELECT r.created_at, r.order_id,
  o.out_trade_no, r.id, r.out_request_no, 'refund', -r.amount, -r.fee_returned, r.fee_returned - r.amount,
  o.currency, o.buyer, o.subject, r.settlement_id FROM refunds r JOIN orders o ON o.id = r.order_id
  WHERE r.merchant_id = 'cafe01' AND r.created_at >= '$since' AND r.created_at < '$until' ORDER BY 1, 4"
timed "wpay-bill, CSV" wpay-bill cafe01 --date "$date"
timed "wpay-bill, JSON lines" wpay-bill cafe01 --date "$date" --format jsonl
timed "wpay-bill, GBK with Alipay's names, to a file" wpay-bill cafe01 --date "$date" --headers zh --encoding gbk \
	-o "$work/bill.csv"
echo "goal: under 2 s"
