/*
 * store_pg: the PostgreSQL engine behind store.h (see store_backend.h).
 *
 * One connection in libpq's pipeline mode. A statement goes out together
 * with the transaction commands queued before it (BEGIN, SAVEPOINT,
 * RELEASE), its PREPARE the first time, and, for a write inside a
 * transaction, a savepoint of its own around it: one round trip in all.
 * The savepoint is what lets a broken constraint be an answer, as it is on
 * SQLite: PostgreSQL aborts the whole transaction on any error, so the
 * statement is rolled back to its savepoint and the transaction goes on.
 *
 * Transactions are READ COMMITTED: every statement sees what others have
 * committed, a row another transaction changes is waited for, unique
 * constraints and conditional updates decide races. A deadlock aborts one
 * transaction; a caller that can replay it (store_replayable) finds it
 * doomed, else the program ends with 75.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "err.h"
#include "pq.h"
#include "schema_pg.h"
#include "store_backend.h"

#include "util.h"

#define PG_CACHE_MAX   256
#define PG_PARAMS_MAX  32
#define PG_PENDING_MAX 8
/* Commands sent and not yet read back: deferred writes wait at most this
 * many before they are read, so neither side's buffers fill. */
#define PG_INFLIGHT_MAX 512
/* 'wpay' in ASCII, as SQLite's application_id: the migration lock. */
#define PG_MIGRATION_LOCK 0x77706179
#define OID_BOOL          16
#define OID_INT8          20
#define OID_TEXT          25
/* store_write_many: like writes gathered into one statement, of at most
 * this many calls, from at most this many texts at a time. */
#define PG_BULK_CALLS  32
#define PG_BULK_GROUPS 16

struct pg_stmt {
	struct store_stmt base;
	const char *sql; /* the caller's text: the cache key */
	char name[16];
	bool prepared;     /* the server has it */
	bool prepare_sent; /* or will have, once its answer is read */
	PGresult *res;
	int row, nrows;
	/* A read of many rows (store_query_many) arrives a row at a time;
	 * rows read off the connection ahead of their turn wait here. */
	PGresult **held;
	size_t nheld, next_held;
};

/* What each command in flight was, to judge its answer. */
enum cmd_kind {
	CMD_TXN,     /* BEGIN, SAVEPOINT ...: must succeed */
	CMD_PREPARE, /* must succeed */
	CMD_GUARD,   /* a statement's own savepoint */
	CMD_WRITE,   /* a deferred write: a failure dooms the transaction */
	CMD_MINE,    /* the statement whose answer the caller waits for */
};

struct cmd {
	enum cmd_kind kind;
	const char *sql;
	struct pg_stmt *ps; /* CMD_PREPARE */
	int64_t expect;     /* CMD_WRITE: rows it must change, or -1 */
};

/* INSERTs of one text gathered by store_write_many, and the text's shape:
 * its row (the parenthesised lists after VALUES) repeats once per call. */
struct bulk {
	const char *sql; /* the caller's text: the key */
	char *text;      /* translated ($N): [0, a) up to VALUES, [a, b) the row, [b, end) the rest */
	size_t a, b;
	int nparams;
	Oid types[PG_PARAMS_MAX];
	int calls;
	int64_t expect; /* the calls' rows in all, or -1 */
	/* The calls' parameters, calls x nparams offsets into data, -1 for NULL. */
	long *offs;
	size_t noffs, capoffs;
	struct strbuf data;
};

struct pg {
	struct store base;
	PGconn *conn;
	bool txn_sent; /* BEGIN went to the server (else it is still queued) */
	int ncache;
	struct pg_stmt cache[PG_CACHE_MAX];
	int npending;
	const char *pending[PG_PENDING_MAX];
	int ninflight;
	struct cmd inflight[PG_INFLIGHT_MAX + PG_PENDING_MAX + PG_BULK_GROUPS +
	                    8]; /* room for one statement more (make_room) */
	/* While writes are deferred, a record's savepoint is only noted: a
	 * record that fails after it wrote dooms the batch instead, which then
	 * runs again with real savepoints. So a batch of good records makes
	 * no subtransaction at all. */
	bool virtual_savepoint;
	int record_writes;
	int names_locked; /* session advisory locks held (store_lock_name) */
	int nbulk;        /* shapes known; those with calls, in order of their first */
	struct bulk bulk[PG_BULK_GROUPS];
	int nwaiting, waiting[PG_BULK_GROUPS];
	int64_t changes;
	/* The read whose rows are still arriving, in single-row mode; its
	 * query and the pipeline's sync are the last commands in flight. */
	struct pg_stmt *streaming;
};

/* The store a fatal error belongs to; one per process. */
static struct pg *current;

static struct pg *pg_of(struct store *st)
{
	return (struct pg *)st;
}

/* libpq's messages end in a newline and may span lines: one line. */
static void one_line(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
	size_t n = strlen(s);
	while (n && s[n - 1] == ' ')
		s[--n] = '\0';
}

static bool is_connection_state(const char *state)
{
	/* 08: connection exception; 57P01-57P03: the server is shutting down
	 * or starting; 53300: too many connections. */
	return state && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0 || strcmp(state, "53300") == 0);
}

static _Noreturn void fatal(struct pg *st, const char *state, const char *message, const char *what)
{
	int status = EX_SOFTWARE;
	const char *hint = "this is a bug in wpay or a damaged ledger; run 'wpay check'";
	/* A write to a server that has gone fails with no SQLSTATE while the
	 * connection still reads as OK, until its input is read to the end. */
	if (PQstatus(st->conn) != CONNECTION_BAD)
		(void)PQconsumeInput(st->conn);
	if (PQstatus(st->conn) == CONNECTION_BAD || is_connection_state(state)) {
		status = EX_TEMPFAIL;
		hint = "the database server went away; nothing uncommitted was kept; try again";
	} else if (state && (strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0 ||
	                     strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0)) {
		status = EX_TEMPFAIL;
		hint = "another worker held the same rows; nothing of this transaction was kept; try again";
	} else if (state && strncmp(state, "53", 2) == 0) {
		status = EX_IOERR;
		hint = "the database server is out of disk or memory";
	} else if (state && strncmp(state, "42501", 5) == 0) {
		status = EX_NOPERM;
		hint = "the database user may not do this; grant it the ledger's tables";
	}
	char *msg = xstrdup(message && *message ? message : PQerrorMessage(st->conn));
	one_line(msg);
	/* Nothing uncommitted survives: the server rolls back a transaction
	 * whose connection closes. */
	err_die(status, "ledger %s: %s: %s%s%s; %s", st->base.name, what, msg, state ? " (SQLSTATE " : "",
	        state ? state : "", hint);
}

/* "?" and "?N" placeholders as PostgreSQL's "$N", outside quotes; the
 * number of parameters in *n. A bare "?" takes the next number after the
 * largest so far, as SQLite numbers them. */
static char *translate(const char *sql, int *n)
{
	size_t len = strlen(sql);
	char *out = xmalloc(len * 3 + 1), *o = out;
	int max = 0;
	char quote = 0;
	for (const char *p = sql; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
			*o++ = *p;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
			*o++ = *p;
		} else if (*p == '?') {
			int k;
			if (isdigit((unsigned char)p[1])) {
				k = (int)strtol(p + 1, NULL, 10);
				while (isdigit((unsigned char)p[1]))
					p++;
			} else {
				k = max + 1;
			}
			if (k > max)
				max = k;
			char num[16];
			bufprintf(num, sizeof num, "$%d", k);
			size_t len_num = strlen(num);
			memcpy(o, num, len_num);
			o += len_num;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	*n = max;
	return out;
}

/* Statements that change rows get a savepoint of their own. */
static bool is_write(const char *sql)
{
	while (isspace((unsigned char)*sql))
		sql++;
	return strncasecmp(sql, "INSERT", 6) == 0 || strncasecmp(sql, "UPDATE", 6) == 0 ||
	       strncasecmp(sql, "DELETE", 6) == 0 || strncasecmp(sql, "WITH", 4) == 0;
}

static bool is_constraint(const char *state);
static bool is_retryable(const char *state);
static void queue_command(struct pg *st, const char *sql);

static void sent(struct pg *st, enum cmd_kind kind, const char *sql, struct pg_stmt *ps, int64_t expect)
{
	if (st->ninflight == (int)ARRAY_LEN(st->inflight))
		err_die(EX_SOFTWARE, "ledger %s: more than %d commands in flight", st->base.name, st->ninflight);
	st->inflight[st->ninflight++] = (struct cmd){.kind = kind, .sql = sql, .ps = ps, .expect = expect};
}

static void send_text(struct pg *st, enum cmd_kind kind, const char *sql)
{
	if (!PQsendQueryParams(st->conn, sql, 0, NULL, NULL, NULL, NULL, 0))
		fatal(st, NULL, NULL, sql);
	if (strncmp(sql, "BEGIN", 5) == 0) /* BEGIN ISOLATION ... too */
		st->txn_sent = true;
	sent(st, kind, sql, NULL, -1);
}

/* Queued transaction commands go out ahead of the next statement. */
static void send_pending(struct pg *st)
{
	for (int i = 0; i < st->npending; i++)
		send_text(st, CMD_TXN, st->pending[i]);
	st->npending = 0;
}

static void bulk_send(struct pg *st);

/* The same, and then the writes gathered since (queue_command sends those
 * before it queues): ahead of a read, a write waited for, a COMMIT. */
static void send_all(struct pg *st)
{
	send_pending(st);
	bulk_send(st);
}

struct outcome {
	PGresult *res;     /* the answer to CMD_MINE, or NULL */
	char state[6];     /* SQLSTATE of the first error, or "" */
	char message[256]; /* its message */
	int failed;        /* the kind of command that failed, or -1 */
	const char *failed_sql;
};

/*
 * Sync and read back every command in flight. A deferred write that failed
 * or changed other than the rows it expected dooms the transaction (the
 * rest of the pipeline is then skipped by the server); any other failure
 * is in o, with the answer to CMD_MINE. With many, CMD_MINE (the last
 * command) is read in single-row mode: o->res is its first row, and the
 * rest arrive through stream_next.
 */
static void read_all_rows(struct pg *st, struct outcome *o, struct pg_stmt *many)
{
	*o = (struct outcome){.failed = -1};
	if (!PQpipelineSync(st->conn))
		fatal(st, NULL, NULL, "sync");
	int i = 0;
	bool single = false;
	for (;;) {
		/* Before the first result of the read of many rows: row by row,
		 * unless something before it failed. */
		if (many && !single && i < st->ninflight && st->inflight[i].kind == CMD_MINE && o->failed < 0)
			single = PQsetSingleRowMode(st->conn) == 1;
		PGresult *r = PQgetResult(st->conn);
		if (!r) {
			if (PQstatus(st->conn) == CONNECTION_BAD || i > st->ninflight)
				fatal(st, NULL, NULL, "reading results");
			i++;
			continue;
		}
		ExecStatusType s = PQresultStatus(r);
		if (s == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		if (s == PGRES_SINGLE_TUPLE) {
			/* Its first row: the rest, and the sync, are read as the
			 * caller steps (stream_next). */
			o->res = r;
			st->streaming = many;
			return;
		}
		struct cmd *c = i < st->ninflight ? &st->inflight[i] : NULL;
		if (!c) {
			PQclear(r);
			continue;
		}
		bool ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
		if (c->kind == CMD_PREPARE) {
			c->ps->prepared = ok;
			c->ps->prepare_sent = ok;
		}
		if (s == PGRES_FATAL_ERROR && o->failed < 0) {
			const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
			strlcopy(o->state, state ? state : "", sizeof o->state);
			strlcopy(o->message, PQresultErrorMessage(r), sizeof o->message);
			o->failed = (int)c->kind;
			o->failed_sql = c->sql;
		}
		if (c->kind == CMD_WRITE && ok && c->expect >= 0) {
			const char *tuples = PQcmdTuples(r);
			if (strtoll(tuples, NULL, 10) != c->expect && o->failed < 0) {
				strlcopy(o->state, "", sizeof o->state);
				bufprintf(o->message, sizeof o->message, "changed %s rows, not %lld", tuples,
				          (long long)c->expect);
				o->failed = CMD_WRITE;
				o->failed_sql = c->sql;
			}
		}
		if (c->kind == CMD_MINE && ok && !o->res)
			o->res = r;
		else
			PQclear(r);
	}
	st->ninflight = 0;
	if (o->failed == CMD_WRITE) {
		/* A write sent on trust did not do what was expected: the batch
		 * runs again, waiting for each write (store.h). A lost connection
		 * is no such thing. */
		if (PQstatus(st->conn) == CONNECTION_BAD ||
		    (*o->state && !is_constraint(o->state) && !is_retryable(o->state) &&
		     strncmp(o->state, "22", 2) != 0))
			fatal(st, o->state, o->message, o->failed_sql);
		st->base.must_replay = true;
		st->base.careful = true;
		PQclear(o->res);
		o->res = NULL;
		o->failed = -1;
	}
}

static void read_all(struct pg *st, struct outcome *o)
{
	read_all_rows(st, o, NULL);
}

/* The next row of the read of many rows, or NULL after its last (or when
 * it failed: a failure the batch can replay dooms it, any other ends the
 * program, as it would have before the first row). */
static PGresult *stream_next(struct pg *st)
{
	PGresult *r = PQgetResult(st->conn);
	if (r && PQresultStatus(r) == PGRES_SINGLE_TUPLE)
		return r;
	struct outcome o = {.failed = -1};
	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
		strlcopy(o.state, state ? state : "", sizeof o.state);
		strlcopy(o.message, r ? PQresultErrorMessage(r) : PQerrorMessage(st->conn), sizeof o.message);
		o.failed = CMD_MINE;
		o.failed_sql = st->streaming->sql;
	}
	PQclear(r);
	/* The end of its results, then the sync. */
	for (int left = 2; left > 0;) {
		r = PQgetResult(st->conn);
		if (!r) {
			if (PQstatus(st->conn) == CONNECTION_BAD || --left < 1)
				fatal(st, o.failed >= 0 && *o.state ? o.state : NULL, o.failed >= 0 ? o.message : NULL,
				      "reading results");
			continue;
		}
		bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
		PQclear(r);
		if (sync)
			break;
	}
	st->streaming = NULL;
	st->ninflight = 0;
	if (o.failed >= 0) {
		if (is_retryable(o.state) && st->base.replayable && st->base.in_txn)
			st->base.must_replay = true;
		else
			fatal(st, *o.state ? o.state : NULL, o.message, o.failed_sql);
	}
	return NULL;
}

/* Before anything else uses the connection: the rest of the rows of a read
 * still arriving are read into memory, for its caller to step through. */
static void stream_hold(struct pg *st)
{
	struct pg_stmt *ps = st->streaming;
	size_t cap = ps ? ps->nheld : 0;
	PGresult *r;
	while (st->streaming && (r = stream_next(st))) {
		if (ps->nheld == cap) {
			cap = cap ? 2 * cap : 64;
			ps->held = xrealloc(ps->held, cap * sizeof ps->held[0]);
		}
		ps->held[ps->nheld++] = r;
	}
}

/* Forget a statement's rows: those held, and those still arriving. */
static void stmt_clear(struct pg *st, struct pg_stmt *ps)
{
	PQclear(ps->res);
	ps->res = NULL;
	ps->nrows = 0;
	while (st->streaming == ps) {
		PGresult *r = stream_next(st);
		if (!r)
			break;
		PQclear(r);
	}
	for (size_t i = ps->next_held; i < ps->nheld; i++)
		PQclear(ps->held[i]);
	free(ps->held);
	ps->held = NULL;
	ps->nheld = ps->next_held = 0;
}

/* Read back the writes in flight before a command whose effect outlives
 * the transaction's fate (COMMIT, a session lock): a write that changed
 * other than the rows it expected is no server error, so it would not stop
 * a COMMIT sent behind it. False when that dooms the transaction. */
static bool settle_inflight(struct pg *st)
{
	if (st->ninflight == 0)
		return !st->base.must_replay;
	struct outcome o;
	read_all(st, &o);
	PQclear(o.res);
	if (o.failed >= 0)
		fatal(st, o.state, o.message, o.failed_sql ? o.failed_sql : "writes");
	return !st->base.must_replay;
}

/* Send what is queued and sql, wait for all of it. */
static void run_simple(struct pg *st, const char *sql)
{
	send_all(st);
	send_text(st, CMD_MINE, sql);
	struct outcome o;
	read_all(st, &o);
	if (o.failed >= 0)
		fatal(st, o.state, o.message, sql);
	PQclear(o.res);
}

static bool is_constraint(const char *state)
{
	/* 23: integrity constraint violation; 22003: a number out of range,
	 * what SQLite's typeof() checks stand for. */
	return strncmp(state, "23", 2) == 0 || strcmp(state, "22003") == 0;
}

static bool is_retryable(const char *state)
{
	return strcmp(state, "40P01") == 0 || strcmp(state, "40001") == 0;
}

static struct pg_stmt *lookup(struct pg *st, const char *sql)
{
	for (int i = 0; i < st->ncache; i++)
		if (st->cache[i].sql == sql)
			return &st->cache[i];
	for (int i = 0; i < st->ncache; i++)
		if (strcmp(st->cache[i].sql, sql) == 0)
			return &st->cache[i];
	if (st->ncache == PG_CACHE_MAX)
		err_die(EX_SOFTWARE, "ledger %s: more than %d distinct statements; SQL must be string literals",
		        st->base.name, PG_CACHE_MAX);
	struct pg_stmt *ps = &st->cache[st->ncache];
	*ps = (struct pg_stmt){.base = {.st = &st->base}, .sql = sql};
	bufprintf(ps->name, sizeof ps->name, "w%d", st->ncache);
	st->ncache++;
	return ps;
}

/* The parameters of one statement, from its bind format. */
struct params {
	int n;
	const char *values[PG_PARAMS_MAX];
	char ints[PG_PARAMS_MAX][24];
	Oid types[PG_PARAMS_MAX];
};

static void bind_params(struct params *p, const char *sql, const char *fmt, va_list ap)
{
	p->n = 0;
	for (const char *f = fmt ? fmt : ""; *f; f++, p->n++) {
		int n = p->n;
		if (n == PG_PARAMS_MAX)
			err_die(EX_SOFTWARE, "more than %d parameters for %s", PG_PARAMS_MAX, sql);
		switch (*f) {
		case 't':
			p->values[n] = va_arg(ap, const char *);
			p->types[n] = OID_TEXT;
			break;
		case 'i':
			bufprintf(p->ints[n], sizeof p->ints[n], "%" PRId64, va_arg(ap, int64_t));
			p->values[n] = p->ints[n];
			p->types[n] = OID_INT8;
			break;
		case 'n':
			p->values[n] = va_arg(ap, const char *);
			p->types[n] = OID_INT8;
			break;
		case 'b':
			/* Untyped: '1' and '0' read as a boolean in a condition and
			 * as a number in an integer column. */
			p->values[n] = va_arg(ap, int) ? "1" : "0";
			p->types[n] = 0;
			break;
		default: err_die(EX_SOFTWARE, "bad bind format '%c' for %s", *f, sql);
		}
	}
}

static void send_prepare(struct pg *st, struct pg_stmt *ps, const struct params *p)
{
	if (ps->prepare_sent)
		return;
	int nparams;
	char *text = translate(ps->sql, &nparams);
	bool ok = PQsendPrepare(st->conn, ps->name, text, p->n, p->types);
	free(text);
	if (!ok)
		fatal(st, NULL, NULL, ps->sql);
	ps->prepare_sent = true;
	sent(st, CMD_PREPARE, ps->sql, ps, -1);
}

static void send_prepared(struct pg *st, struct pg_stmt *ps, const struct params *p, enum cmd_kind kind, int64_t expect)
{
	if (!PQsendQueryPrepared(st->conn, ps->name, p->n, p->values, NULL, NULL, 0))
		fatal(st, NULL, NULL, ps->sql);
	sent(st, kind, ps->sql, NULL, expect);
}

/* Read back what is in flight before it could outgrow its list: a
 * statement may add the queued commands and every gathered text's before
 * its own few. False when that doomed the transaction. */
static bool make_room(struct pg *st, const char *sql)
{
	if (st->ninflight < PG_INFLIGHT_MAX)
		return true;
	struct outcome o;
	read_all(st, &o);
	if (o.failed >= 0)
		fatal(st, o.state, o.message, o.failed_sql ? o.failed_sql : sql);
	return !st->base.must_replay;
}

static void pg_write(struct store *base, int64_t expect_rows, const char *sql, const char *fmt, va_list ap)
{
	struct pg *st = pg_of(base);
	stream_hold(st);
	struct pg_stmt *ps = lookup(st, sql);
	struct params p;
	bind_params(&p, sql, fmt, ap);
	if (st->base.must_replay)
		return;
	if (!make_room(st, sql))
		return;
	send_pending(st);
	send_prepare(st, ps, &p);
	send_prepared(st, ps, &p, CMD_WRITE, expect_rows);
	st->changes = 0;
	st->record_writes++;
}

/* Append s[0, len) to out with each parameter $m renumbered $(m + shift). */
static void add_renumbered(struct strbuf *out, const char *s, size_t len, int shift)
{
	char quote = 0;
	size_t from = 0;
	for (size_t i = 0; i < len; i++) {
		if (quote) {
			if (s[i] == quote)
				quote = 0;
		} else if (s[i] == '\'' || s[i] == '"') {
			quote = s[i];
		} else if (s[i] == '$' && i + 1 < len && isdigit((unsigned char)s[i + 1])) {
			strbuf_add(out, s + from, i - from);
			int m = 0;
			size_t j = i + 1;
			while (j < len && isdigit((unsigned char)s[j]))
				m = m * 10 + (s[j++] - '0');
			char num[32];
			bufprintf(num, sizeof num, "$%d", m + shift);
			strbuf_add(out, num, strlen(num));
			i = j - 1;
			from = j;
		}
	}
	strbuf_add(out, s + from, len - from);
}

/* The end of the parenthesised list starting at s[i] ('('), or 0. */
static size_t close_paren(const char *s, size_t i)
{
	int depth = 0;
	char quote = 0;
	for (; s[i]; i++) {
		if (quote) {
			if (s[i] == quote)
				quote = 0;
		} else if (s[i] == '\'' || s[i] == '"') {
			quote = s[i];
		} else if (s[i] == '(') {
			depth++;
		} else if (s[i] == ')' && --depth == 0) {
			return i + 1;
		}
	}
	return 0;
}

/* Read sql's shape for store_write_many; a text of another shape is a
 * bug in the caller. */
static void bulk_shape(struct bulk *g, const char *sql, const struct params *p)
{
	int n;
	*g = (struct bulk){.sql = sql, .text = translate(sql, &n), .nparams = p->n};
	const char *t = g->text, *at = strstr(t, " VALUES (");
	bool ok = n == p->n && strncmp(t, "INSERT INTO ", 12) == 0 && at;
	if (ok) {
		g->a = (size_t)(at - t) + 8;
		size_t end = close_paren(t, g->a);
		while (end) {
			g->b = end;
			size_t k = end;
			while (t[k] == ' ')
				k++;
			if (t[k] != ',')
				break;
			k++;
			while (t[k] == ' ')
				k++;
			end = t[k] == '(' ? close_paren(t, k) : 0;
		}
		ok = g->b > g->a && !strstr(t + g->b, "RETURNING");
	}
	if (!ok)
		err_die(EX_SOFTWARE, "store_write_many: '%s' is not INSERT INTO ... VALUES (...)", sql);
}

static void bulk_reset(struct bulk *g)
{
	g->calls = 0;
	g->expect = 0;
	g->noffs = 0;
	g->data.len = 0;
}

/* Forget what was gathered: a rollback, or a doomed transaction. */
static void bulk_discard(struct pg *st)
{
	for (int i = 0; i < st->nwaiting; i++)
		bulk_reset(&st->bulk[st->waiting[i]]);
	st->nwaiting = 0;
}

/* Send each text's gathered writes as one statement, in the order of
 * their first call, with the sum of the rows they expect. */
static void bulk_send(struct pg *st)
{
	if (st->base.must_replay) {
		bulk_discard(st);
		return;
	}
	for (int w = 0; w < st->nwaiting; w++) {
		struct bulk *g = &st->bulk[st->waiting[w]];
		int n = g->nparams, total = g->calls * n;
		if (g->calls == 1) {
			/* Alone: the statement prepared once, not a new text to plan. */
			struct pg_stmt *ps = lookup(st, g->sql);
			struct params p = {.n = n};
			for (int i = 0; i < n; i++) {
				p.values[i] = g->offs[i] < 0 ? NULL : g->data.s + g->offs[i];
				p.types[i] = g->types[i];
			}
			send_prepare(st, ps, &p);
			send_prepared(st, ps, &p, CMD_WRITE, g->expect);
			bulk_reset(g);
			continue;
		}
		struct strbuf text = {0};
		const char *t = g->text;
		strbuf_add(&text, t, g->a);
		for (int j = 0; j < g->calls; j++) {
			if (j)
				strbuf_add(&text, ", ", 2);
			add_renumbered(&text, t + g->a, g->b - g->a, j * n);
		}
		strbuf_add(&text, t + g->b, strlen(t + g->b));
		const char **values = xmalloc((size_t)total * sizeof *values);
		Oid *types = xmalloc((size_t)total * sizeof *types);
		for (int i = 0; i < total; i++) {
			values[i] = g->offs[i] < 0 ? NULL : g->data.s + g->offs[i];
			types[i] = g->types[i % n];
		}
		bool ok = PQsendQueryParams(st->conn, text.s, total, types, values, NULL, NULL, 0);
		free(values);
		free(types);
		free(text.s);
		if (!ok)
			fatal(st, NULL, NULL, g->sql);
		sent(st, CMD_WRITE, g->sql, NULL, g->expect);
		bulk_reset(g);
	}
	if (st->nwaiting && PQflush(st->conn) != 0)
		fatal(st, NULL, NULL, "sending writes");
	st->nwaiting = 0;
}

static void pg_write_many(struct store *base, int64_t expect_rows, const char *sql, const char *fmt, va_list ap)
{
	struct pg *st = pg_of(base);
	stream_hold(st);
	struct params p;
	bind_params(&p, sql, fmt, ap);
	if (st->base.must_replay)
		return;
	if (!make_room(st, sql))
		return;
	struct bulk *g = NULL;
	for (int i = 0; i < st->nbulk && !g; i++)
		if (st->bulk[i].sql == sql)
			g = &st->bulk[i];
	if (!g) {
		if (st->nbulk == PG_BULK_GROUPS) {
			send_all(st); /* every shape free again: the first is reused */
			free(st->bulk[0].text);
			free(st->bulk[0].offs);
			free(st->bulk[0].data.s);
			memmove(&st->bulk[0], &st->bulk[1], (PG_BULK_GROUPS - 1) * sizeof st->bulk[0]);
			st->nbulk--;
		}
		g = &st->bulk[st->nbulk++];
		bulk_shape(g, sql, &p);
		memcpy(g->types, p.types, sizeof p.types);
	}
	if (p.n != g->nparams)
		err_die(EX_SOFTWARE, "store_write_many: %d parameters for %s, not %d", p.n, sql, g->nparams);
	if (g->calls == 0)
		st->waiting[st->nwaiting++] = (int)(g - st->bulk);
	if (g->noffs + (size_t)p.n > g->capoffs) {
		g->capoffs = 2 * (g->noffs + (size_t)p.n);
		g->offs = xrealloc(g->offs, g->capoffs * sizeof *g->offs);
	}
	for (int i = 0; i < p.n; i++) {
		g->offs[g->noffs++] = p.values[i] ? (long)g->data.len : -1;
		if (p.values[i])
			strbuf_add(&g->data, p.values[i], strlen(p.values[i]) + 1);
	}
	g->expect = expect_rows < 0 || g->expect < 0 ? -1 : g->expect + expect_rows;
	g->calls++;
	st->changes = 0;
	st->record_writes++;
	/* Enough for the server to start on while the batch goes on. */
	if (g->calls >= PG_BULK_CALLS)
		send_all(st);
}

static struct store_stmt *pg_query(struct store *base, const char *sql, const char *fmt, va_list ap)
{
	struct pg *st = pg_of(base);
	bool many = base->many_rows;
	stream_hold(st);
	struct pg_stmt *ps = lookup(st, sql);
	stmt_clear(st, ps);
	ps->row = -1;
	st->changes = 0;
	struct params p;
	bind_params(&p, sql, fmt, ap);
	if (st->base.must_replay || !make_room(st, sql))
		return &ps->base; /* doomed: nothing runs until the rollback */

	bool guard = st->base.in_txn && is_write(sql);
	if (guard && st->virtual_savepoint && st->record_writes == 0) {
		/* A write the caller waits for, first in its record: the record
		 * gets a real savepoint, so its failure undoes it without a replay
		 * (a replay runs handlers again, and not all of them only write
		 * to the ledger). */
		st->virtual_savepoint = false;
		queue_command(st, "SAVEPOINT rec");
	}
	send_all(st);
	send_prepare(st, ps, &p);
	if (guard)
		send_text(st, CMD_GUARD, "SAVEPOINT stmt");
	if (guard)
		st->record_writes++;
	send_prepared(st, ps, &p, CMD_MINE, -1);
	if (guard)
		send_text(st, CMD_GUARD, "RELEASE stmt");
	struct outcome o;
	read_all_rows(st, &o, many && !guard ? ps : NULL);
	if (st->base.must_replay) {
		PQclear(o.res);
		return &ps->base;
	}
	if (o.failed >= 0 && o.failed != CMD_MINE) {
		/* A queued command or the PREPARE: never the caller's doing. */
		fatal(st, o.state, o.message, o.failed_sql);
	}
	if (o.failed == CMD_MINE) {
		PQclear(o.res);
		if (is_retryable(o.state) && st->base.replayable && st->base.in_txn) {
			st->base.must_replay = true;
			return &ps->base;
		}
		if (guard && is_constraint(o.state)) {
			run_simple(st, "ROLLBACK TO stmt");
			run_simple(st, "RELEASE stmt");
			ps->nrows = -1; /* a constraint, for store_step */
			return &ps->base;
		}
		if (!st->base.in_txn && is_constraint(o.state)) {
			ps->nrows = -1;
			return &ps->base;
		}
		fatal(st, o.state, o.message, sql);
	}
	ps->res = o.res;
	ps->nrows = o.res ? PQntuples(o.res) : 0;
	const char *tuples = o.res ? PQcmdTuples(o.res) : "";
	st->changes = *tuples ? strtoll(tuples, NULL, 10) : 0;
	return &ps->base;
}

static enum store_result pg_step(struct store_stmt *q)
{
	struct pg_stmt *ps = (struct pg_stmt *)q;
	struct pg *st = pg_of(q->st);
	if (ps->nrows < 0) {
		ps->nrows = 0;
		return STORE_CONSTRAINT;
	}
	if (++ps->row < ps->nrows)
		return STORE_ROW;
	PQclear(ps->res);
	ps->res = NULL;
	ps->nrows = 0;
	/* A read of many rows: the next, held or still arriving. */
	PGresult *next = ps->next_held < ps->nheld ? ps->held[ps->next_held++]
	                 : st->streaming == ps     ? stream_next(st)
	                                           : NULL;
	if (next) {
		ps->res = next;
		ps->row = 0;
		ps->nrows = PQntuples(next);
		return STORE_ROW;
	}
	stmt_clear(st, ps);
	return STORE_DONE;
}

static void pg_done(struct store_stmt *q)
{
	stmt_clear(pg_of(q->st), (struct pg_stmt *)q);
}

static int64_t pg_changes(struct store *st)
{
	return pg_of(st)->changes;
}

static int64_t pg_col_int(struct store_stmt *q, int col)
{
	struct pg_stmt *ps = (struct pg_stmt *)q;
	if (!ps->res || ps->row >= ps->nrows || PQgetisnull(ps->res, ps->row, col))
		return 0;
	const char *v = PQgetvalue(ps->res, ps->row, col);
	if (PQftype(ps->res, col) == OID_BOOL)
		return *v == 't';
	return strtoll(v, NULL, 10);
}

static const char *pg_col_text(struct store_stmt *q, int col)
{
	struct pg_stmt *ps = (struct pg_stmt *)q;
	/* No row (a doomed transaction answers none): "", so that code that
	 * knows a row exists reads nothing rather than crashing; its answer
	 * is thrown away with the replay. */
	if (!ps->res || ps->row < 0 || ps->row >= ps->nrows)
		return "";
	if (PQgetisnull(ps->res, ps->row, col))
		return NULL;
	const char *v = PQgetvalue(ps->res, ps->row, col);
	if (PQftype(ps->res, col) == OID_BOOL)
		return *v == 't' ? "1" : "0";
	return v;
}

static bool pg_col_null(struct store_stmt *q, int col)
{
	struct pg_stmt *ps = (struct pg_stmt *)q;
	return !ps->res || ps->row >= ps->nrows || PQgetisnull(ps->res, ps->row, col);
}

static void queue_command(struct pg *st, const char *sql)
{
	/* Gathered writes came before this command: they go before it. */
	if (st->npending == PG_PENDING_MAX || st->nwaiting)
		send_all(st); /* in flight; read back at the next sync */
	st->pending[st->npending++] = sql;
}

static bool last_pending(struct pg *st, const char *sql)
{
	return st->npending && strcmp(st->pending[st->npending - 1], sql) == 0;
}

static void pg_txn(struct store *base, enum store_txn what)
{
	struct pg *st = pg_of(base);
	/* A read whose rest fails here (a deadlock) dooms the transaction: a
	 * commit then leaves it open, to be rolled back and replayed. */
	bool doomed = st->base.must_replay;
	stream_hold(st);
	switch (what) {
	case TXN_BEGIN:
		st->txn_sent = false;
		queue_command(st, "BEGIN");
		break;
	case TXN_BEGIN_READ:
		/* One snapshot for every statement until the end. */
		st->txn_sent = false;
		queue_command(st, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
		break;
	case TXN_SAVEPOINT:
		st->record_writes = 0;
		st->virtual_savepoint = store_deferring(base);
		if (!st->base.must_replay && !st->virtual_savepoint)
			queue_command(st, "SAVEPOINT rec");
		break;
	case TXN_RELEASE:
		if (st->virtual_savepoint) {
			st->virtual_savepoint = false;
			break;
		}
		if (st->base.must_replay)
			break;
		if (last_pending(st, "SAVEPOINT rec"))
			st->npending--; /* nothing ran inside it */
		else
			queue_command(st, "RELEASE rec");
		break;
	case TXN_ROLLBACK_SAVEPOINT:
		if (st->virtual_savepoint) {
			st->virtual_savepoint = false;
			if (st->record_writes > 0 && !st->base.must_replay)
				st->base.must_replay = st->base.careful = true;
			break;
		}
		if (st->base.must_replay)
			break;
		if (last_pending(st, "SAVEPOINT rec")) {
			st->npending--;
		} else {
			queue_command(st, "ROLLBACK TO rec");
			queue_command(st, "RELEASE rec");
		}
		break;
	case TXN_COMMIT:
		if (st->nwaiting)
			send_all(st);
		if (last_pending(st, "BEGIN")) {
			st->npending--; /* an empty transaction */
			break;
		}
		if (doomed)
			err_die(EX_SOFTWARE, "ledger %s: commit of a transaction that must be replayed", st->base.name);
		if (st->base.must_replay)
			break;
		if (!settle_inflight(st))
			break; /* doomed: still open, to be rolled back */
		{
			send_pending(st);
			send_text(st, CMD_MINE, "COMMIT");
			struct outcome o;
			read_all(st, &o);
			if (st->base.must_replay) {
				/* A deferred write failed: the COMMIT was skipped, the
				 * transaction is still open, to be rolled back. */
				PQclear(o.res);
				break;
			}
			if (o.failed >= 0)
				fatal(st, o.state, o.message, "COMMIT");
			/* A transaction that had failed answers ROLLBACK, not an error. */
			bool committed = o.res && strcmp(PQcmdStatus(o.res), "COMMIT") == 0;
			PQclear(o.res);
			if (!committed)
				fatal(st, NULL, "the transaction was rolled back, not committed", "COMMIT");
		}
		st->txn_sent = false;
		break;
	case TXN_ROLLBACK:
		st->npending = 0;
		bulk_discard(st);
		if (st->ninflight) {
			/* Deferred writes of a doomed transaction: read and dropped. */
			struct outcome o;
			read_all(st, &o);
			PQclear(o.res);
		}
		if (st->txn_sent)
			run_simple(st, "ROLLBACK");
		if (st->names_locked > 0) {
			run_simple(st, "SELECT pg_advisory_unlock_all()");
			st->names_locked = 0;
		}
		st->txn_sent = false;
		break;
	}
}

/* Session-level advisory locks: they outlive commits, so a doomed
 * transaction's rollback lets go of all of them (below). */
static void pg_lock_name(struct store *base, const char *name, bool lock)
{
	struct pg *st = pg_of(base);
	stream_hold(st);
	if (st->nwaiting)
		send_all(st);
	if (!settle_inflight(st))
		return; /* doomed: the rollback unlocks */
	struct store_stmt *q = lock ? store_query(base, "SELECT pg_advisory_lock(hashtextextended(?, 0))", "t", name)
	                            : store_query(base, "SELECT pg_advisory_unlock(hashtextextended(?, 0))", "t", name);
	bool ok = store_step(q) == STORE_ROW;
	store_done(q);
	if (ok)
		st->names_locked += lock ? 1 : -1;
}

static int pg_schema_version(struct store *base)
{
	struct store_stmt *q = store_query(base, "SELECT version FROM wpay_schema", "");
	int v = store_step(q) == STORE_ROW ? (int)store_col_int(q, 0) : 0;
	store_done(q);
	return v;
}

/* Outside pipeline mode, before it starts: one text with many statements. */
static PGresult *exec_plain(struct pg *st, const char *sql)
{
	PGresult *r = PQexec(st->conn, sql);
	ExecStatusType s = PQresultStatus(r);
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		char statebuf[6] = "", msg[256];
		strlcopy(statebuf, state ? state : "", sizeof statebuf);
		strlcopy(msg, PQresultErrorMessage(r), sizeof msg);
		PQclear(r);
		fatal(st, *statebuf ? statebuf : NULL, msg, "schema");
	}
	return r;
}

static int plain_int(struct pg *st, const char *sql)
{
	PGresult *r = exec_plain(st, sql);
	int v = PQntuples(r) && !PQgetisnull(r, 0, 0) ? (int)strtol(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	return v;
}

static void migrate(struct pg *st, int target)
{
	PQclear(exec_plain(st, "BEGIN"));
	/* Two inits at once: the second waits, then finds the work done. */
	char lock[80];
	bufprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%d)", PG_MIGRATION_LOCK);
	PQclear(exec_plain(st, lock));
	PQclear(exec_plain(st, "CREATE TABLE IF NOT EXISTS wpay_schema (version BIGINT NOT NULL)"));
	int version = plain_int(st, "SELECT version FROM wpay_schema");
	st->base.created = version == 0;
	for (; version < target; version++)
		PQclear(exec_plain(st, schema_pg_migrations[version]));
	char set[80];
	bufprintf(set, sizeof set, "DELETE FROM wpay_schema; INSERT INTO wpay_schema VALUES (%d)", target);
	PQclear(exec_plain(st, set));
	PQclear(exec_plain(st, "COMMIT"));
}

/* Check the URI as libpq reads it, before anything connects: one it cannot
 * read, or one with a password in it (user:secret@, password=,
 * sslpassword=, however encoded: it would show in ps, in shell history and
 * in the environment of every child), is a usage error, not a server to
 * try again. */
static int check_uri(const char *uri, struct err *e)
{
	char *why = NULL;
	PQconninfoOption *opts = PQconninfoParse(uri, &why);
	if (!opts) {
		char msg[256];
		strlcopy(msg, why ? why : "out of memory", sizeof msg);
		PQfreemem(why);
		one_line(msg);
		/* Neither the URI nor a message that quotes it: it may hold a
		 * password this check never got to. */
		bool quotes = strstr(msg, "://") != NULL;
		return err_fail(e, EX_USAGE, "bad_config",
		                "the database URI cannot be read%s%s; write it as "
		                "postgresql://[user@][host][:port]/dbname[?param=value&...] (see wpay(7))",
		                quotes ? "" : ": ", quotes ? "" : msg);
	}
	bool password = false;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (o->val && *o->val &&
		    (strcmp(o->keyword, "password") == 0 || strcmp(o->keyword, "sslpassword") == 0))
			password = true;
	PQconninfoFree(opts);
	if (password)
		return err_fail(e, EX_USAGE, "bad_config",
		                "a password in the database URI is refused (it would show in ps and in shell "
		                "history); put it in ~/.pgpass or the file PGPASSFILE names, and leave it out of "
		                "--db and WPAY_DB");
	return 0;
}

static void pg_close(struct store *base);

static int pg_open(const char *uri, bool create, bool readonly, struct store **out, struct err *e)
{
	*out = NULL;
	int rc = pq_load(e);
	if (rc == 0)
		rc = check_uri(uri, e);
	if (rc)
		return rc;
	struct pg *st = xcalloc(1, sizeof *st);
	st->base = (struct store){.ops = &store_pg_ops, .engine = STORE_POSTGRESQL, .name = xstrdup(uri)};
	current = st;
	const char *app = err_progname && *err_progname ? err_progname : "wpay";
	const char *const keys[] = {"dbname", "client_encoding", "fallback_application_name", NULL};
	const char *const values[] = {uri, "UTF8", app, NULL};
	st->conn = PQconnectdbParams(keys, values, 1);
	if (!st->conn || PQstatus(st->conn) != CONNECTION_OK) {
		char *msg = xstrdup(st->conn ? PQerrorMessage(st->conn) : "out of memory");
		one_line(msg);
		int status = EX_TEMPFAIL;
		const char *code = "unavailable", *hint = "is the server running? try again";
		if (strstr(msg, "does not exist") && strstr(msg, "database")) {
			status = EX_NOINPUT;
			code = "no_ledger";
			hint = "create it (createdb), then run 'wpay init --db' with this URI";
		} else if (strstr(msg, "authentication failed") || strstr(msg, "no password supplied") ||
		           strstr(msg, "no pg_hba.conf entry") || strstr(msg, "permission denied")) {
			status = EX_NOPERM;
			code = "denied";
			hint = "check the user, ~/.pgpass (or PGPASSFILE) and the server's pg_hba.conf";
		}
		err_fail(e, status, code, "cannot connect to ledger %s: %s; %s", uri, msg, hint);
		free(msg);
		pg_close(&st->base);
		return status;
	}
	PGresult *r =
	    exec_plain(st, "SELECT current_setting('server_encoding'), to_regclass('wpay_schema') IS NOT NULL,"
	                   " (SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema())");
	bool utf8 = strcmp(PQgetvalue(r, 0, 0), "UTF8") == 0;
	bool ours = *PQgetvalue(r, 0, 1) == 't';
	long tables = strtol(PQgetvalue(r, 0, 2), NULL, 10);
	PQclear(r);
	int target = (int)ARRAY_LEN(schema_pg_migrations);
	int version = ours ? plain_int(st, "SELECT version FROM wpay_schema") : 0;
	if (!utf8)
		rc = err_fail(e, EX_CONFIG, "not_ledger",
		              "database %s is not in UTF8; create the ledger's database with ENCODING 'UTF8'", uri);
	else if (!ours && tables > 0)
		rc = err_fail(e, EX_DATAERR, "not_ledger",
		              "database %s holds %ld tables of another program, not a wpay ledger; use an empty "
		              "database",
		              uri, tables);
	else if (!ours && !create)
		rc = err_fail(e, EX_NOINPUT, "no_ledger", "%s is not an initialised wpay ledger; run 'wpay init'", uri);
	else if (version > target)
		rc = err_fail(e, EX_DATAERR, "schema_newer",
		              "ledger %s has schema v%d, newer than this wpay knows (v%d); upgrade wpay", uri, version,
		              target);
	if (rc) {
		pg_close(&st->base);
		return rc;
	}
	if (readonly)
		PQclear(exec_plain(st, "SET default_transaction_read_only = on"));
	else if (version < target)
		migrate(st, target);
	if (!PQenterPipelineMode(st->conn))
		fatal(st, NULL, NULL, "pipeline mode");
	*out = &st->base;
	return 0;
}

static void pg_close(struct store *base)
{
	struct pg *st = pg_of(base);
	for (int i = 0; i < st->ncache; i++) {
		PQclear(st->cache[i].res);
		for (size_t k = st->cache[i].next_held; k < st->cache[i].nheld; k++)
			PQclear(st->cache[i].held[k]);
		free(st->cache[i].held);
	}
	for (int i = 0; i < st->nbulk; i++) {
		free(st->bulk[i].text);
		free(st->bulk[i].offs);
		free(st->bulk[i].data.s);
	}
	PQfinish(st->conn);
	if (current == st)
		current = NULL;
	free(st->base.name);
	free(st);
}

const struct store_ops store_pg_ops = {
    .open = pg_open,
    .close = pg_close,
    .query = pg_query,
    .step = pg_step,
    .done = pg_done,
    .changes = pg_changes,
    .col_int = pg_col_int,
    .col_text = pg_col_text,
    .col_null = pg_col_null,
    .txn = pg_txn,
    .schema_version = pg_schema_version,
    .write = pg_write,
    .write_many = pg_write_many,
    .lock_name = pg_lock_name,
};
