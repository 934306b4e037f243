/*
 * accounts: who is who. Users (social accounts, "u:<uid>"), wallets
 * (payment accounts, "wal_..."), the binding between them (one wallet per
 * user), and top-ups from a card. The cards bound to a wallet are in
 * cards.h, the wallet's PIN in pins.h.
 *
 * Every handler is a wpay_handler (batch.h): a request object (see
 * wpay-bind(1) for fields) in, a record or a list of records out.
 */
#ifndef WPAY_ACCOUNTS_H
#define WPAY_ACCOUNTS_H

#include <jansson.h>
#include <stdbool.h>

#include "ctx.h"
#include "ids.h"
#include "records.h"

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

/*
 * Resolve a wallet reference: "wal_..." (its id), "u:<uid>" (the wallet
 * bound to that user) or a login. 0 and id filled, or -1 "not_found".
 */
int accounts_wallet_ref(struct store *st, const char *ref, char id[ID_MAX], struct err *e);
/* Every id the query's first column yields, as the records fn makes. */
json_t *accounts_records_of(struct store *st, struct store_stmt *q, json_t *(*fn)(struct store *, const char *));
/* A request's optional "currency" must be the account's: 0, or ERR_FAIL
 * "currency_mismatch". */
int accounts_check_currency(json_t *req, const char *account_currency, struct err *e);
/* The wallet a request's "wallet" field names, as accounts_wallet_ref. */
int accounts_get_wallet(struct store *st, json_t *req, char id[ID_MAX], struct err *e);

#endif
