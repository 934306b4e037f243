#!/usr/bin/env bats
# wpay-scanqr: images and payload text in, what each code is and whether
# it holds out; and mkqr -> scanqr round trips.

load helper

setup() {
	wpay_setup
	init_ledger
	wpay-bind merchant add cafe01 --name "Café Lu" --city Beijing --mcc 5814 >/dev/null
	wpay-bind merchant approve cafe01 >/dev/null
}

corpus=$WPAY_SHARED/corpus/qr-images
vectors=$WPAY_SHARED/vectors


@test "mkqr -> scanqr: 1,000 codes, non-ASCII names among them, read back exactly and verified" {
	i=0
	for name in "Café Lu" "微博咖啡" "Bäckerei Müller" "ร้านกาแฟ" "Noodle Bar" "Señor Taco" "小米之家" "Crème & Co"; do
		i=$((i + 1))
		wpay-bind merchant add "m$i" --name "$name" --city "北京" >/dev/null
		wpay-bind merchant approve "m$i" >/dev/null
	done
	python3 -c '
import random
random.seed(7)
for n in range(1000):
    m = "m%d" % random.randint(1, 8)
    if n % 5 == 0:
        print("{\"merchant\":\"%s\",\"ref\":%d}" % (m, n))
    else:
        print("{\"merchant\":\"%s\",\"amount\":%d,\"reference\":\"r%d\",\"ref\":%d}" % (m, random.randint(1, 10**9), n, n))
' >"$BATS_TEST_TMPDIR/req"
	mkdir "$BATS_TEST_TMPDIR/codes"
	wpay-mkqr --out-dir "$BATS_TEST_TMPDIR/codes" --name '{ref}.png' --module 3 --margin 4 <"$BATS_TEST_TMPDIR/req" >"$BATS_TEST_TMPDIR/made"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/made")" 1000
	(cd "$BATS_TEST_TMPDIR/codes" && wpay-scanqr $(seq -f '%g.png' 0 999)) >"$BATS_TEST_TMPDIR/read"
	python3 - "$BATS_TEST_TMPDIR/made" "$BATS_TEST_TMPDIR/read" <<-'PY'
		import json, sys
		made = [json.loads(l) for l in open(sys.argv[1])]
		read = [json.loads(l) for l in open(sys.argv[2])]
		assert len(read) == 1000, len(read)
		nonascii = 0
		for m, r in zip(made, read):
		    assert r["type"] == "scan", r
		    assert r["text"] == m["payload"], (r["text"], m["payload"])
		    assert r["checks"]["signature"] == "valid", r["checks"]
		    assert r["checks"]["crc"] == "ok"
		    assert r["checks"]["merchant_known"] is True
		    assert r["encoding_certain"] is True
		    nonascii += r["encoding"] == "utf-8"
		assert nonascii > 500, nonascii
	PY
}

@test "every shared EMV vector: valid ones read as valid EMV, invalid ones say why" {
	need_shared vectors
	jq -r .payload "$vectors/emv-valid.jsonl" >"$BATS_TEST_TMPDIR/valid"
	run --separate-stderr wpay-scanqr --payload "$BATS_TEST_TMPDIR/valid"
	assert_success
	assert_equal "$(jq -r '[.format, .emv.valid] | @tsv' <<<"$output" | sort -u)" "emv	true"
	assert_equal "${#lines[@]}" "$(wc -l <"$BATS_TEST_TMPDIR/valid")"
	jq -r .payload "$vectors/emv-invalid.jsonl" | grep '^0002' >"$BATS_TEST_TMPDIR/invalid"
	run --separate-stderr wpay-scanqr --payload "$BATS_TEST_TMPDIR/invalid"
	assert_success
	assert_equal "$(jq -r .emv.valid <<<"$output" | sort -u)" false
	[ "$(jq -r .emv.error.category <<<"$output" | grep -c .)" -eq "${#lines[@]}" ]
}

@test "schemes are named from their templates" {
	need_shared vectors
	run --separate-stderr wpay-scanqr --payload <<<"$(jq -r 'select(.scheme | index("PIX (BR Code)")) | .payload' "$vectors/emv-valid.jsonl" | head -1)"
	assert_equal "$(jq -c .schemes <<<"$output")" '["PIX"]'
	assert_equal "$(jq -r .merchant.currency <<<"$output")" BRL
}

@test "a tampered code fails its signature even with a good CRC" {
	payload=$(wpay-mkqr cafe01 --amount 9.90 --reference o1 | jq -r .payload)
	tampered=$(recrc "${payload/54049.90/54049.99}")
	run --separate-stderr wpay-scanqr --payload <<<"$tampered"
	assert_success
	assert_equal "$(jq -c '[.checks.crc, .checks.signature]' <<<"$output")" '["ok","invalid"]'
	assert_equal "$(jq -r .checks.signature_problem <<<"$output")" \
		"the signature does not match: the code was changed or signed by another key"
	# Without a new CRC it does not even get that far.
	run --separate-stderr wpay-scanqr --payload <<<"${payload/54049.90/54049.99}"
	assert_equal "$(jq -r .checks.crc <<<"$output")" mismatch
}

@test "changing any one character of a signed payload is caught" {
	payload=$(wpay-mkqr cafe01 | jq -r .payload)
	sig_at=$(($(grep -bo '90980004WPAY' <<<"$payload" | cut -d: -f1)))
	for at in 0 5 20 40 60 80 100 120 $((sig_at - 3)) $((sig_at + 20)) $((sig_at + 60)); do
		c=${payload:at:1}
		[ "$c" = Z ] && n=Y || n=Z
		changed=$(recrc "${payload:0:at}$n${payload:at+1}")
		run --separate-stderr wpay-scanqr --payload <<<"$changed"
		sig=$(jq -r '.checks.signature // "none"' <<<"$output")
		[ "$sig" != valid ] || { echo "position $at still verifies"; false; }
	done
}

@test "a code signed by another platform key is unknown; one that claims our key id is invalid" {
	ours=$(cat "$WPAY_KEYS/signing.current")
	other=$(WPAY_DB=$BATS_TEST_TMPDIR/b.db WPAY_KEYS=$BATS_TEST_TMPDIR/bkeys bash -c 'wpay-init >/dev/null &&
		wpay-bind merchant add cafe01 --name "Café Lu" --city Beijing --mcc 5814 >/dev/null && wpay-bind merchant approve cafe01 >/dev/null && wpay-mkqr cafe01' | jq -r .payload)
	run --separate-stderr wpay-scanqr --payload <<<"$other"
	assert_equal "$(jq -r .checks.signature <<<"$output")" unknown_key
	theirs=$(cat "$BATS_TEST_TMPDIR/bkeys/signing.current")
	forged=$(recrc "${other/0108$theirs/0108$ours}")
	run --separate-stderr wpay-scanqr --payload <<<"$forged"
	assert_equal "$(jq -r .checks.signature <<<"$output")" invalid
	# Re-sign nothing: strip the signature and it is just absent.
	run --separate-stderr wpay-scanqr --payload <<<"$(recrc "${other%%9098*}63040000")"
	assert_equal "$(jq -r .checks.signature <<<"$output")" absent
}

# A code made and signed by another platform: its payload and key id; its keys are in $BATS_TEST_TMPDIR/bkeys.
attacker_code() {
	WPAY_DB=$BATS_TEST_TMPDIR/b.db WPAY_KEYS=$BATS_TEST_TMPDIR/bkeys bash -c 'wpay-init >/dev/null &&
		wpay-bind merchant add cafe01 --name "Café Lu" --city Beijing --mcc 5814 >/dev/null && wpay-bind merchant approve cafe01 >/dev/null && wpay-mkqr cafe01' |
		jq -r .payload
}

@test "a public key planted open to others, or as a link, does not make a forged code valid" {
	forged=$(attacker_code)
	theirs=$(cat "$BATS_TEST_TMPDIR/bkeys/signing.current")
	planted="$WPAY_KEYS/signing-$theirs.pub"
	# Planted writable by anyone: untrusted, and the order refuses the code.
	cp "$BATS_TEST_TMPDIR/bkeys/signing-$theirs.pub" "$planted"
	chmod 0666 "$planted"
	run --separate-stderr wpay-scanqr --payload <<<"$forged"
	assert_success
	assert_equal "$(jq -r .checks.signature <<<"$output")" untrusted
	assert_equal "$(jq -r .checks.signature_problem <<<"$output")" \
		"key file $planted is writable by group or others (mode 0666); run: chmod 644 $planted"
	buyer_ready 1001
	run --separate-stderr bash -c 'wpay-scanqr --payload | wpay-order --buyer u:1001' <<<"$forged"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_signature
	# Group-writable is no better.
	chmod 0620 "$planted"
	run --separate-stderr wpay-scanqr --payload <<<"$forged"
	assert_equal "$(jq -r .checks.signature <<<"$output")" untrusted
	# Planted as a link to a file elsewhere: refused, wherever it points.
	rm "$planted"
	cp "$BATS_TEST_TMPDIR/bkeys/signing-$theirs.pub" "$BATS_TEST_TMPDIR/elsewhere.pub"
	chmod 0644 "$BATS_TEST_TMPDIR/elsewhere.pub"
	ln -s "$BATS_TEST_TMPDIR/elsewhere.pub" "$planted"
	run --separate-stderr wpay-scanqr --payload <<<"$forged"
	assert_success
	assert_equal "$(jq -r .checks.signature <<<"$output")" untrusted
	assert_equal "$(jq -r .checks.signature_problem <<<"$output")" \
		"key file $planted is not a regular file (a link?); replace it with the file itself"
	# A public key the owner installed on purpose may be readable by all (0644).
	rm "$planted"
	cp "$BATS_TEST_TMPDIR/elsewhere.pub" "$planted"
	chmod 0644 "$planted"
	run --separate-stderr wpay-scanqr --payload <<<"$forged"
	assert_equal "$(jq -r .checks.signature <<<"$output")" valid
}

@test "a public key swapped in under our key id is not our key" {
	ours=$(cat "$WPAY_KEYS/signing.current")
	payload=$(wpay-mkqr cafe01 | jq -r .payload)
	attacker_code >/dev/null
	theirs=$(cat "$BATS_TEST_TMPDIR/bkeys/signing.current")
	cp "$BATS_TEST_TMPDIR/bkeys/signing-$theirs.pub" "$WPAY_KEYS/signing-$ours.pub"
	run --separate-stderr wpay-scanqr --payload <<<"$payload"
	assert_equal "$(jq -r .checks.signature <<<"$output")" untrusted
	assert_equal "$(jq -r .checks.signature_problem <<<"$output")" \
		"the public key $WPAY_KEYS/signing-$ours.pub is not key $ours (it is key $theirs); restore it from backup"
	run --separate-stderr wpay-init --public-key
	assert_failure 65
}

@test "a public key of another user is not trusted" {
	[ "$(id -u)" = 0 ] || skip "needs root to give a file away"
	forged=$(attacker_code)
	theirs=$(cat "$BATS_TEST_TMPDIR/bkeys/signing.current")
	cp "$BATS_TEST_TMPDIR/bkeys/signing-$theirs.pub" "$WPAY_KEYS/signing-$theirs.pub"
	chown nobody "$WPAY_KEYS/signing-$theirs.pub"
	run --separate-stderr wpay-scanqr --payload <<<"$forged"
	assert_equal "$(jq -r .checks.signature <<<"$output")" untrusted
	[[ "$(jq -r .checks.signature_problem <<<"$output")" == *"belongs to uid $(id -u nobody), not to this user"* ]]
}

@test "scanqr refuses a key directory others can write, with exit 77" {
	payload=$(wpay-mkqr cafe01 | jq -r .payload)
	chmod 0777 "$WPAY_KEYS"
	run --separate-stderr wpay-scanqr --payload <<<"$payload"
	assert_failure 77
	assert_output ""
	assert_equal "$stderr" "wpay-scanqr: the key directory $WPAY_KEYS is writable by group or others (mode 0777), so anyone could plant a key in it; run: chmod 700 $WPAY_KEYS"
	chmod 0700 "$WPAY_KEYS"
	run --separate-stderr wpay-scanqr --payload <<<"$payload"
	assert_success
	assert_equal "$(jq -r .checks.signature <<<"$output")" valid
	# With no key directory at all, codes are still read; their key is unknown.
	run --separate-stderr env WPAY_KEYS="$BATS_TEST_TMPDIR/none" wpay-scanqr --payload <<<"$payload"
	assert_success
	assert_equal "$(jq -r .checks.signature <<<"$output")" unknown_key
}

@test "expiry: a dynamic code is good until its time, then expired" {
	export WPAY_NOW=2026-11-22T08:00:00Z
	wpay-mkqr cafe01 --amount 1.00 --reference o1 --expires-in 15m -o "$BATS_TEST_TMPDIR/o1.png" >/dev/null
	run --separate-stderr wpay-scanqr "$BATS_TEST_TMPDIR/o1.png"
	assert_equal "$(jq -c '[.checks.expires_at, .checks.expired]' <<<"$output")" '["2026-11-22T08:15:00Z",false]'
	export WPAY_NOW=2026-11-22T08:15:00Z
	run --separate-stderr wpay-scanqr "$BATS_TEST_TMPDIR/o1.png"
	assert_equal "$(jq -r .checks.expired <<<"$output")" true
}

# Issue 10, U1: an expiry of 9999999999999999 s overflowed secs * 1000
# (undefined behaviour, which UBSan flags) before the signature was
# checked, and printed a year -267664695. An expiry past 9999 is now a
# malformed code; so is one that is not all digits.
@test "an expiry past the year 9999 is a malformed code, refused before any arithmetic" {
	payload=$(wpay-mkqr cafe01 --amount 1.00 --reference o1 | jq -r .payload)
	exp=$(grep -o '0210[0-9]\{10\}9098' <<<"$payload")
	exp=${exp%9098}
	for bad in 02169999999999999999 0212253402300800 0211+1796049613 02101796O49613; do
		meta=$(printf '89%02d' $((37 - ${#exp} + ${#bad})))
		forged=${payload/$exp/$bad}
		forged=$(recrc "${forged/8937/$meta}")
		run --separate-stderr wpay-scanqr --payload <<<"$forged"
		assert_success
		assert_equal "$(jq -c '[.checks.crc, .checks.signature, .checks.signature_problem, .checks.expires_at]' <<<"$output")" \
			'["ok","invalid","a malformed expiry (not a time in seconds from 1970 to 9999)",null]'
	done
	forged=${payload/$exp/02169999999999999999}
	run --separate-stderr wpay-order <<<"{\"type\":\"scan\",\"text\":\"$(recrc "${forged/8937/8943}")\"}"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_signature
	assert_equal "$stderr" "wpay-order: the code's signature is invalid: a malformed expiry (not a time in seconds from 1970 to 9999); refusing it (<stdin>:1)"
}

# Issue 10, S1: --payload read a whole line with getline before checking
# its 8,192-byte limit, so a 400 MB line took 400 MB (and where memory ran
# out, getline failed and the run ended quietly with status 0, the rest
# unread). Now at most 8,193 bytes of a line are held.
@test "a payload line of 100 MB is dropped as it is read: an error record with its line, then the next line" {
	cd "$BATS_TEST_TMPDIR"
	payload=$(wpay-mkqr cafe01 | jq -r .payload)
	{
		echo "$payload"
		head -c 100000000 /dev/zero | tr '\0' A
		echo
		echo "$payload"
	} >lines.txt
	status=0
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o rss.txt wpay-scanqr --payload lines.txt >out.jsonl 2>err.txt || status=$?
		# Kilobytes at the peak: what the program needs, not the line.
		[ "$(tail -1 rss.txt)" -lt 50000 ] || { echo "peak RSS $(tail -1 rss.txt) KB"; false; }
	else
		(ulimit -v 200000 && wpay-scanqr --payload lines.txt) >out.jsonl 2>err.txt || status=$?
	fi
	assert_equal "$status" 1
	assert_equal "$(jq -c '[.type, .code // .format, .line]' out.jsonl)" '["scan","emv",1]
["error","line_too_long",2]
["scan","emv",3]'
	assert_equal "$(jq -r 'select(.type == "error") | .message' out.jsonl)" \
		"line 2 is longer than 8192 bytes; no QR code holds that"
	assert_equal "$(cat err.txt)" "wpay-scanqr: line 2 is longer than 8192 bytes; no QR code holds that (lines.txt:2)"
	# The limit itself: 8,192 bytes are read (and are no code), 8,193 are not.
	printf '%8192s\n%8193s\n' x x | tr ' ' A >edge.txt
	run --separate-stderr wpay-scanqr --payload edge.txt
	assert_equal "$(jq -c '[.type, .line]' <<<"$output")" '["scan",1]
["error",2]'
}

@test "a merchant this ledger does not know is reported; without a ledger it is not asked" {
	other=$(WPAY_DB=$BATS_TEST_TMPDIR/b.db bash -c 'wpay-bind merchant add other1 --name O --city C >/dev/null 2>&1 || true')
	payload=$(wpay-mkqr cafe01 | jq -r .payload)
	run --separate-stderr wpay-scanqr --payload <<<"${payload}"
	assert_equal "$(jq -r .checks.merchant_known <<<"$output")" true
	run --separate-stderr wpay-scanqr --payload <<<"$(recrc "${payload//0106cafe01/0106cafe02}")"
	assert_equal "$(jq -r .checks.merchant_known <<<"$output")" false
	run --separate-stderr wpay-scanqr --db "$BATS_TEST_TMPDIR/none.db" --payload <<<"$payload"
	assert_success
	assert_equal "$(jq -r '.checks | has("merchant_known")' <<<"$output")" false
}

@test "bad images: empty, truncated, not an image, lying header, no code" {
	wpay-mkqr cafe01 -o "$BATS_TEST_TMPDIR/ok.png" >/dev/null
	: >"$BATS_TEST_TMPDIR/empty.png"
	head -c 300 "$BATS_TEST_TMPDIR/ok.png" >"$BATS_TEST_TMPDIR/truncated.png"
	echo "hello" >"$BATS_TEST_TMPDIR/text.png"
	printf 'P5\n30000 30000\n255\n\0\0\0' >"$BATS_TEST_TMPDIR/huge.pgm"
	python3 -c '
import struct, zlib, sys
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
sys.stdout.buffer.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)) + chunk(b"IEND", b""))' >"$BATS_TEST_TMPDIR/huge.png"
	{ printf 'P5\n64 64\n255\n'; head -c 4096 /dev/zero | tr '\0' '\377'; } >"$BATS_TEST_TMPDIR/blank.pgm"
	for f in empty truncated text; do
		run --separate-stderr wpay-scanqr "$BATS_TEST_TMPDIR/$f.png"
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" bad_image
	done
	run --separate-stderr wpay-scanqr "$BATS_TEST_TMPDIR/huge.pgm" "$BATS_TEST_TMPDIR/huge.png"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output" | sort -u)" bad_image
	[[ "${stderr_lines[0]}" == *"the image claims 30000x30000 pixels, more than the 100 megapixel limit" ]]
	run --separate-stderr wpay-scanqr "$BATS_TEST_TMPDIR/blank.pgm" "$BATS_TEST_TMPDIR/missing.png" "$BATS_TEST_TMPDIR/ok.png"
	assert_failure 1
	assert_equal "$(jq -r '.code // .type' <<<"$output" | paste -sd,)" "no_code,no_input,scan"
}

@test "an image with several codes gives a record for each, with its position" {
	for r in a b c; do wpay-mkqr cafe01 --amount 1.00 --reference "$r" --format txt -o "$BATS_TEST_TMPDIR/$r.txt" >/dev/null; done
	art_to_pnm P5 "$BATS_TEST_TMPDIR"/{a,b,c}.txt >"$BATS_TEST_TMPDIR/three.pgm"
	run --separate-stderr wpay-scanqr "$BATS_TEST_TMPDIR/three.pgm"
	assert_success
	assert_equal "$(jq -r .merchant.reference <<<"$output" | sort | paste -sd,)" "a,b,c"
	assert_equal "$(jq -r .image.format <<<"$output" | sort -u)" pnm
	[ "$(jq -r .position.x <<<"$output" | sort -un | wc -l)" -eq 3 ]
}

@test "PGM, PPM (binary and ASCII), JPEG, and an image on stdin" {
	wpay-mkqr cafe01 --amount 3.00 --reference img --format txt -o "$BATS_TEST_TMPDIR/c.txt" >/dev/null
	for kind in P2 P3 P5 P6; do
		art_to_pnm $kind "$BATS_TEST_TMPDIR/c.txt" >"$BATS_TEST_TMPDIR/c.$kind"
		run --separate-stderr wpay-scanqr "$BATS_TEST_TMPDIR/c.$kind"
		assert_success
		assert_equal "$(jq -c '[.image.format, .merchant.reference, .checks.signature]' <<<"$output")" '["pnm","img","valid"]'
	done
	cjpeg -quality 85 "$BATS_TEST_TMPDIR/c.P5" >"$BATS_TEST_TMPDIR/c.jpg"
	cjpeg -quality 85 "$BATS_TEST_TMPDIR/c.P6" >"$BATS_TEST_TMPDIR/c-color.jpg"
	run --separate-stderr wpay-scanqr "$BATS_TEST_TMPDIR/c.jpg" "$BATS_TEST_TMPDIR/c-color.jpg"
	assert_success
	assert_equal "$(jq -c '[.image.format, .checks.signature]' <<<"$output" | sort -u)" '["jpeg","valid"]'
	head -c 500 "$BATS_TEST_TMPDIR/c.jpg" >"$BATS_TEST_TMPDIR/cut.jpg"
	run --separate-stderr wpay-scanqr "$BATS_TEST_TMPDIR/cut.jpg"
	assert_failure 1
	run --separate-stderr wpay-scanqr - <"$BATS_TEST_TMPDIR/c.jpg"
	assert_success
	assert_equal "$(jq -r .source <<<"$output")" "<stdin>"
	run --separate-stderr wpay-scanqr <"$BATS_TEST_TMPDIR/c.P5"
	assert_success
}

@test "photos from the corpus: every text read is exactly the expected one" {
	need_shared corpus/qr-images
	python3 - "$corpus" <<-'PY'
		import json, subprocess, sys
		d = sys.argv[1]
		read = wrong = 0
		for line in open(d + "/MANIFEST.tsv"):
		    f, exp = line.split("\t")[:2]
		    if f == "file":
		        continue
		    out = subprocess.run(["wpay-scanqr", d + "/" + f], capture_output=True).stdout.decode().splitlines()
		    scans = [json.loads(l) for l in out if json.loads(l)["type"] == "scan"]
		    if not scans:
		        continue
		    want = open(d + "/" + exp, "rb").read()
		    texts = [s.get("text", "").encode() for s in scans]
		    if want in texts:
		        read += 1
		    else:
		        wrong += 1
		        print("wrong:", f, texts[0][:80], want[:80])
		print("read", read, "wrong", wrong)
		assert wrong == 0 and read >= 100, (read, wrong)
	PY
}

@test "text kinds: Alipay, WeChat Pay, UPI, URL, plain; guesses are never certain" {
	run --separate-stderr wpay-scanqr --payload <<-EOF
		https://qr.alipay.com/fkx12345abcde
		wxp://f2f0abcdefg
		upi://pay?pa=shop%40upi&pn=Chai%20Shop&am=10.00&cu=INR
		https://example.com/menu
		hello
	EOF
	assert_success
	assert_equal "$(jq -r .format <<<"$output" | paste -sd,)" "alipay,wechat,upi,url,text"
	assert_equal "$(jq -c 'select(.format=="upi") | .upi' <<<"$output")" '{"pa":"shop@upi","pn":"Chai Shop","am":"10.00","cu":"INR"}'
	run --separate-stderr wpay-scanqr --payload < <(printf '\x82\xa0\x82\xa2\n\xe9t\xe9\n')
	assert_equal "$(jq -c '[.encoding, .encoding_certain, .text]' <<<"$output" | paste -sd' ')" \
		'["shift_jis",false,"あい"] ["iso-8859-1",false,"été"]'
	assert_equal "$(jq -r .raw_hex <<<"$output" | head -1)" 82a082a2
}

@test "--explain prints a tree for a person, with control characters escaped" {
	payload=$(wpay-mkqr cafe01 --amount 12.34 --reference o1 | jq -r .payload)
	run --separate-stderr wpay-scanqr --explain --payload <<<"$payload"
	assert_success
	assert_line "signature: valid"
	assert_line "54 05 Transaction Amount: 12.34"
	assert_line "    05 02 Reference Label: o1"
	assert_line "    01 07 Merchant Name - Alternate Language: Café Lu"
	run --separate-stderr wpay-scanqr --explain --payload < <(printf 'evil\x1b[31mred\x07\n')
	assert_line 'text: evil\x1b[31mred\x07'
	[[ "$output" != *$'\x1b'* ]]
	run --separate-stderr wpay-scanqr --explain --payload <<<"0002010102116304FFFF"
	assert_line --partial "!! crc-mismatch: the CRC is FFFF"
}

@test "usage: -h, a bad option" {
	run --separate-stderr wpay-scanqr -h
	assert_success
	run --separate-stderr wpay-scanqr --frob
	assert_failure 64
}
