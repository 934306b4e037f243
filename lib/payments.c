/* payments: see payments.h. */
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "batch.h"
#include "clock.h"
#include "crypto.h"
#include "events.h"
#include "ledger.h"
#include "money.h"
#include "orders.h"
#include "payments.h"
#include "pins.h"
#include "products.h"
#include "utf8.h"

#include "util.h"

int64_t payments_fee(int64_t amount, int64_t ppm)
{
	/* amount <= 10^15 and ppm <= 10^5: the product needs 128 bits. */
	__int128 v = (__int128)amount * ppm + 500000;
	return (int64_t)(v / 1000000);
}

static json_t *payment_json(struct store *st, const char *order_id)
{
	struct store_stmt *q = store_query(st,
	                                   "SELECT p.id, p.order_id, p.merchant_id, o.out_trade_no, p.amount, p.fee,"
	                                   " p.currency, p.wallet_id, p.source_account, p.buyer, p.created_at"
	                                   " FROM payments p JOIN orders o ON o.id = p.order_id WHERE p.order_id = ?",
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
	}
	store_done(q);
	return o;
}

struct order_row {
	char id[ID_MAX], merchant[MERCHANT_NO_MAX + 1], out_trade_no[OUT_TRADE_NO_MAX + 1], currency[8], state[16];
	char buyer[UID_MAX + 1], name[128], reference[128],
	    request_no[REQUEST_NO_MAX + 1]; /* "" when the order has none */
	int64_t amount, refunded, expires_at, fee_ppm;
	bool has_buyer, t0;
};

#define LOAD_ORDER                                                                                                     \
	"SELECT o.id, o.merchant_id, o.out_trade_no, o.currency, o.state, o.buyer, o.amount, o.refunded,"              \
	" o.expires_at, m.fee_ppm, m.settlement, m.name, COALESCE(o.reference, ''), COALESCE(o.request_no, '')"        \
	" FROM orders o JOIN merchants m ON m.id = o.merchant_id WHERE o.id = ?"
/* Locked until the commit: a payment or refund decides on the order's
 * state, so a second worker on the same order waits, then sees the first
 * one's outcome (SQLite has one writer at a time already). */
static const struct store_sql load_order_locked = {
    .sqlite = LOAD_ORDER,
    .postgresql = LOAD_ORDER " FOR NO KEY UPDATE OF o",
};

/* The order; locked, unless lock_free and writes are deferred: then a
 * payment's own conditional update (state still 'created', one row
 * expected) catches another worker's payment and dooms the batch, which
 * runs again with the lock. A lock is a write per order read. */
static int load_order(struct store *st, const char *id, struct order_row *o, bool lock_free)
{
	struct store_stmt *q = lock_free && store_deferring(st) ? store_query(st, LOAD_ORDER, "t", id)
	                                                        : store_query_sql(st, &load_order_locked, "t", id);
	bool found = store_step(q) == STORE_ROW;
	if (found) {
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
		/* An error about this order names it as its merchant knows it. */
		char m[MERCHANT_REF_MAX];
		batch_identify("order", o->id);
		batch_identify("merchant", ids_merchant(o->merchant, m));
		batch_identify("out_trade_no", o->out_trade_no);
	}
	store_done(q);
	return found ? 0 : ERR_FAIL;
}

/* The PIN for this record: checked once per wallet in a run, unless every
 * record brings its own; BATCH_ASK while it has not been typed. */
static int check_pin(struct wpay_ctx *c, struct payer *p, const char *wallet, struct err *e)
{
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

/* The ledger account the payment comes from. */
static int funding_account(struct store *st, const struct payer *p, json_t *req, const char *wallet,
                           char account[ACCOUNT_ID_MAX], struct err *e)
{
	const char *source = p->source ? p->source : "wallet";
	if (rec_get_str(req, "source", false, 0, &source, e))
		return ERR_FAIL;
	if (strcmp(source, "wallet") == 0) {
		ledger_account_id(ACCOUNT_WALLET, wallet, account);
		return 0;
	}
	struct store_stmt *q =
	    strcmp(source, "card") == 0
	        ? store_query(st, "SELECT default_card FROM wallets WHERE id = ? AND default_card IS NOT NULL", "t",
	                      wallet)
	        : store_query(st, "SELECT id FROM cards WHERE id = ? AND wallet_id = ? AND removed_at IS NULL", "tt",
	                      source, wallet);
	bool found = store_step(q) == STORE_ROW;
	if (found)
		ledger_account_id(ACCOUNT_CARD, store_col_text(q, 0), account);
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
	const char *named = json_string_value(json_object_get(req, "order"));
	const char *type = json_string_value(json_object_get(req, "type"));
	if (!named && type && strcmp(type, "order") == 0)
		named = json_string_value(json_object_get(req, "id"));
	if (named && strlen(named) < sizeof id && load_order(c->st, named, &o, true) == 0)
		strlcopy(id, named, sizeof id);
	else if (orders_ref(c->st, req, id, e))
		return BATCH_FAIL;
	else if (load_order(c->st, id, &o, true))
		return err_fail(e, ERR_FAIL, "not_found", "no order '%s'", id);
	int decided = payable(c, p, &o, out, e);
	if (decided != 0)
		return decided < 0 ? BATCH_FAIL : BATCH_OK;
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
	if (funding_account(c->st, p, req, wallet, account, e))
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
	struct transfer t[2] = {{.kind = "payment", .amount = o.amount, .currency = o.currency, .ref = id},
	                        {.kind = "fee", .amount = fee, .currency = o.currency, .ref = id}};
	bufprintf(t[0].key, sizeof t[0].key, "pay:%s", id);
	strlcopy(t[0].from, account, sizeof t[0].from);
	/* Made with the merchant: no need to ask the ledger on every payment. */
	ledger_account_id(ACCOUNT_PENDING, merchant, t[0].to);
	bufprintf(t[1].key, sizeof t[1].key, "fee:%s", id);
	strlcopy(t[1].from, t[0].to, sizeof t[1].from);
	ledger_account_id(ACCOUNT_FEES, o.currency, t[1].to);
	if (products_take(c->st, id, e) || ledger_post(c->st, t, fee > 0 ? 2 : 1, LEDGER_FIRST, e) < 0)
		return BATCH_FAIL;
	char pid[ID_MAX];
	ids_new("pay", pid);
	store_write(
	    c->st, 1,
	    "INSERT INTO payments(id, order_id, merchant_id, wallet_id, buyer, source_account, amount, fee, currency,"
	    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    "ttttttiitt", pid, id, o.merchant, wallet, uid, account, o.amount, fee, o.currency, t[0].created_at);
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
	/* The code's reference and the buyer's request_no let a till that made
	 * the code, or took the buyer's number, match the payment. */
	json_t *body = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s*, s:s*}", "merchant", merchant, "order", id,
	                         "out_trade_no", o.out_trade_no, "amount", (json_int_t)o.amount, "fee", (json_int_t)fee,
	                         "currency", o.currency, "paid_at", t[0].created_at, "reference",
	                         *o.reference ? o.reference : NULL, "request_no", *o.request_no ? o.request_no : NULL);
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
	                " r.created_at, o.refunded, o.state FROM refunds r JOIN orders o ON o.id ="
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
	const char *request_no, *reason = NULL;
	int64_t amount;
	struct order_row o;
	if (orders_ref(c->st, req, id, e) || rec_get_str(req, "out_request_no", true, 0, &request_no, e) ||
	    rec_get_amount(req, &amount, e) || rec_get_str(req, "reason", false, 256, &reason, e))
		return BATCH_FAIL;
	if (!rec_valid_key(request_no, OUT_REQUEST_NO_MAX))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "out_request_no '%.80s' must be 1 to %d letters, digits or '_'", request_no,
		                OUT_REQUEST_NO_MAX);
	if (reason && utf8_has_control(reason))
		return err_fail(e, ERR_FAIL, "bad_field", "reason has a control character");
	load_order(c->st, id, &o, false);
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
	q = store_query(
	    c->st, "SELECT id, source_account, fee, amount, settlement_id IS NOT NULL FROM payments WHERE order_id = ?",
	    "t", id);
	store_step(q);
	char pid[ID_MAX], to[ACCOUNT_ID_MAX];
	strlcopy(pid, store_col_text(q, 0), sizeof pid);
	strlcopy(to, store_col_text(q, 1), sizeof to);
	int64_t fee = store_col_int(q, 2), paid = store_col_int(q, 3);
	bool settled = store_col_int(q, 4);
	store_done(q);
	/* Pro rata, so the refunds of a payment return exactly its fee. */
	int64_t fee_back = (int64_t)((__int128)fee * (o.refunded + amount) / paid - (__int128)fee * o.refunded / paid);
	char merchant[MERCHANT_REF_MAX];
	ids_merchant(o.merchant, merchant);
	bool from_deposit = settled && o.t0;
	struct transfer t[2] = {{.kind = "fee_refund", .amount = fee_back, .currency = o.currency, .ref = request_no},
	                        {.kind = "refund", .amount = amount, .currency = o.currency, .ref = request_no}};
	bufprintf(t[0].key, sizeof t[0].key, "refund_fee:%s:%s", id, request_no);
	ledger_account(c->st, ACCOUNT_FEES, o.currency, o.currency, t[0].from);
	ledger_account(c->st, from_deposit ? ACCOUNT_DEPOSIT : ACCOUNT_PENDING, merchant, o.currency, t[0].to);
	bufprintf(t[1].key, sizeof t[1].key, "refund:%s:%s", id, request_no);
	strlcopy(t[1].from, t[0].to, sizeof t[1].from);
	strlcopy(t[1].to, to, sizeof t[1].to);
	int rc =
	    fee_back > 0 ? ledger_post(c->st, t, 2, LEDGER_FIRST, e) : ledger_post(c->st, &t[1], 1, LEDGER_FIRST, e);
	if (rc < 0)
		return BATCH_FAIL;
	char rid[ID_MAX];
	ids_new("ref", rid);
	const char *at = fee_back > 0 ? t[0].created_at : t[1].created_at;
	store_write(c->st, 1,
	            "INSERT INTO refunds(id, order_id, payment_id, merchant_id, out_request_no, amount, fee_returned,"
	            " funded_from, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	            "tttttiittt", rid, id, pid, o.merchant, request_no, amount, fee_back,
	            from_deposit ? "deposit" : "pending", reason, at);
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
	events_queue(c->st, o.merchant, "order.refunded", rid, body);
	json_decref(body);
	return BATCH_OK;
}
