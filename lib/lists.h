/*
 * lists: the read side. Orders, payments and refunds, and a wallet's
 * statement, as JSON lines, oldest first in the order of their
 * time-ordered ids, each record in the shape the program that made it
 * answers (wpay-order query, wpay-pay, wpay-refund).
 *
 * A list streams: rows come from one prepared statement, a page of rows
 * at a time by id (the next page starts after the last id), straight to
 * standard output, so a list of any length runs in the same memory. All
 * pages are read in one read-only transaction: one snapshot, no write
 * lock (a writer never waits for a list).
 *
 * --limit N stops after N records, and nothing else is printed: records
 * are the contract. A caller pages on with --after the last record's id
 * until a page comes back with fewer than N records.
 */
#ifndef WPAY_LISTS_H
#define WPAY_LISTS_H

#include <stdbool.h>

#include "err.h"
#include "store.h"

#define LIST_LIMIT_MAX 1000000000LL

enum list_kind { LIST_ORDERS, LIST_PAYMENTS, LIST_REFUNDS, LIST_STATEMENT };

struct list_query {
	enum list_kind kind;
	/* Filters as a person types them; NULL: any. merchant "m:<no>" or
	 * "<no>"; buyer "u:<uid>" or "<uid>"; order "ord_..."; state one of
	 * an order's states; wallet (statement) as wpay-bind takes it. */
	const char *merchant, *buyer, *order, *state, *wallet;
	const char *since, *until; /* period.h */
	const char *after;         /* an id of the listed kind */
	long long limit;           /* 0: no limit */
};

/*
 * Print the list q asks for on standard output (rec_writer_init first).
 * Returns 0; EX_USAGE with e set for a bad option ("bad_date",
 * "bad_period", "bad_field" for a state or an --after id of another
 * kind); ERR_FAIL with "not_found" for a merchant, buyer, order or wallet
 * the ledger does not know (an error, never an empty list); EX_IOERR (e
 * untouched) when standard output fails; 65 "bad_setting" for a ledger
 * time zone.
 *
 * A statement line is {"type":"movement"}: the wallet, the transfer's id
 * and kind, amount signed (+ in, - out), the other account, the order,
 * payment or refund it belongs to where there is one, its time, and the
 * wallet's balance after it. The balance before the first line is that
 * of every earlier transfer, so without --until the last line's balance
 * is the wallet's balance.
 */
int lists_print(struct store *st, const struct list_query *q, struct err *e);

/* Is the program's first operand word1 (and the next word2)? A program
 * hands such a command line to lists_main. */
bool lists_is_command(int argc, char **argv, const char *word1, const char *word2);
/* A program's list command, "list [filters]" or "wallet statement WALLET
 * [options]" (wpay-bind), from its whole command line: prints the list,
 * or an error record and its message, and returns the exit status: 1 for
 * an unknown merchant, buyer, order or wallet, 64 for a bad option, 74
 * when standard output failed (usage errors exit 64 at once). */
int lists_main(const char *usage, enum list_kind kind, int argc, char **argv);

#endif
