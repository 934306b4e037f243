/* settle: see settle.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>

#include "batch.h"
#include "events.h"
#include "ledger.h"
#include "merchants.h"
#include "money.h"
#include "period.h"
#include "settle.h"

#include "util.h"

/* The run's date y-m-d (d may be out of range: it is normalised) and its cut-offs. */
static int run_date(struct settle_run *run, int y, int m, int d, struct err *e)
{
	struct tm day = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = 12};
	timegm(&day);
	y = day.tm_year + 1900, m = day.tm_mon + 1, d = day.tm_mday;
	bufprintf(run->date, sizeof run->date, "%04d-%02d-%02d", y, m, d);
	if (!period_local_time(y, m, d, run->cutoff_hour, run->cutoff_t0) ||
	    !period_local_time(y, m, d - SETTLE_T15_DAYS, run->cutoff_hour, run->cutoff_t15))
		return err_fail(e, EX_USAGE, "bad_date", "no local time for %s in %s", run->date, run->tz);
	return 0;
}

int settle_prepare(struct store *st, const char *date, struct settle_run *run, struct err *e)
{
	int rc = period_ledger_zone(st, run->tz, &run->cutoff_hour, e);
	if (rc)
		return rc;
	int64_t now_ms = clock_now_ms();
	char now[CLOCK_TEXT_MAX];
	clock_format(now_ms, now);
	int y, m, d;
	if (date) {
		if (!clock_parse_date(date, &y, &m, &d))
			return err_fail(e, EX_USAGE, "bad_date", "--date '%.40s' is not a calendar date YYYY-MM-DD",
			                date);
	} else {
		time_t t = (time_t)(now_ms / 1000);
		struct tm tm;
		localtime_r(&t, &tm);
		y = tm.tm_year + 1900, m = tm.tm_mon + 1, d = tm.tm_mday;
		/* Before today's cut-off, the latest day that has ended is yesterday. */
		char today[CLOCK_TEXT_MAX];
		if (period_local_time(y, m, d, run->cutoff_hour, today) && strcmp(now, today) < 0) {
			struct tm prev = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d - 1, .tm_hour = 12};
			timegm(&prev);
			y = prev.tm_year + 1900, m = prev.tm_mon + 1, d = prev.tm_mday;
		}
	}
	if ((rc = run_date(run, y, m, d, e)) != 0)
		return rc;
	if (!run->preview && strcmp(now, run->cutoff_t0) < 0)
		return err_fail(e, EX_TEMPFAIL, "too_early",
		                "the cut-off of %s (%02d:00 %s, %s) has not passed yet; settle it after that, or an "
		                "earlier --date",
		                run->date, run->cutoff_hour, run->tz, run->cutoff_t0);
	return 0;
}

json_t *settle_requests(struct store *st, const struct settle_run *run)
{
	json_t *list = json_array();
	struct store_stmt *q = store_query(
	    st,
	    /* A probe per merchant, not a pass over every payment queued. */
	    "SELECT id FROM merchants m WHERE EXISTS (SELECT 1 FROM payments_due d WHERE d.merchant_id = m.id)"
	    " OR id IN (SELECT merchant_id FROM refunds WHERE settlement_id IS NULL)"
	    " OR id IN (SELECT merchant_id FROM settlements WHERE date = ?) ORDER BY id",
	    "t", run->date);
	while (store_step(q) == STORE_ROW)
		json_array_append_new(list, json_pack("{s:s}", "merchant", store_col_text(q, 0)));
	return list;
}

/* The columns of a settlement record, in struct settlement_cols' order. */
#define SETTLEMENT_COLUMNS                                                                                             \
	"id, merchant_id, date, mode, note, cutoff, currency, payments, gross, fees, refunds, refunded,"               \
	" fees_returned, refunded_from_deposit, carried_in, net, payout, carried_out, payout_account, transfer_id,"    \
	" created_at, deposit_topup, discounts, discounts_returned"

/* A settlement's columns (SETTLEMENT_COLUMNS), as read or as written:
 * one record for both, so that a rerun prints what the run printed. */
struct settlement_cols {
	const char *id, *merchant_no, *date, *mode, *note, *cutoff, *currency; /* note NULL: none */
	int64_t sums[11]; /* payments, gross, ... carried_out, in the columns' order */
	const char *payout_account, *transfer, *created_at; /* the first two NULL: none */
	int64_t topup, discounts, discounts_back;
};

static json_t *settlement_json(const struct settlement_cols *c)
{
	char merchant[MERCHANT_REF_MAX];
	ids_merchant(c->merchant_no, merchant);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "settlement", "id", c->id, "merchant", merchant,
	                      "date", c->date, "mode", c->mode);
	json_object_set_new(o, "note", c->note ? json_string(c->note) : json_null());
	json_object_set_new(o, "cutoff", json_string(c->cutoff));
	static const char *const sums[] = {
	    "payments",   "gross", "fees",   "refunds",    "refunded", "fees_returned", "refunded_from_deposit",
	    "carried_in", "net",   "payout", "carried_out"};
	json_object_set_new(o, "currency", json_string(c->currency));
	for (int i = 0; i < (int)ARRAY_LEN(sums); i++)
		json_object_set_new(o, sums[i], json_integer(c->sums[i]));
	json_object_set_new(o, "payout_account", c->payout_account ? json_string(c->payout_account) : json_null());
	json_object_set_new(o, "transfer", c->transfer ? json_string(c->transfer) : json_null());
	json_object_set_new(o, "created_at", json_string(c->created_at));
	json_object_set_new(o, "deposit_topup", json_integer(c->topup));
	json_object_set_new(o, "discounts", json_integer(c->discounts));
	json_object_set_new(o, "discounts_returned", json_integer(c->discounts_back));
	return o;
}

/* The record of the settlement id, or NULL when there is none. */
static json_t *settlement_read(struct store *st, const char *id)
{
	struct store_stmt *q = store_query(st, "SELECT " SETTLEMENT_COLUMNS " FROM settlements WHERE id = ?", "t", id);
	json_t *o = NULL;
	if (store_step(q) == STORE_ROW) {
		struct settlement_cols c = {
		    .id = store_col_text(q, 0),
		    .merchant_no = store_col_text(q, 1),
		    .date = store_col_text(q, 2),
		    .mode = store_col_text(q, 3),
		    .note = store_col_null(q, 4) ? NULL : store_col_text(q, 4),
		    .cutoff = store_col_text(q, 5),
		    .currency = store_col_text(q, 6),
		    .payout_account = store_col_null(q, 18) ? NULL : store_col_text(q, 18),
		    .transfer = store_col_null(q, 19) ? NULL : store_col_text(q, 19),
		    .created_at = store_col_text(q, 20),
		    .topup = store_col_int(q, 21),
		    .discounts = store_col_int(q, 22),
		    .discounts_back = store_col_int(q, 23),
		};
		for (int i = 0; i < (int)ARRAY_LEN(c.sums); i++)
			c.sums[i] = store_col_int(q, 7 + i);
		o = settlement_json(&c);
	}
	store_done(q);
	return o;
}

static const char *fmt_money(int64_t amount, const char *currency, char buf[MONEY_TEXT_MAX])
{
	const struct currency *cur = currency_find(currency);
	money_format(amount, cur ? cur : currency_default(), buf);
	return buf;
}

/* The mode the merchant is settled in on run's date, and so its cut-off:
 * a T0 merchant that T0 is not for any more is settled as T15, with a
 * note saying why; one whose deposit is short keeps T0, its shortfall to
 * be made up from the payout (settle_topup). */
static void settle_mode(struct store *st, const struct merchant *m, const struct settle_run *run, struct settle_sums *s)
{
	*s = (struct settle_sums){.t0 = strcmp(m->settlement, "T0") == 0};
	const char *why = s->t0 ? merchants_t0_refusal(m) : NULL;
	if (why) {
		bufprintf(s->note, sizeof s->note,
		          "settled as T15: %s, and T0 is for approved, verified enterprise merchants", why);
		s->t0 = false;
	}
	if (s->t0)
		s->shortfall = merchants_deposit_shortfall(st, m->id);
	s->cutoff = s->t0 ? run->cutoff_t0 : run->cutoff_t15;
}

/* The deposit first: what the payout can give of the shortfall goes into
 * the deposit. Payments that could not make it up put the merchant on
 * T15 (noted); a settlement of refunds alone (the refund that took from
 * the deposit falls due the next day, often with no payment beside it)
 * leaves the mode be, and the next payout makes it up. */
static void settle_topup(struct settle_sums *s, const char *currency)
{
	if (s->shortfall <= 0)
		return;
	s->topup = s->payout < s->shortfall ? s->payout : s->shortfall;
	s->payout -= s->topup;
	if (s->topup == s->shortfall)
		return;
	char lack[MONEY_TEXT_MAX], took[MONEY_TEXT_MAX];
	s->dropped = s->npay > 0;
	bufprintf(s->note, sizeof s->note, "the deposit was %s %s short and this payout put %s %s back; %s",
	          fmt_money(s->shortfall, currency, lack), currency, fmt_money(s->topup, currency, took), currency,
	          s->dropped ? "T15 from the next settlement on" : "the next payout makes up the rest");
}

/* What falls due on run's date, written once for settling and for the
 * forecast: refunds of payments settled before, or due now (?3: the
 * cut-off of the date; ?4: the mode's), and payments due now. */
#define DUE_REFUNDS                                                                                                    \
	" WHERE merchant_id = ?2 AND settlement_id IS NULL AND created_at < ?3 AND payment_id IN"                      \
	" (SELECT id FROM payments WHERE settlement_id IS NOT NULL OR created_at < ?4)"
/* Payments are found through their queue (schema v8), not an index of
 * payments on the mark, so that marking them changes no index. */
#define DUE_QUEUE    " WHERE merchant_id = ?2 AND created_at < ?4"
#define DUE_PAYMENTS " WHERE id IN (SELECT payment_id FROM payments_due" DUE_QUEUE ") AND settlement_id IS NULL"
/* (A statement that does not mark leaves ?1 out, and payments ?3: both
 * engines take a parameter that is bound but not used.) */

/* Each row of what falls due: 0 for a refund, 1 for a payment; amount,
 * fee (returned), discount (returned), a refund's funded_from, the id. */
#define REFUND_ROW  "0, amount, fee_returned, discount_returned, funded_from, id"
#define PAYMENT_ROW "1, amount, fee, discount, NULL, id"

/* Marking takes what falls due out of the queue. On PostgreSQL the
 * refunds and payments are marked and the queue emptied of them in one
 * statement, one snapshot (as the refunds' statement ran first before,
 * they still see the payments unmarked): a payment committed while it
 * runs stays queued, and unmarked, for the next settlement. SQLite, with
 * one writer, marks the refunds (mark_due), then the payments
 * (mark_payments_sqlite), then empties the queue of those payments
 * (unqueue_sqlite). A queued payment marked some other way is dequeued
 * and left as it is. */
static const struct store_sql mark_due = {
    .sqlite = "UPDATE refunds SET settlement_id = ?1" DUE_REFUNDS " RETURNING " REFUND_ROW,
    .postgresql = "WITH r AS (UPDATE refunds SET settlement_id = ?1" DUE_REFUNDS " RETURNING " REFUND_ROW "),"
                  " d AS (DELETE FROM payments_due" DUE_QUEUE " RETURNING payment_id),"
                  " p AS (UPDATE payments p SET settlement_id = ?1 FROM d WHERE p.id = d.payment_id"
                  " AND p.settlement_id IS NULL RETURNING 1, p.amount, p.fee, p.discount, NULL::text, p.id)"
                  " SELECT * FROM r UNION ALL SELECT * FROM p",
};
static const char mark_payments_sqlite[] =
    "UPDATE payments SET settlement_id = ?1" DUE_PAYMENTS " RETURNING " PAYMENT_ROW;
static const char unqueue_sqlite[] = "DELETE FROM payments_due" DUE_QUEUE;

/* Add q's rows (REFUND_ROW, PAYMENT_ROW) to s. Summed here with checked
 * additions, not by SQL SUM(), which stops the program on an overflow.
 * The ceilings keep each balance within 10^15 but not these sums: a
 * merchant paid and refunded 10^15 over and over has a gross past int64
 * while its balances stay small. False if a sum passed INT64_MAX. */
static bool sum_due(struct store_stmt *q, struct settle_sums *s)
{
	bool fits = true;
	while (store_step(q) == STORE_ROW) {
		int64_t amount = store_col_int(q, 1), fee = store_col_int(q, 2), discount = store_col_int(q, 3);
		if (store_col_int(q, 0) == 0) {
			const char *funded_from = store_col_text(q, 4);
			s->nref++;
			fits = fits && money_add(s->discounts_back, discount, &s->discounts_back);
			if (strcmp(funded_from, "pending") == 0)
				fits = fits && money_add(s->refunded, amount, &s->refunded) &&
				       money_add(s->fees_back, fee, &s->fees_back);
			else if (strcmp(funded_from, "deposit") == 0)
				fits = fits && money_add(s->from_deposit, amount, &s->from_deposit);
			continue;
		}
		s->npay++;
		fits = fits && money_add(s->gross, amount, &s->gross) && money_add(s->fees, fee, &s->fees) &&
		       money_add(s->discounts, discount, &s->discounts);
		const char *id = store_col_text(q, 5);
		if (!*s->first_payment || strcmp(id, s->first_payment) < 0)
			strlcopy(s->first_payment, id, sizeof s->first_payment);
		if (strcmp(id, s->last_payment) > 0)
			strlcopy(s->last_payment, id, sizeof s->last_payment);
	}
	return fits;
}

/*
 * Sum what falls due for merchant no on run's date into s (its mode set
 * by settle_mode): with sid, marking each with the settlement sid and
 * reading it back by the same statement (RETURNING: one pass over what
 * falls due, one round trip on PostgreSQL); without, only reading.
 * False if a sum passed INT64_MAX.
 */
static bool settle_due(struct store *st, const char *no, const struct settle_run *run, const char *sid,
                       struct settle_sums *s)
{
	bool pg = store_engine(st) == STORE_POSTGRESQL;
	bool fits = sum_due(sid ? store_query_sql(st, &mark_due, "tttt", sid, no, run->cutoff_t0, s->cutoff)
	                        : store_query(st, "SELECT " REFUND_ROW " FROM refunds" DUE_REFUNDS, "tttt", "", no,
	                                      run->cutoff_t0, s->cutoff),
	                    s);
	if (sid && pg)
		return fits; /* the payments too */
	fits = sum_due(sid ? store_query(st, mark_payments_sqlite, "tttt", sid, no, run->cutoff_t0, s->cutoff)
	                   : store_query(st, "SELECT " PAYMENT_ROW " FROM payments" DUE_PAYMENTS, "tttt", "", no,
	                                 run->cutoff_t0, s->cutoff),
	               s) &&
	       fits;
	if (sid)
		store_exec(st, unqueue_sqlite, "tttt", sid, no, run->cutoff_t0, s->cutoff);
	return fits;
}

/* What the merchant's last settlement carried out: a negative net. */
static int64_t carried_in(struct store *st, const char *no)
{
	int64_t c = 0;
	struct store_stmt *q = store_query(
	    st, "SELECT carried_out FROM settlements WHERE merchant_id = ? ORDER BY date DESC LIMIT 1", "t", no);
	if (store_step(q) == STORE_ROW)
		c = store_col_int(q, 0);
	store_done(q);
	return c;
}

/* net = gross - fees - refunds + fees returned + carried in; a positive
 * net is paid out, a negative one carried out. False on an overflow. */
static bool settle_figure(struct settle_sums *s)
{
	int64_t net = 0;
	if (!(money_add(s->gross, -s->fees, &net) && money_add(net, -s->refunded, &net) &&
	      money_add(net, s->fees_back, &net) && money_add(net, s->carried_in, &net)))
		return false;
	s->net = net;
	s->payout = net > 0 ? net : 0;
	s->carried_out = net < 0 ? net : 0;
	return true;
}

static int overflow(struct err *e, const char *owner, const struct settle_sums *s)
{
	return err_fail(e, ERR_FAIL, "sum_overflow",
	                "%s's %lld payments and %lld refunds due by %s add up past what one settlement can "
	                "hold (%lld minor units); settle an earlier --date first, so that fewer fall due at once",
	                owner, (long long)s->npay, (long long)s->nref, s->cutoff, (long long)INT64_MAX);
}

/* The merchant hears how its deposit fared: restored, or still short and
 * so on T15 from now on (its record says why). */
static void deposit_event(struct store *st, const struct merchant *m, const struct settle_run *run, const char *sid,
                          const struct settle_sums *s, const char *now)
{
	int64_t left = s->shortfall - s->topup;
	if (s->dropped) {
		char lack[MONEY_TEXT_MAX], took[MONEY_TEXT_MAX], need[MONEY_TEXT_MAX];
		char *why =
		    xasprintf("settlement %s of %s: the deposit was %s %s short of the %s %s that T0 needs and its "
		              "payout put %s %s back; deposit the rest, then ask for T0 again",
		              sid, run->date, fmt_money(s->shortfall, m->currency, lack), m->currency,
		              fmt_money(DEPOSIT_T0_MIN, m->currency, need), m->currency,
		              fmt_money(s->topup, m->currency, took), m->currency);
		store_exec(
		    st, "UPDATE merchants SET settlement = 'T15', settlement_reason = ?, updated_at = ? WHERE id = ?",
		    "ttt", why, now, m->no);
		free(why);
	}
	char subject[ID_MAX + 8];
	bufprintf(subject, sizeof subject, "dep_%s", sid);
	json_t *body =
	    json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:s}", "merchant", m->id, "settlement", sid, "date",
	              run->date, "shortfall", (json_int_t)s->shortfall, "deposit_topup", (json_int_t)s->topup,
	              "deposit_shortfall", (json_int_t)left, "deposit", (json_int_t)(DEPOSIT_T0_MIN - left), "currency",
	              m->currency, "settlement_mode", s->dropped ? "T15" : "T0");
	events_queue(st, m->no, left > 0 ? "deposit.short" : "deposit.restored", subject, body);
	json_decref(body);
}

/* Its settlements so far, in one round trip: settled for this date before
 * (the same record, nothing moves), or for a later one, and what the last
 * carried out. For one merchant (?1), or each of a list (?3, with ?1
 * unbound: both engines take a parameter that is bound but not used). */
#define SETTLED_SO_FAR(no)                                                                                             \
	"(SELECT id FROM settlements WHERE merchant_id = " no " AND date = ?2),"                                       \
	" (SELECT MAX(date) FROM settlements WHERE merchant_id = " no " AND date > ?2),"                               \
	" (SELECT carried_out FROM settlements WHERE merchant_id = " no " ORDER BY date DESC LIMIT 1)"
static const struct store_sql settled_so_far_many = {
    .sqlite = "SELECT " SETTLED_SO_FAR("l.value") ", l.value FROM json_each(?3) l",
    .postgresql = "SELECT " SETTLED_SO_FAR("l.no") ", l.no FROM json_array_elements_text(?3::json) AS l(no)",
};

struct so_far {
	bool settled, later;
	char settled_id[ID_MAX], later_date[16];
	int64_t carried;
};

static void so_far_from_row(struct store_stmt *q, struct so_far *f)
{
	*f = (struct so_far){.settled = !store_col_null(q, 0),
	                     .later = !store_col_null(q, 1),
	                     .carried = store_col_null(q, 2) ? 0 : store_col_int(q, 2)};
	if (f->settled)
		strlcopy(f->settled_id, store_col_text(q, 0), sizeof f->settled_id);
	if (f->later)
		strlcopy(f->later_date, store_col_text(q, 1), sizeof f->later_date);
}

/* What settle_prefetch read and locked, each used once, in the transaction
 * it was read in (a replay, in another, reads and locks again). */
struct ahead {
	struct merchant m;
	struct so_far so_far;
	bool looked, used;
};
static struct {
	struct ahead *e;
	size_t n, cap;
	unsigned long transaction;
} ahead;

static void ahead_add(void *arg, const struct merchant *m)
{
	(void)arg;
	if (ahead.n == ahead.cap) {
		ahead.cap = ahead.cap ? 2 * ahead.cap : 128;
		ahead.e = xrealloc(ahead.e, ahead.cap * sizeof ahead.e[0]);
	}
	ahead.e[ahead.n++] = (struct ahead){.m = *m};
}

static struct ahead *ahead_find(const char *no)
{
	for (size_t i = 0; i < ahead.n; i++)
		if (strcmp(ahead.e[i].m.no, no) == 0)
			return &ahead.e[i];
	return NULL;
}

void settle_prefetch(struct wpay_ctx *c, const struct settle_run *run, json_t *requests)
{
	struct store *st = c->st;
	ahead.n = 0;
	ahead.transaction = store_transactions(st);
	json_t *nos = json_array();
	size_t i;
	json_t *req;
	json_array_foreach (requests, i, req) {
		const char *ref = json_string_value(json_object_get(req, "merchant"));
		if (ref)
			json_array_append_new(nos, json_string(ids_merchant_no(ref)));
	}
	char *list = json_dumps(nos, JSON_COMPACT);
	json_decref(nos);
	merchants_load_many_locked(st, list, ahead_add, NULL);
	/* After the locks, in a statement of its own: it sees what a settler
	 * that held them before committed. */
	struct store_stmt *q = store_query_sql(st, &settled_so_far_many, "ttt", "", run->date, list);
	while (store_step(q) == STORE_ROW) {
		struct ahead *a = ahead_find(store_col_text(q, 3));
		if (a) {
			so_far_from_row(q, &a->so_far);
			a->looked = true;
		}
	}
	free(list);
	const char **accts = xcalloc(2 * ahead.n + 1, sizeof *accts);
	char(*ids)[ACCOUNT_ID_MAX] = xcalloc(2 * ahead.n + 1, sizeof *ids);
	for (size_t k = 0; k < ahead.n; k++) {
		ledger_account_id(ACCOUNT_PENDING, ahead.e[k].m.id, ids[2 * k]);
		ledger_account_id(ACCOUNT_PAYOUT, ahead.e[k].m.id, ids[2 * k + 1]);
		accts[2 * k] = ids[2 * k];
		accts[2 * k + 1] = ids[2 * k + 1];
	}
	ledger_preload(st, accts, 2 * ahead.n);
	free(ids);
	free(accts);
}

/* The merchant no and its settlements so far as settle_prefetch read and
 * locked them, once, in this transaction; NULL: read them now. */
static const struct ahead *take_ahead(struct store *st, const char *no)
{
	if (!store_deferring(st) || ahead.transaction != store_transactions(st))
		return NULL;
	struct ahead *a = ahead_find(no);
	if (!a || a->used || !a->looked)
		return NULL;
	a->used = true;
	return a;
}

int settle_merchant(struct wpay_ctx *c, const struct settle_run *run, json_t *req, json_t **out, struct err *e)
{
	struct store *st = c->st;
	clock_test_crash("settle");
	const char *ref = NULL;
	struct merchant m;
	struct so_far so_far;
	if (rec_get_str(req, "merchant", true, 0, &ref, e))
		return ERR_FAIL;
	const struct ahead *a = take_ahead(st, ids_merchant_no(ref));
	if (a) {
		m = a->m;
		so_far = a->so_far;
	} else {
		/* One settler per merchant at a time: a second one waits here,
		 * then finds the settlement made and answers it. */
		if (merchants_load_locked(st, ref, &m, e))
			return ERR_FAIL;
		static const struct store_sql settled_so_far = {"SELECT " SETTLED_SO_FAR("?1"),
		                                                "SELECT " SETTLED_SO_FAR("?1")};
		struct store_stmt *q = store_query_sql(st, &settled_so_far, "tt", m.no, run->date);
		if (store_step(q) != STORE_ROW) {
			store_done(q);
			return err_fail(e, ERR_FAIL, "internal", "no row for %s's settlements; this is a bug", m.id);
		}
		so_far_from_row(q, &so_far);
		store_done(q);
	}
	const char *no = m.no, *owner = m.id, *bank_account = m.has_bank_account ? m.bank_account : NULL;
	if (so_far.settled) {
		*out = settlement_read(st, so_far.settled_id);
		return BATCH_OK;
	}
	if (so_far.later)
		return err_fail(e, ERR_FAIL, "settled_later", "%s was settled for %s already; settle dates in order",
		                owner, so_far.later_date);
	int64_t carried = so_far.carried;
	struct settle_sums sums;
	settle_mode(st, &m, run, &sums);
	char sid[ID_MAX];
	ids_new("stl", sid);
	bool fits = settle_due(st, no, run, sid, &sums);
	if (sums.npay == 0 && sums.nref == 0) {
		*out = NULL; /* nothing due yet */
		return BATCH_OK;
	}
	sums.carried_in = carried;
	if (!(fits && settle_figure(&sums)))
		return overflow(e, owner, &sums);
	settle_topup(&sums, m.currency);
	if (sums.topup > 0) {
		/* In the settlement's own commit: the top-up and the payout go together. */
		struct transfer t = {.kind = "deposit_topup", .amount = sums.topup, .currency = m.currency, .ref = sid};
		bufprintf(t.key, sizeof t.key, "topup:%s:%s", no, run->date);
		ledger_account_id(ACCOUNT_PENDING, owner, t.from);
		ledger_account(st, ACCOUNT_DEPOSIT, owner, m.currency, t.to);
		if (ledger_post(st, &t, 1, LEDGER_FIRST, e) < 0)
			return BATCH_FAIL;
		clock_test_crash("settle_topup"); /* tests: the top-up is never kept without its payout */
	}
	char transfer_id[ID_MAX] = "";
	if (sums.payout > 0) {
		struct transfer t = {.kind = "settlement", .amount = sums.payout, .currency = m.currency, .ref = sid};
		bufprintf(t.key, sizeof t.key, "settle:%s:%s", no, run->date);
		ledger_account_id(ACCOUNT_PENDING, owner, t.from);
		ledger_account(st, ACCOUNT_PAYOUT, owner, m.currency, t.to);
		if (ledger_post(st, &t, 1, LEDGER_FIRST, e) < 0) {
			return BATCH_FAIL;
		}
		strlcopy(transfer_id, t.id, sizeof transfer_id);
	}
	char now[CLOCK_TEXT_MAX];
	clock_format(clock_now_ms(), now);
	/* Written without waiting for it (on PostgreSQL, in the batch's
	 * pipeline); its record is made from what was written. */
	struct settlement_cols cols = {
	    .id = sid,
	    .merchant_no = no,
	    .date = run->date,
	    .mode = sums.t0 ? "T0" : "T15",
	    .note = *sums.note ? sums.note : NULL,
	    .cutoff = sums.cutoff,
	    .currency = m.currency,
	    .sums = {sums.npay, sums.gross, sums.fees, sums.nref, sums.refunded, sums.fees_back, sums.from_deposit,
	             sums.carried_in, sums.net, sums.payout, sums.carried_out},
	    .payout_account = bank_account,
	    .transfer = *transfer_id ? transfer_id : NULL,
	    .created_at = now,
	    .topup = sums.topup,
	    .discounts = sums.discounts,
	    .discounts_back = sums.discounts_back,
	};
	store_write(st, 1,
	            "INSERT INTO settlements(" SETTLEMENT_COLUMNS ", first_payment, last_payment)"
	            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	            "tttttttiiiiiiiiiiitttiiitt", cols.id, cols.merchant_no, cols.date, cols.mode, cols.note,
	            cols.cutoff, cols.currency, cols.sums[0], cols.sums[1], cols.sums[2], cols.sums[3], cols.sums[4],
	            cols.sums[5], cols.sums[6], cols.sums[7], cols.sums[8], cols.sums[9], cols.sums[10],
	            cols.payout_account, cols.transfer, cols.created_at, cols.topup, cols.discounts,
	            cols.discounts_back, *sums.first_payment ? sums.first_payment : NULL,
	            *sums.last_payment ? sums.last_payment : NULL);
	*out = settlement_json(&cols);
	if (sums.shortfall > 0)
		deposit_event(st, &m, run, sid, &sums, now);
	json_t *body = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "merchant", owner, "settlement", sid, "date",
	                         run->date, "net", (json_int_t)sums.net, "payout", (json_int_t)sums.payout,
	                         "carried_out", (json_int_t)sums.carried_out, "currency", m.currency);
	events_queue(st, no, "settlement.done", sid, body);
	json_decref(body);
	return BATCH_OK;
}

/* A "forecast" record: the fields of the settlement it foretells. */
static json_t *forecast_json(const struct merchant *m, const struct settle_run *run, const struct settle_sums *s)
{
	char merchant[MERCHANT_REF_MAX];
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "type", "forecast", "merchant", ids_merchant(m->no, merchant),
	                      "date", run->date, "mode", s->t0 ? "T0" : "T15");
	json_object_set_new(o, "note", *s->note ? json_string(s->note) : json_null());
	json_object_set_new(o, "cutoff", json_string(s->cutoff));
	json_object_set_new(o, "currency", json_string(m->currency));
	const struct {
		const char *name;
		int64_t v;
	} sums[] = {{"payments", s->npay},
	            {"gross", s->gross},
	            {"fees", s->fees},
	            {"refunds", s->nref},
	            {"refunded", s->refunded},
	            {"fees_returned", s->fees_back},
	            {"refunded_from_deposit", s->from_deposit},
	            {"carried_in", s->carried_in},
	            {"net", s->net},
	            {"payout", s->payout},
	            {"carried_out", s->carried_out},
	            {"deposit_topup", s->topup}};
	for (size_t i = 0; i < ARRAY_LEN(sums); i++)
		json_object_set_new(o, sums[i].name, json_integer(sums[i].v));
	json_object_set_new(o, "payout_account", m->has_bank_account ? json_string(m->bank_account) : json_null());
	json_object_set_new(o, "discounts", json_integer(s->discounts));
	json_object_set_new(o, "discounts_returned", json_integer(s->discounts_back));
	return o;
}

/* A bound on the dates a forecast walks, from an early --date. */
#define PREVIEW_DAYS_MAX 40000

int settle_preview(struct store *st, const struct settle_run *run, const char *ref, json_t *out, struct err *e)
{
	struct merchant m;
	if (merchants_load(st, ref, &m, e))
		return ERR_FAIL;
	const char *no = m.no;
	int64_t unsettled = 0;
	struct store_stmt *q =
	    store_query(st,
	                "SELECT (SELECT COUNT(*) FROM payments_due WHERE merchant_id = ?1)"
	                " + (SELECT COUNT(*) FROM refunds WHERE merchant_id = ?1 AND settlement_id IS NULL)",
	                "t", no);
	if (store_step(q) == STORE_ROW)
		unsettled = store_col_int(q, 0);
	store_done(q);
	char last[16] = "";
	q = store_query(st, "SELECT date FROM settlements WHERE merchant_id = ? ORDER BY date DESC LIMIT 1", "t", no);
	if (store_step(q) == STORE_ROW)
		strlcopy(last, store_col_text(q, 0), sizeof last);
	store_done(q);
	/* Each date as `wpay settle` would then settle it, settling every date
	 * from the first in turn: what falls due by a date, less what fell due
	 * by the one before (what is due only grows with the date), with what
	 * the last carried out carried in. The mode is today's: the deposit
	 * only falls by refunds made later. */
	struct settle_run day = *run;
	struct settle_sums before = {0}, upto;
	int64_t carried = carried_in(st, no), seen = 0, shortfall = merchants_deposit_shortfall(st, m.id);
	char dropped_at[CLOCK_TEXT_MAX] = ""; /* the cut-off of the settlement that would put it on T15 */
	int y, mo, d;
	if (!clock_parse_date(run->date, &y, &mo, &d))
		return err_fail(e, ERR_FAIL, "bad_date", "'%s' is not a date; this is a bug", run->date);
	char now[CLOCK_TEXT_MAX];
	clock_format(clock_now_ms(), now);
	/* Up to the first date whose T15 cut-off is still to come, by which
	 * all that is unsettled now has fallen due. */
	for (int k = 0; seen < unsettled && k < PREVIEW_DAYS_MAX; k++) {
		int rc = run_date(&day, y, mo, d + k, e);
		if (rc)
			return rc;
		if (strcmp(day.cutoff_t15, now) > 0)
			k = PREVIEW_DAYS_MAX; /* the last date to look at */
		/* A date settled already, or before one, is settled no more. */
		if (strcmp(day.date, last) <= 0)
			continue;
		/* On T15 after a settlement that drops it: what that one took is not due again. */
		if (*dropped_at && strcmp(day.cutoff_t15, dropped_at) <= 0)
			continue;
		settle_mode(st, &m, &day, &upto);
		if (!settle_due(st, no, &day, NULL, &upto))
			return overflow(e, m.id, &upto);
		struct settle_sums s = upto;
		s.npay -= before.npay, s.gross -= before.gross, s.fees -= before.fees, s.nref -= before.nref;
		s.refunded -= before.refunded, s.fees_back -= before.fees_back, s.from_deposit -= before.from_deposit;
		s.discounts -= before.discounts, s.discounts_back -= before.discounts_back;
		before = upto;
		if (s.npay == 0 && s.nref == 0)
			continue;
		seen += s.npay + s.nref;
		s.carried_in = carried;
		if (!settle_figure(&s))
			return overflow(e, m.id, &s);
		s.shortfall = s.t0 ? shortfall : 0;
		settle_topup(&s, m.currency);
		shortfall -= s.topup;
		if (s.dropped) {
			strlcopy(m.settlement, "T15", sizeof m.settlement);
			strlcopy(dropped_at, day.cutoff_t0, sizeof dropped_at);
		}
		carried = s.carried_out;
		json_array_append_new(out, forecast_json(&m, &day, &s));
	}
	return 0;
}
