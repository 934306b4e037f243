#!/usr/bin/env bats
# wpay-bind: users, wallets, bindings, cards, PINs, merchants, top-ups, and
# every bad input: an error record, a message, an exit status, and a
# ledger that did not change.

load helper

setup() {
	wpay_setup
	init_ledger
}

# Run a failing command and prove: exit status, error code, stderr, no change.
refuses() {
	local status=$1 code=$2
	shift 2
	local before
	before=$(ledger_digest)
	run --separate-stderr "$@"
	assert_failure "$status"
	if [ -n "$code" ]; then
		assert_equal "$(jq -r .type <<<"$output" | tail -n 1)" error
		assert_equal "$(jq -r .code <<<"$output" | tail -n 1)" "$code"
		[[ "$stderr" == wpay-bind:* ]]
	else
		assert_output ""
	fi
	assert_equal "$(ledger_digest)" "$before"
}

# ---- users ----

@test "user add prints the user; the same request again prints the same" {
	run --separate-stderr wpay-bind user add 1001 --nickname "微博用户Lu"
	assert_success
	first=$output
	assert_equal "$(jq -c '[.type, .id, .uid, .nickname, .wallet]' <<<"$output")" '["user","u:1001","1001","微博用户Lu",null]'
	run --separate-stderr wpay-bind user add u:1001 --nickname "微博用户Lu"
	assert_success
	assert_equal "$output" "$first"
}

@test "user add with another nickname is a conflict; update changes it" {
	wpay-bind user add 1001 --nickname Lu >/dev/null
	refuses 1 conflict wpay-bind user add 1001 --nickname Other
	assert_equal "$stderr" "wpay-bind: user '1001' exists with nickname 'Lu'; use 'user update' to change it"
	run --separate-stderr wpay-bind user update 1001 --nickname Other
	assert_success
	assert_equal "$(jq -r .nickname <<<"$output")" Other
}

@test "user add refuses bad uids and nicknames" {
	refuses 1 bad_field wpay-bind user add "has space" --nickname Lu
	refuses 1 bad_field wpay-bind user add "$(printf 'a%.0s' {1..65})" --nickname Lu
	refuses 1 bad_field wpay-bind user add "1001;DROP TABLE users" --nickname Lu
	refuses 1 missing_field wpay-bind user add 1001
	refuses 1 bad_field wpay-bind user add 1001 --nickname "$(printf 'x%.0s' {1..65})"
	refuses 1 bad_field wpay-bind user add 1001 --nickname "$(printf 'a\tb')"
	refuses 1 bad_field sh -c 'echo "{\"type\":\"user\",\"uid\":1001,\"nickname\":\"Lu\"}" | wpay-bind'
	assert_equal "$stderr" "wpay-bind: field 'uid' must be a string, not a integer (<stdin>:1)"
}

@test "SQL metacharacters are only data" {
	run --separate-stderr wpay-bind user add 1001 --nickname "Robert'); DROP TABLE users;--"
	assert_success
	run --separate-stderr wpay-bind user show 1001
	assert_equal "$(jq -r .nickname <<<"$output")" "Robert'); DROP TABLE users;--"
}

@test "user show and list; an unknown user is not_found" {
	wpay-bind user add 2 --nickname B >/dev/null
	wpay-bind user add 1 --nickname A >/dev/null
	run --separate-stderr wpay-bind user list
	assert_success
	assert_equal "$(jq -r .id <<<"$output" | paste -sd,)" "u:1,u:2"
	refuses 1 not_found wpay-bind user show 9
	assert_equal "$stderr" "wpay-bind: no user '9'; add it with 'wpay bind user add 9'"
}

# ---- wallets and binding ----

@test "wallet add, replay, conflict, bad currency and login" {
	run --separate-stderr wpay-bind wallet add lu@example.com
	assert_success
	id=$(jq -r .id <<<"$output")
	[[ "$id" =~ ^wal_[0-9A-HJKMNP-TV-Z]{26}$ ]]
	assert_equal "$(jq -c '[.currency, .pin_set, .default_card]' <<<"$output")" '["CNY",false,null]'
	run --separate-stderr wpay-bind wallet add lu@example.com
	assert_equal "$(jq -r .id <<<"$output")" "$id"
	refuses 1 conflict wpay-bind wallet add lu@example.com --currency USD
	refuses 1 bad_currency wpay-bind wallet add x@example.com --currency XYZ
	refuses 1 bad_currency wpay-bind wallet add x@example.com --currency cny
	refuses 1 bad_field wpay-bind wallet add "has space"
	refuses 1 bad_field wpay-bind wallet add "u:1001"
}

@test "one wallet per user: bind, show the pair, unbind" {
	wpay-bind user add 1001 --nickname Lu >/dev/null
	wpay-bind user add 1002 --nickname Mo >/dev/null
	w1=$(wpay-bind wallet add a@example.com | jq -r .id)
	w2=$(wpay-bind wallet add b@example.com | jq -r .id)
	run --separate-stderr wpay-bind user bind 1001 "$w1"
	assert_success
	assert_equal "$(jq -r .wallet <<<"$output")" "$w1"
	run --separate-stderr wpay-bind user bind 1001 a@example.com
	assert_success
	refuses 1 already_bound wpay-bind user bind 1001 "$w2"
	assert_equal "$stderr" "wpay-bind: user '1001' is bound to wallet $w1; one wallet per user: unbind it first"
	refuses 1 already_bound wpay-bind user bind 1002 "$w1"
	refuses 1 not_found wpay-bind user bind 1001 wal_NOPE
	refuses 1 not_found wpay-bind user bind 9999 "$w2"

	run --separate-stderr wpay-bind show u:1001
	assert_success
	assert_equal "$(jq -r .type <<<"$output" | paste -sd,)" "user,wallet"
	assert_equal "$(jq -r 'select(.type=="wallet") | .user' <<<"$output")" "u:1001"

	run --separate-stderr wpay-bind user unbind 1001
	assert_success
	assert_equal "$(jq -r .wallet <<<"$output")" null
	run --separate-stderr wpay-bind user bind 1002 "$w1"
	assert_success
	refuses 1 not_found wpay-bind wallet show u:1001
	assert_equal "$stderr" "wpay-bind: user u:1001 has no wallet bound; bind one with 'wpay bind user bind'"
}

# ---- cards ----

@test "card add from --pan-fd: masked, classified, default, never stored in full" {
	wpay-bind wallet add a@example.com >/dev/null
	pan=$(luhn_card 622202 19)
	run --separate-stderr wpay-bind card add a@example.com --pan-fd 3 3<<<"$pan"
	assert_success
	assert_equal "$(jq -c '[.type, .brand, .funding, .country, .masked, .default, .status]' <<<"$output")" \
		"[\"card\",\"unionpay\",\"debit\",\"CN\",\"622202*********${pan: -4}\",true,\"active\"]"
	[[ "$output" != *"$pan"* ]]
	[[ "$stderr" != *"$pan"* ]]
	! ledger_dump | grep -q "$pan"
	db_is_pg || ! grep -aq "$pan" "$WPAY_DB" "$WPAY_DB-wal" 2>/dev/null
}

@test "card add from a record; brands by IIN" {
	wpay-bind wallet add a@example.com >/dev/null
	run --separate-stderr wpay-bind <<-EOF
		{"type":"card","op":"add","wallet":"a@example.com","pan":"4111 1111 1111 1111","ref":"v"}
		{"type":"card","op":"add","wallet":"a@example.com","pan":"5555555555554444","ref":"m"}
		{"type":"card","op":"add","wallet":"a@example.com","pan":"378282246310005","ref":"a"}
		{"type":"card","op":"add","wallet":"a@example.com","pan":"3530111333300000","ref":"j"}
		{"type":"card","op":"add","wallet":"a@example.com","pan":"6011111111111117","ref":"d"}
		{"type":"card","op":"add","wallet":"a@example.com","pan":"2223003122003222","ref":"m2"}
	EOF
	assert_success
	assert_equal "$(jq -r '"\(.ref)=\(.brand)"' <<<"$output" | paste -sd,)" "v=visa,m=mastercard,a=amex,j=jcb,d=discover,m2=mastercard"
	assert_equal "$(jq -r .default <<<"$output" | paste -sd,)" "true,false,false,false,false,false"
	[[ "$output" != *4111111111111111* ]]
}

@test "bad card numbers are refused with what was wrong" {
	wpay-bind wallet add a@example.com >/dev/null
	refuses 1 bad_card wpay-bind card add a@example.com --pan-fd 3 3<<<4111111111111112
	assert_equal "$stderr" "wpay-bind: the card number fails its check digit (Luhn); it was mistyped"
	refuses 1 bad_card wpay-bind card add a@example.com --pan-fd 3 3<<<"4111-x111-1111-1111"
	refuses 1 bad_card wpay-bind card add a@example.com --pan-fd 3 3<<<42424242
	refuses 1 bad_card wpay-bind card add a@example.com --pan-fd 3 3<<<"$(luhn_card 9 16)"
	refuses 1 bad_card wpay-bind card add a@example.com --pan-fd 3 3<<<"$(luhn_card 37 16)"
	refuses 1 bad_field sh -c 'echo "{\"type\":\"card\",\"wallet\":\"a@example.com\",\"pan\":4111111111111111}" | wpay-bind'
	refuses 66 "" wpay-bind card add a@example.com --pan-fd 3 3</dev/null
}

@test "a card bound twice is refused; the same wallet gets the same card back" {
	wpay-bind wallet add a@example.com >/dev/null
	wpay-bind wallet add b@example.com >/dev/null
	first=$(wpay-bind card add a@example.com --pan-fd 3 3<<<4111111111111111)
	run --separate-stderr wpay-bind card add a@example.com --pan-fd 3 3<<<"4111 1111 1111 1111"
	assert_success
	assert_equal "$output" "$first"
	refuses 1 card_bound wpay-bind card add b@example.com --pan-fd 3 3<<<4111111111111111
	assert_equal "$stderr" "wpay-bind: this card ($(jq -r .id <<<"$first")) is already bound to another wallet; remove it there first"
}

@test "card remove moves the default; a removed card cannot be the default" {
	wpay-bind wallet add a@example.com >/dev/null
	c1=$(wpay-bind card add a@example.com --pan-fd 3 3<<<4111111111111111 | jq -r .id)
	c2=$(wpay-bind card add a@example.com --pan-fd 3 3<<<5555555555554444 | jq -r .id)
	run --separate-stderr wpay-bind card default "$c2"
	assert_equal "$(jq -r .default <<<"$output")" true
	assert_equal "$(wpay-bind wallet show a@example.com | jq -r .default_card)" "$c2"
	run --separate-stderr wpay-bind card remove "$c2"
	assert_success
	assert_equal "$(jq -c '[.status, .default]' <<<"$output")" '["removed",false]'
	assert_equal "$(wpay-bind wallet show a@example.com | jq -r .default_card)" "$c1"
	refuses 1 card_removed wpay-bind card default "$c2"
	run --separate-stderr wpay-bind card list a@example.com
	assert_equal "$(jq -r .status <<<"$output" | paste -sd,)" "active,removed"
	refuses 1 not_found wpay-bind card show card_NOPE
	# A removed card can be bound again, to any wallet.
	run --separate-stderr wpay-bind card add a@example.com --pan-fd 3 3<<<5555555555554444
	assert_success
}

# ---- PINs ----

@test "pin set from --pin-fd; the hash is not the PIN" {
	wpay-bind wallet add a@example.com >/dev/null
	run --separate-stderr wpay-bind pin set a@example.com --pin-fd 3 3<<<135790
	assert_success
	assert_equal "$(jq -c '[.type, .status]' <<<"$output")" '["pin","set"]'
	assert_equal "$(wpay-bind wallet show a@example.com | jq -r .pin_set)" true
	! ledger_dump | grep -q 135790
	db_sql "SELECT pin_hash FROM wallets" | grep -Eq '^scrypt\$14\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64}$'
}

@test "pin set run again with the same PIN answers the same record and changes nothing" {
	wpay-bind wallet add a@example.com >/dev/null
	first=$(wpay-bind pin set a@example.com --pin-fd 3 3<<<135790)
	before=$(ledger_digest)
	run --separate-stderr wpay-bind pin set a@example.com --pin-fd 3 3<<<135790
	assert_success
	assert_equal "$output" "$first"
	assert_equal "$stderr" ""
	assert_equal "$(ledger_digest)" "$before"
}

@test "pin set with another PIN is pin_exists, counts as a wrong try, and cannot get round the lockout" {
	wpay-bind wallet add a@example.com >/dev/null
	wpay-bind pin set a@example.com --pin-fd 3 3<<<135790 >/dev/null
	hash=$(db_sql "SELECT pin_hash FROM wallets")
	run --separate-stderr wpay-bind pin set a@example.com --pin-fd 3 3<<<246802
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" pin_exists
	[[ "$stderr" == "wpay-bind: wallet wal_"*" already has another PIN; change it with 'wpay bind pin change' (this counted as a wrong try: "*"2 tries left"* ]]
	assert_equal "$(db_sql "SELECT pin_failures FROM wallets")" 1
	# Guessing through pin set locks the wallet as paying would.
	wpay-bind pin set a@example.com --pin-fd 3 3<<<246803 >/dev/null || true
	run --separate-stderr wpay-bind pin set a@example.com --pin-fd 3 3<<<246804
	assert_equal "$(jq -r .code <<<"$output")" pin_locked
	run --separate-stderr wpay-bind pin set a@example.com --pin-fd 3 3<<<135790
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" pin_locked
	# The PIN itself never changed.
	assert_equal "$(db_sql "SELECT pin_hash FROM wallets")" "$hash"
}

@test "trivial and malformed PINs are refused" {
	wpay-bind wallet add a@example.com >/dev/null
	for pin in 111111 123456 654321 987654 012345 121212 123123 112233 12345 1234567 12a456 ""; do
		refuses 1 pin_weak wpay-bind pin set a@example.com --pin-fd 3 3<<<"$pin"
	done
	refuses 1 no_secret wpay-bind pin set a@example.com --pin-fd 3 3</dev/null
}

@test "PINs never come from records, argv or the environment" {
	wpay-bind wallet add a@example.com >/dev/null
	refuses 1 bad_field sh -c 'echo "{\"type\":\"pin\",\"op\":\"set\",\"wallet\":\"a@example.com\",\"pin\":\"135790\"}" | wpay-bind'
	assert_equal "$stderr" "wpay-bind: PINs are never taken from records; pass them with --pin-fd N (<stdin>:1)"
	refuses 64 "" wpay-bind pin set a@example.com --pin 135790
	refuses 64 "" wpay-bind pin set a@example.com --pin-fd 9
	assert_equal "${stderr_lines[0]}" "wpay-bind: --pin-fd 9 is not an open file descriptor above 2 (use e.g. --pin-fd 3 3<file)"
	refuses 64 "" wpay-bind pin set a@example.com --pin-fd 0
}

@test "pin set in a batch reads one PIN per record from the fd" {
	wpay-bind wallet add a@example.com >/dev/null
	wpay-bind wallet add b@example.com >/dev/null
	run --separate-stderr wpay-bind --pin-fd 3 3< <(printf '135790\n111111\n') <<-EOF
		{"type":"pin","op":"set","wallet":"a@example.com","ref":1}
		{"type":"pin","op":"set","wallet":"b@example.com","ref":2}
	EOF
	assert_failure 1
	assert_equal "$(jq -c '[.ref, .type]' <<<"$output" | paste -sd,)" '[1,"pin"],[2,"error"]'
}

@test "pin change needs the old PIN; wrong ones count down and lock the wallet" {
	export WPAY_NOW=2026-11-22T08:00:00Z
	wpay-bind wallet add a@example.com >/dev/null
	wpay-bind pin set a@example.com --pin-fd 3 3<<<135790 >/dev/null
	refuses_keep() { # a wrong PIN fails but is counted: the ledger does change
		run --separate-stderr wpay-bind pin change a@example.com --pin-fd 3 3< <(printf '%s\n%s\n' "$1" 246802)
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" "$2"
	}
	refuses_keep 000000 pin_wrong
	[[ "$stderr" == *"wrong PIN for wallet wal_"*"; 2 tries left before it locks" ]]
	refuses_keep 000001 pin_wrong
	[[ "$stderr" == *"1 try left before it locks" ]]
	refuses_keep 000002 pin_locked
	[[ "$stderr" == *"wrong PIN, 3 times in a row: wallet wal_"*" is locked until 2026-11-22T11:00:00Z" ]]
	assert_equal "$(wpay-bind wallet show a@example.com | jq -r .locked_until)" 2026-11-22T11:00:00Z
	# Locked: even the right PIN is not tried, and nothing changes.
	refuses 1 pin_locked wpay-bind pin change a@example.com --pin-fd 3 3< <(printf '135790\n246802\n')
	[[ "$stderr" == *"is locked after too many wrong PINs until 2026-11-22T11:00:00Z; try again then" ]]
	export WPAY_NOW=2026-11-22T10:59:59Z
	refuses 1 pin_locked wpay-bind pin change a@example.com --pin-fd 3 3< <(printf '135790\n246802\n')
	# The lock ends; the right PIN works and resets the count.
	export WPAY_NOW=2026-11-22T11:00:00Z
	run --separate-stderr wpay-bind pin change a@example.com --pin-fd 3 3< <(printf '135790\n246802\n')
	assert_success
	assert_equal "$(jq -r .status <<<"$output")" changed
	assert_equal "$(wpay-bind wallet show a@example.com | jq -r .locked_until)" null
	refuses_keep 135790 pin_wrong
	[[ "$stderr" == *"2 tries left"* ]]
}

@test "a right PIN resets the count of wrong ones" {
	wpay-bind wallet add a@example.com >/dev/null
	wpay-bind pin set a@example.com --pin-fd 3 3<<<135790 >/dev/null
	wpay-bind pin change a@example.com --pin-fd 3 3< <(printf '000000\n246802\n') >/dev/null || true
	wpay-bind pin change a@example.com --pin-fd 3 3< <(printf '000000\n246802\n') >/dev/null || true
	wpay-bind pin change a@example.com --pin-fd 3 3< <(printf '135790\n246802\n') >/dev/null
	run --separate-stderr wpay-bind pin change a@example.com --pin-fd 3 3< <(printf '000000\n135790\n')
	assert_equal "$(jq -r .code <<<"$output")" pin_wrong
	[[ "$stderr" == *"2 tries left"* ]]
}

@test "the lockout is configurable" {
	wpay-init --pin-tries 1 --pin-lock 10m >/dev/null
	export WPAY_NOW=2026-01-01T00:00:00Z
	wpay-bind wallet add a@example.com >/dev/null
	wpay-bind pin set a@example.com --pin-fd 3 3<<<135790 >/dev/null
	run --separate-stderr wpay-bind pin change a@example.com --pin-fd 3 3< <(printf '000000\n246802\n')
	assert_equal "$(jq -r .code <<<"$output")" pin_locked
	[[ "$stderr" == *"locked until 2026-01-01T00:10:00Z" ]]
}

@test "the shipped programs ignore WPAY_NOW, so it cannot end a lockout" {
	[ -x "$WPAY_REAL_BIN/wpay-bind" ] || skip "no release build"
	export WPAY_NOW=2000-01-01T00:00:00Z
	run --separate-stderr "$WPAY_REAL_BIN/wpay-bind" user add 1001 --nickname Lu
	assert_success
	[[ "$(jq -r .created_at <<<"$output")" != 2000-* ]]
	run --separate-stderr wpay-bind user add 1002 --nickname Mo
	assert_equal "$(jq -r .created_at <<<"$output")" 2000-01-01T00:00:00Z
}

# ---- top-ups ----

@test "topup moves money from the default card; a replay moves nothing" {
	buyer_ready
	run --separate-stderr wpay-bind wallet topup u:1001 --amount 500.00 --request-no t1
	assert_success
	first=$output
	assert_equal "$(jq -c '[.type, .kind, .amount, .currency, .request_no]' <<<"$output")" '["transfer","topup",50000,"CNY","t1"]'
	[[ "$(jq -r .from <<<"$output")" == card:card_* ]]
	run --separate-stderr wpay-bind wallet topup u:1001 --amount 500.00 --request-no t1
	assert_success
	assert_equal "$output" "$first"
	assert_equal "$(wpay-bind wallet balance u:1001 | jq -r .balance)" 50000
	refuses 1 idempotency_conflict wpay-bind wallet topup u:1001 --amount 500.01 --request-no t1
	assert_ledger_ok
}

@test "a transfer's answer carries the caller's ref, not its own" {
	buyer_ready
	run --separate-stderr wpay-bind <<<'{"type":"wallet","op":"topup","wallet":"u:1001","amount":100,"request_no":"t9","ref":{"line":7}}'
	assert_success
	assert_equal "$(jq -c '[.type, .ref, .request_no]' <<<"$output")" '["transfer",{"line":7},"t9"]'
	# Without a ref of the caller's, the transfer's own says what it is for.
	run --separate-stderr wpay-bind wallet topup u:1001 --amount 1.00 --request-no t10
	assert_equal "$(jq -r .ref <<<"$output")" t10
}

@test "topup refuses bad amounts, unknown wallets and cards, and wrong currencies" {
	buyer_ready
	refuses 64 "" wpay-bind wallet topup u:1001 --amount -1 --request-no t1
	assert_equal "${stderr_lines[0]}" "wpay-bind: --amount '-1': negative amounts are not allowed here"
	refuses 64 "" wpay-bind wallet topup u:1001 --amount 1e3 --request-no t1
	refuses 64 "" wpay-bind wallet topup u:1001 --amount 0.001 --request-no t1
	refuses 64 "" wpay-bind wallet topup u:1001 --amount 99999999999999999 --request-no t1
	refuses 1 bad_amount wpay-bind wallet topup u:1001 --amount 0 --request-no t1
	refuses 1 missing_field wpay-bind wallet topup u:1001 --amount 1
	refuses 1 bad_field wpay-bind wallet topup u:1001 --amount 1 --request-no "bad no!"
	refuses 1 not_found wpay-bind wallet topup u:9999 --amount 1 --request-no t1
	refuses 1 not_found wpay-bind wallet topup u:1001 --amount 1 --request-no t1 --card card_NOPE
	refuses 1 currency_mismatch wpay-bind wallet topup u:1001 --amount 1 --currency USD --request-no t1
	assert_equal "$stderr" "wpay-bind: the amount is in USD but the account holds CNY"
	wpay-bind wallet add j@example.com --currency JPY >/dev/null
	refuses 1 no_card wpay-bind wallet topup j@example.com --amount 100 --currency JPY --request-no t1
	assert_ledger_ok
}

@test "amounts in records are integers of minor units, nothing else" {
	buyer_ready
	for amount in '"100"' '1e3' '0.5' '-1' '0' '9223372036854775807' 'true' '[1]' '{}' 'null'; do
		refuses 1 bad_amount sh -c "echo '{\"type\":\"wallet\",\"op\":\"topup\",\"wallet\":\"u:1001\",\"request_no\":\"r\",\"amount\":$amount}' | wpay-bind"
	done
	refuses 1 missing_field sh -c "echo '{\"type\":\"wallet\",\"op\":\"topup\",\"wallet\":\"u:1001\",\"request_no\":\"r\"}' | wpay-bind"
	refuses 1 bad_json sh -c "echo '{\"type\":\"wallet\",\"op\":\"topup\",\"wallet\":\"u:1001\",\"request_no\":\"r\",\"amount\":9223372036854775808}' | wpay-bind"
	assert_ledger_ok
}

# ---- merchants ----

@test "merchant add: defaults, a 0600 webhook secret, replay, conflict" {
	run --separate-stderr wpay-bind merchant add cafe01 --name "Café Lu" --city Beijing --kind enterprise --verified \
		--mcc 5814 --notify-url https://cafe.example/notify --bank-account 6222020200112345678
	assert_success
	first=$output
	assert_equal "$(jq -c '[.type, .id, .kind, .verified, .fee_rate, .settlement, .country, .currency, .bank_account]' <<<"$output")" \
		'["merchant","m:cafe01","enterprise",true,"0.6%","T15","CN","CNY","****5678"]'
	secret=$(jq -r .webhook_secret_file <<<"$output")
	assert_equal "$(stat -c %a "$secret")" 600
	[[ "$output" != *"$(cat "$secret")"* ]]
	run --separate-stderr wpay-bind merchant add cafe01 --name "Café Lu" --city Beijing --kind enterprise --verified \
		--mcc 5814 --notify-url https://cafe.example/notify --bank-account 6222020200112345678
	assert_success
	assert_equal "$output" "$first"
	refuses 1 conflict wpay-bind merchant add cafe01 --name "Other" --city Beijing
}

@test "merchant details are checked against their EMV limits" {
	refuses 1 bad_field wpay-bind merchant add m1 --name "$(printf 'n%.0s' {1..26})" --city Beijing
	assert_equal "$stderr" "wpay-bind: field 'name' is longer than 25 characters"
	run --separate-stderr wpay-bind merchant add m1 --name "$(printf '微%.0s' {1..25})" --city "北京"
	assert_success
	refuses 1 bad_field wpay-bind merchant add m2 --name N --city "$(printf 'c%.0s' {1..16})"
	refuses 1 missing_field wpay-bind merchant add m2 --name N
	refuses 1 bad_field wpay-bind merchant add m2 --name N --city C --mcc 58
	refuses 1 bad_field wpay-bind merchant add m2 --name N --city C --country china
	refuses 1 bad_currency wpay-bind merchant add m2 --name N --city C --currency XXX
	refuses 1 bad_field wpay-bind merchant add m2 --name N --city C --fee-rate 0.6
	refuses 1 bad_field wpay-bind merchant add m2 --name N --city C --fee-rate 11%
	refuses 1 bad_field wpay-bind merchant add m2 --name N --city C --fee-rate -1%
	refuses 1 bad_field wpay-bind merchant add m2 --name N --city C --notify-url ftp://x
	refuses 1 bad_field wpay-bind merchant add m2 --name N --city C --kind company
	refuses 1 bad_field wpay-bind merchant add m2 --name N --city C --verified
	assert_equal "$stderr" "wpay-bind: only an enterprise merchant can be verified"
	refuses 1 bad_field wpay-bind merchant add "m-2" --name N --city C
	run --separate-stderr wpay-bind merchant add m3 --name N --city C --fee-rate 0.38%
	assert_equal "$(jq -r .fee_rate <<<"$output")" 0.38%
}

@test "a bank account is digits, perhaps grouped; a spreadsheet formula is refused where it enters" {
	wpay-bind merchant add evil02 --name Evil --city Beijing >/dev/null
	refuses 1 bad_field wpay-bind merchant update evil02 --bank-account "=cmd|' /C calc'!A0"
	assert_equal "$stderr" "wpay-bind: bank_account '=cmd|' /C calc'!A0' is not an account number: give 6 to 34 digits, grouped by single spaces or dashes if you like, such as 6222 0200 1234 5678"
	refuses 1 bad_field wpay-bind merchant add evil03 --name Evil --city Beijing --bank-account "=cmd|' /C calc'!A0"
	for bad in "@SUM(1)" "+6222000011112222" "-6222000011112222" "6222000011112222-" "6222  0000 1111" \
		"6222,0000,1111,2222" '6222"0000' 12345 "$(printf '1%.0s' {1..35})" "6222 0000 1111 222x" " 6222000011112222"; do
		refuses 1 bad_field wpay-bind merchant update evil02 --bank-account "$bad"
	done
	assert_equal "$(db_sql "SELECT count(*) FROM merchants WHERE bank_account IS NOT NULL")" 0
	for good in 6222000011112222 "6222 0200 1234 5678" 6222-0200-1234-5678 123456 "$(printf '1%.0s' {1..34})"; do
		run --separate-stderr wpay-bind merchant update evil02 --bank-account "$good"
		assert_success
		assert_equal "$(jq -r .bank_account <<<"$output")" "****${good: -4}"
	done
}

# Issue 10, SSRF: a notify URL of http://127.0.0.1:22/ or
# http://169.254.169.254/ was taken, and wpay-notify then POSTed inside the
# operator's network. Non-public addresses are refused where the URL
# enters, unless the ledger allows them; names are checked at connect
# time (tests/10-notify.bats).
@test "a notify URL to a loopback, link-local or private address is refused, unless the ledger allows them" {
	wpay-bind merchant add cafe01 --name Cafe --city Beijing >/dev/null
	for u in http://127.0.0.1:22/ http://169.254.169.254/latest 'http://[::1]/' http://10.0.0.1/ \
		http://172.16.0.1/ http://192.168.1.1/ http://100.64.0.1/ http://0.0.0.0:8080/ http://224.0.0.1/ \
		'http://[fd12::1]/' 'http://[fe80::1%25eth0]/' 'http://[::ffff:10.0.0.1]/' 'http://[::]/' \
		http://2130706433/ http://127.1/ http://0x7f.0.0.1/ 'https://user:pw@10.0.0.1:8443/n'; do
		refuses 1 bad_field wpay-bind merchant update cafe01 --notify-url "$u"
		[[ "$stderr" == "wpay-bind: notify_url $u: its host "*" is "*"; notifications go only to public addresses, unless the ledger allows private ones ('wpay init --allow-private-notify')" ]]
		refuses 1 bad_field wpay-bind merchant add m2 --name N --city C --notify-url "$u"
	done
	assert_equal "$stderr" "wpay-bind: notify_url https://user:pw@10.0.0.1:8443/n: its host 10.0.0.1 is a private address (RFC 1918); notifications go only to public addresses, unless the ledger allows private ones ('wpay init --allow-private-notify')"
	# Public addresses and names pass here (a name is checked when it is resolved).
	for u in https://cafe.example/notify http://8.8.8.8/n 'http://[2001:4860::8888]/n' http://localhost:8080/n; do
		run --separate-stderr wpay-bind merchant update cafe01 --notify-url "$u"
		assert_success
	done
	run --separate-stderr wpay-init --allow-private-notify
	assert_equal "$(jq -r .allow_private_notify <<<"$output")" true
	for u in http://127.0.0.1:22/ http://169.254.169.254/latest 'http://[::1]/' http://10.0.0.1/; do
		run --separate-stderr wpay-bind merchant update cafe01 --notify-url "$u"
		assert_success
		assert_equal "$(jq -r .notify_url <<<"$output")" "$u"
	done
	# The setting stays: a later 'wpay init' keeps it.
	assert_equal "$(wpay-init | jq -r .allow_private_notify)" true
}

@test "T0 needs a 20,000.00 CNY deposit; a withdrawal below it goes back to T15" {
	wpay-bind merchant add cafe01 --name Cafe --city Beijing --kind enterprise --verified >/dev/null
	refuses 1 deposit_required wpay-bind merchant update cafe01 --settlement T0
	assert_equal "$stderr" "wpay-bind: merchant m:cafe01 holds a deposit of 0.00 CNY; T0 settlement needs 20000.00 CNY (post one with 'merchant deposit')"
	refuses 1 deposit_required wpay-bind merchant add cafe02 --name Cafe --city Beijing --kind enterprise --verified \
		--settlement T0
	wpay-bind merchant deposit cafe01 --amount 19999.99 --request-no d1 >/dev/null
	refuses 1 deposit_required wpay-bind merchant update cafe01 --settlement T0
	run --separate-stderr wpay-bind merchant deposit m:cafe01 --amount 0.01 --request-no d2
	assert_success
	assert_equal "$(jq -c '[.kind, .from, .to, .amount]' <<<"$output")" '["deposit","payout:m:cafe01","deposit:m:cafe01",1]'
	run --separate-stderr wpay-bind merchant update cafe01 --settlement T0
	assert_success
	assert_equal "$(jq -r .settlement <<<"$output")" T0
	run --separate-stderr wpay-bind merchant withdraw cafe01 --amount 0.01 --request-no w1
	assert_success
	assert_equal "$(jq -r .settlement <<<"$output")" T15
	assert_equal "$(jq -r .settlement_note <<<"$output")" "deposit 19999.99 CNY is below the 20000.00 CNY that T0 needs"
	assert_equal "$(wpay-bind merchant show cafe01 | jq -c '[.settlement, .settlement_reason]')" \
		'["T15","withdrawal w1: deposit 19999.99 CNY is below the 20000.00 CNY that T0 needs"]'
	refuses 1 insufficient_funds wpay-bind merchant withdraw cafe01 --amount 20000.00 --request-no w2
	assert_equal "$stderr" "wpay-bind: deposit:m:cafe01 holds 19999.99 CNY, not enough for 20000.00 CNY"
	run --separate-stderr wpay-bind merchant balance cafe01
	assert_equal "$(jq -c '[.deposit, .payout, .pending]' <<<"$output")" '[1999999,-1999999,0]'
	assert_ledger_ok
}

@test "a merchant is accepted by the networks it names, from configuration" {
	run --separate-stderr wpay-bind merchant add cafe01 --name Cafe --city Beijing --networks wpay,wechat
	assert_success
	assert_equal "$(jq -c .networks <<<"$output")" '["wpay","wechat"]'
	run --separate-stderr wpay-bind merchant add cafe02 --name Cafe --city Beijing
	assert_equal "$(jq -c .networks <<<"$output")" '["wpay","alipay","wechat"]'
	refuses 1 bad_field wpay-bind merchant update cafe01 --networks wpay,visa
	assert_equal "$stderr" "wpay-bind: networks: 'visa' is not a configured network (built-in)"
	printf 'visa\t30\tCOM.VISA.QR\tVisa\n# a comment\nwpay\t26\tCN.COM.WEIBO.PAY\tWeibo Pay\n' >"$BATS_TEST_TMPDIR/networks.tsv"
	export WPAY_NETWORKS="$BATS_TEST_TMPDIR/networks.tsv"
	run --separate-stderr wpay-bind merchant update cafe01 --networks wpay,visa
	assert_success
	assert_equal "$(jq -c .networks <<<"$output")" '["visa","wpay"]'
	printf 'visa\t99\tCOM.VISA.QR\n' >"$WPAY_NETWORKS"
	run --separate-stderr wpay-bind merchant list
	assert_failure 78
	assert_equal "$stderr" "wpay-bind: $WPAY_NETWORKS:1: want name<TAB>id (26-51)<TAB>GUI (at most 32 characters)<TAB>description"
}

@test "merchant update changes only what it is given" {
	wpay-bind merchant add cafe01 --name Cafe --city Beijing >/dev/null
	run --separate-stderr wpay-bind merchant update m:cafe01 --city Shanghai --fee-rate 0.55%
	assert_success
	assert_equal "$(jq -c '[.name, .city, .fee_rate]' <<<"$output")" '["Cafe","Shanghai","0.55%"]'
	refuses 1 bad_field wpay-bind merchant update cafe01 --currency USD
	refuses 1 bad_field wpay-bind merchant update cafe01 --verified
	refuses 1 unknown_merchant wpay-bind merchant update nope --city X
	run --separate-stderr wpay-bind merchant list
	assert_equal "$(jq -r .id <<<"$output")" m:cafe01
}

# ---- the record stream ----

@test "records in, one answer per record, in order, carrying ref; bad lines do not stop the run" {
	printf '%s\n' \
		'{"type":"user","op":"add","uid":"1","nickname":"A","ref":"r1"}' \
		'{"type":"user","op":"add","uid":"2","nickname":' \
		'[1]' \
		'' \
		'{"type":"user","uid":"3","nickname":"C","ref":{"line":3}}' \
		'{"type":"nope","ref":"r4"}' \
		'{"type":"user","op":"frob","ref":"r5"}' \
		'{"uid":"4"}' >"$BATS_TEST_TMPDIR/in"
	printf '%s' '{"type":"user","uid":"5","nickname":"E"}' >>"$BATS_TEST_TMPDIR/in"
	run --separate-stderr wpay-bind <"$BATS_TEST_TMPDIR/in"
	assert_failure 1
	assert_equal "$(jq -c '[.type, (.code // .id), .ref]' <<<"$output" | paste -sd' ')" \
		'["user","u:1","r1"] ["error","bad_json",null] ["error","not_object",null] ["user","u:3",{"line":3}] ["error","unknown_request","r4"] ["error","unknown_request","r5"] ["error","missing_field",null] ["user","u:5",null]'
	assert_equal "${stderr_lines[0]}" "wpay-bind: line 2 is not valid JSON: unexpected token near end of file (column 47) (<stdin>:2)"
	assert_equal "${#stderr_lines[@]}" 5
	assert_equal "$(wpay-bind user list | jq -r .uid | paste -sd,)" "1,3,5"
}

@test "an oversize line is refused whole; invalid UTF-8 and NUL bytes are refused" {
	big=$(head -c 2000 /dev/zero | tr '\0' x)
	run --separate-stderr wpay-bind --max-line 1000 < <(printf '{"type":"user","uid":"1","nickname":"%s"}\n{"type":"user","uid":"2","nickname":"B"}\n' "$big")
	assert_failure 1
	assert_equal "$(jq -r '.code // .id' <<<"$output" | paste -sd,)" "line_too_long,u:2"
	assert_equal "${stderr_lines[0]}" "wpay-bind: line 1 is longer than 1000 bytes; split the record or raise --max-line (<stdin>:1)"
	before=$(ledger_digest)
	run --separate-stderr wpay-bind < <(printf '{"type":"user","uid":"1","nickname":"\xff"}\n')
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_utf8
	run --separate-stderr wpay-bind < <(printf '{"type":"user","uid":"1","nickname":"a\0b"}\n')
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_json
	run --separate-stderr wpay-bind < <(printf '{"type":"user","uid":"1","nickname":"a\\u0000b"}\n')
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_json
	assert_equal "$(ledger_digest)" "$before"
}

@test "deeply nested JSON is refused, not crashed on" {
	deep=$(printf '[%.0s' {1..5000})
	run --separate-stderr wpay-bind <<<"{\"type\":\"user\",\"x\":$deep}"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" bad_json
}

@test "a request is all or nothing: a failed record leaves no trace" {
	wpay-bind wallet add a@example.com >/dev/null
	before=$(ledger_digest)
	run --separate-stderr wpay-bind <<<'{"type":"card","op":"add","wallet":"a@example.com","pan":"4111111111111112"}'
	assert_failure 1
	assert_equal "$(ledger_digest)" "$before"
}

@test "a big batch runs in one process and every answer comes out" {
	for i in $(seq 1 2000); do
		printf '{"type":"user","op":"add","uid":"%d","nickname":"n%d","ref":%d}\n' "$i" "$i" "$i"
	done >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr wpay-bind <"$BATS_TEST_TMPDIR/in"
	assert_success
	assert_equal "${#lines[@]}" 2000
	assert_equal "$(jq -r .ref <<<"$output" | tail -n 1)" 2000
	assert_equal "$(db_sql 'SELECT COUNT(*) FROM users')" 2000
}

@test "answers stream: each is printed before the next request arrives" {
	coproc BIND { wpay-bind; }
	# bash unsets BIND and BIND_PID once the coprocess ends: keep copies.
	local pid=$BIND_PID to=${BIND[1]} from=${BIND[0]}
	echo '{"type":"user","uid":"1","nickname":"A"}' >&"$to"
	read -t 10 -r line <&"$from"
	assert_equal "$(jq -r .id <<<"$line")" u:1
	echo '{"type":"user","uid":"2","nickname":"B"}' >&"$to"
	read -t 10 -r line <&"$from"
	assert_equal "$(jq -r .id <<<"$line")" u:2
	exec {to}>&-
	wait "$pid"
}

@test "a failed write to stdout is an I/O error, exit 74" {
	run --separate-stderr bash -c 'wpay-bind user add 1 --nickname A >/dev/full'
	assert_failure 74
	run --separate-stderr bash -c 'wpay-bind user list >&-'
	assert_failure 74
}

# ---- usage ----

@test "-h prints usage to stdout and exits 0; bad usage exits 64" {
	run --separate-stderr wpay-bind -h
	assert_success
	assert_line --index 0 "usage: wpay-bind [--db path] [--pin-fd n] [--pan-fd n] [--max-line bytes]"
	refuses 64 "" wpay-bind frob
	assert_equal "${stderr_lines[0]}" "wpay-bind: unknown command 'frob'"
	refuses 64 "" wpay-bind user add
	refuses 64 "" wpay-bind user add 1 2 --nickname x
	refuses 64 "" wpay-bind --nickname x
	refuses 64 "" wpay-bind --max-line 1
}

@test "without a ledger every command exits 66 and says to run init" {
	no_ledger
	run --separate-stderr wpay-bind user list
	assert_failure 66
	assert_equal "$stderr" "$(no_ledger_message wpay-bind)"
}
