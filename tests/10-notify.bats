#!/usr/bin/env bats
# wpay-notify: signed delivery to a real HTTP server on 127.0.0.1 that the
# test starts (on a ledger that allows it), the retry schedule on the test
# clock, giving up, two notifiers at once, --verify, and the addresses a
# notification may not go to.

load helper

setup() {
	wpay_setup
	# The endpoint is on 127.0.0.1: allowed only on purpose (see netaddr.h).
	wpay-init --allow-private-notify >/dev/null
	export WPAY_NOW=2026-11-22T08:00:00Z
	webhook_start
	wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing --notify-url "$url" >/dev/null
	approve_quietly cafe01
	buyer_ready 1001
	wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
}

teardown() {
	kill "$(cat "$srv/pid")" 2>/dev/null || true
	wpay_teardown
}

pay() { # pay OUT_TRADE_NO AMOUNT
	wpay-order create cafe01 "$1" --amount "$2" | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null
}

@test "a paid order is delivered once, signed with the merchant's secret, and a run with nothing due is quiet" {
	pay o1 25.00
	run --separate-stderr wpay-notify --once
	assert_success
	assert_equal "$(jq -c '[.result, .status, .attempt]' <<<"$output")" '["delivered",200,1]'
	assert_equal "$(wc -l <"$srv/requests")" 1
	req=$(cat "$srv/requests")
	body=$(jq -r .body <<<"$req")
	ts=$(jq -r '.headers["wpay-timestamp"]' <<<"$req")
	sig=$(jq -r '.headers["wpay-signature"]' <<<"$req")
	assert_equal "$(jq -r .event <<<"$body")" order.paid
	assert_equal "$(jq -r '.headers["wpay-event-id"]' <<<"$req")" "$(jq -r .event_id <<<"$body")"
	assert_equal "$(jq -r .amount <<<"$body")" 2500
	# The signature checks with openssl alone, as wpay-notify(1) shows...
	key=$(cat "$WPAY_KEYS/webhook-cafe01.key")
	want=$(printf '%s.%s' "$ts" "$body" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" | sed 's/^.*= //')
	assert_equal "$sig" "sha256=$want"
	# ...and with --verify, which also refuses a wrong secret, a changed body, an old timestamp.
	run --separate-stderr wpay-notify --verify --secret-file "$WPAY_KEYS/webhook-cafe01.key" --timestamp "$ts" \
		--signature "$sig" <<<"$body"
	assert_failure 1 # <<< adds a newline: the body changed
	printf '%s' "$body" >"$BATS_TEST_TMPDIR/body"
	run --separate-stderr wpay-notify --verify --secret-file "$WPAY_KEYS/webhook-cafe01.key" --timestamp "$ts" \
		--signature "$sig" <"$BATS_TEST_TMPDIR/body"
	assert_success
	assert_equal "$(jq -r .valid <<<"$output")" true
	wpay-bind merchant add other --name Other --city Beijing >/dev/null
	approve_quietly other
	run --separate-stderr wpay-notify --verify --secret-file "$WPAY_KEYS/webhook-other.key" --timestamp "$ts" \
		--signature "$sig" <"$BATS_TEST_TMPDIR/body"
	assert_failure 1
	assert_equal "$(jq -r .valid <<<"$output")" false
	[[ "$(jq -r .reason <<<"$output")" == *"does not match"* ]]
	export WPAY_NOW=2026-11-22T09:00:00Z
	run --separate-stderr wpay-notify --verify --secret-file "$WPAY_KEYS/webhook-cafe01.key" --timestamp "$ts" \
		--signature "$sig" <"$BATS_TEST_TMPDIR/body"
	assert_failure 1
	[[ "$(jq -r .reason <<<"$output")" == *"too far from now"* ]]
	export WPAY_NOW=2026-11-22T08:00:00Z
	run --separate-stderr wpay-notify --once
	assert_success
	assert_output ""
	assert_equal "$(wc -l <"$srv/requests")" 1
}

@test "failures are retried on Alipay's schedule with the same event id, then given up" {
	pay o1 25.00
	printf '500\n503\n404\n500\n500\n500\n500\n500\n' >"$srv/statuses"
	t=$(date -u -d 2026-11-22T08:00:00Z +%s)
	waits=(0 240 600 600 3600 7200 21600 54000)
	# (not $i: bats' run uses it)
	for k in 0 1 2 3 4 5 6 7; do
		t=$((t + waits[k]))
		# Just before it is due, nothing is sent.
		export WPAY_NOW=$(date -u -d "@$((t - 1))" +%Y-%m-%dT%H:%M:%SZ)
		run --separate-stderr wpay-notify --once
		assert_output ""
		export WPAY_NOW=$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ)
		run --separate-stderr wpay-notify --once
		assert_equal "$(jq -r .attempt <<<"$output")" $((k + 1))
		if [ "$k" -lt 7 ]; then
			assert_success
			assert_equal "$(jq -r .result <<<"$output")" retry
		else
			assert_failure 1
			assert_equal "$(jq -r .result <<<"$output")" failed
			[[ "$stderr" == *"gave up"* ]]
		fi
	done
	assert_equal "$(jq -r '.headers["wpay-event-id"]' "$srv/requests" | sort -u | wc -l)" 1
	assert_equal "$(wc -l <"$srv/requests")" 8
	export WPAY_NOW=2026-12-30T00:00:00Z
	run --separate-stderr wpay-notify --once
	assert_success
	assert_output ""
}

@test "no answer is a failure to retry; refunds and settlements are delivered too" {
	pay o1 25.00
	wpay-refund cafe01 o1 r1 --amount 5.00 >/dev/null
	kill "$(cat "$srv/pid")"
	wait "$(cat "$srv/pid")" 2>/dev/null || true
	run --separate-stderr wpay-notify --once --connect-timeout 1s --timeout 2s
	assert_success
	assert_equal "$(jq -sc 'map([.result, .status])' <<<"$output")" '[["retry",null],["retry",null]]'
	assert_equal "$(jq -sr '.[0].error' <<<"$output" | grep -c .)" 1
	python3 "$BATS_TEST_DIRNAME/lib/webhook_server.py" "$srv" &
	echo $! >"$srv/pid"
	rm -f "$srv/port"
	for _ in $(seq 100); do [ -s "$srv/port" ] && break; sleep 0.05; done
	wpay-bind merchant update cafe01 --notify-url "http://127.0.0.1:$(cat "$srv/port")/hook" >/dev/null
	export WPAY_NOW=2026-12-10T01:00:00Z
	wpay-settle >/dev/null
	run --separate-stderr wpay-notify --once
	assert_success
	assert_equal "$(jq -sc 'map(.result) | unique' <<<"$output")" '["delivered"]'
	assert_equal "$(jq -r .body "$srv/requests" | jq -sc 'map(.event)')" '["order.paid","order.refunded","settlement.done"]'
}

# Issue 10, SSRF: the URL's text passes for a name, so the address is
# checked where curl connects: 'localhost' (or a name an attacker's DNS
# points at 127.0.0.1 after the check) is refused there, with one message
# whatever the port, so no error tells an open port from a closed one.
@test "without --allow-private-notify a name that resolves to 127.0.0.1 is refused at connect time, one message for any port" {
	WPAY_DB=$(new_ledger strict)
	export WPAY_DB
	wpay-init >/dev/null
	port=$(cat "$srv/port")
	wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing --notify-url "http://localhost:$port/hook" >/dev/null
	approve_quietly cafe01
	wpay-bind merchant add shop02 --name "Shop Two" --city Beijing --notify-url "http://localhost:1/hook" >/dev/null
	approve_quietly shop02
	wpay-bind merchant add shop03 --name "Shop Three" --city Beijing --notify-url "http://example.invalid/hook" >/dev/null
	approve_quietly shop03
	buyer_ready 1001
	wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
	for m in cafe01 shop02 shop03; do
		wpay-order create $m o1 --amount 1.00 | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null
	done
	# A URL stored before the rule, by address: refused the same way.
	db_sql "UPDATE merchants SET notify_url = 'http://127.0.0.1:$port/hook' WHERE id = 'shop03'"
	run --separate-stderr wpay-notify --once
	assert_success
	assert_equal "$(jq -sc 'map([.merchant, .result, .status]) | sort' <<<"$output")" \
		'[["m:cafe01","retry",null],["m:shop02","retry",null],["m:shop03","retry",null]]'
	assert_equal "$(jq -r .error <<<"$output" | sort -u)" \
		"the notify URL leads to a loopback, private, link-local or other non-public address, where notifications do not go; use a public URL (or allow such addresses with 'wpay init --allow-private-notify')"
	[ ! -e "$srv/requests" ]
	assert_equal "$(db_sql 'SELECT DISTINCT last_error FROM events')" "$(jq -r .error <<<"${lines[0]}")"
	# Allowed, the same events are delivered.
	wpay-init --allow-private-notify >/dev/null
	export WPAY_NOW=2026-11-22T08:05:00Z
	run --separate-stderr wpay-notify --once
	assert_equal "$(jq -sc 'map([.merchant, .result]) | sort' <<<"$output")" \
		'[["m:cafe01","delivered"],["m:shop02","retry"],["m:shop03","delivered"]]'
	assert_equal "$(wc -l <"$srv/requests")" 2
}

@test "TLS is verified: a merchant's self-signed certificate is refused" {
	tls="$BATS_TEST_TMPDIR/tls"
	mkdir -p "$tls"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/key.pem" -out "$tls/cert.pem" -days 1 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
	cat "$tls/key.pem" "$tls/cert.pem" >"$tls/both.pem"
	python3 "$BATS_TEST_DIRNAME/lib/webhook_server.py" "$tls" "$tls/both.pem" &
	echo $! >"$tls/pid"
	for _ in $(seq 100); do [ -s "$tls/port" ] && break; sleep 0.05; done
	wpay-bind merchant update cafe01 --notify-url "https://127.0.0.1:$(cat "$tls/port")/hook" >/dev/null
	pay o1 25.00
	run --separate-stderr wpay-notify --once
	kill "$(cat "$tls/pid")"
	assert_success
	assert_equal "$(jq -c '[.result, .status]' <<<"$output")" '["retry",null]'
	[[ "$(jq -r .error <<<"$output")" == *"certificate"* ]]
	[ ! -e "$tls/requests" ]
}

@test "two notifiers at once never send the same attempt twice" {
	for i in $(seq 40); do pay "o$i" 1.00; done
	wpay-notify --once >"$BATS_TEST_TMPDIR/a" &
	a=$!
	wpay-notify --once >"$BATS_TEST_TMPDIR/b" &
	b=$!
	wait $a
	wait $b
	assert_equal "$(cat "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b" | wc -l)" 40
	assert_equal "$(jq -r '.headers["wpay-event-id"]' "$srv/requests" | sort | uniq -d | wc -l)" 0
	assert_equal "$(wc -l <"$srv/requests")" 40
	assert_equal "$(db_sql "SELECT count(*) FROM event_attempts")" 40
}

@test "bad usage and a missing secret are refused" {
	run --separate-stderr wpay-notify
	assert_failure 64
	run --separate-stderr wpay-notify --once --loop
	assert_failure 64
	run --separate-stderr wpay-notify --once --schedule 4m,soon
	assert_failure 64
	run --separate-stderr wpay-notify --verify --timestamp 1
	assert_failure 64
	run --separate-stderr wpay-notify --verify --secret-file "$BATS_TEST_TMPDIR/none" --timestamp 1 --signature x </dev/null
	assert_failure 66
	chmod 0644 "$WPAY_KEYS/webhook-cafe01.key"
	run --separate-stderr wpay-notify --verify --secret-file "$WPAY_KEYS/webhook-cafe01.key" --timestamp 1 \
		--signature x </dev/null
	assert_failure 77
}

@test "events of a merchant with no notify URL wait until it has one" {
	wpay-bind merchant add shop02 --name "Shop Two" --city Beijing >/dev/null
	approve_quietly shop02
	wpay-order create shop02 o1 --amount 2.00 | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null
	run --separate-stderr wpay-notify --once
	assert_success
	assert_output ""
	wpay-bind merchant update shop02 --notify-url "$url" >/dev/null
	run --separate-stderr wpay-notify --once
	assert_success
	assert_equal "$(jq -r '[.merchant, .result] | join(" ")' <<<"$output")" "m:shop02 delivered"
}
