#!/usr/bin/env bats
# The EXAMPLES of the man pages run as written, in a directory that has
# the files they name.

load helper

# The commands of a page's EXAMPLES section, one per line, continuations joined.
examples_of() {
	sed -n '/^\.Sh EXAMPLES/,/^\.Sh /p' "$1" | awk '
		/^\.Dl / { sub(/^\.Dl /, ""); print; next }
		/^\.Bd -literal/ { lit = 1; next }
		/^\.Ed/ { lit = 0; next }
		lit { print }' | sed 's/\\e/\\/g; s/\\(dq/"/g' | awk '
		/\\$/ { sub(/\\$/, ""); buf = buf $0; next }
		/\|$/ { buf = buf $0 " "; next }
		{ print buf $0; buf = "" }'
}

setup() {
	wpay_setup
	init_ledger
	cd "$BATS_TEST_TMPDIR"
	wpay bind merchant add cafe01 --name "Cafe Lu" --city Beijing --mcc 5814 >/dev/null
	printf '{"sku":"latte","fen":2500}\n{"sku":"mocha","fen":2800}\n' >menu.json
	printf '{"id":"2001","name":"Ann"}\n{"id":"2002","name":"Bo"}\n' >followers.json
	mkdir -p codes
	wpay mkqr cafe01 --format txt -o code.txt >/dev/null
	art_to_pnm P5 code.txt >code.pgm
	cjpeg code.pgm >photo.jpg
}

run_examples() {
	local page=$1 n=0
	while IFS= read -r cmd; do
		[ -n "$cmd" ] || continue
		n=$((n + 1))
		run --separate-stderr bash -c "set -o pipefail; $cmd"
		[ "$status" -eq 0 ] || { echo "example failed ($status): $cmd"; echo "$stderr"; false; }
	done < <(examples_of "$page")
	[ "$n" -gt 0 ]
}

@test "wpay-mkqr(1) EXAMPLES run" {
	run_examples "$BATS_TEST_DIRNAME/../man/wpay-mkqr.1"
	[ -s counter.png ] && [ -s order_1.png ] && [ -s codes/latte.png ] && [ -s codes/mocha.png ]
}

@test "wpay-scanqr(1) EXAMPLES run" {
	wpay mkqr cafe01 --amount 1.00 --reference x -o codes/x.png >/dev/null
	run_examples "$BATS_TEST_DIRNAME/../man/wpay-scanqr.1"
}

@test "wpay-bind(1) EXAMPLES run" {
	sqlite3 "$WPAY_DB" "DELETE FROM accounts WHERE owner = 'm:cafe01'; DELETE FROM merchants"
	run_examples "$BATS_TEST_DIRNAME/../man/wpay-bind.1"
	assert_equal "$(wc -l <users.jsonl)" 2
	assert_ledger_ok
}

@test "wpay-init(1) and wpay-check(1) EXAMPLES run" {
	run_examples "$BATS_TEST_DIRNAME/../man/wpay-init.1"
	[ -s wpay-platform.pem ]
	mail() { :; }
	export -f mail
	run_examples "$BATS_TEST_DIRNAME/../man/wpay-check.1"
}

@test "wpay-settle(1) EXAMPLES run" {
	printf 'out_trade_no,amount,status\n' >ours.csv
	run_examples "$BATS_TEST_DIRNAME/../man/wpay-settle.1"
	[ -s "payouts/payouts-$(TZ=Asia/Shanghai date +%F).csv" ]
}

@test "wpay-notify(1) EXAMPLES run, against a notification really sent" {
	mkdir srv
	python3 "$BATS_TEST_DIRNAME/lib/webhook_server.py" srv &
	server=$!
	while [ ! -s srv/port ]; do sleep 0.05; done
	wpay init --allow-private-notify >/dev/null # the endpoint is on 127.0.0.1
	wpay bind merchant update cafe01 --notify-url "http://127.0.0.1:$(cat srv/port)/n" >/dev/null
	buyer_ready 1001
	wpay bind wallet topup u:1001 --amount 10.00 --request-no t1 >/dev/null
	wpay order create cafe01 o1 --amount 1.00 | wpay pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null
	wpay notify --once >/dev/null
	kill $server
	jq -j .body srv/requests >body
	ts=$(jq -r '.headers["wpay-timestamp"]' srv/requests)
	sig=$(jq -r '.headers["wpay-signature"]' srv/requests)
	export ts sig
	cp "$WPAY_KEYS/webhook-cafe01.key" .
	run_examples "$BATS_TEST_DIRNAME/../man/wpay-notify.1"
	want=$(printf '%s.' "$ts" | cat - body | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(cat webhook-cafe01.key)")
	assert_equal "sha256=${want##* }" "$sig"
}
