/* card: see card.h. */
#include <string.h>

#include "card.h"
#include "crypto.h"

#include "util.h"

bool luhn_valid(const char *d)
{
	size_t n = strlen(d);
	int sum = 0;
	for (size_t i = 0; i < n; i++) {
		int v = d[n - 1 - i] - '0';
		if (v < 0 || v > 9)
			return false;
		if (i % 2 == 1 && (v *= 2) > 9)
			v -= 9;
		sum += v;
	}
	return n > 0 && sum % 10 == 0;
}

/* IIN ranges by brand: the first `digits` digits in [lo, hi]; the longest
 * matching prefix wins (so 6011 is Discover, not 60-anything). */
static const struct brand_range {
	int digits, lo, hi;
	const char *brand;
	int min_len, max_len;
} brand_ranges[] = {
    {1, 4, 4, "visa", 13, 19},         {2, 51, 55, "mastercard", 16, 16}, {4, 2221, 2720, "mastercard", 16, 16},
    {2, 34, 34, "amex", 15, 15},       {2, 37, 37, "amex", 15, 15},       {4, 3528, 3589, "jcb", 16, 19},
    {2, 62, 62, "unionpay", 16, 19},   {2, 81, 81, "unionpay", 16, 19},   {4, 6011, 6011, "discover", 16, 19},
    {3, 644, 649, "discover", 16, 19}, {2, 65, 65, "discover", 16, 19},   {3, 300, 305, "diners", 14, 19},
    {2, 36, 36, "diners", 14, 19},     {2, 38, 39, "diners", 16, 19},     {4, 2200, 2204, "mir", 16, 19},
    {2, 50, 50, "maestro", 12, 19},    {2, 56, 58, "maestro", 12, 19},    {4, 6304, 6304, "maestro", 12, 19},
    {2, 67, 67, "maestro", 12, 19},
};

static const struct bin_entry {
	const char *prefix, *funding, *issuer, *country;
} bin_table[] = {
#include "bins.inc"
};

static int prefix_value(const char *pan, int digits)
{
	int v = 0;
	for (int i = 0; i < digits; i++)
		v = v * 10 + (pan[i] - '0');
	return v;
}

const char *card_check(const char *typed, char pan[PAN_MAX + 1], struct card_info *info)
{
	size_t n = 0;
	for (const char *s = typed; *s; s++) {
		if (*s == ' ' || *s == '-')
			continue;
		if (*s < '0' || *s > '9')
			return "a card number has only digits (spaces and dashes between them are allowed)";
		if (n == PAN_MAX)
			return "a card number has at most 19 digits";
		pan[n++] = *s;
	}
	pan[n] = '\0';
	if (n < PAN_MIN)
		return "a card number has at least 12 digits";
	if (!luhn_valid(pan))
		return "the card number fails its check digit (Luhn); it was mistyped";

	const struct brand_range *best = NULL;
	for (size_t i = 0; i < ARRAY_LEN(brand_ranges); i++) {
		const struct brand_range *r = &brand_ranges[i];
		int v = prefix_value(pan, r->digits);
		if (v >= r->lo && v <= r->hi && (!best || r->digits > best->digits))
			best = r;
	}
	if (!best)
		return "the card number's first digits belong to no card brand wpay accepts";
	if ((int)n < best->min_len || (int)n > best->max_len)
		return "the card number has the wrong number of digits for its brand";

	memset(info, 0, sizeof *info);
	memcpy(info->bin, pan, 6);
	memcpy(info->last4, pan + n - 4, 4);
	info->length = (int)n;
	info->brand = best->brand;
	info->funding = "unknown";
	size_t best_len = 0;
	for (size_t i = 0; i < ARRAY_LEN(bin_table); i++) {
		size_t len = strlen(bin_table[i].prefix);
		if (len > best_len && strncmp(pan, bin_table[i].prefix, len) == 0) {
			best_len = len;
			info->funding = bin_table[i].funding;
			info->issuer = bin_table[i].issuer;
			info->country = bin_table[i].country;
		}
	}
	return NULL;
}

void card_mask(const char *bin, const char *last4, int length, char out[CARD_MASK_MAX])
{
	int stars = length - 10;
	if (stars < 0 || length > PAN_MAX)
		stars = 0;
	bufprintf(out, CARD_MASK_MAX, "%s%.*s%s", bin, stars, "*********", last4);
}

void card_fingerprint(const unsigned char key[32], const char *pan, char out[CARD_FINGERPRINT_MAX])
{
	unsigned char mac[SHA256_LEN];
	hmac_sha256(key, 32, pan, strlen(pan), mac);
	hex_encode(mac, sizeof mac, out);
}
