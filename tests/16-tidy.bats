#!/usr/bin/env bats
# One owner per idea (issue 11): a merchant the ledger lacks is the same
# error everywhere, lib/ speaks with the program's name, and what a
# program prints when it gives up names it.

load helper

@test "a missing merchant is unknown_merchant in every program that names one" {
	init_ledger
	echo '{"out_trade_no":"o1","amount":1,"status":"paid"}' >"$BATS_TEST_TMPDIR/theirs.jsonl"
	for cmd in "wpay-bind merchant show nope" "wpay-bind merchant show m:nope" "wpay-bind merchant balance nope" \
		"wpay-bind merchant update nope --city X" "wpay-bind merchant deposit nope --amount 1.00 --request-no d1" \
		"wpay-mkqr nope" "wpay-mkqr m:nope --amount 1.00 --reference r1" \
		"wpay-order create nope o1 --amount 1.00" "wpay-order query nope o1" "wpay-order close m:nope o1"; do
		run --separate-stderr $cmd
		assert_failure 1
		assert_equal "$(jq -r .code <<<"$output")" unknown_merchant
		[[ "$stderr" == "${cmd%% *}: no merchant 'm:nope' in this ledger"* || "$stderr" == "${cmd%% *}: no merchant 'nope' in this ledger"* ]]
	done
	run --separate-stderr wpay-settle --reconcile "$BATS_TEST_TMPDIR/theirs.jsonl" --merchant nope
	assert_failure 65
	[[ "$stderr" == "wpay-settle: no merchant 'nope' in this ledger"* ]]
}

@test "a merchant's id is m:<merchant_no> in every record, given with the prefix or without" {
	shop_ready
	assert_equal "$(wpay-bind merchant show cafe01 | jq -r .id)" m:cafe01
	assert_equal "$(wpay-bind merchant show m:cafe01 | jq -r .id)" m:cafe01
	assert_equal "$(wpay-bind merchant balance cafe01 | jq -r .merchant)" m:cafe01
	assert_equal "$(wpay-mkqr cafe01 --format txt -o "$BATS_TEST_TMPDIR/c.txt" | jq -r .merchant)" m:cafe01
	run --separate-stderr wpay-order create m:cafe01 o1 --amount 1.00 --buyer 1001
	assert_success
	assert_equal "$(jq -c '[.merchant, .buyer]' <<<"$output")" '["m:cafe01","u:1001"]'
}

@test "lib/ diagnostics carry the program's name, not 'wpay:'" {
	init_ledger
	WPAY_NOW=yesterday run --separate-stderr wpay-order query ord_X
	assert_failure 64
	[[ "$stderr" == "wpay-order: WPAY_NOW 'yesterday' is not an RFC 3339 time"* ]]
	echo 'not a database' >"$BATS_TEST_TMPDIR/bad.db"
	WPAY_DB="$BATS_TEST_TMPDIR/bad.db" run --separate-stderr wpay-bind user list
	assert_failure 65
	[[ "$stderr" == "wpay-bind: ledger $BATS_TEST_TMPDIR/bad.db: "*"not a wpay ledger" ]]
}

@test "no lib/ file prints 'wpay:' or calls exit except the die helper" {
	cd "$BATS_TEST_DIRNAME/.."
	run grep -nE '"wpay: |[^_]exit\(' lib/*.c
	refute_line --regexp '^lib/[a-z0-9]+\.c:[0-9]+:.*"wpay: '
	# Only err.c ends the program.
	[ -z "$(grep -lE '(^|[^_a-z])(_?exit)\(' lib/*.c | grep -v '^lib/err\.c$')" ]
}

@test "README's 'Where things are' names every lib/ module, and no module includes one of a layer below it" {
	cd "$BATS_TEST_DIRNAME/.."
	section=$(sed -n '/^## Where things are/,/^## /p' README.md)
	for c in lib/*.c; do
		m=$(basename "$c" .c)
		grep -q "\`$m\`" <<<"$section" || fail "README's 'Where things are' does not name lib/$m"
	done
	# The layers, in the README's order: a table row's module belongs to
	# the layer of the table it is in.
	layers=$(awk -F'|' '/^## Where things are/ { on = 1; next } on && /^## / { exit }
		on && /^\| module/ { layer++ }
		on && /^\| `/ { n = split($2, names, ","); for (i = 1; i <= n; i++) { gsub(/[ `]/, "", names[i]); print names[i], layer } }' README.md)
	for f in lib/*.c lib/*.h; do
		m=$(basename "${f%.*}")
		mine=$(awk -v m="$m" '$1 == m { print $2 }' <<<"$layers")
		[ -n "$mine" ] || continue # banned.h rides with util.h
		for inc in $(sed -n 's/^#include "\([a-z0-9]*\)\.h"/\1/p' "$f"); do
			theirs=$(awk -v m="$inc" '$1 == m { print $2 }' <<<"$layers")
			[ -z "$theirs" ] || [ "$theirs" -le "$mine" ] || fail "$f (layer $mine) includes $inc.h (layer $theirs)"
		done
	done
}

@test "attack: a buyer named as a real 64-character uid plus more is nobody, and nothing moves" {
	shop_ready
	long=$(printf 'a%.0s' {1..64})
	buyer_ready "$long" 5555555555554444
	wpay-bind wallet topup "u:$long" --amount 10.00 --request-no t1 >/dev/null
	order=$(wpay-order create cafe01 o1 --amount 1.00)
	before=$(ledger_digest)
	run --separate-stderr wpay-pay --buyer "u:${long}EVIL" --pin-fd 3 3<<<135790 <<<"$order"
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" not_found
	assert_equal "$(ledger_digest)" "$before"
	# The real owner of that uid still pays, once.
	run --separate-stderr wpay-pay --buyer "u:$long" --pin-fd 3 3<<<135790 <<<"$order"
	assert_success
	assert_equal "$(jq -r .buyer <<<"$output")" "u:$long"
	assert_equal "$(wpay-order query cafe01 o1 | jq -r .state)" paid
	assert_ledger_ok
}

@test "merchant add run again says the same about its settlement mode, or is a conflict" {
	init_ledger
	wpay-bind merchant add cafe01 --name Cafe --city Beijing --kind enterprise --verified >/dev/null
	wpay-bind merchant deposit cafe01 --amount 20000.00 --request-no d1 >/dev/null
	wpay-bind merchant update cafe01 --settlement T0 >/dev/null
	run --separate-stderr wpay-bind merchant add cafe01 --name Cafe --city Beijing --kind enterprise --verified --settlement T0
	assert_success
	assert_equal "$(jq -r .settlement <<<"$output")" T0
	run --separate-stderr wpay-bind merchant add cafe01 --name Cafe --city Beijing --kind enterprise --verified
	assert_success
	run --separate-stderr wpay-bind merchant add cafe01 --name Cafe --city Beijing --kind enterprise --verified --settlement T15
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" conflict
	# A new merchant asking for T15 gets it; asking for T0 needs the deposit first.
	run --separate-stderr wpay-bind merchant add cafe02 --name Cafe --city Beijing --settlement T15
	assert_success
	assert_equal "$(jq -r .settlement <<<"$output")" T15
	run --separate-stderr wpay-bind merchant add cafe03 --name Cafe --city Beijing --kind enterprise --verified --settlement T0
	assert_failure 1
	assert_equal "$(jq -r .code <<<"$output")" deposit_required
}
