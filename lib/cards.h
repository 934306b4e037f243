/*
 * cards: the bank cards bound to a wallet ("card_..."). A card number is
 * checked (card.h) and kept only as BIN, last four and a keyed
 * fingerprint, so one card is bound to one wallet at a time; the first
 * card bound becomes the wallet's default, which top-ups draw on unless a
 * request names another.
 *
 * Handlers are wpay_handlers (batch.h); see wpay-bind(1) for fields.
 */
#ifndef WPAY_CARDS_H
#define WPAY_CARDS_H

#include <jansson.h>
#include <stdbool.h>

#include "ctx.h"
#include "ids.h"
#include "store.h"

int cards_add(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int cards_remove(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int cards_default(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int cards_show(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int cards_list(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);

/* A card's record, NULL if there is none. */
json_t *cards_json(struct store *st, const char *id);
/* The wallet's cards as records, by id; only the active ones if asked. */
json_t *cards_of_wallet(struct store *st, const char *wallet, bool active_only);
/* The active card of the wallet a request draws on: the one named in
 * "card", else the default. 0, or ERR_FAIL "not_found" / "no_card". */
int cards_funding(struct store *st, json_t *req, const char *wallet, char card[ID_MAX], struct err *e);

#endif
