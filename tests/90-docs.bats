#!/usr/bin/env bats
# The man pages: lint clean, SYNOPSIS equal to -h, every program documented.
# Uses no ledger of the engine under test: make check-pg leaves it out.

load helper

# A man page's SYNOPSIS as one line of words.
synopsis() {
	mandoc -Tascii "$1" | sed 's/.\x08//g' | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | sed '1d;$d' | tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

# A program's -h as one line of words, without "usage:".
usage_of() {
	"$1" -h | sed 's/^usage://' | tr -s ' \n' '  ' | sed 's/^ //; s/ $//'
}

@test "the man pages are mandoc -Tlint clean" {
	run mandoc -Tlint -W warning man/*.1 man/*.7
	assert_success
	assert_output ""
}

@test "every program has a man page whose SYNOPSIS is its -h" {
	for prog in "$WPAY_TEST_BIN"/wpay-*; do
		name=$(basename "$prog")
		[ -f "man/$name.1" ]
		assert_equal "$(usage_of "$prog")" "$(synopsis "man/$name.1")"
	done
}

@test "wpay(1) SYNOPSIS is wpay -h's usage" {
	run wpay -h
	assert_equal "$(sed -n '1,/^programs:/p' <<<"$output" | sed '$d' | sed 's/^usage://' | tr -s ' \n' '  ' | sed 's/^ //; s/ $//')" \
		"$(synopsis man/wpay.1)"
}

@test "wpay(7) lists every program and every exit status the programs use" {
	for prog in "$WPAY_TEST_BIN"/wpay-*; do
		grep -q "^.It Xr $(basename "$prog") 1" man/wpay.7
	done
	for status in 0 1 64 65 66 69 70 73 74 75 77 78; do
		grep -q "^.It $status\$" man/wpay.7
	done
}

# Setup errors (a key file, the ledger, the networks file) end the run with
# their exit status and never become records, so wpay(7) lists them by status.
@test "wpay(7) documents every error code the code can produce" {
	codes=$(perl -0ne 'print "$1\n" while /err_fail\(\s*&?\w+,\s*\w+,\s*"(\w+)"/g' lib/*.c cmd/*.c | sort -u)
	# Not vacuous: the pattern must still find the codes (it once found none).
	[ "$(wc -l <<<"$codes")" -gt 40 ]
	for code in $codes; do
		case "$code" in io | internal | no_key | key_mode | bad_key | no_ledger | not_ledger | schema_newer | bad_config | unavailable | denied | not_empty | import_mismatch | import_check) continue ;; esac
		grep -q "^.It Cm $code\$" man/wpay.7 || { echo "undocumented error code: $code"; false; }
	done
}

# Render every page as a reader would (mandoc -Tascii and -Tutf8, and groff
# as man(1) does) and look for damage: glyphs where ASCII was meant (\(tm
# for a multiplication sign), roff escapes shown as text, lines wider than a
# terminal, examples that read differently in one renderer, commands that do
# not parse as shell once rendered (quotes a macro ate), jq filters that do
# not compile, records that are not JSON, and commands shown in .Dl (which
# folds a long line) or without their "$ ". See tests/lib/manpage.py.
@test "every page renders without damage, and its example commands parse" {
	run python3 "$BATS_TEST_DIRNAME/lib/manpage.py" damage man/*.1 man/*.7
	assert_success
	assert_output ""
}

@test "the damage check finds what issue 11 reported: F(TM)R/A, and a jq example whose quotes a macro ate" {
	page="$BATS_TEST_TMPDIR/wpay-bad.1"
	cat >"$page" <<-'PAGE'
		.Dd November 22, 2026
		.Dt WPAY-BAD 1
		.Os wpay
		.Sh NAME
		.Nm wpay-bad
		.Nd damaged on purpose
		.Sh DESCRIPTION
		The fee comes back as F\(tmR/A.
		.Sh EXAMPLES
		.Dl $ wpay scanqr codes/*.png | jq -c 'select(.checks.signature != "valid")'
		.Bd -literal -offset indent
		$ wpay scanqr codes/*.png | jq -c 'select(.checks.signature != valid)'
		$ wpay order create cafe01 t1 --amount 1.00 | jq -c '{id: .id'
		$ order=$(wpay order create cafe01 t2 --amount 1.00 | jq -r .id
		wpay scanqr photo.jpg
		{"type":"scan","source":photo.jpg}
		.Ed
	PAGE
	run python3 "$BATS_TEST_DIRNAME/lib/manpage.py" damage "$page"
	assert_failure
	assert_line --partial "(utf8) line 7: odd glyph U+2122"
	assert_line --partial "(groff) line 7: odd glyph U+2122"
	assert_line --partial "wpay-bad.1:10: a command in .Dl"
	assert_line --partial "the example does not parse as shell: \"wpay scanqr codes/*.png | jq -c 'select(.checks.signature !="
	assert_line --partial "the jq filter does not compile: 'select(.checks.signature != valid)'"
	assert_line --partial "the jq filter does not compile: '{id: .id'"
	assert_line --partial "the example does not parse as shell: 'order=\$(wpay order create cafe01 t2"
	assert_line --partial "wpay-bad.1:15: a command without its \"\$ \" prompt"
	assert_line --partial 'a record that is not JSON'
}
