/*
 * bulk_writes LEDGER: store_write_many on an initialised ledger (an SQLite
 * path or a PostgreSQL URI), in TAP. On PostgreSQL the writes are gathered
 * and sent as one statement per text; on SQLite each runs at once. What a
 * caller can see must be the same on both, but for a doomed transaction,
 * which only an engine that defers writes has. Run by tests/20-postgres.bats.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "store.h"
#include "unit.h"

static int64_t count(struct store *st, const char *like)
{
	struct store_stmt *q = store_query(st, "SELECT COUNT(*) FROM settings WHERE name LIKE ?", "t", like);
	int64_t n = store_step(q) == STORE_ROW ? store_col_int(q, 0) : -1;
	store_done(q);
	return n;
}

static char *value(struct store *st, const char *name)
{
	struct store_stmt *q = store_query(st, "SELECT value FROM settings WHERE name = ?", "t", name);
	char *v = store_step(q) == STORE_ROW ? strdup(store_col_text(q, 0)) : NULL;
	store_done(q);
	return v;
}

static void put(struct store *st, const char *name, const char *v)
{
	store_write_many(st, 1, "INSERT INTO settings(name, value) VALUES (?, ?)", "tt", name, v);
}

/* A top-up of 1.00 from card:x to wallet:x in a batch of its own (a
 * replayable transaction, a record's savepoint), committed. */
static void top_up(struct store *st, const char *key)
{
	char card[ACCOUNT_ID_MAX], wallet[ACCOUNT_ID_MAX];
	ledger_account(st, ACCOUNT_CARD, "x", "CNY", card);
	ledger_account(st, ACCOUNT_WALLET, "x", "CNY", wallet);
	struct transfer t = {.kind = "topup", .amount = 100, .currency = "CNY"};
	snprintf(t.key, sizeof t.key, "%s", key);
	snprintf(t.from, sizeof t.from, "%s", card);
	snprintf(t.to, sizeof t.to, "%s", wallet);
	struct err e = {0};
	store_replayable(st, true);
	store_begin(st);
	store_savepoint(st);
	if (ledger_post(st, &t, 1, LEDGER_FIRST, &e) < 0)
		fprintf(stderr, "bulk_writes: %s\n", e.msg);
	store_release(st);
	store_commit(st);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: bulk_writes LEDGER\n");
		return 2;
	}
	struct store *st;
	struct err e = {0};
	if (store_open(argv[1], false, &st, &e)) {
		fprintf(stderr, "bulk_writes: %s\n", e.msg);
		return 2;
	}
	bool pg = store_engine(st) == STORE_POSTGRESQL;
	store_replayable(st, true);

	/* Gathered writes go out before a read: the read sees them, in order. */
	store_begin(st);
	CHECK("writes are deferred on PostgreSQL only", store_deferring(st) == pg);
	char name[32], v[32];
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof name, "bulk.a.%03d", i);
		snprintf(v, sizeof v, "%d", i);
		put(st, name, v);
	}
	CHECK("a read after 200 gathered inserts sees them all", count(st, "bulk.a.%") == 200);
	store_commit(st);
	CHECK("committed, not doomed", !store_must_replay(st) && count(st, "bulk.a.%") == 200);

	/* Each call's parameters are its own; a literal is left as it is. */
	store_begin(st);
	store_write_many(st, 1, "INSERT INTO settings(name, value) VALUES (?, ? || '?$1')", "tt", "bulk.q.1", "a");
	store_write_many(st, 1, "INSERT INTO settings(name, value) VALUES (?, ? || '?$1')", "tt", "bulk.q.2", "b");
	store_commit(st);
	char *got = value(st, "bulk.q.2");
	CHECK("each row got its own call's values; '?$1' in a literal is left as it is",
	      got && strcmp(got, "b?$1") == 0);
	free(got);

	/* A write sent without gathering may reach the server before the rows
	 * gathered ahead of it: one that depends on them expects its row, so
	 * the batch is doomed, and its replay runs in order. */
	store_begin(st);
	put(st, "bulk.e.1", "1");
	store_write(st, 1, "UPDATE settings SET value = ? WHERE name = ?", "tt", "2", "bulk.e.1");
	store_commit(st);
	CHECK("a write that overtook the rows it needs dooms the batch on PostgreSQL", store_must_replay(st) == pg);
	if (store_must_replay(st)) {
		store_rollback(st);
		CHECK("nothing of it stays", count(st, "bulk.e.%") == 0);
		store_begin(st);
		CHECK("the replay defers nothing", !store_deferring(st));
		put(st, "bulk.e.1", "1");
		store_write(st, 1, "UPDATE settings SET value = ? WHERE name = ?", "tt", "2", "bulk.e.1");
		CHECK("the replay meets the real answer: one row", store_changes(st) == 1);
		store_commit(st);
	}
	got = value(st, "bulk.e.1");
	CHECK("after the replay the row is there, updated", got && strcmp(got, "2") == 0);
	free(got);
	store_begin(st);
	CHECK("writes are deferred again after the replay's commit", store_deferring(st) == pg);
	store_rollback(st);

	/* A duplicate key among gathered inserts dooms the batch; nothing of
	 * it stays. */
	store_begin(st);
	put(st, "bulk.b.1", "1");
	enum store_result r =
	    store_write_many(st, 1, "INSERT INTO settings(name, value) VALUES (?, ?)", "tt", "bulk.a.005", "dup");
	CHECK("SQLite answers the duplicate key at once", pg || r == STORE_CONSTRAINT);
	store_commit(st);
	CHECK("PostgreSQL: a duplicate key among gathered inserts dooms the transaction", store_must_replay(st) == pg);
	if (store_must_replay(st)) {
		store_rollback(st);
		store_begin(st); /* the replay, with nothing to do, commits */
		store_commit(st);
	}
	CHECK("the doomed batch's other insert is not there", count(st, "bulk.b.%") == (pg ? 0 : 1));

	/* A rollback forgets what was gathered. */
	store_begin(st);
	put(st, "bulk.c.1", "1");
	store_rollback(st);
	CHECK("a rollback forgets gathered writes", count(st, "bulk.c.%") == 0);

	/* A read sees what was gathered before it, in the order of the calls. */
	store_begin(st);
	put(st, "bulk.d.1", "1");
	store_write_many(st, -1, "INSERT INTO settings(name, value) VALUES (?, ?) ON CONFLICT(name) DO NOTHING", "tt",
	                 "bulk.d.1", "2");
	got = value(st, "bulk.d.1");
	CHECK("gathered calls of two texts run in the order of their first call", got && strcmp(got, "1") == 0);
	free(got);
	store_commit(st);
	store_close(st);

	/* The ledger's batched balances belong to the store they were made
	 * on: one opened after another was closed (most likely where the
	 * closed one was) moves its own. */
	if (store_open(argv[1], false, &st, &e))
		return 2;
	top_up(st, "reopen.1");
	uintptr_t first = (uintptr_t)st;
	store_close(st);
	if (store_open(argv[1], false, &st, &e))
		return 2;
	top_up(st, "reopen.2");
	printf("# the second store is %s the first was\n", (uintptr_t)st == first ? "where" : "not where");
	bool ok = false;
	json_decref(ledger_check(st, &ok));
	CHECK("a store opened after another was closed moves the balances its batches post", ok);

	/* A record of a batch posts to an account that is not there; a later
	 * one makes it and posts to it: as on SQLite, it is paid. */
	store_replayable(st, true);
	store_begin(st);
	struct transfer t = {.key = "late.1", .kind = "topup", .amount = 100, .currency = "CNY"};
	ledger_account_id(ACCOUNT_CARD, "x", t.from);
	ledger_account_id(ACCOUNT_WALLET, "late", t.to);
	store_savepoint(st);
	struct err e1 = {0}, e2 = {0};
	int before = ledger_post(st, &t, 1, LEDGER_FIRST, &e1);
	store_rollback_savepoint(st);
	store_savepoint(st);
	ledger_account(st, ACCOUNT_WALLET, "late", "CNY", t.to);
	snprintf(t.key, sizeof t.key, "late.2");
	int after = ledger_post(st, &t, 1, LEDGER_FIRST, &e2);
	if (after < 0)
		printf("# %s: %s\n", e2.code, e2.msg);
	store_release(st);
	store_commit(st);
	CHECK("an account missing when the batch first met it, made later in the batch, takes its transfer",
	      before < 0 && strcmp(e1.code, "no_account") == 0 && after == 0 && !store_must_replay(st) &&
	          ledger_balance(st, ACCOUNT_WALLET, "late") == 100);
	json_decref(ledger_check(st, &ok));
	CHECK("and the books hold", ok);
	store_close(st);
	return UNIT_DONE();
}
