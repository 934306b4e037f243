#!/usr/bin/env bats
# tests/run's count: passed, failed and skipped tests from TAP, whatever
# order parallel bats prints them in; skips are failures under CI=true.
# And a clone without the shared data skips, rather than fails, the tests
# that read it.
# Uses no ledger of the engine under test: make check-pg leaves it out.

load helper

run_sh="$BATS_TEST_DIRNAME/run"

setup() {
	wpay_setup
	unset CI
}

# bats (or tests/run) inside this bats: without this run's BATS_* variables
# and bats' own directory on PATH, as make check would start it.
fresh() {
	local v args=() path
	for v in $(compgen -e); do
		[[ $v != BATS_* ]] || args+=(-u "$v")
	done
	path=$(tr : '\n' <<<"$PATH" | grep -v "^$BATS_LIBEXEC\$" | paste -sd:)
	env "${args[@]}" PATH="$path" "$@"
}

@test "TAP in any order: ok, not ok and skip lines counted apart" {
	cat >"$BATS_TEST_TMPDIR/tap" <<-'EOF'
		# unit: test_x
		ok 1 - one
		ok 2 - two # skip no shared test data: WPAY_VECTORS=/x is not a directory
		1..2
		1..5
		ok 3 a test in 12ms
		not ok 1 another in 30ms
		# (in test file tests/x.bats, line 9)
		ok 5 the third in 8ms # skip no shared test data: WPAY_SHARED=/x has no vectors/
		ok 4 a test whose name says skip and # skipping nothing in 3ms
		ok 2 a test # SKIP
	EOF
	run sh "$run_sh" --count "$BATS_TEST_TMPDIR/tap"
	assert_failure
	assert_line --index 0 "# skipped (3):"
	assert_line --index 1 "#   ok 2 - two # skip no shared test data: WPAY_VECTORS=/x is not a directory"
	assert_line --index 4 "3 passed, 1 failed, 3 skipped"
	assert_equal "${#lines[@]}" 5
	sed -i '/^not ok/d' "$BATS_TEST_TMPDIR/tap"
	run sh "$run_sh" --count "$BATS_TEST_TMPDIR/tap"
	assert_success
	assert_line "3 passed, 0 failed, 3 skipped"
}

@test "under CI=true every skip is a failure, and named" {
	printf 'ok 1 a\nok 2 b # skip no shared test data\nok 3 c\n' >"$BATS_TEST_TMPDIR/tap"
	run sh "$run_sh" --count "$BATS_TEST_TMPDIR/tap"
	assert_success
	assert_line "2 passed, 0 failed, 1 skipped"
	CI=true run sh "$run_sh" --count "$BATS_TEST_TMPDIR/tap"
	assert_failure
	assert_line --index 0 "# CI=true: a skipped test is a failure here (1):"
	assert_line --index 1 "#   ok 2 b # skip no shared test data"
	assert_line --index 2 "2 passed, 1 failed, 1 skipped"
	printf 'ok 1 a\n' >"$BATS_TEST_TMPDIR/tap"
	CI=true run sh "$run_sh" --count "$BATS_TEST_TMPDIR/tap"
	assert_success
	assert_output "1 passed, 0 failed, 0 skipped"
	: >"$BATS_TEST_TMPDIR/tap"
	run sh "$run_sh" --count "$BATS_TEST_TMPDIR/tap"
	assert_failure
	assert_output "0 passed, 0 failed, 0 skipped"
}

@test "tests/run counts what bats --jobs prints: passes, failures and skips" {
	parallel --version 2>/dev/null | grep -q '^GNU parallel' || skip "GNU parallel is not installed (bats --jobs needs it)"
	# (printf: bats would take an @test line in a here-document for its own)
	printf '@test "%s" { %s; }\n' passes true skips 'skip "for a reason"' fails false >"$BATS_TEST_TMPDIR/a.bats"
	printf '@test "%s" { %s; }\n' "passes too" "sleep 0.2" "skips too" skip >"$BATS_TEST_TMPDIR/b.bats"
	mkdir "$BATS_TEST_TMPDIR/unit"
	WPAY_UNIT_BIN=$BATS_TEST_TMPDIR/unit run fresh sh "$run_sh" "$BATS_TEST_TMPDIR/a.bats" "$BATS_TEST_TMPDIR/b.bats"
	assert_failure
	assert_line --partial "not ok 3 fails"
	assert_line --regexp '^#   ok [0-9]+ skips in [0-9]+ms # skip for a reason$'
	assert_line "2 passed, 1 failed, 2 skipped"
	CI=true WPAY_UNIT_BIN=$BATS_TEST_TMPDIR/unit run fresh sh "$run_sh" "$BATS_TEST_TMPDIR/b.bats"
	assert_failure
	assert_line "1 passed, 1 failed, 1 skipped"
	WPAY_TEST_JOBS=1 WPAY_UNIT_BIN=$BATS_TEST_TMPDIR/unit run fresh sh "$run_sh" "$BATS_TEST_TMPDIR/b.bats"
	assert_success
	assert_line "1 passed, 0 failed, 1 skipped"
}

@test "WPAY_TEST_BACKEND=pg: a cluster on a socket only, a database per test, all gone at the end though a test failed" {
	command -v "$(sh "$BATS_TEST_DIRNAME/lib/pg-cluster" bindir)/initdb" >/dev/null
	export OUT=$BATS_TEST_TMPDIR/out
	mkdir "$OUT" "$BATS_TEST_TMPDIR/unit"
	# (printf for the @test lines: bats would take them in a here-document for its own)
	{
		echo "load $BATS_TEST_DIRNAME/helper"
		printf '@test "%s" {\n' "the cluster and a database of its own"
		cat <<-'EOF'
			echo "$WPAY_PG_HOST" >"$OUT/host"
			echo "$WPAY_DB" >>"$OUT/dbs"
			[ -S "$WPAY_PG_HOST/.s.PGSQL.5432" ]
			[ "$PGHOST" = "$WPAY_PG_HOST" ]
			[ "$(db_sql 'SHOW listen_addresses')" = "" ]
			[ "$(db_sql 'SELECT current_database()')" = "$(pg_dbname "$WPAY_DB")" ]
			[ "$(db_sql "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()")" = 0 ]
			}
		EOF
		printf '@test "%s" {\n' "another, which fails"
		cat <<-'EOF'
			echo "$WPAY_DB" >>"$OUT/dbs"
			pg_admin -c "SELECT datname FROM pg_database" >"$OUT/during"
			false
			}
		EOF
	} >"$BATS_TEST_TMPDIR/a.bats"
	# A file that says it uses no ledger of the engine under test is left out.
	printf '# %s\n@test "%s" {\n\ttouch "$OUT/ran"\n}\n' "Uses no ledger of the engine under test: make check-pg leaves it out." \
		"engine-free" >"$BATS_TEST_TMPDIR/c.bats"
	WPAY_TEST_BACKEND=pg WPAY_UNIT_BIN=$BATS_TEST_TMPDIR/unit run fresh sh "$run_sh" "$BATS_TEST_TMPDIR/a.bats" "$BATS_TEST_TMPDIR/c.bats"
	assert_failure
	assert_line "1 passed, 1 failed, 0 skipped"
	assert_line "# $BATS_TEST_TMPDIR/c.bats: uses no ledger of the engine under test; run by make check"
	[ ! -e "$OUT/ran" ]
	assert_line --regexp "^# backend: PostgreSQL, a throwaway cluster on the socket in /.*/wpay-pg\.[A-Za-z0-9]+ "
	host=$(cat "$OUT/host")
	[[ "$host" == */wpay-pg.* ]]
	[ ! -e "$host" ]
	# Two tests, two databases; the first was dropped when it ended.
	assert_equal "$(sort -u "$OUT/dbs" | wc -l)" 2
	first=$(pg_dbname "$(head -1 "$OUT/dbs")") second=$(pg_dbname "$(tail -1 "$OUT/dbs")")
	grep -qx "$second" "$OUT/during"
	! grep -qx "$first" "$OUT/during"
}

@test "WPAY_TEST_BACKEND=pg: TERM to tests/run stops the tests and removes the cluster at once" {
	export OUT=$BATS_TEST_TMPDIR/out
	mkdir "$OUT" "$BATS_TEST_TMPDIR/unit"
	printf 'load %s/helper\n@test "waits" {\n\techo "$WPAY_PG_HOST" >"$OUT/host"\n\tsleep 60\n}\n' "$BATS_TEST_DIRNAME" \
		>"$BATS_TEST_TMPDIR/slow.bats"
	# tests/run's own pid (fresh is a function: $! would be a subshell's).
	WPAY_TEST_BACKEND=pg WPAY_UNIT_BIN=$BATS_TEST_TMPDIR/unit fresh sh -c 'echo $$ >"$0"; exec sh "$1" "$2"' \
		"$BATS_TEST_TMPDIR/pid" "$run_sh" "$BATS_TEST_TMPDIR/slow.bats" >"$BATS_TEST_TMPDIR/log" 2>&1 3>&- &
	job=$!
	for _ in $(seq 300); do [ -s "$OUT/host" ] && break; sleep 0.1; done
	host=$(cat "$OUT/host")
	[ -S "$host/.s.PGSQL.5432" ]
	kill -TERM "$(cat "$BATS_TEST_TMPDIR/pid")"
	wait "$job" || true
	[ ! -e "$host" ]
	assert_equal "$(tail -n 1 "$BATS_TEST_TMPDIR/log")" "# backend: PostgreSQL, a throwaway cluster on the socket in $host ($("$(sh "$BATS_TEST_DIRNAME/lib/pg-cluster" bindir)/postgres" --version))"
	# No server and no bats of that run are left.
	! pgrep -f -- "-D $host/data" >/dev/null
	! pgrep -f -- "$BATS_TEST_TMPDIR/slow.bats" >/dev/null || { pgrep -af -- "$BATS_TEST_TMPDIR/slow.bats"; false; }
}

@test "without the shared data the EMV unit test skips its vector checks, and says why" {
	WPAY_VECTORS=$BATS_TEST_TMPDIR/none run "$WPAY_UNIT_BIN/test_emv"
	assert_success
	assert_line --regexp '^ok 1 - .* # skip no shared test data: WPAY_VECTORS=.*/none is not a directory$'
	assert_line --regexp '^ok 2 - .* # skip no shared test data'
	refute_line --partial "not ok"
	[ "$(grep -c '^ok ' <<<"$output")" -gt 5 ]
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/tap"
	run sh "$run_sh" --count "$BATS_TEST_TMPDIR/tap"
	assert_success
	assert_line --regexp '^[0-9]+ passed, 0 failed, 2 skipped$'
	# An empty vectors directory is not an absent one: that fails.
	mkdir "$BATS_TEST_TMPDIR/empty"
	WPAY_VECTORS=$BATS_TEST_TMPDIR/empty run "$WPAY_UNIT_BIN/test_emv"
	assert_failure
	assert_line --partial "not ok 1 - the valid vectors are there"
}

@test "without the shared data the bats tests that read it skip, naming WPAY_SHARED" {
	WPAY_SHARED=$BATS_TEST_TMPDIR/none run fresh bats --tap -f 'shared EMV vector|schemes are named|photos from the corpus' \
		"$BATS_TEST_DIRNAME/05-scanqr.bats"
	assert_success
	assert_line --index 0 "1..3"
	assert_equal "$(grep -c "# skip no shared test data: WPAY_SHARED=$BATS_TEST_TMPDIR/none has no " <<<"$output")" 3
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/tap"
	run sh "$run_sh" --count "$BATS_TEST_TMPDIR/tap"
	assert_line "0 passed, 0 failed, 3 skipped"
	# A shared directory with its vectors but a file missing fails, not skips.
	mkdir -p "$BATS_TEST_TMPDIR/partial/vectors"
	WPAY_SHARED=$BATS_TEST_TMPDIR/partial run fresh bats --tap -f 'shared EMV vector' "$BATS_TEST_DIRNAME/05-scanqr.bats"
	assert_failure
	assert_line --index 1 --partial "not ok 1 "
}
