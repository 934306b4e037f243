/*
 * payments: paying orders and refunding them.
 *
 * A payment is one atomic group of ledger transfers: the buyer's source
 * (wallet balance or a bound card) -> merchant pending, the gross; then
 * merchant pending -> platform fees, the fee. The fee is the merchant's
 * rate of the amount in minor units, rounded half up. Paying a paid order
 * answers the first payment and moves nothing. After a payment an
 * "order.paid" event is queued for the merchant. A card payment may get a
 * promotion (promos.h): the sponsor pays the discount to the merchant in
 * the same group, so the merchant still receives the gross.
 *
 * A refund goes back to the source that paid, from the merchant's pending
 * balance (or, once the payment is settled, from a T0 merchant's deposit;
 * a T15 merchant's pending may go below zero and is netted at its next
 * settlement). The fee comes back pro rata: after refunds totalling R of a
 * payment A with fee F, F*R/A (rounded down) has been returned, so a full
 * refund returns the whole fee; a promotion's discount goes back to its
 * sponsor the same way. Idempotent by out_request_no.
 */
#ifndef WPAY_PAYMENTS_H
#define WPAY_PAYMENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"
#include "ids.h"

#define OUT_REQUEST_NO_MAX 64
#define PAYERS_MAX         64

/* One run of wpay-pay: how to pay, and the wallets whose PIN this run has
 * already checked (one PIN for a batch by one buyer). */
struct payer {
	const char *buyer;  /* --buyer: when an order names none */
	const char *source; /* "wallet", "card" (the default card) or a card id */
	bool pin_each;      /* read a PIN for every record */
	bool follow, share;
	char pin[PIN_BUF];
	bool have_pin;
	char verified[PAYERS_MAX][ID_MAX];
	int nverified;
	/* A wallet whose buyer's payment code stands for the PIN on the
	 * record at hand (buyercodes.h); "" otherwise. */
	char code_wallet[ID_MAX];
	/* The wallets of the buyers seen in this run. */
	struct {
		char uid[UID_MAX + 1], wallet[ID_MAX], currency[8];
	} wallets[PAYERS_MAX];
	int nwallets;
};

/* Fee in minor units: amount * ppm / 10^6, rounded half up. */
int64_t payments_fee(int64_t amount, int64_t ppm);

/* Pay the order a request names; BATCH_ASK when the buyer's PIN must be
 * typed first (payments_ask_pin, with the ledger unlocked). */
int payments_pay(struct wpay_ctx *c, struct payer *p, json_t *req, json_t **out, struct err *e);
/* The batch's prefetch hook: the orders its requests name, read in one
 * query for their payments to use (PostgreSQL, deferring writes). */
void payments_prefetch(struct wpay_ctx *c, json_t *requests);
/* Read the payment PIN into p (the batch's ask hook): BATCH_OK or BATCH_FAIL. */
int payments_ask_pin(struct wpay_ctx *c, struct payer *p, struct err *e);
/* Wipe the PIN held in p: after every record with --pin-each, and at exit. */
void payments_forget_pin(struct payer *p);
int payments_refund(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
/* The refund a request names by its order ("merchant" and "out_trade_no",
 * or "order") and "out_request_no" (Alipay's refund query): the record
 * wpay-refund answered, or "not_found" naming all three. */
int payments_refund_query(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);

#endif
