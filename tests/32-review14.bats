#!/usr/bin/env bats
# Attacks on issue 14's first half (lib/schemes, lib/uris, wpay-order's
# refusals, wpay-scanqr --public-key), as a thief, a dishonest merchant, a
# developer debugging payloads and a careless operator would try them.
# Each test passes when the code is right.

load helper

setup() {
	wpay_setup
	init_ledger
	export WPAY_NOW=2026-11-22T08:00:00Z
	wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing >/dev/null
	wpay-bind merchant approve cafe01 >/dev/null
	wpay-bind user add 1001 --nickname Lu >/dev/null
}

# Our own code for MERCHANT, unsigned, with TEMPLATE (an EMV object) put
# before its 52: what a dishonest merchant can print.
with_template() { # MERCHANT TEMPLATE
	local p u
	p=$(wpay-mkqr "$1" | jq -r .payload)
	u=$(recrc "${p%%8923*}63040000")
	recrc "${u/5204/${2}5204}"
}

# An EMV object: id and value, with the value's length in characters.
obj() { # ID VALUE
	printf '%s%02d%s' "$1" "$(printf %s "$2" | python3 -c 'import sys; print(len(sys.stdin.read()))')" "$2"
}

# N three-byte characters (bash's ${s:0:n} counts bytes in the C locale).
han() { python3 -c "print('中' * $1, end='')"; }
# 40 of them: '%.100s' ends inside the 34th.
han40=$(han 40)

@test "a reason quoting a long multibyte value is kept, not dropped (scheme.valid false with no reason)" {
	# PromptPay's 29.01 must be 13 digits; this one is 40 CJK characters.
	pp=$(recrc "000201010211$(obj 29 "0016A00000067701011101$(printf %02d 40)${han40}")5802TH53037646304FFFF")
	run --separate-stderr wpay-scanqr --payload <<<"$pp"
	assert_success
	assert_equal "$(jq -c '[.emv.valid, .scheme.valid, [.scheme.reasons[].rule]]' <<<"$output")" \
		'[true,false,["PromptPay-29-01-len","PromptPay-29-01-cc","PromptPay-29-01-n"]]'
	# '%.100s' ends inside the 34th character: its one byte shows as '?'.
	[[ $(jq -r '.scheme.reasons[0].message' <<<"$output") == *"(it is '$(han 33)?'...)" ]]
	# UPI: a payee address of CJK characters, no '@'.
	run --separate-stderr wpay-scanqr --payload <<<"upi://pay?pa=${han40}&pn=x"
	assert_equal "$(jq -c '[.scheme.valid, [.scheme.reasons[].rule]]' <<<"$output")" '[false,["UPI-pa-form"]]'
	run --separate-stderr wpay-scanqr --payload <<<"upi://pay?pa=a@b&pn=x&é${han40}=1&é${han40}=2"
	assert_equal "$(jq -c '[.scheme.valid, [.scheme.reasons[].rule]]' <<<"$output")" '[false,["UPI-once"]]'
}

@test "wpay-order refuses, with an error record and exit 1, a code whose broken rule quotes a cut multibyte value" {
	wpay-bind merchant add thai01 --name "Thai Cafe" --city Bangkok --country TH --currency THB >/dev/null
	wpay-bind merchant approve thai01 >/dev/null
	code=$(with_template thai01 "$(obj 29 "0016A00000067701011101$(printf %02d 40)${han40}")")
	before=$(ledger_digest)
	run --separate-stderr wpay-order --allow-unsigned --buyer u:1001 --amount 1.00 --request-no s1 \
		<<<"{\"type\":\"scan\",\"text\":\"$code\"}"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" scheme_rule
	[[ $stderr == "wpay-order: the code breaks a rule of PromptPay: "* ]]
	assert_equal "$(ledger_digest)" "$before"
}

@test "any error message cut inside a character still comes out as an error record (err_fail's %.80s)" {
	payload=$(wpay-mkqr cafe01 | jq -r .payload)
	run --separate-stderr wpay-order --buyer u:1001 \
		<<<"{\"type\":\"scan\",\"text\":\"$payload\",\"amount\":100,\"request_no\":\"$(han 30)\"}"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	assert_equal "$(jq -r .message <<<"$output")" "request_no '$(han 26)??' must be 1 to 64 letters, digits or '_'"
	[[ $stderr == "wpay-order: request_no '中"* ]]
	# The parser's own message ('%.8s' of the payload) too.
	run --separate-stderr wpay-scanqr --payload <<<"$(recrc '000201010211中中中中中中6304FFFF')"
	assert_equal "$(jq -c '[.emv.valid, .emv.error.category, .emv.error.message]' <<<"$output")" \
		'[false,"tlv-id","at 12: an id is 2 digits, not '"'"'中中??'"'"'"]'
}

@test "--public-key takes only an Ed25519 key: not X25519, even with the platform key's bytes" {
	payload=$(wpay-mkqr cafe01 | jq -r .payload)
	pub=$(ls "$WPAY_KEYS"/signing-*.pub)
	openssl genpkey -algorithm x25519 -out "$BATS_TEST_TMPDIR/x.key" 2>/dev/null
	openssl pkey -in "$BATS_TEST_TMPDIR/x.key" -pubout -out "$BATS_TEST_TMPDIR/x.pub" 2>/dev/null
	run --separate-stderr wpay-scanqr --payload --public-key "$BATS_TEST_TMPDIR/x.pub" <<<"$payload"
	assert_failure 65
	[[ $stderr == *"is not an Ed25519 public key in PEM"* ]]
	# The same 32 bytes as an X25519 key: the same key id, and a valid code
	# would be called changed.
	python3 - "$pub" "$BATS_TEST_TMPDIR/same.pub" <<-'PY'
		import base64, sys
		der = base64.b64decode("".join(l for l in open(sys.argv[1]) if l.strip() and not l.startswith("-----")))
		x = bytes.fromhex("302a300506032b656e032100") + der[-32:]
		open(sys.argv[2], "w").write("-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n" % base64.b64encode(x).decode())
	PY
	openssl pkey -pubin -in "$BATS_TEST_TMPDIR/same.pub" -noout -text 2>/dev/null | grep -q X25519
	run --separate-stderr wpay-scanqr --payload --public-key "$BATS_TEST_TMPDIR/same.pub" <<<"$payload"
	assert_failure 65
	[[ $stderr == *"is not an Ed25519 public key in PEM"* ]]
	# The private key, RSA, an empty file: refused too.
	openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:1024 -out "$BATS_TEST_TMPDIR/rsa.key" 2>/dev/null
	openssl pkey -in "$BATS_TEST_TMPDIR/rsa.key" -pubout -out "$BATS_TEST_TMPDIR/rsa.pub" 2>/dev/null
	: >"$BATS_TEST_TMPDIR/empty.pub"
	for k in "${pub%.pub}.key" "$BATS_TEST_TMPDIR/rsa.pub" "$BATS_TEST_TMPDIR/empty.pub"; do
		run --separate-stderr wpay-scanqr --payload --public-key "$k" <<<"$payload"
		assert_failure 65
		[[ $stderr == *"is not an Ed25519 public key in PEM"* ]]
	done
}

@test "--public-key on a 1 GB file, a directory or a device answers at once; a link to the key works" {
	payload=$(wpay-mkqr cafe01 | jq -r .payload)
	pub=$(ls "$WPAY_KEYS"/signing-*.pub)
	truncate -s 1G "$BATS_TEST_TMPDIR/huge.pub"
	run --separate-stderr timeout 5 wpay-scanqr --payload --public-key "$BATS_TEST_TMPDIR/huge.pub" <<<"$payload"
	assert_failure 65
	[[ $stderr == *"is not an Ed25519 public key in PEM"* ]]
	rm "$BATS_TEST_TMPDIR/huge.pub"
	# A key file with text around the PEM, as a pasted e-mail has, is still read.
	{ echo "Here is our key:"; cat "$pub"; echo "-- "; } >"$BATS_TEST_TMPDIR/mail.pub"
	run --separate-stderr wpay-scanqr --payload --public-key "$BATS_TEST_TMPDIR/mail.pub" <<<"$payload"
	assert_equal "$(jq -r .checks.signature <<<"$output")" valid
	mkdir "$BATS_TEST_TMPDIR/dir.pub"
	for k in "$BATS_TEST_TMPDIR/dir.pub" /dev/zero /dev/null; do
		run --separate-stderr timeout 5 wpay-scanqr --payload --public-key "$k" <<<"$payload"
		assert_failure 64
		[[ $stderr == *"is not a regular file" ]]
	done
	ln -s "$pub" "$BATS_TEST_TMPDIR/link.pub"
	run --separate-stderr wpay-scanqr --payload --public-key "$BATS_TEST_TMPDIR/link.pub" <<<"$payload"
	assert_success
	assert_equal "$(jq -r .checks.signature <<<"$output")" valid
}

@test "a payload naming 22 schemes keeps them all, ours too, in the payload's order (SCHEMES_FOUND_MAX was 16)" {
	body=000201010211
	for i in 02 03 04 05 09 10 11 12 13 14 15 16; do body+="${i}04abcd"; done
	i=26
	for g in A000000677 SG.PAYNOW SG.SGQR SG.COM.NETS ID.CO.QRIS A000000727 com.p2pqrpay A000000333 \
		COM.QQ.WEIXIN.PAY COM.ALIPAY com.mercadolibre COM.GRAB SG.COM.DASH.WWW COM.MYFAVE BR.GOV.BCB.PIX \
		MY.COM.PAYNET A000000524 CN.COM.WEIBO.PAY; do
		body+=$(obj $i "$(obj 00 $g)$(obj 01 cafe01)")
		i=$((i + 1))
	done
	code=$(recrc "${body}52045999530315658"02CN5901X6001Y6304FFFF)
	run --separate-stderr wpay-scanqr --payload <<<"$code"
	assert_success
	assert_equal "$(jq -c '[.emv.valid, .emv.warnings, (.schemes | length), .schemes[-3:], (.scheme.reasons | length)]' <<<"$output")" \
		"[true,[\"size: ${#code} characters, EMV allows 512\"],22,[\"PIX\",\"DuitNow\",\"wpay\"],32]"
	before=$(ledger_digest)
	run --separate-stderr wpay-order --allow-unsigned --buyer u:1001 --amount 1.00 --request-no m1 <<<"$output"
	assert_failure 1
	assert_equal "$(ledger_digest)" "$before"
}

@test "every EMV warning at once fits: size, a 02 payload format, 52, 59 and 60 missing" {
	body=000202010211
	for i in $(seq 26 45); do body+="${i}220010SG.EXAMPLE0104A${i}X"; done
	code=$(recrc "${body}530370258"02SG6304FFFF)
	[ ${#code} -gt 512 ]
	run --separate-stderr wpay-scanqr --payload <<<"$code"
	assert_success
	assert_equal "$(jq -c '.emv.warnings' <<<"$output")" \
		"[\"size: ${#code} characters, EMV allows 512\",\"format: 00 (payload format) is '02'; EMV's is 01\",\"52 missing\",\"59 missing\",\"60 missing\"]"
	# 4,096 characters are read; one more is refused.
	for n in 4096 4097; do
		code=$(recrc "$(python3 - $n <<-'PY'
			import sys
			n = int(sys.argv[1])
			body = "000201010211" + "5303702" + "5802SG"
			def tmpl(i, size):  # a template of exactly size characters, header included
			    v = size - 4 - 14 - 4
			    return "%02d%02d0010SG.EXAMPLE01%02d%s" % (i, size - 4, v, "x" * v)
			for i in list(range(26, 52)) + list(range(80, 100)):
			    left = n - len(body) - 8
			    if left <= 103:
			        body += tmpl(i, left)
			        break
			    body += tmpl(i, 103 if left - 103 >= 23 else left - 23)
			print(body + "6304FFFF")
		PY
		)")
		[ ${#code} -eq $n ]
		run --separate-stderr wpay-scanqr --payload <<<"$code"
		assert_success
		if [ $n -eq 4096 ]; then
			assert_equal "$(jq -c '[.emv.valid, .emv.warnings[0], .checks.crc]' <<<"$output")" \
				'[true,"size: 4096 characters, EMV allows 512","ok"]'
		else
			assert_equal "$(jq -c '[.emv.valid, .emv.error.category, .emv.error.message]' <<<"$output")" \
				'[false,"size","4097 characters: a payload has at most 4096"]'
		fi
	done
}

@test "a key id of multibyte characters in a code, cut to the buffer, is still reported (checks.key_id was dropped)" {
	payload=$(wpay-mkqr cafe01 | jq -r .payload)
	kid=$(jq -r .checks.key_id <<<"$(wpay-scanqr --payload <<<"$payload")")
	meta=$(obj 89 "$(obj 00 CN.WPAY)$(obj 01 é中中中中中中中)")
	forged=$(recrc "${payload/89230007CN.WPAY0108$kid/$meta}")
	[ "$forged" != "$payload" ]
	for key in "" "--public-key $(ls "$WPAY_KEYS"/signing-*.pub)"; do
		run --separate-stderr wpay-scanqr --payload $key <<<"$forged"
		assert_success
		assert_equal "$(jq -c '[.checks.signature, .checks.key_id]' <<<"$output")" '["unknown_key","é中中中中?"]'
	done
	assert_equal "$(jq -r .checks.signature_problem <<<"$output")" "the code is signed by key é中中中中?; the key given is $kid"
}

@test "--explain escapes bidirectional overrides from a code, as error messages do (a payee name shown backwards)" {
	run --separate-stderr wpay-scanqr --payload --explain <<<'upi://pay?pa=a%40b&pn=%E2%80%AEevil&tn=%E2%81%A6x&cu=%E2%80%AEUSD'
	assert_success
	assert_output --partial 'pn payee name: \u202eevil'
	assert_output --partial 'tn transaction note: \u2066x'
	assert_output --partial "(it is '\\u202eUSD')"
	[[ $output != *$'\xe2\x80\xae'* && $output != *$'\xe2\x81\xa6'* ]]
	# An EMV merchant name too (in the language template, 64.01).
	wpay-bind merchant add cafe02 --name 北京咖啡馆 --city 北京 >/dev/null
	wpay-bind merchant approve cafe02 >/dev/null
	payload=$(wpay-mkqr cafe02 | jq -r .payload)
	run --separate-stderr wpay-scanqr --payload --explain <<<"$(recrc "${payload/北京咖啡馆/北京$'\xe2\x80\xae'咖啡}")"
	[[ $output == *'北京\u202e咖啡'* ]]
	[[ $output != *$'\xe2\x80\xae'* ]]
}

@test "wpay-order refuses a code for our merchant that says another payload format than 01 (lenient reading is for explaining)" {
	payload=$(wpay-mkqr cafe01 | jq -r .payload)
	unsigned=$(recrc "${payload%%8923*}63040000")
	before=$(ledger_digest)
	for v in 02 99; do
		code=$(recrc "0002$v${unsigned#000201}")
		run --separate-stderr wpay-scanqr --payload <<<"$code"
		assert_equal "$(jq -c '[.emv.valid, .emv.warnings]' <<<"$output")" "[true,[\"format: 00 (payload format) is '$v'; EMV's is 01\"]]"
		run --separate-stderr wpay-order --allow-unsigned --buyer u:1001 --amount 1.00 --request-no f$v <<<"$output"
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" bad_code
		assert_equal "$stderr" "wpay-order: the payload format (00) is '$v', not EMV's 01; refusing it (<stdin>:1)"
	done
	assert_equal "$(ledger_digest)" "$before"
	# A DuitNow code saying 02 is still named for what it is.
	duit=00020201021126410014A000000615000101065016640209123456789520499995303458540510.005802MY5909QRCSDNBHD6005BANGI6304343F # PayNet's example
	run --separate-stderr wpay-order --buyer u:1001 --amount 1.00 --request-no d1 <<<"{\"type\":\"scan\",\"text\":\"$duit\"}"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" foreign_code
	[[ $stderr == "wpay-order: this is a DuitNow code: "* ]]
	# Our own codes say 01 and are taken.
	run --separate-stderr wpay-order --buyer u:1001 --amount 1.00 --request-no ok1 <<<"$(wpay-scanqr --payload <<<"$payload")"
	assert_success
}

@test "our merchant's template outside 26-51 (at 80, beside a Visa account) pays no one: wpay's rules cannot be escaped" {
	# No 59 or 60, which wpay's rules require; our GUI in an unreserved template.
	code=$(recrc "0002010102110216411111111111111180300016CN.COM.WEIBO.PAY0106cafe0153031565802CN6304FFFF")
	run --separate-stderr wpay-scanqr --payload <<<"$code"
	assert_success
	assert_equal "$(jq -c '[.emv.valid, .schemes, .merchant.id]' <<<"$output")" '[true,["Visa"],null]'
	before=$(ledger_digest)
	run --separate-stderr wpay-order --allow-unsigned --buyer u:1001 --amount 1.00 --request-no v80 <<<"$output"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" foreign_code
	assert_equal "$stderr" "wpay-order: this is a Visa code: this ledger serves wpay, alipay, wechat, not Visa (<stdin>:1)"
	# With an unknown network's template instead of Visa's: no merchant of ours.
	code=$(recrc "00020101021126190015COM.EXAMPLE.PAY80300016CN.COM.WEIBO.PAY0106cafe0153031565802CN6304FFFF")
	run --separate-stderr wpay-order --allow-unsigned --buyer u:1001 --amount 1.00 --request-no v81 \
		<<<"{\"type\":\"scan\",\"text\":\"$code\"}"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" unknown_merchant
	assert_equal "$(ledger_digest)" "$before"
}

@test "UPI edge cases: upper-case scheme, %00, a '%' at the very end (broken encoding, as a wallet would refuse it), long names, 1,000 parameters; a wallet URL inside EMV stays EMV" {
	many=$(python3 -c 'print("upi://pay?pa=a@b&pn=x&" + "&".join("k%d=v" % i for i in range(1000)))')
	long=$(python3 -c 'print("k" * 3000)')
	run --separate-stderr wpay-scanqr --payload <<-EOF
		UPI://PAY?pa=a@b&pn=X
		upi://pay?pa=a@b&pn=%00x
		upi://pay?pa=a@b&pn=X%4
		upi://pay?pa=a@b&pn=X%
		upi://pay?pa=a@b&pn=x&$long=1&$long=2
		$many
	EOF
	assert_success
	assert_equal "$(jq -c '[.format, .scheme.valid, [.scheme.reasons[].rule], .upi.pn]' <<<"$output" | paste -sd' ')" \
		'["upi",true,[],"X"] ["upi",false,["UPI-text","UPI-pn"],null] ["upi",false,["UPI-text","UPI-pn"],null] ["upi",false,["UPI-text","UPI-pn"],null] ["upi",false,["UPI-once"],"x"] ["upi",true,[],"x"]'
	assert_equal "$(jq -s '.[5].upi_params | length' <<<"$output")" 1002
	# A UPI URI in upper case is still foreign to wpay-order.
	run --separate-stderr wpay-order --buyer u:1001 --amount 1.00 --request-no u1 <<<'{"type":"scan","text":"UPI://PAY?pa=a@b&pn=X"}'
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" foreign_code
	# A wallet's URL as an EMV code's reference: the code is EMV, and ours.
	payload=$(wpay-mkqr cafe01 | jq -r .payload)
	unsigned=$(recrc "${payload%%8923*}63040000")
	code=$(recrc "${unsigned/6007Beijing/6007Beijing$(obj 62 "$(obj 05 'wxp://f2f0abcdefg')")}")
	run --separate-stderr wpay-scanqr --payload <<<"$code"
	assert_equal "$(jq -c '[.format, .emv.valid, .merchant.id, .merchant.reference]' <<<"$output")" '["emv",true,"m:cafe01","wxp://f2f0abcdefg"]'
}

@test "more than 100 data objects in a long payload are refused as size, not written past EMV_MAX_OBJECTS" {
	body=000201010211
	for i in $(seq 1 110); do body+="9903abc"; done
	code=$(recrc "${body}26200016CN.COM.WEIBO.PAY53031565802CN6304FFFF")
	[ ${#code} -gt 512 ]
	run --separate-stderr wpay-scanqr --payload --explain <<<"$code"
	assert_success
	assert_output --partial "more than 100 data objects"
	run --separate-stderr wpay-scanqr --payload <<<"$code"
	assert_equal "$(jq -c '[.emv.valid, .emv.error.category, .emv.error.message]' <<<"$output")" \
		'[false,"size","more than 100 data objects"]'
	run --separate-stderr wpay-order --allow-unsigned --buyer u:1001 --amount 1.00 --request-no o1 <<<"$output"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_code
}
