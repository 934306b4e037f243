#!/usr/bin/env bats
# Scheme-aware reading (issue 14): each scheme's own rules beyond EMV's
# (lib/schemes.tsv), the codes that are not EMV (UPI, WeChat Pay, Alipay,
# UnionPay URLs), what wpay-order refuses, and --public-key.

load helper

setup() {
	wpay_setup
	init_ledger
	export WPAY_NOW=2026-11-22T08:00:00Z
	wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing >/dev/null
	wpay-bind merchant approve cafe01 >/dev/null
	wpay-bind user add 1001 --nickname Lu >/dev/null
}

vectors=$BATS_TEST_DIRNAME/vectors

# A PIX code from BCB's manual as other projects test it (see tests/vectors/schemes.jsonl).
pix=$(recrc '00020126580014BR.GOV.BCB.PIX0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***6304FFFF')

@test "the conformance vectors: every scheme's valid and invalid payloads come out as their sources say" {
	[ -s "$vectors/schemes.jsonl" ]
	python3 "$vectors/check.py" --vectors "$vectors/schemes.jsonl" --table "$BATS_TEST_DIRNAME/../lib/schemes.tsv"
	jq -r .payload "$vectors/schemes.jsonl" | wpay-scanqr --payload >"$BATS_TEST_TMPDIR/read" || true
	python3 - "$vectors/schemes.jsonl" "$BATS_TEST_TMPDIR/read" <<-'PY'
		import json, sys
		vecs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
		read = [json.loads(l) for l in open(sys.argv[2])]
		assert len(vecs) == len(read), (len(vecs), len(read))
		bad = 0
		for n, (v, r) in enumerate(zip(vecs, read), 1):
		    want = v["expect"]
		    emv_valid = r.get("emv", {}).get("valid")
		    scheme = r.get("scheme") or {}
		    got_rules = sorted(x["rule"] for x in scheme.get("reasons", []))
		    problems = []
		    if emv_valid != want["emv_valid"]:
		        problems.append("emv.valid %s" % emv_valid)
		    if want["emv_valid"]:
		        if scheme.get("valid") != want["scheme_valid"]:
		            problems.append("scheme.valid %s" % scheme.get("valid"))
		        if got_rules != sorted(want.get("rules", [])):
		            problems.append("rules %s" % got_rules)
		        if "warnings" in want and sorted(x["rule"] for x in scheme.get("warnings", [])) != sorted(want["warnings"]):
		            problems.append("warnings %s" % scheme.get("warnings"))
		        if v["scheme"] not in r.get("schemes", []):
		            problems.append("schemes %s" % r.get("schemes"))
		    if problems:
		        bad += 1
		        print("vector %d (%s, %s): %s" % (n, v["scheme"], v.get("note", ""), "; ".join(problems)))
		print("%d vectors, %d wrong" % (len(vecs), bad))
		assert bad == 0
	PY
}

@test "wpay-scanqr(1)'s SCHEMES section is the table's: every scheme, rule and source" {
	root=$BATS_TEST_DIRNAME/..
	python3 "$root/tests/lib/schemes-man.py" "$root/lib/schemes.tsv" >"$BATS_TEST_TMPDIR/want"
	python3 - "$BATS_TEST_TMPDIR/want" "$root/man/wpay-scanqr.1" <<-'PY'
		import sys
		want, page = open(sys.argv[1]).read(), open(sys.argv[2]).read()
		assert want in page, "run: python3 tests/lib/schemes-man.py lib/schemes.tsv --update man/wpay-scanqr.1"
	PY
}

@test "PIX without its Merchant City: valid EMV, invalid PIX, and why, with the rule's source" {
	nocity=$(recrc "${pix/6008BRASILIA/}")
	run --separate-stderr wpay-scanqr --payload <<<"$nocity"
	assert_success
	assert_equal "$(jq -c '[.emv.valid, .emv.warnings, .scheme.valid, .scheme.checked, [.scheme.reasons[].rule]]' <<<"$output")" \
		'[true,["60 missing"],false,["PIX"],["PIX-60"]]'
	[[ $(jq -r '.scheme.reasons[0].message' <<<"$output") == "PIX: "*"(60)"*"(absent)" ]]
	[ -n "$(jq -r '.scheme.reasons[0].source' <<<"$output")" ]
	run --separate-stderr wpay-scanqr --payload --explain <<<"$nocity"
	assert_output --partial "PIX-60"
	run --separate-stderr wpay-scanqr --payload <<<"$pix"
	assert_equal "$(jq -c '[.emv.valid, .scheme.valid, .schemes]' <<<"$output")" '[true,true,["PIX"]]'
}

@test "PromptPay omits 52, 59 and 60 and is valid for its scheme; EMV's warnings stay" {
	pp=$(recrc '00020101021129370016A000000677010111011300669999999995802TH53037646304FFFF')
	run --separate-stderr wpay-scanqr --payload <<<"$pp"
	assert_equal "$(jq -c '[.emv.valid, .emv.warnings, .scheme.valid, .schemes]' <<<"$output")" \
		'[true,["52 missing","59 missing","60 missing"],true,["PromptPay"]]'
}

@test "KHQR without Merchant Name or City is invalid for KHQR" {
	kh=$(recrc '00020101021129180014test_khqr@abcd5204599953031165802KH5906Dara S6010Phnom Penh6304FFFF')
	run --separate-stderr wpay-scanqr --payload <<<"$kh"
	assert_equal "$(jq -c '[.emv.valid, .scheme.valid, .schemes]' <<<"$output")" '[true,true,["KHQR"]]'
	run --separate-stderr wpay-scanqr --payload <<<"$(recrc "${kh/5906Dara S/}")"
	assert_equal "$(jq -c '[.emv.valid, .scheme.valid, [.scheme.reasons[].rule]]' <<<"$output")" '[true,false,["KHQR-59"]]'
	run --separate-stderr wpay-scanqr --payload <<<"$(recrc "${kh/6010Phnom Penh/}")"
	assert_equal "$(jq -c '[.emv.valid, .scheme.valid, [.scheme.reasons[].rule]]' <<<"$output")" '[true,false,["KHQR-60"]]'
}

@test "wpay's own codes keep wpay's rules; wpay-order refuses a code that breaks a scheme's rule" {
	wpay-mkqr cafe01 >/dev/null
	payload=$(wpay-mkqr cafe01 | jq -r .payload)
	run --separate-stderr wpay-scanqr --payload <<<"$payload"
	assert_equal "$(jq -c '[.scheme.valid, (.scheme.checked | index("wpay") != null)]' <<<"$output")" '[true,true]'
	# Our merchant, and a PIX template beside ours: then it is a PIX code too, in yuan.
	unsigned=$(recrc "${payload%%8923*}63040000")
	both=$(recrc "${unsigned/5204/29580014BR.GOV.BCB.PIX0136123e4567-e12b-12d1-a456-4266554400005204}")
	run --separate-stderr wpay-scanqr --payload <<<"$both"
	assert_equal "$(jq -c '[.emv.valid, .scheme.valid, (.schemes | index("PIX") != null)]' <<<"$output")" '[true,false,true]'
	before=$(ledger_digest)
	run --separate-stderr wpay-order --allow-unsigned --buyer u:1001 --amount 1.00 --request-no s1 <<<"$output"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" scheme_rule
	[[ $stderr == "wpay-order: the code breaks a rule of PIX: "* ]]
	assert_equal "$(ledger_digest)" "$before"
}

@test "wpay-order on another scheme's code says whose it is, not a CRC error" {
	before=$(ledger_digest)
	for code in "$pix" 'wxp://f2f0abcdefg' 'https://wx.tenpay.com/f2f?t=AQAAABxx' 'https://qr.alipay.com/fkx12345abcde' \
		'https://qr.95516.com/00010000/01234567890123' 'upi://pay?pa=shop@upi&pn=Chai&am=10.00&cu=INR'; do
		run --separate-stderr wpay-order --buyer u:1001 --amount 1.00 --request-no f1 <<<"$(wpay-scanqr --payload <<<"$code")"
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" foreign_code
		[[ $stderr == *"this ledger serves"*"wpay, alipay, wechat"* ]]
		[[ $stderr != *CRC* ]]
	done
	run --separate-stderr wpay-order --buyer u:1001 --amount 1.00 --request-no f1 <<<'{"type":"scan","text":"wxp://f2f0abcdefg"}'
	assert_equal "$stderr" "wpay-order: this is a WeChat Pay code, paid only in WeChat Pay; this ledger serves EMV codes of wpay, alipay, wechat (<stdin>:1)"
	run --separate-stderr wpay-order --buyer u:1001 --amount 1.00 --request-no f1 <<<"{\"type\":\"scan\",\"text\":\"$pix\"}"
	assert_equal "$stderr" "wpay-order: this is a PIX code: this ledger serves wpay, alipay, wechat, not PIX (<stdin>:1)"
	run --separate-stderr wpay-order --buyer u:1001 --amount 1.00 --request-no f1 <<<'{"type":"scan","text":"https://example.com/menu"}'
	assert_equal "$(jq -r .code <<<"$output")" bad_code
	assert_equal "$stderr" "wpay-order: not a payment code: it is a web address, not an EMV payload (<stdin>:1)"
	assert_equal "$(ledger_digest)" "$before"
}

@test "wallet URLs are recognised for what they are" {
	run --separate-stderr wpay-scanqr --payload <<-EOF
		wxp://f2f0abcdefg
		https://wx.tenpay.com/f2f?t=AQAAABxx
		weixin://wxpay/bizpayurl?pr=abc
		https://qr.alipay.com/fkx12345abcde
		alipays://platformapi/startapp?appId=20000067
		https://qr.95516.com/00010000/01234567890123
		https://example.com/menu
	EOF
	assert_success
	assert_equal "$(jq -c '[.format, (.schemes // [] | join(","))]' <<<"$output" | paste -sd' ')" \
		'["wechat","WeChat Pay"] ["wechat","WeChat Pay"] ["wechat","WeChat Pay"] ["alipay","Alipay"] ["alipay","Alipay"] ["unionpay","UnionPay"] ["url",""]'
}

@test "UPI: every parameter named, the amount and currency checked" {
	run --separate-stderr wpay-scanqr --payload <<<'upi://pay?pa=shop%40upi&pn=Chai%20Shop&mc=5814&tr=ord42&tn=2%20teas&am=10.50&cu=INR&zz=1'
	assert_success
	assert_equal "$(jq -c '[.format, .schemes, .scheme.valid, .merchant]' <<<"$output")" \
		'["upi",["UPI"],true,{"name":"Chai Shop","mcc":"5814","currency":"INR","amount":1050,"reference":"ord42"}]'
	assert_equal "$(jq -r '.upi_params[] | "\(.param)=\(.name)"' <<<"$output" | paste -sd,)" \
		'pa=payee address (VPA),pn=payee name,mc=merchant category code,tr=transaction reference (order or bill id),tn=transaction note,am=amount,cu=currency,zz=not in NPCI'"'"'s specification'
	run --separate-stderr wpay-scanqr --payload <<-'EOF'
		upi://pay?pn=Chai&am=10.001&cu=USD
		upi://pay?pa=shop&pn=Chai&am=-5
		upi://pay?pa=a@b&pn=Chai&am=0&mc=58
		upi://pay?pa=a@b&pn=Chai&pn=Other
		upi://pay?pa=a@b&pn=%00x
	EOF
	assert_success
	assert_equal "$(jq -c '[.scheme.valid, [.scheme.reasons[].rule]]' <<<"$output" | paste -sd' ')" \
		'[false,["UPI-pa","UPI-cu","UPI-am"]] [false,["UPI-pa-form","UPI-am"]] [false,["UPI-mc","UPI-am"]] [false,["UPI-once"]] [false,["UPI-text","UPI-pn"]]'
	run --separate-stderr wpay-scanqr --payload --explain <<<'upi://pay?pa=shop%40upi&pn=Chai&cu=USD'
	assert_output --partial "pa payee address (VPA): shop@upi"
	assert_output --partial "UPI-cu"
	# Names are one whatever their case (a wallet reading PA= as pa= must not
	# meet a payee the check did not); a name must be there; no '?' is no parameter.
	run --separate-stderr wpay-scanqr --payload <<-'EOF'
		upi://pay?pa=a@b&pn=Chai&PA=thief@bank
		upi://pay?=x&pa=a@b&pn=Chai
		upi://pay
		upi://pay?pa=a@b&pn=Chai&cu=USD
	EOF
	assert_equal "$(jq -c '[.format, [.scheme.reasons[].rule], .merchant.currency]' <<<"$output" | paste -sd' ')" \
		'["upi",["UPI-once"],"INR"] ["upi",["UPI-text"],"INR"] ["upi",["UPI-pa","UPI-pn"],"INR"] ["upi",["UPI-cu"],"USD"]'
}

@test "a code this ledger pays keeps wpay's rules whichever of its networks' templates names the merchant" {
	alipay_only=$(recrc '00020101021127240010COM.ALIPAY0106cafe015204581453031565802CN6304FFFF')
	run --separate-stderr wpay-scanqr --payload <<<"$alipay_only"
	assert_equal "$(jq -c '[.emv.valid, .schemes, .scheme.valid, [.scheme.reasons[].rule]]' <<<"$output")" \
		'[true,["Alipay","wpay"],false,["wpay-59","wpay-60"]]'
	before=$(ledger_digest)
	run --separate-stderr wpay-order --allow-unsigned --buyer u:1001 --amount 1.00 --request-no a1 <<<"$output"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" scheme_rule
	[[ $stderr == "wpay-order: the code breaks a rule of wpay: Merchant Name (59) is mandatory (absent;"* ]]
	assert_equal "$(ledger_digest)" "$before"
	# With its name and city it is paid.
	named=$(recrc '00020101021127240010COM.ALIPAY0106cafe015204581453031565802CN5907Cafe Lu6007Beijing6304FFFF')
	run --separate-stderr wpay-order --allow-unsigned --buyer u:1001 --amount 1.00 --request-no a2 <<<"$(wpay-scanqr --payload <<<"$named")"
	assert_success
	assert_equal "$(jq -r .merchant <<<"$output")" m:cafe01
}

@test "a payload past EMV's 512 characters is read with a size warning; wpay-order refuses it" {
	# Many merchant account templates, as SGQR's specification shows: 26-45, 26 characters each.
	body=000201010211
	for i in $(seq 26 45); do body+="${i}220010SG.EXAMPLE0104A${i}X"; done
	body+='52045812530370254031005802SG5907Cafe Lu6009Singapore6304'
	payload=$(recrc "${body}FFFF")
	[ ${#payload} -gt 512 ]
	run --separate-stderr wpay-scanqr --payload <<<"$payload"
	assert_success
	assert_equal "$(jq -c '[.emv.valid, .emv.warnings[0], .checks.crc, (.emv.objects | length)]' <<<"$output")" \
		"[true,\"size: ${#payload} characters, EMV allows 512\",\"ok\",29]"
	run --separate-stderr wpay-scanqr --payload --explain <<<"$payload"
	assert_output --partial "size: ${#payload} characters"
	before=$(ledger_digest)
	run --separate-stderr wpay-order --buyer u:1001 --amount 1.00 --request-no l1 <<<"$(wpay-scanqr --payload <<<"$payload")"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_code
	assert_equal "$stderr" "wpay-order: the code is ${#payload} characters, longer than EMV's 512; refusing it (<stdin>:1)"
	assert_equal "$(ledger_digest)" "$before"
}

@test "--public-key: a signed code checked against a key given by hand, with no key directory" {
	payload=$(wpay-mkqr cafe01 | jq -r .payload)
	pub=$(ls "$WPAY_KEYS"/signing-*.pub)
	cp "$pub" "$BATS_TEST_TMPDIR/platform.pub"
	WPAY_KEYS=$BATS_TEST_TMPDIR/none run --separate-stderr wpay-scanqr --payload --public-key "$BATS_TEST_TMPDIR/platform.pub" <<<"$payload"
	assert_success
	assert_equal "$(jq -r .checks.signature <<<"$output")" valid
	openssl genpkey -algorithm ed25519 -out "$BATS_TEST_TMPDIR/other.key" 2>/dev/null
	openssl pkey -in "$BATS_TEST_TMPDIR/other.key" -pubout -out "$BATS_TEST_TMPDIR/other.pub" 2>/dev/null
	run --separate-stderr wpay-scanqr --payload --public-key "$BATS_TEST_TMPDIR/other.pub" <<<"$payload"
	assert_equal "$(jq -r .checks.signature <<<"$output")" unknown_key
	[[ $(jq -r .checks.signature_problem <<<"$output") == "the code is signed by key "*"; the key given is "* ]]
	# The key's id is its own: a key renamed to the code's key id is still not that key.
	kid=$(jq -r .checks.key_id <<<"$output")
	cp "$BATS_TEST_TMPDIR/other.pub" "$BATS_TEST_TMPDIR/signing-$kid.pub"
	run --separate-stderr wpay-scanqr --payload --public-key "$BATS_TEST_TMPDIR/signing-$kid.pub" <<<"$payload"
	assert_equal "$(jq -r .checks.signature <<<"$output")" unknown_key
	# A changed code fails under the right key.
	changed=$(recrc "${payload/Cafe Lu/Cafe Lo}")
	run --separate-stderr wpay-scanqr --payload --public-key "$BATS_TEST_TMPDIR/platform.pub" <<<"$changed"
	assert_equal "$(jq -r .checks.signature <<<"$output")" invalid
	run --separate-stderr wpay-scanqr --payload --public-key "$BATS_TEST_TMPDIR/nope.pub" <<<"$payload"
	assert_failure 64
	assert_equal "$stderr" "wpay-scanqr: cannot open the public key $BATS_TEST_TMPDIR/nope.pub: No such file or directory"
	run --separate-stderr wpay-scanqr --payload --public-key "$BATS_TEST_TMPDIR/other.key" <<<"$payload"
	assert_failure 65
	[[ $stderr == *"is not an Ed25519 public key in PEM"* ]]
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	run --separate-stderr timeout 5 wpay-scanqr --payload --public-key "$BATS_TEST_TMPDIR/fifo" <<<"$payload"
	assert_failure 64
	[[ $stderr == *"is not a regular file"* ]]
}

@test "white space or a byte-order mark before a code keeps it what it is, and the repair says so" {
	payload=$(wpay-mkqr cafe01 | jq -r .payload)
	run --separate-stderr wpay-scanqr --payload < <(printf '  %s\n\xef\xbb\xbf%s\n' "$payload" "$payload")
	assert_equal "$(jq -c '[.format, .emv.valid, [.emv.repairs[].kind], (.emv.repairs[0].payload == "'"$payload"'")]' <<<"$output" | paste -sd' ')" \
		'["emv",false,["strip-whitespace"],true] ["emv",false,["strip-whitespace"],true]'
	run --separate-stderr wpay-scanqr --payload <<<'  wxp://f2f0abc'
	assert_equal "$(jq -r .format <<<"$output")" wechat
}

@test "wpay-mkqr never makes a code wpay-order would refuse: a network configured with a scheme's GUI brings its rules" {
	printf 'wpay\t26\tCN.COM.WEIBO.PAY\tWeibo Pay\npix\t29\tBR.GOV.BCB.PIX\tPIX, as a network\n' >"$BATS_TEST_TMPDIR/networks.tsv"
	export WPAY_NETWORKS=$BATS_TEST_TMPDIR/networks.tsv
	before=$(ledger_digest)
	run --separate-stderr wpay-mkqr cafe01 --amount 5.00 --reference r1
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" scheme_rule
	[[ $stderr == "wpay-mkqr: the code would break a rule of PIX: "*"; change the merchant or the networks"* ]]
	assert_equal "$(ledger_digest)" "$before"
	# Without that network the same merchant's code is made, and wpay-order takes it.
	unset WPAY_NETWORKS
	run --separate-stderr wpay-mkqr cafe01 --amount 5.00 --reference r1
	assert_success
	run --separate-stderr wpay-order --buyer u:1001 <<<"$(wpay-scanqr --payload <<<"$(jq -r .payload <<<"$output")")"
	assert_success
	assert_equal "$(jq -r .out_trade_no <<<"$output")" r1
}
