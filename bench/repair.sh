#!/bin/sh
# What explaining a broken EMV payload costs: `wpay-scanqr --payload` over
# N payloads of each kind (valid; each broken kind of wpay-scanqr(1)'s
# "Broken payloads"; and the worst case for the bounded length search: 99
# objects whose values are runs of objects, and a wrong CRC, so nearly every
# other length of every object lets the rest read), its time a payload and its ratio to a valid payload's. No other
# tool explains or repairs EMV payloads, so a valid scan is the yardstick.
# Goal (issue 14): no exponential search; each broken payload well under a
# millisecond, the worst case bounded.
# Usage: bench/repair.sh [bin-dir] [payloads per kind]
set -eu
bin=$(cd "${1:-bin}" && pwd)
n=${2:-10000}
work=$(mktemp -d "${TMPDIR:-/tmp}/wpay-bench-repair.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
export WPAY_KEYS="$work/keys" WPAY_DB="$work/none.db"
python3 - "$work" "$n" <<'PY'
import binascii, sys
work, n = sys.argv[1], int(sys.argv[2])
def tlv(i, v, k=None):
    return "%s%02d%s" % (i, len(v) if k is None else k, v)
def tlvb(i, v):
    return "%s%02d%s" % (i, len(v.encode()), v)
def fin(s):
    s += "6304"
    return s + "%04X" % binascii.crc_hqx(s.encode(), 0xFFFF)
def head(i):
    return (tlv("00", "01") + tlv("01", "12") + tlv("26", tlv("00", "BR.GOV.BCB.PIX") + tlv("01", "k%08d@example.com" % i)) +
            tlv("52", "5812") + tlv("53", "986") + tlv("54", "%d.%02d" % (i % 1000 + 1, i % 100)) + tlv("58", "BR"))
def body(i):
    return head(i) + tlv("59", "CAFE DO JOAO") + tlv("60", "SAO PAULO")
kinds = {
    "valid": lambda i: fin(body(i)),
    "trailing-space": lambda i: fin(body(i)) + " ",
    "crc-case": lambda i: fin(body(i))[:-4] + fin(body(i))[-4:].lower(),
    "crc-missing": lambda i: body(i),
    "length-bytes": lambda i: fin(body(i) + tlvb("64", tlvb("00", "PT") + tlvb("01", "CAFÉ DO JOÃO"))),
    "length": lambda i: fin(head(i) + tlv("59", "CAFE DO JOAO", 10) + tlv("60", "SAO PAULO")),
    "changed": lambda i: fin(body(i)).replace("JOAO", "JOAA"),
    # Values that are runs of objects, and a wrong CRC: nearly every length
    # of every object lets the rest read.
    "worst-case": lambda i: "000201" + "".join(tlv("%02d" % (80 + k % 20), "0102%02d" % (i % 100) * 5) for k in range(98)) + "6304ABCD",
}
for k, f in kinds.items():
    with open("%s/%s.txt" % (work, k), "w") as out:
        for i in range(n):
            out.write(f(i) + "\n")
PY
ms() { # command: milliseconds of wall time
	s=$(date +%s%N)
	"$@" >/dev/null
	echo $((($(date +%s%N) - s) / 1000000))
}
printf '%-15s %9s %12s %8s\n' kind payloads "us/payload" ratio
base=$(ms "$bin/wpay-scanqr" --payload "$work/valid.txt")
for k in valid trailing-space crc-case crc-missing length-bytes length changed worst-case; do
	t=$(ms "$bin/wpay-scanqr" --payload "$work/$k.txt" || true)
	awk -v k="$k" -v n="$n" -v t="$t" -v b="$base" \
		'BEGIN { printf "%-15s %9d %12.1f %7.1fx\n", k, n, t * 1000 / n, t / (b ? b : 1) }'
done
