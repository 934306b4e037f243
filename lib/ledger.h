/*
 * ledger: double-entry bookkeeping. Every movement of money is a transfer
 * from one account to another; the sum over all accounts of one currency
 * is always zero. Transfers are immutable and carry an idempotency key: a
 * repeat returns the first transfer and moves nothing.
 *
 * Account kinds and their overdraft rules (enforced in the schema too):
 *   wallet   buyer's balance             never below zero
 *   card     funding from a bound card   may go below zero (it is the bank)
 *   pending  merchant, not yet settled   may go below zero (late refunds)
 *   deposit  merchant's T0 guarantee     never below zero
 *   fees     platform fee income         never below zero
 *   payout   merchant's bank, seen here  may go below zero
 *   sponsor  a bank funding promotions   may go below zero (it is the bank)
 *
 * No balance goes beyond BALANCE_MAX either way (a movement back towards
 * zero is always allowed). With every transfer at most MONEY_MAX too, the
 * sums the programs make stay far inside int64: a group moves an account
 * by at most 8 x 10^15, so a balance plus a move is below 10^16.
 */
#ifndef WPAY_LEDGER_H
#define WPAY_LEDGER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "ids.h"
#include "money.h"
#include "records.h"
#include "store.h"

enum account_kind {
	ACCOUNT_WALLET,
	ACCOUNT_CARD,
	ACCOUNT_PENDING,
	ACCOUNT_DEPOSIT,
	ACCOUNT_FEES,
	ACCOUNT_PAYOUT,
	ACCOUNT_SPONSOR,
	ACCOUNT_CLEARING /* held for someone for a while: withdrawals on their way to the bank */
};

/* 10^15 minor units (10 trillion yuan) above or below zero. */
#define BALANCE_MAX      MONEY_MAX
#define ACCOUNT_ID_MAX   96
#define TRANSFER_KEY_MAX 200

/* The id of the account of kind for owner ("wallet:wal_...", "fees:CNY"),
 * without touching the ledger: for accounts known to exist. */
void ledger_account_id(enum account_kind kind, const char *owner, char id[ACCOUNT_ID_MAX]);
/* The account of kind for owner ("wallet:wal_...", "fees:CNY"), made if missing. */
void ledger_account(struct store *st, enum account_kind kind, const char *owner, const char *currency,
                    char id[ACCOUNT_ID_MAX]);
/* The currency an account holds into buf ("" if there is no such account). */
const char *ledger_currency(struct store *st, enum account_kind kind, const char *owner, char buf[8]);
/* Balance in minor units; 0 for an account not yet made. */
int64_t ledger_balance(struct store *st, enum account_kind kind, const char *owner);

struct transfer {
	/* in */
	char key[TRANSFER_KEY_MAX]; /* idempotency key, unique in the ledger */
	const char *kind;           /* "topup", "deposit", "payment", "fee", ... */
	char from[ACCOUNT_ID_MAX], to[ACCOUNT_ID_MAX];
	int64_t amount; /* minor units, > 0 */
	const char *currency;
	const char *ref; /* what it is for: an order, a request number; may be NULL */
	/* out */
	char id[ID_MAX];
	char created_at[CLOCK_TEXT_MAX];
};

enum ledger_mode {
	LEDGER_REPLAYABLE, /* a group posted before is answered again (returns 1) */
	LEDGER_FIRST,      /* the caller knows it is new: a key seen before is refused */
};

/*
 * Post n (1-8) transfers of one currency as one atomic group, inside the
 * caller's transaction. Each account moves once, by its net over the
 * group, and the overdraft rules hold on the balances the group leaves.
 * Returns 0 when posted; 1 (LEDGER_REPLAYABLE) when the group was posted
 * before: t[] is filled from the ledger and nothing moves; -1 with e set:
 * "insufficient_funds", "idempotency_conflict" (a key reused for another
 * transfer), "bad_amount", "balance_limit" (a balance would pass
 * BALANCE_MAX or -BALANCE_MAX), "currency_mismatch", "no_account". After -1 the
 * caller rolls its savepoint back: part of the group may have been written.
 */
int ledger_post(struct store *st, struct transfer *t, size_t n, enum ledger_mode mode, struct err *e);
/* Where writes are deferred (PostgreSQL, in a batch), read the balances
 * of these accounts, those there, in one query ahead of the transfers of
 * the batch that will move them (ledger_post reads each group's new ones
 * on its own). Elsewhere nothing. */
void ledger_preload(struct store *st, const char *const *accts, size_t n);
/* {"type":"transfer","id","kind","from","to","amount","currency","ref","created_at"} */
json_t *ledger_transfer_json(const struct transfer *t);

/*
 * Prove the books: every stored balance equals its transfers, every
 * currency sums to zero, no account breaks its overdraft rule or passes
 * BALANCE_MAX, no transfer joins accounts of another currency. The sums
 * are exact for any ledger (see ledger.c). Returns a "check" record; *ok
 * says whether it holds.
 */
json_t *ledger_check(struct store *st, bool *ok);

#endif
