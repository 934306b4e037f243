/*
 * pins: a wallet's 6-digit payment PIN: set, change, check, and the
 * lockout. A PIN is stored only as a peppered scrypt hash (the pepper is
 * a key file, not in the ledger); pin_max_tries wrong tries in a row (3)
 * lock the wallet for pin_lock_seconds (3 hours), both ledger settings.
 * PINs never come from records: from --pin-fd, else the terminal, read
 * by pins_ask while the ledger is not locked.
 */
#ifndef WPAY_PINS_H
#define WPAY_PINS_H

#include <jansson.h>

#include "batch.h"
#include "ctx.h"
#include "err.h"

#define PIN_LEN 6

/* Set or change a wallet's PIN with the PINs in c->typed (wpay_handler);
 * BATCH_ASK until pins_ask has read them. Setting a PIN the wallet
 * already has answers as the first time did, so a rerun script changes
 * nothing; the PIN given is checked like any other try, and a different
 * one is refused ("pin_exists"), counted as a wrong try ("pin_locked"
 * when it was the last). */
int pins_set(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
int pins_change(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e);
/* The batch's ask hook for "pin" requests: read the new PIN (twice on a
 * terminal, refused if trivial) and, to change one, the current PIN first,
 * into c->typed. For any other request (a wallet's transfer or
 * withdrawal), the payment PIN that confirms it, into c->typed.current.
 * BATCH_OK or BATCH_FAIL. */
int pins_ask(struct wpay_ctx *c, json_t *req, struct err *e);
/*
 * Check a PIN for a wallet: BATCH_OK, or BATCH_FAIL ("pin_not_set",
 * "bad_pin", "pin_wrong" with the tries left, "pin_locked" with the time
 * the lock ends). The try is counted and committed (store_commit_now)
 * before the PIN is compared, and cleared, committed too, when it was
 * right: whatever the caller does next, a wrong PIN has been counted.
 */
int pins_check(struct wpay_ctx *c, const char *wallet, const char *pin, struct err *e);
/* Refusal reason for a PIN that is not 6 digits or is trivial; NULL if fine. */
const char *pins_weakness(const char *pin);

#endif
