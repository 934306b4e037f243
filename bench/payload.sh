#!/bin/sh
# Signed codes checked per second: `wpay-scanqr --payload` over N codes
# wpay-mkqr made (every one verified: signature, CRC, expiry, merchant
# known), on every core and pinned to one (taskset), next to what OpenSSL
# verifies of Ed25519 signatures on one core (`openssl speed`), the
# ceiling of any checker.
# Goal (issue 17): at least 8,000 codes/s end to end on one stream, output
# in the input's order.
# Usage: bench/payload.sh [bin-dir] [codes]
set -eu
bin=$(cd "${1:-bin}" && pwd)
n=${2:-5000}
work=$(mktemp -d "${TMPDIR:-/tmp}/wpay-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export WPAY_DB="$work/ledger.db" WPAY_KEYS="$work/keys"
"$bin/wpay-init" >/dev/null
"$bin/wpay-bind" merchant add shop --name "Cafe Lu" --city Beijing --mcc 5814 --kind enterprise --verified >/dev/null
"$bin/wpay-bind" merchant add weibo --name "微博咖啡" --city "北京" --kind enterprise --verified >/dev/null
mkdir "$work/codes"
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "{\"merchant\":\"%s\",\"amount\":%d,\"reference\":\"sku_%d\"}\n", i % 2 ? "shop" : "weibo", i + 100, i }' |
	"$bin/wpay-mkqr" --format txt --out-dir "$work/codes" | jq -r .payload >"$work/payloads"

now() { date +%s.%N; }
runs=${RUNS:-3}
best() { # best codes/s of $runs: best [command prefix]
	top=0
	for r in $(seq "$runs"); do
		start=$(now)
		"$@" "$bin/wpay-scanqr" --payload "$work/payloads" >"$work/out"
		end=$(now)
		rate=$(echo "$n / ($end - $start)" | bc)
		[ "$rate" -gt "$top" ] && top=$rate
	done
	valid=$(jq -r .checks.signature "$work/out" | grep -c '^valid$')
	[ "$valid" -eq "$n" ] || { echo "bench: $valid of $n codes verified" >&2; exit 1; }
	# In the input's order: each record's line is its position.
	jq -r .line "$work/out" | awk '$1 != NR { bad = 1 } END { exit bad }' || { echo "bench: records out of order" >&2; exit 1; }
	echo "$top"
}
all=$(best)
one=
command -v taskset >/dev/null && one=$(best taskset -c 0)
verify=$(openssl speed -seconds 2 ed25519 2>/dev/null | awk '/EdDSA \(Ed25519\)/ { print int($NF) }')
echo "wpay-scanqr --payload: $n signed codes, every one verified, in order: $all codes/s on $(nproc) cores (best of $runs)"
[ -n "$one" ] && echo "  pinned to one core: $one codes/s (every core: $(echo "scale=2; $all / $one" | bc)x)"
echo "OpenSSL Ed25519 verify on one core: $verify/s; wpay at $(echo "scale=2; $all / $verify" | bc)x of it"
echo "goal: >= 8,000 codes/s"
