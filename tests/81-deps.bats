#!/usr/bin/env bats
# What each kind of target needs (.ci/install-deps, the deps-* targets):
# the build only the compiler and the libraries' pkg-config modules, named
# with their Debian packages when missing; check the test tools; bench the
# tools it measures against. Nothing here installs anything
# (WPAY_NO_INSTALL=1 reports as a user who is not root would see it).
# Uses no ledger of the engine under test: make check-pg leaves it out.

load helper

top=$(cd "$BATS_TEST_DIRNAME/.." && pwd)

setup() {
	wpay_setup
	export WPAY_NO_INSTALL=1
	unset PKG_CONFIG PKGS CC CFLAGS SANITIZE FUZZ CLANG_FORMAT MAKEFLAGS MAKELEVEL MFLAGS
	# A pkg-config that has never heard of zbar or libcurl.
	cat >"$BATS_TEST_TMPDIR/fake-pkg-config" <<-'EOF'
		#!/bin/sh
		for a; do
			case $a in zbar | libcurl) exit 1 ;; esac
		done
		exec pkg-config "$@"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/fake-pkg-config"
}

# A directory for PATH holding every command of this machine but those named.
path_without() {
	local d c
	d=$(mktemp -d "$BATS_TEST_TMPDIR/path.XXXXXX")
	ln -s /usr/local/bin/* /usr/bin/* /usr/sbin/* /bin/* /sbin/* "$d" 2>/dev/null || true
	for c; do rm -f "$d/$c"; done
	echo "$d"
}

# A copy of the source tree, to build in without touching this one.
copy_tree() {
	mkdir "$BATS_TEST_TMPDIR/src"
	cp -r "$top/Makefile" "$top/.ci" "$top/lib" "$top/cmd" "$top/tests" "$top/fuzz" "$BATS_TEST_TMPDIR/src"
	echo "$BATS_TEST_TMPDIR/src"
}

@test "a missing pkg-config module: one message naming each with its Debian package, status 69" {
	PKG_CONFIG=$BATS_TEST_TMPDIR/fake-pkg-config run sh "$top/.ci/install-deps" build
	assert_failure 69
	assert_equal "${lines[0]}" "wpay: missing for build:"
	assert_line "  pkg-config module zbar (Debian package libzbar-dev)"
	assert_line "  pkg-config module libcurl (Debian package libcurl4-openssl-dev)"
	assert_line "wpay: install them (as root): apt-get install -y libzbar-dev libcurl4-openssl-dev"
	assert_equal "${#lines[@]}" 4
	# The modules checked are the Makefile's, as make passes them.
	PKGS="jansson libcurl" PKG_CONFIG=$BATS_TEST_TMPDIR/fake-pkg-config run sh "$top/.ci/install-deps" build
	assert_failure 69
	refute_line --partial zbar
	assert_line "wpay: install them (as root): apt-get install -y libcurl4-openssl-dev"
	PKG_CONFIG=$BATS_TEST_TMPDIR/fake-pkg-config run sh "$top/.ci/install-deps" lint
	assert_success
	assert_output ""
}

@test "make stops before compiling anything when a module is missing, with that message" {
	src=$(copy_tree)
	run make -C "$src" PKG_CONFIG="$BATS_TEST_TMPDIR/fake-pkg-config"
	assert_failure
	assert_line "  pkg-config module zbar (Debian package libzbar-dev)"
	assert_line --regexp 'deps-build.ok\] Error 69$'
	[ -z "$(find "$src" -name '*.o')" ]
	[ ! -e "$src/bin" ]
	# Checked once per build directory: what is built needs no check again.
	run make -C "$src" build/rel/lib/money.o
	assert_success
	[ -e "$src/build/rel/deps-build.ok" ]
	run make -C "$src" build/rel/lib/money.o PKG_CONFIG="$BATS_TEST_TMPDIR/fake-pkg-config"
	assert_success
	run make -C "$src" deps-build PKG_CONFIG="$BATS_TEST_TMPDIR/fake-pkg-config"
	assert_failure
	assert_line "  pkg-config module zbar (Debian package libzbar-dev)"
}

@test "building needs none of the bench tools, nor the test tools" {
	PATH=$(path_without zbarimg ZXingReader qrencode bats parallel jq valgrind) run sh "$top/.ci/install-deps" build
	assert_success
	assert_output ""
	src=$(copy_tree)
	PATH=$(path_without zbarimg ZXingReader qrencode bats parallel jq valgrind) run make -C "$src" build/rel/lib/money.o
	assert_success
	[ -s "$src/build/rel/lib/money.o" ]
}

@test "the bench tools and the test tools are checked by their own sets, and named" {
	PATH=$(path_without zbarimg ZXingReader qrencode) run sh "$top/.ci/install-deps" bench
	assert_failure 69
	assert_line "  command zbarimg (Debian package zbar-tools)"
	assert_line "  command ZXingReader (Debian package zxing-cpp-tools)"
	assert_line "  command qrencode (Debian package qrencode)"
	assert_line "wpay: install them (as root): apt-get install -y zbar-tools zxing-cpp-tools qrencode"
	PATH=$(path_without parallel jq) run sh "$top/.ci/install-deps" test
	assert_failure 69
	assert_line "  GNU parallel (Debian package parallel)"
	assert_line "  command jq (Debian package jq)"
	# moreutils' parallel is not the one bats --jobs needs.
	dir=$(path_without parallel)
	printf '#!/bin/sh\necho "parallel [OPTIONS] command -- arguments" >&2\nexit 1\n' >"$dir/parallel"
	chmod +x "$dir/parallel"
	PATH=$dir run sh "$top/.ci/install-deps" test
	assert_failure 69
	assert_line "  GNU parallel (Debian package parallel)"
	run sh "$top/.ci/install-deps" nonsense
	assert_failure 64
}

@test "make check checks the test tools before it builds" {
	src=$(copy_tree)
	PATH=$(path_without bats) run make -C "$src" check
	assert_failure
	assert_line "  command bats (Debian package bats)"
	assert_line --regexp 'deps-test\] Error 69$'
	[ -z "$(find "$src" -name '*.o')" ]
}

@test "make bench without the shared photo corpus skips the scan figures and says so" {
	src=$(copy_tree)
	run make -s -C "$src" bench-scan SHARED="$BATS_TEST_TMPDIR/none"
	assert_success
	assert_output "bench: no QR photo corpus at $BATS_TEST_TMPDIR/none/corpus/qr-images (set SHARED=...): scan figures skipped"
}

@test "the PostgreSQL tests' server and client are their own set, and make check needs them too; libpq is a build module" {
	PG_BIN=$BATS_TEST_TMPDIR/none run sh "$top/.ci/install-deps" pg
	assert_failure 69
	assert_equal "${lines[0]}" "wpay: missing for pg:"
	assert_line "  $BATS_TEST_TMPDIR/none/initdb (Debian package postgresql-15)"
	assert_line "  $BATS_TEST_TMPDIR/none/psql (Debian package postgresql-client-15)"
	assert_line "wpay: install them (as root): apt-get install -y postgresql-15 postgresql-client-15"
	# tests/20-postgres.bats starts a server of its own under make check.
	PG_BIN=$BATS_TEST_TMPDIR/none run sh "$top/.ci/install-deps" test
	assert_failure 69
	assert_line "  $BATS_TEST_TMPDIR/none/initdb (Debian package postgresql-15)"
	PG_BIN=$BATS_TEST_TMPDIR/none run sh "$top/.ci/install-deps" all
	assert_line "wpay: install them (as root): apt-get install -y postgresql-15 postgresql-client-15"
	run sh "$top/.ci/install-deps" pg
	assert_success
	assert_output ""
	# libpq is checked by the build set even when make's module list leaves it out.
	printf '#!/bin/sh\nfor a; do [ "$a" = libpq ] && exit 1; done\nexec pkg-config "$@"\n' >"$BATS_TEST_TMPDIR/no-libpq"
	chmod +x "$BATS_TEST_TMPDIR/no-libpq"
	PKGS="jansson sqlite3" PKG_CONFIG=$BATS_TEST_TMPDIR/no-libpq run sh "$top/.ci/install-deps" build
	assert_failure 69
	assert_line "  pkg-config module libpq (Debian package libpq-dev)"
	assert_line "wpay: install them (as root): apt-get install -y libpq-dev"
}
