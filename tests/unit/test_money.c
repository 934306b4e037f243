/* Unit tests for lib/money: parsing and formatting minor units. */
#include <string.h>

#include "money.h"
#include "unit.h"

static bool parses(const char *text, const char *cur, int64_t want)
{
	int64_t v = -12345;
	return money_parse(text, currency_find(cur), false, &v) == NULL && v == want;
}

static bool refused(const char *text, const char *cur, bool neg)
{
	int64_t v = 777;
	return money_parse(text, currency_find(cur), neg, &v) != NULL && v == 777;
}

static bool formats(int64_t v, const char *cur, const char *want)
{
	char buf[MONEY_TEXT_MAX];
	money_format(v, currency_find(cur), buf);
	return strcmp(buf, want) == 0;
}

int main(void)
{
	CHECK("12.34 CNY is 1234 fen", parses("12.34", "CNY", 1234));
	CHECK("12 CNY is 1200 fen", parses("12", "CNY", 1200));
	CHECK("0.01 CNY is 1 fen", parses("0.01", "CNY", 1));
	CHECK("12.3 CNY is 1230 fen", parses("12.3", "CNY", 1230));
	CHECK("0 is zero", parses("0", "CNY", 0));
	CHECK("JPY has no minor unit: 500 is 500", parses("500", "JPY", 500));
	CHECK("KWD has three decimals", parses("1.234", "KWD", 1234));
	CHECK("the limit itself parses", parses("10000000000000.00", "CNY", MONEY_MAX));
	CHECK("negative refused where not allowed", refused("-1.00", "CNY", false));
	int64_t v;
	CHECK("negative allowed when asked", money_parse("-1.50", currency_find("CNY"), true, &v) == NULL && v == -150);
	CHECK("three decimals refused for CNY", refused("0.001", "CNY", false));
	CHECK("decimals refused for JPY", refused("5.5", "JPY", false));
	CHECK("exponent refused", refused("1e3", "CNY", false));
	CHECK("thousands separator refused", refused("20,000.00", "CNY", false));
	CHECK("over the limit refused", refused("10000000000000.01", "CNY", false));
	CHECK("int64 overflow refused", refused("9223372036854775808", "CNY", false));
	CHECK("huge refused", refused("99999999999999999999999999", "CNY", false));
	CHECK("empty refused", refused("", "CNY", false));
	CHECK("lone point refused", refused(".", "CNY", false));
	CHECK("leading point refused", refused(".5", "CNY", false));
	CHECK("trailing point refused", refused("5.", "CNY", false));
	CHECK("plus sign refused", refused("+5", "CNY", false));
	CHECK("spaces refused", refused(" 5", "CNY", false));
	CHECK("garbage refused", refused("abc", "CNY", false));
	CHECK("hex refused", refused("0x10", "CNY", false));
	CHECK("NaN refused", refused("NaN", "CNY", false));

	CHECK("1234 formats as 12.34", formats(1234, "CNY", "12.34"));
	CHECK("1 formats as 0.01", formats(1, "CNY", "0.01"));
	CHECK("-150 formats as -1.50", formats(-150, "CNY", "-1.50"));
	CHECK("JPY formats without a point", formats(500, "JPY", "500"));
	CHECK("KWD formats with three decimals", formats(1234, "KWD", "1.234"));
	CHECK("INT64_MIN formats without overflow", formats(INT64_MIN, "JPY", "-9223372036854775808"));

	CHECK("CNY by alpha", currency_find("CNY") && currency_find("CNY")->code == 156);
	CHECK("CNY by numeric 156", currency_find("156") == currency_find("CNY"));
	CHECK("BHD by numeric 048", currency_find("048") && strcmp(currency_find("048")->alpha, "BHD") == 0);
	const char *required[] = {"CNY", "USD", "EUR", "JPY", "BRL", "THB", "SGD", "KHR", "VND", "INR", "HKD"};
	bool all = true;
	for (size_t i = 0; i < sizeof required / sizeof *required; i++)
		all &= currency_find(required[i]) != NULL;
	CHECK("every currency the issue names is known", all);
	CHECK("VND has no minor unit", currency_find("VND")->minor == 0);
	CHECK("lower case is not a code", currency_find("cny") == NULL);
	CHECK("unknown code", currency_find("XXQ") == NULL);

	int64_t ppm;
	CHECK("decimal 0.6 at scale 4 is 6000", decimal_parse("0.6", 4, 100000, &ppm) == NULL && ppm == 6000);
	CHECK("decimal over max refused", decimal_parse("10.0001", 4, 100000, &ppm) != NULL);
	int64_t sum;
	CHECK("money_add detects overflow", !money_add(INT64_MAX, 1, &sum));
	CHECK("money_add adds", money_add(2, 3, &sum) && sum == 5);
	return UNIT_DONE();
}
