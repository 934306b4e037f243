/*
 * period: the span of time a query, a statement or a bill covers, from
 * what a person types.
 *
 * A bound is an RFC 3339 time, or a bare date YYYY-MM-DD, which means a
 * day in the ledger's time zone (the setting settle_tz, default
 * Asia/Shanghai): --since D from its 00:00, --until D to its end. Spans
 * are half open, [since, until), as UTC RFC 3339 text of whole seconds,
 * the form the ledger's created_at columns hold, so a bound is compared
 * with them as text. An empty bound is open.
 *
 * A business day, the trade date of a payment or a refund, starts at the
 * ledger's cut-off hour H (settle_cutoff_hour, default 0): trade date D
 * is [D at H, D + 1 at H). The settlement of date D takes what was made
 * before D at H (settle.h): for a T0 merchant, the trade date D - 1.
 */
#ifndef WPAY_PERIOD_H
#define WPAY_PERIOD_H
#include "clock.h"
#include "err.h"
#include "store.h"
#include <stdbool.h>
#define PERIOD_TZ_MAX 64
struct period {
	char since[CLOCK_TEXT_MAX]; /* "" : from the beginning */
	char until[CLOCK_TEXT_MAX]; /* "" : to the end; exclusive */
};
/* Read the ledger's time zone and cut-off hour and make the zone this
 * process's local time (TZ). Returns 0, or 65 "bad_setting" with e set. */
int period_ledger_zone(struct store *st, char tz[PERIOD_TZ_MAX], int *cutoff_hour, struct err *e);
/* Check a time zone name: NULL if the system knows it, else why not. */
const char *period_check_tz(const char *tz);
/* Local y-m-d at hour (day may be out of range: it is normalised) as UTC
 * RFC 3339 text; false if the zone has no such time. */
bool period_local_time(int y, int m, int d, int hour, char out[CLOCK_TEXT_MAX]);
/* --since and --until (either may be NULL), after period_ledger_zone.
 * Returns 0, or 64 with e set: "bad_date" naming the option and the
 * text, "bad_period" when until is not after since. */
int period_parse(const char *since, const char *until, struct period *p, struct err *e);
/* The business day date (YYYY-MM-DD) with cut-off hour, after
 * period_ledger_zone. Returns 0, or 64 "bad_date" naming opt. */
int period_business_day(const char *opt, const char *date, int cutoff_hour, struct period *p, struct err *e);
/* The ledger's business day of now_ms (YYYY-MM-DD), as settlement dates
 * are: in settle_tz, starting at the cut-off hour. Sets TZ as
 * period_ledger_zone does. Returns 0, or 65 "bad_setting". */
int period_ledger_day(struct store *st, int64_t now_ms, char day[16], struct err *e);
/* True if t (RFC 3339 text as the ledger keeps it) is inside p. */
bool period_contains(const struct period *p, const char *t);
#endif
