/*
 * store: the ledger database, on one of two engines behind the same calls:
 * an SQLite file (WAL, busy timeout, foreign keys), the default, or a
 * PostgreSQL database named by a libpq URI (postgresql://...), which many
 * workers on many hosts may share. Each has a versioned schema migrated on
 * open (schema.h). Nothing here names an engine's type.
 *
 * SQL is written once, in the dialect both engines speak; '?' and '?N'
 * placeholders are translated for PostgreSQL. Where a statement truly
 * differs, struct store_sql holds both texts side by side.
 *
 * Statements are prepared once per process and cached by the address of
 * their SQL, which must therefore be a string literal;
 * parameters are bound from a format string, never pasted into SQL:
 *   't' text (NULL binds NULL), 'i' int64_t, 'b' bool (int), 'n' an
 *   integer given as decimal text (NULL binds NULL: a nullable column).
 *
 * Failures that no caller can handle (I/O, corruption, a bug in SQL) end
 * the program with exit 70 or 74 after rolling back, so an unfinished
 * transaction never commits; a ledger busy past the timeout ends it with
 * 75 so cron tries again.
 */
#ifndef WPAY_STORE_H
#define WPAY_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct store;
struct store_stmt;

enum store_result { STORE_ROW = 1, STORE_DONE = 2, STORE_CONSTRAINT = 3 };
enum store_engine { STORE_SQLITE, STORE_POSTGRESQL };

/* A statement whose text differs between the engines: both, side by side. */
struct store_sql {
	const char *sqlite, *postgresql;
};

/* Does db name a PostgreSQL database (postgresql:// or postgres://)
 * rather than an SQLite file? */
bool store_is_url(const char *db);

/*
 * Open the ledger db: an SQLite file, created (mode 0600, parent
 * directories 0700) when create is true; or a PostgreSQL URI, whose
 * database must exist and whose schema is created when create is true.
 * Returns 0 or a sysexits status with e filled in: 66 when there is no
 * ledger and create is false, 75 when the server cannot be reached, 64 for
 * a URI that carries a password.
 */
int store_open(const char *db, bool create, struct store **out, struct err *e);
/* Open an existing ledger to read only, for a program that only looks
 * (wpay-fmt reads the time zone): nothing is created or migrated (an older
 * schema is read as it is), and the engine refuses writes (SQLite opened
 * read-only, a PostgreSQL session of read-only transactions). The same
 * statuses as store_open. */
int store_open_readonly(const char *db, struct store **out, struct err *e);
void store_close(struct store *st);
enum store_engine store_engine(const struct store *st);
/* Schema version after migrations. */
int store_schema_version(struct store *st);
/* Did this open create the ledger's schema? */
bool store_created(const struct store *st);

/* Prepare (or reuse) sql and bind the arguments described by fmt. Text
 * is bound without a copy: it must stay as it is until q is done (stepped
 * to STORE_DONE, or store_done). */
struct store_stmt *store_query(struct store *st, const char *sql, const char *fmt, ...);
/* The same, with the text for the open engine taken from sql. */
struct store_stmt *store_query_sql(struct store *st, const struct store_sql *sql, const char *fmt, ...);
/* The same, for a read whose rows may be many (a day's bill lines): they
 * are handed over as they come, where the engine would otherwise hold
 * them all in memory before the first (PostgreSQL). Until it is stepped
 * to its end or done, any other use of the store reads the rest of its
 * rows into memory first: step it alone. */
struct store_stmt *store_query_many(struct store *st, const struct store_sql *sql, const char *fmt, ...);
/* STORE_ROW, STORE_DONE, or STORE_CONSTRAINT (a UNIQUE/CHECK/FK was broken). */
enum store_result store_step(struct store_stmt *q);
/* Done with q before its last row: ends its read, so no snapshot lingers. */
void store_done(struct store_stmt *q);
/* Run a statement to completion: STORE_DONE or STORE_CONSTRAINT. */
enum store_result store_exec(struct store *st, const char *sql, const char *fmt, ...);
/*
 * A write the caller expects to succeed and, when expect_rows >= 0, to
 * change that many rows. Where the engine can (PostgreSQL, in a
 * replayable transaction), it is sent without waiting for its answer and
 * returns STORE_DONE at once; if it then fails, the transaction is doomed
 * (store_must_replay) and runs again with every write waited for, so the
 * caller meets the real result (STORE_CONSTRAINT, store_changes) then.
 * Elsewhere it is store_exec. Its store_changes are known only when
 * !store_deferring.
 */
enum store_result store_write(struct store *st, int64_t expect_rows, const char *sql, const char *fmt, ...);
/*
 * store_write for one of many like INSERTs of a batch (a payment's row,
 * its event): while writes are deferred, the calls of one text are
 * gathered and go to the server as one INSERT ... VALUES with a row per
 * call, ahead of the batch's next read, waited write or commit, or when
 * enough are gathered. A store_write made meanwhile may reach the server
 * first: one that depends on rows gathered here must expect its rows, so
 * that their absence dooms the batch, which then runs again in order.
 * Only for INSERT INTO ... VALUES (...) with no RETURNING. Elsewhere it is
 * store_write.
 */
enum store_result store_write_many(struct store *st, int64_t expect_rows, const char *sql, const char *fmt, ...);
/* Does store_write send without waiting now? */
bool store_deferring(const struct store *st);
/* Until the next store_commit, wait for every write (a record that cannot
 * be replayed, having read what a person typed). */
void store_wait_for_writes(struct store *st);
/* Rows changed by the last statement. */
int64_t store_changes(struct store *st);

int64_t store_col_int(struct store_stmt *q, int col);
/* Valid until the next step or query on q; NULL for SQL NULL. */
const char *store_col_text(struct store_stmt *q, int col);
bool store_col_null(struct store_stmt *q, int col);

/* Write transaction (taken at once, so writers queue on the busy timeout). */
void store_begin(struct store *st);
/* Read-only transaction: every query until store_rollback sees one
 * snapshot, and no writer waits for it (a list that pages through many
 * statements). */
void store_begin_read(struct store *st);
void store_commit(struct store *st);
void store_rollback(struct store *st);
bool store_in_transaction(struct store *st);
/* Make everything written so far durable, then go on in a new transaction
 * (and a new savepoint, if one was open): what a record wrote before this
 * call can no longer be rolled back. For a fact that must be on disk before
 * the program acts on it (a PIN attempt, before the PIN is verified); never
 * inside a --dry-run batch. */
void store_commit_now(struct store *st);
/*
 * Replaying transactions. Two workers that lock rows in opposite orders
 * deadlock on PostgreSQL, which then aborts one of the transactions. By
 * default that ends the program with 75 (try again). A caller that can run
 * its transaction again (batch.c keeps its records until the commit) calls
 * store_replayable: the transaction is then doomed instead, every call
 * does nothing until store_rollback, and store_must_replay says so.
 */
void store_replayable(struct store *st, bool on);
bool store_must_replay(const struct store *st);
/*
 * A lock on a name, held across commits until store_unlock_name (or the
 * end of the transaction it was taken in, if that is rolled back), shared
 * by every worker on the ledger: one PIN check of a wallet at a time, from
 * its count to its verdict. SQLite has one writer already: no-ops there.
 */
void store_lock_name(struct store *st, const char *name);
void store_unlock_name(struct store *st, const char *name);
/* Commits so far (store_commit and store_commit_now): what a caller holds
 * for replay before the latest one is durable and must not run again. */
unsigned long store_commits(const struct store *st);
/* Transactions begun so far: what one transaction read and locked for
 * later is good while this is unchanged (a replay begins another). */
unsigned long store_transactions(const struct store *st);
/*
 * Hooks a module keeps transaction state of its own with (the ledger's
 * balances, moved once per batch): called after the record's savepoint is
 * released or rolled back, just before a commit (they may still write;
 * a failure there dooms the transaction instead), and after a rollback.
 * One set per store.
 */
struct store_hooks {
	void (*release)(void *arg);
	void (*rollback_savepoint)(void *arg);
	void (*before_commit)(void *arg);
	void (*rollback)(void *arg);
	void *arg;
};
void store_set_hooks(struct store *st, const struct store_hooks *hooks);
const struct store_hooks *store_get_hooks(const struct store *st);
/* Nested unit inside a transaction: one per record. */
void store_savepoint(struct store *st);
void store_release(struct store *st);
void store_rollback_savepoint(struct store *st);

/* Settings (name -> text), e.g. "pin_max_tries". */
char *store_setting(struct store *st, const char *name, const char *fallback);
void store_set_setting(struct store *st, const char *name, const char *value);

#endif
