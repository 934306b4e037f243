#!/usr/bin/env bats
# A whole loop with every program under valgrind: no memory error, no leak.
# Skipped without valgrind, and in the sanitizer build (the two do not mix).

load helper

vg() {
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--suppressions="$BATS_TEST_DIRNAME/valgrind.supp" \
		--show-leak-kinds=definite,indirect "$@"
}

@test "the whole loop under valgrind: no memory error and no leak in any program" {
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	[[ "$WPAY_TEST_BIN" != */san/* ]] || skip "the sanitizer build runs under ASan instead"
	cd "$BATS_TEST_TMPDIR"
	mkdir srv
	python3 "$BATS_TEST_DIRNAME/lib/webhook_server.py" srv &
	server=$!
	while [ ! -s srv/port ]; do sleep 0.05; done
	export WPAY_NOW=2026-11-22T08:00:00Z
	vg wpay-init --allow-private-notify >/dev/null # the endpoint is on 127.0.0.1
	vg wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing --bank-account 6222000011112222 \
		--notify-url "http://127.0.0.1:$(cat srv/port)/n" >/dev/null
	vg wpay-bind merchant approve cafe01 >/dev/null
	printf '{"type":"user","op":"add","uid":"1001","nickname":"Lu"}\n{"type":"wallet","op":"add","login":"lu@example.com"}\n{"type":"user","op":"bind","uid":"1001","wallet":"lu@example.com"}\n' |
		vg wpay-bind >/dev/null
	vg wpay-bind card add u:1001 --pan-fd 3 3<<<4111111111111111 >/dev/null
	vg wpay-bind pin set u:1001 --pin-fd 3 3<<<135790 >/dev/null
	vg wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
	vg wpay-mkqr cafe01 --amount 25.00 --reference q1 -o code.png >/dev/null
	vg wpay-scanqr code.png >scan.jsonl
	# Payload lines on every core, and a blank photo that takes every look (threads both).
	{ jq -r .text scan.jsonl; echo; echo "not a code"; jq -r .text scan.jsonl; } | vg wpay-scanqr --payload >lines.jsonl
	assert_equal "$(jq -r .line lines.jsonl | paste -sd,)" "1,3,4"
	{ printf 'P5\n64 64\n255\n'; head -c 4096 /dev/zero | tr '\0' '\377'; } >blank.pgm
	vg wpay-scanqr blank.pgm >/dev/null 2>&1 || [ $? -eq 1 ]
	vg wpay-order --buyer u:1001 <scan.jsonl >order.jsonl
	vg wpay-pay --buyer u:1001 --pin-fd 3 --follow --share 3<<<135790 <order.jsonl >pay.jsonl
	assert_equal "$(jq -r .type pay.jsonl)" payment
	vg wpay-refund cafe01 q1 r1 --amount 5.00 >/dev/null
	vg wpay-order expire >/dev/null
	export WPAY_NOW=2026-12-10T02:00:00Z
	vg wpay-settle --out payouts >settle.jsonl
	assert_equal "$(jq -r .payout settle.jsonl)" $((2500 - 15 - 500 + 3))
	printf 'out_trade_no,amount,status\nq1,25.00,paid\n' >ours.csv
	vg wpay-settle --reconcile ours.csv --merchant cafe01 >/dev/null
	vg wpay-notify --once >notify.jsonl
	kill $server
	assert_equal "$(jq -r .result notify.jsonl | sort -u)" delivered
	vg wpay-notify --verify --secret-file "$WPAY_KEYS/webhook-cafe01.key" --timestamp 1 --signature x \
		--tolerance 0 </dev/null >/dev/null || [ $? -eq 1 ]
	vg wpay-check >check.json
	assert_equal "$(jq -r .ok check.json)" true
	# everything the loop printed, and a line that is no record, for a person
	{ cat scan.jsonl order.jsonl pay.jsonl settle.jsonl notify.jsonl check.json; printf 'not a \033[2Jrecord\n'; } |
		vg wpay-fmt --color always >fmt.txt
	grep -q '^  payment ' fmt.txt
}
