#!/usr/bin/env bats
# The PIN lockout attacked: a guesser who kills the program the moment it
# could tell the answer, guessers racing each other, and a PIN prompt that
# must not lock other writers out of the ledger while a person types.

load helper

setup() {
	wpay_setup
	shop_ready
	ord=$(wpay-order create cafe01 o1 --amount 1.00 | jq -r .id)
}

failures() {
	db_sql "SELECT pin_failures, CASE WHEN locked_until IS NULL THEN 0 ELSE 1 END FROM wallets WHERE login = '1001@example.com'"
}

# Wait until PID blocks in the kernel function WHAT (pipe_read: a person
# who has not typed yet; pipe_write: a pipe nobody drains).
wait_blocked() { # PID WHAT
	for _ in $(seq 200); do
		grep -q "$2" "/proc/$1/wchan" 2>/dev/null && return 0
		sleep 0.02
	done
	echo "process $1 never blocked in $2" >&2
	return 1
}

# Guess a PIN with CMD (which reads it on fd 3), and SIGKILL it the moment
# it tries to write anything to STREAM (1 or 2): the stream is a pipe
# filled to the brim, so its first write blocks, and a blocked write is
# all the attacker needs to see (only a failure writes to stderr).
guess_and_kill() { # STREAM PIN CMD...
	local stream=$1 pin=$2 fifo="$BATS_TEST_TMPDIR/watch" pid
	shift 2
	rm -f "$fifo"
	mkfifo "$fifo"
	exec 5<>"$fifo"
	head -c 65536 /dev/zero >&5
	if [ "$stream" = 2 ]; then
		"$@" 3<<<"$pin" >/dev/null 2>&5 &
	else
		"$@" 3<<<"$pin" 2>/dev/null >&5 &
	fi
	pid=$!
	wait_blocked "$pid" pipe_write
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	exec 5>&-
}

@test "killing wpay-pay the moment it writes its verdict does not save a wrong PIN from being counted" {
	for pin in 000001 000002 000003 000004 000005 000006; do
		guess_and_kill 2 "$pin" wpay-pay --order "$ord" --buyer u:1001 --pin-fd 3
	done
	assert_equal "$(failures)" "0|1"
	run --separate-stderr wpay-pay --order "$ord" --buyer u:1001 --pin-fd 3 3<<<135790
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" pin_locked
	assert_equal "$(wpay-order query "$ord" | jq -r .state)" created
	assert_ledger_ok
}

@test "the same, watching standard output, and for wpay bind pin change" {
	guess_and_kill 1 000001 wpay-pay --order "$ord" --buyer u:1001 --pin-fd 3
	assert_equal "$(failures)" "1|0"
	guess_and_kill 2 $'000002\n246802' wpay-bind pin change u:1001 --pin-fd 3
	assert_equal "$(failures)" "2|0"
	guess_and_kill 1 $'000003\n246802' wpay-bind pin change u:1001 --pin-fd 3
	assert_equal "$(failures)" "0|1"
	run --separate-stderr wpay-bind pin change u:1001 --pin-fd 3 3< <(printf '135790\n246802\n')
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" pin_locked
}

@test "a right PIN clears the count even when the payment then fails" {
	big=$(wpay-order create cafe01 big --amount 500.00 | jq -r .id)
	for i in 1 2 3 4; do
		run --separate-stderr wpay-pay --order "$big" --buyer u:1001 --pin-fd 3 3<<<135790
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" insufficient_funds
	done
	assert_equal "$(failures)" "0|0"
	run --separate-stderr wpay-pay --order "$ord" --buyer u:1001 --pin-fd 3 3<<<135790
	assert_success
	assert_ledger_ok
}

@test "six guessers racing each other get at most the allowed tries between them" {
	for pin in 000001 000002 000003 000004 000005 000006; do
		wpay-pay --order "$ord" --buyer u:1001 --pin-fd 3 3<<<"$pin" >"$BATS_TEST_TMPDIR/out.$pin" 2>/dev/null &
	done
	wait || true
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/out.* | jq -r .code | sort | uniq -c | awk '{print $2 ":" $1}' | paste -sd ' ')" \
		"pin_locked:4 pin_wrong:2"
	run --separate-stderr wpay-pay --order "$ord" --buyer u:1001 --pin-fd 3 3<<<135790
	assert_equal "$(jq -r .code <<<"$output")" pin_locked
}

@test "while a PIN is awaited, other writers are not locked out of the ledger" {
	export WPAY_BUSY_TIMEOUT=300
	for cmd in "wpay-pay --order $ord --buyer u:1001" "wpay-bind pin change u:1001"; do
		fifo="$BATS_TEST_TMPDIR/pin.fifo"
		rm -f "$fifo"
		mkfifo "$fifo"
		exec 4<>"$fifo"
		$cmd --pin-fd 3 3<"$fifo" >"$BATS_TEST_TMPDIR/answer" 2>&1 &
		pid=$!
		wait_blocked "$pid" pipe_read
		# A payment from another till, while the first buyer hesitates.
		run --separate-stderr wpay-bind wallet topup u:1001 --amount 1.00 --request-no "t_${pid}"
		assert_success
		printf '135790\n246802\n' >&4
		exec 4>&-
		wait "$pid"
	done
	assert_equal "$(wpay-order query "$ord" | jq -r .state)" paid
	assert_equal "$(jq -r .status "$BATS_TEST_TMPDIR/answer")" changed
	assert_ledger_ok
}
