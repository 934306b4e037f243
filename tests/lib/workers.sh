#!/bin/bash
# Workers on one ledger at once: W wpay-pay processes, each on its own
# connection, each given the same N orders, half of them in reverse order
# (so that they meet head on and the server has deadlocks to break). Every
# order must be paid exactly once, every worker must answer every order
# with that one payment and exit 0 (no deadlock or busy ledger reaches it),
# and the ledger check must hold. Prints one line of figures.
# Usage: tests/lib/workers.sh N W   (WPAY_DB, WPAY_KEYS and PATH set; the
# ledger initialised)
set -eu
n=${1:-10000} w=${2:-4}
work=$(mktemp -d "${TMPDIR:-/tmp}/wpay-workers.XXXXXX")
trap 'rm -rf "$work"' EXIT
export WPAY_NOW=${WPAY_NOW:-2026-11-22T08:00:00Z}
. "$(dirname "$0")/fixture.sh"
wpay-bind merchant add shop --name Shop --city Beijing >/dev/null
wpay-bind merchant approve shop >/dev/null
rich_buyer
awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"type\":\"order\",\"merchant\":\"shop\",\"out_trade_no\":\"w%d\",\"amount\":%d}\n", i, 100 + i % 900 }' |
	wpay-order >"$work/orders"
tac "$work/orders" >"$work/reversed"
start=$(date +%s.%N)
pids=()
for i in $(seq "$w"); do
	input="$work/orders"
	[ $((i % 2)) -eq 0 ] && input="$work/reversed"
	WPAY_BUSY_TIMEOUT=300000 wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <"$input" >"$work/out.$i" 2>"$work/err.$i" &
	pids+=($!)
done
status=0
for i in $(seq "$w"); do
	wait "${pids[$((i - 1))]}" || { echo "worker $i exited $?: $(head -c 300 "$work/err.$i")"; status=1; }
done
secs=$(echo "$(date +%s.%N) - $start" | bc)
[ "$status" -eq 0 ] || exit 1
want=$(jq -r 'select(.type == "order") | .id' "$work/orders" | sort)
for i in $(seq "$w"); do
	[ "$(jq -r .type "$work/out.$i" | sort -u)" = payment ] || { echo "worker $i answered other than payments"; exit 1; }
	[ "$(jq -r .order "$work/out.$i" | sort)" = "$want" ] || { echo "worker $i did not answer every order once"; exit 1; }
	jq -r '[.order, .id] | @tsv' "$work/out.$i" | sort >"$work/ids.$i"
	cmp -s "$work/ids.1" "$work/ids.$i" || { echo "workers 1 and $i name different payments"; exit 1; }
done
[ "$(wc -l <"$work/ids.1")" -eq "$n" ] || { echo "not $n payments"; exit 1; }
check=$(wpay-check)
[ "$(jq -r .ok <<<"$check")" = true ] || { echo "ledger check failed: $check"; exit 1; }
transfers=$(jq -r .transfers <<<"$check")
echo "$w workers, $n orders each: every order paid once ($n payments, $transfers transfers), every worker answered all, check ok, ${secs}s"
