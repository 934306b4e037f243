/*
 * settle: merchants' settlement batches. The files they leave are in
 * payouts.h; checking them against a merchant's own records, in
 * reconcile.h.
 *
 * Business days end at a cut-off: hour H (0-23, default 0) of the date in
 * the ledger's time zone (default Asia/Shanghai), both ledger settings
 * (wpay init --settle-tz, --cutoff-hour). A settlement for date D takes,
 * per merchant, every unsettled payment made before the cut-off of D (T0)
 * or of D - 15 days (T15), and every unsettled refund of those payments
 * or of payments settled before, made before the cut-off of D. T0 is for
 * an approved, verified enterprise: a merchant set to T0 that is not one
 * (suspended, unverified) is settled as T15, with a note.
 *
 * The deposit kept whole: when a T0 merchant's deposit is below
 * 20,000.00 (a refund after settlement was taken from it), its settlement
 * first moves what it would pay out into the deposit (pending -> deposit,
 * "deposit_topup", in the same commit as the payout), up to the
 * shortfall, and queues "deposit.restored" or "deposit.short". A deposit
 * still short after that puts the merchant on T15 from then on
 * (merchants.settlement, with settlement_reason saying why); it comes back
 * to T0 by depositing the rest and asking for T0 again.
 *
 * net = gross - fees - refunds + fees returned + carried in, counting only
 * refunds paid out of pending (refunds that a T0 merchant's deposit paid
 * are listed, not netted). A positive net moves pending -> payout; a
 * negative one is carried into the merchant's next settlement, for T0
 * merchants too: the deposit is never drawn by settlement.
 *
 * One settlement per merchant per date, made in the merchant's own
 * savepoint, so a crash leaves whole merchants settled or not, and a rerun
 * answers the same records and completes the rest.
 */
#ifndef WPAY_SETTLE_H
#define WPAY_SETTLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "clock.h"
#include "ctx.h"
#include "period.h"

#define SETTLE_TZ_DEFAULT "Asia/Shanghai"
#define SETTLE_T15_DAYS   15

struct settle_run {
	char date[16];                  /* YYYY-MM-DD */
	char tz[PERIOD_TZ_MAX];         /* the ledger's time zone */
	int cutoff_hour;                /* 0-23 */
	char cutoff_t0[CLOCK_TEXT_MAX]; /* UTC, RFC 3339: the cut-off of date */
	char cutoff_t15[CLOCK_TEXT_MAX];
	bool dry_run;
	bool preview; /* a forecast: a date whose cut-off is still to come will do */
};

/* What one settlement of a merchant takes and pays (settle_merchant
 * records it; settle_preview foretells it). */
struct settle_sums {
	bool t0;            /* the mode it is settled in, after the deposit rule */
	char note[200];     /* why a T0 merchant is settled as T15, or "" */
	const char *cutoff; /* the run's cut-off for that mode */
	int64_t npay, gross, fees, nref, refunded, fees_back, from_deposit, carried_in, net, payout, carried_out;
	int64_t shortfall; /* what the deposit lacked before this settlement (T0 only) */
	int64_t topup;     /* what it moved from the payout into the deposit */
	bool dropped;      /* the deposit is still short: the merchant goes T15 */
	/* Promotions' discounts in the payments, and back to their sponsors in
	 * the refunds: shown, not netted (the merchant got the full price). */
	int64_t discounts, discounts_back;
	/* The least and greatest id of the payments it takes ("" for none):
	 * kept with the settlement, to find them again. Room for any id a
	 * ledger holds (wpay's are under 48 bytes), as a cut one would not
	 * bound it. */
	char first_payment[256], last_payment[256];
};

/* The payments p of the settlement s, in SQL: within the merchant's, by
 * the ids it keeps (payments_merchant), as no index names the mark. */
#define SETTLED_PAYMENTS                                                                                               \
	"(p.merchant_id = s.merchant_id AND p.id >= s.first_payment AND p.id <= s.last_payment"                        \
	" AND p.settlement_id = s.id)"

/*
 * The run for date (NULL: the latest day whose cut-off has passed: today
 * after the cut-off hour, else yesterday). Returns 0, or fails with e set
 * and a status: 64 "bad_date", 65 "bad_setting", 75 "too_early" (the
 * cut-off of date has not passed yet, unless run->preview is set).
 */
int settle_prepare(struct store *st, const char *date, struct settle_run *run, struct err *e);

/* One request {"merchant": merchant_no} for each merchant with anything to settle,
 * or already settled on run->date, in merchant order. */
json_t *settle_requests(struct store *st, const struct settle_run *run);
/* Settle one merchant (a batch handler's work): a "settlement" record, the
 * same on a rerun, or none when there is nothing to settle. */
int settle_merchant(struct wpay_ctx *c, const struct settle_run *run, json_t *req, json_t **out, struct err *e);
/* A batch's requests, at its start with its transaction open (a
 * batch_opts.prefetch hook): their merchants loaded and locked, their
 * settlements so far and their pending and payout balances read, in three
 * queries rather than round trips per merchant. settle_merchant uses each
 * once, in that transaction only. */
void settle_prefetch(struct wpay_ctx *c, const struct settle_run *run, json_t *requests);
/*
 * The forecast for the merchant ref: a "forecast" record appended to out
 * for each date from run->date (dates it was settled for already left
 * out) on which what is unsettled now falls due, each what settle_merchant
 * would record for that date if every date were settled in turn. Writes
 * nothing. Returns 0, or ERR_FAIL with e set: "unknown_merchant",
 * "sum_overflow".
 */
int settle_preview(struct store *st, const struct settle_run *run, const char *ref, json_t *out, struct err *e);

#endif
