/*
 * store_backend: what store.c asks of each engine (store_sqlite.c,
 * store_pg.c). Callers never include this; they see store.h alone.
 */
#ifndef WPAY_STORE_BACKEND_H
#define WPAY_STORE_BACKEND_H

#include <stdarg.h>

#include "store.h"

enum store_txn {
	TXN_BEGIN,
	TXN_BEGIN_READ,
	TXN_COMMIT,
	TXN_ROLLBACK,
	TXN_SAVEPOINT,
	TXN_RELEASE,
	TXN_ROLLBACK_SAVEPOINT,
};

struct store_ops {
	/* Opens db; on success *out has ops and name set by the engine.
	 * readonly: never create or migrate, and refuse writes. */
	int (*open)(const char *db, bool create, bool readonly, struct store **out, struct err *e);
	void (*close)(struct store *st);
	struct store_stmt *(*query)(struct store *st, const char *sql, const char *fmt, va_list ap);
	enum store_result (*step)(struct store_stmt *q);
	void (*done)(struct store_stmt *q);
	int64_t (*changes)(struct store *st);
	int64_t (*col_int)(struct store_stmt *q, int col);
	const char *(*col_text)(struct store_stmt *q, int col);
	bool (*col_null)(struct store_stmt *q, int col);
	void (*txn)(struct store *st, enum store_txn what);
	/* store_lock_name, store_unlock_name (NULL: nothing to do). */
	void (*lock_name)(struct store *st, const char *name, bool lock);
	/* store_write when deferring (NULL: the engine never defers). */
	void (*write)(struct store *st, int64_t expect_rows, const char *sql, const char *fmt, va_list ap);
	/* store_write_many when deferring (NULL: as write). */
	void (*write_many)(struct store *st, int64_t expect_rows, const char *sql, const char *fmt, va_list ap);
	int (*schema_version)(struct store *st);
};

/* The part of every engine's store that store.c keeps. */
struct store {
	const struct store_ops *ops;
	enum store_engine engine;
	char *name; /* the path or URI, for messages */
	bool in_txn, in_savepoint;
	bool created;     /* the schema was made by this open */
	bool replayable;  /* a deadlock dooms the transaction instead of ending the program */
	bool must_replay; /* doomed: roll back and run the transaction again */
	bool careful;     /* a deferred write failed: wait for each until the next commit */
	bool many_rows;   /* the query being made is store_query_many's */
	const struct store_hooks *hooks;
	unsigned long commits;
	unsigned long transactions; /* begun */
};

/* And of every statement. */
struct store_stmt {
	struct store *st;
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

#endif
