/* orders: see orders.h. */
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "clock.h"
#include "codes.h"
#include "emv.h"
#include "ledger.h"
#include "merchants.h"
#include "money.h"
#include "orders.h"
#include "products.h"
#include "schemes.h"
#include "terminals.h"
#include "uris.h"
#include "utf8.h"

#include "util.h"

#define DEFAULT_TTL_MS (2 * 3600 * 1000LL)

json_t *orders_json(struct store *st, const char *id)
{
	struct store_stmt *q =
	    store_query(st,
	                "SELECT id, merchant_id, out_trade_no, amount, currency, subject, buyer, origin,"
	                " state, close_reason, refunded, expires_at, created_at, paid_at, closed_at, reference,"
	                " request_no, product, quantity, terminal_id FROM orders WHERE id = ?",
	                "t", id);
	json_t *o = NULL;
	if (store_step(q) == STORE_ROW) {
		char merchant[MERCHANT_REF_MAX], expires[CLOCK_TEXT_MAX], buyer[USER_REF_MAX];
		ids_merchant(store_col_text(q, 1), merchant);
		clock_format(store_col_int(q, 11), expires);
		/* reference and request_no only where the order has them. */
		o = json_pack(
		    "{s:s, s:s, s:s, s:s, s:I, s:s, s:s?, s:s?, s:s, s:s*, s:s*, s:s, s:s?, s:I, s:s, s:s, s:s?, s:s?}",
		    "type", "order", "id", store_col_text(q, 0), "merchant", merchant, "out_trade_no",
		    store_col_text(q, 2), "amount", (json_int_t)store_col_int(q, 3), "currency", store_col_text(q, 4),
		    "subject", store_col_text(q, 5), "buyer", ids_user(store_col_text(q, 6), buyer), "origin",
		    store_col_text(q, 7), "reference", store_col_text(q, 15), "request_no", store_col_text(q, 16),
		    "state", store_col_text(q, 8), "close_reason", store_col_text(q, 9), "refunded",
		    (json_int_t)store_col_int(q, 10), "expires_at", expires, "created_at", store_col_text(q, 12),
		    "paid_at", store_col_text(q, 13), "closed_at", store_col_text(q, 14));
		if (!store_col_null(q, 17)) {
			json_object_set_new(o, "product", json_string(store_col_text(q, 17)));
			json_object_set_new(o, "quantity", json_integer(store_col_int(q, 18)));
		}
		if (!store_col_null(q, 19))
			json_object_set_new(o, "terminal", json_string(store_col_text(q, 19)));
	}
	store_done(q);
	return o;
}

int orders_ref(struct store *st, json_t *req, char id[ID_MAX], struct err *e)
{
	const char *order = NULL, *merchant = NULL, *no = NULL;
	/* An order record passed along a pipeline names itself by "id". */
	const char *type = json_string_value(json_object_get(req, "type"));
	if (rec_get_str(req, type && strcmp(type, "order") == 0 && !json_object_get(req, "order") ? "id" : "order",
	                false, 0, &order, e) ||
	    rec_get_str(req, "merchant", false, 0, &merchant, e) || rec_get_str(req, "out_trade_no", false, 0, &no, e))
		return ERR_FAIL;
	struct store_stmt *q;
	if (order)
		q = store_query(st, "SELECT id, merchant_id, out_trade_no FROM orders WHERE id = ?", "t", order);
	else if (merchant && no)
		q = store_query(
		    st, "SELECT id, merchant_id, out_trade_no FROM orders WHERE merchant_id = ? AND out_trade_no = ?",
		    "tt", ids_merchant_no(merchant), no);
	else
		return err_fail(e, ERR_FAIL, "missing_field",
		                "name the order: 'order' (ord_...), or 'merchant' and 'out_trade_no'");
	bool found = store_step(q) == STORE_ROW;
	/* An order named by id and by merchant (or out_trade_no) too must be
	 * that merchant's: a request that names one merchant never reaches
	 * another's order, and is told no more than that it has none. */
	bool foreign = found && order &&
	               ((merchant && strcmp(store_col_text(q, 1), ids_merchant_no(merchant)) != 0) ||
	                (no && strcmp(store_col_text(q, 2), no) != 0));
	if (foreign) {
		store_done(q);
		if (merchant)
			return err_fail(e, ERR_FAIL, "not_found", "merchant %.40s has no order '%.60s'", merchant,
			                order);
		return err_fail(e, ERR_FAIL, "not_found", "no order '%.60s' with out_trade_no '%.64s'", order, no);
	}
	if (found) {
		strlcopy(id, store_col_text(q, 0), ID_MAX);
		char m[MERCHANT_REF_MAX];
		batch_identify("order", id);
		batch_identify("merchant", ids_merchant(store_col_text(q, 1), m));
		batch_identify("out_trade_no", store_col_text(q, 2));
	}
	store_done(q);
	if (found)
		return 0;
	if (order)
		return err_fail(e, ERR_FAIL, "not_found", "no order '%.60s'", order);
	struct merchant m;
	if (merchants_load(st, merchant, &m, e))
		return ERR_FAIL;
	return err_fail(e, ERR_FAIL, "not_found", "merchant %s has no order '%.64s'", m.id, no);
}

struct new_order {
	const struct merchant *merchant;
	const char *out_trade_no, *subject, *buyer, *origin;
	const char *request_no; /* the buyer's key, for an order the buyer starts */
	const char *reference;  /* a dynamic code's reference (62.05) */
	const char *product;    /* a product code's SKU; out_trade_no is then the order's id */
	const char *terminal;   /* the merchant's terminal it is for (62.07), or NULL */
	int64_t amount, expires_at, quantity;
};

/* The buyer's order: its out_trade_no is its own id, which nobody can
 * steer into the merchant's numbers; the buyer's request_no keys it. */
static int place_for_buyer(struct store *st, const struct new_order *o, char id[ID_MAX], const char *now, struct err *e)
{
	char quantity[24];
	bufprintf(quantity, sizeof quantity, "%lld", (long long)o->quantity);
	enum store_result r = store_exec(
	    st,
	    "INSERT INTO orders(id, merchant_id, out_trade_no, amount, currency, subject, buyer, origin, expires_at,"
	    " created_at, request_no, reference, product, quantity, terminal_id)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	    " ON CONFLICT(buyer, request_no) WHERE request_no IS NOT NULL DO NOTHING",
	    "tttittttittttnt", id, o->merchant->no, id, o->amount, o->merchant->currency, o->subject, o->buyer,
	    o->origin, o->expires_at, now, o->request_no, o->reference, o->product, o->product ? quantity : NULL,
	    o->terminal);
	if (r == STORE_CONSTRAINT) /* the merchant already has this id as an out_trade_no */
		return err_fail(e, ERR_FAIL, "conflict", "%s already has an out_trade_no %s; send the request again",
		                o->merchant->id, id);
	if (store_changes(st) > 0)
		return 0;
	struct store_stmt *q = store_query(
	    st,
	    "SELECT id, merchant_id = ? AND reference IS NOT DISTINCT FROM ? AND product IS NOT DISTINCT FROM ?"
	    " AND CASE WHEN product IS NULL THEN amount = ? ELSE quantity = ? END FROM orders"
	    " WHERE buyer = ? AND request_no = ?",
	    "tttiitt", o->merchant->no, o->reference, o->product, o->amount, o->quantity, o->buyer, o->request_no);
	store_step(q);
	strlcopy(id, store_col_text(q, 0), ID_MAX);
	bool same = store_col_int(q, 1);
	store_done(q);
	if (same)
		return 0;
	char buyer[USER_REF_MAX];
	ids_user(o->buyer, buyer);
	return err_fail(e, ERR_FAIL, "conflict",
	                "request_no %s of %s is order %s, for another merchant or amount; use a new request_no",
	                o->request_no, buyer, id);
}

/* Insert, or find the same order again: 0, or -1 with a conflict. */
static int place(struct store *st, const struct new_order *o, json_t **out, struct err *e)
{
	char id[ID_MAX], now[CLOCK_TEXT_MAX];
	ids_new("ord", id);
	clock_format(clock_now_ms(), now);
	if (o->request_no) {
		if (place_for_buyer(st, o, id, now, e))
			return ERR_FAIL;
		*out = orders_json(st, id);
		return 0;
	}
	char quantity[24];
	bufprintf(quantity, sizeof quantity, "%lld", (long long)o->quantity);
	/* A product code's scan with no request_no: always a new order, named by its own id. */
	store_exec(st,
	           "INSERT INTO orders(id, merchant_id, out_trade_no, amount, currency, subject, buyer, origin,"
	           " expires_at, created_at, reference, product, quantity, terminal_id)"
	           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	           " ON CONFLICT(merchant_id, out_trade_no) DO NOTHING",
	           "tttittttitttnt", id, o->merchant->no, o->product ? id : o->out_trade_no, o->amount,
	           o->merchant->currency, o->subject, o->buyer, o->origin, o->expires_at, now, o->reference, o->product,
	           o->product ? quantity : NULL, o->terminal);
	if (store_changes(st) == 0) {
		struct store_stmt *q = store_query(st,
		                                   "SELECT id, amount, buyer IS NOT DISTINCT FROM ? OR ? IS NULL FROM "
		                                   "orders WHERE merchant_id = ? AND out_trade_no = ?",
		                                   "tttt", o->buyer, o->buyer, o->merchant->no, o->out_trade_no);
		store_step(q);
		strlcopy(id, store_col_text(q, 0), sizeof id);
		bool same = store_col_int(q, 1) == o->amount && store_col_int(q, 2);
		store_done(q);
		if (!same)
			return err_fail(
			    e, ERR_FAIL, "conflict",
			    "out_trade_no %s of %s is order %s, for another amount or buyer; use a new out_trade_no",
			    o->out_trade_no, o->merchant->id, id);
	}
	*out = orders_json(st, id);
	return 0;
}

static int get_buyer(struct store *st, json_t *req, const char *fallback, const char **uid, struct err *e)
{
	const char *b = fallback;
	if (rec_get_str(req, "buyer", false, 0, &b, e))
		return ERR_FAIL;
	*uid = NULL;
	if (!b)
		return 0;
	*uid = ids_uid(b);
	struct store_stmt *q = store_query(st, "SELECT 1 FROM users WHERE uid = ?", "t", *uid);
	bool found = store_step(q) == STORE_ROW;
	store_done(q);
	return found ? 0 : err_fail(e, ERR_FAIL, "not_found", "no user '%.64s'", *uid);
}

static int get_out_trade_no(json_t *req, bool required, const char **no, struct err *e)
{
	if (rec_get_str(req, "out_trade_no", required, 0, no, e))
		return ERR_FAIL;
	if (*no && !rec_valid_key(*no, OUT_TRADE_NO_MAX))
		return err_fail(e, ERR_FAIL, "bad_field", "out_trade_no '%.80s' must be 1 to %d letters, digits or '_'",
		                *no, OUT_TRADE_NO_MAX);
	return 0;
}

int orders_create(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	struct new_order o = {.origin = "api"};
	const char *merchant, *currency = NULL, *expires_in = NULL;
	struct merchant m;
	if (rec_get_str(req, "merchant", true, 0, &merchant, e) || merchants_load(c->st, merchant, &m, e) ||
	    merchants_check_approved(&m, "take orders", e) || get_out_trade_no(req, true, &o.out_trade_no, e) ||
	    rec_get_amount(req, &o.amount, e) || rec_get_str(req, "currency", false, 3, &currency, e) ||
	    rec_get_str(req, "subject", false, ORDER_SUBJECT_MAX, &o.subject, e) ||
	    rec_get_str(req, "expires_in", false, 16, &expires_in, e) || get_buyer(c->st, req, NULL, &o.buyer, e) ||
	    terminals_get(c->st, req, &m, &o.terminal, e))
		return BATCH_FAIL;
	if (o.subject && utf8_has_control(o.subject))
		return err_fail(e, ERR_FAIL, "bad_field", "subject has a control character");
	if (currency && strcmp(currency, m.currency) != 0)
		return err_fail(e, ERR_FAIL, "currency_mismatch", "the amount is in %s but merchant %s takes %s",
		                currency, m.id, m.currency);
	int64_t ttl = DEFAULT_TTL_MS;
	if (expires_in && (!clock_parse_duration(expires_in, &ttl) || ttl < 60000 || ttl > 15LL * 86400000))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "expires_in '%s' must be a duration from 1m to 15d such as 30m", expires_in);
	o.merchant = &m;
	o.expires_at = clock_now_ms() + ttl;
	return place(c->st, &o, out, e) ? BATCH_FAIL : BATCH_OK;
}

/* The key of an order the buyer starts: a buyer and the buyer's
 * request_no, never the merchant's out_trade_no. what names the code,
 * for the messages. */
static int buyer_key(json_t *req, const struct order_defaults *d, const char *what, struct new_order *o, struct err *e)
{
	json_t *otn = json_object_get(req, "out_trade_no");
	if (otn && !json_is_null(otn))
		return err_fail(
		    e, ERR_FAIL, "bad_field",
		    "out_trade_no '%.64s' belongs to the merchant; a buyer names an order from %s by request_no",
		    json_is_string(otn) ? json_string_value(otn) : "...", what);
	if (!o->buyer)
		return err_fail(e, ERR_FAIL, "missing_field",
		                "an order from %s is the buyer's: give --buyer u:<uid> or a 'buyer' field", what);
	o->request_no = d->request_no;
	if (rec_get_str(req, "request_no", false, 0, &o->request_no, e))
		return ERR_FAIL;
	if (!o->request_no)
		return err_fail(e, ERR_FAIL, "missing_field",
		                "an order from %s needs the buyer's request number (--request-no or 'request_no') so a "
		                "replay cannot order twice",
		                what);
	if (!rec_valid_key(o->request_no, REQUEST_NO_MAX))
		return err_fail(e, ERR_FAIL, "bad_field", "request_no '%.80s' must be 1 to %d letters, digits or '_'",
		                o->request_no, REQUEST_NO_MAX);
	return 0;
}

static int expired(int64_t expires_ms, struct err *e)
{
	char t[CLOCK_TEXT_MAX];
	clock_format(expires_ms, t);
	return err_fail(e, ERR_FAIL, "code_expired", "the code expired at %s; ask the merchant for a new one", t);
}

/* A dynamic code: amount and reference from the code. One this ledger made
 * is checked against the stored code whether it is signed or not, and its
 * reference is the merchant's out_trade_no. One it never made (unsigned,
 * as only --allow-unsigned lets through) is the buyer's order: its
 * reference may be a number the merchant has yet to issue, so it stays a
 * reference and never becomes an out_trade_no. */
static int from_dynamic(struct wpay_ctx *c, const struct order_defaults *d, json_t *req, const struct emv_payload *p,
                        const struct code_check *cc, const struct currency *currency, struct new_order *o,
                        struct err *e)
{
	const struct emv_object *amt = emv_find(p, "54"), *ref = emv_find_sub(emv_find(p, "62"), "05");
	if (money_parse(amt->value, currency, false, &o->amount) || o->amount <= 0 || !ref)
		return err_fail(e, ERR_FAIL, "bad_code",
		                "a code with an amount needs a valid amount above zero and a reference (62.05)");
	o->reference = ref->value;
	o->origin = "dynamic_code";
	const struct emv_object *tid = emv_find_sub(emv_find(p, "62"), "07");
	struct store_stmt *q =
	    store_query(c->st,
	                "SELECT amount, currency, expires_at, terminal_id IS NOT DISTINCT FROM ? FROM codes"
	                " WHERE merchant_id = ? AND reference = ?",
	                "ttt", tid ? tid->value : NULL, o->merchant->no, ref->value);
	bool made = store_step(q) == STORE_ROW, same_terminal = true;
	int64_t made_amount = 0, made_expires = 0;
	char made_currency[8] = "";
	if (made) {
		made_amount = store_col_int(q, 0);
		strlcopy(made_currency, store_col_text(q, 1), sizeof made_currency);
		if (!clock_parse(store_col_text(q, 2), &made_expires))
			made_expires = 0; /* unreadable: as good as expired */
		same_terminal = store_col_int(q, 3);
	}
	store_done(q);
	/* Another machine's label on this code would send its sale there. */
	if (made && !same_terminal)
		return err_fail(e, ERR_FAIL, "bad_code", "%s made code %s for another terminal, or none, than it names",
		                o->merchant->id, ref->value);
	if (made) {
		if (made_amount != o->amount || strcmp(made_currency, currency->alpha) != 0) {
			const struct currency *mc = currency_find(made_currency);
			char want[MONEY_TEXT_MAX], got[MONEY_TEXT_MAX];
			money_format(made_amount, mc ? mc : currency, want);
			money_format(o->amount, currency, got);
			return err_fail(e, ERR_FAIL, "bad_code",
			                "%s made code %s for %s %s, not %s %s; only that code pays %s", o->merchant->id,
			                ref->value, want, made_currency, got, currency->alpha, ref->value);
		}
		if (clock_now_ms() >= made_expires)
			return expired(made_expires, e);
		if (!rec_valid_key(ref->value, OUT_TRADE_NO_MAX))
			return err_fail(e, ERR_FAIL, "bad_code", "the code's reference '%s' cannot be an out_trade_no",
			                ref->value);
		o->out_trade_no = ref->value;
		o->expires_at = made_expires;
		return 0;
	}
	if (strcmp(cc->signature, "valid") == 0)
		return err_fail(e, ERR_FAIL, "bad_code", "the code is signed, but %s made no code %s", o->merchant->id,
		                ref->value);
	if (utf8_has_control(ref->value))
		return err_fail(e, ERR_FAIL, "bad_code", "the code's reference has a control character");
	o->expires_at = clock_now_ms() + DEFAULT_TTL_MS;
	return buyer_key(req, d, "a code this ledger did not make", o, e);
}

/* A static code: the buyer says how much, and names the request. */
static int from_static(const struct order_defaults *d, json_t *req, const struct currency *currency,
                       struct new_order *o, struct err *e)
{
	if (json_object_get(req, "amount")) {
		if (rec_get_amount(req, &o->amount, e))
			return ERR_FAIL;
	} else if (d->amount_text) {
		const char *why = money_parse(d->amount_text, currency, false, &o->amount);
		if (why || o->amount == 0)
			return err_fail(e, ERR_FAIL, "bad_amount", "--amount '%s': %s", d->amount_text,
			                why ? why : "must be above zero");
	} else {
		return err_fail(e, ERR_FAIL, "missing_field",
		                "a static code has no amount: give --amount or an 'amount' field");
	}
	o->origin = "static_code";
	o->expires_at = clock_now_ms() + DEFAULT_TTL_MS;
	return buyer_key(req, d, "a static code", o, e);
}

/* A product code: the price is the catalog's now, times the quantity. The
 * buyer's request_no is optional: with one, a replay answers the same
 * order; without, every scan is a new order. */
static int from_product(struct wpay_ctx *c, const struct order_defaults *d, json_t *req, const struct emv_payload *p,
                        struct new_order *o, struct product *prod, struct err *e)
{
	const struct emv_object *sku = emv_find_sub(emv_find(p, CODE_META_ID), CODE_META_PRODUCT),
	                        *ref = emv_find_sub(emv_find(p, "62"), "05");
	if (emv_find(p, "54") || !ref || strcmp(ref->value, sku->value) != 0)
		return err_fail(e, ERR_FAIL, "bad_code",
		                "a product code has no amount and names its product in 62.05 and 89.03 alike");
	o->quantity = d->quantity ? d->quantity : 1;
	json_t *qv = json_object_get(req, "quantity");
	if (qv && (!json_is_integer(qv) || json_integer_value(qv) < 1 || json_integer_value(qv) > PRODUCT_QUANTITY_MAX))
		return err_fail(e, ERR_FAIL, "bad_field", "quantity must be a whole number from 1 to %d",
		                PRODUCT_QUANTITY_MAX);
	if (qv)
		o->quantity = json_integer_value(qv);
	batch_identify("product", sku->value);
	json_t *otn = json_object_get(req, "out_trade_no");
	if (otn && !json_is_null(otn))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "out_trade_no belongs to the merchant; the ledger names an order from a product code");
	if (!o->buyer)
		return err_fail(e, ERR_FAIL, "missing_field",
		                "an order from a product code is the buyer's: give --buyer u:<uid> or a 'buyer' field");
	o->request_no = d->request_no;
	if (rec_get_str(req, "request_no", false, 0, &o->request_no, e))
		return ERR_FAIL;
	if (o->request_no && !rec_valid_key(o->request_no, REQUEST_NO_MAX))
		return err_fail(e, ERR_FAIL, "bad_field", "request_no '%.80s' must be 1 to %d letters, digits or '_'",
		                o->request_no, REQUEST_NO_MAX);
	o->product = sku->value;
	o->origin = "product_code";
	/* A replay answers the order made (place_for_buyer compares product
	 * and quantity), whatever the catalog says now: sold out, removed or
	 * dearer since. */
	if (o->request_no) {
		/* The row the insert then meets must still keep the table's checks. */
		struct store_stmt *q =
		    store_query(c->st, "SELECT amount FROM orders WHERE buyer = ? AND request_no = ?", "tt", o->buyer,
		                o->request_no);
		bool made = store_step(q) == STORE_ROW;
		o->amount = made ? store_col_int(q, 0) : 0;
		store_done(q);
		o->expires_at = clock_now_ms() + DEFAULT_TTL_MS;
		if (made)
			return 0;
	}
	if (products_for_order(c->st, o->merchant, sku->value, o->quantity, prod, e))
		return ERR_FAIL;
	if (prod->price > MONEY_MAX / o->quantity)
		return err_fail(e, ERR_FAIL, "bad_amount",
		                "%lld units of %s cost more than the limit of %lld minor units", (long long)o->quantity,
		                sku->value, (long long)MONEY_MAX);
	o->amount = prod->price * o->quantity;
	o->subject = prod->name;
	o->expires_at = clock_now_ms() + DEFAULT_TTL_MS;
	return 0;
}

/* "wpay, alipay, wechat": the networks this ledger serves, for messages. */
static const char *served(const struct networks *nw)
{
	static char list[NETWORKS_MAX * 26];
	list[0] = '\0';
	for (int i = 0; i < nw->count; i++)
		bufprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", nw->n[i].name);
	return list;
}

int orders_from_scan(struct wpay_ctx *c, const struct order_defaults *d, json_t *req, json_t **out, struct err *e)
{
	const char *text;
	if (rec_get_str(req, "text", true, 0, &text, e))
		return BATCH_FAIL;
	/* Nothing the record says about its checks is taken on trust. */
	struct code_kind kind;
	uris_kind(text, &kind);
	if (kind.network)
		return err_fail(e, ERR_FAIL, "foreign_code",
		                "this is a %s code, paid only in %s; this ledger serves EMV codes of %s", kind.network,
		                kind.network, served(&c->networks));
	struct emv_payload p;
	struct emv_error pe;
	if (strcmp(kind.format, "emv") != 0)
		return err_fail(e, ERR_FAIL, "bad_code", "not a payment code: it is %s, not an EMV payload",
		                strcmp(kind.format, "url") == 0 ? "a web address" : "plain text");
	if (emv_parse(text, EMV_LENIENT, &p, &pe) != 0)
		return err_fail(e, ERR_FAIL, "bad_code", "not a payable EMV code: %s (%s)", pe.msg, pe.category);
	int rc = BATCH_FAIL;
	struct code_check cc;
	codes_check(text, &p, c->public_keys, NULL, clock_now_ms(), &cc);
	struct scheme_verdict verdict;
	const struct emv_object *account_tmpl;
	schemes_check_payable(&p, &c->networks, &account_tmpl, &verdict);
	const char *account = account_tmpl ? emv_find_sub(account_tmpl, "01")->value : NULL;
	if (!account && verdict.nnames) {
		err_fail(e, ERR_FAIL, "foreign_code", "this is a %s code: this ledger serves %s, not %s",
		         verdict.names[0], served(&c->networks), verdict.names[0]);
		goto out;
	}
	if (p.chars > EMV_MAX_CHARS) {
		err_fail(e, ERR_FAIL, "bad_code", "the code is %d characters, longer than EMV's %d; refusing it",
		         p.chars, EMV_MAX_CHARS);
		goto out;
	}
	/* Lenient reading takes another format in 00 (DuitNow's 02) to explain
	 * it; no code this ledger pays says anything but EMV's 01. */
	const struct emv_object *format = emv_find(&p, "00");
	if (strcmp(format->value, "01") != 0) {
		err_fail(e, ERR_FAIL, "bad_code", "the payload format (00) is '%s', not EMV's 01; refusing it",
		         format->value);
		goto out;
	}
	if (!schemes_valid(&verdict)) {
		const struct scheme_finding *f = &verdict.broken[0];
		err_fail(e, ERR_FAIL, "scheme_rule", "the code breaks a rule of %s: %s (%s; rule %s, %s)",
		         f->rule->scheme, f->rule->says, f->found, f->rule->rule, f->rule->source);
		goto out;
	}
	/* An error about this code names its merchant and reference. */
	const struct emv_object *ref62 = emv_find_sub(emv_find(&p, "62"), "05");
	if (account && !utf8_has_control(account)) {
		char *mref = ids_merchant_dup(account);
		batch_identify("merchant", mref);
		free(mref);
	}
	if (ref62 && !utf8_has_control(ref62->value))
		batch_identify("reference", ref62->value);
	struct merchant m;
	const struct emv_object *cur53 = emv_find(&p, "53");
	struct new_order o = {0};
	if (strcmp(cc.signature, "valid") != 0 && !(d->allow_unsigned && strcmp(cc.signature, "absent") == 0)) {
		err_fail(e, ERR_FAIL, strcmp(cc.signature, "absent") == 0 ? "unsigned_code" : "bad_signature",
		         "the code's signature is %s%s%s; refusing it", cc.signature, cc.why ? ": " : "",
		         cc.why ? cc.why : "");
		goto out;
	}
	if (cc.expired) {
		expired(cc.expires_ms, e);
		goto out;
	}
	if (!account) {
		err_fail(e, ERR_FAIL, "unknown_merchant", "the code names no merchant of a network this ledger serves");
		goto out;
	}
	if (merchants_load(c->st, account, &m, e) || merchants_check_approved(&m, "take orders", e))
		goto out;
	const struct currency *currency = cur53 ? currency_find(cur53->value) : NULL;
	if (!currency || strcmp(currency->alpha, m.currency) != 0) {
		err_fail(e, ERR_FAIL, "currency_mismatch", "the code is in currency %s, merchant %s takes %s",
		         cur53 ? cur53->value : "?", m.id, m.currency);
		goto out;
	}
	o.merchant = &m, o.subject = m.name;
	if (get_buyer(c->st, req, d->buyer, &o.buyer, e))
		goto out;
	/* A code for one of the merchant's terminals: the order is that terminal's. */
	const struct emv_object *tid = emv_find_sub(emv_find(&p, "62"), "07");
	if (tid) {
		if (!terminals_valid_id(tid->value)) {
			err_fail(e, ERR_FAIL, "bad_code",
			         "the code's terminal label (62.07) is not 1 to %d letters, digits, '_', '-' or '.'",
			         TERMINAL_ID_MAX);
			goto out;
		}
		if (terminals_check(c->st, &m, tid->value, e))
			goto out;
		o.terminal = tid->value;
	}
	/* Only a signed code is a product's: an unsigned one may say anything. */
	struct product prod;
	bool product =
	    strcmp(cc.signature, "valid") == 0 && emv_find_sub(emv_find(&p, CODE_META_ID), CODE_META_PRODUCT);
	if (product              ? from_product(c, d, req, &p, &o, &prod, e)
	    : emv_find(&p, "54") ? from_dynamic(c, d, req, &p, &cc, currency, &o, e)
	                         : from_static(d, req, currency, &o, e))
		goto out;
	if (place(c->st, &o, out, e) == 0)
		rc = BATCH_OK;
out:
	emv_free(&p);
	return rc;
}

int orders_query(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char id[ID_MAX];
	const char *payment = NULL;
	json_t *order = json_object_get(req, "order");
	/* A payment names its order too: what a buyer's receipt shows. */
	if (json_is_string(order) && ids_is(json_string_value(order), "pay"))
		payment = json_string_value(order);
	else if (rec_get_str(req, "payment", false, 0, &payment, e))
		return BATCH_FAIL;
	if (payment) {
		struct store_stmt *q = store_query(c->st, "SELECT order_id FROM payments WHERE id = ?", "t", payment);
		bool found = store_step(q) == STORE_ROW;
		if (found)
			strlcopy(id, store_col_text(q, 0), sizeof id);
		store_done(q);
		if (!found)
			return err_fail(e, ERR_FAIL, "not_found", "no payment '%.60s'", payment);
		*out = orders_json(c->st, id);
		return BATCH_OK;
	}
	if (orders_ref(c->st, req, id, e))
		return BATCH_FAIL;
	*out = orders_json(c->st, id);
	return BATCH_OK;
}

int orders_close(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char id[ID_MAX], now[CLOCK_TEXT_MAX];
	if (orders_ref(c->st, req, id, e))
		return BATCH_FAIL;
	clock_format(clock_now_ms(), now);
	store_exec(c->st,
	           "UPDATE orders SET state = 'closed', close_reason = 'closed', closed_at = ? WHERE id = ?"
	           " AND state = 'created'",
	           "tt", now, id);
	*out = orders_json(c->st, id);
	const char *state = json_string_value(json_object_get(*out, "state"));
	if (strcmp(state, "closed") != 0)
		return err_fail(e, ERR_FAIL, "not_closable",
		                "order %s is %s; only an unpaid order can be closed (refund a paid one)", id, state);
	return BATCH_OK;
}

int64_t orders_refund_window_days(struct store *st)
{
	char *window = store_setting(st, "refund_window_days", "90");
	int64_t days = strtoll(window, NULL, 10);
	free(window);
	return days;
}

int orders_expire(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	(void)req, (void)e;
	int64_t now = clock_now_ms();
	char text[CLOCK_TEXT_MAX], cutoff[CLOCK_TEXT_MAX];
	clock_format(now, text);
	clock_format(now - orders_refund_window_days(c->st) * 86400000LL, cutoff);
	store_exec(c->st,
	           "UPDATE orders SET state = 'closed', close_reason = 'expired', closed_at = ? WHERE state = 'created'"
	           " AND expires_at <= ?",
	           "ti", text, now);
	int64_t closed = store_changes(c->st);
	store_exec(c->st, "UPDATE orders SET state = 'finished' WHERE state = 'paid' AND paid_at <= ?", "t", cutoff);
	int64_t finished = store_changes(c->st);
	*out = json_pack("{s:s, s:I, s:I, s:s}", "type", "expire", "closed", (json_int_t)closed, "finished",
	                 (json_int_t)finished, "at", text);
	return BATCH_OK;
}
