#!/bin/sh
# Readable output of 100,000 payment records: wpay-fmt against what a
# person would otherwise type, jq picking the fields into TSV piped to
# column -t (which holds the whole input before it prints a line, and
# neither formats amounts nor times). Wall time and peak memory of each.
# Usage: bench/fmt.sh [bin-dir] [records]
set -eu
bin=$(cd "${1:-bin}" && pwd)
n=${2:-100000}
work=$(mktemp -d "${TMPDIR:-/tmp}/wpay-bench-fmt.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++)
	printf "{\"type\":\"payment\",\"id\":\"pay_01KQ3Z8Y6C%016d\",\"order\":\"ord_01KQ3Z8Y6C%016d\",\"merchant\":\"m:cafe%02d\",\"amount\":%d,\"fee\":%d,\"currency\":\"CNY\",\"buyer\":\"u:%d\",\"paid_at\":\"2026-11-22T08:%02d:%02dZ\"}\n", i, i, i % 50, 100 + i % 9000, (100 + i % 9000) * 6 / 1000, 1000 + i % 700, i / 60 % 60, i % 60 }' >"$work/in"

timed() { # timed LABEL COMMAND: prints "LABEL: S s, M MiB", best of 3; the seconds in $work/best
	label=$1
	shift
	best=
	for _ in 1 2 3; do
		/usr/bin/time -f "%e %M" -o "$work/time" sh -c "$1" >/dev/null
		read -r secs kib <"$work/time"
		if [ -z "$best" ] || [ "$(echo "$secs < $best" | bc)" -eq 1 ]; then best=$secs mem=$kib; fi
	done
	echo "$label: ${best} s, $((mem / 1024)) MiB peak"
	echo "$best" >"$work/best"
}

timed "wpay-fmt, $n records" "'$bin/wpay-fmt' --tz UTC '$work/in'"
fmt_s=$(cat "$work/best")
timed "jq | column -t, the same fields" "jq -r '[.type,.id,.merchant,.order,.amount,.fee,.buyer,.paid_at]|@tsv' '$work/in' | column -t"
jq_s=$(cat "$work/best")
echo "wpay-fmt: $(echo "scale=0; $n / $fmt_s" | bc) records/s; jq | column -t takes $(echo "scale=2; $jq_s / $fmt_s" | bc)x as long"
