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
	bufprintf(run->date, sizeof run->date, "%04d-%02d-%02d", y, m, d);
	if (!period_local_time(y, m, d, run->cutoff_hour, run->cutoff_t0) ||
	    !period_local_time(y, m, d - SETTLE_T15_DAYS, run->cutoff_hour, run->cutoff_t15))
		return err_fail(e, EX_USAGE, "bad_date", "no local time for %s in %s", run->date, run->tz);
	if (strcmp(now, run->cutoff_t0) < 0)
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
	    "SELECT id FROM merchants WHERE id IN (SELECT merchant_id FROM payments WHERE settlement_id IS NULL)"
	    " OR id IN (SELECT merchant_id FROM refunds WHERE settlement_id IS NULL)"
	    " OR id IN (SELECT merchant_id FROM settlements WHERE date = ?) ORDER BY id",
	    "t", run->date);
	while (store_step(q) == STORE_ROW)
		json_array_append_new(list, json_pack("{s:s}", "merchant", store_col_text(q, 0)));
	return list;
}

static json_t *settlement_json(struct store *st, const char *id)
{
	struct store_stmt *q = store_query(
	    st,
	    "SELECT id, merchant_id, date, mode, note, cutoff, currency, payments, gross, fees, refunds, refunded,"
	    " fees_returned, refunded_from_deposit, carried_in, net, payout, carried_out, payout_account, transfer_id,"
	    " created_at FROM settlements WHERE id = ?",
	    "t", id);
	json_t *o = NULL;
	if (store_step(q) == STORE_ROW) {
		char merchant[MERCHANT_REF_MAX];
		ids_merchant(store_col_text(q, 1), merchant);
		o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "settlement", "id", store_col_text(q, 0), "merchant",
		              merchant, "date", store_col_text(q, 2), "mode", store_col_text(q, 3));
		json_object_set_new(o, "note", store_col_null(q, 4) ? json_null() : json_string(store_col_text(q, 4)));
		json_object_set_new(o, "cutoff", json_string(store_col_text(q, 5)));
		static const char *const sums[] = {
		    "payments",   "gross", "fees",   "refunds",    "refunded", "fees_returned", "refunded_from_deposit",
		    "carried_in", "net",   "payout", "carried_out"};
		json_object_set_new(o, "currency", json_string(store_col_text(q, 6)));
		for (int i = 0; i < (int)ARRAY_LEN(sums); i++)
			json_object_set_new(o, sums[i], json_integer(store_col_int(q, 7 + i)));
		json_object_set_new(o, "payout_account",
		                    store_col_null(q, 18) ? json_null() : json_string(store_col_text(q, 18)));
		json_object_set_new(o, "transfer",
		                    store_col_null(q, 19) ? json_null() : json_string(store_col_text(q, 19)));
		json_object_set_new(o, "created_at", json_string(store_col_text(q, 20)));
	}
	store_done(q);
	return o;
}

/* SQLite has one writer at a time; PostgreSQL locks the merchant's row,
 * against other settlers only: NO KEY, so that orders and payments that
 * refer to the merchant (their foreign keys take a key-share lock) go on
 * instead of deadlocking with a settlement. */
static const struct store_sql lock_merchant = {
    .sqlite = "SELECT id FROM merchants WHERE id = ?",
    .postgresql = "SELECT id FROM merchants WHERE id = ? FOR NO KEY UPDATE",
};

int settle_merchant(struct wpay_ctx *c, const struct settle_run *run, json_t *req, json_t **out, struct err *e)
{
	struct store *st = c->st;
	clock_test_crash("settle");
	const char *ref = NULL;
	struct merchant m;
	if (rec_get_str(req, "merchant", true, 0, &ref, e) || merchants_load(st, ref, &m, e))
		return ERR_FAIL;
	const char *no = m.no, *owner = m.id, *bank_account = m.has_bank_account ? m.bank_account : NULL;
	/* One settler per merchant at a time: a second one waits here, then
	 * finds the settlement made and answers it. */
	struct store_stmt *q = store_query_sql(st, &lock_merchant, "t", no);
	store_done(q);
	/* Settled for this date before: the same record, nothing moves. */
	q = store_query(st, "SELECT id FROM settlements WHERE merchant_id = ? AND date = ?", "tt", no, run->date);
	if (store_step(q) == STORE_ROW) {
		char sid[ID_MAX];
		strlcopy(sid, store_col_text(q, 0), sizeof sid);
		store_done(q);
		*out = settlement_json(st, sid);
		return BATCH_OK;
	}
	q = store_query(st,
	                "SELECT date FROM settlements WHERE merchant_id = ? AND date > ? ORDER BY date DESC LIMIT 1",
	                "tt", no, run->date);
	if (store_step(q) == STORE_ROW) {
		err_fail(e, ERR_FAIL, "settled_later", "%s was settled for %s already; settle dates in order", owner,
		         store_col_text(q, 0));
		store_done(q);
		return BATCH_FAIL;
	}
	char note[200] = "";
	bool t0 = strcmp(m.settlement, "T0") == 0;
	if (t0) {
		int64_t deposit = ledger_balance(st, ACCOUNT_DEPOSIT, owner);
		if (deposit < DEPOSIT_T0_MIN) {
			const struct currency *cur = currency_find(m.currency);
			char have[MONEY_TEXT_MAX], need[MONEY_TEXT_MAX];
			money_format(deposit, cur ? cur : currency_default(), have);
			money_format(DEPOSIT_T0_MIN, cur ? cur : currency_default(), need);
			bufprintf(note, sizeof note,
			          "settled as T15: the deposit %s %s is below the %s %s that T0 needs", have,
			          m.currency, need, m.currency);
			t0 = false;
		}
	}
	const char *cutoff = t0 ? run->cutoff_t0 : run->cutoff_t15;
	char sid[ID_MAX];
	ids_new("stl", sid);
	/* Refunds first: those of payments settled before, or settled now.
	 * Each is marked and read back by the same statement (RETURNING): one
	 * pass over what falls due, one round trip on PostgreSQL. */
	int64_t npay = 0, gross = 0, fees = 0, nref = 0, refunded = 0, fees_back = 0, from_deposit = 0, carried_in = 0;
	bool fits = true;
	q = store_query(st,
	                "UPDATE refunds SET settlement_id = ?1 WHERE merchant_id = ?2 AND settlement_id IS NULL"
	                " AND created_at < ?3 AND payment_id IN"
	                " (SELECT id FROM payments WHERE settlement_id IS NOT NULL OR created_at < ?4)"
	                " RETURNING funded_from, amount, fee_returned",
	                "tttt", sid, no, run->cutoff_t0, cutoff);
	/* Summed here with checked additions, not by SQL SUM(), which stops
	 * the program on an overflow. The ceilings keep each balance within
	 * 10^15 but not these sums: a merchant paid and refunded 10^15 over
	 * and over has a gross past int64 while its balances stay small. */
	while (store_step(q) == STORE_ROW) {
		nref++;
		if (strcmp(store_col_text(q, 0), "pending") == 0)
			fits = fits && money_add(refunded, store_col_int(q, 1), &refunded) &&
			       money_add(fees_back, store_col_int(q, 2), &fees_back);
		else if (strcmp(store_col_text(q, 0), "deposit") == 0)
			fits = fits && money_add(from_deposit, store_col_int(q, 1), &from_deposit);
	}
	q = store_query(st,
	                "UPDATE payments SET settlement_id = ?1 WHERE merchant_id = ?2 AND settlement_id IS NULL"
	                " AND created_at < ?3 RETURNING amount, fee",
	                "ttt", sid, no, cutoff);
	while (store_step(q) == STORE_ROW) {
		npay++;
		fits = fits && money_add(gross, store_col_int(q, 0), &gross) &&
		       money_add(fees, store_col_int(q, 1), &fees);
	}
	if (npay == 0 && nref == 0) {
		*out = NULL; /* nothing due yet */
		return BATCH_OK;
	}
	q = store_query(st, "SELECT carried_out FROM settlements WHERE merchant_id = ? ORDER BY date DESC LIMIT 1", "t",
	                no);
	if (store_step(q) == STORE_ROW)
		carried_in = store_col_int(q, 0);
	store_done(q);
	int64_t net = 0;
	fits = fits && money_add(gross, -fees, &net) && money_add(net, -refunded, &net) &&
	       money_add(net, fees_back, &net) && money_add(net, carried_in, &net);
	if (!fits) {
		return err_fail(
		    e, ERR_FAIL, "sum_overflow",
		    "%s's %lld payments and %lld refunds due by %s add up past what one settlement can "
		    "hold (%lld minor units); settle an earlier --date first, so that fewer fall due at once",
		    owner, (long long)npay, (long long)nref, cutoff, (long long)INT64_MAX);
	}
	int64_t payout = net > 0 ? net : 0, carried_out = net < 0 ? net : 0;
	char transfer_id[ID_MAX] = "";
	if (payout > 0) {
		struct transfer t = {.kind = "settlement", .amount = payout, .currency = m.currency, .ref = sid};
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
	store_exec(st,
	           "INSERT INTO settlements(id, merchant_id, date, mode, note, cutoff, currency, payments, gross, fees,"
	           " refunds, refunded, fees_returned, refunded_from_deposit, carried_in, net, payout, carried_out,"
	           " payout_account, transfer_id, created_at)"
	           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	           "tttttttiiiiiiiiiiittt", sid, no, run->date, t0 ? "T0" : "T15", *note ? note : NULL, cutoff,
	           m.currency, npay, gross, fees, nref, refunded, fees_back, from_deposit, carried_in, net, payout,
	           carried_out, bank_account, *transfer_id ? transfer_id : NULL, now);
	*out = settlement_json(st, sid);
	json_t *body = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "merchant", owner, "settlement", sid, "date",
	                         run->date, "net", (json_int_t)net, "payout", (json_int_t)payout, "carried_out",
	                         (json_int_t)carried_out, "currency", m.currency);
	events_queue(st, no, "settlement.done", sid, body);
	json_decref(body);
	return BATCH_OK;
}
