/*
 * bills: a merchant's bills. The trade bill of a trade date (period.h):
 * every payment and refund made that business day, settled or not, one
 * line each with its fee and net, then a total; the fund bill: every
 * movement of the merchant's pending, deposit and payout accounts that
 * day, with the balance after it. settle --out writes each settlement's
 * bill with the same line writer (payouts.h).
 *
 * CSV (csv.h: quoted, formula-like text neutralised; amounts as decimals)
 * with our column names or those of Alipay's downloadable bills, in
 * UTF-8 (optionally with a BOM), GBK or GB18030; or JSON lines (amounts
 * in minor units).
 */
#ifndef WPAY_BILLS_H
#define WPAY_BILLS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "store.h"

enum bill_kind { BILL_TRADE, BILL_FUND };
enum bill_format { BILL_CSV, BILL_JSONL };

struct bill_opts {
	enum bill_kind kind;
	enum bill_format format;
	bool zh;              /* Alipay's column names */
	const char *encoding; /* NULL or "utf-8", "gbk", "gb18030" */
	bool bom;
};

/* Check a combination of options: 0, or 64 "bad_option" with e set. */
int bills_check_opts(const struct bill_opts *o, struct err *e);

/* A writer of trade bill lines to f. */
struct bill_writer;
struct bill_writer *bill_writer_new(FILE *f, const struct bill_opts *o, const char *currency);
/* Write the header (and BOM): 0, or 74 / 65 with e set. */
int bill_writer_header(struct bill_writer *w, struct err *e);
/* Write the lines a query gives (the columns bills.c's trade queries
 * select, in their order) and add them to the totals. */
int bill_writer_lines(struct bill_writer *w, struct store_stmt *q, struct err *e);
/* Write the row q is on, its bill columns from column first on. */
int bill_writer_row(struct bill_writer *w, struct store_stmt *q, int first, struct err *e);
/* The totals line; 0 or a status with e set. */
int bill_writer_total(struct bill_writer *w, struct err *e);
/* One more CSV summary line: label in the kind column, an amount in net. */
int bill_writer_summary(struct bill_writer *w, const char *label, int64_t net, struct err *e);
void bill_writer_free(struct bill_writer *w);

/* Every line of the settlements of date, for settle --out: the merchant,
 * then the line's columns (bill_writer_row, from column 1); each bill's
 * payments, then its refunds, each in time order, but the merchants' lines
 * mixed. One pass over the date's payments and refunds (from the oldest
 * of them on), not a query per settlement: those were lookups all over
 * the ledger. */
struct store_stmt *bills_date_lines(struct store *st, const char *date);
/* The same for one settlement (its lines alone). */
struct store_stmt *bills_settlement_lines(struct store *st, const char *settlement_id);

/* Write merchant's bill of date (YYYY-MM-DD, a trade date) to f. Returns
 * 0, or a status with e set: 64 "bad_date", 65 "bad_setting" or
 * "unencodable" (a character the encoding lacks), 66 "unknown_merchant",
 * 74 "io". */
int bills_write(struct store *st, const char *merchant, const char *date, const struct bill_opts *o, FILE *f,
                struct err *e);
/* The same to a file, written whole (a temporary file, then a rename). */
int bills_write_file(struct store *st, const char *merchant, const char *date, const struct bill_opts *o,
                     const char *path, struct err *e);

#endif
