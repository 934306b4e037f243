#!/usr/bin/env bats
# wpay-mkqr: signed, interoperable EMV codes, static and dynamic, as images.

load helper

setup() {
	wpay_setup
	init_ledger
	wpay-bind merchant add cafe01 --name "Café Lu" --city Beijing --mcc 5814 >/dev/null
	wpay-bind merchant approve cafe01 >/dev/null
}

@test "a static code: EMV fields, every network's template, a signature, no amount" {
	run --separate-stderr wpay-mkqr cafe01
	assert_success
	assert_equal "$(jq -c '[.type, .mode, .merchant, .currency, .networks]' <<<"$output")" \
		'["code","static","m:cafe01","CNY",["wpay","alipay","wechat"]]'
	payload=$(jq -r .payload <<<"$output")
	[[ "$payload" == 00020101021126* ]]
	[[ "$payload" == *0016CN.COM.WEIBO.PAY0106cafe01* ]]
	[[ "$payload" == *0010COM.ALIPAY0106cafe01* ]]
	[[ "$payload" == *0017COM.QQ.WEIXIN.PAY0106cafe01* ]]
	[[ "$payload" == *52045814* && "$payload" == *5303156* && "$payload" == *5802CN* ]]
	[[ "$payload" == *5907Cafe\ Lu6007Beijing* ]]
	[[ "$payload" == *0107Café\ Lu* ]]
	# No amount (54) among the top-level tags: walked as EMV reads it, since
	# the digits 54 may turn up by chance inside a signature.
	! python3 -c '
import sys
p, i, tags = sys.argv[1], 0, []
while i < len(p):
    tags.append(p[i:i + 2]); i += 4 + int(p[i + 2:i + 4])
sys.exit(0 if "54" in tags else 1)' "$payload"
	[[ "$payload" =~ 90980004WPAY0186[A-Za-z0-9+/]{86}6304[0-9A-F]{4}$ ]]
	assert_equal "$(jq -r .key_id <<<"$output")" "$(cat "$WPAY_KEYS/signing.current")"
}

@test "a dynamic code carries amount, reference and expiry, and is kept by its reference" {
	export WPAY_NOW=2026-11-22T08:00:00Z
	run --separate-stderr wpay-mkqr cafe01 --amount 12.34 --reference order_1 --expires-in 15m
	assert_success
	first=$output
	assert_equal "$(jq -c '[.mode, .amount, .reference, .expires_at]' <<<"$output")" \
		'["dynamic",1234,"order_1","2026-11-22T08:15:00Z"]'
	payload=$(jq -r .payload <<<"$output")
	[[ "$payload" == 00020101021226* ]]
	[[ "$payload" == *540512.34* && "$payload" == *62110507order_1* ]]
	[[ "$payload" == *0210$(date -d 2026-11-22T08:15:00Z +%s)90* ]]
	export WPAY_NOW=2026-11-22T08:05:00Z
	run --separate-stderr wpay-mkqr cafe01 --amount 12.34 --reference order_1 --expires-in 15m
	assert_success
	assert_equal "$output" "$first"
	run --separate-stderr wpay-mkqr cafe01 --amount 12.35 --reference order_1
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" conflict
}

@test "bad requests are refused with an error record and change nothing" {
	before=$(ledger_digest)
	for req in '{"merchant":"nope"}' '{"merchant":"cafe01","amount":100}' '{"merchant":"cafe01","amount":"1.00","reference":"r"}' \
		'{"merchant":"cafe01","amount":-5,"reference":"r"}' '{"merchant":"cafe01","amount":100,"reference":"has space"}' \
		'{"merchant":"cafe01","amount":100,"reference":"r","expires_in":"20d"}' '{"merchant":"cafe01","reference":"r"}' \
		'{"merchant":"cafe01","amount":100,"reference":"r","currency":"USD"}' \
		'{"merchant":"cafe01","amount":100,"reference":"12345678901234567890123456"}'; do
		run --separate-stderr wpay-mkqr <<<"$req"
		assert_failure 1
		assert_equal "$(jq -r .type <<<"$output")" error
	done
	assert_equal "$(ledger_digest)" "$before"
}

@test "names in other scripts go in 64; 59 and 60 stay in the common character set" {
	wpay-bind merchant add weibo --name "微博咖啡" --city "北京" >/dev/null
	wpay-bind merchant approve weibo >/dev/null
	run --separate-stderr wpay-mkqr weibo
	payload=$(jq -r .payload <<<"$output")
	[[ "$payload" == *5905weibo6002CN* ]]
	[[ "$payload" == *64200002ZH0104微博咖啡0202北京* ]]
}

@test "a non-ASCII payload is drawn with an ECI 26 (UTF-8) header; an ASCII one without" {
	wpay-bind merchant add plain --name "Noodle Bar" --city Beijing >/dev/null
	wpay-bind merchant approve plain >/dev/null
	wpay-mkqr cafe01 -o "$BATS_TEST_TMPDIR/utf8.png" >/dev/null
	wpay-mkqr plain -o "$BATS_TEST_TMPDIR/ascii.png" >/dev/null
	run ZXingReader -format QRCode "$BATS_TEST_TMPDIR/utf8.png"
	assert_line --regexp '^HasECI: +true$'
	assert_line --regexp '^BytesECI: +5D 51 32 5C 30 30 30 30 32 36 '
	run ZXingReader -format QRCode "$BATS_TEST_TMPDIR/ascii.png"
	assert_line --regexp '^HasECI: +false$'
}

@test "a merchant's code carries only the networks that accept it" {
	wpay-bind merchant update cafe01 --networks wechat >/dev/null
	run --separate-stderr wpay-mkqr cafe01
	assert_equal "$(jq -c .networks <<<"$output")" '["wechat"]'
	payload=$(jq -r .payload <<<"$output")
	[[ "$payload" == *28310017COM.QQ.WEIXIN.PAY0106cafe01* ]]
	[[ "$payload" != *COM.ALIPAY* ]]
}

@test "images: PNG, SVG and text, written whole, named from a template" {
	run --separate-stderr wpay-mkqr cafe01 -o "$BATS_TEST_TMPDIR/a.png"
	assert_success
	assert_equal "$(jq -r .file <<<"$output")" "$BATS_TEST_TMPDIR/a.png"
	file "$BATS_TEST_TMPDIR/a.png" | grep -q 'PNG image data, 600 x 600, 1-bit grayscale' || file "$BATS_TEST_TMPDIR/a.png" | grep -q 'PNG image data'
	run --separate-stderr wpay-mkqr cafe01 -o "$BATS_TEST_TMPDIR/a.svg"
	grep -q '<svg xmlns="http://www.w3.org/2000/svg"' "$BATS_TEST_TMPDIR/a.svg"
	run --separate-stderr wpay-mkqr cafe01 --format txt -o "$BATS_TEST_TMPDIR/a.out"
	grep -q '█' "$BATS_TEST_TMPDIR/a.out"
	mkdir "$BATS_TEST_TMPDIR/codes"
	run --separate-stderr wpay-mkqr --out-dir "$BATS_TEST_TMPDIR/codes" --name '{ref}-{n}.{ext}' --format svg <<-EOF
		{"merchant":"cafe01","amount":100,"reference":"a","ref":"sku1"}
		{"merchant":"cafe01","amount":200,"reference":"b","ref":"sku2"}
		{"merchant":"cafe01","amount":300,"reference":"c","ref":"../x"}
	EOF
	assert_failure 1
	assert_equal "$(ls "$BATS_TEST_TMPDIR/codes" | paste -sd,)" "sku1-1.svg,sku2-2.svg"
	assert_equal "$(jq -r .type <<<"$output" | paste -sd,)" "code,code,error"
	[ ! -e "$BATS_TEST_TMPDIR/x-3.svg" ]
	[ -z "$(find "$BATS_TEST_TMPDIR/codes" -name '*.tmp.*')" ]
}

@test "an image that cannot be written is an error record; the rest are written" {
	mkdir "$BATS_TEST_TMPDIR/codes"
	run --separate-stderr wpay-mkqr --out-dir "$BATS_TEST_TMPDIR/codes" --name '{ref}/x.png' <<-EOF
		{"merchant":"cafe01","amount":100,"reference":"a","ref":"nodir"}
	EOF
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" io
	[[ "$stderr" == *"cannot write $BATS_TEST_TMPDIR/codes/nodir/x.png: No such file or directory"* ]]
	run --separate-stderr wpay-mkqr --out-dir "$BATS_TEST_TMPDIR/codes" <<<'{"merchant":"cafe01","amount":100,"reference":"a"}'
	assert_success
	[ -s "$BATS_TEST_TMPDIR/codes/cafe01_a.png" ]
}

@test "on a terminal, with no file named, the code is drawn too" {
	run script -qec "wpay-mkqr cafe01" /dev/null
	assert_success
	assert_output --partial "█"
	assert_output --partial '"type":"code"'
	run --separate-stderr wpay-mkqr cafe01
	[[ "$output" != *"█"* ]]
}

@test "usage errors exit 64" {
	run --separate-stderr wpay-mkqr cafe01 -o "$BATS_TEST_TMPDIR/a.gif"
	assert_failure 64
	run --separate-stderr wpay-mkqr cafe01 --amount 1e3 --reference r
	assert_failure 64
	run --separate-stderr wpay-mkqr --ecc X
	assert_failure 64
	run --separate-stderr wpay-mkqr --amount 1.00
	assert_failure 64
	run --separate-stderr wpay-mkqr --out-dir /nonexistent
	assert_failure 73
}
