#!/usr/bin/env bats
# Secrets: a card number and a PIN never show in a program's argv or
# environment, its output, the ledger or the key files; a process holding
# them leaves no core file; key files open to others are refused; a
# notification signed with another secret fails verification.

load helper

pan=6222020200112345679
pin=246801

# wait_running PID: wait until the process is the wpay program and has
# protected itself (no core file), as it does before it reads a secret: a
# process just exec'd (slow under ASan on a loaded machine) has not yet.
wait_running() {
	for _ in $(seq 400); do
		tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q '^wpay-' &&
			grep -Eq '^Max core file size +0 +0' "/proc/$1/limits" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "process $1 never became a wpay program without core files" >&2
	return 1
}

# no_secret_in_process PID: not in its argv, not in its environment, and no core file can be made.
no_secret_in_process() {
	! tr '\0' '\n' <"/proc/$1/cmdline" | grep -qe "$pan" -e "$pin"
	# The same digits in the test's own environment (a PID, a temporary
	# name; CI met one) are the caller's, not a leak.
	if tr '\0' '\n' <"/proc/$1/environ" | grep -qe "$pan" -e "$pin"; then
		env | grep -qe "$pan" -e "$pin"
	fi
	grep -Eq '^Max core file size +0 +0' "/proc/$1/limits"
}

# typed pan|pin COMMAND...: run it with descriptor 3 on secret.fifo, check
# the process while it waits, then type the secret.
typed() {
	local secret=${!1}
	shift
	"$@" 3<>secret.fifo 2>>typed.err &
	local p=$!
	wait_running $p
	no_secret_in_process $p
	echo "$secret" >secret.fifo
	wait $p
}

@test "a card number and a PIN never show in argv, the environment, a core file, the output, the ledger or the keys" {
	use_sqlite_file # the file's bytes, its WAL too; tests/20-postgres.bats looks in a server's
	init_ledger
	wpay-bind merchant add cafe01 --name "Cafe Lu" --city Beijing >/dev/null
	wpay-bind merchant approve cafe01 >/dev/null
	wpay-bind user add 1001 --nickname Lu >/dev/null
	wpay-bind wallet add lu@example.com >/dev/null
	wpay-bind user bind 1001 lu@example.com >/dev/null
	cd "$BATS_TEST_TMPDIR"
	mkfifo secret.fifo
	typed pan wpay-bind card add u:1001 --pan-fd 3 >card.out
	assert_equal "$(jq -r .masked card.out)" "622202*********5679"
	typed pin wpay-bind pin set u:1001 --pin-fd 3 >pin.out
	wpay-bind wallet topup u:1001 --amount 50.00 --request-no t1 >topup.out 2>&1
	wpay-order create cafe01 o1 --amount 5.00 | typed pin wpay-pay --buyer u:1001 --pin-fd 3 >pay.out
	assert_equal "$(jq -r .type pay.out)" payment
	# A wrong PIN's error names no PIN.
	wpay-order create cafe01 o2 --amount 5.00 | wpay-pay --buyer u:1001 --pin-fd 3 3<<<135791 >wrong.out 2>wrong.err || true
	assert_equal "$(jq -r .code wrong.out)" pin_wrong
	wpay-check >/dev/null
	db_sql "PRAGMA wal_checkpoint" >/dev/null
	run grep -rac -e "$pan" -e "$pin" -e 135791 ./*.out ./*.err "$WPAY_DB"* "$WPAY_KEYS"
	refute_output --regexp ':[1-9]'
	# Not as its digits apart either: only BIN and last four are kept.
	assert_equal "$(db_sql "SELECT bin || '/' || last4 FROM cards")" 622202/5679
	run grep -rac 020200112345 "$WPAY_DB"*
	refute_output --regexp ':[1-9]'
}

@test "key files open to group or others are refused by every program that reads them" {
	init_ledger
	for key in pin-pepper.key card-fingerprint.key; do
		chmod 0640 "$WPAY_KEYS/$key"
		for prog in wpay-bind wpay-pay wpay-order wpay-settle; do
			run --separate-stderr "$prog" </dev/null
			assert_failure 77
			[[ "$stderr" == *"is open to group or others"* ]]
		done
		chmod 0600 "$WPAY_KEYS/$key"
	done
	ln -s "$WPAY_KEYS/pin-pepper.key" "$BATS_TEST_TMPDIR/link.key"
	mv "$WPAY_KEYS/pin-pepper.key" "$BATS_TEST_TMPDIR/real.key"
	ln -s "$BATS_TEST_TMPDIR/real.key" "$WPAY_KEYS/pin-pepper.key"
	run --separate-stderr wpay-pay </dev/null
	assert_failure 77
}
