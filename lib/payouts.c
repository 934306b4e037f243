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
	fputs("payee,account,amount,currency,reference\n", f);
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
	/* Withdrawals from wallets, to their cards: the account is the card's
	 * id, which the platform's card vault turns into the number the bank
	 * needs (the ledger keeps no card number). One the bank has failed
	 * since is left out of the file written again: its money is back in
	 * the wallet, and a file sent twice must not pay it. */
	q = store_query(x->st,
	                "SELECT wallet_id, card_id, amount, currency, id FROM withdrawals WHERE payout_date = ?"
	                " AND state = 'sent' ORDER BY id",
	                "t", x->run->date);
	while (store_step(q) == STORE_ROW) {
		csv_field(f, store_col_text(q, 0), false);
		csv_field(f, store_col_text(q, 1), false);
		csv_money(f, store_col_int(q, 2), store_col_text(q, 3), false);
		csv_field(f, store_col_text(q, 3), false);
		csv_field(f, store_col_text(q, 4), true);
	}
	return ferror(f) ? EX_IOERR : 0;
}

static const struct bill_opts bill_csv = {.kind = BILL_TRADE, .format = BILL_CSV};

/* The end of a settlement's bill: the total of its lines, then what the
 * settlement made of them (b: a settlements row, as payouts_write keeps
 * them). */
static int bill_end(struct bill_writer *w, json_t *b, struct err *e)
{
	static const char *const rows[] = {"carried_in", "payout", "carried_out"};
	int rc = bill_writer_total(w, e);
	for (int i = 0; i < 3 && !rc; i++)
		rc = bill_writer_summary(w, rows[i], json_integer_value(json_array_get(b, 3 + (size_t)i)), e);
	/* What went from the payout into the deposit, when anything did. */
	int64_t topup = json_integer_value(json_array_get(b, 7));
	if (!rc && topup)
		rc = bill_writer_summary(w, "deposit_topup", topup, e);
	return rc;
}

/* One settlement's bill from its own query: for a few. */
static int write_bill(struct store *st, struct outfiles *pf, const char *path, json_t *b, struct err *e)
{
	FILE *f = outfiles_create(pf, path, 0600, e);
	if (!f)
		return EX_CANTCREAT;
	struct bill_writer *w = bill_writer_new(f, &bill_csv, json_string_value(json_array_get(b, 2)));
	int rc = bill_writer_header(w, e);
	struct store_stmt *q = bills_settlement_lines(st, json_string_value(json_array_get(b, 0)));
	while (!rc && store_step(q) == STORE_ROW)
		rc = bill_writer_row(w, q, 1, e);
	if (rc)
		store_done(q);
	if (!rc)
		rc = bill_end(w, b, e);
	bill_writer_free(w);
	return outfiles_close(pf, f, rc ? rc : ferror(f) ? EX_IOERR : 0, e);
}

/* Many bills at once, from one pass over the date's lines (bills.h), which
 * come with the merchants mixed: each line is written to one scratch
 * stream, moved to its bill's buffer, and the buffers are added to their
 * files whenever they hold BYTES_IN_MEMORY; so neither all the bills, nor a file or a
 * stream per merchant (8 KiB each), are held at once. */
struct bill_in_memory {
	const char *merchant; /* the bills are in merchant order */
	json_t *b;
	size_t file; /* its place in the outfiles */
	char *buf;
	size_t len, cap;
	struct bill_writer *w;
};

struct many {
	struct outfiles *pf;
	FILE *scratch;
	char *scratch_buf;
	size_t scratch_size, taken; /* what take moved already */
	size_t n, buffered;
	struct bill_in_memory *bills;
};

/* What the bills may hold before they are added to their files. Each
 * spill opens every file again: 8 MiB made 170,000 opens for 1,000,000
 * lines; 12 MiB keeps a run of 10,000 bills near 50 MiB. */
#define BYTES_IN_MEMORY (12u << 20)

static int by_merchant(const void *key, const void *bill)
{
	return strcmp(key, ((const struct bill_in_memory *)bill)->merchant);
}

/* Move what was just written to bm's buffer. */
static void take(struct many *m, struct bill_in_memory *bm)
{
	if (fflush(m->scratch) != 0)
		err_die(EX_OSERR, "out of memory");
	long end = ftell(m->scratch);
	size_t n = end > 0 ? (size_t)end - m->taken : 0;
	if (bm->len + n > bm->cap) {
		size_t want = bm->len + n;
		bm->cap = want + want / 2 > 1024 ? want + want / 2 : 1024;
		bm->buf = xrealloc(bm->buf, bm->cap);
	}
	memcpy(bm->buf + bm->len, m->scratch_buf + m->taken, n);
	bm->len += n;
	m->buffered += n;
	m->taken += n;
	/* Rewound now and then, not per line: a rewind is a seek. */
	if (m->taken > (1u << 20)) {
		rewind(m->scratch);
		m->taken = 0;
	}
}

static int spill(struct many *m, struct err *e)
{
	int rc = 0;
	for (size_t i = 0; i < m->n && !rc; i++) {
		struct bill_in_memory *bm = &m->bills[i];
		if (bm->len)
			rc = outfiles_append(m->pf, bm->file, bm->buf, bm->len, e);
		/* Freed, not kept: what a bill holds between spills is small. */
		free(bm->buf);
		bm->buf = NULL;
		bm->len = bm->cap = 0;
	}
	m->buffered = 0;
	return rc;
}

static int write_many(struct store *st, struct outfiles *pf, json_t *bills, const char *date, struct err *e)
{
	struct many m = {.pf = pf, .bills = xcalloc(json_array_size(bills), sizeof *m.bills)};
	m.scratch = open_memstream(&m.scratch_buf, &m.scratch_size);
	if (!m.scratch)
		err_die(EX_OSERR, "out of memory");
	size_t i;
	json_t *b;
	int rc = 0;
	json_array_foreach (bills, i, b) {
		const char *path = json_string_value(json_array_get(b, 6));
		if (!path)
			continue;
		FILE *f = outfiles_create(pf, path, 0600, e);
		if (!f || (rc = outfiles_close(pf, f, 0, e)) != 0) {
			rc = rc ? rc : EX_CANTCREAT;
			break;
		}
		struct bill_in_memory *bm = &m.bills[m.n];
		bm->b = b;
		bm->file = json_array_size(pf->list) - 1;
		bm->w = bill_writer_new(m.scratch, &bill_csv, json_string_value(json_array_get(b, 2)));
		bm->merchant = json_string_value(json_array_get(b, 1));
		m.n++;
		rc = bill_writer_header(bm->w, e);
		take(&m, bm);
		if (rc)
			break;
	}
	struct store_stmt *q = rc ? NULL : bills_date_lines(st, date);
	while (q && !rc && store_step(q) == STORE_ROW) {
		struct bill_in_memory *bm = bsearch(store_col_text(q, 0), m.bills, m.n, sizeof *m.bills, by_merchant);
		if (!bm)
			continue; /* its bill was there already */
		rc = bill_writer_row(bm->w, q, 1, e);
		take(&m, bm);
		if (!rc && m.buffered >= BYTES_IN_MEMORY)
			rc = spill(&m, e);
	}
	if (q && rc)
		store_done(q);
	for (i = 0; i < m.n && !rc; i++) {
		rc = bill_end(m.bills[i].w, m.bills[i].b, e);
		take(&m, &m.bills[i]);
	}
	if (!rc)
		rc = spill(&m, e);
	for (i = 0; i < m.n; i++) {
		bill_writer_free(m.bills[i].w);
		free(m.bills[i].buf);
	}
	free(m.bills);
	fclose(m.scratch);
	free(m.scratch_buf);
	return rc;
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
	/* [id, merchant, currency, carried_in, payout, carried_out, path or null, deposit_topup] */
	json_t *bills = json_array();
	size_t missing = 0;
	struct store_stmt *q = store_query(
	    st,
	    "SELECT id, merchant_id, currency, carried_in, payout, carried_out, deposit_topup FROM settlements"
	    " WHERE date = ? ORDER BY merchant_id",
	    "t", run->date);
	while (store_step(q) == STORE_ROW) {
		path = xasprintf("%s/bill-%s-%s.csv", dir, run->date, store_col_text(q, 1));
		/* A bill is made from settled rows, which never change: one that
		 * exists is already right (delete it to have it written again).
		 * Anything but a regular file there (a planted link) is replaced. */
		struct stat sb;
		bool write = lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode);
		missing += write;
		json_array_append_new(bills,
		                      json_pack("[s, s, s, I, I, I, s?, I]", store_col_text(q, 0), store_col_text(q, 1),
		                                store_col_text(q, 2), (json_int_t)store_col_int(q, 3),
		                                (json_int_t)store_col_int(q, 4), (json_int_t)store_col_int(q, 5),
		                                write ? path : NULL, (json_int_t)store_col_int(q, 6)));
		free(path);
	}
	/* Many bills: one pass over the date's lines. A few (a rerun after
	 * some were deleted): each settlement's own query. */
	if (!rc && missing * 20 > json_array_size(bills))
		rc = write_many(st, &pf, bills, run->date, e);
	size_t i;
	json_t *b;
	json_array_foreach (bills, i, b) {
		const char *file = json_string_value(json_array_get(b, 6));
		if (!rc && file && missing * 20 <= json_array_size(bills))
			rc = write_bill(st, &pf, file, b, e);
	}
	json_decref(bills);
	return outfiles_finish(&pf, dir, rc, e);
}
