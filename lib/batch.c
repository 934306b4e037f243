/* batch: see batch.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "cli.h"
#include "clock.h"

#include "util.h"

struct batch {
	struct store *st;
	void (*before_print)(void *arg);
	void (*prefetch)(void *arg, json_t *requests);
	batch_handler h;
	int (*ask)(void *arg, json_t *req, struct err *e);
	struct progress *progress;
	void *arg;
	json_t *queue; /* [answer, message for stderr or null], waiting for the commit */
	/* The records of the open transaction, [request, source, line], to run
	 * again if it is doomed (store_replayable), and how much of the queue
	 * was there before them. */
	json_t *replay;
	size_t queue_mark;
	size_t records, max_records;
	int64_t started_ms;
	int max_ms;
	bool failed, write_error, dry_run;
};

/* PostgreSQL keeps every version of a row a transaction updates: a batch
 * that moves the same balance n times walks O(n^2) versions. Measured
 * with 1,000 payments from one wallet: 100 a batch 0.80 s, 1,000 4.1 s. */
enum { BATCH_PG_RECORDS = 100 };

/* What the handler at work has learnt about its request (batch_identify). */
static json_t *learnt;

void batch_identify(const char *key, const char *value)
{
	if (!learnt)
		learnt = json_object();
	if (value)
		json_object_set_new(learnt, key, json_string(value));
}

static void batch_init(struct batch *b, struct store *st, batch_handler h, void *arg, const struct batch_opts *opts)
{
	*b = (struct batch){.st = st,
	                    .h = h,
	                    .arg = arg,
	                    .queue = json_array(),
	                    .replay = json_array(),
	                    .before_print = opts ? opts->before_print : NULL,
	                    .prefetch = opts ? opts->prefetch : NULL,
	                    .ask = opts ? opts->ask : NULL,
	                    .progress = opts ? opts->progress : NULL,
	                    .dry_run = opts && opts->dry_run,
	                    .max_records = opts && opts->max_records                    ? opts->max_records
	                                   : st && store_engine(st) == STORE_POSTGRESQL ? BATCH_PG_RECORDS
	                                                                                : 1000,
	                    .max_ms = opts && opts->max_ms ? opts->max_ms : 200};
	if (st)
		store_replayable(st, true);
	/* Replays pause at random: workers that met must not meet again. */
	static bool seeded;
	if (!seeded) {
		srand((unsigned)(clock_now_ms() ^ (int64_t)getpid() << 16));
		seeded = true;
	}
}

/* Time to commit what the batch holds? */
static bool batch_full(const struct batch *b)
{
	return b->records >= b->max_records || (b->records && clock_now_ms() - b->started_ms >= b->max_ms);
}

static void replay(struct batch *b);

static void flush(struct batch *b)
{
	if (b->st && store_in_transaction(b->st)) {
		if (b->dry_run) {
			store_rollback(b->st);
		} else {
			/* A commit can find the transaction doomed (a write sent on
			 * trust failed): it runs again, then commits. */
			store_commit(b->st);
			while (store_must_replay(b->st)) {
				replay(b);
				if (store_in_transaction(b->st))
					store_commit(b->st);
			}
		}
	}
	if (b->before_print)
		b->before_print(b->arg);
	size_t i, errors = 0;
	json_t *item;
	if (b->progress && json_array_size(b->queue))
		progress_clear(b->progress, true);
	json_array_foreach (b->queue, i, item) {
		json_t *rec = json_array_get(item, 0);
		const char *message = json_string_value(json_array_get(item, 1));
		if (message) {
			if (b->progress)
				progress_clear(b->progress, false);
			err_put_message(message, stderr);
			fputc('\n', stderr);
		}
		/* before_print may have turned an answer into an error. */
		const char *type = json_string_value(json_object_get(rec, "type"));
		if (type && strcmp(type, "error") == 0) {
			b->failed = true;
			errors++;
		}
		if (!b->write_error && !rec_emit(rec))
			b->write_error = true;
	}
	if (b->progress)
		progress_add(b->progress, b->records, errors);
	json_array_clear(b->queue);
	json_array_clear(b->replay);
	b->queue_mark = 0;
	b->records = 0;
}

/* Takes rec, and message (may be NULL). */
static void queue(struct batch *b, json_t *rec, json_t *ref, char *message)
{
	/* The caller's ref wins over a record's own (a transfer's): scripts
	 * match answers to requests by it. */
	if (ref && json_is_object(rec))
		json_object_set(rec, "ref", ref);
	json_array_append_new(b->queue, json_pack("[o, s?]", rec, message));
	free(message);
}

/* An error record; it marks the run failed when it is printed. req is
 * the request that failed, NULL for a line that was not one. */
static void fail(struct batch *b, const struct err *e, json_t *req, const char *src, unsigned long line)
{
	json_t *rec = req ? rec_error_for(e, req, learnt) : rec_error_record(e, NULL);
	if (!req && line)
		json_object_set_new(rec, "line", json_integer((json_int_t)line));
	queue(b, rec, NULL, cli_record_message(e, src, line));
}

/* Run the handler in the record's savepoint; BATCH_FAIL and BATCH_ASK undo
 * what it wrote. */
static int attempt(struct batch *b, json_t *req, json_t **out, struct err *e)
{
	if (b->st) {
		if (!store_in_transaction(b->st)) {
			store_begin(b->st);
			b->started_ms = clock_now_ms();
		}
		store_savepoint(b->st);
	}
	if (learnt)
		json_object_clear(learnt);
	int rc = b->h(b->arg, req, out, e);
	if (b->st) {
		if (rc == BATCH_OK)
			store_release(b->st);
		else
			store_rollback_savepoint(b->st);
	}
	return rc;
}

enum { REPLAY_MAX = 50 };

/* Keep a record for a replay of the open transaction. */
static void save(struct batch *b, json_t *req, const char *src, unsigned long line)
{
	if (b->st)
		json_array_append_new(b->replay, json_pack("[O, s?, I]", req, src, (json_int_t)line));
}

/* Run one record in its savepoint and queue its answers. False when the
 * transaction was doomed: nothing of it counts, it must run again. */
static bool run_record(struct batch *b, json_t *req, const char *src, unsigned long line)
{
	json_t *ref = json_object_get(req, "ref");
	json_t *out = NULL;
	struct err e = {0};
	unsigned long commits = b->st ? store_commits(b->st) : 0;
	int rc = attempt(b, req, &out, &e);
	if (b->st && store_must_replay(b->st)) {
		json_decref(out);
		return false;
	}
	if (b->st && store_commits(b->st) != commits) {
		/* The record made part of its work durable (a PIN try): what came
		 * before it is committed, and must not run again. */
		json_t *self = json_incref(json_array_get(b->replay, json_array_size(b->replay) - 1));
		json_array_clear(b->replay);
		json_array_append_new(b->replay, self);
		b->queue_mark = json_array_size(b->queue);
	}
	bool asked = rc == BATCH_ASK;
	if (asked) {
		/* A person must type something: never while holding the lock.
		 * What they type is read once, so this record runs alone, waiting
		 * for each write, and is committed at once: it is never replayed
		 * (which would read the next record's line as its own). */
		json_decref(out);
		out = NULL;
		if (b->st)
			json_array_remove(b->replay, json_array_size(b->replay) - 1);
		flush(b);
		if (b->progress)
			progress_clear(b->progress, false); /* a prompt may follow */
		rc = b->ask ? b->ask(b->arg, req, &e)
		            : err_fail(&e, ERR_FAIL, "internal", "nobody to ask for this record");
		for (int tries = 1; rc == BATCH_OK; tries++) {
			if (b->st) {
				store_begin(b->st);
				store_wait_for_writes(b->st);
				b->started_ms = clock_now_ms();
			}
			if ((rc = attempt(b, req, &out, &e)) == BATCH_ASK && tries == 1)
				rc = err_fail(&e, ERR_FAIL, "internal",
				              "the record still waits for input after it was asked for");
			if (!b->st || !store_must_replay(b->st))
				break;
			/* A deadlock: again, with what was typed, if the handler kept it. */
			json_decref(out);
			out = NULL;
			store_rollback(b->st);
			rc = BATCH_OK;
			if (tries == REPLAY_MAX)
				rc = err_fail(&e, ERR_FAIL, "busy",
				              "another worker held the same rows at the same moment; nothing of this "
				              "record was kept; run it again");
		}
		if (rc == BATCH_ASK)
			rc = err_fail(&e, ERR_FAIL, "busy",
			              "another worker held the same rows at the same moment; nothing of this record "
			              "was kept; run it again");
	}
	if (rc != BATCH_OK) {
		json_decref(out);
		fail(b, &e, req, src, line);
	} else if (json_is_array(out)) {
		size_t i;
		json_t *rec;
		json_array_foreach (out, i, rec)
			queue(b, json_incref(rec), ref, NULL);
		json_decref(out);
	} else if (out) {
		queue(b, out, ref, NULL);
	}
	b->records++;
	if (asked)
		flush(b);
	return true;
}

/* The open transaction is doomed (a deadlock, a write sent on trust that
 * failed): roll it back, forget the answers it queued, and run its records
 * again in a new one, until they all run. The caller sees nothing of this:
 * answers are printed only after a commit. */
static void replay(struct batch *b)
{
	for (int tries = 1;; tries++) {
		store_rollback(b->st);
		while (json_array_size(b->queue) > b->queue_mark)
			json_array_remove(b->queue, json_array_size(b->queue) - 1);
		if (tries > REPLAY_MAX) {
			json_array_clear(b->replay);
			flush(b); /* what was committed before */
			err_die(EX_TEMPFAIL,
			        "the ledger's transaction had to run again %d times in a row (deadlocks with other "
			        "workers, or writes they made first); nothing of it was kept; try again",
			        REPLAY_MAX);
		}
		if (tries > 1) {
			/* Apart for a moment, so the other worker finishes first. */
			struct timespec pause = {0, (long)(rand() % (tries * 2000)) * 1000};
			nanosleep(&pause, NULL);
		}
		json_t *list = b->replay;
		b->replay = json_array();
		bool ok = true;
		size_t i;
		json_t *item;
		json_array_foreach (list, i, item) {
			if (!ok) {
				json_array_append(b->replay, item);
				continue;
			}
			json_t *r = json_array_get(item, 0);
			const char *s = json_string_value(json_array_get(item, 1));
			unsigned long l = (unsigned long)json_integer_value(json_array_get(item, 2));
			save(b, r, s, l);
			ok = run_record(b, r, s, l);
		}
		json_decref(list);
		if (ok)
			return;
	}
}

static void handle(struct batch *b, json_t *req, const char *src, unsigned long line)
{
	save(b, req, src, line);
	if (!run_record(b, req, src, line))
		replay(b);
}

static int finish(struct batch *b)
{
	flush(b);
	json_decref(learnt);
	learnt = NULL;
	json_decref(b->queue);
	json_decref(b->replay);
	if (b->write_error) {
		err_warn("cannot write to standard output: %s", strerror(errno));
		return EX_IOERR;
	}
	return b->failed ? EX_RECORDS : 0;
}

/* A record read ahead of its turn (batch_opts.prefetch). */
struct ahead {
	int rc, errnum;
	json_t *req;
	struct err e;
	unsigned long line;
};

/* The records already waiting on input, up to the room the batch has
 * left, shown to the prefetch hook; a bad line, the end or a read error
 * ends the run of them and waits in its place. */
static size_t read_ahead(struct batch *b, struct rec_reader *r, struct ahead *a, size_t room)
{
	size_t n = 0;
	json_t *reqs = json_array();
	do {
		a[n] = (struct ahead){0};
		a[n].rc = rec_read(r, &a[n].req, &a[n].e);
		a[n].errnum = errno;
		a[n].line = r->lineno;
		if (a[n].rc == REC_OK)
			json_array_append(reqs, a[n].req);
	} while (a[n++].rc == REC_OK && n < room && rec_reader_ready(r));
	if (json_array_size(reqs))
		b->prefetch(b->arg, reqs);
	json_decref(reqs);
	return n;
}

int batch_run(struct store *st, struct rec_reader *r, batch_handler h, void *arg, const struct batch_opts *opts)
{
	struct batch b;
	batch_init(&b, st, h, arg, opts);
	bool ahead_on = b.prefetch && st && store_engine(st) == STORE_POSTGRESQL;
	struct ahead *ahead = ahead_on ? xcalloc(b.max_records, sizeof *ahead) : NULL;
	size_t nahead = 0, next = 0;
	int status = -1;
	for (;;) {
		json_t *req;
		struct err e = {0};
		unsigned long line;
		int rc;
		if (ahead_on) {
			if (next == nahead) {
				nahead = read_ahead(&b, r, ahead, b.max_records - b.records);
				next = 0;
			}
			rc = ahead[next].rc, req = ahead[next].req, e = ahead[next].e, line = ahead[next].line;
			errno = ahead[next].errnum;
			next++;
		} else {
			rc = rec_read(r, &req, &e);
			line = r->lineno;
		}
		if (rc == REC_EOF)
			break;
		if (rc == REC_IOERR) {
			int saved = errno;
			finish(&b);
			err_warn("cannot read %s: %s", r->name, strerror(saved));
			status = EX_IOERR;
			break;
		}
		if (rc == REC_BAD) {
			/* Its error is not a record a replay could run again: print
			 * what the transaction holds first. */
			if (b.st && store_in_transaction(b.st))
				flush(&b);
			fail(&b, &e, NULL, r->name, line);
		} else {
			handle(&b, req, r->name, line);
			json_decref(req);
		}
		if (batch_full(&b) || (next == nahead && !rec_reader_ready(r)) || b.write_error)
			flush(&b);
		if (b.write_error)
			break;
	}
	while (next < nahead) /* what was read ahead of a write error */
		json_decref(ahead[next++].req);
	free(ahead);
	return status >= 0 ? status : finish(&b);
}

int batch_list(struct store *st, json_t *requests, batch_handler h, void *arg, const struct batch_opts *opts)
{
	struct batch b;
	batch_init(&b, st, h, arg, opts);
	bool ahead_on = b.prefetch && st && store_engine(st) == STORE_POSTGRESQL;
	size_t i;
	json_t *req;
	json_array_foreach (requests, i, req) {
		if (ahead_on && !store_in_transaction(st)) {
			/* The batch's transaction first: the hook may lock what its
			 * records will change. */
			store_begin(st);
			b.started_ms = clock_now_ms();
			json_t *chunk = json_array();
			for (size_t k = i; k < json_array_size(requests) && k < i + b.max_records; k++)
				json_array_append(chunk, json_array_get(requests, k));
			b.prefetch(b.arg, chunk);
			json_decref(chunk);
		}
		handle(&b, req, NULL, 0);
		if (batch_full(&b))
			flush(&b);
		if (b.write_error)
			break;
	}
	return finish(&b);
}

int batch_one(struct store *st, json_t *req, batch_handler h, void *arg, const struct batch_opts *opts)
{
	struct batch b;
	batch_init(&b, st, h, arg, opts);
	handle(&b, req, NULL, 0);
	return finish(&b);
}

int batch_serve(struct store *st, json_t *req, batch_handler h, void *arg, const struct batch_opts *opts)
{
	if (req) {
		int status = batch_one(st, req, h, arg, opts);
		json_decref(req);
		return status;
	}
	struct rec_reader r;
	rec_reader_init(&r, 0, "<stdin>", opts ? opts->max_line : 0);
	int status = batch_run(st, &r, h, arg, opts);
	rec_reader_free(&r);
	return status;
}
