/*
 * money: amounts as integer minor units (fen, cents), ISO 4217 currencies.
 * No floating point anywhere: "12.34" CNY is 1234, and back.
 */
#ifndef WPAY_MONEY_H
#define WPAY_MONEY_H

#include <stdbool.h>
#include <stdint.h>

/* The largest amount one record may carry: 10^15 minor units (10 trillion
 * yuan). Far above any real payment, and low enough that sums of many
 * cannot overflow int64 before a check catches them. */
#define MONEY_MAX      INT64_C(1000000000000000)
#define MONEY_TEXT_MAX 32

struct currency {
	const char *alpha;   /* "CNY" */
	unsigned short code; /* 156 */
	unsigned char minor; /* digits after the point: 2 */
	const char *name;
};

/* By alpha ("CNY", case-sensitive) or numeric ("156") code; NULL if unknown. */
const struct currency *currency_find(const char *code);
const struct currency *currency_default(void); /* CNY */

/*
 * Parse a decimal amount ("12.34", "12", "0.01") into minor units.
 * Returns NULL on success, else why it was refused: a sign where negatives
 * are not allowed, more decimals than the currency has, exponents,
 * thousands separators, anything over MONEY_MAX, empty or other text.
 */
const char *money_parse(const char *text, const struct currency *c, bool allow_negative, int64_t *out);
/* Format minor units as a decimal ("-12.34"); buf needs MONEY_TEXT_MAX. */
void money_format(int64_t amount, const struct currency *c, char buf[MONEY_TEXT_MAX]);

/*
 * Fixed-point decimal with `scale` fraction digits ("0.6" scale 4 -> 6000):
 * used for rates. Same refusals as money_parse, non-negative only, and
 * the result must not exceed max.
 */
const char *decimal_parse(const char *text, int scale, int64_t max, int64_t *out);
void decimal_format(int64_t value, int scale, char buf[MONEY_TEXT_MAX]);

/* a + b and a - b with overflow checks; false on overflow. */
bool money_add(int64_t a, int64_t b, int64_t *out);

#endif
