#!/bin/sh
# The notification queue: `wpay-notify list` of 1,000,000 events over
# 1,000 merchants (a tenth of them failed), whole, by merchant and by state,
# next to the sqlite3 CLI printing the same rows as JSON (what a person would
# otherwise run) and to jq -c . reading the list (the next step of most
# pipelines); then `redeliver --merchant --failed` of one merchant's failed
# events.
# Usage: bench/queue.sh [bin-dir] [events] [merchants]
set -eu
bin=$(cd "${1:-bin}" && pwd)
n=${2:-1000000}
m=${3:-1000}
work=$(mktemp -d "${TMPDIR:-/tmp}/wpay-bench-queue.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export WPAY_KEYS="$work/keys" WPAY_DB="$work/ledger.db"
PATH="$bin:$PATH"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
wpay-init >/dev/null
sqlite3 "$WPAY_DB" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $m)
INSERT INTO merchants(id, kind, name, city, mcc, country, currency, fee_ppm, settlement, created_at, updated_at)
  SELECT printf('m%05d', i), 'individual', 'Shop', 'Beijing', '5814', 'CN', 'CNY', 6000, 'T15', '$now', '$now' FROM k;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $n)
INSERT INTO events(id, merchant_id, kind, subject, body, state, attempts, next_attempt_at, created_at, last_status,
  delivered_at)
  SELECT printf('evt_pay_%010d', i), printf('m%05d', i % $m + 1), 'order.paid', printf('pay_%010d', i),
  '{"event":"order.paid"}', CASE WHEN i % 10 = 0 THEN 'failed' ELSE 'delivered' END,
  CASE WHEN i % 10 = 0 THEN 8 ELSE 1 END, 0,
  strftime('%Y-%m-%dT%H:%M:%SZ', 'now', printf('-%d seconds', $n - i)),
  CASE WHEN i % 10 = 0 THEN 500 ELSE 200 END,
  CASE WHEN i % 10 = 0 THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%SZ', 'now') END FROM k;
COMMIT;
SQL

timed() { # timed LABEL COMMAND...: prints "LABEL: S s, M MiB, R records/s"
	label=$1
	shift
	/usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out"
	read -r secs kib <"$work/time"
	lines=$(wc -l <"$work/out")
	echo "$label: ${secs} s, $((kib / 1024)) MiB peak, $lines records$(
		[ "$lines" -gt 0 ] && echo "$secs > 0" | bc -l | grep -q 1 && printf ', %s/s' "$(echo "$lines / $secs" | bc)")"
}

timed "sqlite3 CLI -json, every event in order" sqlite3 -json "$WPAY_DB" \
	"SELECT id, merchant_id, kind, subject, state, attempts, last_status, created_at FROM events
	 ORDER BY created_at, id"
timed "wpay-notify list" wpay-notify list
cp "$work/out" "$work/list"
timed "jq -c . reading that list" jq -c . "$work/list"
timed "wpay-notify list --merchant m00001" wpay-notify list --merchant m00001
timed "wpay-notify list --failed" wpay-notify list --failed
timed "wpay-notify list --limit 1000 --after (the middle)" wpay-notify list --limit 1000 \
	--after "$(sed -n "$((n / 2))p" "$work/list" | jq -r .id)"
timed "wpay-notify redeliver --merchant m00001 --failed" wpay-notify redeliver --merchant m00001 --failed
