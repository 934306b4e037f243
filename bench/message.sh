#!/bin/sh
# A merchant's message to its followers: `wpay-notify message` to N
# followers (default 20,000), each checked against the day's per-buyer
# limit and queued as its own signed event; next to the sqlite3 CLI doing
# the same writes (one quota upsert and one event insert per follower) in
# one transaction, on the same database: what a hand-written script would
# cost. Then the followers list, 1000 a page, against one SELECT.
# Usage: bench/message.sh [bin-dir] [followers]
set -eu
bin=$(cd "${1:-bin}" && pwd)
n=${2:-20000}
work=$(mktemp -d "${TMPDIR:-/tmp}/wpay-bench-message.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export WPAY_KEYS="$work/keys" WPAY_DB="$work/ledger.db"
PATH="$bin:$PATH"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
wpay-init --platform-notify-url https://social.example.com/wpay --messages-per-merchant 1000 >/dev/null
wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing --kind enterprise --verified >/dev/null
sqlite3 "$WPAY_DB" <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $n)
INSERT INTO users(uid, nickname, created_at) SELECT 'f' || i, 'fan ' || i, '$now' FROM k;
INSERT INTO follows(uid, merchant_id, created_at) SELECT uid, 'cafe01', created_at FROM users;
COMMIT;
SQL

# seconds CMD...: wall and CPU seconds of CMD, output discarded.
seconds() {
	/usr/bin/time -f '%e %U %S' -o "$work/time" "$@" >/dev/null
	awk '{printf "%.2f s wall, %.2f s CPU", $1, $2 + $3}' "$work/time"
}

echo "message to $n followers:"
echo "  wpay-notify message: $(seconds wpay-notify message cafe01 --to followers --text 'New beans today' --request-no b1)"
events=$(sqlite3 "$WPAY_DB" "SELECT count(*) FROM events WHERE kind = 'message'")
[ "$events" -eq "$n" ] || { echo "queued $events events, not $n" >&2; exit 1; }
cat >"$work/cli.sql" <<SQL
BEGIN;
INSERT INTO message_quota(day, party, sent) SELECT 'bench', 'u:' || uid, 1 FROM follows WHERE merchant_id = 'cafe01'
  ORDER BY created_at, uid ON CONFLICT (day, party) DO UPDATE SET sent = sent + 1 WHERE sent < 3;
INSERT INTO events(id, merchant_id, kind, subject, body, next_attempt_at, created_at)
  SELECT 'evt_cli_' || uid, 'cafe01', 'message', 'cli_' || uid,
  json_object('kind', 'message', 'merchant', 'm:cafe01', 'to', 'u:' || uid, 'text', 'New beans today'), 0, '$now'
  FROM follows WHERE merchant_id = 'cafe01';
COMMIT;
SQL
echo "  sqlite3 CLI, set-wise: $(seconds sh -c "sqlite3 '$WPAY_DB' <'$work/cli.sql'")"
echo "followers list, $n:"
echo "  wpay-bind merchant followers: $(seconds wpay-bind merchant followers cafe01)"
echo "  sqlite3 CLI, one SELECT:      $(seconds sqlite3 "$WPAY_DB" "SELECT f.uid, u.nickname, f.created_at FROM follows f JOIN users u USING (uid) WHERE merchant_id = 'cafe01' ORDER BY f.created_at, f.uid")"
