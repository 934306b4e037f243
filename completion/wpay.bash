# bash completion for wpay and every wpay-<program>.
#
# Nothing here is a copy of the programs' options or commands: they come
# from each program's own usage text (`wpay-bind -h`), read when first
# needed, so they cannot go stale. A usage line such as
#   wpay-bind [options] merchant show|balance merchant
# gives the commands (merchant, then show or balance), the options (with
# [options], those of the first line) and what each argument is. Argument
# names say what to offer: merchant numbers, user refs (u:UID), wallets and
# cards come from the ledger the command line would use (--db on the line,
# else WPAY_DB, else the default), through `wpay-bind ... list`, which only
# reads; nothing is asked of a ledger that does not exist (so none is
# created), and errors are not shown. File names for paths and files.
#
# Installed once as "wpay" and linked as each "wpay-<program>", so that
# bash-completion loads it lazily under any of the names.

# The argument names of the usage texts that stand for a value, and what
# is offered for one. An option's argument is always a value; a bare word
# is a command word unless it is one of these and no command word follows it
# ("wpay-bind [options] merchant show|balance merchant": the first merchant
# is a command, the last a merchant number).
_wpay_kind() {
	case $1 in
	uid) echo user ;;
	wallet | to_wallet) echo wallet ;;
	card | card_id) echo card ;;
	merchant) echo merchant ;;
	path | file) echo file ;;
	dir) echo dir ;;
	program) echo program ;;
	args) echo args ;;
	login | merchant_no | order | payment | out_trade_no | out_request_no | event | promo_id | terminal_id) echo value ;;
	*) return 1 ;;
	esac
}

declare -gA _wpay_usage_cache _wpay_pos_cache _wpay_opt_cache

# The usage lines of a program (path), without "usage:" and its name, into
# the array _wpay_lines. A line that does not start with the name continues
# the one before. The -h text is read once a shell: completing runs no
# process of its own after that (none for a value from the ledger aside),
# which keeps a Tab well under a blink on the longest usage (wpay-bind).
_wpay_usage() {
	local path=$1 text line first name=${1##*/} joined=
	_wpay_lines=()
	if [[ -z ${_wpay_usage_cache[$path]+set} ]]; then
		text=$("$path" -h </dev/null 2>/dev/null) || text=
		_wpay_usage_cache[$path]=$text
	fi
	while IFS= read -r line; do
		[[ -z $line || $line == programs:* ]] && break
		line=${line#usage:}
		read -r first line <<<"$line"
		if [[ $first == "$name" ]]; then
			[[ -n $joined ]] && _wpay_lines+=("$joined")
			joined=$line
		else
			joined+=" $first $line"
		fi
	done <<<"${_wpay_usage_cache[$path]}"
	[[ -n $joined ]] && _wpay_lines+=("$joined")
	return 0
}

# A usage line as words, into the array _wpay_toks: "[" and "]" apart,
# "[options]" as @options.
_wpay_tokens() {
	local line=$1
	while [[ $line =~ \[([a-z]+ )?options\] ]]; do
		local name=${BASH_REMATCH[1]% }
		line=${line/"${BASH_REMATCH[0]}"/@${name:+$name-}options}
	done
	line=${line//\[/ [ }
	line=${line//\]/ ] }
	read -ra _wpay_toks <<<"$line"
}

# Parse a usage line into _wpay_pos (positional elements: L:alt|alt for
# command words, M:name for arguments, O:name optional, with + when
# repeated) and _wpay_opt (option=argname, or option= for a flag; @options).
# Neither holds white space, so each is kept as one string a line, under
# the program's path and the line's number (_wpay_parsed).
_wpay_parse() {
	local tok depth=0 last= o i
	local -a words=() depths=() _wpay_toks=()
	_wpay_pos=() _wpay_opt=()
	_wpay_tokens "$1"
	for tok in "${_wpay_toks[@]}"; do
		case $tok in
		'[') depth=$((depth + 1)) last= ;;
		']') depth=$((depth - 1)) last= ;;
		'|') last= ;;
		@*) _wpay_opt+=("$tok") last= ;;
		...) ((${#words[@]})) && words[-1]+=+ ;;
		-*)
			last=
			for o in ${tok//|/ }; do _wpay_opt+=("$o="); done
			[[ $tok == *'|'* ]] || last=$((${#_wpay_opt[@]} - 1))
			;;
		*)
			if [[ -n $last ]]; then
				_wpay_opt[last]+=$tok
				last=
			else
				words+=("$tok") depths+=("$depth")
			fi
			;;
		esac
	done
	# From the last word back: a command word is followed only by command words.
	local next_literal= w
	for ((i = ${#words[@]} - 1; i >= 0; i--)); do
		w=${words[i]%+}
		if ((depths[i] > 0)) && _wpay_kind "$w" >/dev/null; then
			_wpay_pos[i]=O:${words[i]}
			next_literal=
		elif [[ -z $next_literal && $w != *'|'* ]] && _wpay_kind "$w" >/dev/null; then
			_wpay_pos[i]=M:${words[i]}
		else
			_wpay_pos[i]=L:${words[i]}
			next_literal=1
		fi
	done
}

# _wpay_parse of line number I of a program's usage (path), parsed once.
_wpay_parsed() { # PATH I LINE
	local key=$1#$2
	if [[ -n ${_wpay_pos_cache[$key]+set} ]]; then
		read -ra _wpay_pos <<<"${_wpay_pos_cache[$key]}"
		read -ra _wpay_opt <<<"${_wpay_opt_cache[$key]}"
		return
	fi
	_wpay_parse "$3"
	_wpay_pos_cache[$key]=${_wpay_pos[*]}
	_wpay_opt_cache[$key]=${_wpay_opt[*]}
}

# Whether word fits a positional element.
_wpay_fits() {
	local elem=$1 word=$2
	[[ $elem == L:* ]] || return 0
	elem=${elem#L:}
	[[ "|$elem|" == *"|$word|"* ]]
}

# The ledger a command line uses: --db on it, else WPAY_DB, else the default.
_wpay_ledger() {
	if [[ -n $_wpay_db ]]; then
		printf '%s\n' "${_wpay_db/#\~/$HOME}"
	elif [[ -n $WPAY_DB ]]; then
		printf '%s\n' "$WPAY_DB"
	else
		printf '%s\n' "${XDG_DATA_HOME:-$HOME/.local/share}/wpay/ledger.db"
	fi
}

# Values of a kind from the ledger, one a line; quiet, read-only, and only
# from a ledger that exists.
_wpay_from_ledger() {
	local kind=$1 db bind rec
	db=$(_wpay_ledger)
	[[ -f $db ]] || return 0
	bind=$(_wpay_program bind) || return 0
	local what=$kind
	[[ $kind == user ]] && what=user
	while IFS= read -r rec; do
		case $kind in
		merchant) [[ $rec =~ \"merchant_no\":\"([^\"]*)\" ]] && printf '%s\n' "${BASH_REMATCH[1]}" ;;
		user) [[ $rec =~ \"uid\":\"([^\"]*)\" ]] && printf 'u:%s\n' "${BASH_REMATCH[1]}" ;;
		card) [[ $rec =~ \"id\":\"(card_[^\"]*)\" ]] && printf '%s\n' "${BASH_REMATCH[1]}" ;;
		wallet)
			[[ $rec =~ \"id\":\"(wal_[^\"]*)\" ]] && printf '%s\n' "${BASH_REMATCH[1]}"
			[[ $rec =~ \"user\":\"(u:[^\"]*)\" ]] && printf '%s\n' "${BASH_REMATCH[1]}"
			;;
		esac
	done < <(WPAY_BUSY_TIMEOUT=500 timeout 5 "$bind" --db "$db" "$what" list </dev/null 2>/dev/null)
}

# The path of wpay-NAME as `wpay NAME` would run it: beside wpay, else on PATH.
_wpay_program() {
	local dir=${_wpay_dir:-} p
	if [[ -n $dir && -x $dir/wpay-$1 ]]; then
		p=$dir/wpay-$1
	else
		p=$(type -P "wpay-$1") || return 1
	fi
	printf '%s\n' "$p"
}

# Offer the values of an argument name (or a|b|c alternatives).
_wpay_values() {
	local name=$1 cur=$2 kind w words=()
	if [[ $name == *'|'* ]]; then
		for w in ${name//|/ }; do
			if [[ $w == *_id ]] && kind=$(_wpay_kind "$w"); then
				_wpay_values "$w" "$cur"
			else
				words+=("$w")
			fi
		done
		_wpay_add "${words[@]}"
		return
	fi
	kind=$(_wpay_kind "$name") || return 0
	case $kind in
	file) _wpay_files -f "$cur" ;;
	dir) _wpay_files -d "$cur" ;;
	program) _wpay_add $(_wpay_programs) ;;
	user | wallet | card | merchant) mapfile -t words < <(_wpay_from_ledger "$kind") && _wpay_add "${words[@]}" ;;
	esac
}

_wpay_files() {
	local f
	compopt -o filenames 2>/dev/null
	while IFS= read -r f; do _wpay_reply+=("$f"); done < <(compgen "$1" -- "$2")
}

_wpay_add() {
	local w
	for w in "$@"; do _wpay_reply+=("$w"); done
}

# The programs beside wpay or on PATH, as wpay -h lists them.
_wpay_programs() {
	local wpay line
	wpay=${_wpay_dir:+$_wpay_dir/wpay}
	[[ -x $wpay ]] || wpay=$(type -P wpay) || return 0
	local -a _wpay_lines
	_wpay_usage "$wpay"
	local in=
	while IFS= read -r line; do
		[[ $line == programs:* ]] && in=1 && continue
		[[ -n $in && $line =~ ^\ +([a-z]+) ]] && printf '%s\n' "${BASH_REMATCH[1]}"
	done <<<"${_wpay_usage_cache[$wpay]}"
}

# Complete the arguments (words, the last one being completed) of a program.
_wpay_complete_program() {
	local path=$1
	shift
	local words=("$@") cur=${!#} n=$(($# - 1)) i w
	local -a _wpay_lines pos=() globals=()
	_wpay_usage "$path"
	local -a lines=("${_wpay_lines[@]}")
	((${#lines[@]})) || return 0
	# Every option of every line, and what argument each takes.
	local -A takes=()
	local o
	for i in "${!lines[@]}"; do
		_wpay_parsed "$path" "$i" "${lines[i]}"
		for o in "${_wpay_opt[@]}"; do
			[[ $o == @* ]] && continue
			takes[${o%%=*}]=${o#*=}
			((i == 0)) && globals+=("${o%%=*}")
		done
	done
	# The words typed so far: options (and their arguments) apart.
	_wpay_db=
	for ((i = 0; i < n; i++)); do
		w=${words[i]}
		if [[ $w == -* ]]; then
			if [[ $w != *=* && -n ${takes[$w]} ]]; then
				[[ $w == --db ]] && _wpay_db=${words[i + 1]}
				i=$((i + 1))
			fi
			[[ $w == --db=* ]] && _wpay_db=${w#--db=}
		else
			pos+=("$w")
		fi
	done
	# An option's argument.
	local prev=${words[n - 1]}
	if ((n > 0)) && [[ $prev == -* && $prev != *=* && -n ${takes[$prev]} ]]; then
		_wpay_values "${takes[$prev]}" "$cur"
		return
	fi
	local -a cands=() optc=()
	for i in "${!lines[@]}"; do
		_wpay_parsed "$path" "$i" "${lines[i]}"
		local k=0 ok=1 e
		for w in "${pos[@]}"; do
			e=${_wpay_pos[k]:-}
			[[ -z $e ]] && ok= && break
			_wpay_fits "$e" "$w" || { ok= && break; }
			[[ $e == *+ ]] || k=$((k + 1))
		done
		[[ -n $ok ]] || continue
		for o in "${_wpay_opt[@]}"; do
			if [[ $o == @options ]]; then optc+=("${globals[@]}"); elif [[ $o != @* ]]; then optc+=("${o%%=*}"); fi
		done
		[[ $cur == -* ]] && continue
		e=${_wpay_pos[k]:-}
		[[ -n $e ]] || continue
		e=${e%+}
		case $e in
		L:*) e=${e#L:} && _wpay_add ${e//|/ } ;;
		M:args | O:args) # wpay PROGRAM ARGS: the program's own completion
			;;
		*) _wpay_values "${e#?:}" "$cur" ;;
		esac
	done
	if [[ $cur == -* ]]; then _wpay_add "${optc[@]}"; fi
}

_wpay() {
	local -a words=() _wpay_reply=()
	local i w cword=0 _wpay_dir= _wpay_db=
	# Join what COMP_WORDBREAKS split at ':' and '=' (u:1001, --db=path)
	# back together: such a word, and the word after one, when nothing is
	# between.
	local at=0 end=0 start
	for ((i = 0; i < ${#COMP_WORDS[@]}; i++)); do
		w=${COMP_WORDS[i]}
		start=$at
		while [[ -n $w && ${COMP_LINE:start:${#w}} != "$w" && start -lt ${#COMP_LINE} ]]; do start=$((start + 1)); done
		if ((i > 0 && start == end)) && [[ $w == [:=] || ${words[-1]} == *[:=] ]]; then
			words[-1]+=$w
		else
			words+=("$w")
		fi
		at=$((start + ${#w})) end=$at
		((i == COMP_CWORD)) && cword=$((${#words[@]} - 1))
	done
	words=("${words[@]:0:cword+1}")
	local cur=${words[cword]} cmd=${words[0]} path
	if [[ $cmd == */* ]]; then
		path=$cmd
	else
		path=$(type -P "$cmd") || return 0
	fi
	_wpay_dir=${path%/*}
	local name=${cmd##*/}
	if [[ $name == wpay ]]; then
		if ((cword == 1)); then
			if [[ $cur == -* ]]; then _wpay_add -h --version; else _wpay_add $(_wpay_programs); fi
		else
			path=$(_wpay_program "${words[1]}") || return 0
			_wpay_complete_program "$path" "${words[@]:2}"
		fi
	else
		_wpay_complete_program "$path" "${words[@]:1}"
	fi
	# Offer what fits the word, less what COMP_WORDBREAKS keeps apart.
	local prefix=
	[[ $cur == *:* ]] && prefix=${cur%"${cur##*:}"}
	COMPREPLY=()
	local -A seen=()
	for w in "${_wpay_reply[@]}"; do
		[[ $w == "$cur"* && -z ${seen[$w]} ]] || continue
		seen[$w]=1
		COMPREPLY+=("${w#"$prefix"}")
	done
}

# Every wpay program: those beside wpay, those on PATH, and the name this
# file was loaded under (bash-completion loads it lazily by command name).
_wpay_register() {
	local names=(wpay) p self=${BASH_SOURCE[0]##*/}
	self=${self%.bash}
	[[ $self == wpay || $self == wpay-* ]] && names+=("$self")
	for p in $(_wpay_programs); do names+=("wpay-$p"); done
	while IFS= read -r p; do names+=("$p"); done < <(compgen -c wpay- | sort -u)
	complete -F _wpay "${names[@]}"
}
_wpay_register
