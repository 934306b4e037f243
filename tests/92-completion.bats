#!/usr/bin/env bats
# bash completion (completion/wpay.bash): sourced here and driven as bash
# drives it (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT; read
# COMPREPLY): programs, commands and options from each program's -h,
# merchant numbers, user refs, wallets and cards from the ledger the line
# would use, never a ledger made; and `make install` places it where
# bash-completion loads it lazily, under every program's name.
# Uses no ledger of the engine under test: make check-pg leaves it out.

load helper

setup() {
	wpay_setup
	unset WPAY_DB # each test says which ledger it means
	source "$BATS_TEST_DIRNAME/../completion/wpay.bash"
	mkdir -p "$BATS_TEST_TMPDIR/empty"
	cd "$BATS_TEST_TMPDIR/empty" # no files to offer
}

# What completing the end of a command line offers, sorted, one a line.
complete_line() {
	local line=$1
	COMP_LINE=$line
	COMP_POINT=${#line}
	# Split as readline does, ':' and '=' being among COMP_WORDBREAKS.
	local split=${line//:/ : }
	read -ra COMP_WORDS <<<"${split//=/ = }"
	[[ $line == *' ' || $line == *: ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	local f
	f=$(complete -p "${COMP_WORDS[0]}" | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
	"$f" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort
}

# A ledger at $1 with the given merchants and the user 1001 bound to a wallet with a card.
ledger_with() {
	local db=$1
	shift
	WPAY_DB=$db wpay-init >/dev/null
	for m in "$@"; do WPAY_DB=$db wpay-bind merchant add "$m" --name "Shop $m" --city Beijing >/dev/null; done
	WPAY_DB=$db wpay-bind user add 1001 --nickname Lu >/dev/null
	WPAY_DB=$db wpay-bind wallet add lu@example.com >/dev/null
	WPAY_DB=$db wpay-bind user bind 1001 lu@example.com >/dev/null
	WPAY_DB=$db wpay-bind card add u:1001 --pan-fd 3 3<<<4111111111111111 >/dev/null
}

@test "sourcing the file completes wpay and every wpay-* program with it" {
	for prog in "$WPAY_TEST_BIN"/wpay "$WPAY_TEST_BIN"/wpay-*; do
		run complete -p "$(basename "$prog")"
		assert_success
		assert_output "complete -F _wpay $(basename "$prog")"
	done
}

@test "wpay completes the programs wpay -h lists, and its options" {
	export WPAY_DB="$BATS_TEST_TMPDIR/none.db"
	run complete_line "wpay "
	assert_output "$(wpay -h | sed -n '/^programs:/,$p' | sed '1d' | awk '{print $1}' | sort)"
	assert_line bind
	assert_line settle
	run complete_line "wpay -"
	assert_output $'--version\n-h'
	run complete_line "wpay se"
	assert_output settle
	# After the program, the program's own completion.
	run complete_line "wpay bind us"
	assert_output user
	run complete_line "wpay order "
	assert_output $'close\ncreate\nexpire\nlist\nquery'
}

@test "every option a program's -h prints is offered, and after a command only what fits it" {
	export WPAY_DB="$BATS_TEST_TMPDIR/none.db"
	for prog in "$WPAY_TEST_BIN"/wpay-*; do
		name=$(basename "$prog")
		want=$("$prog" -h | grep -oE -- '(^|[][ |])--?[a-z][a-z-]*' | sed 's/^[][ |]//' | sort -u)
		[ -n "$want" ]
		got=$(complete_line "$name -")
		missing=$(comm -23 <(echo "$want") <(echo "$got"))
		[ -z "$missing" ] || { echo "$name: not offered: $missing"; false; }
		# Nothing that -h does not print.
		assert_equal "$got" "$want"
	done
	# wpay-bind user add takes --nickname and the options of every command; not --amount.
	run complete_line "wpay-bind user add 1001 --"
	assert_output $'--db\n--max-line\n--nickname\n--pan-fd\n--pin-fd'
	run complete_line "wpay-bind wallet topup u:1001 --"
	assert_line --amount
	assert_line --request-no
	assert_line --card
	refute_line --nickname
	# An option's argument: the values the usage names.
	run complete_line "wpay-mkqr --format "
	assert_output $'png\nsvg\ntxt'
	run complete_line "wpay-mkqr --ecc "
	assert_output $'H\nL\nM\nQ'
}

@test "the commands offered are the man page SYNOPSIS's, at every level, and nothing else" {
	export WPAY_DB="$BATS_TEST_TMPDIR/none.db" # no ledger: only command words are offered
	for prog in "$WPAY_TEST_BIN"/wpay-*; do
		name=$(basename "$prog")
		# The man page's command words (Cm outside an option).
		want=$(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/p' "$BATS_TEST_DIRNAME/../man/$name.1" | grep '^\.Cm ' |
			tr ' ' '\n' | grep -vE '^(\.Cm|Ns|\||Cm)$' | sort -u)
		# Walk what the completion offers, three words deep. The first
		# completion reads the usage into this shell; each below is in a
		# subshell of it, and so starts from what this one learnt.
		complete_line "$name " >/dev/null || true
		got=$( (
			# Without bats' trace of each command, ten times faster.
			trap - DEBUG
			set +T
			level=("")
			for _ in 1 2 3; do
				next=()
				for prefix in "${level[@]}"; do
					while IFS= read -r w; do
						[ -n "$w" ] || continue
						echo "$w"
						next+=("$prefix$w ")
					done < <(complete_line "$name $prefix")
				done
				level=("${next[@]}")
			done
		) | sort -u)
		assert_equal "$got" "$want"
	done
}

@test "merchant numbers come from the ledger of --db on the line, else WPAY_DB, else the default" {
	ledger_with "$BATS_TEST_TMPDIR/a.db" cafe01 tea02
	ledger_with "$BATS_TEST_TMPDIR/b.db" noodle03
	ledger_with "$HOME/.local/share/wpay/ledger.db" bakery04
	# The default ledger.
	run complete_line "wpay-mkqr "
	assert_output bakery04
	run complete_line "wpay bind merchant show "
	assert_output bakery04
	# WPAY_DB.
	export WPAY_DB="$BATS_TEST_TMPDIR/a.db"
	run complete_line "wpay bind merchant show "
	assert_output $'cafe01\ntea02'
	run complete_line "wpay-settle --reconcile ours.csv --merchant t"
	assert_output tea02
	run complete_line "wpay-order create "
	assert_output $'cafe01\ntea02'
	# --db on the line, before or after the command, in either form.
	run complete_line "wpay-mkqr --db $BATS_TEST_TMPDIR/b.db "
	assert_output noodle03
	run complete_line "wpay bind merchant --db=$BATS_TEST_TMPDIR/b.db deposit "
	assert_output noodle03
	# (with wpay-refund's commands, which the first word may be too)
	run complete_line "wpay-refund --db ~/.local/share/wpay/ledger.db "
	assert_output $'bakery04\nlist\nquery'
}

@test "user refs, wallets and cards where the usage names them" {
	ledger_with "$BATS_TEST_TMPDIR/a.db" cafe01
	export WPAY_DB="$BATS_TEST_TMPDIR/a.db"
	wallet=$(wpay-bind wallet list | jq -r .id)
	card=$(wpay-bind card list | jq -r .id)
	run complete_line "wpay-order --buyer "
	assert_output u:1001
	# After "u:" readline replaces only what follows the colon.
	run complete_line "wpay-pay --buyer u:"
	assert_output 1001
	run complete_line "wpay-pay --buyer u:10"
	assert_output 1001
	run complete_line "wpay bind user show "
	assert_output u:1001
	run complete_line "wpay-bind wallet topup "
	assert_output "$(printf '%s\n' u:1001 "$wallet" | sort)"
	run complete_line "wpay-bind wallet topup u:1001 --amount 1.00 --card "
	assert_output "$card"
	run complete_line "wpay-pay --source "
	assert_output "$(printf '%s\n' card "$card" wallet | sort)"
	run complete_line "wpay-bind card default "
	assert_output "$card"
}

@test "completing never makes a ledger, and says nothing when the ledger is missing or broken" {
	export WPAY_DB="$BATS_TEST_TMPDIR/none/ledger.db"
	run --separate-stderr complete_line "wpay-mkqr "
	assert_output ""
	assert_equal "$stderr" ""
	[ ! -e "$BATS_TEST_TMPDIR/none" ]
	unset WPAY_DB
	run --separate-stderr complete_line "wpay bind merchant show "
	assert_output ""
	assert_equal "$stderr" ""
	[ ! -e "$HOME/.local/share/wpay" ] && [ ! -e "$HOME/.config/wpay" ]
	# A file that is not a ledger, and a ledger whose key directory is open to all.
	echo "not a ledger" >"$BATS_TEST_TMPDIR/junk.db"
	run --separate-stderr complete_line "wpay-mkqr --db $BATS_TEST_TMPDIR/junk.db "
	assert_output ""
	assert_equal "$stderr" ""
	ledger_with "$BATS_TEST_TMPDIR/a.db" cafe01
	chmod 777 "$WPAY_KEYS"
	run --separate-stderr complete_line "wpay-mkqr --db $BATS_TEST_TMPDIR/a.db "
	assert_output ""
	assert_equal "$stderr" ""
	chmod 700 "$WPAY_KEYS"
	run complete_line "wpay-mkqr --db $BATS_TEST_TMPDIR/a.db "
	assert_output cafe01
}

@test "paths complete as files, directories as directories" {
	mkdir payouts
	touch ours.csv
	run complete_line "wpay-settle --reconcile o"
	assert_output ours.csv
	run complete_line "wpay-settle --out p"
	assert_output payouts
	run complete_line "wpay-mkqr --out-dir "
	assert_output payouts
	run complete_line "wpay-scanqr "
	assert_output $'ours.csv\npayouts'
}

@test "make install puts it in bash-completion's directory as wpay and each wpay-*, and bash-completion loads it lazily" {
	repo="$BATS_TEST_DIRNAME/.."
	dest="$BATS_TEST_TMPDIR/dest"
	# The directory bash-completion names (it is installed for the tests), whatever PREFIX says.
	dir=$(pkg-config --variable=completionsdir bash-completion)
	[ -n "$dir" ]
	run make -s -C "$repo" install DESTDIR="$dest" PREFIX=/opt/wpay
	assert_success
	[ -f "$dest$dir/wpay" ]
	cmp "$dest$dir/wpay" "$repo/completion/wpay.bash"
	for prog in "$WPAY_TEST_BIN"/wpay-*; do
		name=$(basename "$prog")
		[ "$(readlink "$dest$dir/$name")" = wpay ]
	done
	# Without bash-completion's pkg-config file: under PREFIX.
	run make -s -C "$repo" install DESTDIR="$dest.2" PREFIX=/opt/wpay PKG_CONFIG=false
	assert_success
	[ -f "$dest.2/opt/wpay/share/bash-completion/completions/wpay" ]
	[ -L "$dest.2/opt/wpay/share/bash-completion/completions/wpay-bind" ]
	# bash-completion finds each name there when it is first completed (even
	# with no wpay program on PATH to list: the file knows its own name).
	for name in wpay wpay-bind wpay-settle; do
		run env PATH=/usr/bin:/bin bash -c '
			source /usr/share/bash-completion/bash_completion
			complete -r wpay wpay-bind wpay-settle 2>/dev/null
			XDG_DATA_DIRS=$1 BASH_COMPLETION_USER_DIR=$2 _completion_loader "$3"
			complete -p "$3"' _ "$dest.2/opt/wpay/share" "$BATS_TEST_TMPDIR/nothing" "$name"
		assert_success
		assert_output "complete -F _wpay $name"
	done
}
