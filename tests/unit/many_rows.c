/*
 * many_rows LEDGER: store_query_many on an initialised ledger (an SQLite
 * path or a PostgreSQL URI), in TAP. On PostgreSQL its rows arrive one at
 * a time instead of all before the first; whatever else uses the store
 * meanwhile reads the rest into memory first. What a caller sees must be
 * the same on both engines. Run by tests/20-postgres.bats.
 */
#include <libpq-fe.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "unit.h"

#define ROWS 100000

#define ALL_ROWS "SELECT name, value FROM settings WHERE name LIKE 'many.%' ORDER BY name"
static const struct store_sql all_rows = {ALL_ROWS, ALL_ROWS};
#define NO_ROWS "SELECT name FROM settings WHERE name = 'no such setting'"
static const struct store_sql no_rows = {NO_ROWS, NO_ROWS};
/* Fails on its 50,001st row on PostgreSQL (SQLite divides by zero as NULL). */
#define FAILS_MIDWAY                                                                                                   \
	"SELECT CAST(value AS BIGINT) / (CAST(value AS BIGINT) - 50000) FROM settings WHERE name LIKE 'many.%'"        \
	" ORDER BY name"
static const struct store_sql fails_midway = {FAILS_MIDWAY, FAILS_MIDWAY};

/* Fails on its 50,000th row as a serialization failure would (a function
 * the test makes on PostgreSQL, in plpgsql). */
#define RETRYABLE_MIDWAY                                                                                               \
	"SELECT name, wpay_test_fail_at(CAST(value AS BIGINT), 50000) FROM settings WHERE name LIKE 'many.%'"          \
	" ORDER BY name"
static const struct store_sql retryable_midway = {RETRYABLE_MIDWAY, RETRYABLE_MIDWAY};

static char *value(struct store *st, const char *name);

/* sql run on the ledger through a connection of its own. */
static bool pg_run(const char *uri, const char *sql)
{
	PGconn *conn = PQconnectdb(uri);
	PGresult *r = PQexec(conn, sql);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "many_rows: %s", PQerrorMessage(conn));
	PQclear(r);
	PQfinish(conn);
	return ok;
}

/* The exit status of a child that runs f(uri), stderr to /dev/null; -1 if
 * it did not exit. */
static int exit_status_of(int (*f)(const char *), const char *uri)
{
	fflush(stdout);
	pid_t child = fork();
	if (child == 0) {
		if (!freopen("/dev/null", "w", stderr))
			_exit(2);
		_exit(f(uri));
	}
	int status = 0;
	waitpid(child, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A retryable failure in the middle of a read of many rows, in a replayable
 * transaction, met by a commit: doomed, to be replayed. 0 if so. */
static int retryable_at_commit(const char *uri)
{
	struct store *st;
	struct err e = {0};
	if (store_open(uri, false, &st, &e))
		return 2;
	store_replayable(st, true);
	store_begin(st);
	struct store_stmt *q = store_query_many(st, &retryable_midway, "");
	for (int i = 0; i < 10; i++)
		if (store_step(q) != STORE_ROW)
			return 3;
	store_commit(st);
	if (!store_must_replay(st))
		return 4;
	store_rollback(st);
	char *v = value(st, "many.1000500");
	bool ok = v && strcmp(v, "500") == 0;
	free(v);
	store_close(st);
	return ok ? 0 : 5;
}

/* The same, stepped to the failure: its rows end early, doomed. */
static int retryable_stepped(const char *uri)
{
	struct store *st;
	struct err e = {0};
	if (store_open(uri, false, &st, &e))
		return 2;
	store_replayable(st, true);
	store_begin(st);
	struct store_stmt *q = store_query_many(st, &retryable_midway, "");
	int rows = 0;
	while (store_step(q) == STORE_ROW)
		rows++;
	if (rows != 49999 || !store_must_replay(st))
		return 3;
	store_rollback(st);
	store_close(st);
	return 0;
}

/* The server ends the connection in the middle of a read of many rows. */
static int terminated_midway(const char *uri)
{
	struct store *st;
	struct err e = {0};
	if (store_open(uri, false, &st, &e))
		return 2;
	struct store_stmt *q = store_query(st, "SELECT pg_backend_pid()", "");
	char kill[80];
	snprintf(kill, sizeof kill, "SELECT pg_terminate_backend(%lld)",
	         store_step(q) == STORE_ROW ? (long long)store_col_int(q, 0) : 0LL);
	store_done(q);
	q = store_query_many(st, &all_rows, "");
	for (int i = 0; i < 10; i++)
		if (store_step(q) != STORE_ROW)
			return 3;
	if (!pg_run(uri, kill))
		return 4;
	while (store_step(q) == STORE_ROW)
		;
	return 5; /* not reached: the lost server ends it */
}

/* Closed in the middle of a read of many rows. */
static int closed_midway(const char *uri)
{
	struct store *st;
	struct err e = {0};
	if (store_open(uri, false, &st, &e))
		return 2;
	struct store_stmt *q = store_query_many(st, &all_rows, "");
	store_step(q);
	store_step(q);
	store_close(st);
	if (store_open(uri, false, &st, &e))
		return 3;
	char *v = value(st, "many.1000500");
	bool ok = v && strcmp(v, "500") == 0;
	free(v);
	store_close(st);
	return ok ? 0 : 4;
}

static size_t heap_in_use(void)
{
	return mallinfo2().uordblks;
}

static char *value(struct store *st, const char *name)
{
	struct store_stmt *q = store_query(st, "SELECT value FROM settings WHERE name = ?", "t", name);
	char *v = store_step(q) == STORE_ROW ? strdup(store_col_text(q, 0)) : NULL;
	store_done(q);
	return v;
}

/* Step q to its end: are its rows many.0000001 ... in order, from the
 * one after `from`? */
static bool rest_in_order(struct store_stmt *q, long from, long *seen)
{
	bool ordered = true;
	char want[32];
	while (store_step(q) == STORE_ROW) {
		snprintf(want, sizeof want, "many.%ld", 1000000 + ++from);
		ordered = ordered && strcmp(store_col_text(q, 0), want) == 0 && store_col_int(q, 1) == from;
		(*seen)++;
	}
	return ordered;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: many_rows LEDGER\n");
		return 2;
	}
	struct store *st;
	struct err e = {0};
	if (store_open(argv[1], false, &st, &e)) {
		fprintf(stderr, "many_rows: %s\n", e.msg);
		return 2;
	}
	bool pg = store_engine(st) == STORE_POSTGRESQL;
	store_begin(st);
	store_exec(st,
	           "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 100000)"
	           " INSERT INTO settings(name, value) SELECT 'many.' || (1000000 + i), '' || i FROM k",
	           "");
	store_commit(st);

	/* Every row, in order; memory: one row at a time on PostgreSQL. */
	size_t before = heap_in_use();
	struct store_stmt *q = store_query_many(st, &all_rows, "");
	bool first = store_step(q) == STORE_ROW && strcmp(store_col_text(q, 0), "many.1000001") == 0;
	size_t held_many = heap_in_use() - before;
	long seen = 1;
	CHECK("a read of many rows gives every row, in order", first && rest_in_order(q, 1, &seen) && seen == ROWS);
	before = heap_in_use();
	q = store_query(st, ALL_ROWS, "");
	store_step(q);
	size_t held_all = heap_in_use() - before;
	store_done(q);
	/* Under valgrind or ASan, malloc is not glibc's and mallinfo2 counts
	 * nothing: there the whole result (store_query's) shows no growth. */
	bool counted = held_all > (3u << 20);
	printf("# heap grown at the first row: %zu bytes by store_query_many, %zu by store_query%s\n", held_many,
	       held_all, counted ? "" : " (this allocator is not counted)");
	CHECK("on PostgreSQL it holds under 1 MiB at its first row, where store_query holds over 3 MiB",
	      !pg || !counted || held_many < (1u << 20));

	/* Another statement in the middle of it: its rest is read into memory,
	 * and stepping it goes on where it was. */
	q = store_query_many(st, &all_rows, "");
	seen = 0;
	for (int i = 0; i < 10 && store_step(q) == STORE_ROW; i++)
		seen++;
	char *v = value(st, "many.1000500");
	CHECK("a read made in the middle of it gets its answer", v && strcmp(v, "500") == 0);
	free(v);
	store_begin(st);
	store_write(st, 1, "UPDATE settings SET value = ? WHERE name = ?", "tt", "x", "many.1000002");
	store_rollback(st);
	CHECK("after a read, a write and a rollback, its rows go on from the 11th, to the last",
	      rest_in_order(q, 10, &seen) && seen == ROWS);

	/* Done early: the store is free for the next statement. */
	q = store_query_many(st, &all_rows, "");
	store_step(q);
	store_step(q);
	store_done(q);
	v = value(st, "many.1099999");
	CHECK("done after two rows, the next read works", v && strcmp(v, "99999") == 0);
	free(v);

	/* Asked again before its end: it starts again. */
	q = store_query_many(st, &all_rows, "");
	store_step(q);
	q = store_query_many(st, &all_rows, "");
	seen = 0;
	CHECK("the same read made again starts from its first row", rest_in_order(q, 0, &seen) && seen == ROWS);

	q = store_query_many(st, &no_rows, "");
	CHECK("a read of many rows that finds none is done at once", store_step(q) == STORE_DONE);

	/* In a transaction: its writes, then a read of many, then a commit. */
	store_begin(st);
	store_write(st, 1, "UPDATE settings SET value = ? WHERE name = ?", "tt", "0", "many.1000001");
	q = store_query_many(st, &all_rows, "");
	CHECK("it sees the transaction's write", store_step(q) == STORE_ROW && store_col_int(q, 1) == 0);
	store_commit(st);
	CHECK("the commit made in the middle of it holds, not doomed", !store_must_replay(st));
	v = value(st, "many.1000001");
	CHECK("the committed write is there", v && strcmp(v, "0") == 0);
	free(v);

	/* A failure after rows were given ends the program as one before the
	 * first row would, and leaves nothing half done. */
	if (pg) {
		fflush(stdout);
		pid_t child = fork();
		if (child == 0) {
			if (!freopen("/dev/null", "w", stderr))
				_exit(2);
			struct store *st2;
			if (store_open(argv[1], false, &st2, &e))
				_exit(2);
			struct store_stmt *f = store_query_many(st2, &fails_midway, "");
			int rows = 0;
			while (store_step(f) == STORE_ROW)
				rows++;
			_exit(rows == 49999 ? 0 : 3); /* not reached: the failure ends it */
		}
		int status = 0;
		waitpid(child, &status, 0);
		CHECK("PostgreSQL: a read that fails after its first rows ends the program with 70",
		      WIFEXITED(status) && WEXITSTATUS(status) == 70);
	}
	if (pg) {
		bool made =
		    pg_run(argv[1], "CREATE OR REPLACE FUNCTION wpay_test_fail_at(v bigint, at bigint) RETURNS bigint"
		                    " LANGUAGE plpgsql AS $$ BEGIN IF v = at THEN RAISE EXCEPTION 'injected'"
		                    " USING ERRCODE = '40001'; END IF; RETURN v; END $$");
		CHECK("PostgreSQL: a retryable failure in the middle of a read of many rows, stepped to: its rows end, "
		      "doomed, not ended",
		      made && exit_status_of(retryable_stepped, argv[1]) == 0);
		CHECK("PostgreSQL: the same met by the commit (its rest read first): doomed, to be replayed, not 70",
		      made && exit_status_of(retryable_at_commit, argv[1]) == 0);
		CHECK("PostgreSQL: a server that ends the connection in the middle of a read of many rows: exit 75",
		      exit_status_of(terminated_midway, argv[1]) == 75);
	}
	CHECK("closed in the middle of a read of many rows, the ledger opens again and reads",
	      exit_status_of(closed_midway, argv[1]) == 0);

	store_close(st);
	return UNIT_DONE();
}
