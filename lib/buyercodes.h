/*
 * buyercodes: the buyer's payment code, which a till or a vending machine
 * scans (Alipay's barcode pay, WeChat's micropay), in EMVCo's
 * Consumer-Presented Mode: the QR text is the base64 of BER-TLV data
 * objects,
 *   85    "CPV01", the payload format indicator
 *   61    the application template:
 *         4F    F0 57 50 41 59, a proprietary AID ("wpay")
 *         50    "WPAY", the application label
 *         5A    an 18-digit one-time token, BCD, "28" then 16 random digits
 *         63    9F26, 8 bytes: HMAC-SHA256 under the ledger's card key of
 *               what 61 holds before 63, cut to 8 bytes
 * The token names one code of one wallet in the ledger (kept only as its
 * keyed hash): it is made after the wallet's PIN, lives a minute unless
 * asked otherwise (at most 5), and is charged once. A code that fails
 * its MAC was altered; one the ledger does not know was never made here.
 *
 * Charging places the merchant's order for the buyer bound to the wallet
 * and, when the amount is at most the wallet currency's no-PIN limit
 * ("code_no_pin_limit", wpay init --code-no-pin-limit, 1000 major units
 * unless set), pays it from the wallet at once; above it the order waits
 * for the buyer to confirm it with the PIN (wpay pay --order). A replay of
 * the same charge (merchant, out_trade_no, code) answers the same.
 */
#ifndef WPAY_BUYERCODES_H
#define WPAY_BUYERCODES_H

#include <jansson.h>

#include "ctx.h"
#include "err.h"
#include "keys.h"
#include "money.h"
#include "payments.h"

#define BUYERCODE_NO_PIN_DEFAULT "1000"
#define BUYERCODE_TOKEN_MAX      19 /* 18 digits and the NUL */

/* Make a code for {"buyer": wallet ref, "expires_in"?} (a wpay_handler;
 * BATCH_ASK until the PIN is in c->typed.current): a "buyer_code" record. */
int buyercodes_make(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
/* Charge {"merchant", "scanned", "amount", "out_trade_no", "currency"?,
 * "terminal"?}: a "payment" record, or an "order" record with
 * "awaiting": "buyer_pin" above the no-PIN limit. */
int buyercodes_charge(struct wpay_ctx *c, struct payer *p, json_t *req, json_t **out, struct err *e);
/* The token of a scanned code's text, its cryptogram checked under key
 * (the ledger's card key): 0, or ERR_FAIL "bad_code" or "foreign_code".
 * Reads nothing else: any text is safe to give it. */
int buyercodes_decode(const unsigned char key[KEY_SECRET_LEN], const char *text, char token[BUYERCODE_TOKEN_MAX],
                      struct err *e);

#endif
