/*
 * reconcile: a merchant's own records of its orders against the ledger.
 */
#ifndef WPAY_RECONCILE_H
#define WPAY_RECONCILE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "err.h"
#include "store.h"

/*
 * Compare a merchant's own records (path: JSON lines, or CSV with a header
 * naming out_trade_no, amount and status, optionally fee) with the ledger:
 * the merchant's paid orders, or with date only those in its settlement of
 * that date. Appends one "difference" record per difference to out, then a
 * "reconciliation" summary; *agree says whether they agree. Returns 0, or a
 * status with e set (66 cannot read the file, 65 a malformed file).
 */
int reconcile_merchant(struct store *st, const char *merchant, const char *date, const char *path, json_t *out,
                       bool *agree, struct err *e);
/* Read a merchant's records (as reconcile_merchant takes them) from f into
 * theirs, keyed by out_trade_no: {"amount", "status" (in the ledger's
 * words), "fee" if given}. Returns 0, or 65 / 74 with e set. */
int reconcile_read_records(FILE *f, const char *path, const char *currency, json_t *theirs, struct err *e);

#endif
