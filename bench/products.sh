#!/bin/sh
# What taking stock at payment costs: N orders from a product code (stock
# counted, taken by one conditional update in each payment's transaction)
# paid in one batched wpay-pay run, next to N plain orders of the same
# amounts paid the same way, each on a fresh copy of the same ledger; then
# the ledger check and the product's stock and sold.
# Goal: product payments at least 80% of the plain rate (the stock update
# is one indexed row write per payment).
# Usage: bench/products.sh [bin-dir] [orders]
set -eu
bin=$(cd "${1:-bin}" && pwd)
n=${2:-20000}
work=$(mktemp -d "${TMPDIR:-/tmp}/wpay-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export WPAY_KEYS="$work/keys" WPAY_DB="$work/fresh.db"
PATH="$bin:$PATH"
wpay-init >/dev/null
wpay-bind merchant add shop --name "Tea Shop" --city Hangzhou --kind enterprise --verified >/dev/null
wpay-bind user add 1001 --nickname Lu >/dev/null
wpay-bind wallet add lu@example.com >/dev/null
wpay-bind user bind 1001 lu@example.com >/dev/null
echo 4111111111111111 >"$work/pan"
wpay-bind card add u:1001 --pan-fd 3 3<"$work/pan" >/dev/null
echo 135790 >"$work/pin"
wpay-bind pin set u:1001 --pin-fd 3 3<"$work/pin" >/dev/null
wpay-bind wallet topup u:1001 --amount 100000000.00 --request-no t1 >/dev/null
wpay-bind product add shop tea --name "Green tea" --price 12.50 --stock "$n" >/dev/null
payload=$(wpay-mkqr shop --product tea | jq -r .payload)
# The same amounts both ways: 12.50 each.
awk -v n="$n" -v p="$payload" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"type\":\"scan\",\"text\":\"%s\",\"request_no\":\"r%d\"}\n", p, i }' |
	wpay-order --buyer u:1001 | jq -c '{order: .id}' >"$work/products"
awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"type\":\"order\",\"merchant\":\"shop\",\"out_trade_no\":\"o%d\",\"amount\":1250}\n", i }' |
	wpay-order | jq -c '{order: .id}' >"$work/plain"
export WPAY_DB="$work/run.db"

now() { date +%s.%N; }
runs=${RUNS:-3}
best() { # best-of-runs payments/s: best label orders-file
	top=0
	for i in $(seq "$runs"); do
		cp "$work/fresh.db" "$WPAY_DB"
		rm -f "$WPAY_DB-wal" "$WPAY_DB-shm"
		start=$(now)
		wpay-pay --buyer u:1001 --pin-fd 3 3<"$work/pin" <"$2" >"$work/paid"
		secs=$(echo "$(now) - $start" | bc)
		paid=$(grep -c '"type":"payment"' "$work/paid")
		rate=$(echo "$paid / $secs" | bc)
		echo "  $1 run $i: $paid payments in ${secs}s = $rate/s" >&2
		[ "$rate" -gt "$top" ] && top=$rate
	done
	echo "$top"
}
plain=$(best plain "$work/plain")
products=$(best products "$work/products")
stock=$(wpay-bind product show shop tea | jq -c '{stock, sold}')
check=$(wpay-check | jq -c '{ok, transfers}')
echo "plain orders:   $plain payments/s ($n orders, best of $runs)"
echo "product orders: $products payments/s ($n orders, stock counted, best of $runs)"
echo "ratio: $(echo "scale=2; $products / $plain" | bc) (goal >= 0.80)"
echo "after the product run: $stock; ledger check: $check"
