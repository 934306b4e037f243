/*
 * store: the ledger database. One SQLite file today (WAL, busy timeout,
 * foreign keys, a versioned schema migrated on open); nothing here names a
 * SQLite type, so another backend can take the same calls.
 *
 * Statements are prepared once per process and cached by the address of
 * their SQL, which must therefore be a string literal;
 * parameters are bound from a format string, never pasted into SQL:
 *   't' text (NULL binds NULL), 'i' int64_t, 'b' bool (int).
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

/*
 * Open the ledger at path, creating it (mode 0600, parent directories 0700)
 * when create is true. Returns 0 or a sysexits status with e filled in:
 * 66 when it does not exist and create is false.
 */
int store_open(const char *path, bool create, struct store **out, struct err *e);
void store_close(struct store *st);
/* Schema version after migrations. */
int store_schema_version(struct store *st);

/* Prepare (or reuse) sql and bind the arguments described by fmt. Text
 * is bound without a copy: it must stay as it is until q is done (stepped
 * to STORE_DONE, or store_done). */
struct store_stmt *store_query(struct store *st, const char *sql, const char *fmt, ...);
/* STORE_ROW, STORE_DONE, or STORE_CONSTRAINT (a UNIQUE/CHECK/FK was broken). */
enum store_result store_step(struct store_stmt *q);
/* Done with q before its last row: ends its read, so no snapshot lingers. */
void store_done(struct store_stmt *q);
/* Run a statement to completion: STORE_DONE or STORE_CONSTRAINT. */
enum store_result store_exec(struct store *st, const char *sql, const char *fmt, ...);
/* Rows changed by the last statement. */
int64_t store_changes(struct store *st);

int64_t store_col_int(struct store_stmt *q, int col);
/* Valid until the next step or query on q; NULL for SQL NULL. */
const char *store_col_text(struct store_stmt *q, int col);
bool store_col_null(struct store_stmt *q, int col);

/* Write transaction (taken at once, so writers queue on the busy timeout). */
void store_begin(struct store *st);
void store_commit(struct store *st);
void store_rollback(struct store *st);
bool store_in_transaction(struct store *st);
/* Make everything written so far durable, then go on in a new transaction
 * (and a new savepoint, if one was open): what a record wrote before this
 * call can no longer be rolled back. For a fact that must be on disk before
 * the program acts on it (a PIN attempt, before the PIN is verified); never
 * inside a --dry-run batch. */
void store_commit_now(struct store *st);
/* Nested unit inside a transaction: one per record. */
void store_savepoint(struct store *st);
void store_release(struct store *st);
void store_rollback_savepoint(struct store *st);

/* Settings (name -> text), e.g. "pin_max_tries". */
char *store_setting(struct store *st, const char *name, const char *fallback);
void store_set_setting(struct store *st, const char *name, const char *value);

#endif
