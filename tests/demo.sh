#!/bin/sh
# The main job: a whole loop (accounts, codes, order, payment, refund,
# settlement, notification) on a fresh throwaway ledger. Prints each
# command and what it answered. Settlement waits for the day's cut-off, so
# the demo runs the test build, whose clock WPAY_NOW can move to tomorrow;
# until then it runs on the real clock.
# Usage: tests/demo.sh [bin-dir]   (make demo passes the test build)
# WPAY_DEMO_DB=postgresql://... (make demo DB=...) runs it on that
# PostgreSQL database instead, which must exist and be empty.
set -eu
bin=${1:-$(dirname "$0")/../bin}
PATH="$(cd "$bin" && pwd):$PATH"
export PATH
work=$(mktemp -d "${TMPDIR:-/tmp}/wpay-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export WPAY_DB="${WPAY_DEMO_DB:-$work/ledger.db}" WPAY_KEYS="$work/keys"

step() {
	printf '\n$ %s\n' "$*"
	"$@"
}

echo "# a throwaway ledger: $WPAY_DB"
step wpay init

echo
echo "# a verified enterprise merchant, settled T+0 once its 20,000.00 CNY deposit is in"
step wpay bind merchant add cafe01 --name "Cafe Lu" --city Beijing --kind enterprise --verified \
	--mcc 5814 --notify-url https://cafe.example/wpay/notify --bank-account 6222000011112222
step wpay bind merchant deposit cafe01 --amount 20000.00 --request-no dep_1
step wpay bind merchant update cafe01 --settlement T0

echo
echo "# a Weibo user binds a wallet, a bank card and a 6-digit PIN, and tops up"
step wpay bind user add 1001 --nickname "微博用户Lu"
step wpay bind wallet add lu@example.com
step wpay bind user bind 1001 lu@example.com
printf '\n$ wpay bind card add u:1001 --pan-fd 3 3<card.txt\n'
printf '6222020200112345678\n' >"$work/card.txt"
# 6222020200112345678 fails Luhn on purpose: the toolkit says so.
wpay bind card add u:1001 --pan-fd 3 3<"$work/card.txt" || echo "(refused, as it should be; now the real card)"
printf '6222020200112345679\n' >"$work/card.txt"
wpay bind card add u:1001 --pan-fd 3 3<"$work/card.txt"
rm -f "$work/card.txt"
printf '\n$ wpay bind pin set u:1001 --pin-fd 3 3<pin.txt\n'
printf '135790\n' >"$work/pin.txt"
wpay bind pin set u:1001 --pin-fd 3 3<"$work/pin.txt"
rm -f "$work/pin.txt"
step wpay bind wallet topup u:1001 --amount 500.00 --request-no topup_1
echo
echo "# the same top-up again (a replayed script) moves nothing"
step wpay bind wallet topup u:1001 --amount 500.00 --request-no topup_1
step wpay bind wallet balance u:1001
step wpay bind show u:1001

echo
echo "# the merchant publishes codes every wallet can scan (EMV, signed):"
echo "# a static one for the counter, and one for an order of 25.00, valid 15 minutes"
step wpay mkqr cafe01 -o "$work/counter.png"
step wpay mkqr cafe01 --amount 25.00 --reference order_1 --expires-in 15m -o "$work/order_1.png"

echo
echo "# the buyer's wallet scans the photo: what it is, and whether it holds out"
step wpay scanqr "$work/order_1.png"
step wpay scanqr --explain "$work/order_1.png"

echo
echo "# the whole purchase is a pipeline: scan the photo, place the order, pay with the PIN;"
echo "# the buyer follows the shop and gets a text to share"
printf '135790\n' >"$work/pin.txt"
printf '\n$ wpay scanqr order_1.png | wpay order --buyer u:1001 | wpay pay --pin-fd 3 --follow --share 3<pin.txt\n'
wpay scanqr "$work/order_1.png" | wpay order --buyer u:1001 | wpay pay --pin-fd 3 --follow --share 3<"$work/pin.txt"
echo
echo "# replayed, the pipeline pays nothing twice: the same payment comes back"
printf '\n$ wpay scanqr order_1.png | wpay order --buyer u:1001 | wpay pay --pin-fd 3 3<pin.txt\n'
wpay scanqr "$work/order_1.png" | wpay order --buyer u:1001 | wpay pay --pin-fd 3 3<"$work/pin.txt"
rm -f "$work/pin.txt"
step wpay bind merchant balance cafe01

echo
echo "# a cup arrived broken: the merchant refunds part of it, the fee comes back pro rata"
step wpay refund cafe01 order_1 refund_1 --amount 5.00 --reason "broken cup"
step wpay order query cafe01 order_1
step wpay bind wallet balance u:1001

echo
echo "# cron settles after the cut-off (00:00 Asia/Shanghai): the demo moves the clock to 00:30 tomorrow"
tomorrow=$(TZ=Asia/Shanghai date -d tomorrow +%F)
WPAY_NOW=$(date -u -d "$tomorrow 00:30 +0800" +%Y-%m-%dT%H:%M:%SZ)
export WPAY_NOW
step wpay settle --dry-run
step wpay settle --out "$work/payouts"
echo
echo "# run again (cron retried), it settles nothing twice"
step wpay settle --out "$work/payouts"
step cat "$work/payouts/payouts-$tomorrow.csv"
step cat "$work/payouts/bill-$tomorrow-cafe01.csv"
step wpay bind merchant balance cafe01

echo
echo "# the merchant's notifications, signed, to its endpoint (here one the demo starts on 127.0.0.1)"
mkdir "$work/endpoint"
python3 "$(dirname "$0")/lib/webhook_server.py" "$work/endpoint" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT INT TERM
while [ ! -s "$work/endpoint/port" ]; do sleep 0.05; done
# Notifications go only to public addresses unless the ledger allows others.
wpay init --allow-private-notify >/dev/null
wpay bind merchant update cafe01 --notify-url "http://127.0.0.1:$(cat "$work/endpoint/port")/notify" >/dev/null
step wpay notify --once
echo
echo "# the merchant checks each one with its secret"
jq -c .body "$work/endpoint/requests" | head -1 | jq -j . >"$work/body"
ts=$(jq -r '.headers["wpay-timestamp"]' "$work/endpoint/requests" | head -1)
sig=$(jq -r '.headers["wpay-signature"]' "$work/endpoint/requests" | head -1)
step wpay notify --verify --secret-file "$WPAY_KEYS/webhook-cafe01.key" --timestamp "$ts" --signature "$sig" \
	<"$work/body"

echo
echo "# the books balance"
step wpay check
