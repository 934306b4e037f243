#!/usr/bin/env bats
# Merchant approval (issue 15): applied, approved, suspended; what each
# state may do; T0 for approved, verified enterprises; and the deposit kept
# whole: a T0 merchant's short deposit topped up from its next payout, or
# the merchant put on T15 with the reason. The ledger's zone is
# Asia/Shanghai (UTC+8), the cut-off hour 0.

load helper

setup() {
	wpay_setup
	init_ledger
	export WPAY_NOW=2026-10-20T02:00:00Z # 10:00 in Shanghai
	buyer_ready 1001
	wpay-bind wallet topup u:1001 --amount 1000.00 --request-no t1 >/dev/null
}

pay() { # pay MERCHANT OUT_TRADE_NO AMOUNT
	wpay-order create "$1" "$2" --amount "$3" | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 >/dev/null
}

events() { # events MERCHANT: its event kinds, in name order (the test clock stands still)
	db_sql "SELECT kind FROM events WHERE merchant_id = '$1'" | sort | tr '\n' ' '
}

# A T0 merchant (a verified enterprise with its deposit) with a payout account.
t0_merchant() { # t0_merchant NO
	wpay-bind merchant add "$1" --name "Tea $1" --city Beijing --kind enterprise --verified \
		--bank-account 6222000011112222 >/dev/null
	wpay-bind merchant deposit "$1" --amount 20000.00 --request-no "d_$1" >/dev/null
	wpay-bind merchant update "$1" --settlement T0 >/dev/null
}

@test "add is the application: an individual or unverified enterprise applies, a verified enterprise is approved at once" {
	run --separate-stderr wpay-bind merchant add stall1 --name Stall --city Beijing
	assert_success
	assert_equal "$(jq -c '[.state, .state_reason, .state_at, .settlement_reason]' <<<"$output")" \
		'["applied",null,"2026-10-20T02:00:00Z",null]'
	assert_equal "$(events stall1)" "merchant.applied "
	assert_equal "$(db_sql "SELECT body FROM events WHERE merchant_id = 'stall1'" | jq -c '[.merchant, .state, .previous_state]')" \
		'["m:stall1","applied",null]'
	run --separate-stderr wpay-bind merchant add corp1 --name Corp --city Beijing --kind enterprise
	assert_equal "$(jq -r .state <<<"$output")" applied
	run --separate-stderr wpay-bind merchant add bluev --name BlueV --city Beijing --kind enterprise --verified
	assert_equal "$(jq -r .state <<<"$output")" approved
	assert_equal "$(events bluev)" ""
	# The same application again answers the same record and queues nothing.
	run --separate-stderr wpay-bind merchant add stall1 --name Stall --city Beijing
	assert_success
	assert_equal "$(jq -r .state <<<"$output")" applied
	assert_equal "$(events stall1)" "merchant.applied "
	assert_equal "$(wpay-bind merchant list | jq -r '.id + " " + .state' | tr '\n' ' ')" \
		"m:bluev approved m:corp1 applied m:stall1 applied "
}

@test "approve and suspend: every change a record and an event; the same change again is a no-op" {
	wpay-bind merchant add stall1 --name Stall --city Beijing >/dev/null
	export WPAY_NOW=2026-10-20T03:00:00Z
	run --separate-stderr wpay-bind merchant approve m:stall1 --reason "licence checked"
	assert_success
	assert_equal "$(jq -c '[.state, .state_reason, .state_at]' <<<"$output")" \
		'["approved","licence checked","2026-10-20T03:00:00Z"]'
	export WPAY_NOW=2026-10-20T04:00:00Z
	run --separate-stderr wpay-bind merchant approve stall1
	assert_success
	assert_equal "$(jq -c '[.state, .state_reason, .state_at]' <<<"$output")" \
		'["approved","licence checked","2026-10-20T03:00:00Z"]'
	assert_equal "$(events stall1)" "merchant.applied merchant.approved "
	run --separate-stderr wpay-bind merchant suspend stall1 --reason "complaints about fakes"
	assert_success
	assert_equal "$(jq -c '[.state, .state_reason, .state_at]' <<<"$output")" \
		'["suspended","complaints about fakes","2026-10-20T04:00:00Z"]'
	run --separate-stderr wpay-bind merchant suspend stall1 --reason "again"
	assert_success
	assert_equal "$(jq -r .state_reason <<<"$output")" "complaints about fakes"
	assert_equal "$(events stall1)" "merchant.applied merchant.approved merchant.suspended "
	assert_equal "$(db_sql "SELECT body FROM events WHERE kind = 'merchant.suspended'" | jq -c '[.state, .previous_state, .reason, .state_at]')" \
		'["suspended","approved","complaints about fakes","2026-10-20T04:00:00Z"]'
	# Back to approved; its reason replaces the suspension's.
	run --separate-stderr wpay-bind merchant approve stall1
	assert_equal "$(jq -c '[.state, .state_reason]' <<<"$output")" '["approved",null]'
	# An applicant can be suspended (turned down) too; and a record does what the command does.
	wpay-bind merchant add stall2 --name Stall --city Beijing >/dev/null
	run --separate-stderr wpay-bind <<<'{"type":"merchant","op":"suspend","merchant":"stall2","reason":"no licence","ref":"x"}'
	assert_success
	assert_equal "$(jq -c '[.state, .ref]' <<<"$output")" '["suspended","x"]'
	assert_equal "$(events stall2)" "merchant.applied merchant.suspended "
	assert_ledger_ok
}

@test "approve and suspend refuse what is wrong, and change nothing" {
	wpay-bind merchant add stall1 --name Stall --city Beijing >/dev/null
	refuses 1 missing_field wpay-bind merchant suspend stall1
	refuses 1 missing_field wpay-bind merchant suspend stall1 --reason ""
	refuses 1 bad_field wpay-bind merchant approve stall1 --reason ""
	refuses 1 bad_field wpay-bind merchant suspend stall1 --reason "$(printf 'a\tb')"
	refuses 1 bad_field wpay-bind merchant suspend stall1 --reason "$(printf 'r%.0s' {1..201})"
	refuses 1 unknown_merchant wpay-bind merchant approve nobody
	refuses 1 unknown_merchant wpay-bind merchant suspend m:nobody --reason x
	refuses 1 bad_field wpay-bind <<<'{"type":"merchant","op":"suspend","merchant":"stall1","reason":42}'
	refuses 1 bad_field wpay-bind <<<'{"type":"merchant","op":"approve","merchant":["stall1"]}'
	refuses 64 "" wpay-bind merchant approve
	refuses 64 "" wpay-bind merchant approve stall1 stall2
	refuses 64 "" wpay-bind merchant suspend stall1 --reason
	assert_equal "$(wpay-bind merchant show stall1 | jq -r .state)" applied
	assert_equal "$(events stall1)" "merchant.applied "
	# A reason of 200 characters is taken whole.
	run --separate-stderr wpay-bind merchant suspend stall1 --reason "$(printf '说%.0s' {1..200})"
	assert_success
	assert_equal "$(jq -r '.state_reason | length' <<<"$output")" 200
}

@test "an applicant cannot have codes made, take orders or be paid until approved" {
	wpay-bind merchant add stall1 --name Stall --city Beijing >/dev/null
	refuses 1 merchant_not_approved wpay-mkqr stall1 --amount 1.00 --format txt -o "$BATS_TEST_TMPDIR/c.txt"
	[[ "$stderr" == *"m:stall1 has applied and is not approved yet"*"wpay bind merchant approve m:stall1"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/c.txt" ]
	refuses 1 merchant_not_approved wpay-order create stall1 o1 --amount 1.00
	wpay-bind merchant approve stall1 >/dev/null
	run --separate-stderr wpay-mkqr stall1 --amount 2.00 --reference r1 --format txt -o "$BATS_TEST_TMPDIR/c.txt"
	assert_success
	pay stall1 o1 1.00
	assert_equal "$(wpay-order query stall1 o1 | jq -r .state)" paid
	assert_ledger_ok
}

@test "a suspended merchant: no codes, orders or payments; refunds and settlement of what it was paid go on" {
	wpay-bind merchant add stall1 --name Stall --city Beijing --bank-account 6222000011112222 >/dev/null
	wpay-bind merchant approve stall1 >/dev/null
	payload=$(wpay-mkqr stall1 | jq -r .payload)
	dynamic=$(wpay-mkqr stall1 --amount 3.00 --reference r1 | jq -r .payload)
	pay stall1 o1 50.00
	wpay-order create stall1 o2 --amount 20.00 >/dev/null
	wpay-bind merchant suspend stall1 --reason "fake goods" >/dev/null
	# Paying an order made while approved is refused, and it stays unpaid.
	before=$(wpay-bind wallet balance u:1001 | jq -r .balance)
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <<<"$(wpay-order query stall1 o2)"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" merchant_not_approved
	[[ "$stderr" == *"m:stall1 is suspended (fake goods), so it cannot be paid"* ]]
	assert_equal "$(wpay-order query stall1 o2 | jq -r .state)" created
	assert_equal "$(wpay-bind wallet balance u:1001 | jq -r .balance)" "$before"
	refuses 1 merchant_not_approved wpay-mkqr stall1
	refuses 1 merchant_not_approved wpay-order create stall1 o3 --amount 1.00
	# Codes made before: an order from one is refused (static and dynamic).
	run --separate-stderr wpay-order --buyer u:1001 --amount 5.00 --request-no q1 <<<"$(wpay-scanqr --payload <<<"$payload")"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" merchant_not_approved
	run --separate-stderr wpay-order --buyer u:1001 <<<"$(wpay-scanqr --payload <<<"$dynamic")"
	assert_equal "$(jq -r .code <<<"$output")" merchant_not_approved
	# Paying a paid order again answers it, as always: nothing moves.
	run --separate-stderr wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <<<"$(wpay-order query stall1 o1)"
	assert_success
	# The buyer keeps the right to a refund.
	run --separate-stderr wpay-refund stall1 o1 r1 --amount 10.00
	assert_success
	assert_equal "$(jq -r .amount <<<"$output")" 1000
	# And the merchant is settled for what it was paid (T15).
	export WPAY_NOW=2026-11-05T02:00:00Z
	run --separate-stderr wpay-settle
	assert_success
	assert_equal "$(jq -c '[.merchant, .mode, .payments, .refunds, .payout]' <<<"$output")" \
		"[\"m:stall1\",\"T15\",1,1,$((5000 - 30 - 1000 + 6))]"
	assert_ledger_ok
}

@test "update: a suspended merchant may put its details right but not ask for T0; kind and verification never change the state" {
	wpay-bind merchant add corp1 --name Corp --city Beijing --kind enterprise --verified >/dev/null
	wpay-bind merchant deposit corp1 --amount 20000.00 --request-no d1 >/dev/null
	wpay-bind merchant suspend corp1 --reason "bank account closed" >/dev/null
	run --separate-stderr wpay-bind merchant update corp1 --bank-account 6222000011113333 --name "Corp New"
	assert_success
	assert_equal "$(jq -c '[.state, .name, .bank_account]' <<<"$output")" '["suspended","Corp New","****3333"]'
	refuses 1 t0_not_allowed wpay-bind merchant update corp1 --settlement T0
	assert_equal "$stderr" "wpay-bind: merchant m:corp1 cannot settle T0: it is not approved; T0 is for approved, verified enterprise merchants holding the deposit"
	wpay-bind merchant approve corp1 >/dev/null
	# Unverifying an enterprise neither suspends nor approves anything.
	run --separate-stderr wpay-bind <<<'{"type":"merchant","op":"update","merchant":"corp1","verified":false}'
	assert_equal "$(jq -c '[.verified, .state]' <<<"$output")" '[false,"approved"]'
	wpay-bind merchant add corp2 --name Corp --city Beijing --kind enterprise >/dev/null
	run --separate-stderr wpay-bind merchant update corp2 --verified
	assert_equal "$(jq -c '[.verified, .state]' <<<"$output")" '[true,"applied"]'
	assert_equal "$(events corp1)" "merchant.approved merchant.suspended "
	assert_equal "$(events corp2)" "merchant.applied "
}

@test "T0 is for approved, verified enterprises with the deposit; the update that makes one may ask for it" {
	wpay-bind merchant add stall1 --name Stall --city Beijing >/dev/null
	wpay-bind merchant approve stall1 >/dev/null
	wpay-bind merchant deposit stall1 --amount 20000.00 --request-no d1 >/dev/null
	refuses 1 t0_not_allowed wpay-bind merchant update stall1 --settlement T0
	[[ "$stderr" == *"it is not an enterprise"* ]]
	refuses 1 t0_not_allowed wpay-bind merchant update stall1 --kind enterprise --settlement T0
	[[ "$stderr" == *"it is not verified"* ]]
	refuses 1 t0_not_allowed wpay-bind merchant add stall2 --name S --city C --settlement T0
	refuses 1 t0_not_allowed wpay-bind merchant add corp3 --name S --city C --kind enterprise --settlement T0
	run --separate-stderr wpay-bind merchant update stall1 --kind enterprise --verified --settlement T0
	assert_success
	assert_equal "$(jq -c '[.kind, .verified, .settlement]' <<<"$output")" '["enterprise",true,"T0"]'
	# The deposit comes with it, or first.
	wpay-bind merchant add corp4 --name C --city C --kind enterprise --verified >/dev/null
	refuses 1 deposit_required wpay-bind merchant update corp4 --settlement T0
}

@test "a T0 merchant that no longer qualifies (suspended, unverified) is settled T15 with a note" {
	t0_merchant tea1
	t0_merchant tea2
	pay tea1 o1 10.00
	pay tea2 o1 10.00
	wpay-bind merchant suspend tea1 --reason review >/dev/null
	wpay-bind <<<'{"type":"merchant","op":"update","merchant":"tea2","verified":false}' >/dev/null
	export WPAY_NOW=2026-10-21T02:00:00Z
	run --separate-stderr wpay-settle --date 2026-10-21
	assert_success
	assert_output "" # T15: nothing due yet
	run --separate-stderr wpay-settle --preview
	assert_equal "$(jq -r '[.merchant, .date, .mode, .note] | join(" ")' <<<"$output")" \
		"m:tea1 2026-11-05 T15 settled as T15: it is not approved, and T0 is for approved, verified enterprise merchants
m:tea2 2026-11-05 T15 settled as T15: it is not verified, and T0 is for approved, verified enterprise merchants"
	# Still set to T0: approved and verified again, it is settled T0.
	assert_equal "$(wpay-bind merchant show tea1 | jq -r .settlement)" T0
	wpay-bind merchant approve tea1 >/dev/null
	export WPAY_NOW=2026-10-22T02:00:00Z
	run --separate-stderr wpay-settle --date 2026-10-22
	assert_equal "$(jq -c '[.merchant, .mode, .payments]' <<<"$output")" '["m:tea1","T0",1]'
}

@test "the issue's story: a 5.00 refund after settlement comes from the deposit; the next settlement tops it up and stays T0" {
	t0_merchant cafe01
	pay cafe01 o1 100.00
	export WPAY_NOW=2026-10-21T02:00:00Z
	run --separate-stderr wpay-settle
	assert_equal "$(jq -c '[.mode, .payout, .deposit_topup]' <<<"$output")" '["T0",9940,0]'
	run --separate-stderr wpay-refund cafe01 o1 r1 --amount 5.00
	assert_success
	# 5.00 out of the deposit, its 0.03 fee back into it.
	assert_equal "$(wpay-bind merchant balance cafe01 | jq -c '[.deposit, .deposit_shortfall]')" '[1999503,497]'
	pay cafe01 o2 30.00
	export WPAY_NOW=2026-10-22T02:00:00Z
	# The dry run and the forecast show the same figures and move nothing.
	before=$(ledger_digest)
	fields='[.mode, .note, .payments, .refunds, .refunded_from_deposit, .net, .deposit_topup, .payout]'
	want="[\"T0\",null,1,1,500,$((3000 - 18)),497,$((3000 - 18 - 497))]"
	run --separate-stderr wpay-settle --dry-run
	assert_equal "$(jq -c "$fields" <<<"$output")" "$want"
	run --separate-stderr wpay-settle --preview
	assert_equal "$(jq -c "$fields" <<<"$output")" "$want"
	assert_equal "$(ledger_digest)" "$before"
	assert_equal "$(db_sql "SELECT count(*) FROM events WHERE kind LIKE 'deposit.%'")" 0
	run --separate-stderr wpay-settle --out "$BATS_TEST_TMPDIR/out"
	assert_success
	assert_equal "$(jq -c "$fields" <<<"$output")" "$want"
	sid=$(jq -r .id <<<"$output")
	assert_equal "$(wpay-bind merchant balance cafe01 | jq -c '[.deposit, .deposit_shortfall, .payout]')" \
		"[2000000,0,$((9940 + 2485 - 2000000))]"
	assert_equal "$(wpay-bind merchant show cafe01 | jq -c '[.settlement, .settlement_reason]')" '["T0",null]'
	assert_equal "$(db_sql "SELECT body FROM events WHERE kind = 'deposit.restored'" |
		jq -c '[.settlement == "'"$sid"'", .shortfall, .deposit_topup, .deposit_shortfall, .deposit, .settlement_mode]')" \
		'[true,497,497,0,2000000,"T0"]'
	# One transfer pending -> deposit, for the settlement; the payout file pays the rest; the bill says both.
	assert_equal "$(db_sql "SELECT from_account, to_account, amount, ref FROM transfers WHERE kind = 'deposit_topup'")" \
		"pending:m:cafe01|deposit:m:cafe01|497|$sid"
	grep -qx "m:cafe01,6222000011112222,24.85,CNY,$sid" "$BATS_TEST_TMPDIR/out/payouts-2026-10-22.csv"
	grep -q "deposit_topup,.*4\.97" "$BATS_TEST_TMPDIR/out/bill-2026-10-22-cafe01.csv"
	run --separate-stderr wpay-bill cafe01 --date 2026-10-22 --kind fund --format jsonl
	assert_success
	assert_equal "$(jq -c 'select(.kind == "deposit_topup") | [.account, .in, .out]' <<<"$output" | sort)" \
		'["deposit",497,0]
["pending",0,497]'
	# A rerun of the date moves nothing twice.
	before=$(ledger_digest)
	run --separate-stderr wpay-settle --date 2026-10-22
	assert_equal "$(jq -r .id <<<"$output")" "$sid"
	assert_equal "$(ledger_digest)" "$before"
	assert_equal "$(db_sql "SELECT count(*) FROM events WHERE kind LIKE 'deposit.%'")" 1
	assert_ledger_ok
}

@test "a refund alone leaves the mode be; payments that cannot cover the shortfall put the merchant on T15 with the reason" {
	t0_merchant cafe01
	pay cafe01 o1 100.00
	export WPAY_NOW=2026-10-21T02:00:00Z
	wpay-settle >/dev/null
	wpay-refund cafe01 o1 r1 --amount 100.00 >/dev/null
	assert_equal "$(wpay-bind merchant balance cafe01 | jq -r .deposit_shortfall)" $((10000 - 60))
	# The refund falls due alone: nothing to top up from, still T0.
	export WPAY_NOW=2026-10-22T02:00:00Z
	run --separate-stderr wpay-settle
	assert_equal "$(jq -c '[.mode, .refunds, .deposit_topup, .payout]' <<<"$output")" '["T0",1,0,0]'
	assert_equal "$(jq -r .note <<<"$output")" "the deposit was 99.40 CNY short and this payout put 0.00 CNY back; the next payout makes up the rest"
	assert_equal "$(wpay-bind merchant show cafe01 | jq -r .settlement)" T0
	assert_equal "$(db_sql "SELECT body FROM events WHERE kind = 'deposit.short'" | jq -c '[.deposit_shortfall, .settlement_mode]')" '[9940,"T0"]'
	# A payment of 10.00 cannot make up 99.40: all it nets goes to the deposit, and T15 from now on.
	pay cafe01 o2 10.00
	export WPAY_NOW=2026-10-23T02:00:00Z
	run --separate-stderr wpay-settle --preview
	assert_equal "$(jq -c '[.date, .mode, .deposit_topup, .payout]' <<<"$output")" '["2026-10-23","T0",994,0]'
	run --separate-stderr wpay-settle
	assert_equal "$(jq -c '[.mode, .payments, .deposit_topup, .payout]' <<<"$output")" '["T0",1,994,0]'
	sid=$(jq -r .id <<<"$output")
	assert_equal "$(jq -r .note <<<"$output")" "the deposit was 99.40 CNY short and this payout put 9.94 CNY back; T15 from the next settlement on"
	run --separate-stderr wpay-bind merchant show cafe01
	assert_equal "$(jq -r .settlement <<<"$output")" T15
	assert_equal "$(jq -r .settlement_reason <<<"$output")" \
		"settlement $sid of 2026-10-23: the deposit was 99.40 CNY short of the 20000.00 CNY that T0 needs and its payout put 9.94 CNY back; deposit the rest, then ask for T0 again"
	assert_equal "$(wpay-bind merchant balance cafe01 | jq -r .deposit_shortfall)" $((9940 - 994))
	assert_equal "$(db_sql "SELECT body FROM events WHERE kind = 'deposit.short' ORDER BY created_at DESC, id DESC" | head -1 |
		jq -c '[.shortfall, .deposit_topup, .deposit_shortfall, .settlement_mode]')" '[9940,994,8946,"T15"]'
	# Later payouts are T15 and do not top up; T0 again takes the deposit and the asking.
	pay cafe01 o3 10.00
	export WPAY_NOW=2026-10-24T02:00:00Z
	run --separate-stderr wpay-settle
	assert_output ""
	refuses 1 deposit_required wpay-bind merchant update cafe01 --settlement T0
	wpay-bind merchant deposit cafe01 --amount 89.46 --request-no d2 >/dev/null
	run --separate-stderr wpay-bind merchant update cafe01 --settlement T0
	assert_equal "$(jq -c '[.settlement, .settlement_reason]' <<<"$output")" '["T0",null]'
	assert_ledger_ok
}

@test "crash safety: a crash after the top-up keeps neither it nor the payout; the rerun does both once" {
	t0_merchant cafe01
	pay cafe01 o1 100.00
	export WPAY_NOW=2026-10-21T02:00:00Z
	wpay-settle >/dev/null
	wpay-refund cafe01 o1 r1 --amount 5.00 >/dev/null
	pay cafe01 o2 30.00
	export WPAY_NOW=2026-10-22T02:00:00Z
	before=$(ledger_digest)
	run --separate-stderr env WPAY_CRASH=settle_topup:1 wpay-settle
	assert_failure 137
	assert_equal "$(ledger_digest)" "$before"
	assert_equal "$(wpay-bind merchant balance cafe01 | jq -r .deposit_shortfall)" 497
	run --separate-stderr wpay-settle
	assert_equal "$(jq -c '[.deposit_topup, .payout]' <<<"$output")" "[497,$((3000 - 18 - 497))]"
	assert_equal "$(db_sql "SELECT count(*) FROM transfers WHERE kind = 'deposit_topup'")" 1
	assert_ledger_ok
}

@test "a ledger's merchants from before approval states are approved by the migration, and keep trading" {
	wpay-bind merchant add old1 --name Old --city Beijing >/dev/null
	schema_back_to_v4_sql | db_sql
	schema_version_set 4
	run --separate-stderr wpay-bind merchant show old1
	assert_success
	assert_equal "$(schema_version)" 9
	assert_equal "$(jq -c '[.state, .state_at]' <<<"$output")" '["approved",null]'
	pay old1 o1 1.00
	assert_equal "$(wpay-order query old1 o1 | jq -r .state)" paid
}
