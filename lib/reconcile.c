/* reconcile: see reconcile.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "clock.h"
#include "csv.h"
#include "merchants.h"
#include "money.h"
#include "reconcile.h"
#include "records.h"

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

int reconcile_read_records(FILE *f, const char *path, const char *currency, json_t *theirs, struct err *e)
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

int reconcile_merchant(struct store *st, const char *merchant, const char *date, const char *path, json_t *out,
                       bool *agree, struct err *e)
{
	struct merchant m;
	if (merchants_load(st, merchant, &m, e))
		return EX_DATAERR;
	const char *no = m.no, *owner = m.id;
	if (date) {
		int y, mo, d;
		if (!clock_parse_date(date, &y, &mo, &d))
			return err_fail(e, EX_USAGE, "bad_date", "--date '%.40s' is not a calendar date YYYY-MM-DD",
			                date);
	}
	FILE *f = fopen(path, "r");
	if (!f)
		return err_fail(e, EX_NOINPUT, "io", "cannot read %s: %s", path, strerror(errno));
	json_t *theirs = json_object();
	int rc = reconcile_read_records(f, path, m.currency, theirs, e);
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
