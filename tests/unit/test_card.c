/* Unit tests for lib/card: Luhn, brands, BIN table, masking, fingerprints. */
#include <string.h>

#include "card.h"
#include "unit.h"

static const char *brand_of(const char *typed)
{
	char pan[PAN_MAX + 1];
	struct card_info info;
	return card_check(typed, pan, &info) ? "refused" : info.brand;
}

int main(void)
{
	CHECK("Luhn accepts 4111111111111111", luhn_valid("4111111111111111"));
	CHECK("Luhn refuses 4111111111111112", !luhn_valid("4111111111111112"));
	CHECK("Luhn refuses non-digits", !luhn_valid("41111111111111a1"));
	CHECK("Luhn refuses empty", !luhn_valid(""));

	CHECK("Visa", strcmp(brand_of("4111111111111111"), "visa") == 0);
	CHECK("Mastercard 51-55", strcmp(brand_of("5555555555554444"), "mastercard") == 0);
	CHECK("Mastercard 2221-2720", strcmp(brand_of("2223003122003222"), "mastercard") == 0);
	CHECK("Amex", strcmp(brand_of("378282246310005"), "amex") == 0);
	CHECK("JCB", strcmp(brand_of("3530111333300000"), "jcb") == 0);
	CHECK("Discover 6011", strcmp(brand_of("6011111111111117"), "discover") == 0);
	CHECK("UnionPay 62", strcmp(brand_of("6200000000000005"), "unionpay") == 0);
	CHECK("UnionPay 19 digits", strcmp(brand_of("6205500000000000004"), "unionpay") == 0);
	CHECK("Diners 36", strcmp(brand_of("36227206271667"), "diners") == 0);
	CHECK("spaces and dashes allowed", strcmp(brand_of("4111 1111-1111 1111"), "visa") == 0);
	CHECK("letters refused", strcmp(brand_of("4111x11111111111"), "refused") == 0);
	CHECK("too short refused", strcmp(brand_of("42424242424"), "refused") == 0);
	CHECK("too long refused", strcmp(brand_of("41111111111111111111"), "refused") == 0);
	CHECK("bad check digit refused", strcmp(brand_of("4111111111111112"), "refused") == 0);
	CHECK("unknown brand refused", strcmp(brand_of("9999999999999995"), "refused") == 0);
	CHECK("Amex with 16 digits refused", strcmp(brand_of("3782822463100052"), "refused") == 0);

	char pan[PAN_MAX + 1];
	struct card_info info;
	CHECK("ICBC debit from the BIN table",
	      card_check("6222020000000000000", pan, &info) == NULL && strcmp(info.funding, "debit") == 0 &&
	          strstr(info.issuer, "Industrial and Commercial") != NULL && strcmp(info.country, "CN") == 0);
	CHECK("BIN and last four kept",
	      strcmp(info.bin, "622202") == 0 && strcmp(info.last4, "0000") == 0 && info.length == 19);
	CHECK("unknown BIN: funding unknown, no issuer", card_check("4929000000000000", pan, &info) == NULL &&
	                                                     strcmp(info.funding, "unknown") == 0 &&
	                                                     info.issuer == NULL);

	char masked[CARD_MASK_MAX];
	card_mask("622202", "1234", 19, masked);
	CHECK("mask is first 6, stars, last 4", strcmp(masked, "622202*********1234") == 0);
	card_mask("411111", "1111", 16, masked);
	CHECK("16-digit mask", strcmp(masked, "411111******1111") == 0);

	unsigned char k1[32] = {1}, k2[32] = {2};
	char f1[CARD_FINGERPRINT_MAX], f2[CARD_FINGERPRINT_MAX], f3[CARD_FINGERPRINT_MAX];
	card_fingerprint(k1, "4111111111111111", f1);
	card_fingerprint(k1, "4111111111111111", f2);
	card_fingerprint(k2, "4111111111111111", f3);
	CHECK("fingerprint is stable", strcmp(f1, f2) == 0);
	CHECK("fingerprint depends on the key", strcmp(f1, f3) != 0);
	CHECK("fingerprint does not contain the number", strstr(f1, "4111111111111111") == NULL);
	return UNIT_DONE();
}
