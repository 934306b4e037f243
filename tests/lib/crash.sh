#!/bin/bash
# Crash safety: run wpay-pay, wpay-refund or wpay-settle over a batch and
# kill it with SIGKILL at random moments, again and again, rerunning after
# each kill; then run it to the end. Afterwards every order is paid (or
# refunded, or every merchant settled) exactly once, the ledger check
# holds, and every record printed before a kill is in the ledger as printed.
# Usage: tests/lib/crash.sh pay|refund|settle [items] [kills]
# Needs the programs on PATH (the test build: settle moves WPAY_NOW), and
# WPAY_DB / WPAY_KEYS pointing at a place of its own: an SQLite file, or an
# empty PostgreSQL database (tests/lib/db.sh). Its files go to WPAY_WORK
# (default: the SQLite file's directory).
set -euo pipefail
. "$(dirname "$0")/fixture.sh"
. "$(dirname "$0")/db.sh"
what=$1 n=${2:-10000} kills=${3:-100}
fail() { echo "crash $what: $*" >&2; exit 1; }
work=${WPAY_WORK:-$(dirname "$WPAY_DB")}
export WPAY_NOW=2026-11-01T02:00:00Z
# A kill while a right PIN is checked spends a try (wpay-pay(1)): with the
# default 3 tries, three kills in that window would lock the wallet.
wpay-init --pin-tries 100 >/dev/null
merchants=1
[ "$what" = settle ] && merchants=$(((n + 49) / 50))
for m in $(seq "$merchants"); do echo "{\"type\":\"merchant\",\"op\":\"add\",\"merchant_no\":\"m$m\",\"name\":\"Shop\",\"city\":\"Beijing\",\"kind\":\"enterprise\",\"verified\":true}"; done |
	wpay-bind >/dev/null
rich_buyer
seq "$n" | awk -v m="$merchants" '{ printf "{\"type\":\"order\",\"merchant\":\"m%d\",\"out_trade_no\":\"o%d\",\"amount\":%d}\n", $1 % m + 1, $1, 100 + $1 % 900 }' |
	wpay-order >"$work/orders"
printf '135790\n' >"$work/pin"

# run execs the program, so that a background run's $! is the program
# itself and SIGKILL reaches it (a function run in the background is a
# subshell: killing that leaves its child running beside the next run).
# In the foreground it is called in a subshell for the same reason.
case $what in
pay) run() { exec wpay-pay --buyer u:1001 --pin-fd 3 3<"$work/pin" <"$work/orders"; } ;;
refund)
	wpay-pay --buyer u:1001 --pin-fd 3 3<"$work/pin" <"$work/orders" >/dev/null
	jq -c '{type: "refund", order: .id, out_request_no: "r1", amount: (.amount / 2 | floor)}' "$work/orders" >"$work/refunds"
	run() { exec wpay-refund <"$work/refunds"; }
	;;
settle)
	wpay-pay --buyer u:1001 --pin-fd 3 3<"$work/pin" <"$work/orders" >/dev/null
	export WPAY_NOW=2026-11-20T02:00:00Z
	run() { exec wpay-settle --date 2026-11-20 --batch-size 7; }
	;;
*) echo "usage: crash.sh pay|refund|settle [items] [kills]" >&2; exit 64 ;;
esac

# A clean run, timed on a copy, tells how long a kill may wait.
copy=$(db_clone "$WPAY_DB")
start=$(date +%s%N)
(WPAY_DB=$copy run) >/dev/null
full_ms=$((($(date +%s%N) - start) / 1000000 + 1))
db_drop "$copy"

: >"$work/printed"
survived=0
for k in $(seq "$kills"); do
	run >"$work/out.$k" 2>/dev/null &
	pid=$!
	sleep "$(awk -v r="$RANDOM" -v ms="$full_ms" 'BEGIN { printf "%.3f", r / 32767 * ms / 1000 }')"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	# The kill must have reached the program, not a shell around it.
	for p in $(pgrep -x "wpay-$what"); do
		! grep -qzx "WPAY_DB=$WPAY_DB" "/proc/$p/environ" 2>/dev/null || fail "a killed run of wpay-$what is still running"
	done
	# A kill may cut the last line short: a line is a record only when whole.
	{ cat "$work/out.$k"; echo; } >>"$work/printed"
	survived=$((survived + 1))
done
(run) >"$work/final"
cat "$work/final" >>"$work/printed"

check=$(wpay-check | jq -r .ok)
[ "$check" = true ] || fail "the ledger check fails after $kills kills"
case $what in
pay)
	[ "$(db_sql 'SELECT count(*), count(DISTINCT order_id) FROM payments')" = "$n|$n" ] ||
		fail "not every order was paid exactly once"
	[ "$(db_sql "SELECT count(*) FROM transfers WHERE kind = 'payment'")" = "$n" ] ||
		fail "payment transfers are not one per order"
	jq -rR 'fromjson? | select(.type == "payment") | "\(.id)|\(.order)|\(.amount)"' "$work/printed" | sort -u >"$work/claimed"
	db_sql "SELECT id, order_id, amount FROM payments" | sort >"$work/ledger"
	;;
refund)
	[ "$(db_sql 'SELECT count(*), count(DISTINCT order_id) FROM refunds')" = "$n|$n" ] ||
		fail "not every order was refunded exactly once"
	jq -rR 'fromjson? | select(.type == "refund") | "\(.id)|\(.order)|\(.amount)"' "$work/printed" | sort -u >"$work/claimed"
	db_sql "SELECT id, order_id, amount FROM refunds" | sort >"$work/ledger"
	;;
settle)
	[ "$(db_sql 'SELECT count(*), count(DISTINCT merchant_id) FROM settlements')" = "$merchants|$merchants" ] ||
		fail "not every merchant was settled exactly once"
	[ "$(db_sql 'SELECT count(*) FROM payments WHERE settlement_id IS NULL')" = 0 ] ||
		fail "payments were left unsettled"
	[ "$(db_sql 'SELECT count(*) FROM payments_due')" = 0 ] || fail "settled payments are still queued"
	[ "$(db_sql 'SELECT count(*) FROM settlements s LEFT JOIN (SELECT settlement_id, SUM(amount) AS sum
		FROM payments GROUP BY settlement_id) p ON p.settlement_id = s.id WHERE s.gross <> p.sum OR p.sum IS NULL')" = 0 ] ||
		fail "a settlement does not sum to its payments"
	[ "$(db_sql 'SELECT count(*) FROM payments p JOIN settlements s ON s.id = p.settlement_id
		WHERE NOT '"$settled_payments")" = 0 ] || fail "a settlement does not bound its payments' ids"
	jq -rR 'fromjson? | select(.type == "settlement") | "\(.id)|\(.merchant)|\(.payout)"' "$work/printed" | sort -u >"$work/claimed"
	db_sql "SELECT id, 'm:' || merchant_id, payout FROM settlements" | sort >"$work/ledger"
	;;
esac
# Every record printed, even by a run that was killed, is in the ledger as printed.
extra=$(comm -23 "$work/claimed" "$work/ledger" | head -3)
[ -z "$extra" ] || fail "printed but not in the ledger: $extra"
[ "$(wc -l <"$work/claimed")" = "$(wc -l <"$work/ledger")" ] || fail "the final run did not print every record"
echo "crash $what: $n items, $survived SIGKILLs at random moments (a clean run takes ${full_ms} ms), then a run to the end: each done exactly once, every printed record in the ledger, ledger check ok"
