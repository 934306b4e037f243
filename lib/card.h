/*
 * card: bank card numbers. Luhn, brand from IIN ranges, funding and issuer
 * from the BIN table (lib/bins.tsv), masking (first 6 + last 4) and a keyed
 * fingerprint to find a card bound twice. A full number lives only in the
 * caller's buffer, which it wipes; nothing here stores or prints one.
 */
#ifndef WPAY_CARD_H
#define WPAY_CARD_H

#include <stdbool.h>

#define PAN_MIN              12
#define PAN_MAX              19
#define CARD_MASK_MAX        (PAN_MAX + 1)
#define CARD_FINGERPRINT_MAX 65

struct card_info {
	char bin[7];
	char last4[5];
	int length;
	const char *brand;   /* "unionpay", "visa", ... */
	const char *funding; /* "debit", "credit", "prepaid", "unknown" */
	const char *issuer;  /* NULL if the BIN is not in the table */
	const char *country; /* NULL if unknown */
};

bool luhn_valid(const char *digits);
/*
 * Check a number as typed (spaces and dashes allowed between digits) and
 * describe it. pan receives the bare digits. NULL on success, else why not.
 */
const char *card_check(const char *typed, char pan[PAN_MAX + 1], struct card_info *info);
/* "622202******1234" from BIN, last four and length. */
void card_mask(const char *bin, const char *last4, int length, char out[CARD_MASK_MAX]);
/* HMAC-SHA256(key, digits), hex: equal for the same card, useless without the key. */
void card_fingerprint(const unsigned char key[32], const char *pan, char out[CARD_FINGERPRINT_MAX]);

#endif
