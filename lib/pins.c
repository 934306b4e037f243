/* pins: see pins.h. */
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "batch.h"
#include "clock.h"
#include "crypto.h"
#include "pins.h"

#include "util.h"

const char *pins_weakness(const char *p)
{
	if (strlen(p) != PIN_LEN || strspn(p, "0123456789") != PIN_LEN)
		return "a payment PIN is exactly 6 digits";
	bool same = true, up = true, down = true, pairs = true, period2 = true, period3 = true;
	for (int i = 1; i < PIN_LEN; i++) {
		same &= p[i] == p[0];
		up &= p[i] == p[i - 1] + 1;
		down &= p[i] == p[i - 1] - 1;
		period2 &= p[i] == p[i % 2];
		period3 &= p[i] == p[i % 3];
	}
	pairs = p[0] == p[1] && p[2] == p[3] && p[4] == p[5];
	if (same)
		return "a PIN of one repeated digit is too easy to guess";
	if (up || down)
		return "a PIN of sequential digits is too easy to guess";
	if (period2 || period3 || pairs)
		return "a PIN of a repeated pattern (121212, 123123, 112233) is too easy to guess";
	return NULL;
}

static int64_t setting_int(struct store *st, const char *name, int64_t fallback)
{
	char *v = store_setting(st, name, NULL);
	int64_t n = v ? strtoll(v, NULL, 10) : fallback;
	free(v);
	return n > 0 ? n : fallback;
}

static int check(struct wpay_ctx *c, const char *wallet, const char *pin, struct err *e);

int pins_check(struct wpay_ctx *c, const char *wallet, const char *pin, struct err *e)
{
	/* One check of a wallet at a time, from its count to its verdict:
	 * workers on other hosts checking the same right PIN would otherwise
	 * see each other's counted tries as a lock. */
	char name[ID_MAX + 8];
	bufprintf(name, sizeof name, "pin:%s", wallet);
	store_lock_name(c->st, name);
	int rc = check(c, wallet, pin, e);
	store_unlock_name(c->st, name);
	return rc;
}

static int check(struct wpay_ctx *c, const char *wallet, const char *pin, struct err *e)
{
	struct store_stmt *q =
	    store_query(c->st, "SELECT pin_hash, pin_failures, locked_until FROM wallets WHERE id = ?", "t", wallet);
	if (store_step(q) != STORE_ROW) {
		store_done(q);
		return err_fail(e, ERR_FAIL, "not_found", "no wallet %s", wallet);
	}
	char *hash = store_col_null(q, 0) ? NULL : xstrdup(store_col_text(q, 0));
	int64_t failures = store_col_int(q, 1);
	int64_t locked_until = store_col_null(q, 2) ? 0 : store_col_int(q, 2);
	store_done(q);

	int64_t now = clock_now_ms();
	int64_t max_tries = setting_int(c->st, "pin_max_tries", 3);
	int64_t lock_ms = setting_int(c->st, "pin_lock_seconds", 3 * 3600) * 1000;
	char until[CLOCK_TEXT_MAX];
	int rc = BATCH_OK;
	if (!hash) {
		err_fail(e, ERR_FAIL, "pin_not_set", "wallet %s has no payment PIN; set one with 'wpay bind pin set'",
		         wallet);
		rc = BATCH_FAIL;
	} else if (locked_until && now < locked_until) {
		clock_format(locked_until, until);
		err_fail(e, ERR_FAIL, "pin_locked",
		         "wallet %s is locked after too many wrong PINs until %s; try again then", wallet, until);
		rc = BATCH_FAIL;
	} else if (strlen(pin) != PIN_LEN || strspn(pin, "0123456789") != PIN_LEN) {
		err_fail(e, ERR_FAIL, "bad_pin", "a payment PIN is exactly 6 digits");
		rc = BATCH_FAIL;
	} else {
		/* Count this try as wrong, locking if it is the last, and commit
		 * that before the PIN is even compared: a caller killed the moment
		 * it could tell the answer (output, exit, timing) has still used
		 * the try. A right PIN then clears the count, durably too, so a
		 * record that fails later (no funds) does not cost a try. */
		/* One statement counts the try, so two workers checking PINs for
		 * the same wallet at once cannot both read the old count. An old
		 * lock that has run out starts the count afresh; a lock another
		 * worker has just placed is kept (no row). */
		struct store_stmt *u = store_query(
		    c->st,
		    "UPDATE wallets SET"
		    " pin_failures = CASE WHEN (CASE WHEN locked_until IS NULL THEN pin_failures ELSE 0 END) + 1 >= ?1"
		    " THEN 0 ELSE (CASE WHEN locked_until IS NULL THEN pin_failures ELSE 0 END) + 1 END,"
		    " locked_until = CASE WHEN (CASE WHEN locked_until IS NULL THEN pin_failures ELSE 0 END) + 1 >= ?1"
		    " THEN ?2 END"
		    " WHERE id = ?3 AND (locked_until IS NULL OR locked_until <= ?4)"
		    " RETURNING pin_failures, locked_until",
		    "iiti", max_tries, now + lock_ms, wallet, now);
		bool counted = store_step(u) == STORE_ROW;
		bool locks = counted && !store_col_null(u, 1);
		failures = locks ? max_tries : counted ? store_col_int(u, 0) : max_tries;
		store_done(u);
		if (!counted) {
			free(hash);
			return err_fail(e, ERR_FAIL, "pin_locked",
			                "wallet %s has just been locked after too many wrong PINs; try again later",
			                wallet);
		}
		store_commit_now(c->st);
		if (pin_hash_verify(c->pin_pepper, sizeof c->pin_pepper, pin, hash)) {
			store_exec(c->st, "UPDATE wallets SET pin_failures = 0, locked_until = NULL WHERE id = ?", "t",
			           wallet);
			store_commit_now(c->st);
		} else if (locks) {
			clock_format(now + lock_ms, until);
			err_fail(e, ERR_FAIL, "pin_locked",
			         "wrong PIN, %lld times in a row: wallet %s is locked until %s", (long long)failures,
			         wallet, until);
			rc = BATCH_FAIL;
		} else {
			err_fail(e, ERR_FAIL, "pin_wrong", "wrong PIN for wallet %s; %lld %s left before it locks",
			         wallet, (long long)(max_tries - failures),
			         max_tries - failures == 1 ? "try" : "tries");
			rc = BATCH_FAIL;
		}
	}
	free(hash);
	return rc;
}

/* Read a new PIN (twice on a terminal) and check it is not trivial. */
static int read_new_pin(struct wpay_ctx *c, char pin[PIN_BUF], struct err *e)
{
	if (secret_read(&c->pins, "New payment PIN (6 digits): ", pin, PIN_BUF, e))
		return ERR_FAIL;
	const char *why = pins_weakness(pin);
	if (why)
		return err_fail(e, ERR_FAIL, "pin_weak", "%s; choose another", why);
	if (c->pins.fd < 0) {
		char again[PIN_BUF];
		int rc = secret_read(&c->pins, "Again: ", again, sizeof again, e);
		bool same = rc == 0 && strcmp(pin, again) == 0;
		crypto_wipe(again, sizeof again);
		if (rc)
			return ERR_FAIL;
		if (!same)
			return err_fail(e, ERR_FAIL, "pin_mismatch", "the two PINs differ; nothing was changed");
	}
	return 0;
}

int pins_ask(struct wpay_ctx *c, json_t *req, struct err *e)
{
	const char *op = json_string_value(json_object_get(req, "op"));
	const char *type = json_string_value(json_object_get(req, "type"));
	bool change = op && strcmp(op, "change") == 0;
	crypto_wipe(&c->typed, sizeof c->typed);
	if (!type || strcmp(type, "pin") != 0) {
		/* Money going out of the wallet: its PIN confirms it. */
		if (secret_read(&c->pins, "Payment PIN: ", c->typed.current, PIN_BUF, e)) {
			crypto_wipe(&c->typed, sizeof c->typed);
			return BATCH_FAIL;
		}
		c->typed.ready = true;
		return BATCH_OK;
	}
	if ((change && secret_read(&c->pins, "Current payment PIN: ", c->typed.current, PIN_BUF, e)) ||
	    read_new_pin(c, c->typed.fresh, e)) {
		crypto_wipe(&c->typed, sizeof c->typed);
		return BATCH_FAIL;
	}
	c->typed.ready = true;
	return BATCH_OK;
}

static json_t *pin_record(const char *wallet, const char *status)
{
	return json_pack("{s:s, s:s, s:s}", "type", "pin", "wallet", wallet, "status", status);
}

static int store_pin(struct wpay_ctx *c, const char *wallet, const char *pin, const char *status, json_t **out)
{
	char hash[PIN_HASH_MAX];
	pin_hash(c->pin_pepper, sizeof c->pin_pepper, pin, hash);
	store_exec(c->st, "UPDATE wallets SET pin_hash = ?, pin_failures = 0, locked_until = NULL WHERE id = ?", "tt",
	           hash, wallet);
	*out = pin_record(wallet, status);
	return BATCH_OK;
}

/* What pin set and pin change share: the wallet, and the PINs typed for
 * it (BATCH_ASK until they are). */
static int pin_request(struct wpay_ctx *c, json_t *req, char wallet[ID_MAX], struct err *e)
{
	if (json_object_get(req, "pin") || json_object_get(req, "old_pin"))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "PINs are never taken from records; pass them with --pin-fd N");
	if (accounts_get_wallet(c->st, req, wallet, e))
		return BATCH_FAIL;
	return c->typed.ready ? BATCH_OK : BATCH_ASK;
}

int pins_set(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char wallet[ID_MAX];
	int rc = pin_request(c, req, wallet, e);
	if (rc != BATCH_OK)
		return rc;
	struct store_stmt *q = store_query(c->st, "SELECT pin_hash IS NOT NULL FROM wallets WHERE id = ?", "t", wallet);
	bool has = store_step(q) == STORE_ROW && store_col_int(q, 0);
	store_done(q);
	if (!has)
		return store_pin(c, wallet, c->typed.fresh, "set", out);
	/* Set before: the same PIN again (a script run twice) answers as the
	 * first time did. It is checked as every try is, counted and locked
	 * on, or this would be a way to guess PINs past the lockout. */
	rc = pins_check(c, wallet, c->typed.fresh, e);
	if (rc == BATCH_OK) {
		*out = pin_record(wallet, "set");
		return BATCH_OK;
	}
	if (strcmp(e->code, "pin_wrong") != 0)
		return rc;
	char why[sizeof e->msg];
	strlcopy(why, e->msg, sizeof why);
	return err_fail(e, ERR_FAIL, "pin_exists",
	                "wallet %s already has another PIN; change it with 'wpay bind pin change' (this counted as "
	                "a wrong try: %s)",
	                wallet, why);
}

int pins_change(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char wallet[ID_MAX];
	int rc = pin_request(c, req, wallet, e);
	if (rc == BATCH_OK)
		rc = pins_check(c, wallet, c->typed.current, e);
	return rc == BATCH_OK ? store_pin(c, wallet, c->typed.fresh, "changed", out) : rc;
}
