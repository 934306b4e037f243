/*
 * products: a merchant's catalog, and the stock its product codes sell.
 *
 * A product is (merchant, sku): a name, a price in minor units of the
 * merchant's currency, a stock (NULL: not counted) and the units sold.
 * The SKU is 1 to 25 letters, digits, '_' or '-': it travels in a code's
 * 62.05 reference (EMV's limit is 25) and in wpay's own template 89.
 * Removing a product hides it (its codes are refused); adding it again
 * revives it. A product code carries the SKU and no amount: every scan
 * orders at the catalog's price of the moment. Stock is taken at
 * payment, in the payment's transaction; refunds do not put it back
 * (the goods may be gone: a merchant restocks with `product update
 * --stock`). Handlers as in accounts.h.
 */
#ifndef WPAY_PRODUCTS_H
#define WPAY_PRODUCTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"
#include "merchants.h"

#define PRODUCT_SKU_MAX  25
#define PRODUCT_NAME_MAX 128
/* The most units one order may take. */
#define PRODUCT_QUANTITY_MAX 10000

struct product {
	char sku[PRODUCT_SKU_MAX + 1];
	char name[PRODUCT_NAME_MAX * 4 + 1];
	int64_t price;
	bool counted; /* stock is counted */
	int64_t stock, sold;
	bool removed;
};

bool products_valid_sku(const char *sku);

int products_add(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int products_update(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int products_remove(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int products_show(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int products_list(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);

/* The product a code names, to order quantity units of it now: 0, or
 * ERR_FAIL with "unknown_product", "product_removed" or "sold_out". */
int products_for_order(struct store *st, const struct merchant *m, const char *sku, int64_t quantity, struct product *p,
                       struct err *e);

/* At payment of an order of quantity units of sku: take them from the
 * product's stock, in the payment's transaction. 0, or
 * ERR_FAIL with "sold_out": then nothing may move and the order stays
 * unpaid. With deferred writes the check is the write's expected row:
 * a payment that loses the race dooms the batch, which runs again and
 * meets sold_out here. */
int products_take(struct store *st, const char *merchant_no, const char *sku, int64_t quantity, struct err *e);

/* A "product_card" record for a post, from a product's "code" record. */
json_t *products_card(const json_t *code);

#endif
