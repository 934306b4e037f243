#!/bin/sh
# The main job: a whole loop, as far as the toolkit goes today (accounts,
# codes, order, payment, refund; settlement comes next), on a fresh
# throwaway ledger. Prints each command and what it answered.
# Usage: tests/demo.sh [bin-dir]   (make demo passes bin/)
set -eu
bin=${1:-$(dirname "$0")/../bin}
PATH="$(cd "$bin" && pwd):$PATH"
export PATH
work=$(mktemp -d "${TMPDIR:-/tmp}/wpay-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export WPAY_DB="$work/ledger.db" WPAY_KEYS="$work/keys"

step() {
	printf '\n$ %s\n' "$*"
	"$@"
}

echo "# a throwaway ledger in $work"
step wpay init

echo
echo "# a verified enterprise merchant, settled T+0 once its 20,000.00 CNY deposit is in"
step wpay bind merchant add cafe01 --name "Cafe Lu" --city Beijing --kind enterprise --verified \
	--mcc 5814 --notify-url https://cafe.example/wpay/notify
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
echo "# the merchant's notifications wait in the queue for wpay notify"
step sqlite3 "$WPAY_DB" "SELECT kind, subject, state FROM events"

echo
echo "# the books balance"
step wpay check
