/*
 * merchants: who gets paid. A merchant is "m:<merchant_no>", enterprise
 * (verified or not) or individual, with the details its QR codes carry
 * (name, city, MCC, country), a fee rate, a notify URL and webhook secret
 * (a 0600 file in the key directory), and a settlement mode: T15, or T0
 * once its deposit account holds 20,000.00 CNY. A withdrawal that takes the
 * deposit below that moves it back to T15, unless payments a T0 settlement
 * paid out can still be refunded (their orders are 'paid'): then it is
 * refused ("deposit_held"), since those refunds come out of the deposit.
 *
 * A merchant applies (merchant add) and trades once approved: a verified
 * enterprise (the blue V) is approved at once, any other merchant starts
 * 'applied' until `merchant approve`; `merchant suspend` stops it taking
 * codes, orders and payments, while refunds of what it was paid and its
 * settlement go on. Only approve and suspend change the state (update never
 * does); each change queues an event (merchant.applied, .approved,
 * .suspended). T0 needs an approved, verified enterprise.
 *
 * Handlers as in accounts.h.
 */
#ifndef WPAY_MERCHANTS_H
#define WPAY_MERCHANTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "ctx.h"
#include "ids.h"

/* Minor units of deposit (in the merchant's currency) that T0 needs. */
#define DEPOSIT_T0_MIN        INT64_C(2000000)
#define MERCHANT_NAME_MAX     25 /* characters, as EMV tag 59 takes them */
#define MERCHANT_CITY_MAX     15 /* EMV tag 60 */
#define MERCHANT_URL_MAX      512
#define MERCHANT_NETWORKS_MAX 200
#define BANK_ACCOUNT_MAX      64
#define FEE_PPM_DEFAULT       6000
#define MERCHANT_REASON_MAX   200 /* characters of a state change's reason */

/* A merchant as stored; text fields hold up to their maximum in UTF-8. */
struct merchant {
	char no[MERCHANT_NO_MAX + 1]; /* "cafe01" */
	char id[MERCHANT_REF_MAX];    /* "m:cafe01", its name in records and the ledger */
	char kind[16];                /* "enterprise" or "individual" */
	char name[MERCHANT_NAME_MAX * 4 + 1], city[MERCHANT_CITY_MAX * 4 + 1];
	char mcc[5], country[3], currency[4], settlement[4];
	bool verified, has_notify_url, has_bank_account, all_networks;
	int64_t fee_ppm;
	char notify_url[MERCHANT_URL_MAX * 4 + 1], bank_account[BANK_ACCOUNT_MAX * 4 + 1];
	char networks[MERCHANT_NETWORKS_MAX * 4 + 1]; /* the accepting networks, unless all_networks */
	char created_at[CLOCK_TEXT_MAX], updated_at[CLOCK_TEXT_MAX];
	char state[16]; /* "applied", "approved" or "suspended" */
	char state_reason[MERCHANT_REASON_MAX * 4 + 1], state_at[CLOCK_TEXT_MAX]; /* "" when none */
	char settlement_reason[400];                                              /* "" when none */
};

/* The merchant ref names ("m:<no>" or "<no>"): 0, or ERR_FAIL with
 * "unknown_merchant", the one code for a merchant this ledger lacks. */
int merchants_load(struct store *st, const char *ref, struct merchant *m, struct err *e);
/* The same, locking the merchant's row until the commit against other
 * lockers (one settler per merchant at a time), in the same round trip. */
int merchants_load_locked(struct store *st, const char *ref, struct merchant *m, struct err *e);
/* Load and lock the merchants whose numbers (m->no) are in nos, a JSON
 * array, in the order of their ids; each() is given each one found. */
void merchants_load_many_locked(struct store *st, const char *nos, void (*each)(void *arg, const struct merchant *m),
                                void *arg);

int merchants_add(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int merchants_update(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int merchants_show(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int merchants_list(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int merchants_balance(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int merchants_deposit(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int merchants_withdraw(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int merchants_approve(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int merchants_suspend(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);

/* 0 if the merchant may take codes, orders and payments (it is approved),
 * else ERR_FAIL with "merchant_not_approved" saying its state and what to
 * do; doing says what was refused ("make a code"). */
int merchants_check_approved(const struct merchant *m, const char *doing, struct err *e);
/* The same for the merchant numbered no, read from the ledger. */
int merchants_check_approved_no(struct store *st, const char *no, const char *doing, struct err *e);
/* Why the merchant may not settle T0 (needs approved, enterprise and
 * verified), or NULL if it may. */
const char *merchants_t0_refusal(const struct merchant *m);
/* What the merchant's deposit lacks of DEPOSIT_T0_MIN (0 when whole). */
int64_t merchants_deposit_shortfall(struct store *st, const char *id);

/* The names of the networks that accept a merchant, from its stored list
 * (NULL: every configured network). */
json_t *merchants_networks(struct wpay_ctx *c, const char *stored);
/* The name of the merchant's webhook secret file in the key directory;
 * the caller frees it. */
char *merchants_secret_name(const char *no);
/* A fee rate "0.6%" (up to 4 decimals, at most 10%) in parts per million. */
const char *merchants_parse_fee_rate(const char *text, int64_t *ppm);
void merchants_format_fee_rate(int64_t ppm, char buf[32]);

#endif
