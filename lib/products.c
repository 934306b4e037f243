/* products: see products.h. */
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "clock.h"
#include "ids.h"
#include "money.h"
#include "products.h"
#include "uris.h"
#include "utf8.h"

#include "util.h"

bool products_valid_sku(const char *sku)
{
	size_t n = strlen(sku);
	return n >= 1 && n <= PRODUCT_SKU_MAX &&
	       strspn(sku, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* 1: found (p filled), 0: no such product. */
static int load(struct store *st, const char *merchant_no, const char *sku, struct product *p)
{
	struct store_stmt *q = store_query(st,
	                                   "SELECT name, price, stock, sold, removed_at IS NOT NULL FROM products"
	                                   " WHERE merchant_id = ? AND sku = ?",
	                                   "tt", merchant_no, sku);
	bool found = store_step(q) == STORE_ROW;
	if (found) {
		strlcopy(p->sku, sku, sizeof p->sku);
		strlcopy(p->name, store_col_text(q, 0), sizeof p->name);
		p->price = store_col_int(q, 1);
		p->counted = !store_col_null(q, 2);
		p->stock = p->counted ? store_col_int(q, 2) : 0;
		p->sold = store_col_int(q, 3);
		p->removed = store_col_int(q, 4);
	}
	store_done(q);
	return found;
}

static json_t *product_json(struct store *st, const struct merchant *m, const char *sku)
{
	struct store_stmt *q = store_query(st,
	                                   "SELECT name, price, currency, stock, sold, created_at, updated_at,"
	                                   " removed_at FROM products WHERE merchant_id = ? AND sku = ?",
	                                   "tt", m->no, sku);
	json_t *o = NULL;
	if (store_step(q) == STORE_ROW) {
		o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:o, s:I, s:s, s:s}", "type", "product", "merchant",
		              m->id, "sku", sku, "name", store_col_text(q, 0), "price", (json_int_t)store_col_int(q, 1),
		              "currency", store_col_text(q, 2), "stock",
		              store_col_null(q, 3) ? json_null() : json_integer(store_col_int(q, 3)), "sold",
		              (json_int_t)store_col_int(q, 4), "created_at", store_col_text(q, 5), "updated_at",
		              store_col_text(q, 6));
		if (!store_col_null(q, 7))
			json_object_set_new(o, "removed_at", json_string(store_col_text(q, 7)));
	}
	store_done(q);
	return o;
}

/* The merchant and SKU a request names; the SKU checked. */
static int get_key(struct store *st, json_t *req, struct merchant *m, const char **sku, struct err *e)
{
	const char *ref;
	if (rec_get_str(req, "merchant", true, 0, &ref, e) || merchants_load(st, ref, m, e) ||
	    rec_get_str(req, "sku", true, 0, sku, e))
		return ERR_FAIL;
	if (!products_valid_sku(*sku))
		return err_fail(e, ERR_FAIL, "bad_field", "sku '%.40s' must be 1 to %d letters, digits, '_' or '-'",
		                *sku, PRODUCT_SKU_MAX);
	batch_identify("sku", *sku);
	return 0;
}

/* What a request says of a product: name, price, stock, currency; has_*
 * says which it gave. stock is -1 for null (not counted). */
struct fields {
	const char *name;
	int64_t price, stock;
	bool has_price, has_stock;
	/* For binding: NULL where not given (price) or not counted (stock). */
	char price_text[24], stock_text[24];
};

static const char *text_or_null(const char *s)
{
	return *s ? s : NULL;
}

static int get_fields(json_t *req, const struct merchant *m, struct fields *f, struct err *e)
{
	const char *currency = NULL;
	memset(f, 0, sizeof *f);
	if (rec_get_str(req, "name", false, PRODUCT_NAME_MAX, &f->name, e) ||
	    rec_get_str(req, "currency", false, 3, &currency, e))
		return ERR_FAIL;
	/* The name is a card's title in readers' feeds: no bidi override
	 * may turn what follows it around. */
	if (f->name && (!*f->name || utf8_has_unsafe(f->name)))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "name must be 1 to %d characters without control characters or bidi overrides",
		                PRODUCT_NAME_MAX);
	if (currency && strcmp(currency, m->currency) != 0)
		return err_fail(e, ERR_FAIL, "currency_mismatch", "the price is in %s but merchant %s takes %s",
		                currency, m->id, m->currency);
	json_t *price = json_object_get(req, "price");
	if (price) {
		/* The same rules as any amount: whole minor units, 1 to MONEY_MAX. */
		json_t *as_amount = json_pack("{s:O}", "amount", price);
		int rc = rec_get_amount(as_amount, &f->price, e);
		json_decref(as_amount);
		if (rc)
			return ERR_FAIL;
		f->has_price = true;
	}
	json_t *stock = json_object_get(req, "stock");
	if (stock) {
		f->has_stock = true;
		f->stock = -1;
		if (!json_is_null(stock) && (!json_is_integer(stock) || json_integer_value(stock) < 0))
			return err_fail(e, ERR_FAIL, "bad_field",
			                "stock must be a whole number of units, 0 or more, or null (not counted)");
		if (json_is_integer(stock))
			f->stock = json_integer_value(stock);
	}
	if (f->has_price)
		bufprintf(f->price_text, sizeof f->price_text, "%lld", (long long)f->price);
	if (f->stock >= 0 && f->has_stock)
		bufprintf(f->stock_text, sizeof f->stock_text, "%lld", (long long)f->stock);
	return 0;
}

int products_add(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	struct merchant m;
	const char *sku;
	struct fields f;
	if (get_key(c->st, req, &m, &sku, e) || get_fields(req, &m, &f, e))
		return BATCH_FAIL;
	if (!f.name || !f.has_price)
		return err_fail(e, ERR_FAIL, "missing_field", "a new product needs a name and a price");
	char now[CLOCK_TEXT_MAX];
	clock_format(clock_now_ms(), now);
	struct product p;
	if (!load(c->st, m.no, sku, &p)) {
		store_exec(c->st,
		           "INSERT INTO products(merchant_id, sku, name, price, currency, stock, sold, created_at,"
		           " updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT DO NOTHING",
		           "tttitntt", m.no, sku, f.name, f.price, m.currency, text_or_null(f.stock_text), now, now);
		if (store_changes(c->st) == 0) /* another worker added it a moment ago */
			return products_add(c, req, out, e);
	} else if (p.removed) {
		/* Back in the catalog as added now; what it sold before stays. */
		store_exec(c->st,
		           "UPDATE products SET name = ?, price = ?, stock = ?, removed_at = NULL, updated_at = ?"
		           " WHERE merchant_id = ? AND sku = ?",
		           "tinttt", f.name, f.price, text_or_null(f.stock_text), now, m.no, sku);
	} else {
		/* A replay: the same product as first added (its stock then was
		 * what is left plus what it sold). */
		bool same = strcmp(p.name, f.name) == 0 && p.price == f.price &&
		            (f.has_stock && f.stock >= 0 ? p.counted && p.stock + p.sold == f.stock : !p.counted);
		if (!same)
			return err_fail(e, ERR_FAIL, "conflict",
			                "%s already has a product %s, not as given; use 'product update' to change it",
			                m.id, sku);
	}
	*out = product_json(c->st, &m, sku);
	return BATCH_OK;
}

static int get_product(struct store *st, json_t *req, struct merchant *m, const char **sku, struct product *p,
                       struct err *e)
{
	if (get_key(st, req, m, sku, e))
		return ERR_FAIL;
	if (!load(st, m->no, *sku, p))
		return err_fail(e, ERR_FAIL, "unknown_product", "%s has no product '%s'", m->id, *sku);
	return 0;
}

int products_update(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	struct merchant m;
	const char *sku;
	struct product p;
	struct fields f;
	if (get_product(c->st, req, &m, &sku, &p, e) || get_fields(req, &m, &f, e))
		return BATCH_FAIL;
	if (p.removed)
		return err_fail(e, ERR_FAIL, "product_removed", "%s removed product %s; add it again to sell it", m.id,
		                sku);
	if (!f.name && !f.has_price && !f.has_stock)
		return err_fail(e, ERR_FAIL, "missing_field", "nothing to update: give a name, a price or a stock");
	char now[CLOCK_TEXT_MAX];
	clock_format(clock_now_ms(), now);
	/* Orders already made keep their amount; new scans see this price. */
	store_exec(c->st,
	           "UPDATE products SET name = COALESCE(?, name), price = COALESCE(?, price),"
	           " stock = CASE WHEN ? THEN ? ELSE stock END, updated_at = ? WHERE merchant_id = ? AND sku = ?",
	           "tnbnttt", f.name, text_or_null(f.price_text), f.has_stock, text_or_null(f.stock_text), now, m.no,
	           sku);
	*out = product_json(c->st, &m, sku);
	return BATCH_OK;
}

int products_remove(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	struct merchant m;
	const char *sku;
	struct product p;
	if (get_product(c->st, req, &m, &sku, &p, e))
		return BATCH_FAIL;
	char now[CLOCK_TEXT_MAX];
	clock_format(clock_now_ms(), now);
	store_exec(c->st,
	           "UPDATE products SET removed_at = ?, updated_at = ? WHERE merchant_id = ? AND sku = ?"
	           " AND removed_at IS NULL",
	           "tttt", now, now, m.no, sku);
	*out = product_json(c->st, &m, sku);
	return BATCH_OK;
}

int products_show(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	struct merchant m;
	const char *sku;
	struct product p;
	if (get_product(c->st, req, &m, &sku, &p, e))
		return BATCH_FAIL;
	*out = product_json(c->st, &m, sku);
	return BATCH_OK;
}

int products_list(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	struct merchant m;
	const char *ref;
	if (rec_get_str(req, "merchant", true, 0, &ref, e) || merchants_load(c->st, ref, &m, e))
		return BATCH_FAIL;
	json_t *skus = json_array();
	struct store_stmt *q =
	    store_query(c->st, "SELECT sku FROM products WHERE merchant_id = ? ORDER BY sku", "t", m.no);
	while (store_step(q) == STORE_ROW)
		json_array_append_new(skus, json_string(store_col_text(q, 0)));
	*out = json_array();
	size_t i;
	json_t *sku;
	json_array_foreach (skus, i, sku)
		json_array_append_new(*out, product_json(c->st, &m, json_string_value(sku)));
	json_decref(skus);
	return BATCH_OK;
}

int products_for_order(struct store *st, const struct merchant *m, const char *sku, int64_t quantity, struct product *p,
                       struct err *e)
{
	if (!load(st, m->no, sku, p))
		return err_fail(e, ERR_FAIL, "unknown_product", "%s has no product '%.40s'", m->id, sku);
	if (p->removed)
		return err_fail(e, ERR_FAIL, "product_removed", "%s no longer sells %s (removed from its catalog)",
		                m->id, sku);
	if (p->counted && p->stock < quantity)
		return err_fail(e, ERR_FAIL, "sold_out", "%s has %lld of %s left, not %lld", m->id, (long long)p->stock,
		                sku, (long long)quantity);
	return 0;
}

int products_take(struct store *st, const char *merchant_no, const char *sku, int64_t quantity, struct err *e)
{
	/* One conditional update: of two payers for the last unit, the second
	 * finds no row (it waits for the first's row lock, then reads anew). */
	store_write(st, 1,
	            "UPDATE products SET stock = stock - ?, sold = sold + ? WHERE merchant_id = ? AND sku = ?"
	            " AND (stock IS NULL OR stock >= ?)",
	            "iitti", quantity, quantity, merchant_no, sku, quantity);
	if (!store_deferring(st) && store_changes(st) == 0)
		return err_fail(e, ERR_FAIL, "sold_out", "%s is sold out: fewer than %lld left; the order stays unpaid",
		                sku, (long long)quantity);
	return 0;
}

json_t *products_card(const json_t *code)
{
	const char *payload = json_string_value(json_object_get(code, "payload"));
	char *link = uris_card_link(payload);
	json_t *card = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O, s:O, s:s, s:s}", "type", "product_card", "title",
	                         json_object_get(code, "name"), "price", json_object_get(code, "price"), "currency",
	                         json_object_get(code, "currency"), "merchant", json_object_get(code, "merchant"),
	                         "merchant_name", json_object_get(code, "merchant_name"), "sku",
	                         json_object_get(code, "product"), "payload", payload, "link", link);
	free(link);
	return card;
}
