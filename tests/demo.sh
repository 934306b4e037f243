#!/bin/sh
# The main job: the seeds' whole loop on a fresh throwaway ledger: a
# merchant applies and is approved, posts a product card; a reader buys
# from it with a bank's credit-card offer, follows the shop, receives its
# message, shares; the micro-wallet sends money to a friend and withdraws
# to a card; a vending machine charges the code the buyer's app shows; the
# merchant refunds one unit after settlement and keeps T+0;
# the withdrawal goes into the payout file; notifications signed and
# delivered; the books balance. Prints each
# command and what it answered. Settlement waits for the day's cut-off, so
# the demo runs the test build, whose clock WPAY_NOW it moves forward.
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

# The demo's endpoint stands for both the merchant's server and the social
# platform's: one on 127.0.0.1, which the ledger must allow
# (--allow-private-notify); notifications otherwise go only to public
# addresses.
mkdir "$work/endpoint"
python3 "$(dirname "$0")/lib/webhook_server.py" "$work/endpoint" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT INT TERM
while [ ! -s "$work/endpoint/port" ]; do sleep 0.05; done
endpoint="http://127.0.0.1:$(cat "$work/endpoint/port")"

echo "# a throwaway ledger: $WPAY_DB"
step wpay init --allow-private-notify --platform-notify-url "$endpoint/platform"

echo
echo "# a cafe applies as an enterprise; the platform checks its licence (the blue V) and approves it;"
echo "# with its 20,000.00 CNY deposit it is settled T+0"
step wpay bind merchant add cafe01 --name "Cafe Lu" --city Beijing --kind enterprise \
	--mcc 5814 --notify-url "$endpoint/cafe" --bank-account 6222000011112222
echo
echo "# not approved yet: no codes"
step wpay mkqr cafe01 || echo "(refused, as it should be)"
step wpay bind merchant update cafe01 --verified
step wpay bind merchant approve cafe01 --reason "business licence checked: blue V"
step wpay bind merchant deposit cafe01 --amount 20000.00 --request-no dep_1
step wpay bind merchant update cafe01 --settlement T0

echo
echo "# a Weibo user binds a wallet, two bank cards and a 6-digit PIN, and tops up"
step wpay bind user add 1001 --nickname "微博用户Lu"
step wpay bind wallet add lu@example.com
step wpay bind user bind 1001 lu@example.com
printf '\n$ wpay bind card add u:1001 --pan-fd 3 3<card.txt\n'
printf '6222020200112345678\n' >"$work/card.txt"
# 6222020200112345678 fails Luhn on purpose: the toolkit says so.
wpay bind card add u:1001 --pan-fd 3 3<"$work/card.txt" || echo "(refused, as it should be; now the real card)"
printf '6222020200112345679\n' >"$work/card.txt"
wpay bind card add u:1001 --pan-fd 3 3<"$work/card.txt"
echo
echo "# and a China CITIC Bank credit card: the ledger knows its bank and type from its BIN, never keeps its number"
printf '\n$ wpay bind card add u:1001 --pan-fd 3 3<citic.txt\n'
printf '6226780012345676\n' >"$work/card.txt"
citic=$(wpay bind card add u:1001 --pan-fd 3 3<"$work/card.txt")
echo "$citic"
citic=$(echo "$citic" | jq -r .id)
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
echo "# the whole purchase is a pipeline: scan the photo, place the order, pay with the PIN"
printf '135790\n' >"$work/pin.txt"
printf '\n$ wpay scanqr order_1.png | wpay order --buyer u:1001 | wpay pay --pin-fd 3 3<pin.txt\n'
wpay scanqr "$work/order_1.png" | wpay order --buyer u:1001 | wpay pay --pin-fd 3 3<"$work/pin.txt"
echo
echo "# replayed, the pipeline pays nothing twice: the same payment comes back"
printf '\n$ wpay scanqr order_1.png | wpay order --buyer u:1001 | wpay pay --pin-fd 3 3<pin.txt\n'
wpay scanqr "$work/order_1.png" | wpay order --buyer u:1001 | wpay pay --pin-fd 3 3<"$work/pin.txt"
echo
echo "# a cup arrived broken: the merchant refunds part of it, the fee comes back pro rata"
step wpay refund cafe01 order_1 refund_1 --amount 5.00 --reason "broken cup"

echo
echo "# China CITIC Bank's offer: 10% off its credit cards at the cafe, twice per buyer, CITIC pays"
today=$(TZ=Asia/Shanghai date +%F)
until=$(TZ=Asia/Shanghai date -d "$today +30 days" +%F)
step wpay bind promo add citic_cafe --sponsor CITIC --issuer "China CITIC Bank" --card-type credit \
	--merchant cafe01 --discount 10% --min 20.00 --per-user 2 --budget 100000.00 --from "$today" --until "$until"

echo
echo "# the cafe's catalog, and a product card for its post (browse)"
step wpay bind product add cafe01 mug --name "Lu mug 杯" --price 30.00 --stock 20
step wpay mkqr cafe01 --product mug --card

echo
echo "# a reader buys two mugs from the card (interest, order), pays with the CITIC card and the PIN (pay):"
echo "# 54.00 instead of 60.00, CITIC funds 6.00, the cafe is paid 60.00; the buyer follows the shop and shares"
printf '\n$ wpay mkqr cafe01 --product mug --card | wpay order --buyer u:1001 --quantity 2 --request-no mugs_1 |\n'
printf '      wpay pay --source %s --pin-fd 3 --follow --share 3<pin.txt\n' "$citic"
mugs=$(wpay mkqr cafe01 --product mug --card | wpay order --buyer u:1001 --quantity 2 --request-no mugs_1 |
	wpay pay --source "$citic" --pin-fd 3 --follow --share 3<"$work/pin.txt")
echo "$mugs"
mugs=$(echo "$mugs" | jq -r .out_trade_no)
rm -f "$work/pin.txt"
step wpay bind product show cafe01 mug
step wpay bind promo show citic_cafe

echo
echo "# the cafe sees its followers and sends them a message, for the platform to pass on"
step wpay bind merchant followers cafe01
step wpay notify message cafe01 --to followers --text "New mugs next week: 杯 in blue" --request-no msg_1
step wpay bind merchant balance cafe01

echo
echo "# the micro-wallet: Lu sends a friend 20.00 for her mug and takes 50.00 out to the debit card,"
echo "# each confirmed by the PIN; the withdrawal waits for tomorrow's payout file"
step wpay bind user add 1002 --nickname "Mei"
step wpay bind wallet add mei@example.com
step wpay bind user bind 1002 mei@example.com
printf '135790\n' >"$work/pin.txt"
printf '\n$ wpay bind wallet transfer u:1001 u:1002 --amount 20.00 --request-no gift_1 --note "your mug" --pin-fd 3 3<pin.txt\n'
wpay bind wallet transfer u:1001 u:1002 --amount 20.00 --request-no gift_1 --note "your mug" --pin-fd 3 3<"$work/pin.txt"
printf '\n$ wpay bind wallet withdraw u:1001 --amount 50.00 --request-no cash_1 --pin-fd 3 3<pin.txt\n'
wpay bind wallet withdraw u:1001 --amount 50.00 --request-no cash_1 --pin-fd 3 3<"$work/pin.txt"
rm -f "$work/pin.txt"
step wpay bind wallet statement u:1002

echo
echo "# a vending machine in the cafe (terminal VM-0001) charges the code Lu's app shows: one scan, no PIN"
echo "# under the no-PIN limit; the code is good once, for a minute"
step wpay bind merchant terminal add cafe01 VM-0001 --name "Vending machine, hall 1"
printf '135790\n' >"$work/pin.txt"
printf '\n$ wpay mkqr --buyer u:1001 --pin-fd 3 3<pin.txt -o mycode.png\n'
wpay mkqr --buyer u:1001 --pin-fd 3 3<"$work/pin.txt" -o "$work/mycode.png"
rm -f "$work/pin.txt"
printf '\n$ code=$(wpay scanqr mycode.png | jq -r .text)\n'
code=$(wpay scanqr "$work/mycode.png" | jq -r .text)
step wpay pay --merchant cafe01 --scanned "$code" --amount 3.50 --out-trade-no vend_1 --terminal VM-0001
step wpay order query cafe01 vend_1
step wpay pay --merchant cafe01 --scanned "$code" --amount 3.50 --out-trade-no vend_2 --terminal VM-0001 ||
	echo "(refused, as it should be: the code was used)"

echo
echo "# cron settles after the cut-off (00:00 Asia/Shanghai): the demo moves the clock to 00:30 tomorrow"
tomorrow=$(TZ=Asia/Shanghai date -d "$today +1 day" +%F)
WPAY_NOW=$(date -u -d "$tomorrow 00:30 +0800" +%Y-%m-%dT%H:%M:%SZ)
export WPAY_NOW
step wpay settle --dry-run
step wpay settle --out "$work/payouts"
echo
echo "# run again (cron retried), it settles nothing twice"
step wpay settle --out "$work/payouts"
step cat "$work/payouts/payouts-$tomorrow.csv"
step cat "$work/payouts/bill-$tomorrow-cafe01.csv"

echo
echo "# a mug arrived broken after settlement: the merchant refunds one unit, from its T+0 deposit;"
echo "# CITIC gets its 10% of it back, the buyer the rest"
step wpay refund cafe01 "$mugs" refund_mug --amount 30.00 --reason "broken mug"
step wpay bind merchant balance cafe01

echo
echo "# the next day's sales, and the next settlement tops the deposit back up first: still T+0"
printf '135790\n' >"$work/pin.txt"
printf '\n$ wpay scanqr counter.png | wpay order --buyer u:1001 --amount 88.00 --request-no lunch_1 | wpay pay --pin-fd 3 3<pin.txt\n'
wpay scanqr "$work/counter.png" | wpay order --buyer u:1001 --amount 88.00 --request-no lunch_1 |
	wpay pay --pin-fd 3 3<"$work/pin.txt"
rm -f "$work/pin.txt"
after=$(TZ=Asia/Shanghai date -d "$tomorrow +1 day" +%F)
WPAY_NOW=$(date -u -d "$after 00:30 +0800" +%Y-%m-%dT%H:%M:%SZ)
export WPAY_NOW
step wpay settle --out "$work/payouts"
step wpay bind merchant balance cafe01
step wpay bind merchant show cafe01

echo
echo "# the notifications, signed: the merchant's to its endpoint, the message to the platform's"
step wpay notify --once
echo
echo "# the merchant checks one with its secret"
grep '"path": *"/cafe"' "$work/endpoint/requests" | head -1 | jq -j .body >"$work/body"
ts=$(grep '"path": *"/cafe"' "$work/endpoint/requests" | head -1 | jq -r '.headers["wpay-timestamp"]')
sig=$(grep '"path": *"/cafe"' "$work/endpoint/requests" | head -1 | jq -r '.headers["wpay-signature"]')
step wpay notify --verify --secret-file "$WPAY_KEYS/webhook-cafe01.key" --timestamp "$ts" --signature "$sig" \
	<"$work/body"

echo
echo "# the books balance"
step wpay check
