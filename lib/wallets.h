/*
 * wallets: the micro-wallet's money going out. A transfer to another
 * wallet, and a withdrawal to a debit card bound to the wallet, each
 * confirmed by the wallet's PIN (pins.h, with its lockout), idempotent by
 * request_no, in one currency, and within the wallet's daily limit for its
 * kind (ledger settings "transfer_limit" and "withdrawal_limit", set by
 * wpay init; WALLET_LIMIT_DEFAULT in each currency's major units unless a
 * currency has its own, "transfer_limit.JPY"). The day is the ledger's
 * business day (period.h). The limit is taken by one conditional upsert
 * in the request's transaction, so concurrent requests cannot both pass
 * it, and a request that fails later gives it back with its rollback.
 *
 * A withdrawal moves the money at once from the wallet to the clearing
 * account "clearing:withdrawals.<currency>". The settlement of the first
 * date whose cut-off comes after it (wpay settle) pays it out: clearing
 * to the card's account, a line in that date's payout file. When the
 * bank reports the line failed (wpay settle --payout-failed), the money
 * comes back: the card's account to the wallet.
 */
#ifndef WPAY_WALLETS_H
#define WPAY_WALLETS_H

#include <jansson.h>

#include "ctx.h"
#include "err.h"
#include "money.h"
#include "settle.h"

#define WALLET_LIMIT_DEFAULT "50000"
#define WALLET_NOTE_MAX      100

/* wpay_handlers (batch.h) for "wallet" "transfer" and "withdraw": see
 * wpay-bind(1) for fields. BATCH_ASK until the PIN has been typed into
 * c->typed.current. */
int wallets_transfer(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int wallets_withdraw(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);

/* Append {"withdrawal": id} to requests for each withdrawal the run pays
 * out: those pending that were made before its cut-off, and those it paid
 * out already (a rerun answers them again), in id order. */
void wallets_payout_requests(struct store *st, const struct settle_run *run, json_t *requests);
/* Pay one out (settle's handler for such a request): a "withdrawal"
 * record, state "sent", the same on a rerun. */
int wallets_pay_out(struct wpay_ctx *c, const struct settle_run *run, json_t *req, json_t **out, struct err *e);
/* The bank could not pay the withdrawal {"withdrawal": id, "reason"}:
 * its money goes back to the wallet. A "withdrawal" record, state
 * "failed", the same when told again; ERR_FAIL "not_found", "not_sent". */
int wallets_payout_failed(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);

/* Why a limit as wpay init takes it ("[CUR:]amount") is refused, or NULL;
 * fills the setting's name and value. */
const char *wallets_limit_setting(const char *kind, const char *text, char name[40], char value[MONEY_TEXT_MAX]);
/* The limits set, for wpay init's record: {"transfer": {"default": "50000",
 * "JPY": "1000000"}, "withdrawal": {...}}. */
json_t *wallets_limits_json(struct store *st);
/* One kind's: {"default": ..., "JPY": ...}, fallback when never set. */
json_t *wallets_limit_json(struct store *st, const char *kind, const char *fallback);
/* The limit of kind ("transfer", "withdrawal", "code_no_pin") in
 * currency cur, in its minor units: the setting "<kind>_limit.<cur>", else
 * "<kind>_limit" (fallback when never set) in major units. 0, or ERR_FAIL
 * "bad_setting". */
int wallets_limit(struct store *st, const char *kind, const char *fallback, const char *cur, int64_t *limit,
                  struct err *e);

#endif
