/* store_sqlite: the SQLite engine behind store.h (see store_backend.h). */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "err.h"
#include "schema.h"
#include "store_backend.h"

#include "util.h"

/* 'wpay' in ASCII: marks the file as ours (PRAGMA application_id). */
#define WPAY_APPLICATION_ID 0x77706179
#define STMT_CACHE_MAX      128

struct lite_stmt {
	struct store_stmt base;
	const char *sql;
	sqlite3_stmt *stmt;
};

struct lite {
	struct store base;
	sqlite3 *db;
	int ncache;
	struct lite_stmt cache[STMT_CACHE_MAX];
};

/* The store a fatal error belongs to; one per process. */
static struct lite *current;

static struct lite *lite_of(struct store *st)
{
	return (struct lite *)st;
}

static sqlite3_stmt *stmt_of(struct store_stmt *q)
{
	return ((struct lite_stmt *)q)->stmt;
}

static _Noreturn void fatal(sqlite3 *db, const char *what)
{
	int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
	int status = EX_SOFTWARE;
	const char *hint = "this is a bug in wpay or a damaged ledger; run 'wpay check'";
	switch (code & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		status = EX_TEMPFAIL;
		hint = "another program held the ledger past the busy timeout (WPAY_BUSY_TIMEOUT); try again";
		break;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
		status = EX_IOERR;
		hint = "check the disk and the ledger file's permissions";
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		status = EX_DATAERR;
		hint = "the ledger file is damaged or not a wpay ledger";
		break;
	}
	/* Nothing uncommitted survives: leaving without COMMIT rolls back. */
	err_die(status, "ledger %s: %s: %s; %s", current ? current->base.name : "?", what,
	        db ? sqlite3_errmsg(db) : "error", hint);
}

static struct lite_stmt *prepare(struct lite *st, const char *sql)
{
	for (int i = 0; i < st->ncache; i++)
		if (st->cache[i].sql == sql)
			return &st->cache[i];
	for (int i = 0; i < st->ncache; i++)
		if (strcmp(st->cache[i].sql, sql) == 0)
			return &st->cache[i];
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
		fatal(st->db, sql);
	if (st->ncache == STMT_CACHE_MAX) {
		/* Full: drop the oldest; callers use a fixed set of statements,
		 * so this only happens if one builds SQL at run time. */
		sqlite3_finalize(st->cache[0].stmt);
		memmove(&st->cache[0], &st->cache[1], sizeof st->cache[0] * (STMT_CACHE_MAX - 1));
		st->ncache--;
	}
	struct lite_stmt *ls = &st->cache[st->ncache++];
	*ls = (struct lite_stmt){.base = {.st = &st->base}, .sql = sql, .stmt = stmt};
	return ls;
}

static struct store_stmt *lite_query(struct store *base, const char *sql, const char *fmt, va_list ap)
{
	struct lite *st = lite_of(base);
	struct lite_stmt *ls = prepare(st, sql);
	sqlite3_stmt *stmt = ls->stmt;
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	int idx = 1, rc = SQLITE_OK;
	for (const char *f = fmt ? fmt : ""; *f && rc == SQLITE_OK; f++, idx++) {
		switch (*f) {
		case 't': {
			const char *s = va_arg(ap, const char *);
			/* Not copied: see store.h for how long s must live. */
			rc = s ? sqlite3_bind_text(stmt, idx, s, -1, SQLITE_STATIC) : sqlite3_bind_null(stmt, idx);
			break;
		}
		case 'i': rc = sqlite3_bind_int64(stmt, idx, va_arg(ap, int64_t)); break;
		case 'b': rc = sqlite3_bind_int(stmt, idx, va_arg(ap, int) != 0); break;
		case 'n': {
			const char *s = va_arg(ap, const char *);
			rc = s ? sqlite3_bind_int64(stmt, idx, strtoll(s, NULL, 10)) : sqlite3_bind_null(stmt, idx);
			break;
		}
		default: err_die(EX_SOFTWARE, "bad bind format '%c' for %s", *f, sql);
		}
	}
	if (rc != SQLITE_OK)
		fatal(st->db, sql);
	return &ls->base;
}

static enum store_result lite_step(struct store_stmt *q)
{
	sqlite3_stmt *stmt = stmt_of(q);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return STORE_ROW;
	if (rc == SQLITE_DONE) {
		sqlite3_reset(stmt);
		return STORE_DONE;
	}
	if ((rc & 0xff) == SQLITE_CONSTRAINT ||
	    (sqlite3_extended_errcode(sqlite3_db_handle(stmt)) & 0xff) == SQLITE_CONSTRAINT) {
		sqlite3_reset(stmt);
		return STORE_CONSTRAINT;
	}
	fatal(sqlite3_db_handle(stmt), sqlite3_sql(stmt));
}

static void lite_done(struct store_stmt *q)
{
	sqlite3_reset(stmt_of(q));
}

static int64_t lite_changes(struct store *st)
{
	return sqlite3_changes64(lite_of(st)->db);
}

static int64_t lite_col_int(struct store_stmt *q, int col)
{
	return sqlite3_column_int64(stmt_of(q), col);
}

static const char *lite_col_text(struct store_stmt *q, int col)
{
	return (const char *)sqlite3_column_text(stmt_of(q), col);
}

static bool lite_col_null(struct store_stmt *q, int col)
{
	return sqlite3_column_type(stmt_of(q), col) == SQLITE_NULL;
}

static void simple(struct lite *st, const char *sql)
{
	if (store_exec(&st->base, sql, "") != STORE_DONE)
		fatal(st->db, sql);
}

static void lite_txn(struct store *base, enum store_txn what)
{
	struct lite *st = lite_of(base);
	switch (what) {
	/* IMMEDIATE: the write lock at once, so writers queue on the busy
	 * timeout instead of failing to upgrade a read. */
	case TXN_BEGIN: simple(st, "BEGIN IMMEDIATE"); break;
	/* DEFERRED: the first read takes the WAL snapshot every later read
	 * shares; no lock that would hold a writer back. */
	case TXN_BEGIN_READ: simple(st, "BEGIN DEFERRED"); break;
	case TXN_COMMIT: simple(st, "COMMIT"); break;
	case TXN_ROLLBACK: simple(st, "ROLLBACK"); break;
	case TXN_SAVEPOINT: simple(st, "SAVEPOINT rec"); break;
	case TXN_RELEASE: simple(st, "RELEASE rec"); break;
	case TXN_ROLLBACK_SAVEPOINT:
		simple(st, "ROLLBACK TO rec");
		simple(st, "RELEASE rec");
		break;
	}
}

static int pragma_int(struct lite *st, const char *sql)
{
	struct store_stmt *q = store_query(&st->base, sql, "");
	int v = store_step(q) == STORE_ROW ? (int)store_col_int(q, 0) : 0;
	store_done(q);
	return v;
}

static int lite_schema_version(struct store *st)
{
	return pragma_int(lite_of(st), "PRAGMA user_version");
}

static int mkparents(const char *path, struct err *e)
{
	char *p = xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			err_fail(e, EX_CANTCREAT, "io", "cannot create directory %s for the ledger: %s", p,
			         strerror(errno));
			free(p);
			return EX_CANTCREAT;
		}
		*s = '/';
	}
	free(p);
	return 0;
}

/* For SQL built at run time (a pragma with a number in it): never cached,
 * since the cache keys on the address of a string literal. */
static void exec_uncached(struct lite *st, const char *sql)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		fatal(st->db, sql);
	int rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		fatal(st->db, sql);
}

static void migrate(struct lite *st)
{
	int target = (int)ARRAY_LEN(schema_migrations);
	store_begin(&st->base);
	int version = lite_schema_version(&st->base); /* again, now that we hold the lock */
	st->base.created = version == 0;
	for (; version < target; version++) {
		const char *sql = schema_migrations[version];
		while (sql && *sql) {
			sqlite3_stmt *stmt;
			const char *tail;
			if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, &tail) != SQLITE_OK)
				fatal(st->db, "schema migration");
			if (stmt && sqlite3_step(stmt) != SQLITE_DONE) {
				sqlite3_finalize(stmt);
				fatal(st->db, "schema migration");
			}
			sqlite3_finalize(stmt);
			sql = tail;
		}
	}
	char pragma[64];
	bufprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", target);
	exec_uncached(st, pragma);
	bufprintf(pragma, sizeof pragma, "PRAGMA application_id = %d", WPAY_APPLICATION_ID);
	exec_uncached(st, pragma);
	store_commit(&st->base);
}

static void lite_close(struct store *base);

static int lite_open(const char *path, bool create, bool readonly, struct store **out, struct err *e)
{
	*out = NULL;
	struct stat sb;
	if (stat(path, &sb) != 0) {
		if (!create)
			return err_fail(e, EX_NOINPUT, "no_ledger",
			                "ledger %s does not exist; run 'wpay init' (or point --db or WPAY_DB at it)",
			                path);
		int rc = mkparents(path, e);
		if (rc)
			return rc;
		/* Create it ourselves so it is 0600 whatever the umask. */
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_fail(e, EX_CANTCREAT, "io", "cannot create ledger %s: %s", path, strerror(errno));
		close(fd);
	}
	struct lite *st = xcalloc(1, sizeof *st);
	st->base = (struct store){.ops = &store_sqlite_ops, .engine = STORE_SQLITE, .name = xstrdup(path)};
	current = st;
	/* Global, before SQLite initialises (later it fails harmlessly).
	 * Measured on wpay-pay: without allocation statistics (a global
	 * mutex on every malloc) a payment costs ~10% less. */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	int flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		err_fail(e, EX_NOINPUT, "io", "cannot open ledger %s: %s", path,
		         st->db ? sqlite3_errmsg(st->db) : "out of memory");
		lite_close(&st->base);
		return EX_NOINPUT;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 1200, 500);
	const char *timeout = getenv("WPAY_BUSY_TIMEOUT");
	long ms = timeout && *timeout ? strtol(timeout, NULL, 10) : 10000;
	sqlite3_busy_timeout(st->db, ms > 0 ? (int)ms : 10000);

	int app = pragma_int(st, "PRAGMA application_id");
	int version = lite_schema_version(&st->base);
	if (app != 0 && app != WPAY_APPLICATION_ID) {
		err_fail(e, EX_DATAERR, "not_ledger", "%s is an SQLite database of another program, not a wpay ledger",
		         path);
		lite_close(&st->base);
		return EX_DATAERR;
	}
	if (version > (int)ARRAY_LEN(schema_migrations)) {
		err_fail(e, EX_DATAERR, "schema_newer",
		         "ledger %s has schema v%d, newer than this wpay knows (v%zu); upgrade wpay", path, version,
		         ARRAY_LEN(schema_migrations));
		lite_close(&st->base);
		return EX_DATAERR;
	}
	if (version == 0 && !create) {
		err_fail(e, EX_NOINPUT, "no_ledger", "%s is not an initialised wpay ledger; run 'wpay init'", path);
		lite_close(&st->base);
		return EX_NOINPUT;
	}
	if (readonly) {
		/* Nothing is changed, not even the journal mode. */
		*out = &st->base;
		return 0;
	}
	struct store_stmt *q = store_query(&st->base, "PRAGMA journal_mode = WAL", "");
	store_step(q);
	store_done(q);
	/* FULL: a commit that returned is on disk; batching pays for the fsync. */
	simple(st, "PRAGMA synchronous = FULL");
	/* A savepoint per record journals every page it changes. In a temporary
	 * file (past 64 KiB, by default) that is a write per page, emptied only
	 * at the commit: 6 GB of writes for 100,000 payments. In memory it is a
	 * copy, emptied at each release. (A larger spill threshold instead made
	 * SQLite 3.40 fail with "disk is full" once a statement passed it.) */
	simple(st, "PRAGMA temp_store = MEMORY");
	/* Checkpoint every 4096 pages (16 MiB of WAL), not 1000: a hot page
	 * (balances, index tails) is copied back once per checkpoint, and a
	 * batch of payments rewrites the same few; measured 10% on wpay-pay. */
	simple(st, "PRAGMA wal_autocheckpoint = 4096");
	/* Off while migrating: a migration that widens a table's CHECK copies
	 * it to a new table and drops the old, which SQLite's foreign keys
	 * would count as orphaning every row that refers to it. The copy
	 * keeps every id, so the references hold again at the commit. */
	if (version < (int)ARRAY_LEN(schema_migrations))
		migrate(st);
	simple(st, "PRAGMA foreign_keys = ON");
	*out = &st->base;
	return 0;
}

static void lite_close(struct store *base)
{
	struct lite *st = lite_of(base);
	for (int i = 0; i < st->ncache; i++)
		sqlite3_finalize(st->cache[i].stmt);
	sqlite3_close(st->db);
	if (current == st)
		current = NULL;
	free(st->base.name);
	free(st);
}

const struct store_ops store_sqlite_ops = {
    .open = lite_open,
    .close = lite_close,
    .query = lite_query,
    .step = lite_step,
    .done = lite_done,
    .changes = lite_changes,
    .col_int = lite_col_int,
    .col_text = lite_col_text,
    .col_null = lite_col_null,
    .txn = lite_txn,
    .schema_version = lite_schema_version,
};
