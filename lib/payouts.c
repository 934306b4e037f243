/* payouts: see payouts.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "bills.h"
#include "csv.h"
#include "ids.h"
#include "money.h"
#include "outfile.h"
#include "payouts.h"

#include "util.h"

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

static int fill_payouts(FILE *f, void *arg, struct err *e)
{
	(void)e;
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
	return ferror(f) ? EX_IOERR : 0;
}

/* The settlement's trade bill (bills.h: the same lines as wpay-bill's),
 * then what the settlement made of it. */
static int fill_bill(FILE *f, void *arg, struct err *e)
{
	struct files_ctx *x = arg;
	static const struct bill_opts csv = {.kind = BILL_TRADE, .format = BILL_CSV};
	struct bill_writer *w = bill_writer_new(f, &csv, x->currency);
	int rc = bill_writer_header(w, e);
	if (!rc)
		rc = bill_writer_lines(w, bills_settlement_lines(x->st, x->sid), e);
	if (!rc)
		rc = bill_writer_total(w, e);
	struct store_stmt *q =
	    store_query(x->st, "SELECT carried_in, payout, carried_out FROM settlements WHERE id = ?", "t", x->sid);
	if (!rc && store_step(q) == STORE_ROW) {
		static const char *const rows[] = {"carried_in", "payout", "carried_out"};
		for (int i = 0; i < 3 && !rc; i++)
			rc = bill_writer_summary(w, rows[i], store_col_int(q, i), e);
	}
	store_done(q);
	bill_writer_free(w);
	return rc ? rc : ferror(f) ? EX_IOERR : 0;
}

int payouts_write(struct store *st, const struct settle_run *run, const char *dir, struct err *e)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return err_fail(e, EX_CANTCREAT, "io", "cannot create directory %s: %s", dir, strerror(errno));
	struct files_ctx x = {.st = st, .run = run};
	struct outfiles pf;
	outfiles_init(&pf);
	char *path = xasprintf("%s/payouts-%s.csv", dir, run->date);
	int rc = outfiles_write(&pf, path, 0600, fill_payouts, &x, e);
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
			rc = outfiles_write(&pf, path, 0600, fill_bill, &x, e);
		free(path);
	}
	json_decref(bills);
	return outfiles_finish(&pf, dir, rc, e);
}
