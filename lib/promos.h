/*
 * promos: card-type promotions, as data. A promotion is a bank's offer
 * ("sponsor"): cards of one issuer (or of a BIN prefix) and one type
 * (credit or debit) paying one merchant (or any) get a percentage or a
 * fixed amount off, from a time until a time, optionally above a minimum
 * amount, a number of times per buyer and within a budget. The discount
 * is funded by the sponsor's ledger account "sponsor:<BANK>"; the
 * merchant still receives the full price.
 *
 * At payment from a bound card, the promotion that applies and gives the
 * largest discount wins (ties: the lowest id). The discount is a
 * percentage of the amount rounded down, or the fixed amount; never the
 * whole price (the buyer pays at least one minor unit), and never more
 * than what is left of the budget, so the last payer gets the remainder
 * and spent reaches the budget exactly. spent counts discounts granted:
 * a refund returns its share of the discount to the sponsor, but does not
 * free budget (a budget is what the sponsor agreed to give out). A
 * buyer's uses (promo_uses) are counted for promotions with a per-user
 * limit only.
 *
 * Handlers are wpay_handlers (batch.h); see wpay-bind(1) for fields.
 */
#ifndef WPAY_PROMOS_H
#define WPAY_PROMOS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"
#include "ids.h"
#include "store.h"

#define PROMO_ID_MAX      64
#define PROMO_SPONSOR_MAX 32
#define PROMO_ISSUER_MAX  64

int promos_add(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int promos_show(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int promos_list(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int promos_remove(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);

/* What a payment knows of the card it draws on (never its number). */
struct promo_card {
	char brand[16], type[16], issuer[PROMO_ISSUER_MAX * 4 + 1], bin[9];
	bool has_issuer;
};

/* The promotion a payment got. */
struct promo_hit {
	char id[PROMO_ID_MAX + 1], sponsor[PROMO_SPONSOR_MAX + 1];
	int64_t discount; /* 0: none applied */
};

/*
 * Find the promotion for a payment of amount by uid at merchant (its
 * number) with card, and take its use: spent, uses and the buyer's uses
 * go up in the caller's transaction. When writes are deferred, another
 * payer's use of the last budget or the buyer's last use dooms the batch
 * (one row expected), which runs again with every write waited for; then
 * a lost race means looking again. hit->discount is 0 when none applies.
 */
void promos_take(struct store *st, const struct promo_card *card, const char *merchant, const char *currency,
                 const char *uid, int64_t amount, struct promo_hit *hit);

/* "card" and "promotion" objects of a payment record, from the stored
 * columns; NULL when the payment had none. */
json_t *promos_card_json(const char *brand, const char *type, const char *issuer);
json_t *promos_promotion_json(const char *id, const char *sponsor, int64_t discount);

#endif
