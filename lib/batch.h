/*
 * batch: the record loop the programs share. Requests are handled one at
 * a time, each in its own savepoint inside a transaction that spans many
 * records; the transaction commits after `max_records` records, after
 * `max_ms`, or as soon as input would block, and only then are the
 * results printed, answers on stdout and their messages on stderr. So
 * nothing a caller sees runs ahead of the state it implies, one bad record
 * never undoes the others, and a slow pipe still sees each answer promptly.
 */
#ifndef WPAY_BATCH_H
#define WPAY_BATCH_H

#include <jansson.h>

#include "progress.h"
#include "records.h"
#include "store.h"

/* Handler results: 0 done; BATCH_FAIL undo this record's writes and report
 * e; BATCH_ASK undo them, commit the batch so far (no lock is held while
 * a person types), call opts->ask, then run the record again. */
enum { BATCH_OK = 0, BATCH_FAIL = ERR_FAIL, BATCH_ASK = -2 };

/*
 * A handler answers one request. *out is a record, or an array of records
 * (a list), or NULL for none; ownership passes to the loop. The loop copies
 * the request's "ref" into each answer and error.
 */
typedef int (*batch_handler)(void *arg, json_t *req, json_t **out, struct err *e);

/* The domain modules' handlers (accounts, merchants, pins, orders, ...):
 * the same contract, with the program's open ledger and keys as arg. */
struct wpay_ctx;
typedef int (*wpay_handler)(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);

struct batch_opts {
	size_t max_line;    /* longest input line (batch_serve), default 1 MiB */
	size_t max_records; /* default 1000 */
	int max_ms;         /* default 200 */
	/* Called after each commit, before its answers are printed: work the
	 * handler started (images being written) finishes here, and may still
	 * turn an answer into an error. */
	void (*before_print)(void *arg);
	/* Roll every batch back instead of committing it: answers are what
	 * would have happened (--dry-run). */
	bool dry_run;
	/* After a handler returned BATCH_ASK, with no transaction open: read
	 * what a person must type (a PIN). BATCH_OK runs the record again;
	 * BATCH_FAIL reports e. */
	int (*ask)(void *arg, json_t *req, struct err *e);
	/* Counts the records and errors of each commit, and keeps its line
	 * off the messages and answers printed (may be NULL). */
	struct progress *progress;
	/* On an engine that sends writes without waiting (PostgreSQL), batch_run
	 * reads ahead the records already waiting on input, up to the batch's
	 * size, and shows them here before they run: the handler may read what
	 * they need in one query rather than a round trip each (may be NULL).
	 * batch_list shows each batch's requests at its start, its transaction
	 * open, so the hook may lock what they will change; what it read holds
	 * only in that transaction (store_transactions), as a replay runs the
	 * records again in another. */
	void (*prefetch)(void *arg, json_t *requests);
};

/* A handler names what the request at hand is about as it learns it (the
 * order a payment was for, its merchant and out_trade_no): if the record
 * fails, its error record repeats these, beside what the request itself
 * gave (rec_error_for). Forgotten when the next record starts. */
void batch_identify(const char *key, const char *value);
/* Run every record from r (st may be NULL for programs with no ledger).
 * Returns 0, EX_RECORDS if any record failed, or EX_IOERR. */
int batch_run(struct store *st, struct rec_reader *r, batch_handler h, void *arg, const struct batch_opts *opts);
/* Run one request made from the command line; same results. */
int batch_one(struct store *st, json_t *req, batch_handler h, void *arg, const struct batch_opts *opts);
/* Run each request of a JSON array (made by the program, not read), with
 * the same savepoints, batches and results as batch_run. */
int batch_list(struct store *st, json_t *requests, batch_handler h, void *arg, const struct batch_opts *opts);
/* A program's main loop: the request its command line made (taken and
 * released), or, when req is NULL, every record on standard input. */
int batch_serve(struct store *st, json_t *req, batch_handler h, void *arg, const struct batch_opts *opts);

#endif
