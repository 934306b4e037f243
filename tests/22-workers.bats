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
