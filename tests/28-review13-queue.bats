#!/usr/bin/env bats
# Review of issue 13's queue: a notifier whose claim lapsed while it was
# still sending (16 claims sent one after another, 20 s each, outlive the
# 80 s lease) writes its late answer over what the notifier that took the
# claim over recorded. Fails until events_record checks its claim.

load helper

setup() {
	wpay_setup
	wpay-init --allow-private-notify >/dev/null
	export WPAY_NOW=2026-11-22T08:00:00Z
	webhook_start
	wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing --notify-url "$url" >/dev/null
	approve_quietly cafe01
	buyer_ready 1001
	wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
	wpay-order create cafe01 o1 --amount 1.00 | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null
}

teardown() {
	[ -z "${slow:-}" ] || kill "$slow" 2>/dev/null || true
	kill "$(cat "$srv/pid")" 2>/dev/null || true
	wpay_teardown
}

@test "review: a notifier whose claim lapsed does not turn a delivered event back into pending" {
	echo 2 >"$srv/delay"
	printf '200\n500\n' >"$srv/statuses"
	# A: claims at 08:00:00 (lease to 08:01:20) and hangs on a slow answer.
	wpay-notify --once --schedule 1m >/dev/null 2>&1 &
	slow=$!
	for _ in $(seq 100); do [ -s "$srv/started" ] && break; sleep 0.05; done
	rm "$srv/delay"
	# B: 100 s later the claim has lapsed; B takes it and delivers it.
	WPAY_NOW=2026-11-22T08:01:40Z run wpay-notify --once --schedule 1m
	assert_success
	assert_equal "$(wpay-notify list | jq -r .state)" delivered
	wait "$slow" || true
	slow=
	# A's late 500 must not undo B's delivery (nor schedule a third send).
	assert_equal "$(wpay-notify list | jq -r .state)" delivered
}
