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

/* The longest line of a file to reconcile, in bytes. */
#define RECONCILE_LINE_MAX 4096

struct reconcile_opts {
	const char *settle_date; /* only the payments its settlement of that date took */
	const char *trade_date;  /* only the payments of that trade date (period.h) */
	const char *encoding;    /* the file's: NULL to tell from its bytes, "utf-8", "gbk", "gb18030" */
};

/*
 * Compare a merchant's own records (path: JSON lines, or CSV with a header
 * naming out_trade_no and amount, optionally status, fee and kind; or
 * Alipay's names for them; or a bill wpay-bill wrote, in any of its forms)
 * with the ledger: the merchant's paid orders, or only those of a trade
 * date, or in its settlement of a date. A file may start with a UTF-8 BOM,
 * end its lines in CRLF, and be in GBK or GB18030 (told from its bytes).
 * A line whose kind is not a payment (a bill's refunds and totals), and
 * comment lines (#), are passed over. Appends one "difference" record per
 * difference to out, then a "reconciliation" summary; *agree says whether
 * they agree. Returns 0, or a status with e set (64 a bad date or
 * encoding, 66 cannot read the file, 65 a malformed file or an unknown
 * merchant).
 */
int reconcile_merchant(struct store *st, const char *merchant, const struct reconcile_opts *ro, const char *path,
                       json_t *out, bool *agree, struct err *e);
/* Read a merchant's records (as reconcile_merchant takes them) from f into
 * theirs, keyed by out_trade_no: {"amount", "status" (in the ledger's
 * words), "fee" if given}. Returns 0, or 65 / 74 with e set. */
int reconcile_read_records(FILE *f, const char *path, const char *currency, const char *encoding, json_t *theirs,
                           struct err *e);

#endif
