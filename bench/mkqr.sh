#!/bin/sh
# 10,000 PNG codes: wpay-mkqr in one process, against a shell loop of the
# qrencode CLI on the same payloads. Goal (issue 3): at least 8 times faster.
# Usage: bench/mkqr.sh [bin-dir] [count]
set -eu
bin=$(cd "${1:-bin}" && pwd)
count=${2:-10000}
work=$(mktemp -d "${TMPDIR:-/tmp}/wpay-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export WPAY_DB="$work/ledger.db" WPAY_KEYS="$work/keys"
"$bin/wpay-init" >/dev/null
"$bin/wpay-bind" merchant add shop --name "Cafe Lu" --city Beijing --mcc 5814 --kind enterprise --verified >/dev/null
"$bin/wpay-bind" merchant add weibo --name "微博咖啡" --city "北京" --kind enterprise --verified >/dev/null
i=0
while [ $i -lt "$count" ]; do
	m=shop
	[ $((i % 2)) -eq 0 ] && m=weibo
	printf '{"merchant":"%s","amount":%d,"reference":"sku_%d","ref":%d}\n' $m $((i + 100)) $i $i
	i=$((i + 1))
done >"$work/req"
mkdir "$work/wpay" "$work/qrencode"

start=$(date +%s.%N)
"$bin/wpay-mkqr" --out-dir "$work/wpay" --name '{ref}.png' --module 4 --margin 4 <"$work/req" >"$work/codes"
end=$(date +%s.%N)
wpay_s=$(echo "$end - $start" | bc)

jq -r .payload "$work/codes" >"$work/payloads"
start=$(date +%s.%N)
n=0
while IFS= read -r p; do
	qrencode -l M -s 4 -m 4 -o "$work/qrencode/$n.png" "$p"
	n=$((n + 1))
done <"$work/payloads"
end=$(date +%s.%N)
qr_s=$(echo "$end - $start" | bc)

made=$(ls "$work/wpay" | wc -l)
echo "wpay-mkqr:      $made PNGs (signed, stored) in ${wpay_s}s = $(echo "$made / $wpay_s" | bc) codes/s"
echo "qrencode loop:  $n PNGs in ${qr_s}s = $(echo "$n / $qr_s" | bc) codes/s"
echo "ratio: $(echo "scale=1; $qr_s / $wpay_s" | bc)x faster (goal >= 8)"
