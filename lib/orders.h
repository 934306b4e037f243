/*
 * orders: what a buyer owes a merchant. An order is "ord_...", unique by
 * merchant and the merchant's out_trade_no (1-64 letters, digits, '_').
 * out_trade_no is the merchant's alone: an order the buyer starts (from a
 * static code, or a code this ledger did not make) takes its own id as
 * out_trade_no and is unique by buyer and the buyer's request_no instead.
 * An order moves through these states:
 *   created   waiting for the buyer to pay, until expires_at
 *   paid      paid; refundable within the refund window
 *   closed    closed unpaid (by the merchant, or expired), or fully refunded
 *   finished  paid and past the refund window: no more refunds
 * Handlers as in accounts.h.
 */
#ifndef WPAY_ORDERS_H
#define WPAY_ORDERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"
#include "ids.h"

#define ORDER_SUBJECT_MAX 128

struct order_defaults {
	const char *buyer;       /* --buyer, when a record names none */
	const char *amount_text; /* --amount, for static codes: a decimal in the code's currency */
	const char *request_no;  /* --request-no, the buyer's key for an order the buyer starts */
	bool allow_unsigned;     /* accept codes without a signature that this ledger never made */
	int64_t quantity;        /* --quantity, for product codes (0: one) */
};

/* A new order from the merchant: merchant, out_trade_no, amount, currency?,
 * subject?, buyer?, expires_in? (1m-15d, default 2h). The same request
 * again answers the same order; another amount or buyer is a conflict. */
int orders_create(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
/* An order from a scanned code ("scan" record, as wpay-scanqr writes):
 * the payload is checked again here (CRC, signature, expiry, merchant).
 * A dynamic code this ledger made is checked against the stored code,
 * signed or not, and fixes merchant, amount and out_trade_no (its
 * reference). A static code (the amount from "amount" or --amount), or
 * with allow_unsigned an unsigned dynamic code this ledger never made, is
 * the buyer's order: it needs "buyer" and "request_no" (or the defaults),
 * and refuses an "out_trade_no" field. A product code (signed, with
 * 89.03) orders "quantity" (or the default, 1) units at the catalog's price
 * now: origin "product_code", a new order each time unless the buyer's
 * request_no names one already made. */
int orders_from_scan(struct wpay_ctx *c, const struct order_defaults *d, json_t *req, json_t **out, struct err *e);
/* The order "order" (ord_... or a payment's pay_...), "payment", or
 * "merchant" and "out_trade_no" name. */
int orders_query(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
/* Close an unpaid order; closing a closed one answers it again. */
int orders_close(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
/* Close every overdue unpaid order and finish every paid one past the
 * refund window: one "expire" record with the counts. For cron. */
int orders_expire(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);

/* The refund window in days (wpay-init --refund-window, default 90): a
 * payment is past it once that many days have gone by. */
int64_t orders_refund_window_days(struct store *st);

/* The order a request names: "order" (ord_...), or "merchant" and
 * "out_trade_no". id filled, or -1 with "not_found". */
int orders_ref(struct store *st, json_t *req, char id[ID_MAX], struct err *e);
json_t *orders_json(struct store *st, const char *id);

#endif
