#!/bin/bash
# Concurrency: wpay-pay, wpay-refund, wpay-settle and wpay-notify, one
# process each, in loops on one ledger for a while. Afterwards: no order
# paid twice, no order refunded past what was paid, every settlement sums to
# its payments and refunds, the ledger check holds, and no program ever
# failed for a busy ledger (status 75) or any reason but the expected
# refusals (over_refund for a second refund that asks too much).
# Usage: tests/lib/concurrency.sh [seconds]
# Needs the test build on PATH and WPAY_DB / WPAY_KEYS of its own: an SQLite
# file, or an empty PostgreSQL database (tests/lib/db.sh). Its files go to
# WPAY_WORK (default: the SQLite file's directory).
set -euo pipefail
. "$(dirname "$0")/fixture.sh"
. "$(dirname "$0")/db.sh"
secs=${1:-60}
here=$(cd "$(dirname "$0")" && pwd)
work=${WPAY_WORK:-$(dirname "$WPAY_DB")}
export WPAY_NOW=2026-11-01T02:00:00Z # payments happen now; settlement runs on later days
mkdir -p "$work/srv"
python3 "$here/webhook_server.py" "$work/srv" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
while [ ! -s "$work/srv/port" ]; do sleep 0.05; done
url="http://127.0.0.1:$(cat "$work/srv/port")/n"
wpay-init --allow-private-notify >/dev/null # the endpoint is on 127.0.0.1
for m in $(seq 20); do
	echo "{\"type\":\"merchant\",\"op\":\"add\",\"merchant_no\":\"m$m\",\"name\":\"Shop\",\"city\":\"Beijing\",\"kind\":\"enterprise\",\"verified\":true,\"notify_url\":\"$url\"}"
	echo "{\"type\":\"merchant\",\"op\":\"deposit\",\"merchant\":\"m$m\",\"amount\":10000000,\"request_no\":\"d$m\"}"
	echo "{\"type\":\"merchant\",\"op\":\"update\",\"merchant\":\"m$m\",\"settlement\":\"T0\"}"
done | wpay-bind >/dev/null
rich_buyer
printf '135790\n' >"$work/pin"
end=$(($(date +%s) + secs))

payer() {
	local i=0
	while [ "$(date +%s)" -lt "$end" ]; do
		i=$((i + 1))
		seq 200 | awk -v c="$i" '{ printf "{\"type\":\"order\",\"merchant\":\"m%d\",\"out_trade_no\":\"c%d_%d\",\"amount\":%d}\n", $1 % 20 + 1, c, $1, 100 + $1 % 900 }' |
			wpay-order | wpay-pay --buyer u:1001 --pin-fd 3 3<"$work/pin" >>"$work/paid" || echo "pay: $?" >>"$work/status"
	done
}
refunder() {
	local done_lines=0
	while [ "$(date +%s)" -lt "$end" ]; do
		total=$(wc -l <"$work/paid" 2>/dev/null || echo 0)
		[ "$total" -gt "$done_lines" ] || { sleep 0.05; continue; }
		# Half back, then the other half and one fen more: the second is refused.
		sed -n "$((done_lines + 1)),${total}p" "$work/paid" |
			jq -c 'select(.type == "payment") | {type: "refund", order, out_request_no: "r1", amount: (.amount / 2 | floor)},
				{type: "refund", order, out_request_no: "r2", amount: (.amount - (.amount / 2 | floor) + 1)}' |
			wpay-refund >>"$work/refunded" 2>/dev/null || echo "refund: $?" >>"$work/status"
		done_lines=$total
	done
}
settler() {
	local day=2
	while [ "$(date +%s)" -lt "$end" ]; do
		date=$(date -u -d "2026-11-01 +$day days" +%F)
		WPAY_NOW=$(date -u -d "$date 00:30 +0800" +%Y-%m-%dT%H:%M:%SZ) wpay-settle --date "$date" >>"$work/settled" ||
			echo "settle: $?" >>"$work/status"
		day=$((day + 1))
		sleep 0.2
	done
}
notifier() {
	while [ "$(date +%s)" -lt "$end" ]; do
		wpay-notify --once >>"$work/notified" || echo "notify: $?" >>"$work/status"
		sleep 0.1
	done
}
: >"$work/status"
: >"$work/paid"
: >"$work/refunded"
payer &
p1=$!
refunder &
p2=$!
settler &
p3=$!
notifier &
p4=$!
wait $p1 $p2 $p3 $p4

fail() { echo "concurrency: $*" >&2; exit 1; }
# Refunds report their refused second halves (status 1); nothing else fails.
bad=$(grep -v '^refund: 1$' "$work/status" || true)
[ -z "$bad" ] || fail "a program failed: $(echo "$bad" | sort | uniq -c | tr '\n' ' ')"
codes=$(jq -r 'select(.type == "error") | .code' "$work/paid" "$work/refunded" "$work/settled" "$work/notified" | sort -u)
[ -z "$codes" ] || [ "$codes" = over_refund ] || fail "unexpected errors: $codes"
db() { db_sql "$1"; }
[ "$(db 'SELECT count(*) - count(DISTINCT order_id) FROM payments')" = 0 ] || fail "an order was paid twice"
[ "$(db 'SELECT count(*) FROM orders o WHERE refunded > amount OR refunded <>
	(SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE order_id = o.id)')" = 0 ] || fail "refunds pass what was paid"
[ "$(db 'SELECT count(*) FROM settlements s WHERE gross <> (SELECT COALESCE(SUM(amount), 0) FROM payments p
	WHERE '"$settled_payments"') OR refunded + refunded_from_deposit <> (SELECT COALESCE(SUM(amount), 0) FROM refunds
	WHERE settlement_id = s.id)')" = 0 ] || fail "a settlement does not sum to its payments and refunds"
[ "$(db 'SELECT count(*) FROM payments p JOIN settlements s ON s.id = p.settlement_id
	WHERE NOT '"$settled_payments")" = 0 ] || fail "a settlement does not bound its payments' ids"
[ "$(db "$unqueued")" = 0 ] || fail "an unsettled payment is not queued for settlement, or a settled one is"
[ "$(wpay-check | jq -r .ok)" = true ] || fail "the ledger check fails"
echo "concurrency: pay, refund, settle and notify at once for ${secs} s: $(db 'SELECT count(*) FROM payments') payments, $(db 'SELECT count(*) FROM refunds') refunds ($(grep -c over_refund "$work/refunded") refused over-refunds), $(db 'SELECT count(*) FROM settlements') settlements, $(jq -r 'select(.result == "delivered") | .event' "$work/notified" | wc -l) deliveries; no order paid twice, no over-refund, settlements sum, ledger check ok, no busy failure"
