#!/usr/bin/env bats
# wpay notify list and redeliver: the queue as records, failed events put
# back with a fresh schedule and delivered again under the same id, beside
# a notifier that is running, and every bad input refused.

load helper

setup() {
	wpay_setup
	# The endpoint is on 127.0.0.1: allowed only on purpose (see netaddr.h).
	wpay-init --allow-private-notify >/dev/null
	export WPAY_NOW=2026-11-22T08:00:00Z
	webhook_start
	wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing --notify-url "$url" >/dev/null
	approve_quietly cafe01
	wpay-bind merchant add shop02 --name "Shop Two" --city Beijing --notify-url "$url" >/dev/null
	approve_quietly shop02
	buyer_ready 1001
	wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
}

teardown() {
	[ -z "${loop:-}" ] || kill "$loop" 2>/dev/null || true
	kill "$(cat "$srv/pid")" 2>/dev/null || true
	wpay_teardown
}

pay() { # pay MERCHANT OUT_TRADE_NO AMOUNT
	wpay-order create "$1" "$2" --amount "$3" | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null
}

at() { # at SECONDS_AFTER_08:00: set WPAY_NOW
	WPAY_NOW=$(date -u -d "@$(($(date -u -d 2026-11-22T08:00:00Z +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ)
	export WPAY_NOW
}

# Fail every event due now: two attempts one second apart, both answered 500.
fail_all() { # fail_all N (how many events are due)
	local n=$1
	yes 500 | head -n $((2 * n)) >"$srv/statuses"
	wpay-notify --once --schedule 1s >/dev/null
	at $(($(date -u -d "$WPAY_NOW" +%s) - $(date -u -d 2026-11-22T08:00:00Z +%s) + 1))
	wpay-notify --once --schedule 1s >/dev/null || true
	rm -f "$srv/statuses"
}

@test "list shows each event oldest first with its state, attempts and times, filtered by state, merchant and time" {
	pay cafe01 o1 1.00
	at 60
	pay shop02 o2 2.00
	at 120
	pay cafe01 o3 3.00
	# o1 and o2 delivered; then o3 is answered 503 once: pending, retried in 4m.
	at 130
	printf '200\n200\n503\n' >"$srv/statuses"
	wpay-notify --once >/dev/null
	before=$(ledger_digest)
	run --separate-stderr wpay-notify list
	assert_success
	assert_equal "$(jq -r '[.type, .merchant, .kind, .state, .attempts] | join(" ")' <<<"$output")" \
		"event m:cafe01 order.paid delivered 1
event m:shop02 order.paid delivered 1
event m:cafe01 order.paid pending 1"
	o3=$(sed -n 3p <<<"$output")
	assert_equal "$(jq -c '[.last_status, .last_error, .next_attempt_at, .delivered_at, .created_at]' <<<"$o3")" \
		'[503,null,"2026-11-22T08:06:10Z",null,"2026-11-22T08:02:00Z"]'
	assert_equal "$(jq -r .subject <<<"$o3")" "$(db_sql "SELECT id FROM payments ORDER BY created_at DESC LIMIT 1")"
	assert_equal "$(jq -r .id <<<"$o3")" "evt_$(jq -r .subject <<<"$o3")"
	assert_equal "$(sed -n 1p <<<"$output" | jq -c '[.last_status, .next_attempt_at, .delivered_at]')" \
		'[200,null,"2026-11-22T08:02:10Z"]'
	run --separate-stderr wpay-notify list --pending
	assert_equal "$(jq -r .id <<<"$output")" "$(jq -r .id <<<"$o3")"
	run --separate-stderr wpay-notify list --delivered --merchant cafe01
	assert_equal "$(wc -l <<<"$output")" 1
	run --separate-stderr wpay-notify list --delivered --merchant m:shop02
	assert_equal "$(jq -r .merchant <<<"$output")" m:shop02
	run --separate-stderr wpay-notify list --failed
	assert_success
	assert_output ""
	# --since and --until: half open, RFC 3339 or a bare day in Shanghai.
	run --separate-stderr wpay-notify list --since 2026-11-22T08:01:00Z --until 2026-11-22T08:02:00Z
	assert_equal "$(jq -r .merchant <<<"$output")" m:shop02
	run --separate-stderr wpay-notify list --since 2026-11-22
	assert_equal "$(wc -l <<<"$output")" 3
	run --separate-stderr wpay-notify list --until 2026-11-21
	assert_output ""
	# Nothing was written.
	assert_equal "$(ledger_digest)" "$before"
}

@test "an event in flight shows as pending with its lease, and a notifier's claim counts" {
	pay cafe01 o1 1.00
	echo 3 >"$srv/delay"
	wpay-notify --loop --interval 1s >"$BATS_TEST_TMPDIR/loop.out" &
	loop=$!
	for _ in $(seq 100); do [ -s "$srv/started" ] && break; sleep 0.05; done
	run --separate-stderr wpay-notify list --pending
	assert_success
	assert_equal "$(jq -c '[.state, .attempts, .next_attempt_at, .lease_until]' <<<"$output")" \
		'["sending",1,null,"2026-11-22T08:01:20Z"]'
	kill "$loop"
	wait "$loop" || true
	loop=
}

@test "--limit and --after page the list, in the same order as the whole, even within one second" {
	for k in $(seq 7); do pay cafe01 "o$k" 1.00; done
	wpay-refund cafe01 o1 r1 --amount 0.50 >/dev/null
	wpay-notify list >"$BATS_TEST_TMPDIR/all"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/all")" 8
	: >"$BATS_TEST_TMPDIR/pages"
	after=()
	while :; do
		wpay-notify list --limit 3 "${after[@]}" >"$BATS_TEST_TMPDIR/page"
		[ -s "$BATS_TEST_TMPDIR/page" ] || break
		[ "$(wc -l <"$BATS_TEST_TMPDIR/page")" -le 3 ]
		cat "$BATS_TEST_TMPDIR/page" >>"$BATS_TEST_TMPDIR/pages"
		after=(--after "$(tail -n 1 "$BATS_TEST_TMPDIR/page" | jq -r .id)")
	done
	assert_equal "$(cat "$BATS_TEST_TMPDIR/pages")" "$(cat "$BATS_TEST_TMPDIR/all")"
	# The refund's event is in its place by time, not by its id's kind.
	assert_equal "$(jq -r .kind "$BATS_TEST_TMPDIR/all" | tail -n 1)" order.refunded
}

@test "redeliver puts a failed event back: a fresh schedule, the attempts kept, the same id and body sent" {
	pay cafe01 o1 1.00
	fail_all 1
	run --separate-stderr wpay-notify list --failed
	assert_success
	evt=$(jq -r .id <<<"$output")
	assert_equal "$(jq -c '[.state, .attempts, .attempts_total, .last_status, .next_attempt_at]' <<<"$output")" \
		'["failed",2,2,500,null]'
	first=$(head -n 1 "$srv/requests")
	at 3600
	run --separate-stderr wpay-notify redeliver "$evt"
	assert_success
	assert_equal "$output" \
		"{\"type\":\"redelivery\",\"event\":\"$evt\",\"merchant\":\"m:cafe01\",\"result\":\"queued\",\"state\":\"pending\",\"next_attempt_at\":\"2026-11-22T09:00:00Z\"}"
	run --separate-stderr wpay-notify list
	assert_equal "$(jq -c '[.state, .attempts, .attempts_total, .next_attempt_at]' <<<"$output")" \
		'["pending",0,2,"2026-11-22T09:00:00Z"]'
	# Again: a no-op that says why.
	run --separate-stderr wpay-notify redeliver "$evt"
	assert_success
	assert_equal "$(jq -c '[.result, .state]' <<<"$output")" '["unchanged","pending"]'
	# The schedule starts over: a 503 is retried after the first wait, not given up.
	echo 503 >"$srv/statuses"
	run --separate-stderr wpay-notify --once --schedule 1s
	assert_success
	assert_equal "$(jq -c '[.attempt, .result, .next_attempt_at]' <<<"$output")" '[3,"retry","2026-11-22T09:00:01Z"]'
	at 3601
	run --separate-stderr wpay-notify --once --schedule 1s
	assert_success
	assert_equal "$(jq -c '[.attempt, .result]' <<<"$output")" '[4,"delivered"]'
	# Every delivery carried the same event id, header and body, so a merchant
	# that drops duplicates by id drops these.
	assert_equal "$(wc -l <"$srv/requests")" 4
	assert_equal "$(jq -r '.headers["wpay-event-id"]' "$srv/requests" | sort -u)" "$evt"
	assert_equal "$(jq -r .body "$srv/requests" | sort -u | wc -l)" 1
	assert_equal "$(tail -n 1 "$srv/requests" | jq -r .body)" "$(jq -r .body <<<"$first")"
	assert_equal "$(jq -r .body <<<"$first" | jq -r .event_id)" "$evt"
	# The history of attempts is kept, numbered on.
	assert_equal "$(db_sql "SELECT attempt, status FROM event_attempts WHERE event_id = '$evt' ORDER BY attempt" | tr '\n' ' ')" \
		"1|500 2|500 3|503 4|200 "
	run --separate-stderr wpay-notify redeliver "$evt"
	assert_success
	assert_equal "$(jq -c '[.result, .state]' <<<"$output")" '["unchanged","delivered"]'
	[[ "$(jq -r .reason <<<"$output")" == *delivered* ]]
}

@test "redeliver --merchant --failed puts back that merchant's failed events in the span, once" {
	pay cafe01 o1 1.00
	pay shop02 o2 1.00
	fail_all 2
	at 86400 # 2026-11-23T08:00:00Z, 16:00 in Shanghai
	pay cafe01 o3 1.00
	pay cafe01 o4 1.00
	fail_all 2
	assert_equal "$(wpay-notify list --failed | wc -l)" 4
	run --separate-stderr wpay-notify redeliver --merchant cafe01 --failed --since 2026-11-23
	assert_success
	assert_equal "$(jq -r '[.result, .merchant] | join(" ")' <<<"$output")" "queued m:cafe01
queued m:cafe01"
	assert_equal "$(jq -r .event <<<"$output")" "$(wpay-notify list --pending | jq -r .id)"
	run --separate-stderr wpay-notify redeliver --merchant cafe01 --failed --since 2026-11-23
	assert_success
	assert_output ""
	run --separate-stderr wpay-notify redeliver --merchant cafe01 --failed
	assert_success
	assert_equal "$(wc -l <<<"$output")" 1
	assert_equal "$(wpay-notify list --failed | jq -r .merchant)" m:shop02
	run --separate-stderr wpay-notify --once
	assert_success
	assert_equal "$(jq -r .result <<<"$output" | sort -u)" delivered
	assert_equal "$(wc -l <<<"$output")" 3
}

@test "redeliver beside a running notifier: an event in flight is not touched, a failed one is sent once more" {
	pay cafe01 o1 1.00
	fail_all 1
	failed=$(wpay-notify list --failed | jq -r .id)
	pay cafe01 o2 1.00
	inflight=$(wpay-notify list --pending | jq -r .id)
	rm -f "$srv/started"
	echo 2 >"$srv/delay"
	wpay-notify --loop --interval 1s >"$BATS_TEST_TMPDIR/loop.out" &
	loop=$!
	for _ in $(seq 100); do [ -s "$srv/started" ] && break; sleep 0.05; done
	assert_equal "$(cat "$srv/started")" "$inflight"
	run --separate-stderr wpay-notify redeliver "$inflight" "$failed"
	assert_success
	assert_equal "$(jq -c '[.event, .result, .state]' <<<"$output")" \
		"[\"$inflight\",\"unchanged\",\"sending\"]
[\"$failed\",\"queued\",\"pending\"]"
	rm -f "$srv/delay"
	for _ in $(seq 200); do [ "$(wc -l <"$BATS_TEST_TMPDIR/loop.out")" -ge 2 ] && break; sleep 0.05; done
	kill "$loop"
	wait "$loop" || true
	loop=
	assert_equal "$(jq -r '[.event, .result] | join(" ")' "$BATS_TEST_TMPDIR/loop.out" | sort)" \
		"$(printf '%s delivered\n%s delivered' "$failed" "$inflight" | sort)"
	assert_equal "$(jq -r '.headers["wpay-event-id"]' "$srv/requests" | sort | uniq -c | awk '{print $1}' | tr '\n' ' ')" \
		"$( [ "$failed" \< "$inflight" ] && echo '3 1 ' || echo '1 3 ')"
	assert_equal "$(wpay-notify list --delivered | wc -l)" 2
}

@test "redeliver answers each event: an unknown or malformed id is an error record naming it" {
	pay cafe01 o1 1.00
	fail_all 1
	evt=$(wpay-notify list --failed | jq -r .id)
	before=$(ledger_digest)
	run --separate-stderr wpay-notify redeliver evt_pay_01AAAAAAAAAAAAAAAAAAAAAAAA "pay_x'; DROP TABLE events; --" "$evt"
	assert_failure 1
	assert_equal "$(jq -c '[.type, .code, .event]' <<<"$output")" \
		"[\"error\",\"unknown_event\",\"evt_pay_01AAAAAAAAAAAAAAAAAAAAAAAA\"]
[\"error\",\"bad_id\",\"pay_x'; DROP TABLE events; --\"]
[\"redelivery\",null,\"$evt\"]"
	[[ "$stderr" == *"no event evt_pay_01AAAAAAAAAAAAAAAAAAAAAAAA"* ]]
	assert_equal "$(wpay-notify list | jq -r .state)" pending
	[ "$(ledger_digest)" != "$before" ]
}

@test "bad usage of list and redeliver is refused, and an unknown merchant or event named" {
	pay cafe01 o1 1.00
	evt=$(wpay-notify list | jq -r .id)
	before=$(ledger_digest)
	for args in "list --pending --failed" "list --failed --delivered" "list extra" \
		"list --limit 0" "list --limit -1" "list --limit 99999999999999999999" "list --limit ten" \
		"list --after pay_01AAAAAAAAAAAAAAAAAAAAAAAA" "list --after x" \
		"list --since yesterday" "list --since 2026-02-30" "list --until 2026-11-22T25:00:00Z" \
		"list --since 2026-11-23 --until 2026-11-22" "list --since 2026-11-22 --until 2026-11-22T00:00:00+08:00" \
		"redeliver" "redeliver --failed" "redeliver --merchant cafe01" "redeliver --pending --merchant cafe01" \
		"redeliver --merchant cafe01 --failed $evt" "redeliver $evt --limit 2" "redeliver --merchant cafe01 --failed --since nope" \
		"list --once" "redeliver --loop $evt" "--once --failed" "--once --merchant cafe01" "frobnicate"; do
		# shellcheck disable=SC2086
		run --separate-stderr wpay-notify $args
		[ "$status" -eq 64 ] || { echo "wpay-notify $args: $status $stderr"; false; }
		assert_output ""
	done
	run --separate-stderr wpay-notify list --since 2026-11-23 --until 2026-11-22
	[[ "$stderr" == *"--until"* ]]
	run --separate-stderr wpay-notify list --since 2026-02-30
	[[ "$stderr" == *"2026-02-30"* ]]
	run --separate-stderr wpay-notify list --merchant nosuch
	assert_failure 65
	[[ "$stderr" == *nosuch* ]]
	run --separate-stderr wpay-notify redeliver --merchant nosuch --failed
	assert_failure 65
	run --separate-stderr wpay-notify list --after evt_pay_01AAAAAAAAAAAAAAAAAAAAAAAA
	assert_failure 65
	[[ "$stderr" == *evt_pay_01AAAAAAAAAAAAAAAAAAAAAAAA* ]]
	assert_equal "$(ledger_digest)" "$before"
}

@test "redeliver --merchant --failed answers every one of 1,201 failed events, committed in batches" {
	pay cafe01 o1 1.00
	fail_all 1
	# (Copies of the failed event, put in directly: 1,200 payments would take long.)
	db_sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
		INSERT INTO events (id, merchant_id, kind, subject, body, state, attempts, next_attempt_at, created_at)
		SELECT id || '_' || i, merchant_id, kind, subject || '_' || i, body, state, attempts, next_attempt_at,
		created_at FROM events, n"
	assert_equal "$(wpay-notify list --failed | wc -l)" 1201
	run --separate-stderr wpay-notify redeliver --merchant cafe01 --failed
	assert_success
	assert_equal "$(jq -r '[.type, .result] | join(" ")' <<<"$output" | sort | uniq -c | awk '{$1 = $1; print}')" \
		"1201 redelivery queued"
	assert_equal "$(jq -r .event <<<"$output" | sort -u | wc -l)" 1201
	assert_equal "$(wpay-notify list --failed | wc -l)" 0
	assert_equal "$(wpay-notify list --pending | wc -l)" 1201
}
