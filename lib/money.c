/* money: see money.h. */
#include <stdio.h>
#include <string.h>

#include "money.h"

#include "util.h"

static const struct currency currencies[] = {
    {"CNY", 156, 2, "Chinese yuan renminbi"},
    {"HKD", 344, 2, "Hong Kong dollar"},
    {"TWD", 901, 2, "New Taiwan dollar"},
    {"MOP", 446, 2, "Macanese pataca"},
    {"USD", 840, 2, "US dollar"},
    {"EUR", 978, 2, "Euro"},
    {"GBP", 826, 2, "Pound sterling"},
    {"JPY", 392, 0, "Japanese yen"},
    {"KRW", 410, 0, "South Korean won"},
    {"BRL", 986, 2, "Brazilian real"},
    {"THB", 764, 2, "Thai baht"},
    {"SGD", 702, 2, "Singapore dollar"},
    {"MYR", 458, 2, "Malaysian ringgit"},
    {"IDR", 360, 2, "Indonesian rupiah"},
    {"PHP", 608, 2, "Philippine peso"},
    {"KHR", 116, 2, "Cambodian riel"},
    {"VND", 704, 0, "Vietnamese dong"},
    {"INR", 356, 2, "Indian rupee"},
    {"AUD", 36, 2, "Australian dollar"},
    {"CAD", 124, 2, "Canadian dollar"},
    {"CHF", 756, 2, "Swiss franc"},
    {"MXN", 484, 2, "Mexican peso"},
    {"KWD", 414, 3, "Kuwaiti dinar"},
    {"BHD", 48, 3, "Bahraini dinar"},
};

const struct currency *currency_find(const char *code)
{
	if (!code)
		return NULL;
	bool numeric = strlen(code) == 3 && code[0] >= '0' && code[0] <= '9';
	for (size_t i = 0; i < ARRAY_LEN(currencies); i++) {
		if (numeric) {
			char num[4];
			bufprintf(num, sizeof num, "%03u", currencies[i].code);
			if (strcmp(num, code) == 0)
				return &currencies[i];
		} else if (strcmp(currencies[i].alpha, code) == 0) {
			return &currencies[i];
		}
	}
	return NULL;
}

const struct currency *currency_default(void)
{
	return &currencies[0];
}

/* Shared by money and rates: [-]digits[.digits], at most `scale` decimals. */
static const char *parse_fixed(const char *s, int scale, bool allow_negative, int64_t max, int64_t *out)
{
	bool neg = false;
	if (!s || !*s)
		return "empty amount";
	if (*s == '-') {
		if (!allow_negative)
			return "negative amounts are not allowed here";
		neg = true;
		s++;
	}
	if (*s < '0' || *s > '9')
		return "expected digits, e.g. 12.34";
	int64_t v = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (max - (*s - '0')) / 10)
			return "amount is too large";
		v = v * 10 + (*s - '0');
	}
	int decimals = 0;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return "expected digits after the decimal point";
		for (; *s >= '0' && *s <= '9'; s++, decimals++) {
			if (decimals >= scale)
				return scale == 0 ? "this currency has no minor unit; give a whole number"
				                  : "more decimals than the currency has";
			if (v > (max - (*s - '0')) / 10)
				return "amount is too large";
			v = v * 10 + (*s - '0');
		}
	}
	if (*s == 'e' || *s == 'E')
		return "exponents are not allowed; write the amount out, e.g. 1000.00";
	if (*s == ',')
		return "no thousands separators; write e.g. 20000.00";
	if (*s)
		return "unexpected text after the amount";
	for (; decimals < scale; decimals++) {
		if (v > max / 10)
			return "amount is too large";
		v *= 10;
	}
	if (v > max)
		return "amount is too large";
	*out = neg ? -v : v;
	return NULL;
}

const char *money_parse(const char *text, const struct currency *c, bool allow_negative, int64_t *out)
{
	return parse_fixed(text, c->minor, allow_negative, MONEY_MAX, out);
}

const char *decimal_parse(const char *text, int scale, int64_t max, int64_t *out)
{
	return parse_fixed(text, scale, false, max, out);
}

void decimal_format(int64_t v, int scale, char buf[MONEY_TEXT_MAX])
{
	/* Work in unsigned so INT64_MIN has a magnitude. */
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	uint64_t div = 1;
	for (int i = 0; i < scale; i++)
		div *= 10;
	if (scale == 0)
		bufprintf(buf, MONEY_TEXT_MAX, "%s%llu", v < 0 ? "-" : "", (unsigned long long)mag);
	else
		bufprintf(buf, MONEY_TEXT_MAX, "%s%llu.%0*llu", v < 0 ? "-" : "", (unsigned long long)(mag / div),
		          scale, (unsigned long long)(mag % div));
}

void money_format(int64_t amount, const struct currency *c, char buf[MONEY_TEXT_MAX])
{
	decimal_format(amount, c->minor, buf);
}

bool money_add(int64_t a, int64_t b, int64_t *out)
{
	return !__builtin_add_overflow(a, b, out);
}
