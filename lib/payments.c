/* payments: see payments.h. */
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "batch.h"
#include "clock.h"
#include "crypto.h"
#include "events.h"
#include "ledger.h"
#include "merchants.h"
#include "money.h"
#include "orders.h"
#include "payments.h"
#include "pins.h"
#include "products.h"
#include "promos.h"
#include "terminals.h"
#include "utf8.h"

#include "util.h"

int64_t payments_fee(int64_t amount, int64_t ppm)
{
	/* amount <= 10^15 and ppm <= 10^5: the product needs 128 bits. */
	__int128 v = (__int128)amount * ppm + 500000;
	return (int64_t)(v / 1000000);
}

/* A card payment's "card", and with a promotion "promotion" and what the
 * buyer "paid"; takes the references to card and promotion. */
static void payment_extras(json_t *o, int64_t amount, int64_t discount, json_t *card, json_t *promotion)
{
	if (card)
		json_object_set_new(o, "card", card);
	if (promotion) {
		json_object_set_new(o, "promotion", promotion);
		json_object_set_new(o, "paid", json_integer(amount - discount));
	}
}

static json_t *payment_json(struct store *st, const char *order_id)
{
	struct store_stmt *q = store_query(
	    st,
	    "SELECT p.id, p.order_id, p.merchant_id, o.out_trade_no, p.amount, p.fee,"
	    " p.currency, p.wallet_id, p.source_account, p.buyer, p.created_at, p.discount, p.promo_id, pr.sponsor,"
	    " p.card_brand, p.card_type, p.card_issuer, o.terminal_id"
	    " FROM payments p JOIN orders o ON o.id = p.order_id LEFT JOIN promos pr ON pr.id = p.promo_id"
	    " WHERE p.order_id = ?",
	    "t", order_id);
	json_t *o = NULL;
	if (store_step(q) == STORE_ROW) {
		char merchant[MERCHANT_REF_MAX], buyer[USER_REF_MAX];
		ids_merchant(store_col_text(q, 2), merchant);
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s?, s:s}", "type", "payment", "id",
		              store_col_text(q, 0), "order", store_col_text(q, 1), "merchant", merchant, "out_trade_no",
		              store_col_text(q, 3), "amount", (json_int_t)store_col_int(q, 4), "fee",
		              (json_int_t)store_col_int(q, 5), "currency", store_col_text(q, 6), "wallet",
		              store_col_text(q, 7), "source", store_col_text(q, 8), "buyer",
		              ids_user(store_col_text(q, 9), buyer), "paid_at", store_col_text(q, 10));
		if (!store_col_null(q, 17))
			json_object_set_new(o, "terminal", json_string(store_col_text(q, 17)));
		payment_extras(
		    o, store_col_int(q, 4), store_col_int(q, 11),
		    promos_card_json(store_col_text(q, 14), store_col_text(q, 15), store_col_text(q, 16)),
		    promos_promotion_json(store_col_text(q, 12), store_col_text(q, 13), store_col_int(q, 11)));
	}
	store_done(q);
	return o;
}

struct order_row {
	char id[ID_MAX], merchant[MERCHANT_NO_MAX + 1], out_trade_no[OUT_TRADE_NO_MAX + 1], currency[8], state[16];
	char buyer[UID_MAX + 1], name[128], reference[128],
	    request_no[REQUEST_NO_MAX + 1]; /* "" when the order has none */
	char product[PRODUCT_SKU_MAX + 1];  /* "" when the order is for no product */
	char terminal[TERMINAL_ID_MAX + 1]; /* "" when the order is for no terminal */
	int64_t amount, refunded, expires_at, fee_ppm, quantity;
	bool has_buyer, t0;
	bool approved; /* the merchant may be paid (merchants.h) */
};

#define ORDER_COLUMNS                                                                                                  \
	"SELECT o.id, o.merchant_id, o.out_trade_no, o.currency, o.state, o.buyer, o.amount, o.refunded,"              \
	" o.expires_at, m.fee_ppm, m.settlement, m.name, COALESCE(o.reference, ''), COALESCE(o.request_no, ''),"       \
	" CASE WHEN m.state = 'approved' THEN 1 ELSE 0 END, COALESCE(o.product, ''), COALESCE(o.quantity, 0),"         \
	" COALESCE(o.terminal_id, '') FROM orders o JOIN merchants m ON m.id = o.merchant_id "
#define LOAD_ORDER ORDER_COLUMNS "WHERE o.id = ?"
/* Locked until the commit: a payment or refund decides on the order's
 * state, so a second worker on the same order waits, then sees the first
 * one's outcome (SQLite has one writer at a time already). */
static const struct store_sql load_order_locked = {
    .sqlite = LOAD_ORDER,
    .postgresql = LOAD_ORDER " FOR NO KEY UPDATE OF o",
};
/* The orders of a batch, named in a JSON array. */
static const struct store_sql load_orders = {
    .sqlite = ORDER_COLUMNS "WHERE o.id IN (SELECT value FROM json_each(?))",
    /* An array, not IN (SELECT ...): the planner then walks the key's index. */
    .postgresql = ORDER_COLUMNS "WHERE o.id = ANY(ARRAY(SELECT json_array_elements_text(?::json)))",
};

static void order_from_row(struct store_stmt *q, struct order_row *o)
{
	strlcopy(o->id, store_col_text(q, 0), sizeof o->id);
	strlcopy(o->merchant, store_col_text(q, 1), sizeof o->merchant);
	strlcopy(o->out_trade_no, store_col_text(q, 2), sizeof o->out_trade_no);
	strlcopy(o->currency, store_col_text(q, 3), sizeof o->currency);
	strlcopy(o->state, store_col_text(q, 4), sizeof o->state);
	o->has_buyer = !store_col_null(q, 5);
	strlcopy(o->buyer, o->has_buyer ? store_col_text(q, 5) : "", sizeof o->buyer);
	o->amount = store_col_int(q, 6);
	o->refunded = store_col_int(q, 7);
	o->expires_at = store_col_int(q, 8);
	o->fee_ppm = store_col_int(q, 9);
	o->t0 = strcmp(store_col_text(q, 10), "T0") == 0;
	strlcopy(o->name, store_col_text(q, 11), sizeof o->name);
	strlcopy(o->reference, store_col_text(q, 12), sizeof o->reference);
	strlcopy(o->request_no, store_col_text(q, 13), sizeof o->request_no);
	o->approved = store_col_int(q, 14) != 0;
	strlcopy(o->product, store_col_text(q, 15), sizeof o->product);
	o->quantity = store_col_int(q, 16);
	strlcopy(o->terminal, store_col_text(q, 17), sizeof o->terminal);
}

/* The order id a request names outright ("order", or an order record's
 * own "id"), or NULL: the others are found by orders_ref. */
static const char *named_order(json_t *req)
{
	const char *named = json_string_value(json_object_get(req, "order"));
	const char *type = json_string_value(json_object_get(req, "type"));
	if (!named && type && strcmp(type, "order") == 0)
		named = json_string_value(json_object_get(req, "id"));
	return named && strlen(named) < ID_MAX ? named : NULL;
}

/* Orders read ahead for the batch (payments_prefetch), each taken once:
 * a second payment of the same order in the batch reads it again, after
 * what the first wrote. */
static struct {
	struct order_row *rows;
	size_t n, cap;
} ahead;

void payments_prefetch(struct wpay_ctx *c, json_t *requests)
{
	ahead.n = 0;
	json_t *ids = json_array();
	size_t i;
	json_t *req;
	json_array_foreach (requests, i, req) {
		const char *named = named_order(req);
		if (named)
			json_array_append_new(ids, json_string(named));
	}
	if (json_array_size(ids)) {
		char *list = json_dumps(ids, JSON_COMPACT);
		struct store_stmt *q = store_query_sql(c->st, &load_orders, "t", list);
		while (store_step(q) == STORE_ROW) {
			if (ahead.n == ahead.cap) {
				ahead.cap = ahead.cap ? 2 * ahead.cap : 128;
				ahead.rows = xrealloc(ahead.rows, ahead.cap * sizeof ahead.rows[0]);
			}
			order_from_row(q, &ahead.rows[ahead.n++]);
		}
		store_done(q);
		free(list);
	}
	json_decref(ids);
}

/* The order; locked, unless lock_free and writes are deferred: then a
 * payment's own conditional update (state still 'created', one row
 * expected) catches another worker's payment and dooms the batch, which
 * runs again with the lock. A lock is a write per order read. */
static int load_order(struct store *st, const char *id, struct order_row *o, bool lock_free)
{
	bool found = false;
	if (lock_free && store_deferring(st)) {
		for (size_t i = 0; i < ahead.n && !found; i++)
			if (strcmp(ahead.rows[i].id, id) == 0) {
				*o = ahead.rows[i];
				*ahead.rows[i].id = '\0';
				found = true;
			}
	}
	if (!found) {
		struct store_stmt *q = lock_free && store_deferring(st)
		                           ? store_query(st, LOAD_ORDER, "t", id)
		                           : store_query_sql(st, &load_order_locked, "t", id);
		found = store_step(q) == STORE_ROW;
		if (found)
			order_from_row(q, o);
		store_done(q);
	}
	if (found) {
		/* An error about this order names it as its merchant knows it. */
		char m[MERCHANT_REF_MAX];
		batch_identify("order", o->id);
		batch_identify("merchant", ids_merchant(o->merchant, m));
		batch_identify("out_trade_no", o->out_trade_no);
	}
	return found ? 0 : ERR_FAIL;
}

/* The PIN for this record: checked once per wallet in a run, unless every
 * record brings its own; BATCH_ASK while it has not been typed. */
static int check_pin(struct wpay_ctx *c, struct payer *p, const char *wallet, struct err *e)
{
	if (*p->code_wallet && strcmp(p->code_wallet, wallet) == 0)
		return BATCH_OK;
	if (!p->pin_each)
		for (int i = 0; i < p->nverified; i++)
			if (strcmp(p->verified[i], wallet) == 0)
				return BATCH_OK;
	if (!p->have_pin)
		return BATCH_ASK;
	int rc = pins_check(c, wallet, p->pin, e);
	if (rc == BATCH_OK && !p->pin_each && p->nverified < PAYERS_MAX)
		strlcopy(p->verified[p->nverified++], wallet, ID_MAX);
	return rc;
}

int payments_ask_pin(struct wpay_ctx *c, struct payer *p, struct err *e)
{
	payments_forget_pin(p);
	if (secret_read(&c->pins, "Payment PIN: ", p->pin, sizeof p->pin, e))
		return BATCH_FAIL;
	p->have_pin = true;
	return BATCH_OK;
}

void payments_forget_pin(struct payer *p)
{
	crypto_wipe(p->pin, sizeof p->pin);
	p->have_pin = false;
}

/* The ledger account the payment comes from, and the card's kind when
 * it is a card (card->brand "" otherwise). */
static int funding_account(struct store *st, const struct payer *p, json_t *req, const char *wallet,
                           char account[ACCOUNT_ID_MAX], struct promo_card *card, struct err *e)
{
	const char *source = p->source ? p->source : "wallet";
	memset(card, 0, sizeof *card);
	if (rec_get_str(req, "source", false, 0, &source, e))
		return ERR_FAIL;
	if (strcmp(source, "wallet") == 0) {
		ledger_account_id(ACCOUNT_WALLET, wallet, account);
		return 0;
	}
	struct store_stmt *q =
	    strcmp(source, "card") == 0
	        ? store_query(st,
	                      "SELECT c.id, c.brand, c.funding, c.bank, c.bin FROM wallets w JOIN cards c"
	                      " ON c.id = w.default_card WHERE w.id = ?",
	                      "t", wallet)
	        : store_query(st,
	                      "SELECT id, brand, funding, bank, bin FROM cards WHERE id = ? AND wallet_id = ?"
	                      " AND removed_at IS NULL",
	                      "tt", source, wallet);
	bool found = store_step(q) == STORE_ROW;
	if (found) {
		ledger_account_id(ACCOUNT_CARD, store_col_text(q, 0), account);
		strlcopy(card->brand, store_col_text(q, 1), sizeof card->brand);
		strlcopy(card->type, store_col_text(q, 2), sizeof card->type);
		card->has_issuer = !store_col_null(q, 3);
		strlcopy(card->issuer, card->has_issuer ? store_col_text(q, 3) : "", sizeof card->issuer);
		strlcopy(card->bin, store_col_text(q, 4), sizeof card->bin);
	}
	store_done(q);
	if (found)
		return 0;
	if (strcmp(source, "card") == 0)
		return err_fail(e, ERR_FAIL, "no_card",
		                "wallet %s has no default card; bind one or pay from the wallet", wallet);
	return err_fail(e, ERR_FAIL, "not_found", "'%.60s' is not 'wallet', 'card' or an active card of wallet %s",
	                source, wallet);
}

/* --follow and --share: the same on a first payment and on its replay. */
static void decorate(struct wpay_ctx *c, const struct payer *p, const struct order_row *o, const char *uid, json_t *out)
{
	char merchant[MERCHANT_REF_MAX];
	ids_merchant(o->merchant, merchant);
	if (p->follow && uid) {
		char now[CLOCK_TEXT_MAX];
		clock_format(clock_now_ms(), now);
		store_exec(c->st,
		           "INSERT INTO follows(uid, merchant_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
		           "ttt", uid, o->merchant, now);
		json_object_set_new(out, "following", json_string(merchant));
	}
	if (p->share) {
		char amount[MONEY_TEXT_MAX];
		const struct currency *cur = currency_find(o->currency);
		money_format(o->amount, cur ? cur : currency_default(), amount);
		char *text = xasprintf("I just paid %s %s at %s with #wpay", amount, o->currency, o->name);
		char *link = xasprintf("https://pay.weibo.example/m/%s", o->merchant);
		json_object_set_new(out, "share", json_pack("{s:s, s:s}", "text", text, "link", link));
		free(text);
		free(link);
	}
}

/* Can order o be paid now? 0 yes; 1 it was paid before, and *out is that
 * payment (nothing moves); ERR_FAIL no, with e filled in. */
static int payable(struct wpay_ctx *c, struct payer *p, const struct order_row *o, json_t **out, struct err *e)
{
	if (strcmp(o->state, "paid") == 0 || strcmp(o->state, "finished") == 0 ||
	    (strcmp(o->state, "closed") == 0 && o->refunded > 0)) {
		*out = payment_json(c->st, o->id);
		decorate(c, p, o, o->has_buyer ? o->buyer : NULL, *out);
		return 1;
	}
	if (strcmp(o->state, "closed") == 0)
		return err_fail(e, ERR_FAIL, "order_closed", "order %s is closed; the merchant must make a new one",
		                o->id);
	if (clock_now_ms() >= o->expires_at)
		return err_fail(e, ERR_FAIL, "order_expired", "order %s has expired; the merchant must make a new one",
		                o->id);
	return 0;
}

int payments_pay(struct wpay_ctx *c, struct payer *p, json_t *req, json_t **out, struct err *e)
{
	char id[ID_MAX], wallet[ID_MAX], account[ACCOUNT_ID_MAX], who[USER_REF_MAX];
	struct order_row o;
	if (json_object_get(req, "pin"))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "PINs are never taken from records; pass them with --pin-fd N");
	/* An order record names itself: load it straight away. */
	const char *named = named_order(req);
	if (named && load_order(c->st, named, &o, true) == 0)
		strlcopy(id, named, sizeof id);
	else if (orders_ref(c->st, req, id, e))
		return BATCH_FAIL;
	else if (load_order(c->st, id, &o, true))
		return err_fail(e, ERR_FAIL, "not_found", "no order '%s'", id);
	int decided = payable(c, p, &o, out, e);
	if (decided != 0)
		return decided < 0 ? BATCH_FAIL : BATCH_OK;
	if (!o.approved && merchants_check_approved_no(c->st, o.merchant, "be paid", e))
		return BATCH_FAIL;
	/* Who pays: --buyer, else the record's buyer, else the order's. */
	const char *buyer = NULL;
	if (rec_get_str(req, "buyer", false, 0, &buyer, e))
		return BATCH_FAIL;
	if (p->buyer)
		buyer = p->buyer;
	if (!buyer && o.has_buyer)
		buyer = o.buyer;
	if (!buyer)
		return err_fail(e, ERR_FAIL, "missing_field", "who pays? give --buyer u:<uid> or a 'buyer' field");
	const char *uid = ids_uid(buyer);
	if (!rec_valid_name(uid, UID_MAX, "_.-"))
		return err_fail(e, ERR_FAIL, "not_found", "no user '%.64s'", uid);
	ids_user(uid, who);
	if (o.has_buyer && strcmp(uid, o.buyer) != 0) {
		char owner[USER_REF_MAX];
		ids_user(o.buyer, owner);
		return err_fail(e, ERR_FAIL, "buyer_mismatch", "order %s is for %s, not %.64s", id, owner, who);
	}
	char wcur[8];
	int seen = -1;
	for (int i = 0; i < p->nwallets && seen < 0; i++)
		if (strcmp(p->wallets[i].uid, uid) == 0)
			seen = i;
	if (seen >= 0) {
		strlcopy(wallet, p->wallets[seen].wallet, sizeof wallet);
		strlcopy(wcur, p->wallets[seen].currency, sizeof wcur);
	} else {
		if (accounts_wallet_ref(c->st, who, wallet, e))
			return BATCH_FAIL;
		ledger_currency(c->st, ACCOUNT_WALLET, wallet, wcur);
		if (p->nwallets < PAYERS_MAX) {
			strlcopy(p->wallets[p->nwallets].uid, uid, sizeof p->wallets[0].uid);
			strlcopy(p->wallets[p->nwallets].wallet, wallet, ID_MAX);
			strlcopy(p->wallets[p->nwallets].currency, wcur, 8);
			p->nwallets++;
		}
	}
	batch_identify("wallet", wallet);
	if (strcmp(wcur, o.currency) != 0)
		return err_fail(e, ERR_FAIL, "currency_mismatch", "order %s is in %s but wallet %s holds %s", id,
		                o.currency, wallet, wcur);
	struct promo_card card;
	if (funding_account(c->st, p, req, wallet, account, &card, e))
		return BATCH_FAIL;
	unsigned long commits = store_commits(c->st);
	int rc = check_pin(c, p, wallet, e);
	if (rc != BATCH_OK)
		return rc;
	if (store_commits(c->st) != commits) {
		/* The PIN try was committed, and the order's lock let go with it:
		 * another worker may have paid or closed the order meanwhile. */
		if (load_order(c->st, id, &o, true))
			return err_fail(e, ERR_FAIL, "not_found", "no order '%s'", id);
		if ((decided = payable(c, p, &o, out, e)) != 0)
			return decided < 0 ? BATCH_FAIL : BATCH_OK;
	}

	char merchant[MERCHANT_REF_MAX];
	ids_merchant(o.merchant, merchant);
	int64_t fee = payments_fee(o.amount, o.fee_ppm);
	struct promo_hit promo = {.discount = 0};
	if (*card.brand)
		promos_take(c->st, &card, o.merchant, o.currency, uid, o.amount, &promo);
	/* The buyer's card and the sponsor pay the merchant the full price. */
	struct transfer t[3] = {
	    {.kind = "payment", .amount = o.amount - promo.discount, .currency = o.currency, .ref = id},
	    {.kind = "fee", .amount = fee, .currency = o.currency, .ref = id},
	    {.kind = "discount", .amount = promo.discount, .currency = o.currency, .ref = id}};
	bufprintf(t[0].key, sizeof t[0].key, "pay:%s", id);
	strlcopy(t[0].from, account, sizeof t[0].from);
	/* Made with the merchant: no need to ask the ledger on every payment. */
	ledger_account_id(ACCOUNT_PENDING, merchant, t[0].to);
	bufprintf(t[1].key, sizeof t[1].key, "fee:%s", id);
	strlcopy(t[1].from, t[0].to, sizeof t[1].from);
	ledger_account_id(ACCOUNT_FEES, o.currency, t[1].to);
	if (promo.discount) {
		bufprintf(t[2].key, sizeof t[2].key, "discount:%s", id);
		ledger_account_id(ACCOUNT_SPONSOR, promo.sponsor, t[2].from);
		strlcopy(t[2].to, t[0].to, sizeof t[2].to);
		if (fee == 0)
			t[1] = t[2];
	}
	if ((*o.product && products_take(c->st, o.merchant, o.product, o.quantity, e)) ||
	    ledger_post(c->st, t, 1 + (fee > 0) + (promo.discount > 0), LEDGER_FIRST, e) < 0)
		return BATCH_FAIL;
	char pid[ID_MAX];
	ids_new("pay", pid);
	store_write_many(
	    c->st, 1,
	    "INSERT INTO payments(id, order_id, merchant_id, wallet_id, buyer, source_account, amount, fee, currency,"
	    " created_at, discount, promo_id, card_brand, card_type, card_issuer)"
	    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    "ttttttiittitttt", pid, id, o.merchant, wallet, uid, account, o.amount, fee, o.currency, t[0].created_at,
	    promo.discount, promo.discount ? promo.id : NULL, *card.brand ? card.brand : NULL,
	    *card.brand ? card.type : NULL, card.has_issuer && *card.brand ? card.issuer : NULL);
	if (store_write(c->st, 1,
	                "UPDATE orders SET state = 'paid', paid_at = ?, buyer = COALESCE(buyer, ?) WHERE id = ?"
	                " AND state = 'created'",
	                "ttt", t[0].created_at, uid, id) == STORE_CONSTRAINT)
		return err_fail(e, ERR_FAIL, "not_found", "no user '%s'", uid); /* the buyer's foreign key */
	/* The same record payment_json reads back on a replay. */
	*out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s}", "type", "payment", "id", pid,
	                 "order", id, "merchant", merchant, "out_trade_no", o.out_trade_no, "amount",
	                 (json_int_t)o.amount, "fee", (json_int_t)fee, "currency", o.currency, "wallet", wallet,
	                 "source", account, "buyer", who, "paid_at", t[0].created_at);
	if (*o.terminal)
		json_object_set_new(*out, "terminal", json_string(o.terminal));
	json_t *card_o =
	    *card.brand ? promos_card_json(card.brand, card.type, card.has_issuer ? card.issuer : NULL) : NULL;
	json_t *promo_o = promo.discount ? promos_promotion_json(promo.id, promo.sponsor, promo.discount) : NULL;
	payment_extras(*out, o.amount, promo.discount, card_o, promo_o);
	/* The code's reference, the buyer's request_no and the terminal let a
	 * till that made the code, or took the buyer's number, match the
	 * payment. */
	json_t *body = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s*, s:s*, s:s*}", "merchant", merchant, "order",
	                         id, "out_trade_no", o.out_trade_no, "amount", (json_int_t)o.amount, "fee",
	                         (json_int_t)fee, "currency", o.currency, "paid_at", t[0].created_at, "reference",
	                         *o.reference ? o.reference : NULL, "request_no", *o.request_no ? o.request_no : NULL,
	                         "terminal", *o.terminal ? o.terminal : NULL);
	payment_extras(body, o.amount, promo.discount, json_incref(json_object_get(*out, "card")),
	               json_incref(json_object_get(*out, "promotion")));
	events_queue(c->st, o.merchant, "order.paid", pid, body);
	json_decref(body);
	decorate(c, p, &o, uid, *out);
	return BATCH_OK;
}

static json_t *refund_json(struct store *st, const char *id)
{
	struct store_stmt *q =
	    store_query(st,
	                "SELECT r.id, r.order_id, r.merchant_id, o.out_trade_no, r.out_request_no,"
	                " r.amount, r.fee_returned, p.currency, p.source_account, r.funded_from, r.reason,"
	                " r.created_at, o.refunded, o.state, r.discount_returned FROM refunds r JOIN orders o ON o.id ="
	                " r.order_id JOIN payments p ON p.id = r.payment_id WHERE r.id = ?",
	                "t", id);
	json_t *o = NULL;
	if (store_step(q) == STORE_ROW) {
		char merchant[MERCHANT_REF_MAX];
		ids_merchant(store_col_text(q, 2), merchant);
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s?, s:s}", "type", "refund",
		              "id", store_col_text(q, 0), "order", store_col_text(q, 1), "merchant", merchant,
		              "out_trade_no", store_col_text(q, 3), "out_request_no", store_col_text(q, 4), "amount",
		              (json_int_t)store_col_int(q, 5), "fee_returned", (json_int_t)store_col_int(q, 6),
		              "currency", store_col_text(q, 7), "to", store_col_text(q, 8), "from",
		              store_col_text(q, 9), "reason", store_col_text(q, 10), "created_at",
		              store_col_text(q, 11));
		/* Only where a promotion paid part: the discount going back to its sponsor. */
		if (store_col_int(q, 14) > 0)
			json_object_set_new(o, "discount_returned", json_integer(store_col_int(q, 14)));
	}
	store_done(q);
	return o;
}

int payments_refund_query(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	const char *request_no, *merchant = NULL, *no = NULL, *order = NULL;
	if (rec_get_str(req, "out_request_no", true, 0, &request_no, e) ||
	    rec_get_str(req, "merchant", false, 0, &merchant, e) ||
	    rec_get_str(req, "out_trade_no", false, 0, &no, e) || rec_get_str(req, "order", false, 0, &order, e))
		return BATCH_FAIL;
	char id[ID_MAX], rid[ID_MAX] = "";
	if (orders_ref(c->st, req, id, e)) {
		if (strcmp(e->code, "not_found") != 0)
			return BATCH_FAIL; /* an unknown merchant, a missing field */
		*id = '\0';
	}
	if (*id) {
		struct store_stmt *q = store_query(
		    c->st, "SELECT id FROM refunds WHERE order_id = ? AND out_request_no = ?", "tt", id, request_no);
		if (store_step(q) == STORE_ROW)
			strlcopy(rid, store_col_text(q, 0), sizeof rid);
		store_done(q);
	}
	if (*rid) {
		*out = refund_json(c->st, rid);
		return BATCH_OK;
	}
	if (order)
		return err_fail(e, ERR_FAIL, "not_found", "order %.60s has no refund out_request_no %.80s", order,
		                request_no);
	char m[MERCHANT_REF_MAX];
	return err_fail(e, ERR_FAIL, "not_found", "%s has no refund out_request_no %.80s of out_trade_no %.80s",
	                ids_merchant(ids_merchant_no(merchant), m), request_no, no);
}

int payments_refund(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char id[ID_MAX];
	const char *request_no, *reason = NULL, *currency = NULL;
	int64_t amount;
	struct order_row o;
	if (orders_ref(c->st, req, id, e) || rec_get_str(req, "out_request_no", true, 0, &request_no, e) ||
	    rec_get_amount(req, &amount, e) || rec_get_str(req, "currency", false, 3, &currency, e) ||
	    rec_get_str(req, "reason", false, 256, &reason, e))
		return BATCH_FAIL;
	if (!rec_valid_key(request_no, OUT_REQUEST_NO_MAX))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "out_request_no '%.80s' must be 1 to %d letters, digits or '_'", request_no,
		                OUT_REQUEST_NO_MAX);
	if (reason && utf8_has_control(reason))
		return err_fail(e, ERR_FAIL, "bad_field", "reason has a control character");
	load_order(c->st, id, &o, false);
	/* An amount typed as 5 means 5 yen, not 5.00 yuan: minor units of
	 * another currency are refused, never read in the order's. */
	if (currency && strcmp(currency, o.currency) != 0)
		return err_fail(e, ERR_FAIL, "currency_mismatch", "the amount is in %s but order %s is in %s", currency,
		                id, o.currency);
	/* Asked before: the same refund again, nothing moves. */
	struct store_stmt *q = store_query(
	    c->st, "SELECT id, amount FROM refunds WHERE order_id = ? AND out_request_no = ?", "tt", id, request_no);
	if (store_step(q) == STORE_ROW) {
		char rid[ID_MAX];
		strlcopy(rid, store_col_text(q, 0), sizeof rid);
		int64_t had = store_col_int(q, 1);
		store_done(q);
		if (had != amount)
			return err_fail(
			    e, ERR_FAIL, "idempotency_conflict",
			    "out_request_no %s of order %s refunded %lld, not %lld; use a new out_request_no",
			    request_no, id, (long long)had, (long long)amount);
		*out = refund_json(c->st, rid);
		return BATCH_OK;
	}
	store_done(q);
	if (strcmp(o.state, "finished") == 0)
		return err_fail(e, ERR_FAIL, "refund_window_over", "order %s is past its refund window", id);
	if (strcmp(o.state, "paid") == 0) {
		/* The window holds whether or not 'wpay order expire' has run. */
		int64_t days = orders_refund_window_days(c->st), paid_ms = 0;
		char paid_at[CLOCK_TEXT_MAX];
		q = store_query(c->st, "SELECT paid_at FROM orders WHERE id = ?", "t", id);
		store_step(q);
		strlcopy(paid_at, store_col_text(q, 0), sizeof paid_at);
		store_done(q);
		if (!clock_parse(paid_at, &paid_ms) || clock_now_ms() - paid_ms >= days * 86400000LL)
			return err_fail(e, ERR_FAIL, "refund_window_over",
			                "order %s was paid at %s, past the refund window of %lld days", id, paid_at,
			                (long long)days);
	}
	if (strcmp(o.state, "paid") != 0)
		return err_fail(e, ERR_FAIL, o.refunded ? "fully_refunded" : "not_paid",
		                "order %s is %s%s; nothing to refund", id, o.state,
		                o.refunded ? " (fully refunded)" : "");
	if (amount > o.amount - o.refunded) {
		const struct currency *cur = currency_find(o.currency);
		char left[MONEY_TEXT_MAX], asked[MONEY_TEXT_MAX];
		money_format(o.amount - o.refunded, cur ? cur : currency_default(), left);
		money_format(amount, cur ? cur : currency_default(), asked);
		return err_fail(e, ERR_FAIL, "over_refund", "order %s has %s %s left to refund, not %s", id, left,
		                o.currency, asked);
	}
	q = store_query(c->st,
	                "SELECT p.id, p.source_account, p.fee, p.amount, p.settlement_id IS NOT NULL, p.discount,"
	                " pr.sponsor FROM payments p LEFT JOIN promos pr ON pr.id = p.promo_id WHERE p.order_id = ?",
	                "t", id);
	store_step(q);
	char pid[ID_MAX], to[ACCOUNT_ID_MAX], sponsor[ACCOUNT_ID_MAX] = "";
	strlcopy(pid, store_col_text(q, 0), sizeof pid);
	strlcopy(to, store_col_text(q, 1), sizeof to);
	int64_t fee = store_col_int(q, 2), paid = store_col_int(q, 3), discount = store_col_int(q, 5);
	bool settled = store_col_int(q, 4);
	if (discount > 0)
		ledger_account_id(ACCOUNT_SPONSOR, store_col_text(q, 6), sponsor);
	store_done(q);
	/* Pro rata, so the refunds of a payment return exactly its fee, and
	 * its discount to the sponsor. */
	int64_t fee_back = (int64_t)((__int128)fee * (o.refunded + amount) / paid - (__int128)fee * o.refunded / paid);
	int64_t disc_back =
	    (int64_t)((__int128)discount * (o.refunded + amount) / paid - (__int128)discount * o.refunded / paid);
	char merchant[MERCHANT_REF_MAX];
	ids_merchant(o.merchant, merchant);
	bool from_deposit = settled && o.t0;
	struct transfer t[3] = {
	    {.kind = "fee_refund", .amount = fee_back, .currency = o.currency, .ref = request_no},
	    {.kind = "refund", .amount = amount - disc_back, .currency = o.currency, .ref = request_no},
	    {.kind = "discount_refund", .amount = disc_back, .currency = o.currency, .ref = request_no}};
	bufprintf(t[0].key, sizeof t[0].key, "refund_fee:%s:%s", id, request_no);
	ledger_account(c->st, ACCOUNT_FEES, o.currency, o.currency, t[0].from);
	ledger_account(c->st, from_deposit ? ACCOUNT_DEPOSIT : ACCOUNT_PENDING, merchant, o.currency, t[0].to);
	bufprintf(t[1].key, sizeof t[1].key, "refund:%s:%s", id, request_no);
	strlcopy(t[1].from, t[0].to, sizeof t[1].from);
	strlcopy(t[1].to, to, sizeof t[1].to);
	bufprintf(t[2].key, sizeof t[2].key, "refund_discount:%s:%s", id, request_no);
	strlcopy(t[2].from, t[0].to, sizeof t[2].from);
	strlcopy(t[2].to, sponsor, sizeof t[2].to);
	/* The fee's share, the refund and the discount's share, each only
	 * when it moves money (a refund whose share of the discount is all
	 * of it pays the buyer nothing). */
	struct transfer post[3];
	size_t n = 0;
	if (fee_back > 0)
		post[n++] = t[0];
	if (t[1].amount > 0)
		post[n++] = t[1];
	if (disc_back > 0)
		post[n++] = t[2];
	if (ledger_post(c->st, post, n, LEDGER_FIRST, e) < 0)
		return BATCH_FAIL;
	char rid[ID_MAX];
	ids_new("ref", rid);
	const char *at = post[0].created_at;
	store_write(c->st, 1,
	            "INSERT INTO refunds(id, order_id, payment_id, merchant_id, out_request_no, amount, fee_returned,"
	            " funded_from, reason, created_at, discount_returned) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	            "tttttiittti", rid, id, pid, o.merchant, request_no, amount, fee_back,
	            from_deposit ? "deposit" : "pending", reason, at, disc_back);
	store_write(
	    c->st, 1,
	    "UPDATE orders SET refunded = refunded + ?1, state = CASE WHEN refunded + ?1 = amount THEN 'closed'"
	    " ELSE state END, close_reason = CASE WHEN refunded + ?1 = amount THEN 'refunded' ELSE close_reason END,"
	    " closed_at = CASE WHEN refunded + ?1 = amount THEN ?2 ELSE closed_at END WHERE id = ?3",
	    "itt", amount, at, id);
	*out = refund_json(c->st, rid);
	json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "merchant", merchant, "order", id,
	                         "out_trade_no", o.out_trade_no, "out_request_no", request_no, "amount",
	                         (json_int_t)amount, "fee_returned", (json_int_t)fee_back, "currency", o.currency);
	if (disc_back > 0)
		json_object_set_new(body, "discount_returned", json_integer(disc_back));
	if (*o.terminal)
		json_object_set_new(body, "terminal", json_string(o.terminal));
	events_queue(c->st, o.merchant, "order.refunded", rid, body);
	json_decref(body);
	return BATCH_OK;
}
