/* settle: see settle.h. */
#define _GNU_SOURCE /* syncfs */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "crypto.h"
#include "csv.h"
#include "events.h"
#include "ledger.h"
#include "merchants.h"
#include "money.h"
#include "settle.h"

#include "util.h"

const char *settle_check_tz(const char *tz)
{
	if (!*tz || *tz == '/' || strstr(tz, "..") || strlen(tz) >= 64)
		return "a time zone is a name like Asia/Shanghai";
	for (const char *p = tz; *p; p++)
		if (!(*p >= 'A' && *p <= 'Z') && !(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') &&
		    !strchr("/_+-", *p))
			return "a time zone is a name like Asia/Shanghai";
	const char *dir = getenv("TZDIR");
	char *path = xasprintf("%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
	struct stat sb;
	bool found = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
	free(path);
	return found ? NULL : "no such time zone in the system's tz database (is tzdata installed?)";
}

/* y-m-d (day may be out of range: mktime normalises) at hour, local time
 * in the zone set by TZ, as UTC RFC 3339. */
static bool local_time(int y, int m, int d, int hour, char out[CLOCK_TEXT_MAX])
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = hour, .tm_isdst = -1};
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		return false;
	clock_format((int64_t)t * 1000, out);
	return true;
}

static bool parse_date(const char *s, int *y, int *m, int *d)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	*y = (int)strtol(s, NULL, 10), *m = (int)strtol(s + 5, NULL, 10), *d = (int)strtol(s + 8, NULL, 10);
	/* A real calendar day: it survives normalisation unchanged. */
	struct tm tm = {.tm_year = *y - 1900, .tm_mon = *m - 1, .tm_mday = *d, .tm_hour = 12};
	time_t t = timegm(&tm);
	struct tm back;
	return *y >= 1970 && t != (time_t)-1 && gmtime_r(&t, &back) && back.tm_year == *y - 1900 &&
	       back.tm_mon == *m - 1 && back.tm_mday == *d;
}

int settle_prepare(struct store *st, const char *date, struct settle_run *run, struct err *e)
{
	char *tz = store_setting(st, "settle_tz", SETTLE_TZ_DEFAULT);
	char *hour = store_setting(st, "settle_cutoff_hour", "0");
	strlcopy(run->tz, tz, sizeof run->tz);
	run->cutoff_hour = (int)strtol(hour, NULL, 10);
	free(tz);
	free(hour);
	const char *why = settle_check_tz(run->tz);
	if (why)
		return err_fail(e, EX_DATAERR, "bad_setting",
		                "settle time zone '%s': %s; set it with 'wpay init --settle-tz'", run->tz, why);
	/* This process only settles: the ledger's zone is its zone. */
	setenv("TZ", run->tz, 1);
	tzset();
	int64_t now_ms = clock_now_ms();
	char now[CLOCK_TEXT_MAX];
	clock_format(now_ms, now);
	int y, m, d;
	if (date) {
		if (!parse_date(date, &y, &m, &d))
			return err_fail(e, EX_USAGE, "bad_date", "--date '%.40s' is not a calendar date YYYY-MM-DD",
			                date);
	} else {
		time_t t = (time_t)(now_ms / 1000);
		struct tm tm;
		localtime_r(&t, &tm);
		y = tm.tm_year + 1900, m = tm.tm_mon + 1, d = tm.tm_mday;
		/* Before today's cut-off, the latest day that has ended is yesterday. */
		char today[CLOCK_TEXT_MAX];
		if (local_time(y, m, d, run->cutoff_hour, today) && strcmp(now, today) < 0) {
			struct tm prev = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d - 1, .tm_hour = 12};
			timegm(&prev);
			y = prev.tm_year + 1900, m = prev.tm_mon + 1, d = prev.tm_mday;
		}
	}
	bufprintf(run->date, sizeof run->date, "%04d-%02d-%02d", y, m, d);
	if (!local_time(y, m, d, run->cutoff_hour, run->cutoff_t0) ||
	    !local_time(y, m, d - SETTLE_T15_DAYS, run->cutoff_hour, run->cutoff_t15))
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

int settle_merchant(struct wpay_ctx *c, const struct settle_run *run, json_t *req, json_t **out, struct err *e)
{
	struct store *st = c->st;
	clock_test_crash("settle");
	const char *ref = NULL;
	struct merchant m;
	if (rec_get_str(req, "merchant", true, 0, &ref, e) || merchants_load(st, ref, &m, e))
		return ERR_FAIL;
	const char *no = m.no, *owner = m.id, *bank_account = m.has_bank_account ? m.bank_account : NULL;
	/* Settled for this date before: the same record, nothing moves. */
	struct store_stmt *q =
	    store_query(st, "SELECT id FROM settlements WHERE merchant_id = ? AND date = ?", "tt", no, run->date);
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
	/* Refunds first: those of payments settled before, or settled now. */
	store_exec(st,
	           "UPDATE refunds SET settlement_id = ?1 WHERE merchant_id = ?2 AND settlement_id IS NULL"
	           " AND created_at < ?3 AND payment_id IN"
	           " (SELECT id FROM payments WHERE settlement_id IS NOT NULL OR created_at < ?4)",
	           "tttt", sid, no, run->cutoff_t0, cutoff);
	store_exec(st,
	           "UPDATE payments SET settlement_id = ?1 WHERE merchant_id = ?2 AND settlement_id IS NULL"
	           " AND created_at < ?3",
	           "ttt", sid, no, cutoff);
	/* Summed here with checked additions, not by SQL SUM(), which stops
	 * the program on an overflow. The ceilings keep each balance within
	 * 10^15 but not these sums: a merchant paid and refunded 10^15 over
	 * and over has a gross past int64 while its balances stay small. */
	int64_t npay = 0, gross = 0, fees = 0, nref = 0, refunded = 0, fees_back = 0, from_deposit = 0, carried_in = 0;
	bool fits = true;
	q = store_query(st, "SELECT amount, fee FROM payments WHERE settlement_id = ?", "t", sid);
	while (store_step(q) == STORE_ROW) {
		npay++;
		fits = fits && money_add(gross, store_col_int(q, 0), &gross) &&
		       money_add(fees, store_col_int(q, 1), &fees);
	}
	q = store_query(st, "SELECT funded_from, amount, fee_returned FROM refunds WHERE settlement_id = ?", "t", sid);
	while (store_step(q) == STORE_ROW) {
		nref++;
		if (strcmp(store_col_text(q, 0), "pending") == 0)
			fits = fits && money_add(refunded, store_col_int(q, 1), &refunded) &&
			       money_add(fees_back, store_col_int(q, 2), &fees_back);
		else if (strcmp(store_col_text(q, 0), "deposit") == 0)
			fits = fits && money_add(from_deposit, store_col_int(q, 1), &from_deposit);
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

/* ---- files ---- */

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
		err_fail(e, ERR_FAIL, "io", "cannot create %s: %s", tmp, strerror(errno));
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
		err_fail(e, ERR_FAIL, "io", "cannot write %s: %s", tmp, strerror(saved ? saved : EIO));
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

int settle_write_files(struct store *st, const struct settle_run *run, const char *dir, struct err *e)
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

/* ---- reconciliation ---- */

/* A merchant's word for an order's state, in the ledger's words. */
static const char *normal_status(const char *s, char buf[24])
{
	size_t n = 0;
	for (; s[n] && n < 23; n++)
		buf[n] = (char)(s[n] >= 'A' && s[n] <= 'Z' ? s[n] - 'A' + 'a' : s[n]);
	buf[n] = '\0';
	static const char *const synonyms[][2] = {{"success", "paid"},          {"trade_success", "paid"},
	                                          {"trade_closed", "closed"},   {"trade_finished", "finished"},
	                                          {"refund", "refunded"},       {"refund_success", "refunded"},
	                                          {"wait_buyer_pay", "created"}};
	for (size_t i = 0; i < ARRAY_LEN(synonyms); i++)
		if (strcmp(buf, synonyms[i][0]) == 0)
			return synonyms[i][1];
	return buf;
}

static void difference(json_t *out, const char *kind, const char *merchant, const char *no, json_t *here, json_t *there)
{
	json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "type", "difference", "kind", kind,
	                                     "merchant", merchant, "out_trade_no", no, "here",
	                                     here ? here : json_null(), "there", there ? there : json_null()));
}

int settle_read_records(FILE *f, const char *path, const char *currency, json_t *theirs, struct err *e)
{
	char line[4096];
	unsigned long lineno = 0;
	int col_no = -1, col_amount = -1, col_status = -1, col_fee = -1, rc = 0;
	bool csv = false, first = true;
	const struct currency *cur = currency_find(currency);
	while (!rc && fgets(line, sizeof line, f)) {
		lineno++;
		size_t len = strlen(line);
		if (len && line[len - 1] != '\n' && !feof(f)) {
			rc = err_fail(e, EX_DATAERR, "line_too_long", "%s:%lu is longer than %zu bytes", path, lineno,
			              sizeof line - 2);
			break;
		}
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!len)
			continue;
		const char *no = NULL, *status = NULL;
		int64_t amount = 0, fee = -1;
		json_t *rec = NULL;
		if (first) {
			first = false;
			csv = line[0] != '{';
			if (csv) {
				char *fields[16];
				int n = csv_split(line, fields, 16);
				for (int i = 0; i < n; i++) {
					if (strcmp(fields[i], "out_trade_no") == 0)
						col_no = i;
					else if (strcmp(fields[i], "amount") == 0)
						col_amount = i;
					else if (strcmp(fields[i], "status") == 0)
						col_status = i;
					else if (strcmp(fields[i], "fee") == 0)
						col_fee = i;
				}
				if (col_no < 0 || col_amount < 0 || col_status < 0)
					rc = err_fail(
					    e, EX_DATAERR, "bad_file",
					    "%s: a CSV file needs a header naming out_trade_no, amount and status",
					    path);
				continue;
			}
		}
		if (csv) {
			char *fields[16];
			int n = csv_split(line, fields, 16);
			const char *why = NULL;
			if (n <= col_no || n <= col_amount || n <= col_status)
				why = "has too few fields";
			else if (money_parse(fields[col_amount], cur ? cur : currency_default(), true, &amount))
				why = "has an amount that is not a decimal amount";
			else if (col_fee >= 0 && n > col_fee && *fields[col_fee] &&
			         money_parse(fields[col_fee], cur ? cur : currency_default(), true, &fee))
				why = "has a fee that is not a decimal amount";
			if (why) {
				rc = err_fail(e, EX_DATAERR, "bad_file", "%s:%lu %s", path, lineno, why);
				break;
			}
			no = fields[col_no], status = fields[col_status];
		} else {
			json_error_t jerr;
			rec = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
			if (!rec || rec_get_str(rec, "out_trade_no", true, 64, &no, e) ||
			    rec_get_int(rec, "amount", true, &amount, e) ||
			    rec_get_str(rec, "status", true, 24, &status, e) ||
			    rec_get_int(rec, "fee", false, &fee, e)) {
				if (!rec)
					err_fail(e, ERR_FAIL, "bad_json", "not JSON: %s", jerr.text);
				char why[sizeof e->msg];
				strlcopy(why, e->msg, sizeof why);
				rc = err_fail(e, EX_DATAERR, "bad_file", "%s:%lu: %s", path, lineno, why);
				json_decref(rec);
				break;
			}
		}
		if (json_object_get(theirs, no))
			rc = err_fail(e, EX_DATAERR, "bad_file", "%s:%lu: out_trade_no '%.64s' appears twice", path,
			              lineno, no);
		else {
			char buf[24];
			json_t *o =
			    json_pack("{s:I, s:s}", "amount", (json_int_t)amount, "status", normal_status(status, buf));
			if (fee >= 0)
				json_object_set_new(o, "fee", json_integer(fee));
			json_object_set_new(theirs, no, o);
		}
		json_decref(rec);
	}
	if (!rc && ferror(f))
		rc = err_fail(e, EX_IOERR, "io", "cannot read %s: %s", path, strerror(errno));
	return rc;
}

int settle_reconcile(struct store *st, const char *merchant, const char *date, const char *path, json_t *out,
                     bool *agree, struct err *e)
{
	struct merchant m;
	if (merchants_load(st, merchant, &m, e))
		return EX_DATAERR;
	const char *no = m.no, *owner = m.id;
	if (date) {
		int y, mo, d;
		if (!parse_date(date, &y, &mo, &d))
			return err_fail(e, EX_USAGE, "bad_date", "--date '%.40s' is not a calendar date YYYY-MM-DD",
			                date);
	}
	FILE *f = fopen(path, "r");
	if (!f)
		return err_fail(e, EX_NOINPUT, "io", "cannot read %s: %s", path, strerror(errno));
	json_t *theirs = json_object();
	int rc = settle_read_records(f, path, m.currency, theirs, e);
	fclose(f);
	if (rc) {
		json_decref(theirs);
		return rc;
	}
	struct store_stmt *q =
	    store_query(st,
	                "SELECT o.out_trade_no, o.amount, CASE WHEN o.state = 'closed' AND o.close_reason = 'refunded'"
	                " THEN 'refunded' ELSE o.state END, p.fee FROM orders o JOIN payments p ON p.order_id = o.id"
	                " WHERE o.merchant_id = ?1 AND (?2 IS NULL OR p.settlement_id ="
	                " (SELECT id FROM settlements WHERE merchant_id = ?1 AND date = ?2)) ORDER BY o.out_trade_no",
	                "tt", no, date);
	int64_t compared = 0, before = (int64_t)json_array_size(out);
	while (store_step(q) == STORE_ROW) {
		const char *tno = store_col_text(q, 0), *state = store_col_text(q, 2);
		int64_t amount = store_col_int(q, 1), fee = store_col_int(q, 3);
		json_t *here =
		    json_pack("{s:I, s:s, s:I}", "amount", (json_int_t)amount, "status", state, "fee", (json_int_t)fee);
		json_t *there = json_object_get(theirs, tno);
		compared++;
		if (!there) {
			difference(out, "missing_there", owner, tno, here, NULL);
			continue;
		}
		json_t *their_fee = json_object_get(there, "fee");
		if (json_integer_value(json_object_get(there, "amount")) != amount)
			difference(out, "amount_mismatch", owner, tno, json_incref(here), json_incref(there));
		if (strcmp(json_string_value(json_object_get(there, "status")), state) != 0)
			difference(out, "status_mismatch", owner, tno, json_incref(here), json_incref(there));
		if (their_fee && json_integer_value(their_fee) != fee)
			difference(out, "fee_mismatch", owner, tno, json_incref(here), json_incref(there));
		json_decref(here);
		json_object_del(theirs, tno);
	}
	/* What is left, the ledger has not (as paid, or in that settlement). */
	const char *tno;
	json_t *there;
	json_object_foreach (theirs, tno, there) {
		compared++;
		difference(out, "missing_here", owner, tno, NULL, json_incref(there));
	}
	json_decref(theirs);
	int64_t differences = (int64_t)json_array_size(out) - before;
	*agree = differences == 0;
	json_t *summary = json_pack("{s:s, s:s}", "type", "reconciliation", "merchant", owner);
	json_object_set_new(summary, "date", date ? json_string(date) : json_null());
	json_object_set_new(summary, "file", json_string(path));
	json_object_set_new(summary, "compared", json_integer(compared));
	json_object_set_new(summary, "differences", json_integer(differences));
	json_object_set_new(summary, "agree", json_boolean(*agree));
	json_array_append_new(out, summary);
	return 0;
}
