/* reconcile: see reconcile.h. */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "clock.h"
#include "csv.h"
#include "merchants.h"
#include "money.h"
#include "period.h"
#include "reconcile.h"
#include "records.h"
#include "utf8.h"

#include "util.h"

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

/* The column a header names: ours (wpay-bill's, or the merchant's own
 * export) or Alipay's bill's (bills.c lists its columns and where they
 * come from); -1 if none. */
#define NO_FEE INT64_MIN

enum { COL_NO, COL_AMOUNT, COL_STATUS, COL_FEE, COL_KIND, COLS };
static int column_of(const char *name)
{
	static const struct {
		const char *name;
		int col;
	} names[] = {
	    {"out_trade_no", COL_NO},     {"商户订单号", COL_NO},
	    {"amount", COL_AMOUNT},       {"订单金额（元）", COL_AMOUNT},
	    {"订单金额(元)", COL_AMOUNT}, {"status", COL_STATUS},
	    {"交易状态", COL_STATUS},     {"fee", COL_FEE},
	    {"服务费（元）", COL_FEE},    {"服务费(元)", COL_FEE},
	    {"kind", COL_KIND},           {"业务类型", COL_KIND},
	};
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (strcmp(name, names[i].name) == 0)
			return names[i].col;
	return -1;
}

/* Alipay pads fields with a tab (so a spreadsheet keeps long numbers as
 * text), and spreadsheets leave spaces: trim both ends. */
static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* A text field our CSV writer neutralised ('=...) read back as written. */
static const char *unguard(const char *s)
{
	return s[0] == '\'' && csv_formula_like(s + 1) ? s + 1 : s;
}

/* Is a bill's line a payment (the lines compared), by its kind? */
static bool payment_kind(const char *kind)
{
	return strcmp(kind, "payment") == 0 || strcmp(kind, "交易") == 0;
}

/* One line in UTF-8, from the encoding the file is in: given, or taken
 * from the first line that is not ASCII (UTF-8 if it is valid UTF-8, else
 * GB18030, which holds GBK). Returns the UTF-8 text or NULL with e set. */
struct decoder {
	const char *encoding; /* NULL: not known yet */
	iconv_t cd;
	char buf[3 * RECONCILE_LINE_MAX];
};

static const char *decode(struct decoder *d, char *line, const char *path, unsigned long lineno, struct err *e)
{
	size_t n = strlen(line), bad;
	if (!d->encoding && !utf8_is_ascii(line))
		d->encoding = utf8_valid(line, n, &bad) ? "utf-8" : "gb18030";
	if (!d->encoding || strcmp(d->encoding, "utf-8") == 0) {
		if (!utf8_valid(line, n, &bad)) {
			err_fail(e, EX_DATAERR, "bad_file", "%s:%lu is not UTF-8 (byte %zu): give --encoding", path,
			         lineno, bad + 1);
			return NULL;
		}
		return line;
	}
	if (d->cd == (iconv_t)-1) {
		d->cd = iconv_open("UTF-8", strcmp(d->encoding, "gbk") == 0 ? "GBK" : "GB18030");
		if (d->cd == (iconv_t)-1)
			err_die(EX_SOFTWARE, "iconv cannot read %s: %s", d->encoding, strerror(errno));
	}
	char *in = line, *out = d->buf;
	size_t room = sizeof d->buf - 1;
	if (iconv(d->cd, &in, &n, &out, &room) == (size_t)-1 || iconv(d->cd, NULL, NULL, &out, &room) == (size_t)-1) {
		err_fail(e, EX_DATAERR, "bad_file", "%s:%lu is not %s text (byte %zu)", path, lineno, d->encoding,
		         (size_t)(in - line) + 1);
		return NULL;
	}
	*out = '\0';
	return d->buf;
}

int reconcile_read_records(FILE *f, const char *path, const char *currency, const char *encoding, json_t *theirs,
                           struct err *e)
{
	char raw[RECONCILE_LINE_MAX], line[sizeof((struct decoder *)0)->buf];
	unsigned long lineno = 0;
	int col[COLS] = {-1, -1, -1, -1, -1}, rc = 0;
	bool csv = false, first = true;
	const struct currency *cur = currency_find(currency);
	struct decoder dec = {.encoding = encoding, .cd = (iconv_t)-1};
	while (!rc && fgets(raw, sizeof raw, f)) {
		lineno++;
		size_t len = strlen(raw);
		if (len && raw[len - 1] != '\n' && !feof(f)) {
			rc = err_fail(e, EX_DATAERR, "line_too_long", "%s:%lu is longer than %zu bytes", path, lineno,
			              sizeof raw - 2);
			break;
		}
		while (len && (raw[len - 1] == '\n' || raw[len - 1] == '\r'))
			raw[--len] = '\0';
		/* A UTF-8 byte order mark, as spreadsheets save CSV. */
		char *start = raw;
		if (lineno == 1 && strncmp(start, "\xEF\xBB\xBF", 3) == 0) {
			start += 3;
			if (!dec.encoding)
				dec.encoding = "utf-8";
		}
		const char *text = decode(&dec, start, path, lineno, e);
		if (!text) {
			rc = EX_DATAERR;
			break;
		}
		strlcopy(line, text, sizeof line);
		/* Blank lines, and the comments Alipay's bills begin and end with. */
		if (!*trim(line) || (line[0] == '#' && (first || csv)))
			continue;
		const char *no = NULL, *status = NULL, *kind = NULL;
		int64_t amount = 0, fee = NO_FEE;
		json_t *rec = NULL;
		if (first) {
			first = false;
			csv = line[0] != '{';
			if (csv) {
				char *fields[64];
				int n = csv_split(line, fields, 64);
				for (int i = 0; i < n; i++) {
					int c = column_of(trim(fields[i]));
					if (c >= 0 && col[c] < 0)
						col[c] = i;
				}
				if (col[COL_NO] < 0 || col[COL_AMOUNT] < 0)
					rc = err_fail(e, EX_DATAERR, "bad_file",
					              "%s: a CSV file needs a header naming out_trade_no and amount "
					              "(or 商户订单号 "
					              "and 订单金额（元）)",
					              path);
				continue;
			}
		}
		if (csv) {
			char *fields[64];
			int n = csv_split(line, fields, 64);
			const char *why = NULL;
			for (int i = 0; i < n; i++)
				fields[i] = trim(fields[i]);
			kind = col[COL_KIND] >= 0 && n > col[COL_KIND] ? fields[col[COL_KIND]] : NULL;
			if (kind && !payment_kind(kind))
				continue; /* a refund, a total: the payments are compared */
			if (n <= col[COL_NO] || n <= col[COL_AMOUNT] || (col[COL_STATUS] >= 0 && n <= col[COL_STATUS]))
				why = "has too few fields";
			else if (money_parse(fields[col[COL_AMOUNT]], cur ? cur : currency_default(), true, &amount))
				why = "has an amount that is not a decimal amount";
			else if (col[COL_FEE] >= 0 && n > col[COL_FEE] && *fields[col[COL_FEE]] &&
			         money_parse(fields[col[COL_FEE]], cur ? cur : currency_default(), true, &fee))
				why = "has a fee that is not a decimal amount";
			if (why) {
				rc = err_fail(e, EX_DATAERR, "bad_file", "%s:%lu %s", path, lineno, why);
				break;
			}
			no = unguard(fields[col[COL_NO]]);
			status = col[COL_STATUS] >= 0 ? fields[col[COL_STATUS]] : NULL;
		} else {
			json_error_t jerr;
			rec = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
			const char *type = rec ? json_string_value(json_object_get(rec, "type")) : NULL;
			if (rec && ((type && strcmp(type, "bill_total") == 0) ||
			            (json_is_string(json_object_get(rec, "kind")) &&
			             !payment_kind(json_string_value(json_object_get(rec, "kind")))))) {
				json_decref(rec);
				continue; /* wpay-bill's refunds and total */
			}
			if (!rec || rec_get_str(rec, "out_trade_no", true, 64, &no, e) ||
			    rec_get_int(rec, "amount", true, &amount, e) ||
			    rec_get_str(rec, "status", false, 24, &status, e) ||
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
		/* Bills differ on the sign of a fee; a payment's is never negative. */
		if (fee != NO_FEE && fee < 0)
			fee = -fee;
		if (json_object_get(theirs, no))
			rc = err_fail(e, EX_DATAERR, "bad_file", "%s:%lu: out_trade_no '%.64s' appears twice", path,
			              lineno, no);
		else {
			char buf[24];
			json_t *o = json_pack("{s:I}", "amount", (json_int_t)amount);
			if (status)
				json_object_set_new(o, "status", json_string(normal_status(status, buf)));
			if (fee != NO_FEE)
				json_object_set_new(o, "fee", json_integer(fee));
			json_object_set_new(theirs, no, o);
		}
		json_decref(rec);
	}
	if (dec.cd != (iconv_t)-1)
		iconv_close(dec.cd);
	if (!rc && ferror(f))
		rc = err_fail(e, EX_IOERR, "io", "cannot read %s: %s", path, strerror(errno));
	return rc;
}

int reconcile_merchant(struct store *st, const char *merchant, const struct reconcile_opts *ro, const char *path,
                       json_t *out, bool *agree, struct err *e)
{
	struct merchant m;
	if (merchants_load(st, merchant, &m, e))
		return EX_DATAERR;
	const char *no = m.no, *owner = m.id, *date = ro->settle_date;
	if (date) {
		int y, mo, d;
		if (strlen(date) != 10 || !clock_parse_date(date, &y, &mo, &d))
			return err_fail(e, EX_USAGE, "bad_date",
			                "--settle-date '%.40s' is not a calendar date YYYY-MM-DD", date);
	}
	struct period trade = {0};
	if (ro->trade_date) {
		char tz[PERIOD_TZ_MAX];
		int cutoff, rc = period_ledger_zone(st, tz, &cutoff, e);
		if (rc || (rc = period_business_day("--trade-date", ro->trade_date, cutoff, &trade, e)) != 0)
			return rc;
	}
	if (ro->encoding && strcmp(ro->encoding, "utf-8") && strcmp(ro->encoding, "gbk") &&
	    strcmp(ro->encoding, "gb18030"))
		return err_fail(e, EX_USAGE, "bad_option", "--encoding '%.40s': utf-8, gbk or gb18030", ro->encoding);
	FILE *f = fopen(path, "r");
	if (!f)
		return err_fail(e, EX_NOINPUT, "io", "cannot read %s: %s", path, strerror(errno));
	json_t *theirs = json_object();
	int rc = reconcile_read_records(f, path, m.currency, ro->encoding, theirs, e);
	fclose(f);
	if (rc) {
		json_decref(theirs);
		return rc;
	}
	const char *since = ro->trade_date ? trade.since : NULL, *until = ro->trade_date ? trade.until : NULL;
	struct store_stmt *q =
	    store_query(st,
	                "SELECT o.out_trade_no, o.amount, CASE WHEN o.state = 'closed' AND o.close_reason = 'refunded'"
	                " THEN 'refunded' ELSE o.state END, p.fee FROM orders o JOIN payments p ON p.order_id = o.id"
	                " WHERE o.merchant_id = ?1 AND (?2 IS NULL OR p.settlement_id ="
	                " (SELECT id FROM settlements WHERE merchant_id = ?1 AND date = ?2))"
	                " AND (?3 IS NULL OR (p.created_at >= ?3 AND p.created_at < ?4)) ORDER BY o.out_trade_no",
	                "tttt", no, date, since, until);
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
		json_t *their_status = json_object_get(there, "status");
		if (their_status && strcmp(json_string_value(their_status), state) != 0)
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
	json_object_set_new(summary, "trade_date", ro->trade_date ? json_string(ro->trade_date) : json_null());
	json_object_set_new(summary, "file", json_string(path));
	json_object_set_new(summary, "compared", json_integer(compared));
	json_object_set_new(summary, "differences", json_integer(differences));
	json_object_set_new(summary, "agree", json_boolean(*agree));
	json_array_append_new(out, summary);
	return 0;
}
