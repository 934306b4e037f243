/* bills: see bills.h. */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "bills.h"
#include "csv.h"
#include "ids.h"
#include "ledger.h"
#include "merchants.h"
#include "money.h"
#include "outfile.h"
#include "period.h"
#include "records.h"
#include "settle.h"

#include "util.h"

/*
 * Column names. zh: those of the bills Alipay's merchants download (API
 * alipay.data.dataservice.bill.downloadurl.query, documented at
 * https://docs.open.alipay.com/api_15/alipay.data.dataservice.bill.downloadurl.query
 * as cited by github.com/mm-ooto/alipay, alipayTradeDataserviceBillDownloadurlQuery.go):
 * bill_type trade, whose "业务明细" file has 25 columns (支付宝交易号, 商户订单号,
 * 业务类型, 商品名称, 创建时间, 完成时间, ..., 对方账户, 订单金额（元）, 商家实收（元）, ...,
 * 退款批次号/请求号, 服务费（元）, 分润（元）, 备注), and bill_type signcustomer,
 * whose "账务明细" file has 12 (账务流水号, 业务流水号, 商户订单号, 商品名称, 发生时间,
 * 对方账号, 收入金额（+元）, 支出金额（-元）, 账户余额（元）, 交易渠道, 业务类型, 备注; as
 * github.com/Krissquare/OOAD_MALL_Payment reads them in
 * transaction/src/main/java/cn/edu/xmu/oomall/transaction/util/billformatter/vo/AliPayFormat.java).
 * Where our column means what theirs does it takes their name; where they
 * have none (our payment or refund id, net, currency, settlement, the
 * account) it keeps ours. A promotion's discount, which a sponsor pays
 * and the merchant does not, is their 支付宝优惠（元） (a discount that
 * leaves 商家实收 whole), and the promotion their 券名称.
 */
enum {
	T_TIME,
	T_ORDER,
	T_OUT_TRADE_NO,
	T_ID,
	T_OUT_REQUEST_NO,
	T_KIND,
	T_AMOUNT,
	T_FEE,
	T_NET,
	T_CURRENCY,
	T_BUYER,
	T_SUBJECT,
	T_SETTLEMENT,
	T_SETTLEMENT_DATE,
	T_DISCOUNT,
	T_PROMOTION,
	T_COLUMNS
};
static const char *const trade_en[T_COLUMNS] = {
    "time",     "order", "out_trade_no", "id",         "out_request_no",  "kind",     "amount",   "fee", "net",
    "currency", "buyer", "subject",      "settlement", "settlement_date", "discount", "promotion"};
static const char *const trade_zh[T_COLUMNS] = {
    "完成时间",         "支付宝交易号", "商户订单号", "id",       "退款批次号/请求号", "业务类型",   "订单金额（元）",
    "服务费（元）",     "net",          "currency",   "对方账户", "商品名称",          "settlement", "settlement_date",
    "支付宝优惠（元）", "券名称"};

enum { F_TIME, F_ID, F_REF, F_KIND, F_ACCOUNT, F_OTHER, F_IN, F_OUT, F_BALANCE, F_CURRENCY, F_COLUMNS };
static const char *const fund_en[F_COLUMNS] = {"time",  "id", "ref", "kind",    "account",
                                               "other", "in", "out", "balance", "currency"};
static const char *const fund_zh[F_COLUMNS] = {"发生时间",       "账务流水号", "业务流水号",      "业务类型",
                                               "account",        "对方账号",   "收入金额（+元）", "支出金额（-元）",
                                               "账户余额（元）", "currency"};

int bills_check_opts(const struct bill_opts *o, struct err *e)
{
	const char *enc = o->encoding;
	if (enc && strcmp(enc, "utf-8") && strcmp(enc, "gbk") && strcmp(enc, "gb18030"))
		return err_fail(e, EX_USAGE, "bad_option", "--encoding '%.40s': utf-8, gbk or gb18030", enc);
	bool utf8 = !enc || strcmp(enc, "utf-8") == 0;
	if (o->format == BILL_JSONL && (!utf8 || o->bom || o->zh))
		return err_fail(e, EX_USAGE, "bad_option",
		                "JSON lines are UTF-8 with the records' own names: --encoding, --bom and --headers "
		                "go with --format csv");
	if (o->bom && !utf8)
		return err_fail(e, EX_USAGE, "bad_option", "--bom marks UTF-8: drop it with --encoding %s", enc);
	return 0;
}

struct bill_writer {
	FILE *f;
	const struct bill_opts *o;
	const struct currency *cur;
	const char *currency;
	iconv_t cd;     /* (iconv_t)-1 for UTF-8 */
	FILE *line;     /* one CSV line, to be converted */
	char *line_buf; /* line's memory */
	size_t line_len;
	char *conv;
	size_t conv_cap;
	unsigned long row; /* lines written, the header being 1 */
	int64_t payments, refunds, gross, refunded, fees, net, discounts;
	struct rec_buf json;
};

struct bill_writer *bill_writer_new(FILE *f, const struct bill_opts *o, const char *currency)
{
	struct bill_writer *w = xcalloc(1, sizeof *w);
	w->f = f, w->o = o, w->currency = currency;
	w->cur = currency_find(currency);
	if (!w->cur)
		w->cur = currency_default();
	w->cd = (iconv_t)-1;
	if (o->format == BILL_CSV && o->encoding && strcmp(o->encoding, "utf-8") != 0) {
		/* No //TRANSLIT, no //IGNORE: a character the encoding lacks is
		 * an error, never a silent '?'. */
		w->cd = iconv_open(strcmp(o->encoding, "gbk") == 0 ? "GBK" : "GB18030", "UTF-8");
		if (w->cd == (iconv_t)-1)
			err_die(EX_SOFTWARE, "iconv cannot make %s: %s", o->encoding, strerror(errno));
		w->line = open_memstream(&w->line_buf, &w->line_len);
		if (!w->line)
			err_die(EX_OSERR, "out of memory");
	}
	return w;
}

void bill_writer_free(struct bill_writer *w)
{
	if (!w)
		return;
	if (w->cd != (iconv_t)-1)
		iconv_close(w->cd);
	if (w->line)
		fclose(w->line);
	free(w->line_buf);
	free(w->conv);
	rec_buf_free(&w->json);
	free(w);
}

/* Where CSV fields go: the output, or the line to convert. */
static FILE *out(struct bill_writer *w)
{
	return w->line ? w->line : w->f;
}

/* End a CSV line: convert it if an encoding asks. */
static int end_line(struct bill_writer *w, const char *what, struct err *e)
{
	w->row++;
	if (!w->line)
		return ferror(w->f) ? err_fail(e, EX_IOERR, "io", "cannot write the bill: %s", strerror(errno)) : 0;
	if (fflush(w->line) != 0)
		err_die(EX_OSERR, "out of memory");
	long n = ftell(w->line);
	size_t left = n > 0 ? (size_t)n : 0, need = 2 * left + 16;
	if (need > w->conv_cap)
		w->conv = xrealloc(w->conv, w->conv_cap = need);
	char *in = w->line_buf, *o = w->conv;
	size_t room = w->conv_cap;
	if (iconv(w->cd, &in, &left, &o, &room) == (size_t)-1) {
		/* The text before the character, to name the field it is in. */
		const char *start = in;
		while (start > w->line_buf && start[-1] != ',')
			start--;
		return err_fail(e, EX_DATAERR, "unencodable",
		                "row %lu of the bill (%s) holds a character %s cannot: '%.*s'", w->row,
		                what ? what : "header", w->o->encoding, (int)strcspn(start, ",\n"), start);
	}
	rewind(w->line);
	size_t len = w->conv_cap - room;
	if (fwrite(w->conv, 1, len, w->f) != len)
		return err_fail(e, EX_IOERR, "io", "cannot write the bill: %s", strerror(errno));
	return 0;
}

static void field(struct bill_writer *w, const char *s, bool last)
{
	csv_field(out(w), s, last);
}

static void money_field(struct bill_writer *w, int64_t amount, bool last)
{
	char text[MONEY_TEXT_MAX];
	money_format(amount, w->cur, text);
	csv_number(out(w), text, last);
}

static int emit_json(struct bill_writer *w, json_t *rec, struct err *e)
{
	rec_text(rec, &w->json);
	json_decref(rec);
	w->row++;
	if (fwrite(w->json.text, 1, w->json.len, w->f) != w->json.len || fputc('\n', w->f) == EOF)
		return err_fail(e, EX_IOERR, "io", "cannot write the bill: %s", strerror(errno));
	return 0;
}

static int header(struct bill_writer *w, const char *const *names, int n, struct err *e)
{
	if (w->o->format == BILL_JSONL)
		return 0;
	if (w->o->bom)
		fputs("\xEF\xBB\xBF", w->f);
	for (int i = 0; i < n; i++)
		field(w, names[i], i == n - 1);
	return end_line(w, NULL, e);
}

int bill_writer_header(struct bill_writer *w, struct err *e)
{
	return header(w, w->o->zh ? trade_zh : trade_en, T_COLUMNS, e);
}

static bool add(int64_t *sum, int64_t v)
{
	return money_add(*sum, v, sum);
}

int bill_writer_row(struct bill_writer *w, struct store_stmt *q, int b, struct err *e)
{
	bool refund = store_col_int(q, b) == 1;
	bool deposit = refund && strcmp(store_col_text(q, b + 8), "deposit") == 0;
	int64_t amount = store_col_int(q, b + 6), fee = store_col_int(q, b + 7), discount = store_col_int(q, b + 13);
	/* A refund the deposit paid leaves pending as it was. */
	int64_t net = deposit ? 0 : amount - fee;
	const char *kind = !refund ? "payment" : deposit ? "refund_from_deposit" : "refund";
	if (!add(&w->gross, refund ? 0 : amount) || !add(&w->refunded, refund ? -amount : 0) || !add(&w->fees, fee) ||
	    !add(&w->net, net) || !add(&w->discounts, discount))
		return err_fail(e, EX_DATAERR, "sum_overflow", "the bill's totals pass 2^63-1 minor units");
	*(refund ? &w->refunds : &w->payments) += 1;
	char buyer[USER_REF_MAX];
	const char *uid = store_col_text(q, b + 9);
	if (uid)
		ids_user(uid, buyer);
	if (w->o->format == BILL_JSONL) {
		json_t *r =
		    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:I, s:I, s:I, s:s, s:s?, s:s?, s:s?, s:s?}",
		              "type", "bill_line", "kind", kind, "time", store_col_text(q, b + 1), "order",
		              store_col_text(q, b + 2), "out_trade_no", store_col_text(q, b + 3), "id",
		              store_col_text(q, b + 4), "out_request_no", store_col_text(q, b + 5), "amount",
		              (json_int_t)amount, "fee", (json_int_t)fee, "net", (json_int_t)net, "currency",
		              w->currency, "buyer", uid ? buyer : NULL, "subject", store_col_text(q, b + 10),
		              "settlement", store_col_text(q, b + 11), "settlement_date", store_col_text(q, b + 12));
		if (discount) {
			json_object_set_new(r, "discount", json_integer(discount));
			json_object_set_new(r, "promotion", json_string(store_col_text(q, b + 14)));
		}
		return emit_json(w, r, e);
	}
	for (int i = 1; i <= 5; i++)
		field(w, store_col_text(q, b + i), false);
	field(w, kind, false);
	money_field(w, amount, false);
	money_field(w, fee, false);
	money_field(w, net, false);
	field(w, w->currency, false);
	field(w, uid ? buyer : NULL, false);
	for (int i = 10; i <= 12; i++)
		field(w, store_col_text(q, b + i), false);
	money_field(w, discount, false);
	field(w, discount ? store_col_text(q, b + 14) : NULL, true);
	return end_line(w, store_col_text(q, b + 3), e);
}

int bill_writer_lines(struct bill_writer *w, struct store_stmt *q, struct err *e)
{
	int rc = 0;
	while (!rc && store_step(q) == STORE_ROW)
		rc = bill_writer_row(w, q, 0, e);
	if (rc)
		store_done(q);
	return rc;
}

int bill_writer_total(struct bill_writer *w, struct err *e)
{
	if (w->o->format == BILL_JSONL) {
		json_t *t = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "type", "bill_total", "payments",
		                      (json_int_t)w->payments, "refunds", (json_int_t)w->refunds, "gross",
		                      (json_int_t)w->gross, "refunded", (json_int_t)w->refunded, "fees",
		                      (json_int_t)w->fees, "net", (json_int_t)w->net, "currency", w->currency);
		if (w->discounts)
			json_object_set_new(t, "discounts", json_integer(w->discounts));
		return emit_json(w, t, e);
	}
	/* The total's amount, fee and net are the sums of the columns above
	 * it; the counts go where text can. */
	char counts[64];
	bufprintf(counts, sizeof counts, "payments %lld refunds %lld", (long long)w->payments, (long long)w->refunds);
	for (int i = 0; i < T_KIND; i++)
		field(w, NULL, false);
	field(w, "total", false);
	money_field(w, w->gross - w->refunded, false);
	money_field(w, w->fees, false);
	money_field(w, w->net, false);
	field(w, w->currency, false);
	field(w, NULL, false);
	field(w, counts, false);
	field(w, NULL, false);
	field(w, NULL, false);
	money_field(w, w->discounts, false);
	field(w, NULL, true);
	return end_line(w, "total", e);
}

int bill_writer_summary(struct bill_writer *w, const char *label, int64_t net, struct err *e)
{
	for (int i = 0; i < T_KIND; i++)
		field(w, NULL, false);
	field(w, label, false);
	field(w, NULL, false);
	field(w, NULL, false);
	money_field(w, net, false);
	field(w, w->currency, false);
	for (int i = T_BUYER; i < T_COLUMNS; i++)
		field(w, NULL, i == T_COLUMNS - 1);
	return end_line(w, label, e);
}

/* The columns bill_writer_lines reads: 0 payment / 1 refund, time, order,
 * out_trade_no, id, out_request_no, amount and fee (negative for a
 * refund), funded_from, buyer, subject, settlement id and date, discount
 * (negative: returned by a refund) and promotion. One ordered pass: the
 * order's fields come with the row. */
/* A refund's promotion is its payment's: read only where it returned some. */
#define REFUND_PROMO                                                                                                   \
	"CASE WHEN r.discount_returned > 0 THEN (SELECT promo_id FROM payments WHERE id = r.payment_id) END"
#define TRADE_LINES(p_where, r_where, order)                                                                           \
	"SELECT 0, p.created_at, p.order_id, o.out_trade_no, p.id, NULL, p.amount, p.fee, 'pending', p.buyer,"         \
	" o.subject, p.settlement_id, s.date, p.discount, p.promo_id FROM payments p JOIN orders o ON o.id = "         \
	"p.order_id"                                                                                                   \
	" LEFT JOIN settlements s ON s.id = p.settlement_id WHERE " p_where                                            \
	" UNION ALL SELECT 1, r.created_at, r.order_id, o.out_trade_no, r.id, r.out_request_no, -r.amount,"            \
	" -r.fee_returned, r.funded_from, o.buyer, o.subject, r.settlement_id, s.date, -r.discount_returned,"          \
	" " REFUND_PROMO " FROM refunds r"                                                                             \
	" JOIN orders o ON o.id = r.order_id LEFT JOIN settlements s ON s.id = r.settlement_id WHERE " r_where         \
	" ORDER BY " order

/* From the oldest payment and refund on, in the tables' own order (by
 * id, which is time order): pages are read once each, and nothing is
 * sorted. SQLite: CROSS JOIN fixes that order, and + keeps the
 * settlement index out. PostgreSQL plans the joins itself and sorts. */
#define DATE_LINES(cross, plus, order)                                                                                 \
	"SELECT s.merchant_id, 0, p.created_at, p.order_id, o.out_trade_no, p.id, NULL, p.amount, p.fee, 'pending',"   \
	" p.buyer, o.subject, p.settlement_id, s.date, p.discount, p.promo_id FROM payments p " cross                  \
	" settlements s " cross " orders o"                                                                            \
	" WHERE p.id >= ?2 AND s.id = " plus "p.settlement_id AND s.date = ?1 AND o.id = p.order_id"                   \
	" UNION ALL SELECT s.merchant_id, 1, r.created_at, r.order_id, o.out_trade_no, r.id, r.out_request_no,"        \
	" -r.amount, -r.fee_returned, r.funded_from, o.buyer, o.subject, r.settlement_id, s.date,"                     \
	" -r.discount_returned, " REFUND_PROMO " FROM refunds "                                                        \
	"r " cross " settlements s " cross " orders o WHERE r.id >= ?3 AND s.id = " plus                               \
	"r.settlement_id AND s.date = ?1"                                                                              \
	" AND o.id = r.order_id" order

#define SETTLEMENT_LINES                                                                                               \
	"SELECT s.merchant_id, 0, p.created_at, p.order_id, o.out_trade_no, p.id, NULL, p.amount, p.fee,"              \
	" 'pending', p.buyer, o.subject, p.settlement_id, s.date, p.discount, p.promo_id FROM settlements s"           \
	" JOIN payments p ON " SETTLED_PAYMENTS " JOIN orders o ON o.id = p.order_id WHERE s.id = ?1"                  \
	" UNION ALL SELECT s.merchant_id, 1, r.created_at, r.order_id, o.out_trade_no, r.id,"                          \
	" r.out_request_no, -r.amount, -r.fee_returned, r.funded_from, o.buyer, o.subject,"                            \
	" r.settlement_id, s.date, -r.discount_returned, " REFUND_PROMO " FROM refunds r JOIN orders o"                \
	" ON o.id = r.order_id"                                                                                        \
	" JOIN settlements s ON s.id = r.settlement_id WHERE r.settlement_id = ?1 ORDER BY 1, 2, 6"

/* A bill's lines are read with store_query_many: a day of a busy merchant
 * is more rows than should be held at once. */
struct store_stmt *bills_settlement_lines(struct store *st, const char *settlement_id)
{
	static const struct store_sql lines = {SETTLEMENT_LINES, SETTLEMENT_LINES};
	return store_query_many(st, &lines, "t", settlement_id);
}

struct store_stmt *bills_date_lines(struct store *st, const char *date)
{
	static const struct store_sql lines = {DATE_LINES("CROSS JOIN", "+", ""),
	                                       DATE_LINES("CROSS JOIN", "", " ORDER BY 1, 2, 6")};
	static char first_payment[ID_MAX], first_refund[ID_MAX];
	struct store_stmt *q = store_query(
	    st,
	    "SELECT MIN(s.first_payment),"
	    " MIN((SELECT MIN(id) FROM refunds WHERE settlement_id = s.id)) FROM settlements s WHERE s.date = ?",
	    "t", date);
	bool found = store_step(q) == STORE_ROW;
	bool payments = found && !store_col_null(q, 0), refunds = found && !store_col_null(q, 1);
	strlcopy(first_payment, payments ? store_col_text(q, 0) : "", sizeof first_payment);
	strlcopy(first_refund, refunds ? store_col_text(q, 1) : "", sizeof first_refund);
	store_done(q);
	/* NULL, where there is none, matches no row. */
	return store_query_many(st, &lines, "ttt", date, payments ? first_payment : NULL,
	                        refunds ? first_refund : NULL);
}

static int trade_bill(struct store *st, const struct merchant *m, const struct period *p, struct bill_writer *w,
                      struct err *e)
{
#define MERCHANT_TRADES                                                                                                \
	TRADE_LINES("p.merchant_id = ?1 AND p.created_at >= ?2 AND p.created_at < ?3",                                 \
	            "r.merchant_id = ?1 AND r.created_at >= ?2 AND r.created_at < ?3", "2, 5")
	static const struct store_sql lines = {MERCHANT_TRADES, MERCHANT_TRADES};
	int rc = bill_writer_header(w, e);
	if (!rc)
		rc = bill_writer_lines(w, store_query_many(st, &lines, "ttt", m->no, p->since, p->until), e);
	return rc ? rc : bill_writer_total(w, e);
}

/* The fund bill: each movement of one of the merchant's accounts. */
static int fund_bill(struct store *st, const struct merchant *m, const struct period *p, struct bill_writer *w,
                     struct err *e)
{
	static const enum account_kind kinds[] = {ACCOUNT_PENDING, ACCOUNT_DEPOSIT, ACCOUNT_PAYOUT};
	static const char *const names[] = {"pending", "deposit", "payout"};
	char ids[3][ACCOUNT_ID_MAX];
	int64_t balance[3];
	for (int i = 0; i < 3; i++) {
		ledger_account_id(kinds[i], m->id, ids[i]);
		/* The balance before the day: today's, less every movement since. */
		struct store_stmt *q =
		    store_query(st,
		                "SELECT COALESCE(SUM(CASE WHEN to_account = ?1 THEN amount ELSE -amount END), 0)"
		                " FROM transfers WHERE (from_account = ?1 OR to_account = ?1) AND created_at >= ?2",
		                "tt", ids[i], p->since);
		int64_t since = store_step(q) == STORE_ROW ? store_col_int(q, 0) : 0;
		store_done(q);
		balance[i] = ledger_balance(st, kinds[i], m->id) - since;
	}
	int rc = header(w, w->o->zh ? fund_zh : fund_en, F_COLUMNS, e);
#define FUND_LINES                                                                                                     \
	"SELECT created_at, id, ref, kind, from_account, to_account, amount FROM transfers"                            \
	" WHERE (from_account IN (?1, ?2, ?3) OR to_account IN (?1, ?2, ?3))"                                          \
	" AND created_at >= ?4 AND created_at < ?5 ORDER BY created_at, id"
	static const struct store_sql fund_lines = {FUND_LINES, FUND_LINES};
	struct store_stmt *q = store_query_many(st, &fund_lines, "ttttt", ids[0], ids[1], ids[2], p->since, p->until);
	int64_t in_total = 0, out_total = 0, lines = 0;
	while (!rc && store_step(q) == STORE_ROW) {
		const char *from = store_col_text(q, 4), *to = store_col_text(q, 5);
		int64_t amount = store_col_int(q, 6);
		/* A move between two of its accounts is a line for each. */
		for (int side = 0; side < 2 && !rc; side++) {
			const char *acct = side ? to : from, *other = side ? from : to;
			int i = 0;
			while (i < 3 && strcmp(ids[i], acct) != 0)
				i++;
			if (i == 3)
				continue;
			int64_t in = side ? amount : 0, outgo = side ? 0 : amount;
			if (!add(&balance[i], in - outgo) || !add(&in_total, in) || !add(&out_total, outgo)) {
				rc = err_fail(e, EX_DATAERR, "sum_overflow",
				              "the fund bill's totals pass 2^63-1 minor units; bill a shorter day");
				break;
			}
			lines++;
			if (w->o->format == BILL_JSONL) {
				rc = emit_json(w,
				               json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s, s:I, s:I, s:I, s:s}",
				                         "type", "fund_line", "time", store_col_text(q, 0), "id",
				                         store_col_text(q, 1), "ref", store_col_text(q, 2), "kind",
				                         store_col_text(q, 3), "account", names[i], "other", other,
				                         "in", (json_int_t)in, "out", (json_int_t)outgo, "balance",
				                         (json_int_t)balance[i], "currency", m->currency),
				               e);
				continue;
			}
			for (int c = 0; c < 4; c++)
				field(w, store_col_text(q, c), false);
			field(w, names[i], false);
			field(w, other, false);
			money_field(w, in, false);
			money_field(w, outgo, false);
			money_field(w, balance[i], false);
			field(w, m->currency, true);
			rc = end_line(w, store_col_text(q, 1), e);
		}
	}
	if (rc) {
		store_done(q);
		return rc;
	}
	if (w->o->format == BILL_JSONL)
		return emit_json(w,
		                 json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "type", "fund_total", "lines",
		                           (json_int_t)lines, "in", (json_int_t)in_total, "out", (json_int_t)out_total,
		                           "pending", (json_int_t)balance[0], "deposit", (json_int_t)balance[1],
		                           "payout", (json_int_t)balance[2], "currency", m->currency),
		                 e);
	field(w, NULL, false);
	field(w, NULL, false);
	field(w, NULL, false);
	field(w, "total", false);
	field(w, NULL, false);
	field(w, NULL, false);
	money_field(w, in_total, false);
	money_field(w, out_total, false);
	field(w, NULL, false);
	field(w, m->currency, true);
	return end_line(w, "total", e);
}

int bills_write(struct store *st, const char *merchant, const char *date, const struct bill_opts *o, FILE *f,
                struct err *e)
{
	struct merchant m;
	char tz[PERIOD_TZ_MAX];
	int cutoff, rc;
	struct period p;
	if ((rc = bills_check_opts(o, e)) != 0)
		return rc;
	if ((rc = period_ledger_zone(st, tz, &cutoff, e)) != 0)
		return rc;
	if ((rc = period_business_day("--date", date, cutoff, &p, e)) != 0)
		return rc;
	if (merchants_load(st, merchant, &m, e))
		return EX_NOINPUT;
	struct bill_writer *w = bill_writer_new(f, o, m.currency);
	/* One snapshot: the fund bill's opening balances (today's, less what
	 * moved since) and its lines must not see a payment committed between
	 * two of their statements. */
	store_begin_read(st);
	rc = o->kind == BILL_FUND ? fund_bill(st, &m, &p, w, e) : trade_bill(st, &m, &p, w, e);
	store_rollback(st); /* nothing was written */
	bill_writer_free(w);
	if (!rc && (fflush(f) != 0 || ferror(f)))
		rc = err_fail(e, EX_IOERR, "io", "cannot write the bill: %s", strerror(errno));
	return rc;
}

struct file_args {
	struct store *st;
	const char *merchant, *date;
	const struct bill_opts *o;
};

static int fill_file(FILE *f, void *arg, struct err *e)
{
	struct file_args *a = arg;
	return bills_write(a->st, a->merchant, a->date, a->o, f, e);
}

int bills_write_file(struct store *st, const char *merchant, const char *date, const struct bill_opts *o,
                     const char *path, struct err *e)
{
	struct outfiles of;
	outfiles_init(&of);
	struct file_args a = {st, merchant, date, o};
	/* 0644 less the umask: a bill is for the merchant's accountants. */
	int rc = outfiles_write(&of, path, 0644, fill_file, &a, e);
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (!slash)
		strlcopy(dir, ".", strlen(path) + 1);
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	rc = outfiles_finish(&of, dir, rc, e);
	free(dir);
	return rc;
}
