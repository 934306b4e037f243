# A PostgreSQL server for the bats files that need one, sourced by them:
#   pg_start DIR   export PGHOST: WPAY_PG_HOST's server if it is set (make
#                  check-pg runs one), else a throwaway cluster made in DIR
#                  (initdb as the postgres user when the caller is root; the
#                  caller is its superuser, trusted), listening only on a
#                  Unix socket in DIR
#   pg_stop DIR    stop the cluster pg_start made in DIR, if it made one
# The server is tuned for tests (no fsync): it holds nothing worth keeping.

pg_bindir() {
	if command -v initdb >/dev/null; then
		dirname "$(command -v initdb)"
	else
		ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1
	fi
}

# As the server's owner: postgres when we are root (the server refuses root).
pg_as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_start() {
	local dir=$1 d
	if [ -n "${WPAY_PG_HOST:-}" ]; then
		export PGHOST=$WPAY_PG_HOST
		return 0
	fi
	mkdir -p "$dir"
	if [ "$(id -u)" = 0 ]; then
		# postgres must reach DIR through bats' directories (the run's is
		# 0700): search permission only, no listing, and no further up.
		d=$dir
		while [ -n "${BATS_RUN_TMPDIR:-}" ] && [[ $d == "$BATS_RUN_TMPDIR"/* ]]; do
			d=$(dirname "$d")
			chmod a+x "$d"
		done
		chown postgres "$dir"
	fi
	pg_as_owner "$(pg_bindir)/initdb" -D "$dir/data" -U "$(id -un)" --auth=trust -E UTF8 --no-instructions \
		>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2 && return 1; }
	pg_as_owner "$(pg_bindir)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
		-o "-c listen_addresses='' -c unix_socket_directories='$dir' -c fsync=off" start >/dev/null ||
		{ cat "$dir/server.log" >&2 && return 1; }
	touch "$dir/started"
	export PGHOST=$dir
}

pg_stop() {
	local dir=$1
	[ -f "$dir/started" ] || return 0
	pg_as_owner "$(pg_bindir)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null
	rm -f "$dir/started"
}
