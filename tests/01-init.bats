#!/usr/bin/env bats
# wpay-init: the ledger and the key files, made once, never overwritten.

load helper

@test "init creates the ledger and 0600 key files and says what it made" {
	use_sqlite_file # the file's mode; tests/20-postgres.bats has a database's
	run --separate-stderr wpay-init
	assert_success
	assert_equal "$(jq -r .type <<<"$output")" init
	assert_equal "$(jq -r .db <<<"$output")" "$WPAY_DB"
	assert_equal "$(jq -r '.created | length' <<<"$output")" 6
	assert_equal "$(jq -r .allow_private_notify <<<"$output")" false
	kid=$(jq -r .signing_key_id <<<"$output")
	[[ "$kid" =~ ^[0-9a-f]{8}$ ]]
	for f in pin-pepper.key card-fingerprint.key "signing-$kid.key" "signing-$kid.pub" signing.current; do
		assert_equal "$(stat -c %a "$WPAY_KEYS/$f")" 600
	done
	assert_equal "$(stat -c %a "$WPAY_DB")" 600
	assert_equal "$(stat -c %a "$WPAY_KEYS")" 700
}

@test "init is idempotent and never overwrites a key" {
	wpay-init >/dev/null
	before=$(cat "$WPAY_KEYS"/* | sha256sum)
	run --separate-stderr wpay-init
	assert_success
	assert_equal "$(jq -c .created <<<"$output")" "[]"
	assert_equal "$(cat "$WPAY_KEYS"/* | sha256sum)" "$before"
}

@test "init makes only what is missing" {
	wpay-init >/dev/null
	rm "$WPAY_KEYS/card-fingerprint.key"
	run --separate-stderr wpay-init
	assert_success
	assert_equal "$(jq -c .created <<<"$output")" '["card-fingerprint.key"]'
}

@test "init refuses a key file that group or others can read" {
	wpay-init >/dev/null
	chmod 644 "$WPAY_KEYS/pin-pepper.key"
	run --separate-stderr wpay-init
	assert_failure 77
	assert_equal "$output" ""
	assert_equal "$stderr" "wpay-init: key file $WPAY_KEYS/pin-pepper.key is open to group or others (mode 0644); run: chmod 600 $WPAY_KEYS/pin-pepper.key"
}

@test "every program refuses a readable key file" {
	wpay-init >/dev/null
	chmod 640 "$WPAY_KEYS/card-fingerprint.key"
	run --separate-stderr wpay-bind user list
	assert_failure 77
	assert_output ""
	assert_equal "$stderr" "wpay-bind: key file $WPAY_KEYS/card-fingerprint.key is open to group or others (mode 0640); run: chmod 600 $WPAY_KEYS/card-fingerprint.key"
}

@test "init refuses a key file that is a link" {
	wpay-init >/dev/null
	mv "$WPAY_KEYS/pin-pepper.key" "$BATS_TEST_TMPDIR/pepper"
	ln -s "$BATS_TEST_TMPDIR/pepper" "$WPAY_KEYS/pin-pepper.key"
	run --separate-stderr wpay-init
	assert_failure 77
	assert_equal "$stderr" "wpay-init: key file $WPAY_KEYS/pin-pepper.key is not a regular file (a link?); replace it with the file itself"
}

@test "a key directory that group or others can write is refused by init and every program, with exit 77" {
	wpay-init >/dev/null
	for mode in 0777 0770 0702; do
		chmod "$mode" "$WPAY_KEYS"
		run --separate-stderr wpay-init
		assert_failure 77
		assert_output ""
		assert_equal "$stderr" "wpay-init: the key directory $WPAY_KEYS is writable by group or others (mode $mode), so anyone could plant a key in it; run: chmod 700 $WPAY_KEYS"
		for prog in wpay-bind wpay-mkqr wpay-order wpay-pay wpay-refund wpay-settle "wpay-notify --once"; do
			run --separate-stderr $prog </dev/null
			assert_failure 77
			assert_equal "$stderr" "${prog% *}: the key directory $WPAY_KEYS is writable by group or others (mode $mode), so anyone could plant a key in it; run: chmod 700 $WPAY_KEYS"
		done
		run --separate-stderr wpay-init --public-key
		assert_failure 77
	done
	# Readable by others is fine (the files in it are 0600); writable is not.
	chmod 0755 "$WPAY_KEYS"
	run --separate-stderr wpay-init
	assert_success
}

@test "a new key directory inside one that others can write is refused too" {
	mkdir -m 0777 "$BATS_TEST_TMPDIR/open"
	export WPAY_KEYS="$BATS_TEST_TMPDIR/open"
	run --separate-stderr wpay-init
	assert_failure 77
	[[ "$stderr" == *"the key directory $WPAY_KEYS is writable by group or others (mode 0777)"* ]]
	[ ! -e "$WPAY_KEYS/pin-pepper.key" ]
}

@test "a key directory of another user is refused" {
	[ "$(id -u)" = 0 ] || skip "needs root to give a directory away"
	wpay-init >/dev/null
	chown nobody "$WPAY_KEYS"
	run --separate-stderr wpay-init
	assert_failure 77
	assert_equal "$stderr" "wpay-init: the key directory $WPAY_KEYS belongs to uid $(id -u nobody), not to this user; refusing to trust its keys"
	run --separate-stderr wpay-bind user list
	assert_failure 77
}

@test "init --public-key refuses a public key others can write, or a link, and prints a 0644 one" {
	wpay-init >/dev/null
	pub="$WPAY_KEYS/signing-$(cat "$WPAY_KEYS/signing.current").pub"
	chmod 0666 "$pub"
	run --separate-stderr wpay-init --public-key
	assert_failure 77
	assert_output ""
	assert_equal "$stderr" "wpay-init: key file $pub is writable by group or others (mode 0666); run: chmod 644 $pub"
	chmod 0644 "$pub"
	run --separate-stderr wpay-init --public-key
	assert_success
	assert_equal "$output" "$(cat "$pub")"
	mv "$pub" "$BATS_TEST_TMPDIR/real.pub"
	ln -s "$BATS_TEST_TMPDIR/real.pub" "$pub"
	run --separate-stderr wpay-init --public-key
	assert_failure 77
	assert_equal "$stderr" "wpay-init: key file $pub is not a regular file (a link?); replace it with the file itself"
}

@test "a damaged key file is reported, not used" {
	wpay-init >/dev/null
	printf 'not hex\n' >"$WPAY_KEYS/pin-pepper.key"
	run --separate-stderr wpay-bind user list
	assert_failure 65
	assert_equal "$stderr" "wpay-bind: key file $WPAY_KEYS/pin-pepper.key does not hold 32 hex bytes; restore it from backup"
}

@test "init --public-key prints the signing public key as PEM that OpenSSL reads" {
	wpay-init >/dev/null
	run --separate-stderr wpay-init --public-key
	assert_success
	assert_line --index 0 -- "-----BEGIN PUBLIC KEY-----"
	openssl pkey -pubin -noout -text <<<"$output" | grep -q ED25519
}

@test "init --public-key before init says to run init" {
	run --separate-stderr wpay-init --public-key
	assert_failure 66
	assert_equal "$stderr" "wpay-init: cannot read key file $WPAY_KEYS/signing.current: No such file or directory; run 'wpay init' first"
}

@test "init sets the PIN lockout settings" {
	run --separate-stderr wpay-init --pin-tries 5 --pin-lock 30m
	assert_success
	assert_equal "$(jq -c '[.pin_max_tries, .pin_lock_seconds]' <<<"$output")" "[5,1800]"
	run --separate-stderr wpay-init
	assert_equal "$(jq -c '[.pin_max_tries, .pin_lock_seconds]' <<<"$output")" "[5,1800]"
}

@test "init sets the refund window" {
	run --separate-stderr wpay-init
	assert_equal "$(jq -r .refund_window_days <<<"$output")" 90
	run --separate-stderr wpay-init --refund-window 30
	assert_equal "$(jq -r .refund_window_days <<<"$output")" 30
	run --separate-stderr wpay-init --refund-window 0
	assert_failure 64
}

@test "init refuses bad settings with exit 64" {
	run --separate-stderr wpay-init --pin-tries 0
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "wpay-init: --pin-tries takes a whole number from 1 to 100, not '0'"
	run --separate-stderr wpay-init --pin-lock forever
	assert_failure 64
	assert_equal "${stderr_lines[0]}" "wpay-init: --pin-lock takes a duration from 1m to 30d such as 3h, not 'forever'"
	ledger_absent
}

@test "init refuses a database of another program" {
	use_sqlite_file # tests/20-postgres.bats has a PostgreSQL database's
	db_sql 'PRAGMA application_id = 42; CREATE TABLE t(x);'
	run --separate-stderr wpay-init
	assert_failure 65
	assert_equal "$stderr" "wpay-init: $WPAY_DB is an SQLite database of another program, not a wpay ledger"
}

@test "a file that is not a database is refused" {
	use_sqlite_file
	echo "hello" >"$WPAY_DB"
	run --separate-stderr wpay-init
	assert_failure 65
	assert_output ""
}

@test "the ledger goes to the XDG data directory and keys to XDG config by default" {
	unset WPAY_DB WPAY_KEYS
	run --separate-stderr wpay-init
	assert_success
	assert_equal "$(jq -r .db <<<"$output")" "$HOME/.local/share/wpay/ledger.db"
	assert_equal "$(jq -r .keys <<<"$output")" "$HOME/.config/wpay"
	export XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg"
	run --separate-stderr wpay-init
	assert_equal "$(jq -r .db <<<"$output")" "$BATS_TEST_TMPDIR/xdg/wpay/ledger.db"
}

@test "--db wins over WPAY_DB" {
	use_sqlite_file # shown by which file appears
	run --separate-stderr wpay-init --db "$BATS_TEST_TMPDIR/other.db"
	assert_success
	[ -e "$BATS_TEST_TMPDIR/other.db" ]
	[ ! -e "$WPAY_DB" ]
}

@test "a ledger that cannot be created is an error 73" {
	run --separate-stderr wpay-init --db /proc/nope/ledger.db
	assert_failure 73
	assert_output ""
}

@test "init -h prints usage and exits 0; a bad option exits 64" {
	run --separate-stderr wpay-init -h
	assert_success
	assert_line --index 0 "usage: wpay-init [--db path] [--pin-tries n] [--pin-lock duration] [--refund-window days] [--settle-tz zone] [--cutoff-hour hour] [--allow-private-notify] [--import file]"
	run --separate-stderr wpay-init --bogus
	assert_failure 64
	run --separate-stderr wpay-init extra
	assert_failure 64
}
