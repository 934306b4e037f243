#!/usr/bin/env bats
# Followers and the seller's messages (issue 15): following by paying with
# --follow and by `user follow`, the followers list, unfollowing; messages
# to followers, queued per recipient for the social platform's endpoint
# (a local server here) and signed with the platform's secret; who gets
# none; replays; the daily limits, also under concurrent senders.

load helper

setup() {
	wpay_setup
	wpay-init --allow-private-notify >/dev/null
	export WPAY_NOW=2026-11-22T08:00:00Z
	webhook_start
	wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing --kind enterprise --verified >/dev/null
	wpay-bind merchant add shop02 --name "Shop Two" --city Beijing --kind enterprise --verified >/dev/null
	buyer_ready 1001
	wpay-bind wallet topup u:1001 --amount 100.00 --request-no t1 >/dev/null
	wpay-bind user add 1002 --nickname Mei >/dev/null
	wpay-bind user add 1003 --nickname Bo >/dev/null
}

teardown() {
	kill "$(cat "$srv/pid")" 2>/dev/null || true
	wpay_teardown
}

platform() {
	wpay-init --platform-notify-url "$url" >/dev/null
}

# send MERCHANT TO REQUEST_NO [TEXT]: the message's record in $output.
send() {
	run --separate-stderr wpay-notify message "$1" --to "$2" --request-no "$3" --text "${4-New beans today}"
}

@test "a payment with --follow and 'user follow' make followers, listed oldest first with since" {
	wpay-order create cafe01 o1 --amount 5.00 | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 --follow >/dev/null
	export WPAY_NOW=2026-11-22T09:00:00Z
	run --separate-stderr wpay-bind user follow 1002 cafe01
	assert_success
	assert_equal "$(jq -c '[.type, .buyer, .merchant, .following, .result, .since]' <<<"$output")" \
		'["follow","u:1002","m:cafe01",true,"followed","2026-11-22T09:00:00Z"]'
	# Again: unchanged, and a payer's follow keeps its first date.
	export WPAY_NOW=2026-11-22T10:00:00Z
	run --separate-stderr wpay-bind user follow u:1001 m:cafe01
	assert_equal "$(jq -c '[.result, .since]' <<<"$output")" '["unchanged","2026-11-22T08:00:00Z"]'
	run --separate-stderr wpay-bind merchant followers cafe01
	assert_success
	assert_equal "$(jq -sc 'map([.type, .merchant, .buyer, .nickname, .since])' <<<"$output")" \
		'[["follower","m:cafe01","u:1001","Lu","2026-11-22T08:00:00Z"],["follower","m:cafe01","u:1002","Mei","2026-11-22T09:00:00Z"]]'
	# Paging by the last follower of a page.
	run --separate-stderr wpay-bind merchant followers cafe01 --limit 1
	assert_equal "$(jq -r .buyer <<<"$output")" u:1001
	run --separate-stderr wpay-bind merchant followers cafe01 --limit 1 --after u:1001
	assert_equal "$(jq -r .buyer <<<"$output")" u:1002
	run --separate-stderr wpay-bind merchant followers cafe01 --after u:1002
	assert_success
	assert_output ""
	# Nobody follows shop02: an empty list, not an error.
	run --separate-stderr wpay-bind merchant followers shop02
	assert_success
	assert_output ""
	# As JSON lines too.
	run --separate-stderr wpay-bind <<<'{"type":"merchant","op":"followers","merchant":"cafe01","limit":1}'
	assert_equal "$(jq -r .buyer <<<"$output")" u:1001
}

@test "unfollow says what happened; unfollowing twice is no error; unknown users and merchants are" {
	wpay-bind user follow 1002 cafe01 >/dev/null
	run --separate-stderr wpay-bind user unfollow 1002 cafe01
	assert_success
	assert_equal "$(jq -c '[.following, .result]' <<<"$output")" '[false,"unfollowed"]'
	run --separate-stderr wpay-bind user unfollow 1002 cafe01
	assert_success
	assert_equal "$(jq -c '[.following, .result]' <<<"$output")" '[false,"unchanged"]'
	assert_equal "$(wpay-bind merchant followers cafe01)" ""
	run --separate-stderr wpay-bind user unfollow 9999 cafe01
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" not_found
	run --separate-stderr wpay-bind user follow 1002 nosuch
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" unknown_merchant
	run --separate-stderr wpay-bind user follow '1002;drop' cafe01
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	run --separate-stderr wpay-bind merchant followers nosuch
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" unknown_merchant
	run --separate-stderr wpay-bind user follow 1002
	assert_failure 64
}

@test "followers: bad --limit and --after are refused" {
	wpay-bind user follow 1002 cafe01 >/dev/null
	for bad in 0 -1 1000000001 x 99999999999999999999; do
		run --separate-stderr wpay-bind merchant followers cafe01 --limit "$bad"
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" bad_field
	done
	run --separate-stderr wpay-bind merchant followers cafe01 --limit 1000000000
	assert_success
	# An id of another kind, and a user who does not follow.
	run --separate-stderr wpay-bind merchant followers cafe01 --after ord_01M8149T001DX6RS2Y88FM79BF
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	run --separate-stderr wpay-bind merchant followers cafe01 --after u:1003
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" not_found
	run --separate-stderr wpay-bind <<<'{"type":"merchant","op":"followers","merchant":"cafe01","limit":"1; DROP"}'
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	run --separate-stderr wpay-bind <<<'{"type":"merchant","op":"followers","merchant":"cafe01","limit":true}'
	assert_equal "$(jq -r .code <<<"$output")" bad_field
}

@test "a message to followers is delivered to the platform once per follower, signed with the platform's secret" {
	run --separate-stderr wpay-init --platform-notify-url "$url"
	assert_success
	assert_equal "$(jq -r .platform_notify_url <<<"$output")" "$url"
	[[ "$(jq -r '.created[]' <<<"$output")" == *platform-webhook.key ]]
	assert_equal "$(stat -c %a "$WPAY_KEYS/platform-webhook.key")" 600
	wpay-bind user follow 1001 cafe01 >/dev/null
	wpay-bind user follow 1002 cafe01 >/dev/null
	wpay-bind user follow 1003 shop02 >/dev/null
	send cafe01 followers n1 "新豆子到了 New beans today"
	assert_success
	assert_equal "$(jq -c '[.type, .merchant, .to, .request_no, .recipients, .skipped.buyer_limit, .created_at]' <<<"$output")" \
		'["message","m:cafe01","followers","n1",2,0,"2026-11-22T08:00:00Z"]'
	id=$(jq -r .id <<<"$output")
	[[ "$id" == msg_* ]]
	run --separate-stderr wpay-notify list --kind message
	assert_equal "$(jq -sc 'map([.kind, .merchant, .state])' <<<"$output")" \
		'[["message","m:cafe01","pending"],["message","m:cafe01","pending"]]'
	run --separate-stderr wpay-notify --once
	assert_success
	assert_equal "$(jq -sc 'map(.result)' <<<"$output")" '["delivered","delivered"]'
	assert_equal "$(wc -l <"$srv/requests")" 2
	assert_equal "$(jq -r .body "$srv/requests" | jq -sc 'map([.kind, .message, .merchant, .merchant_name, .to, .text, .sent_at]) | sort')" \
		"[[\"message\",\"$id\",\"m:cafe01\",\"Cafe Lu\",\"u:1001\",\"新豆子到了 New beans today\",\"2026-11-22T08:00:00Z\"],[\"message\",\"$id\",\"m:cafe01\",\"Cafe Lu\",\"u:1002\",\"新豆子到了 New beans today\",\"2026-11-22T08:00:00Z\"]]"
	# Each signature checks with the platform's secret, and not the merchant's.
	while read -r req; do
		jq -j .body <<<"$req" >"$BATS_TEST_TMPDIR/body"
		ts=$(jq -r '.headers["wpay-timestamp"]' <<<"$req")
		sig=$(jq -r '.headers["wpay-signature"]' <<<"$req")
		run --separate-stderr wpay-notify --verify --secret-file "$WPAY_KEYS/platform-webhook.key" \
			--timestamp "$ts" --signature "$sig" <"$BATS_TEST_TMPDIR/body"
		assert_success
		run --separate-stderr wpay-notify --verify --secret-file "$WPAY_KEYS/webhook-cafe01.key" \
			--timestamp "$ts" --signature "$sig" <"$BATS_TEST_TMPDIR/body"
		assert_failure 1
	done <"$srv/requests"
	# A merchant's own notifications still go to its own URL (none set: they wait).
	assert_equal "$(wpay-notify list --kind order.paid)" ""
}

@test "only followers get messages: an unfollowed buyer gets none; u: and order: to a non-follower are refused" {
	platform
	wpay-bind user follow 1001 cafe01 >/dev/null
	wpay-bind user follow 1002 cafe01 >/dev/null
	wpay-bind user unfollow 1002 cafe01 >/dev/null
	send cafe01 followers n1
	assert_equal "$(jq -r .recipients <<<"$output")" 1
	assert_equal "$(wpay-notify list --kind message | jq -sc 'length')" 1
	wpay-notify --once >/dev/null
	assert_equal "$(jq -r .body "$srv/requests" | jq -r .to)" u:1001
	send cafe01 u:1002 n2
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" not_following
	send cafe01 u:1001 n3 "Your beans are ready"
	assert_success
	assert_equal "$(jq -r .recipients <<<"$output")" 1
	# The buyer of an order of this merchant, while they follow.
	order=$(wpay-order create cafe01 o1 --amount 5.00 | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 | jq -r .order)
	send cafe01 "order:$order" n4 "Thanks for your order"
	assert_success
	wpay-notify --once >/dev/null
	assert_equal "$(jq -r .body "$srv/requests" | jq -sc 'map([.to, .order, .text]) | sort')" \
		"[[\"u:1001\",null,\"New beans today\"],[\"u:1001\",null,\"Your beans are ready\"],[\"u:1001\",\"$order\",\"Thanks for your order\"]]"
	wpay-bind user unfollow 1001 cafe01 >/dev/null
	send cafe01 "order:$order" n5
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" not_following
	# Another merchant's order is not this one's.
	wpay-bind user follow 1001 shop02 >/dev/null
	send shop02 "order:$order" n6
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" not_found
	assert_equal "$(db_sql "SELECT count(*) FROM messages WHERE request_no IN ('n2', 'n5', 'n6')")" 0
}

@test "unknown merchant, order, user; bad to, text and request_no are error records" {
	platform
	wpay-bind user follow 1001 cafe01 >/dev/null
	send nosuch followers n1
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" unknown_merchant
	send cafe01 u:9999 n1
	assert_equal "$(jq -r .code <<<"$output")" not_found
	send cafe01 order:ord_01M8149T001DX6RS2Y88FM79BF n1
	assert_equal "$(jq -r .code <<<"$output")" not_found
	send cafe01 order:pay_01M8149T001DX6RS2Y88FM79BF n1
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	send cafe01 everyone n1
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	send cafe01 followers 'n 1'
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	send cafe01 followers n1 ""
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" missing_field
	send cafe01 followers n1 "$(printf 'a%.0s' $(seq 501))"
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	send cafe01 followers n1 "$(printf 'line\nbreak')"
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	send cafe01 followers n1 "$(printf 'bell\a')"
	assert_equal "$(jq -r .code <<<"$output")" bad_field
	# A bidi override, a C1 control, a line separator: each would change what a reader sees.
	for bad in $'\u202egro.knab' $'c1 \u0085 next' $'line\u2028sep' $'\ufeffbom'; do
		send cafe01 followers n1 "$bad"
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" bad_field
	done
	assert_equal "$(db_sql "SELECT count(*) FROM messages")" 0
	send cafe01 followers n1 "$(printf 'bad \xff utf8')"
	assert_failure 64
	# 500 characters of three bytes each fit.
	send cafe01 followers n1 "$(printf '好%.0s' $(seq 500))"
	assert_success
	assert_equal "$(jq -r .recipients <<<"$output")" 1
	run --separate-stderr wpay-notify message cafe01 --to followers --request-no n9
	assert_failure 64
	run --separate-stderr wpay-notify message --to followers
	assert_failure 64
	run --separate-stderr wpay-notify message cafe01 shop02 --to followers --request-no n9 --text x
	assert_failure 64
	run --separate-stderr wpay-notify list --to followers
	assert_failure 64
	run --separate-stderr wpay-notify redeliver --kind message evt_x
	assert_failure 64
	run --separate-stderr wpay-notify list --kind 'a b'
	assert_failure 64
	# Records on stdin, one answer each.
	run --separate-stderr wpay-notify message <<-'EOF'
		{"type":"message","merchant":"cafe01","to":"followers","text":"Hello","request_no":"s1","ref":"a"}
		{"type":"payment","merchant":"cafe01"}
		{"merchant":"cafe01","to":"followers","text":42,"request_no":"s2"}
	EOF
	assert_failure 1
	assert_equal "$(jq -sc 'map([.type, .ref, .code])' <<<"$output")" \
		'[["message","a",null],["error",null,"unknown_request"],["error",null,"bad_field"]]'
}

@test "a replay answers the same record and queues nothing; another text with the same request_no is a conflict" {
	platform
	wpay-bind user follow 1001 cafe01 >/dev/null
	send cafe01 followers n1
	first=$output
	export WPAY_NOW=2026-11-22T09:00:00Z
	send cafe01 followers n1
	assert_success
	assert_equal "$output" "$first"
	assert_equal "$(db_sql "SELECT count(*) FROM events WHERE kind = 'message'")" 1
	assert_equal "$(db_sql "SELECT sent FROM message_quota WHERE party = 'm:cafe01'")" 1
	send cafe01 followers n1 "Something else"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" conflict
	# The same request_no is another merchant's own.
	wpay-bind user follow 1001 shop02 >/dev/null
	send shop02 followers n1
	assert_success
}

@test "without a platform URL a message is refused, saying how to set one; the URL follows the notify URL rules" {
	wpay-bind user follow 1001 cafe01 >/dev/null
	send cafe01 followers n1
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" no_platform_url
	[[ "$stderr" == *"wpay init --platform-notify-url"* ]]
	assert_equal "$(db_sql "SELECT count(*) FROM messages")" 0
	assert_equal "$(db_sql "SELECT count(*) FROM message_quota")" 0
	# A ledger that does not allow private addresses refuses one.
	WPAY_DB=$(new_ledger strict)
	export WPAY_DB
	WPAY_KEYS="$BATS_TEST_TMPDIR/keys2" wpay-init >/dev/null
	run --separate-stderr env WPAY_KEYS="$BATS_TEST_TMPDIR/keys2" wpay-init --platform-notify-url "$url"
	assert_failure 64
	[ ! -e "$BATS_TEST_TMPDIR/keys2/platform-webhook.key" ]
	run --separate-stderr env WPAY_KEYS="$BATS_TEST_TMPDIR/keys2" wpay-init --platform-notify-url "ftp://example.com/x"
	assert_failure 64
	run --separate-stderr env WPAY_KEYS="$BATS_TEST_TMPDIR/keys2" wpay-init --platform-notify-url https://platform.example.com/hook
	assert_success
	assert_equal "$(jq -c '[.platform_notify_url, .messages_per_merchant, .messages_per_buyer]' <<<"$output")" \
		'["https://platform.example.com/hook",4,3]'
	for bad in 0 -1 x 1001; do
		run --separate-stderr wpay-init --messages-per-merchant "$bad"
		assert_failure 64
		run --separate-stderr wpay-init --messages-per-buyer "$bad"
		assert_failure 64
	done
}

@test "a merchant sends at most 4 messages a day, the 5th is refused; a buyer receives at most 3, then is skipped" {
	platform
	wpay-bind user follow 1001 cafe01 >/dev/null
	wpay-bind user follow 1002 cafe01 >/dev/null
	wpay-bind user follow 1001 shop02 >/dev/null
	# u:1001 gets 2 from shop02 ...
	for n in 1 2; do send shop02 followers "s$n"; assert_success; done
	# ... so of cafe01's 4, only the first reaches u:1001; u:1002 gets 3 and is skipped at the 4th.
	for n in 1 2 3 4; do
		send cafe01 followers "c$n"
		assert_success
		echo "$output" >>"$BATS_TEST_TMPDIR/c"
	done
	assert_equal "$(jq -sc 'map([.recipients, .skipped.buyer_limit])' "$BATS_TEST_TMPDIR/c")" '[[2,0],[1,1],[1,1],[0,2]]'
	send cafe01 followers c5
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" rate_limited
	assert_equal "$(db_sql "SELECT party || '=' || sent FROM message_quota ORDER BY party")" "$(printf '%s\n' m:cafe01=4 m:shop02=2 u:1001=3 u:1002=3)"
	# A skip is not an error, and a replay says the same.
	send cafe01 followers c4
	assert_equal "$(jq -c '[.recipients, .skipped.buyer_limit]' <<<"$output")" '[0,2]'
	# The next ledger day (Asia/Shanghai, midnight: 16:00Z), the counts start again.
	export WPAY_NOW=2026-11-22T15:59:59Z
	send cafe01 followers c6
	assert_equal "$(jq -r .code <<<"$output")" rate_limited
	export WPAY_NOW=2026-11-22T16:00:00Z
	send cafe01 followers c6
	assert_success
	assert_equal "$(jq -r .recipients <<<"$output")" 2
	assert_equal "$(db_sql "SELECT DISTINCT day FROM message_quota ORDER BY day")" "$(printf '%s\n' 2026-11-22 2026-11-23)"
}

@test "the limits are settings of wpay init" {
	wpay-init --platform-notify-url "$url" --messages-per-merchant 1 --messages-per-buyer 1 >/dev/null
	assert_equal "$(wpay-init | jq -c '[.messages_per_merchant, .messages_per_buyer]')" '[1,1]'
	wpay-bind user follow 1001 cafe01 >/dev/null
	wpay-bind user follow 1001 shop02 >/dev/null
	send cafe01 followers n1
	assert_equal "$(jq -r .recipients <<<"$output")" 1
	send cafe01 followers n2
	assert_equal "$(jq -r .code <<<"$output")" rate_limited
	send shop02 followers n1
	assert_equal "$(jq -c '[.recipients, .skipped.buyer_limit]' <<<"$output")" '[0,1]'
}

@test "two senders at once never pass the merchant's limit nor a buyer's" {
	platform
	wpay-bind user follow 1001 cafe01 >/dev/null
	wpay-bind user follow 1001 shop02 >/dev/null
	for m in cafe01 shop02; do
		for k in a b; do
			for n in 1 2 3 4 5 6; do
				echo "{\"type\":\"message\",\"merchant\":\"$m\",\"to\":\"followers\",\"text\":\"hi $n\",\"request_no\":\"r$n$k\"}"
			done >"$BATS_TEST_TMPDIR/$m.$k.jsonl"
		done
	done
	# Four senders, each one record at a time (each its own commit). Only
	# they are waited for: the webhook server is a child too.
	local senders=()
	for m in cafe01 shop02; do
		for k in a b; do
			(while read -r line; do wpay-notify message <<<"$line" || true; done <"$BATS_TEST_TMPDIR/$m.$k.jsonl") \
				>"$BATS_TEST_TMPDIR/$m.$k.out" 2>>"$BATS_TEST_TMPDIR/err" &
			senders+=($!)
		done
	done
	wait "${senders[@]}"
	assert_equal "$(db_sql "SELECT party || '=' || sent FROM message_quota ORDER BY party")" "$(printf '%s\n' m:cafe01=4 m:shop02=4 u:1001=3)"
	assert_equal "$(db_sql "SELECT count(*) FROM events WHERE kind = 'message'")" 3
	assert_equal "$(db_sql "SELECT count(*) FROM messages")" 8
	assert_equal "$(db_sql "SELECT sum(recipients) FROM messages")" 3
	# Every answer is a message or rate_limited.
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/*.out | jq -r '.code // .type' | sort | uniq -c | tr -s ' \n' ' ')" " 8 message 16 rate_limited "
}

@test "a merchant with thousands of followers: one event each, the list pages through them all" {
	platform
	wpay-init --messages-per-buyer 1000 >/dev/null
	db_sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
		INSERT INTO users(uid, nickname, created_at) SELECT 'f' || i, 'fan ' || i, '2026-11-22T07:00:00Z' FROM n"
	db_sql "INSERT INTO follows(uid, merchant_id, created_at) SELECT uid, 'cafe01', created_at FROM users WHERE uid LIKE 'f%'"
	send cafe01 followers big1
	assert_success
	assert_equal "$(jq -r .recipients <<<"$output")" 3000
	assert_equal "$(db_sql "SELECT count(DISTINCT id) FROM events WHERE kind = 'message'")" 3000
	# Three pages of 1000 (all followed in the same second: paged by uid), then none.
	after=()
	total=0
	for _ in 1 2 3; do
		wpay-bind merchant followers cafe01 --limit 1000 "${after[@]}" >"$BATS_TEST_TMPDIR/page"
		assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/page")" 1000
		total=$((total + 1000))
		after=(--after "$(tail -n 1 "$BATS_TEST_TMPDIR/page" | jq -r .buyer)")
		cat "$BATS_TEST_TMPDIR/page" >>"$BATS_TEST_TMPDIR/all"
	done
	assert_equal "$(wpay-bind merchant followers cafe01 --limit 1000 "${after[@]}")" ""
	assert_equal "$(jq -r .buyer "$BATS_TEST_TMPDIR/all" | sort -u | wc -l)" 3000
}
