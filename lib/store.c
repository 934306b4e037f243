/* store: the engine-neutral part of store.h; the engines are store_sqlite.c
 * and store_pg.c. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_backend.h"

#include "util.h"

bool store_is_url(const char *db)
{
	return strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0;
}

int store_open(const char *db, bool create, struct store **out, struct err *e)
{
	return (store_is_url(db) ? &store_pg_ops : &store_sqlite_ops)->open(db, create, false, out, e);
}

int store_open_readonly(const char *db, struct store **out, struct err *e)
{
	return (store_is_url(db) ? &store_pg_ops : &store_sqlite_ops)->open(db, false, true, out, e);
}

void store_close(struct store *st)
{
	if (st)
		st->ops->close(st);
}

enum store_engine store_engine(const struct store *st)
{
	return st->engine;
}

int store_schema_version(struct store *st)
{
	return st->ops->schema_version(st);
}

bool store_created(const struct store *st)
{
	return st->created;
}

struct store_stmt *store_query(struct store *st, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct store_stmt *q = st->ops->query(st, sql, fmt, ap);
	va_end(ap);
	return q;
}

struct store_stmt *store_query_sql(struct store *st, const struct store_sql *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct store_stmt *q =
	    st->ops->query(st, st->engine == STORE_POSTGRESQL ? sql->postgresql : sql->sqlite, fmt, ap);
	va_end(ap);
	return q;
}

struct store_stmt *store_query_many(struct store *st, const struct store_sql *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	st->many_rows = true;
	struct store_stmt *q =
	    st->ops->query(st, st->engine == STORE_POSTGRESQL ? sql->postgresql : sql->sqlite, fmt, ap);
	st->many_rows = false;
	va_end(ap);
	return q;
}

enum store_result store_step(struct store_stmt *q)
{
	return q->st->ops->step(q);
}

void store_done(struct store_stmt *q)
{
	q->st->ops->done(q);
}

enum store_result store_exec(struct store *st, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct store_stmt *q = st->ops->query(st, sql, fmt, ap);
	va_end(ap);
	enum store_result r;
	while ((r = st->ops->step(q)) == STORE_ROW)
		;
	return r;
}

bool store_deferring(const struct store *st)
{
	return st->ops->write && st->replayable && st->in_txn && !st->careful && !st->must_replay;
}

/* A write sent without waiting when the engine defers (store_deferring),
 * else run to its end for its result. */
static enum store_result write_or_run(struct store *st,
                                      void (*send)(struct store *, int64_t, const char *, const char *, va_list),
                                      int64_t expect_rows, const char *sql, const char *fmt, va_list ap)
{
	if (store_deferring(st)) {
		send(st, expect_rows, sql, fmt, ap);
		return STORE_DONE;
	}
	struct store_stmt *q = st->ops->query(st, sql, fmt, ap);
	enum store_result r;
	while ((r = st->ops->step(q)) == STORE_ROW)
		;
	return r;
}

enum store_result store_write(struct store *st, int64_t expect_rows, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum store_result r = write_or_run(st, st->ops->write, expect_rows, sql, fmt, ap);
	va_end(ap);
	return r;
}

enum store_result store_write_many(struct store *st, int64_t expect_rows, const char *sql, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum store_result r =
	    write_or_run(st, st->ops->write_many ? st->ops->write_many : st->ops->write, expect_rows, sql, fmt, ap);
	va_end(ap);
	return r;
}

void store_lock_name(struct store *st, const char *name)
{
	if (st->ops->lock_name)
		st->ops->lock_name(st, name, true);
}

void store_unlock_name(struct store *st, const char *name)
{
	if (st->ops->lock_name)
		st->ops->lock_name(st, name, false);
}

void store_set_hooks(struct store *st, const struct store_hooks *hooks)
{
	st->hooks = hooks;
}

const struct store_hooks *store_get_hooks(const struct store *st)
{
	return st->hooks;
}

int64_t store_changes(struct store *st)
{
	return st->ops->changes(st);
}

int64_t store_col_int(struct store_stmt *q, int col)
{
	return q->st->ops->col_int(q, col);
}

const char *store_col_text(struct store_stmt *q, int col)
{
	return q->st->ops->col_text(q, col);
}

bool store_col_null(struct store_stmt *q, int col)
{
	return q->st->ops->col_null(q, col);
}

void store_begin(struct store *st)
{
	st->ops->txn(st, TXN_BEGIN);
	st->in_txn = true;
	st->transactions++;
}

void store_begin_read(struct store *st)
{
	st->ops->txn(st, TXN_BEGIN_READ);
	st->in_txn = true;
	st->transactions++;
}

/* Commit, unless the transaction is doomed (it stays open, to be rolled
 * back and replayed). */
static bool commit(struct store *st)
{
	if (st->hooks && st->hooks->before_commit && !st->must_replay)
		st->hooks->before_commit(st->hooks->arg);
	if (st->must_replay)
		return false;
	st->ops->txn(st, TXN_COMMIT);
	if (st->must_replay)
		return false;
	st->commits++;
	return true;
}

void store_commit(struct store *st)
{
	if (commit(st)) {
		st->in_txn = false;
		st->careful = false; /* not at store_commit_now: the replay goes on */
	}
}

void store_wait_for_writes(struct store *st)
{
	st->careful = true;
}

void store_rollback(struct store *st)
{
	st->ops->txn(st, TXN_ROLLBACK);
	st->in_txn = false;
	st->in_savepoint = false;
	st->must_replay = false;
	if (st->hooks && st->hooks->rollback)
		st->hooks->rollback(st->hooks->arg);
}

void store_commit_now(struct store *st)
{
	bool in_savepoint = st->in_savepoint;
	if (in_savepoint)
		store_release(st);
	if (!commit(st))
		return; /* doomed: the caller's batch replays it */
	st->ops->txn(st, TXN_BEGIN);
	if (in_savepoint)
		store_savepoint(st);
}

bool store_in_transaction(struct store *st)
{
	return st->in_txn;
}

void store_savepoint(struct store *st)
{
	st->ops->txn(st, TXN_SAVEPOINT);
	st->in_savepoint = true;
}

void store_release(struct store *st)
{
	st->ops->txn(st, TXN_RELEASE);
	st->in_savepoint = false;
	if (st->hooks && st->hooks->release)
		st->hooks->release(st->hooks->arg);
}

void store_rollback_savepoint(struct store *st)
{
	st->ops->txn(st, TXN_ROLLBACK_SAVEPOINT);
	st->in_savepoint = false;
	if (st->hooks && st->hooks->rollback_savepoint)
		st->hooks->rollback_savepoint(st->hooks->arg);
}

void store_replayable(struct store *st, bool on)
{
	st->replayable = on;
}

bool store_must_replay(const struct store *st)
{
	return st->must_replay;
}

unsigned long store_transactions(const struct store *st)
{
	return st->transactions;
}

unsigned long store_commits(const struct store *st)
{
	return st->commits;
}

char *store_setting(struct store *st, const char *name, const char *fallback)
{
	struct store_stmt *q = store_query(st, "SELECT value FROM settings WHERE name = ?", "t", name);
	char *v = store_step(q) == STORE_ROW ? xstrdup(store_col_text(q, 0)) : fallback ? xstrdup(fallback) : NULL;
	store_done(q);
	return v;
}

void store_set_setting(struct store *st, const char *name, const char *value)
{
	store_exec(
	    st,
	    "INSERT INTO settings(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
	    "tt", name, value);
}
