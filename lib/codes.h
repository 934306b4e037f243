/*
 * codes: payable QR payloads made by wpay, and their signatures.
 *
 * A code is an EMV MPM payload (see emv.h) for one merchant: static (01 =
 * 11, no amount: the buyer types it) or dynamic (01 = 12, an amount, a
 * reference in 62.05, an expiry). It carries a merchant account template
 * for every network that accepts the merchant (networks.h), the name and
 * city in the common character set in 59/60 and in full in 64, and two
 * unreserved templates that make it verifiable offline:
 *   89  00 "CN.WPAY", 01 the signing key id, 02 expiry (Unix seconds, dynamic codes),
 *       03 a product's SKU: a static code whose price is the catalog's at
 *       each scan (the SKU is in 62.05 too, for other readers)
 *   90  00 "WPAY", 01 Ed25519 signature, base64 without padding (86 characters)
 * The signature covers the UTF-8 bytes of everything before object 90;
 * 90 is the last object before the CRC. Any EMV parser still reads it.
 */
#ifndef WPAY_CODES_H
#define WPAY_CODES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"
#include "emv.h"
#include "keys.h"

#define CODE_META_ID       "89"
#define CODE_META_GUI      "CN.WPAY"
#define CODE_META_PRODUCT  "03"
#define CODE_SIG_ID        "90"
#define CODE_SIG_GUI       "WPAY"
#define CODE_REFERENCE_MAX 25
/* The latest expiry a code may carry: 9999-12-31T23:59:59Z, in seconds.
 * Anything larger is a malformed code (and would overflow milliseconds). */
#define CODE_EXPIRY_MAX INT64_C(253402300799)

struct code_maker {
	struct wpay_ctx *c;
	struct evp_pkey_st *key;
	char kid[KEY_ID_MAX];
};

/* Load the current signing key; 0 or a sysexits status with e set. */
int codes_maker_open(struct code_maker *m, struct wpay_ctx *c, struct err *e);
void codes_maker_close(struct code_maker *m);

/*
 * Make a code from a request: "merchant" (required), "amount" (minor
 * units; makes it dynamic), "currency" (must be the merchant's),
 * "reference" (required with an amount: 1-25 letters, digits, '_' or '-'),
 * "expires_in" (a duration, 1m to 15d, default 2h; dynamic only),
 * "product" (a SKU of the merchant's catalog: a static code for it, with
 * no amount, reference or expiry given).
 * A dynamic code is kept by (merchant, reference): asking again answers the
 * same code; the same reference with another amount is a conflict.
 * *out is a "code" record.
 */
int codes_make(struct code_maker *m, json_t *req, json_t **out, struct err *e);

struct code_check {
	/* "valid", "invalid", "absent", "unknown_key", or "untrusted": the
	 * key directory has the key id but its file or the directory is open
	 * to others, a link, or not the key it is named for (see keys.h). */
	const char *signature;
	char kid[KEY_ID_MAX];
	bool has_expiry;
	int64_t expires_ms;
	bool expired;
	const char *why;   /* for "invalid" and "untrusted": what was wrong */
	char problem[512]; /* where why points when it is made for this check */
};

/* A public key given by hand (wpay-scanqr --public-key), with its id. */
struct code_key {
	struct evp_pkey_st *key;
	char kid[KEY_ID_MAX];
};

/* Check a parsed payload's wpay signature and expiry (text is the payload
 * the parse read); the public keys are looked up by id in keys, unless a
 * key is given: then only that key is tried. */
void codes_check(const char *text, const struct emv_payload *p, struct key_ring *keys, const struct code_key *given,
                 int64_t now_ms, struct code_check *out);

/* Accents off Latin letters; true if the result is all printable ASCII. */
bool codes_ascii_fold(const char *in, char *out, size_t n);

#endif
