#!/usr/bin/env bats
# Broken EMV payloads, explained and repaired (lib/repair.c, through
# wpay-scanqr): the tree as far as it reads, where and why it breaks, and
# each repair, verified before it is offered. The payloads are made here by
# an encoder of the test's own (Python, its CRCs from binascii and a
# bit-by-bit CRC-16, not from wpay), each with one mistake of a real encoder.

load helper

setup() {
	wpay_setup
	init_ledger # scanqr looks merchants up in it, on either engine
}

# gen CASE: a payload with one kind of mistake (or "ok": none).
gen() {
	python3 - "$1" <<-'PY'
		import binascii, sys
		def crc(b, poly=0x1021, init=0xFFFF, ref=False, xorout=0):
		    if not ref:
		        return binascii.crc_hqx(b, init) if poly == 0x1021 else None
		    rp = int("{:016b}".format(poly)[::-1], 2)
		    c = init
		    for x in b:
		        c ^= x
		        for _ in range(8):
		            c = (c >> 1) ^ rp if c & 1 else c >> 1
		    return c ^ xorout
		def tlv(i, v, n=None):
		    return "%s%02d%s" % (i, len(v) if n is None else n, v)
		def tlvb(i, v):
		    return "%s%02d%s" % (i, len(v.encode()), v)
		def fin(s, **kw):
		    s += "6304"
		    return s + "%04X" % crc(s.encode(), **kw)
		head = (tlv("00", "01") + tlv("01", "11") +
		        tlv("26", tlv("00", "BR.GOV.BCB.PIX") + tlv("01", "joao@example.com")) +
		        tlv("52", "5812") + tlv("53", "986") + tlv("58", "BR"))
		body = head + tlv("59", "CAFE DO JOAO") + tlv("60", "SAO PAULO")
		ok = fin(body)
		objs = body + "6304"
		case = sys.argv[1]
		out = {
		    "ok": ok,
		    "space": ok + " ",
		    "tab": ok + "\t",
		    "lower": ok[:-4] + ok[-4:].lower(),
		    "utf8-ok": fin(body + tlv("64", tlv("00", "PT") + tlv("01", "CAFÉ DO JOÃO") + tlv("02", "SÃO PAULO"))),
		    "bytes": fin(body + tlvb("64", tlvb("00", "PT") + tlvb("01", "CAFÉ DO JOÃO") + tlvb("02", "SÃO PAULO"))),
		    "without-6304": objs + "%04X" % crc(body.encode()),
		    "xmodem": objs + "%04X" % crc(objs.encode(), init=0),
		    "kermit": objs + "%04X" % crc(objs.encode(), init=0, ref=True),
		    "arc": objs + "%04X" % crc(objs.encode(), poly=0x8005, init=0, ref=True),
		    "x25": objs + "%04X" % crc(objs.encode(), init=0xFFFF, ref=True, xorout=0xFFFF),
		    "swapped": objs + ok[-2:] + ok[-4:-2],
		    "no-crc": body,
		    "bare-6304": body + "6304",
		    "bare-63": body + "63",
		    "cut": ok[:-2],
		    "cut-wrong": ok[:-4] + ("11" if not ok[-4:].startswith("11") else "22"),
		    "length": fin(head + tlv("59", "CAFE DO JOAO", 10) + tlv("60", "SAO PAULO")),
		    "length-typo": ok.replace("5912CAFE", "5910CAFE"),
		    "length-62": fin(body + tlv("62", tlv("05", "ORDER12345", 8))),
		    "length-62-long": fin(body + tlv("62", tlv("05", "ORDER12345", 12))),
		    "ref-ok": fin(body + tlv("62", tlv("05", "ORDER12345"))),
		    "empty": fin(head + tlv("59", "CAFE DO JOAO") + "6000" + tlv("62", tlv("05", "ORDER12345"))),
		    "empty-fixed": fin(head + tlv("59", "CAFE DO JOAO") + tlv("62", tlv("05", "ORDER12345"))),
		    "mixed": fin(head + tlvb("59", "CAFÉ DO JOÃO") + tlv("60", "SAO PAULO") + tlv("64", tlv("00", "PT") + tlv("01", "CAFÉ DO JOÃO"))),
		    "mixed-fixed": fin(head + tlv("59", "CAFÉ DO JOÃO") + tlv("60", "SAO PAULO") + tlv("64", tlv("00", "PT") + tlv("01", "CAFÉ DO JOÃO"))),
		    "changed": ok.replace("JOAO", "JOAA"),
		    "space-changed": ok.replace("JOAO", "JOAA") + " ",
		    "space-lower": ok[:-4] + ok[-4:].lower() + " ",
		    "control": fin(head + tlv("59", "CAFE\x1b[31mJOAO", 10) + tlv("60", "SAO PAULO")),
		}[case]
		sys.stdout.write(out)
	PY
}

# scan CASE: the scan record of that payload.
scan() {
	gen "$1" | wpay-scanqr --payload
}

@test "the payloads made here: the right ones are valid, each broken one is not" {
	for c in ok utf8-ok; do
		assert_equal "$(scan $c | jq -c '[.emv.valid, .checks.crc, (.emv | has("repairs"))]')" '[true,"ok",false]'
	done
	for c in space lower bytes without-6304 xmodem kermit arc x25 swapped no-crc bare-6304 bare-63 cut length \
		length-typo changed space-changed space-lower; do
		assert_equal "$c $(scan $c | jq .emv.valid)" "$c false"
	done
}

@test "a broken payload keeps its tree as far as it reads (templates split), not []" {
	run --separate-stderr scan length
	assert_success
	assert_equal "$(jq -c '[.emv.objects[].id]' <<<"$output")" '["00","01","26","52","53","58","59"]'
	assert_equal "$(jq -c '.emv.objects[2].objects | map(.value)' <<<"$output")" '["BR.GOV.BCB.PIX","joao@example.com"]'
	assert_equal "$(jq -r '.emv.objects[6].value' <<<"$output")" "CAFE DO JO"
	# A CRC mismatch: every object read, templates too.
	assert_equal "$(scan changed | jq -c '[.emv.objects | length, .[2].objects[0].value]')" '[9,"BR.GOV.BCB.PIX"]'
}

@test "trailing white space: stripped, the CRC rechecked, the repair offered with the stripped payload" {
	ok=$(gen ok)
	for c in space tab; do
		run --separate-stderr scan $c
		assert_success
		assert_equal "$(jq -c '[.emv.error.category, .checks.crc, .emv.break.offset]' <<<"$output")" '["truncated","unchecked",112]'
		assert_equal "$(jq -c '[.emv.repairs[] | .kind]' <<<"$output")" '["strip-whitespace"]'
		assert_equal "$(jq -r '.emv.repairs[0].payload' <<<"$output")" "$ok"
	done
	assert_equal "$(scan space | jq -r .emv.break.message)" "the payload ends with a space, outside its data objects"
	assert_equal "$(scan tab | jq -r .emv.break.message)" "the payload ends with a tab, outside its data objects"
	run --separate-stderr wpay-scanqr --payload --explain < <(gen space)
	assert_line "!! breaks at character 112:"
	assert_line "   ...E DO JOAO6009SAO PAULO63043C22 "
	assert_line "                                    ^"
	assert_line --partial "repair strip-whitespace: the payload ends with a space"
	assert_line "   $ok"
}

@test "a trailing newline in a code's image: stripped, the CRC rechecked" {
	{ gen ok; printf '\r\n'; } | "$WPAY_UNIT_BIN/qr_bytes" "$BATS_TEST_TMPDIR/nl.png"
	run --separate-stderr wpay-scanqr "$BATS_TEST_TMPDIR/nl.png"
	assert_equal "$(jq -c '[.emv.valid, .emv.repairs[].kind]' <<<"$output")" '[false,"strip-whitespace"]'
	assert_equal "$(jq -r '.emv.repairs[0].message' <<<"$output")" \
		"the payload ends with a line end (CR LF), outside its data objects; without it the payload parses and its CRC holds"
	assert_equal "$(jq -r '.emv.repairs[0].payload' <<<"$output")" "$(gen ok)"
}

@test "a lower-case CRC: the same value, said so; refused as EMV writes capitals; the upper-case payload offered" {
	run --separate-stderr scan lower
	assert_equal "$(jq -c '[.emv.error.category, .checks.crc, .emv.error.offset]' <<<"$output")" '["crc-mismatch","mismatch",108]'
	assert_equal "$(jq -r .emv.error.message <<<"$output")" \
		"the CRC 3c22 is the payload's CRC 3C22 in lower case: the same value, but EMV writes capitals"
	assert_equal "$(jq -c '[.emv.repairs[] | .kind]' <<<"$output")" '["crc-case"]'
	assert_equal "$(jq -r '.emv.repairs[0].payload' <<<"$output")" "$(gen ok)"
	run --separate-stderr wpay-scanqr --payload --explain < <(gen lower)
	assert_line "!! breaks at character 108, at fault: 63:"
	assert_line --partial "repair crc-case: the CRC 3c22 is the right value in lower case"
	refute_line --partial "changed or mistyped"
}

@test "lengths in UTF-8 bytes: re-read with byte lengths, the CRC holds, offered with character lengths and a new CRC" {
	run --separate-stderr scan bytes
	assert_equal "$(jq -c '[.emv.error.category, .checks.crc, .emv.break.id, .emv.repairs[].kind]' <<<"$output")" \
		'["tlv-length","ok","64","length-bytes"]'
	assert_equal "$(jq -r '.emv.repairs[0].payload' <<<"$output")" "$(gen utf8-ok)"
	assert_equal "$(jq -r '.emv.repairs[0].message' <<<"$output")" \
		"the lengths count UTF-8 bytes, not characters (2 objects, the first 64.01: 14 bytes, 12 characters); read that way the payload parses and its CRC holds. EMV counts characters: with character lengths and a new CRC E364"
	# The partial tree shows what the byte length made of the name.
	assert_equal "$(jq -r '.emv.objects[-1].objects[1].value' <<<"$output")" "CAFÉ DO JOÃO02"
	run --separate-stderr wpay-scanqr --payload --explain < <(gen bytes)
	assert_line "    01 14 Merchant Name - Alternate Language: CAFÉ DO JOÃO02"
	assert_line --partial "repair length-bytes: "
}

@test "one length in bytes among others in characters: that one length repaired, the rule it still breaks named" {
	run --separate-stderr scan mixed
	assert_equal "$(jq -c '[.emv.error.category, .emv.break.id, .emv.repairs[].kind]' <<<"$output")" '["tlv-length","59","length"]'
	assert_equal "$(jq -r '.emv.repairs[0].payload' <<<"$output")" "$(gen mixed-fixed)"
	[[ "$(jq -r '.emv.repairs[0].message' <<<"$output")" == *"(it then still fails: at 75: 59 (Merchant Name) has characters outside the common set (printable ASCII); put them in 64)" ]]
	[[ "$(jq -r .emv.break.message <<<"$output")" == *"59's length is probably 12" ]]
}

@test "a CRC over the wrong text or by another CRC-16: named, the right CRC offered" {
	ok=$(gen ok)
	for c in without-6304:crc-without-6304:"without \"6304\"" xmodem:crc-algorithm:XMODEM kermit:crc-algorithm:KERMIT \
		arc:crc-algorithm:ARC x25:crc-algorithm:X-25 swapped:crc-algorithm:"two bytes swapped"; do
		run --separate-stderr scan "${c%%:*}"
		kind=${c#*:}
		word=${kind#*:}
		kind=${kind%%:*}
		assert_equal "$c $(jq -c '[.emv.repairs[] | .kind]' <<<"$output")" "$c [\"$kind\"]"
		assert_equal "$(jq -r '.emv.repairs[0].payload' <<<"$output")" "$ok"
		[[ "$(jq -r '.emv.repairs[0].message' <<<"$output")" == *"$word"* ]]
	done
}

@test "a CRC field missing: appended (no 63, a bare 6304 or 63, a CRC cut short); a cut that is not the CRC's start: none" {
	ok=$(gen ok)
	for c in no-crc bare-6304 bare-63 cut; do
		run --separate-stderr scan $c
		assert_equal "$c $(jq -c '[.emv.repairs[] | .kind]' <<<"$output")" "$c [\"crc-missing\"]"
		assert_equal "$(jq -r '.emv.repairs[0].payload' <<<"$output")" "$ok"
	done
	assert_equal "$(scan no-crc | jq -c '[.checks.crc, .emv.error.category]')" '["absent","crc-missing"]'
	assert_equal "$(scan bare-6304 | jq -r '.emv.repairs[0].message')" \
		"the payload ends with a bare \"6304\", the CRC's id and length without its value; with the CRC 3C22"
	assert_equal "$(scan cut | jq -r '.emv.repairs[0].message')" "the CRC was cut after 2 digits: '3C' is how the right CRC 3C22 starts"
	assert_equal "$(scan cut-wrong | jq -c '.emv.repairs')" '[]'
}

@test "a wrong length on one object: where it breaks, why, and the one length that makes the rest parse and the CRC hold" {
	# The encoder wrote 10 for a 12-character name and computed its CRC over that.
	run --separate-stderr scan length
	assert_equal "$(jq -c '[.emv.error.category, .checks.crc, .emv.break.offset, .emv.break.id]' <<<"$output")" '["tlv-id","ok",89,"59"]'
	assert_equal "$(jq -r .emv.break.message <<<"$output")" \
		"59 (Merchant Name) says 10 characters, so its value is 'CAFE DO JO'; then 'AO60' at 89 does not read as a data object (at 89: an id is 2 digits, not 'AO6009SA'): 59's length is probably 12"
	assert_equal "$(jq -c '[.emv.repairs[] | .kind]' <<<"$output")" '["length"]'
	assert_equal "$(jq -r '.emv.repairs[0].payload' <<<"$output")" "$(gen ok)"
	[[ "$(jq -r '.emv.repairs[0].message' <<<"$output")" == *"over the wrong length); with the length fixed, a new CRC" ]]
	run --separate-stderr wpay-scanqr --payload --explain < <(gen length)
	assert_line "!! breaks at character 89, at fault: 59:"
	assert_line "   ...81253039865802BR5910CAFE DO JOAO6009SAO PAULO63042E1C"
	assert_line "                                    ^"
	assert_line "    01 16 Payment network specific: joao@example.com"
	assert_line "59 10 Merchant Name: CAFE DO JO"
	# A mistyped length, the CRC over the right one: found behind the CRC's complaint.
	run --separate-stderr scan length-typo
	assert_equal "$(jq -c '[.emv.error.category, .emv.break.id, .emv.repairs[].kind]' <<<"$output")" '["crc-mismatch","59","length"]'
	assert_equal "$(jq -r '.emv.repairs[0].payload' <<<"$output")" "$(gen ok)"
	[[ "$(jq -r .emv.break.message <<<"$output")" == *"59's length is probably 12" ]]
}

@test "a wrong length inside a template (62.05): found, its template's own length as written" {
	for c in length-62 length-62-long; do
		run --separate-stderr scan $c
		assert_equal "$c $(jq -c '[.emv.error.category, .emv.break.id, .emv.repairs[].kind]' <<<"$output")" "$c [\"format\",\"62.05\",\"length\"]"
		assert_equal "$(jq -r '.emv.repairs[0].payload' <<<"$output")" "$(gen ref-ok)"
		[[ "$(jq -r .emv.break.message <<<"$output")" == *"62.05's length is probably 10" ]]
	done
	assert_equal "$(scan length-62 | jq -r .emv.break.message)" \
		"62.05 (Reference Label) says 8 characters, so its value is 'ORDER123'; then '45' at 120 does not read as a data object (template 62 is not a list of data objects: truncated header at 120: 2 characters left, a data object needs 4): 62.05's length is probably 10"
	assert_equal "$(scan length-62 | jq -c '.emv.objects[-2].objects')" \
		'[{"id":"05","length":8,"name":"Reference Label","value":"ORDER123"}]'
}

@test "an object of length 00 (an encoder's empty value): the payload without it, not a longer 59 that swallows it" {
	run --separate-stderr scan empty
	assert_equal "$(jq -c '[.emv.error.category, .emv.break.id, .emv.repairs[].kind]' <<<"$output")" '["tlv-length","60","empty-object"]'
	assert_equal "$(jq -r '.emv.repairs[0].payload' <<<"$output")" "$(gen empty-fixed)"
	assert_equal "$(jq -r '.emv.repairs[0].message' <<<"$output")" \
		"60 (Merchant City) has length 00, an empty value, which EMV does not allow (lengths are 01 to 99); without it the rest parses and the CRC holds (as the encoder computed it, with it); without it, a new CRC"
}

@test "a changed character: no repair, and said so" {
	run --separate-stderr scan changed
	assert_equal "$(jq -c '[.emv.error.category, .checks.crc, .emv.repairs]' <<<"$output")" '["crc-mismatch","mismatch",[]]'
	assert_equal "$(jq -r .emv.break.message <<<"$output")" \
		"the CRC does not match and no single repair makes it hold: the payload was changed or mistyped"
	run --separate-stderr wpay-scanqr --payload --explain < <(gen changed)
	assert_line "!! the CRC does not match and no single repair makes it hold: the payload was changed or mistyped"
	refute_line --regexp '^repair ' 
}

@test "only verified repairs: a trailing space and a changed character offer no strip; a space and a lower-case CRC offer both at once" {
	run --separate-stderr scan space-changed
	assert_equal "$(jq -c .emv.repairs <<<"$output")" '[]'
	assert_equal "$(jq -r .emv.break.message <<<"$output")" \
		"the payload ends with a space; without it: the CRC does not match and no single repair makes it hold: the payload was changed or mistyped"
	run --separate-stderr scan space-lower
	assert_equal "$(jq -c '[.emv.repairs[] | .kind]' <<<"$output")" '["crc-case"]'
	assert_equal "$(jq -r '.emv.repairs[0].payload' <<<"$output")" "$(gen ok)"
	[[ "$(jq -r '.emv.repairs[0].message' <<<"$output")" == "the payload ends with a space; without it, the CRC 3c22 is the right value"* ]]
	# Every repair of every case here parses and its CRC holds.
	for c in space tab lower bytes without-6304 xmodem kermit arc x25 swapped no-crc bare-6304 bare-63 cut length \
		length-typo space-lower length-62 length-62-long empty; do
		scan $c | jq -r '.emv.repairs[].payload'
	done >"$BATS_TEST_TMPDIR/repaired"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/repaired")" 20
	run --separate-stderr wpay-scanqr --payload "$BATS_TEST_TMPDIR/repaired"
	assert_success
	assert_equal "$(jq -c '[.emv.valid, .checks.crc]' <<<"$output" | sort -u)" '[true,"ok"]'
}

@test "hostile payloads: control characters escaped in --explain, an 8,000-byte line, all zeros, 100 objects then a break" {
	run --separate-stderr wpay-scanqr --payload --explain < <(gen control)
	assert_success
	[[ "$output" != *$'\x1b'* ]]
	assert_line --partial 'Merchant Name: CAFE\x1b[31mJ'
	assert_line --regexp '^   \.\.\..*CAFE\\x1b\[31mJOAO6009'
	# An 8,000-byte payload: read, refused for its size, no repair.
	run --separate-stderr wpay-scanqr --payload < <(printf '0002%07996d\n' 0)
	assert_success
	assert_equal "$(jq -c '[.emv.error.category, .emv.repairs]' <<<"$output")" '["size",[]]'
	# All zeros: 00 of length 00 after the first object, and a CRC of 0000.
	run --separate-stderr wpay-scanqr --payload --explain < <(printf '0002%04000d\n' 0)
	assert_success
	assert_line "00 02 Payload Format Indicator: 00"
	assert_line --partial "!! crc-mismatch: the CRC is 0000 but"
	refute_line --regexp '^repair ' 
	# 100 objects and a broken header: the length search is bounded, and ends.
	run --separate-stderr wpay-scanqr --payload < <(python3 -c '
print("000201" + "".join("%02d04%04d" % (80 + i % 20, i) for i in range(98)) + "XX")')
	assert_success
	assert_equal "$(jq -c '[.emv.valid, (.emv.objects | length), .emv.repairs]' <<<"$output")" '[false,99,[]]'
}
