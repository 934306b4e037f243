#!/usr/bin/env bats
# Many workers on one ledger: on SQLite under make check, on PostgreSQL,
# each worker on its own connection, under make check-pg.
# tests/lib/workers.sh says what must hold.

load helper

@test "4 pay workers over the same 10,000 orders, two of them head on: each order paid once, every worker answers every order with that payment, no deadlock reaches one" {
	init_ledger
	run --separate-stderr bash "$BATS_TEST_DIRNAME/lib/workers.sh" 10000 4
	assert_success
	assert_output --partial "every order paid once (10000 payments, 20001 transfers)"
}

@test "2 settlers at once over the same 120 merchants, in batches of 25: each settled once, both answer each merchant with that settlement" {
	cd "$BATS_TEST_TMPDIR"
	shop_ready
	wpay-bind wallet topup u:1001 --amount 900.00 --request-no t2 >/dev/null
	merchants_with_orders s 120
	wpay-pay --buyer u:1001 --pin-fd 3 3<<<135790 <orders >/dev/null
	# T+15: due 16 days later. Both start at once over the same list, so
	# they meet on every merchant's lock.
	export WPAY_NOW=2026-12-08T08:00:00Z
	wpay-settle --batch-size 25 >a 2>a.err &
	one=$!
	wpay-settle --batch-size 25 >b 2>b.err &
	two=$!
	wait $one
	wait $two
	assert_equal "$(db_sql "SELECT count(*) FROM settlements")" 120
	assert_equal "$(db_sql "SELECT count(*) FROM payments WHERE settlement_id IS NULL")" 0
	assert_equal "$(jq -r 'select(.type == "settlement") | .merchant' a | sort | uniq | wc -l)" 120
	assert_equal "$(jq -r '[.merchant, .id, .net] | join(" ")' a | sort)" "$(jq -r '[.merchant, .id, .net] | join(" ")' b | sort)"
	assert_equal "$(cat a.err b.err)" ""
	assert_ledger_ok
}
