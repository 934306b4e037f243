/*
 * accounts: who is who. Users (social accounts, "u:<uid>"), wallets
 * (payment accounts, "wal_..."), the binding between them (one wallet per
 * user), bank cards bound to a wallet ("card_..."), the wallet's 6-digit
 * PIN with its lockout, and top-ups from a card.
 *
 * Every handler takes a request object (see wpay-bind(1) for fields) and
 * answers with a record or a list of records, as batch_handler does.
 */
#ifndef WPAY_ACCOUNTS_H
#define WPAY_ACCOUNTS_H

#include <jansson.h>
#include <stdbool.h>

#include "crypto.h"
#include "ctx.h"
#include "records.h"

typedef int (*wpay_handler)(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);

int accounts_user_add(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int accounts_user_update(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int accounts_user_show(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int accounts_user_list(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int accounts_user_bind(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int accounts_user_unbind(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
/* The pair: the user, its wallet and the wallet's cards. */
int accounts_pair_show(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);

int accounts_wallet_add(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int accounts_wallet_show(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int accounts_wallet_list(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int accounts_wallet_balance(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int accounts_wallet_topup(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);

int accounts_card_add(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int accounts_card_remove(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int accounts_card_default(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int accounts_card_show(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int accounts_card_list(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);

/* Set or change a wallet's PIN with the PINs in c->typed; BATCH_ASK until
 * accounts_ask_pins has read them. */
int accounts_pin_set(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int accounts_pin_change(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
/* The batch's ask hook for "pin" requests: read the new PIN (twice on a
 * terminal, refused if trivial) and, to change one, the current PIN first,
 * into c->typed. BATCH_OK or BATCH_FAIL. */
int accounts_ask_pins(struct wpay_ctx *c, json_t *req, struct err *e);

/*
 * Resolve a wallet reference: "wal_..." (its id), "u:<uid>" (the wallet
 * bound to that user) or a login. 0 and id filled, or -1 "not_found".
 */
int accounts_wallet_ref(struct store *st, const char *ref, char id[ID_MAX], struct err *e);
/*
 * Check a PIN for a wallet: BATCH_OK, or BATCH_FAIL ("pin_not_set",
 * "bad_pin", "pin_wrong" with the tries left, "pin_locked" with the time
 * the lock ends). The try is counted and committed (store_commit_now)
 * before the PIN is compared, and cleared, committed too, when it was
 * right: whatever the caller does next, a wrong PIN has been counted.
 */
int accounts_pin_check(struct wpay_ctx *c, const char *wallet, const char *pin, struct err *e);
/* Refusal reason for a PIN that is not 6 digits or is trivial; NULL if fine. */
const char *accounts_pin_weakness(const char *pin);

/* Shared request checks, also used by merchants. */
bool accounts_valid_key(const char *s, size_t max); /* [A-Za-z0-9_]{1,max} */
int accounts_get_request_no(json_t *req, const char **out, struct err *e);
int accounts_get_amount(json_t *req, int64_t *out, struct err *e);

#endif
