#!/bin/sh
# Records per second from `wpay order list --merchant M --since D` over a
# ledger of N paid orders (issue 13: at least 300,000/s over 1,000,000),
# next to the sqlite3 CLI's -json of the same query and jq -c . reading
# the list (the next program in a pipeline: the list should not be the
# slow part). Also the list's maximum resident set, which must not grow
# with the list. Best of 3 runs each, into a pipe (so the list flushes as
# it does for a pipeline).
# Usage: bench/list.sh [bin-dir] [orders] [ledger]
#   The ledger (made with wpay-order and wpay-pay, a few minutes for a
#   million) is kept at the given path and used again when it exists.
set -eu
bin=$(cd "${1:-bin}" && pwd)
n=${2:-1000000}
ledger=${3:-${TMPDIR:-/tmp}/wpay-bench-list-$n.db}
work=$(mktemp -d "${TMPDIR:-/tmp}/wpay-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
PATH="$bin:$PATH"
export WPAY_DB="$ledger" WPAY_KEYS="${ledger%.db}.keys"

if [ ! -s "$ledger" ]; then
	echo "making a ledger of $n paid orders at $ledger ..." >&2
	wpay-init >/dev/null
	wpay-bind merchant add shop --name "Cafe Lu" --city Beijing --kind enterprise --verified >/dev/null
	wpay-bind merchant add other --name "Other" --city Beijing --kind enterprise --verified >/dev/null
	wpay-bind user add 1001 --nickname Lu >/dev/null
	wpay-bind wallet add lu@example.com >/dev/null
	wpay-bind user bind 1001 lu@example.com >/dev/null
	echo 4111111111111111 >"$work/pan"
	wpay-bind card add u:1001 --pan-fd 3 3<"$work/pan" >/dev/null
	echo 135790 >"$work/pin"
	wpay-bind pin set u:1001 --pin-fd 3 3<"$work/pin" >/dev/null
	wpay-bind wallet topup u:1001 --amount 9000000000.00 --request-no t1 >/dev/null
	# Nine in ten at the shop, with a subject to escape now and then.
	awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"type\":\"order\",\"merchant\":\"%s\",\"out_trade_no\":\"o%d\",\"amount\":%d,\"subject\":\"%s\"}\n", i % 10 ? "shop" : "other", i, 100 + i % 5000, i % 7 ? "Latte" : "Tea \\\"large\\\"" }' |
		wpay-order | wpay-pay --buyer u:1001 --pin-fd 3 3<"$work/pin" >/dev/null
fi
since=$(sqlite3 "$ledger" "SELECT substr(MIN(created_at), 1, 10) FROM orders")
sql="SELECT id, merchant_id, out_trade_no, amount, currency, subject, buyer, origin, state, close_reason, refunded,
 expires_at, created_at, paid_at, closed_at FROM orders WHERE merchant_id = 'shop' AND created_at >= '${since}T00:00:00Z'
 ORDER BY id"

now() { date +%s.%N; }
runs=${RUNS:-3}
best() { # best records/s of a pipeline printing its record count: best label cmd...
	label=$1
	shift
	top=0
	for i in $(seq "$runs"); do
		start=$(now)
		count=$("$@")
		secs=$(echo "$(now) - $start" | bc)
		rate=$(echo "$count / $secs" | bc)
		echo "  $label run $i: $count records in ${secs}s = $rate/s" >&2
		[ "$rate" -gt "$top" ] && top=$rate
	done
	echo "$top"
}
list() { wpay-order list --merchant shop --since "$since" | wc -l; }
cli() { sqlite3 -json "$ledger" "$sql" | wc -l; }
jqc() { jq -c . <"$work/list" | wc -l; }
wpay-order list --merchant shop --since "$since" >"$work/list"
records=$(wc -l <"$work/list")
wpay=$(best "wpay order list" list)
sqlite=$(best "sqlite3 -json" cli)
jq=$(best "jq -c . (reading the list)" jqc)
rss_all=$( (/usr/bin/time -f %M wpay-order list --merchant shop --since "$since" >/dev/null) 2>&1 | tail -n 1)
rss_few=$( (/usr/bin/time -f %M wpay-order list --merchant shop --since "$since" --limit 10 >/dev/null) 2>&1 | tail -n 1)

echo "wpay order list: $wpay records/s ($records records of $n orders, best of $runs)"
echo "sqlite3 -json:   $sqlite records/s (the same query)"
echo "jq -c .:         $jq records/s (reading the list)"
echo "ratios: wpay / sqlite3 -json $(echo "scale=2; $wpay / $sqlite" | bc); wpay / jq $(echo "scale=2; $wpay / $jq" | bc) (goal: at least 300000/s)"
echo "max RSS: $rss_all KiB for $records records, $rss_few KiB for 10"
