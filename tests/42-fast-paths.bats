#!/usr/bin/env bats
# What the speed work (issue 17) changed, held to the same answers: the
# PNG reader's own grey conversion on every PNG layout, payload lines
# checked on every core and answered in their order (and at once, to a
# caller that waits for each answer), the harder looks at a photo run at
# once and still giving the first look's answer, and programs that start
# without loading libpq.

load helper

setup() {
	wpay_setup
	init_ledger
	wpay-bind merchant add cafe01 --name "Café Lu" --city Beijing --mcc 5814 >/dev/null
	wpay-bind merchant approve cafe01 >/dev/null
}

corpus=$WPAY_SHARED/corpus/qr-images

@test "every PNG layout reads: grey, RGB, palette, 1 and 16 bits, alpha and tRNS on white, Adam7" {
	cd "$BATS_TEST_TMPDIR"
	wpay-mkqr cafe01 --amount 2.50 --reference png --format txt -o c.txt >/dev/null
	art_to_pnm P5 c.txt >c.pgm
	for kind in grey8 grey16 grey1 rgb8 rgb16 palette trns greyalpha rgba rgba16 interlaced split; do
		python3 "$BATS_TEST_DIRNAME/lib/png_variant.py" $kind c.pgm $kind.png
		run --separate-stderr wpay-scanqr $kind.png
		[ "$status" -eq 0 ] || { echo "$kind: status $status: $stderr"; false; }
		assert_equal "$(jq -c '[.image.format, .merchant.reference, .checks.signature]' <<<"$output")" \
			'["png","png","valid"]'
	done
	# The transparent kinds are black where the code is light: without
	# compositing on white there is nothing to read.
	run --separate-stderr wpay-scanqr rgba.png
	assert_success
}

@test "a damaged PNG row or checksum is bad_image, not a misread" {
	cd "$BATS_TEST_TMPDIR"
	wpay-mkqr cafe01 --format txt -o c.txt >/dev/null
	art_to_pnm P5 c.txt >c.pgm
	python3 "$BATS_TEST_DIRNAME/lib/png_variant.py" rgb8 c.pgm ok.png
	# A byte of the compressed pixels changed: zlib's or the chunk's check fails.
	python3 -c '
import sys
d = bytearray(open("ok.png", "rb").read())
i = d.index(b"IDAT") + 40
d[i] ^= 0x55
open("bad.png", "wb").write(bytes(d))'
	run --separate-stderr wpay-scanqr bad.png
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_image
	[[ "$stderr" == *"the PNG is damaged or truncated"* ]]
	# Every chunk's CRC right, and still no image: a filter type PNG has not,
	# a palette image without its palette, pixels cut short, a stream unended.
	for kind in badfilter noplte short unended; do
		python3 "$BATS_TEST_DIRNAME/lib/png_variant.py" $kind c.pgm $kind.png
		run --separate-stderr wpay-scanqr $kind.png
		[ "$status" -eq 1 ] || { echo "$kind: status $status"; false; }
		assert_equal "$(jq -r .code <<<"$output")" bad_image
	done
	# A chunk whose length runs past the end of the file.
	python3 -c '
import struct
d = bytearray(open("ok.png", "rb").read())
i = d.index(b"IDAT") - 4
d[i:i + 4] = struct.pack(">I", len(d))
open("long.png", "wb").write(bytes(d))'
	run --separate-stderr wpay-scanqr long.png
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_image
}

@test "payload lines checked on every core come back in their order, each with its line" {
	cd "$BATS_TEST_TMPDIR"
	# 1,500 signed codes, with garbage, blank and over-long lines among them.
	mkdir codes
	for i in $(seq 1 500); do printf '{"merchant":"cafe01","amount":%d,"reference":"r%d"}\n' "$((100 + i))" "$i"; done |
		wpay-mkqr --format txt --out-dir codes | jq -r .payload >signed.txt
	awk 'NR % 3 == 1 { print "not a code " NR } NR % 7 == 0 { print "" } NR % 250 == 0 { printf "%9000s\n", "x" } { print }' \
		signed.txt signed.txt signed.txt >lines.txt
	run --separate-stderr wpay-scanqr --payload lines.txt
	assert_failure 1
	# Every non-blank line has its record, in the input's order.
	awk 'length($0) { print NR }' lines.txt >want.txt
	jq -r .line <<<"$output" >got.txt
	assert_equal "$(cmp want.txt got.txt && echo same)" same
	# Each record is the line it names: the text, or the error of a long line.
	python3 - lines.txt <<<"$output" <<-'PY'
		import json, sys
		lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
		for rec in map(json.loads, sys.stdin):
		    line = lines[rec["line"] - 1]
		    if rec["type"] == "error":
		        assert rec["code"] == "line_too_long" and len(line) > 8192, rec
		    else:
		        assert rec["text"] == line, (rec["line"], rec["text"], line)
		        signed = line.startswith("000201")
		        assert rec["checks"].get("signature", "absent") == ("valid" if signed else "absent"), rec
	PY
	[ "$(jq -r 'select(.checks.signature == "valid") | .merchant.reference' <<<"$output" | wc -l)" -eq 1500 ]
}

@test "a caller that waits for each answer gets it before it writes the next line" {
	a=$(wpay-mkqr cafe01 --amount 1.00 --reference first | jq -r .payload)
	b=$(wpay-mkqr cafe01 --amount 2.00 --reference second | jq -r .payload)
	coproc SCAN { wpay-scanqr --payload; }
	# Kept: bash unsets SCAN and SCAN_PID as soon as the program ends.
	local pid=$SCAN_PID to=${SCAN[1]} from=${SCAN[0]}
	echo "$a" >&"$to"
	# No second line yet, and no end of input: the answer must come anyway.
	read -r -t 10 first <&"$from" || { echo "no answer to the first line within 10 s"; false; }
	assert_equal "$(jq -r .merchant.reference <<<"$first")" first
	echo "$b" >&"$to"
	read -r -t 10 second <&"$from" || { echo "no answer to the second line"; false; }
	assert_equal "$(jq -r '[.line, .merchant.reference] | @tsv' <<<"$second")" "2	second"
	exec {to}>&-
	wait "$pid"
}

@test "output that cannot be written stops the reading: status 74, no hang" {
	wpay-mkqr cafe01 | jq -r .payload >"$BATS_TEST_TMPDIR/one.txt"
	for i in $(seq 1 3000); do cat "$BATS_TEST_TMPDIR/one.txt"; done >"$BATS_TEST_TMPDIR/many.txt"
	run --separate-stderr bash -c 'timeout 60 wpay-scanqr --payload "$1" >/dev/full' _ "$BATS_TEST_TMPDIR/many.txt"
	assert_failure 74
	[[ "$stderr" == *"cannot write to standard output"* ]]
}

@test "a key directory is read once a run: a code of an unknown key costs no more than a look" {
	good=$(wpay-mkqr cafe01 | jq -r .payload)
	# The same code with another key id in 89.01 (and its CRC redone): unknown here.
	kid=$(jq -r .checks.key_id <<<"$(wpay-scanqr --payload <<<"$good")")
	unknown=$(recrc "${good/0108$kid/0108ffffffff}")
	{ echo "$good"; echo "$unknown"; echo "$good"; } >"$BATS_TEST_TMPDIR/mixed.txt"
	run --separate-stderr wpay-scanqr --payload "$BATS_TEST_TMPDIR/mixed.txt"
	assert_success
	assert_equal "$(jq -r .checks.signature <<<"$output" | paste -sd,)" "valid,unknown_key,valid"
	# A key made unsafe between two runs is refused by the next run.
	chmod 666 "$WPAY_KEYS/signing-$kid.pub"
	run --separate-stderr wpay-scanqr --payload <<<"$good"
	assert_equal "$(jq -r .checks.signature <<<"$output")" untrusted
}

@test "photos that need the harder looks give the same answer every time" {
	[ -d "$corpus" ] || skip_shared "no QR corpus at $corpus"
	# Found only at another scale (see the corpus test), and one with no code.
	for f in qrcode-4/29.png qrcode-4/40.png qrcode-4/05.png; do
		first=$(wpay-scanqr "$corpus/$f" 2>/dev/null | jq -c '[.pass, .text]' || true)
		for i in 1 2 3 4 5; do
			again=$(wpay-scanqr "$corpus/$f" 2>/dev/null | jq -c '[.pass, .text]' || true)
			assert_equal "$again" "$first"
		done
	done
	assert_equal "$(wpay-scanqr "$corpus/qrcode-4/29.png" | jq -r .pass)" rescaled
	run --separate-stderr wpay-scanqr "$corpus/qrcode-4/05.png"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" no_code
}

@test "codes of one size in a photo are all found; a tiny one beside a large one only cropped, as the page says" {
	cd "$BATS_TEST_TMPDIR"
	wpay-mkqr cafe01 --amount 1.00 --reference big --format txt -o big.txt >/dev/null
	wpay-mkqr cafe01 --amount 2.00 --reference tiny --format txt -o tiny.txt >/dev/null
	wpay-mkqr cafe01 --amount 3.00 --reference other --format txt -o other.txt >/dev/null
	# A 1000x1000 photo: the big code at 12 pixels a module, the tiny one at 2;
	# then the tiny one cropped out alone, and two at 6 pixels side by side.
	python3 - <<-'PY'
		def modules(path):
		    rows = []
		    for line in open(path, encoding="utf-8").read().splitlines():
		        top, bottom = [], []
		        for ch in line:
		            top.append(ch not in "\u2588\u2580"); bottom.append(ch not in "\u2588\u2584")
		        rows += [top, bottom]
		    return rows
		def photo(w, h, codes, path):
		    img = bytearray([255]) * (w * h)
		    for m, x0, y0, s in codes:
		        for y, row in enumerate(m):
		            for x, dark in enumerate(row):
		                if dark:
		                    for yy in range(s):
		                        img[(y0 + y * s + yy) * w + x0 + x * s:(y0 + y * s + yy) * w + x0 + (x + 1) * s] = bytes(s)
		    open(path, "wb").write(b"P5\n%d %d\n255\n" % (w, h) + bytes(img))
		big, tiny, other = modules("big.txt"), modules("tiny.txt"), modules("other.txt")
		photo(1000, 1000, [(big, 20, 20, 12), (tiny, 840, 840, 2)], "mixed.pgm")
		photo(300, 300, [(tiny, 100, 100, 2)], "cropped.pgm")
		photo(1000, 500, [(big, 10, 10, 6), (other, 500, 10, 6)], "pair.pgm")
	PY
	run --separate-stderr wpay-scanqr mixed.pgm
	assert_success
	assert_equal "$(jq -r '[.merchant.reference, .pass] | @tsv' <<<"$output")" "big	small"
	run --separate-stderr wpay-scanqr cropped.pgm
	assert_success
	assert_equal "$(jq -r .merchant.reference <<<"$output")" tiny
	run --separate-stderr wpay-scanqr pair.pgm
	assert_success
	assert_equal "$(jq -r .merchant.reference <<<"$output" | sort | paste -sd,)" "big,other"
}

@test "no program loads libpq or libzbar.so to start: a SQLite ledger needs neither" {
	command -v readelf >/dev/null || skip "no readelf"
	for p in "$WPAY_REAL_BIN"/wpay*; do
		needed=$(readelf -d "$p" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
		! grep -E '^lib(pq|zbar)\.so' <<<"$needed" || { echo "$p needs $needed"; false; }
	done
	# And wpay-scanqr starts with its libraries linked in: few shared objects.
	[ "$(readelf -d "$WPAY_REAL_BIN/wpay-scanqr" | grep -c NEEDED)" -le 6 ]
}
