/* lists: see lists.h. */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "accounts.h"
#include "cli.h"
#include "clock.h"
#include "ctx.h"
#include "ids.h"
#include "ledger.h"
#include "lists.h"
#include "merchants.h"
#include "period.h"
#include "records.h"

#include "util.h"

/* Rows a page reads: PostgreSQL hands a statement's whole answer over at
 * once, so a page bounds the memory a list takes there. */
#define PAGE_ROWS 4096
/* An id's time and its record's created_at are one clock read a moment
 * apart, or the id's later (ids never go back within a process): a
 * period's id bounds are widened by a day, and created_at decides. */
#define ID_SLACK_MS (86400 * 1000LL)

/*
 * Every list statement takes the same parameters: ?1 < id < ?2,
 * ?3 <= created_at < ?4, ?5 state (orders) or order (payments, refunds),
 * ?6 merchant number, ?7 buyer uid, ?8 rows. A NULL filter matches all.
 * Each list has a statement per filter that leads it, so that filter's
 * index (merchant_id, id) or (buyer, id) hands rows over in id order.
 */
#define ORDER_COLS                                                                                                     \
	"SELECT id, merchant_id, out_trade_no, amount, currency, subject, buyer, origin, reference, request_no, "      \
	"state,"                                                                                                       \
	" close_reason, refunded, expires_at, created_at, paid_at, closed_at, product, quantity, terminal_id"          \
	" FROM orders"                                                                                                 \
	" WHERE id > ?1 AND id < ?2"                                                                                   \
	" AND created_at >= ?3 AND created_at < ?4 AND (?5 IS NULL OR state = ?5)"
static const char *const order_sql[] = {
    ORDER_COLS " AND (?6 IS NULL OR merchant_id = ?6) AND (?7 IS NULL OR buyer = ?7) ORDER BY id LIMIT ?8",
    ORDER_COLS " AND merchant_id = ?6 AND (?7 IS NULL OR buyer = ?7) ORDER BY id LIMIT ?8",
    ORDER_COLS " AND buyer = ?7 AND (?6 IS NULL OR merchant_id = ?6) ORDER BY id LIMIT ?8",
};

#define PAYMENT_COLS                                                                                                   \
	"SELECT p.id, p.order_id, p.merchant_id, o.out_trade_no, p.amount, p.fee, p.currency, p.wallet_id,"            \
	" p.source_account, p.buyer, p.created_at, p.discount, p.promo_id, pr.sponsor, p.card_brand, p.card_type,"     \
	" p.card_issuer, o.terminal_id FROM payments p JOIN orders o ON o.id = p.order_id"                             \
	" LEFT JOIN promos pr ON pr.id = p.promo_id"                                                                   \
	" WHERE p.id > ?1 AND p.id < ?2 AND p.created_at >= ?3 AND p.created_at < ?4"
static const char *const payment_sql[] = {
    PAYMENT_COLS " AND (?5 IS NULL OR p.order_id = ?5) AND (?6 IS NULL OR p.merchant_id = ?6)"
                 " AND (?7 IS NULL OR p.buyer = ?7) ORDER BY p.id LIMIT ?8",
    PAYMENT_COLS " AND p.merchant_id = ?6 AND (?5 IS NULL OR p.order_id = ?5) AND (?7 IS NULL OR p.buyer = ?7)"
                 " ORDER BY p.id LIMIT ?8",
    PAYMENT_COLS " AND p.buyer = ?7 AND (?5 IS NULL OR p.order_id = ?5) AND (?6 IS NULL OR p.merchant_id = ?6)"
                 " ORDER BY p.id LIMIT ?8",
    PAYMENT_COLS " AND p.order_id = ?5 AND (?6 IS NULL OR p.merchant_id = ?6) AND (?7 IS NULL OR p.buyer = ?7)"
                 " ORDER BY p.id LIMIT ?8",
};

#define REFUND_COLS                                                                                                    \
	"SELECT r.id, r.order_id, r.merchant_id, o.out_trade_no, r.out_request_no, r.amount, r.fee_returned,"          \
	" p.currency, p.source_account, r.funded_from, r.reason, r.created_at, r.discount_returned FROM refunds r"     \
	" JOIN orders o ON o.id = r.order_id JOIN payments p ON p.id = r.payment_id"                                   \
	" WHERE r.id > ?1 AND r.id < ?2 AND r.created_at >= ?3 AND r.created_at < ?4"
static const char *const refund_sql[] = {
    REFUND_COLS " AND (?5 IS NULL OR r.order_id = ?5) AND (?6 IS NULL OR r.merchant_id = ?6)"
                " AND (?7 IS NULL OR p.buyer = ?7) ORDER BY r.id LIMIT ?8",
    REFUND_COLS " AND r.merchant_id = ?6 AND (?5 IS NULL OR r.order_id = ?5) AND (?7 IS NULL OR p.buyer = ?7)"
                " ORDER BY r.id LIMIT ?8",
    REFUND_COLS " AND (?5 IS NULL OR r.order_id = ?5) AND (?6 IS NULL OR r.merchant_id = ?6)"
                " AND p.buyer = ?7 ORDER BY r.id LIMIT ?8",
    REFUND_COLS " AND r.order_id = ?5 AND (?6 IS NULL OR r.merchant_id = ?6) AND (?7 IS NULL OR p.buyer = ?7)"
                " ORDER BY r.id LIMIT ?8",
};

/* A wallet's transfers, both ways, merged in id order. The constant
 * substr() terms are those of the partial indexes (schema v6), so that
 * both engines take them. ?1 the account, ?2 < id < ?3, ?4 rows. */
static const char statement_sql[] =
    "SELECT id, kind, from_account, to_account, amount, currency, ref, idem_key, created_at FROM ("
    " SELECT * FROM transfers WHERE substr(from_account, 1, 7) = 'wallet:' AND from_account = ?1"
    " AND id > ?2 AND id < ?3"
    " UNION ALL"
    " SELECT * FROM transfers WHERE substr(to_account, 1, 7) = 'wallet:' AND to_account = ?1"
    " AND id > ?2 AND id < ?3) t ORDER BY id LIMIT ?4";
static const char opening_sql[] =
    "SELECT (SELECT COALESCE(SUM(amount), 0) FROM transfers WHERE substr(to_account, 1, 7) = 'wallet:'"
    " AND to_account = ?1 AND id <= ?2) - (SELECT COALESCE(SUM(amount), 0) FROM transfers"
    " WHERE substr(from_account, 1, 7) = 'wallet:' AND from_account = ?1 AND id <= ?2)";

struct bounds {
	char lo[ID_MAX], hi[ID_MAX]; /* lo < id < hi */
	struct period p;
	const char *since, *until; /* created_at bounds, never NULL */
};

static const char *const kind_prefix[] = {"ord", "pay", "ref", "tr"};
static const char *const kind_word[] = {"an order", "a payment", "a refund", "a transfer"};

static int make_bounds(struct store *st, const struct list_query *q, struct bounds *b, struct err *e)
{
	const char *prefix = kind_prefix[q->kind];
	b->since = "", b->until = "~"; /* '~' sorts after every digit */
	bufprintf(b->lo, sizeof b->lo, "%s_", prefix);
	bufprintf(b->hi, sizeof b->hi, "%s_~", prefix);
	if (q->since || q->until) {
		char tz[PERIOD_TZ_MAX];
		int cutoff, rc;
		if ((rc = period_ledger_zone(st, tz, &cutoff, e)) || (rc = period_parse(q->since, q->until, &b->p, e)))
			return rc;
		int64_t ms;
		if (*b->p.since) {
			b->since = b->p.since;
			if (clock_parse(b->p.since, &ms))
				ids_at(prefix, ms - ID_SLACK_MS, b->lo);
		}
		if (*b->p.until) {
			b->until = b->p.until;
			if (clock_parse(b->p.until, &ms))
				ids_at(prefix, ms + ID_SLACK_MS, b->hi);
		}
	}
	if (q->after) {
		if (!ids_valid(q->after, prefix))
			return err_fail(e, EX_USAGE, "bad_field", "--after '%.60s' is not %s id (%s_...)", q->after,
			                kind_word[q->kind], prefix);
		if (strcmp(q->after, b->lo) > 0)
			strlcopy(b->lo, q->after, sizeof b->lo);
	}
	return 0;
}

static bool print_order(struct store_stmt *r, struct rec_buf *b)
{
	char merchant[MERCHANT_REF_MAX], buyer[USER_REF_MAX], expires[CLOCK_TEXT_MAX];
	clock_format(store_col_int(r, 13), expires);
	rec_obj_begin(b);
	rec_obj_str(b, "type", "order");
	rec_obj_str(b, "id", store_col_text(r, 0));
	rec_obj_str(b, "merchant", ids_merchant(store_col_text(r, 1), merchant));
	rec_obj_str(b, "out_trade_no", store_col_text(r, 2));
	rec_obj_int(b, "amount", store_col_int(r, 3));
	rec_obj_str(b, "currency", store_col_text(r, 4));
	rec_obj_str(b, "subject", store_col_text(r, 5));
	rec_obj_str(b, "buyer", ids_user(store_col_text(r, 6), buyer));
	rec_obj_str(b, "origin", store_col_text(r, 7));
	rec_obj_str_opt(b, "reference", store_col_text(r, 8));
	rec_obj_str_opt(b, "request_no", store_col_text(r, 9));
	rec_obj_str(b, "state", store_col_text(r, 10));
	rec_obj_str(b, "close_reason", store_col_text(r, 11));
	rec_obj_int(b, "refunded", store_col_int(r, 12));
	rec_obj_str(b, "expires_at", expires);
	rec_obj_str(b, "created_at", store_col_text(r, 14));
	rec_obj_str(b, "paid_at", store_col_text(r, 15));
	rec_obj_str(b, "closed_at", store_col_text(r, 16));
	if (!store_col_null(r, 17)) { /* as orders_json: only on an order from a product code */
		rec_obj_str(b, "product", store_col_text(r, 17));
		rec_obj_int(b, "quantity", store_col_int(r, 18));
	}
	if (!store_col_null(r, 19))
		rec_obj_str(b, "terminal", store_col_text(r, 19));
	rec_obj_end(b);
	return rec_emit_text(b);
}

static bool print_payment(struct store_stmt *r, struct rec_buf *b)
{
	char merchant[MERCHANT_REF_MAX], buyer[USER_REF_MAX];
	rec_obj_begin(b);
	rec_obj_str(b, "type", "payment");
	rec_obj_str(b, "id", store_col_text(r, 0));
	rec_obj_str(b, "order", store_col_text(r, 1));
	rec_obj_str(b, "merchant", ids_merchant(store_col_text(r, 2), merchant));
	rec_obj_str(b, "out_trade_no", store_col_text(r, 3));
	rec_obj_int(b, "amount", store_col_int(r, 4));
	rec_obj_int(b, "fee", store_col_int(r, 5));
	rec_obj_str(b, "currency", store_col_text(r, 6));
	rec_obj_str(b, "wallet", store_col_text(r, 7));
	rec_obj_str(b, "source", store_col_text(r, 8));
	rec_obj_str(b, "buyer", ids_user(store_col_text(r, 9), buyer));
	rec_obj_str(b, "paid_at", store_col_text(r, 10));
	if (!store_col_null(r, 17))
		rec_obj_str(b, "terminal", store_col_text(r, 17));
	/* As a query shows it (payment_json): the card, the promotion and
	 * what the buyer paid. */
	if (!store_col_null(r, 14)) {
		rec_obj_open(b, "card");
		rec_obj_str(b, "brand", store_col_text(r, 14));
		rec_obj_str(b, "type", store_col_null(r, 15) ? "unknown" : store_col_text(r, 15));
		rec_obj_str(b, "issuer", store_col_null(r, 16) ? NULL : store_col_text(r, 16));
		rec_obj_close(b);
	}
	if (!store_col_null(r, 12) && !store_col_null(r, 13)) {
		char acct[ACCOUNT_ID_MAX];
		ledger_account_id(ACCOUNT_SPONSOR, store_col_text(r, 13), acct);
		rec_obj_open(b, "promotion");
		rec_obj_str(b, "id", store_col_text(r, 12));
		rec_obj_str(b, "sponsor", store_col_text(r, 13));
		rec_obj_str(b, "sponsor_account", acct);
		rec_obj_int(b, "discount", store_col_int(r, 11));
		rec_obj_close(b);
		rec_obj_int(b, "paid", store_col_int(r, 4) - store_col_int(r, 11));
	}
	rec_obj_end(b);
	return rec_emit_text(b);
}

static bool print_refund(struct store_stmt *r, struct rec_buf *b)
{
	char merchant[MERCHANT_REF_MAX];
	rec_obj_begin(b);
	rec_obj_str(b, "type", "refund");
	rec_obj_str(b, "id", store_col_text(r, 0));
	rec_obj_str(b, "order", store_col_text(r, 1));
	rec_obj_str(b, "merchant", ids_merchant(store_col_text(r, 2), merchant));
	rec_obj_str(b, "out_trade_no", store_col_text(r, 3));
	rec_obj_str(b, "out_request_no", store_col_text(r, 4));
	rec_obj_int(b, "amount", store_col_int(r, 5));
	rec_obj_int(b, "fee_returned", store_col_int(r, 6));
	rec_obj_str(b, "currency", store_col_text(r, 7));
	rec_obj_str(b, "to", store_col_text(r, 8));
	rec_obj_str(b, "from", store_col_text(r, 9));
	rec_obj_str(b, "reason", store_col_text(r, 10));
	rec_obj_str(b, "created_at", store_col_text(r, 11));
	if (store_col_int(r, 12) > 0) /* as refund_json: only where a promotion paid part */
		rec_obj_int(b, "discount_returned", store_col_int(r, 12));
	rec_obj_end(b);
	return rec_emit_text(b);
}

static const char *const order_states[] = {"created", "paid", "closed", "finished"};

/* The filters, checked against the ledger: the merchant's number and the
 * buyer's uid as the tables keep them. */
static int check_filters(struct store *st, const struct list_query *q, char merchant_no[MERCHANT_NO_MAX + 1],
                         const char **uid, struct err *e)
{
	if (q->state) {
		bool known = false;
		for (size_t i = 0; i < ARRAY_LEN(order_states); i++)
			known |= strcmp(q->state, order_states[i]) == 0;
		if (!known)
			return err_fail(e, EX_USAGE, "bad_field",
			                "--state '%.40s' is not an order's state (created, paid, closed, finished)",
			                q->state);
	}
	if (q->order && !ids_valid(q->order, "ord"))
		return err_fail(e, EX_USAGE, "bad_field", "--order '%.60s' is not an order id (ord_...)", q->order);
	if (q->merchant) {
		struct merchant m;
		if (merchants_load(st, q->merchant, &m, e))
			return ERR_FAIL;
		strlcopy(merchant_no, m.no, MERCHANT_NO_MAX + 1);
	}
	if (q->buyer) {
		*uid = ids_uid(q->buyer);
		struct store_stmt *r = store_query(st, "SELECT 1 FROM users WHERE uid = ?", "t", *uid);
		bool found = store_step(r) == STORE_ROW;
		store_done(r);
		if (!found)
			return err_fail(e, ERR_FAIL, "not_found", "no user '%.64s'", *uid);
	}
	if (q->order) {
		struct store_stmt *r = store_query(st, "SELECT 1 FROM orders WHERE id = ?", "t", q->order);
		bool found = store_step(r) == STORE_ROW;
		store_done(r);
		if (!found)
			return err_fail(e, ERR_FAIL, "not_found", "no order '%.60s'", q->order);
	}
	return 0;
}

static int list_records(struct store *st, const struct list_query *q, struct bounds *bd, struct err *e)
{
	char merchant[MERCHANT_NO_MAX + 1];
	const char *uid = NULL;
	int rc = check_filters(st, q, merchant, &uid, e);
	if (rc)
		return rc;
	const char *mno = q->merchant ? merchant : NULL;
	const char *fifth = q->kind == LIST_ORDERS ? q->state : q->order;
	const char *sql;
	bool (*print)(struct store_stmt *, struct rec_buf *);
	/* The most selective filter leads. */
	int lead = q->kind != LIST_ORDERS && q->order ? 3 : mno ? 1 : uid ? 2 : 0;
	switch (q->kind) {
	case LIST_ORDERS: sql = order_sql[lead], print = print_order; break;
	case LIST_PAYMENTS: sql = payment_sql[lead], print = print_payment; break;
	default: sql = refund_sql[lead], print = print_refund; break;
	}
	struct rec_buf b = {0};
	long long printed = 0;
	rc = 0;
	for (;;) {
		long long want = PAGE_ROWS;
		if (q->limit && q->limit - printed < want)
			want = q->limit - printed;
		if (want <= 0)
			break;
		struct store_stmt *r = store_query(st, sql, "ttttttti", bd->lo, bd->hi, bd->since, bd->until, fifth,
		                                   mno, uid, (int64_t)want);
		long long got = 0;
		while (store_step(r) == STORE_ROW) {
			got++;
			strlcopy(bd->lo, store_col_text(r, 0), sizeof bd->lo);
			if (!print(r, &b)) {
				store_done(r);
				rc = EX_IOERR; /* lists_main says so */
				goto out;
			}
		}
		printed += got;
		/* What a page read goes out before the next page is asked for. */
		if (!rec_flush()) {
			rc = EX_IOERR;
			break;
		}
		if (got < want)
			break;
	}
out:
	rec_buf_free(&b);
	return rc;
}

/* The order a wallet's transfer belongs to, and its payment or refund:
 * a payment's transfers name the order (ref); a refund's key is
 * "refund:<order>:<out_request_no>". */
static void movement_subject(struct store *st, const char *kind, const char *ref, const char *key, char order[ID_MAX],
                             char subject[ID_MAX])
{
	*order = *subject = '\0';
	struct store_stmt *r = NULL;
	if (strcmp(kind, "payment") == 0 && ref) {
		strlcopy(order, ref, ID_MAX);
		r = store_query(st, "SELECT id FROM payments WHERE order_id = ?", "t", order);
	} else if (strcmp(kind, "refund") == 0 && strncmp(key, "refund:", 7) == 0) {
		const char *colon = strchr(key + 7, ':');
		if (!colon || (size_t)(colon - (key + 7)) >= ID_MAX)
			return;
		memcpy(order, key + 7, (size_t)(colon - (key + 7)));
		order[colon - (key + 7)] = '\0';
		r = store_query(st, "SELECT id FROM refunds WHERE order_id = ? AND out_request_no = ?", "tt", order,
		                colon + 1);
	}
	if (!r)
		return;
	if (store_step(r) == STORE_ROW)
		strlcopy(subject, store_col_text(r, 0), ID_MAX);
	store_done(r);
}

static int statement(struct store *st, const struct list_query *q, struct bounds *bd, struct err *e)
{
	char wallet[ID_MAX], account[ACCOUNT_ID_MAX];
	if (accounts_wallet_ref(st, q->wallet, wallet, e))
		return ERR_FAIL;
	ledger_account_id(ACCOUNT_WALLET, wallet, account);
	/* The balance after each line is that of every transfer up to its id,
	 * in id order: the page walks all of them from the period's first id,
	 * printing those inside it. */
	struct store_stmt *r = store_query(st, opening_sql, "tt", account, bd->lo);
	store_step(r);
	int64_t balance = store_col_int(r, 0);
	store_done(r);
	struct rec_buf b = {0};
	long long printed = 0;
	int rc = 0;
	char last[ID_MAX];
	for (bool more = true; more;) {
		r = store_query(st, statement_sql, "ttti", account, bd->lo, bd->hi, (int64_t)PAGE_ROWS);
		long long got = 0;
		while (store_step(r) == STORE_ROW) {
			got++;
			strlcopy(last, store_col_text(r, 0), sizeof last);
			bool in = strcmp(store_col_text(r, 3), account) == 0;
			int64_t amount = store_col_int(r, 4) * (in ? 1 : -1);
			balance += amount;
			const char *at = store_col_text(r, 8);
			if (strcmp(at, bd->since) < 0 || strcmp(at, bd->until) >= 0)
				continue;
			char order[ID_MAX], subject[ID_MAX];
			const char *kind = store_col_text(r, 1);
			movement_subject(st, kind, store_col_text(r, 6), store_col_text(r, 7), order, subject);
			rec_obj_begin(&b);
			rec_obj_str(&b, "type", "movement");
			rec_obj_str(&b, "id", last);
			rec_obj_str(&b, "wallet", wallet);
			rec_obj_str(&b, "kind", kind);
			rec_obj_int(&b, "amount", amount);
			rec_obj_str(&b, "currency", store_col_text(r, 5));
			rec_obj_str(&b, "other", store_col_text(r, in ? 2 : 3));
			rec_obj_str_opt(&b, "order", *order ? order : NULL);
			rec_obj_str_opt(&b, strcmp(kind, "refund") == 0 ? "refund" : "payment",
			                *subject ? subject : NULL);
			rec_obj_str_opt(&b, "ref", store_col_text(r, 6));
			if (strcmp(kind, "wallet_transfer") == 0) {
				/* What the sender wrote, for both sides. */
				struct store_stmt *n = store_query(
				    st, "SELECT note FROM wallet_transfers WHERE transfer_id = ? AND note IS NOT NULL",
				    "t", last);
				if (store_step(n) == STORE_ROW)
					rec_obj_str(&b, "note", store_col_text(n, 0));
				store_done(n);
			}
			rec_obj_str(&b, "at", at);
			rec_obj_int(&b, "balance", balance);
			rec_obj_end(&b);
			if (!rec_emit_text(&b)) {
				store_done(r);
				rc = EX_IOERR; /* lists_main says so */
				goto out;
			}
			if (q->limit && ++printed == q->limit) {
				store_done(r);
				goto out;
			}
		}
		more = got == PAGE_ROWS;
		if (!rec_flush()) {
			rc = EX_IOERR;
			break;
		}
		if (got)
			strlcopy(bd->lo, last, sizeof bd->lo);
	}
out:
	rec_buf_free(&b);
	return rc;
}

int lists_print(struct store *st, const struct list_query *q, struct err *e)
{
	struct bounds bd;
	store_begin_read(st);
	int rc = make_bounds(st, q, &bd, e);
	if (rc == 0)
		rc = q->kind == LIST_STATEMENT ? statement(st, q, &bd, e) : list_records(st, q, &bd, e);
	store_rollback(st); /* nothing was written */
	return rc;
}

enum {
	OPT_MERCHANT = OPT_FIRST_PROGRAM_OPTION,
	OPT_BUYER,
	OPT_ORDER,
	OPT_STATE,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_LIMIT,
	OPT_AFTER
};

static const struct option list_options[] = {
    CLI_COMMON_OPTIONS,
    {"merchant", required_argument, NULL, OPT_MERCHANT},
    {"buyer", required_argument, NULL, OPT_BUYER},
    {"order", required_argument, NULL, OPT_ORDER},
    {"state", required_argument, NULL, OPT_STATE},
    {"since", required_argument, NULL, OPT_SINCE},
    {"until", required_argument, NULL, OPT_UNTIL},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"after", required_argument, NULL, OPT_AFTER},
    {NULL, 0, NULL, 0},
};

/* Which filters each list takes. */
static const bool takes[4][OPT_AFTER - OPT_MERCHANT + 1] = {
    [LIST_ORDERS] = {true, true, false, true, true, true, true, true},
    [LIST_PAYMENTS] = {true, true, true, false, true, true, true, true},
    [LIST_REFUNDS] = {true, true, true, false, true, true, true, true},
    [LIST_STATEMENT] = {false, false, false, false, true, true, true, true},
};

bool lists_is_command(int argc, char **argv, const char *word1, const char *word2)
{
	/* The first operand, past the options before it: those of a list
	 * that take a value take the next word (--db path, --buyer uid). */
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			for (const struct option *o = list_options; o->name; o++)
				if (o->has_arg == required_argument && strncmp(argv[i], "--", 2) == 0 &&
				    strcmp(argv[i] + 2, o->name) == 0)
					i++;
			continue;
		}
		return strcmp(argv[i], word1) == 0 && (!word2 || (i + 1 < argc && strcmp(argv[i + 1], word2) == 0));
	}
	return false;
}

int lists_main(const char *usage, enum list_kind kind, int argc, char **argv)
{
	struct list_query q = {.kind = kind};
	int opt, longindex = 0;
	while ((opt = getopt_long(argc, argv, "h", list_options, &longindex)) != -1) {
		if (cli_common_option(opt, usage))
			continue;
		if (!takes[kind][opt - OPT_MERCHANT])
			cli_usage_error(usage, "--%s does not go with this list", list_options[longindex].name);
		switch (opt) {
		case OPT_MERCHANT: q.merchant = optarg; break;
		case OPT_BUYER: q.buyer = optarg; break;
		case OPT_ORDER: q.order = optarg; break;
		case OPT_STATE: q.state = optarg; break;
		case OPT_SINCE: q.since = optarg; break;
		case OPT_UNTIL: q.until = optarg; break;
		case OPT_LIMIT: q.limit = cli_number(usage, "--limit", optarg, 1, LIST_LIMIT_MAX); break;
		case OPT_AFTER: q.after = optarg; break;
		}
	}
	int words = kind == LIST_STATEMENT ? 2 : 1, operands = argc - optind - words;
	if (operands != (kind == LIST_STATEMENT ? 1 : 0))
		cli_usage_error(usage,
		                kind == LIST_STATEMENT ? "a statement is of one wallet" : "list takes no operands");
	if (kind == LIST_STATEMENT)
		q.wallet = argv[optind + words];
	struct wpay_ctx c;
	ctx_open(&c);
	rec_writer_init();
	rec_writer_stream();
	struct err e = {0};
	int rc = lists_print(c.st, &q, &e);
	if (rc != 0 && rc != EX_IOERR) {
		/* As a failed record: its code on stdout, the sentence on stderr. */
		json_t *rec = rec_error_record(&e, NULL);
		rec_emit(rec);
		json_decref(rec);
		cli_record_warn(&e, NULL, 0);
	}
	ctx_close(&c);
	if (!rec_writer_close() && rc == 0)
		rc = EX_IOERR;
	if (rc == EX_IOERR)
		err_warn("cannot write the list: standard output failed");
	return rc == ERR_FAIL ? EX_RECORDS : rc;
}
