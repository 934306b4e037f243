/* payouts: see payouts.h. */
#define _GNU_SOURCE /* syncfs */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "crypto.h"
#include "csv.h"
#include "ids.h"
#include "money.h"
#include "payouts.h"

#include "util.h"

/* Files written whole: each to a temporary file beside it; then one
 * syncfs() for them all, the renames, and an fsync of the directory. One
 * sync, not one per file: 10,000 bills took 26 s with an fsync each. */
struct pending_files {
	json_t *list; /* [[tmp, path], ...] */
};

static int write_temp(struct pending_files *pf, const char *path, bool (*fill)(FILE *, void *), void *arg,
                      struct err *e)
{
	/* A new file of ours, never one found there: O_EXCL refuses any name
	 * that exists, a planted link included, so it cannot be made to write
	 * through a link to another file; the name is random, so no one can
	 * take every name we might pick. Mode 0600: a payout file names bank
	 * accounts. */
	char *tmp = NULL;
	int fd = -1;
	for (int tries = 0; fd < 0 && tries < 16; tries++) {
		unsigned char r[8];
		char hex[2 * sizeof r + 1];
		crypto_random(r, sizeof r);
		hex_encode(r, sizeof r, hex);
		free(tmp);
		tmp = xasprintf("%s.tmp.%s", path, hex);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		err_fail(e, EX_CANTCREAT, "io", "cannot create %s: %s", tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return EX_CANTCREAT;
	}
	bool ok = fill(f, arg);
	int saved = errno;
	if (fclose(f) != 0)
		ok = false, saved = errno;
	if (!ok) {
		unlink(tmp);
		err_fail(e, EX_IOERR, "io", "cannot write %s: %s", tmp, strerror(saved ? saved : EIO));
		free(tmp);
		return EX_IOERR;
	}
	json_array_append_new(pf->list, json_pack("[s, s]", tmp, path));
	free(tmp);
	return 0;
}

/* Sync and rename what was written, or (rc set) remove it. */
static int finish_files(struct pending_files *pf, const char *dir, int rc, struct err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!rc && (fd < 0 || syncfs(fd) != 0))
		rc = err_fail(e, EX_IOERR, "io", "cannot sync %s: %s", dir, strerror(errno));
	size_t i;
	json_t *pair;
	json_array_foreach (pf->list, i, pair) {
		const char *tmp = json_string_value(json_array_get(pair, 0));
		const char *path = json_string_value(json_array_get(pair, 1));
		if (rc || rename(tmp, path) != 0) {
			if (!rc)
				rc = err_fail(e, EX_IOERR, "io", "cannot rename %s: %s", tmp, strerror(errno));
			unlink(tmp);
		}
	}
	if (!rc && fsync(fd) != 0)
		rc = err_fail(e, EX_IOERR, "io", "cannot sync %s: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	json_decref(pf->list);
	return rc;
}

static void csv_money(FILE *f, int64_t amount, const char *currency, bool last)
{
	char text[MONEY_TEXT_MAX];
	const struct currency *cur = currency_find(currency);
	money_format(amount, cur ? cur : currency_default(), text);
	csv_number(f, text, last);
}

struct files_ctx {
	struct store *st;
	const struct settle_run *run;
	const char *sid, *merchant, *currency;
};

static bool fill_payouts(FILE *f, void *arg)
{
	struct files_ctx *x = arg;
	fputs("merchant,account,amount,currency,reference\n", f);
	struct store_stmt *q = store_query(x->st,
	                                   "SELECT merchant_id, payout_account, payout, currency, id FROM settlements"
	                                   " WHERE date = ? AND payout > 0 ORDER BY merchant_id",
	                                   "t", x->run->date);
	while (store_step(q) == STORE_ROW) {
		char merchant[MERCHANT_REF_MAX];
		ids_merchant(store_col_text(q, 0), merchant);
		csv_field(f, merchant, false);
		csv_field(f, store_col_null(q, 1) ? "" : store_col_text(q, 1), false);
		csv_money(f, store_col_int(q, 2), store_col_text(q, 3), false);
		csv_field(f, store_col_text(q, 3), false);
		csv_field(f, store_col_text(q, 4), true);
	}
	return !ferror(f);
}

static bool fill_bill(FILE *f, void *arg)
{
	struct files_ctx *x = arg;
	const char *cur = x->currency;
	fputs("kind,id,order,out_trade_no,time,amount,fee,net,currency\n", f);
	/* Trades, then refunds (as negative amounts), each in time order. */
	struct store_stmt *q =
	    store_query(x->st,
	                "SELECT 0, p.id, p.order_id, o.out_trade_no, p.created_at, p.amount, p.fee, 'pending'"
	                " FROM payments p JOIN orders o ON o.id = p.order_id WHERE p.settlement_id = ?1"
	                " UNION ALL SELECT 1, r.id, r.order_id, o.out_trade_no, r.created_at, -r.amount,"
	                " -r.fee_returned, r.funded_from FROM refunds r JOIN orders o ON o.id = r.order_id"
	                " WHERE r.settlement_id = ?1 ORDER BY 1, 5, 2",
	                "t", x->sid);
	while (store_step(q) == STORE_ROW) {
		int64_t amount = store_col_int(q, 5), fee = store_col_int(q, 6);
		bool deposit = strcmp(store_col_text(q, 7), "deposit") == 0;
		csv_field(f, store_col_int(q, 0) == 0 ? "payment" : deposit ? "refund_from_deposit" : "refund", false);
		for (int i = 1; i <= 4; i++)
			csv_field(f, store_col_text(q, i), false);
		csv_money(f, amount, cur, false);
		csv_money(f, fee, cur, false);
		csv_money(f, deposit ? 0 : amount - fee, cur, false);
		csv_field(f, cur, true);
	}
	q = store_query(x->st,
	                "SELECT gross - refunded, fees - fees_returned, carried_in, net, payout, carried_out"
	                " FROM settlements WHERE id = ?",
	                "t", x->sid);
	if (store_step(q) == STORE_ROW) {
		static const char *const rows[] = {"carried_in", "total", "payout", "carried_out"};
		int64_t amount = store_col_int(q, 0), fee = store_col_int(q, 1);
		int64_t nets[] = {store_col_int(q, 2), store_col_int(q, 3), store_col_int(q, 4), store_col_int(q, 5)};
		for (int i = 0; i < 4; i++) {
			csv_field(f, rows[i], false);
			for (int j = 0; j < 4; j++)
				csv_field(f, NULL, false);
			if (i == 1) {
				csv_money(f, amount, cur, false);
				csv_money(f, fee, cur, false);
			} else {
				csv_field(f, NULL, false);
				csv_field(f, NULL, false);
			}
			csv_money(f, nets[i], cur, false);
			csv_field(f, cur, true);
		}
	}
	store_done(q);
	return !ferror(f);
}

int payouts_write(struct store *st, const struct settle_run *run, const char *dir, struct err *e)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return err_fail(e, EX_CANTCREAT, "io", "cannot create directory %s: %s", dir, strerror(errno));
	struct files_ctx x = {.st = st, .run = run};
	struct pending_files pf = {.list = json_array()};
	char *path = xasprintf("%s/payouts-%s.csv", dir, run->date);
	int rc = write_temp(&pf, path, fill_payouts, &x, e);
	free(path);
	json_t *bills = json_array();
	struct store_stmt *q =
	    store_query(st, "SELECT id, merchant_id, currency FROM settlements WHERE date = ? ORDER BY merchant_id",
	                "t", run->date);
	while (store_step(q) == STORE_ROW)
		json_array_append_new(
		    bills, json_pack("[s, s, s]", store_col_text(q, 0), store_col_text(q, 1), store_col_text(q, 2)));
	size_t i;
	json_t *b;
	json_array_foreach (bills, i, b) {
		if (rc)
			break;
		x.sid = json_string_value(json_array_get(b, 0));
		x.merchant = json_string_value(json_array_get(b, 1));
		x.currency = json_string_value(json_array_get(b, 2));
		path = xasprintf("%s/bill-%s-%s.csv", dir, run->date, x.merchant);
		/* A bill is made from settled rows, which never change: one that
		 * exists is already right (delete it to have it written again).
		 * Anything but a regular file there (a planted link) is replaced. */
		struct stat sb;
		if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			rc = write_temp(&pf, path, fill_bill, &x, e);
		free(path);
	}
	json_decref(bills);
	return finish_files(&pf, dir, rc, e);
}
