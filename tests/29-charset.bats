#!/usr/bin/env bats
# Every charset (issue 14): a code's bytes come without ECI, so scanqr
# guesses among UTF-8, GB18030, Shift_JIS and ISO-8859-1 by plausibility,
# says how sure it is, and --encoding forces one.

load helper

setup() {
	wpay_setup
	init_ledger
}

# The bytes of text in a charset, then a newline: a --payload line.
in_charset() { # CHARSET TEXT...
	local cs=$1
	shift
	printf '%s' "$@" | iconv -f UTF-8 -t "$cs"
	printf '\n'
}

# [text, encoding, certain, confidence] of each record.
summary() {
	jq -c '[.text, .encoding, .encoding_certain, .encoding_confidence]' <<<"$output" | paste -sd' '
}

# An EMV payload (with its Chinese names in 64) written in charset $1, its
# CRC computed over its bytes in charset $2.
emv_in() { # WRITTEN CRC_OVER
	python3 - "$1" "$2" <<-'PY'
		import sys
		def crc(b):
		    c = 0xFFFF
		    for x in b:
		        c ^= x << 8
		        for _ in range(8):
		            c = ((c << 1) ^ 0x1021) & 0xFFFF if c & 0x8000 else (c << 1) & 0xFFFF
		    return c
		def tlv(i, v):
		    return "%s%02d%s" % (i, len(v), v)
		body = (tlv("00", "01") + tlv("01", "11") + tlv("26", tlv("00", "CN.COM.WEIBO.PAY") + tlv("01", "cafe01"))
		        + tlv("52", "5814") + tlv("53", "156") + tlv("58", "CN") + tlv("59", "Cafe Lu") + tlv("60", "Beijing")
		        + tlv("64", tlv("00", "ZH") + tlv("01", "北京咖啡") + tlv("02", "北京")) + "6304")
		sys.stdout.buffer.write(body.encode(sys.argv[1]) + b"%04X" % crc(body.encode(sys.argv[2])) + b"\n")
	PY
}

@test "GBK and GB18030 text reads as Chinese, with the other candidates and their scores" {
	run --separate-stderr wpay-scanqr --payload < <(in_charset GBK 北京咖啡; in_charset GBK 微信支付;
		in_charset GB18030 北京𠮷野家; in_charset GB18030 '€5 咖啡')
	assert_success
	assert_equal "$(summary)" '["北京咖啡","gb18030",false,"high"] ["微信支付","gb18030",false,"high"] ["北京𠮷野家","gb18030",false,"high"] ["€5 咖啡","gb18030",false,"high"]'
	# What it was read as before issue 14 is still shown, as a candidate that lost.
	assert_equal "$(jq -c '.encoding_candidates | map([.encoding, .score, .text])' <<<"${lines[0]}")" \
		'[["gb18030",1,"北京咖啡"],["shift_jis",0.38,"ｱｱｾｩｿｧｷﾈ"],["iso-8859-1",0.12,"±±¾©¿§·È"]]'
	assert_equal "$(jq -r .raw_hex <<<"${lines[0]}")" b1b1bea9bfa7b7c8
	# --explain says it is a guess, and how sure.
	run --separate-stderr wpay-scanqr --payload --explain < <(in_charset GBK 北京咖啡)
	assert_line "format: text, text gb18030 (a guess, high confidence)"
	assert_line "text: 北京咖啡"
}

@test "Shift_JIS Japanese is still Shift_JIS: kana, kanji, half-width katakana with voiced marks" {
	run --separate-stderr wpay-scanqr --payload < <(in_charset CP932 今日はいい天気; in_charset CP932 ﾃﾞｻﾞｲﾝQR;
		in_charset CP932 東京; in_charset CP932 'ｲﾗｽﾄ入りｶﾗｰQRｺｰﾄﾞ')
	assert_success
	assert_equal "$(summary)" '["今日はいい天気","shift_jis",false,"high"] ["ﾃﾞｻﾞｲﾝQR","shift_jis",false,"high"] ["東京","shift_jis",false,"medium"] ["ｲﾗｽﾄ入りｶﾗｰQRｺｰﾄﾞ","shift_jis",false,"medium"]'
	# Half-width katakana decodes as GB18030 too: it lost, and is listed.
	assert_equal "$(jq -c '[.encoding_candidates[].encoding]' <<<"${lines[1]}")" '["shift_jis","gb18030","iso-8859-1"]'
}

@test "ASCII is certain and lists no candidates; UTF-8 wins when valid; ISO-8859-1 comes last; a NUL byte is binary" {
	run --separate-stderr wpay-scanqr --payload < <(printf 'hello\n微博支付\nM\374ller\nab\000cd\n')
	assert_success
	assert_equal "$(summary)" '["hello","ascii",true,"high"] ["微博支付","utf-8",false,"high"] ["Müller","iso-8859-1",false,"medium"] [null,null,null,null]'
	assert_equal "$(jq -c 'has("encoding_candidates")' <<<"${lines[0]}")" false
	assert_equal "$(jq -r '.encoding_candidates[0].encoding' <<<"${lines[1]}")" utf-8
	# A NUL no longer cuts the text short ("ab" was read before): no text at all, the bytes kept.
	assert_equal "$(jq -c '[.format, .raw_hex]' <<<"${lines[3]}")" '["binary","6162006364"]'
	# Latin-1 text never holds a C1 control: such bytes are not Latin-1 text.
	run --separate-stderr wpay-scanqr --payload < <(in_charset GB18030 測試)
	assert_equal "$(summary)" '["測試","gb18030",false,"low"]'
	assert_equal "$(jq -c '[.encoding_candidates[] | [.encoding, .score]]' <<<"$output")" '[["gb18030",0.15],["iso-8859-1",0]]'
}

@test "short GB2312 text that is also valid UTF-8: GB18030 when the UTF-8 reading is implausible, else UTF-8 with its confidence" {
	# 水 is CB AE in GB2312: also UTF-8 for U+02EE, a lone modifier letter.
	run --separate-stderr wpay-scanqr --payload < <(in_charset GBK 水; in_charset GBK 水果店)
	assert_success
	assert_equal "$(summary)" '["水","gb18030",false,"high"] ["水果店","gb18030",false,"high"]'
	assert_equal "$(jq -c '[.encoding_candidates[] | [.encoding, .score]]' <<<"${lines[0]}")" \
		'[["gb18030",1],["shift_jis",0.5],["utf-8",0.3],["iso-8859-1",0.18]]'
	# Letters beside letters of their script, and three-byte characters, are UTF-8 as before;
	# a lone sign stays UTF-8 too (it may be meant), but says how unsure it is: 楼 is C2 A5, ¥ in UTF-8.
	run --separate-stderr wpay-scanqr --payload < <(printf 'Müller\nМосква\nΕλλάδα\nשלום\n€5\n¥\n')
	assert_equal "$(summary)" '["Müller","utf-8",false,"high"] ["Москва","utf-8",false,"high"] ["Ελλάδα","utf-8",false,"high"] ["שלום","utf-8",false,"high"] ["€5","utf-8",false,"high"] ["¥","utf-8",false,"low"]'
	assert_equal "$(jq -c '[.encoding_candidates[] | [.encoding, .text]][0:2]' <<<"${lines[5]}")" '[["utf-8","¥"],["gb18030","楼"]]'
}

@test "--encoding forces each charset, and the forced one is certain" {
	for cs in GBK:gbk GB18030:gb18030 CP932:shift_jis CP932:SJIS UTF-8:utf-8 ISO-8859-1:iso-8859-1 \
		EUC-KR:euc-kr BIG5:big5 ISO-2022-JP:iso-2022-jp UTF-16LE:utf-16le; do
		case $cs in
		EUC-KR:*) text=서울커피 ;;
		BIG5:*) text=台北咖啡 ;;
		ISO-8859-1:*) text=Müller ;;
		CP932:* | ISO-2022-JP:*) text=今日はいい天気 ;;
		UTF-16LE:*) text=hi ;; # no byte 0x0a: the line is the whole code
		*) text=北京咖啡 ;;
		esac
		run --separate-stderr wpay-scanqr --payload --encoding "${cs#*:}" < <(printf '%s' "$text" | iconv -t "${cs%%:*}"; echo)
		assert_success
		assert_equal "$(summary)" "[\"$text\",\"${cs#*:}\",true,\"high\"]"
		assert_equal "$(jq -c 'has("encoding_candidates")' <<<"$output")" false
	done
	# Forced, a guess's loser wins: GBK bytes read as Shift_JIS, as asked.
	run --separate-stderr wpay-scanqr --payload --encoding shift_jis < <(in_charset GBK 北京咖啡)
	assert_equal "$(summary)" '["ｱｱｾｩｿｧｷﾈ","shift_jis",true,"high"]'
}

@test "bytes invalid in the forced charset: a bad_encoding error for that code, its bytes kept, the next code read" {
	run --separate-stderr wpay-scanqr --payload --encoding gbk < <(printf '\xffabc\n'; in_charset GBK 北京; printf 'x\xb1\n')
	assert_failure 1
	assert_equal "${#lines[@]}" 3
	assert_equal "$(jq -c '[.type, .code, .line, .raw_hex, .message]' <<<"${lines[0]}")" \
		'["error","bad_encoding",1,"ff616263","the bytes are not valid gbk (byte 1, 0xff)"]'
	assert_equal "$(jq -r .text <<<"${lines[1]}")" 北京
	# A lead byte at the end: incomplete, at its offset.
	assert_equal "$(jq -c '[.code, .raw_hex, .message]' <<<"${lines[2]}")" \
		'["bad_encoding","78b1","the bytes are not valid gbk (byte 2, 0xb1)"]'
	assert_equal "$stderr" "wpay-scanqr: the bytes are not valid gbk (byte 1, 0xff) (<stdin>:1)
wpay-scanqr: the bytes are not valid gbk (byte 2, 0xb1) (<stdin>:3)"
	# Forced UTF-8 is strict: an overlong form is no UTF-8.
	run --separate-stderr wpay-scanqr --payload --encoding utf-8 < <(printf 'a\xc0\xafb\n')
	assert_failure 1
	assert_equal "$(jq -c '[.code, .message]' <<<"$output")" '["bad_encoding","the bytes are not valid utf-8 (byte 2, 0xc0)"]'
	# A charset that decodes to a NUL (UTF-7's +AAA-) makes no text either.
	run --separate-stderr wpay-scanqr --payload --encoding utf-7 < <(printf '+AAA-\n')
	assert_failure 1
	assert_equal "$(jq -c '[.code, .raw_hex]' <<<"$output")" '["bad_encoding","2b4141412d"]'
	# --explain prints no tree for it, but says so on stderr and fails.
	run --separate-stderr wpay-scanqr --payload --explain --encoding gbk < <(printf '\xff\n')
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "wpay-scanqr: the bytes are not valid gbk (byte 1, 0xff) (<stdin>:1)"
}

@test "an unknown --encoding, or one with an iconv suffix that would drop bytes, is a usage error before anything is read" {
	for name in klingon "" gbk//IGNORE utf-8//TRANSLIT "$(printf 'x%.0s' $(seq 60))"; do
		run --separate-stderr wpay-scanqr --payload --encoding "$name" < <(printf 'hello\n')
		assert_failure 64
		assert_output ""
		assert_equal "${stderr_lines[0]}" "wpay-scanqr: --encoding $name: not a character set iconv knows"
	done
}

@test "a GB18030 EMV payload whose CRC holds over its raw bytes: made in GB18030, certain, and parsed" {
	run --separate-stderr wpay-scanqr --payload < <(emv_in gb18030 gb18030)
	assert_success
	assert_equal "$(jq -c '[.format, .encoding, .encoding_certain, .checks.crc, .checks.crc_charset, .emv.valid, .merchant.name_local, .merchant.city_local]' <<<"$output")" \
		'["emv","gb18030",true,"ok","gb18030",true,"北京咖啡","北京"]'
	# The code's own CRC is shown (the one over its GB18030 bytes), not one over UTF-8.
	crc=$(jq -r .text <<<"$output" | tail -c 5)
	assert_equal "$(jq -r '.emv.objects[-1] | "\(.id) \(.value)"' <<<"$output")" "63 $crc"
	assert_equal "$(jq -r .raw_hex <<<"$output" | tail -c 9 | xxd -r -p)" "$crc"
	# Its CRC over UTF-8 instead: it parses, but says nothing of the charset.
	run --separate-stderr wpay-scanqr --payload < <(emv_in gb18030 utf-8)
	assert_equal "$(jq -c '[.encoding, .encoding_certain, .checks.crc, (.checks | has("crc_charset"))]' <<<"$output")" \
		'["gb18030",false,"ok",false]'
	# One changed byte: the CRC holds over neither, nothing is proven.
	run --separate-stderr wpay-scanqr --payload < <(emv_in gb18030 gb18030 | sed 's/Cafe/Cafx/')
	assert_equal "$(jq -c '[.encoding_certain, .checks.crc, .emv.valid]' <<<"$output")" '[false,"mismatch",false]'
	# The same code written in UTF-8 proves UTF-8, as before.
	run --separate-stderr wpay-scanqr --payload < <(emv_in utf-8 utf-8)
	assert_equal "$(jq -c '[.encoding, .encoding_certain, .checks.crc, .merchant.name_local]' <<<"$output")" \
		'["utf-8",true,"ok","北京咖啡"]'
}

@test "a photo: a QR image carrying GB18030 bytes without ECI reads as Chinese, sharp and degraded" {
	helper=$WPAY_UNIT_BIN/qr_bytes
	[ -x "$helper" ] || skip "no $helper (make builds it with the unit tests)"
	printf '%s' '北京咖啡 微信支付' | iconv -t GB18030 | "$helper" "$BATS_TEST_TMPDIR/gb.png"
	run --separate-stderr wpay-scanqr "$BATS_TEST_TMPDIR/gb.png"
	assert_success
	assert_equal "$(jq -c '[.text, .encoding, .encoding_confidence, .raw_hex]' <<<"$output")" \
		'["北京咖啡 微信支付","gb18030","high","b1b1bea9bfa7b7c820cea2d0c5d6a7b8b6"]'
	# Degraded: scaled by 0.7, blurred, noisy, then a JPEG at quality 40.
	printf '%s' '北京咖啡 微信支付' | iconv -t GB18030 | "$helper" "$BATS_TEST_TMPDIR/gb.pgm" 6
	python3 - "$BATS_TEST_TMPDIR/gb.pgm" "$BATS_TEST_TMPDIR/worn.pgm" <<-'PY'
		import random, sys
		data = open(sys.argv[1], "rb").read()
		head, px = data.split(b"\n255\n", 1)
		w, h = map(int, head.split()[1:3])
		random.seed(14)
		W, H = int(w * 0.7), int(h * 0.7)
		src = [[px[min(h - 1, int(y / 0.7)) * w + min(w - 1, int(x / 0.7))] for x in range(W)] for y in range(H)]
		out = bytearray()
		for y in range(H):
		    for x in range(W):
		        s = n = 0
		        for dy in (-1, 0, 1):
		            for dx in (-1, 0, 1):
		                if 0 <= y + dy < H and 0 <= x + dx < W:
		                    s += src[y + dy][x + dx]; n += 1
		        v = s / n * 0.8 + 30 + random.gauss(0, 12)
		        out.append(max(0, min(255, int(v))))
		open(sys.argv[2], "wb").write(b"P5\n%d %d\n255\n" % (W, H) + bytes(out))
	PY
	cjpeg -quality 40 "$BATS_TEST_TMPDIR/worn.pgm" >"$BATS_TEST_TMPDIR/worn.jpg"
	run --separate-stderr wpay-scanqr "$BATS_TEST_TMPDIR/worn.jpg"
	assert_success
	assert_equal "$(jq -c '[.text, .encoding]' <<<"$output")" '["北京咖啡 微信支付","gb18030"]'
	# Forced to UTF-8, the photo's code is a bad_encoding error with its place and bytes.
	run --separate-stderr wpay-scanqr --encoding utf-8 "$BATS_TEST_TMPDIR/gb.png"
	assert_failure 1
	assert_equal "$(jq -c '[.type, .code, .index, .source == "'"$BATS_TEST_TMPDIR/gb.png"'", .raw_hex]' <<<"$output")" \
		'["error","bad_encoding",1,true,"b1b1bea9bfa7b7c820cea2d0c5d6a7b8b6"]'
}

@test "a Shift_JIS photo stays Shift_JIS" {
	helper=$WPAY_UNIT_BIN/qr_bytes
	[ -x "$helper" ] || skip "no $helper (make builds it with the unit tests)"
	printf '%s' 'ﾃﾞｻﾞｲﾝQR 今日はいい天気' | iconv -t CP932 | "$helper" "$BATS_TEST_TMPDIR/sjis.png"
	run --separate-stderr wpay-scanqr "$BATS_TEST_TMPDIR/sjis.png"
	assert_success
	assert_equal "$(jq -c '[.text, .encoding]' <<<"$output")" '["ﾃﾞｻﾞｲﾝQR 今日はいい天気","shift_jis"]'
}
