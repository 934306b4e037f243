/*
 * payouts: the files a settlement date leaves for people: the bank's
 * payout file and each merchant's bill, as CSV a spreadsheet cannot be
 * tricked by (csv.h).
 */
#ifndef WPAY_PAYOUTS_H
#define WPAY_PAYOUTS_H

#include "err.h"
#include "settle.h"
#include "store.h"

/* Write dir/payouts-DATE.csv (every positive payout of the date) and
 * dir/bill-DATE-MERCHANT.csv for each settlement of the date that has
 * none yet, each written whole: temporary files, one sync, then the
 * renames. Returns 0, or a sysexits status with e set (73, 74). */
int payouts_write(struct store *st, const struct settle_run *run, const char *dir, struct err *e);

#endif
