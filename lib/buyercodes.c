/* buyercodes: the buyer's one-time payment code. See buyercodes.h. */
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "batch.h"
#include "buyercodes.h"
#include "clock.h"
#include "crypto.h"
#include "ids.h"
#include "orders.h"
#include "pins.h"
#include "wallets.h"

#include "util.h"

#define TOKEN_DIGITS   18
#define TOKEN_BYTES    (TOKEN_DIGITS / 2)
#define MAC_LEN        8
#define TTL_DEFAULT    60000
#define TTL_MIN        10000
#define TTL_MAX        300000
#define PAYLOAD_MAX    128 /* base64 of the 46 bytes a code is: 64 characters */
#define CODE_FORMAT    "CPV01"
#define CODE_LABEL     "WPAY"
#define MAC_DOMAIN     "wpay-cpm-1"
#define TOKEN_DOMAIN   "wpay-cpm-token"
#define TOKEN_HASH_MAX (2 * SHA256_LEN + 1)

/* A proprietary AID (first byte F: no registered RID): "wpay". */
static const unsigned char wpay_aid[] = {0xF0, 0x57, 0x50, 0x41, 0x59};

struct tlv {
	unsigned char b[96];
	size_t n;
};

static void tlv_put(struct tlv *t, const char *tag_hex, const void *value, size_t len)
{
	size_t tl = strlen(tag_hex) / 2;
	hex_decode(tag_hex, t->b + t->n, tl);
	t->n += tl;
	t->b[t->n++] = (unsigned char)len;
	memcpy(t->b + t->n, value, len);
	t->n += len;
}

/* What the application template holds before 63: 4F, 50 and 5A, 24 bytes. */
#define SIGNED_LEN (2 + sizeof wpay_aid + 2 + 4 + 2 + TOKEN_BYTES)

/* The MAC of the n (SIGNED_LEN) bytes the application template holds
 * before 63; decode makes sure of n before it asks. */
static void code_mac(const unsigned char key[KEY_SECRET_LEN], const unsigned char *app, size_t n,
                     unsigned char mac[MAC_LEN])
{
	unsigned char msg[sizeof MAC_DOMAIN + SIGNED_LEN], full[SHA256_LEN];
	if (n != SIGNED_LEN)
		abort();                            /* a bug: decode checks it */
	memcpy(msg, MAC_DOMAIN, sizeof MAC_DOMAIN); /* with its NUL: the domain ends there */
	memcpy(msg + sizeof MAC_DOMAIN, app, n);
	hmac_sha256(key, KEY_SECRET_LEN, msg, sizeof MAC_DOMAIN + n, full);
	memcpy(mac, full, MAC_LEN);
}

/* The ledger keeps a token only as this. */
static void token_hash(const struct wpay_ctx *c, const char *token, char out[TOKEN_HASH_MAX])
{
	unsigned char msg[sizeof TOKEN_DOMAIN + TOKEN_DIGITS], h[SHA256_LEN];
	memcpy(msg, TOKEN_DOMAIN, sizeof TOKEN_DOMAIN);
	memcpy(msg + sizeof TOKEN_DOMAIN, token, TOKEN_DIGITS);
	hmac_sha256(c->card_key, sizeof c->card_key, msg, sizeof msg, h);
	hex_encode(h, SHA256_LEN, out);
}

/* "28" and 16 random digits, as an Alipay payment code starts 25-30. */
static void new_token(char token[TOKEN_DIGITS + 1])
{
	token[0] = '2', token[1] = '8';
	for (int i = 2; i < TOKEN_DIGITS;) {
		unsigned char r;
		crypto_random(&r, 1);
		if (r < 250) /* no bias towards low digits */
			token[i++] = (char)('0' + r % 10);
	}
	token[TOKEN_DIGITS] = '\0';
}

static void build(const struct wpay_ctx *c, const char *token, char payload[PAYLOAD_MAX])
{
	unsigned char bcd[TOKEN_BYTES];
	for (int i = 0; i < TOKEN_BYTES; i++)
		bcd[i] = (unsigned char)((token[2 * i] - '0') << 4 | (token[2 * i + 1] - '0'));
	struct tlv app = {0}, mac_tlv = {0}, all = {0};
	tlv_put(&app, "4F", wpay_aid, sizeof wpay_aid);
	tlv_put(&app, "50", CODE_LABEL, strlen(CODE_LABEL));
	tlv_put(&app, "5A", bcd, sizeof bcd);
	unsigned char mac[MAC_LEN];
	code_mac(c->card_key, app.b, app.n, mac);
	tlv_put(&mac_tlv, "9F26", mac, sizeof mac);
	tlv_put(&app, "63", mac_tlv.b, mac_tlv.n);
	tlv_put(&all, "85", CODE_FORMAT, strlen(CODE_FORMAT));
	tlv_put(&all, "61", app.b, app.n);
	base64_encode_nopad(all.b, all.n, payload);
	/* RFC 4648 base64, as EMV's CPM has it: padded. */
	for (size_t len = strlen(payload); len % 4; len++)
		payload[len] = '=', payload[len + 1] = '\0';
}

/* Read one TLV at *pos of b (n bytes) whose tag is tag_hex: its value and
 * length; false if it is not there, as it should be. */
static bool tlv_take(const unsigned char *b, size_t n, size_t *pos, const char *tag_hex, const unsigned char **value,
                     size_t *len)
{
	unsigned char tag[2];
	size_t tl = strlen(tag_hex) / 2;
	hex_decode(tag_hex, tag, tl);
	if (*pos + tl + 1 > n || memcmp(b + *pos, tag, tl) != 0)
		return false;
	*len = b[*pos + tl];
	if (*len > 127 || *pos + tl + 1 + *len > n)
		return false;
	*value = b + *pos + tl + 1;
	*pos += tl + 1 + *len;
	return true;
}

int buyercodes_decode(const unsigned char key[KEY_SECRET_LEN], const char *text, char token[BUYERCODE_TOKEN_MAX],
                      struct err *e)
{
	char clean[PAYLOAD_MAX];
	size_t len = strlen(text);
	while (len && text[len - 1] == '=')
		len--;
	if (len == 0 || len >= sizeof clean)
		return err_fail(e, ERR_FAIL, "bad_code", "not a buyer's payment code (EMV CPM): %zu characters",
		                strlen(text));
	memcpy(clean, text, len);
	clean[len] = '\0';
	unsigned char b[96];
	int n = base64_decode_nopad(clean, b, sizeof b);
	const unsigned char *v, *app, *fmt;
	size_t vlen, app_len, fmt_len, pos = 0, apos = 0;
	if (n < 0 || !tlv_take(b, (size_t)n, &pos, "85", &fmt, &fmt_len) ||
	    !tlv_take(b, (size_t)n, &pos, "61", &app, &app_len) || pos != (size_t)n || fmt_len != 5 ||
	    memcmp(fmt, CODE_FORMAT, 5) != 0)
		return err_fail(e, ERR_FAIL, "bad_code",
		                "not a buyer's payment code: EMV CPM is base64 of 85 \"CPV01\" and an application "
		                "template 61");
	if (!tlv_take(app, app_len, &apos, "4F", &v, &vlen) || vlen != sizeof wpay_aid ||
	    memcmp(v, wpay_aid, vlen) != 0)
		return err_fail(e, ERR_FAIL, "foreign_code",
		                "this payment code is another wallet's (its application is not wpay's): it is paid "
		                "there, not here");
	const unsigned char *digits;
	size_t dlen;
	if (!tlv_take(app, app_len, &apos, "50", &v, &vlen) || vlen != strlen(CODE_LABEL) ||
	    memcmp(v, CODE_LABEL, vlen) != 0 || !tlv_take(app, app_len, &apos, "5A", &digits, &dlen) ||
	    dlen != TOKEN_BYTES || apos != SIGNED_LEN)
		return err_fail(e, ERR_FAIL, "bad_code",
		                "a wpay payment code holds its label (50, \"" CODE_LABEL
		                "\") and its token (5A, 9 bytes)");
	size_t signed_len = apos;
	const unsigned char *tmpl, *mac;
	size_t tmpl_len, mac_len, mpos = 0;
	if (!tlv_take(app, app_len, &apos, "63", &tmpl, &tmpl_len) || apos != app_len ||
	    !tlv_take(tmpl, tmpl_len, &mpos, "9F26", &mac, &mac_len) || mac_len != MAC_LEN || mpos != tmpl_len)
		return err_fail(e, ERR_FAIL, "bad_code", "a wpay payment code ends with its cryptogram (63, 9F26)");
	unsigned char want[MAC_LEN];
	code_mac(key, app, signed_len, want);
	if (!ct_equal(want, mac, MAC_LEN))
		return err_fail(e, ERR_FAIL, "bad_code",
		                "the payment code was altered (its cryptogram does not hold); ask the buyer to show it "
		                "again");
	for (int i = 0; i < TOKEN_BYTES; i++) {
		int hi = digits[i] >> 4, lo = digits[i] & 15;
		if (hi > 9 || lo > 9)
			return err_fail(e, ERR_FAIL, "bad_code", "the payment code's token is not digits");
		token[2 * i] = (char)('0' + hi), token[2 * i + 1] = (char)('0' + lo);
	}
	token[TOKEN_DIGITS] = '\0';
	return 0;
}

/* The user bound to the wallet: a code pays as that buyer. */
static int bound_user(struct store *st, const char *wallet, char uid[UID_MAX + 1], struct err *e)
{
	struct store_stmt *q =
	    store_query(st, "SELECT uid FROM bindings WHERE wallet_id = ? AND unbound_at IS NULL", "t", wallet);
	bool found = store_step(q) == STORE_ROW;
	if (found)
		strlcopy(uid, store_col_text(q, 0), UID_MAX + 1);
	store_done(q);
	return found ? 0
	             : err_fail(e, ERR_FAIL, "not_bound",
	                        "wallet %s is bound to no user; a payment code pays as the wallet's user: bind one",
	                        wallet);
}

int buyercodes_make(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	const char *ref, *expires_in = NULL;
	char wallet[ID_MAX], uid[UID_MAX + 1];
	if (json_object_get(req, "pin"))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "PINs are never taken from records; pass them with --pin-fd N");
	if (rec_get_str(req, "buyer", true, 0, &ref, e) || accounts_wallet_ref(c->st, ref, wallet, e) ||
	    rec_get_str(req, "expires_in", false, 16, &expires_in, e) || bound_user(c->st, wallet, uid, e))
		return BATCH_FAIL;
	int64_t ttl = TTL_DEFAULT;
	if (expires_in && (!clock_parse_duration(expires_in, &ttl) || ttl < TTL_MIN || ttl > TTL_MAX))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "expires_in '%s' must be a duration from 10s to 5m for a payment code", expires_in);
	if (!c->typed.ready)
		return BATCH_ASK;
	int rc = pins_check(c, wallet, c->typed.current, e);
	if (rc != BATCH_OK)
		return rc;
	char token[TOKEN_DIGITS + 1], hash[TOKEN_HASH_MAX], payload[PAYLOAD_MAX], created[CLOCK_TEXT_MAX],
	    expires[CLOCK_TEXT_MAX];
	int64_t now = clock_now_ms();
	clock_format(now, created);
	clock_format(now + ttl, expires);
	/* A token met before (one in 10^16 a pair) is drawn again: a code
	 * must never name another wallet's row. */
	enum store_result r = STORE_CONSTRAINT;
	for (int tries = 0; r == STORE_CONSTRAINT && tries < 8; tries++) {
		new_token(token);
		token_hash(c, token, hash);
		r = store_exec(
		    c->st, "INSERT INTO buyer_codes(token_hash, wallet_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
		    "ttti", hash, wallet, created, now + ttl);
	}
	if (r == STORE_CONSTRAINT) {
		crypto_wipe(token, sizeof token);
		return err_fail(e, ERR_FAIL, "internal", "could not draw a new payment code token; try again");
	}
	build(c, token, payload);
	crypto_wipe(token, sizeof token);
	char buyer[USER_REF_MAX];
	*out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "buyer_code", "buyer", ids_user(uid, buyer),
	                 "wallet", wallet, "payload", payload, "created_at", created, "expires_at", expires);
	crypto_wipe(payload, sizeof payload);
	return BATCH_OK;
}

int buyercodes_charge(struct wpay_ctx *c, struct payer *p, json_t *req, json_t **out, struct err *e)
{
	const char *scanned;
	char token[TOKEN_DIGITS + 1], hash[TOKEN_HASH_MAX];
	/* The till does not speak for the buyer: it cannot make the buyer
	 * follow or share, name who pays, or choose what pays. */
	if (p->follow || p->share || p->buyer || p->source || json_object_get(req, "buyer") ||
	    json_object_get(req, "source"))
		return err_fail(
		    e, ERR_FAIL, "bad_option",
		    "a charge of a buyer's code pays as the code's buyer, from the wallet: no --buyer, --source, "
		    "--follow or --share");
	if (rec_get_str(req, "scanned", true, 0, &scanned, e) || buyercodes_decode(c->card_key, scanned, token, e))
		return BATCH_FAIL;
	token_hash(c, token, hash);
	crypto_wipe(token, sizeof token);
	/* Locked where the engine can: two tills with the same code take it in turn. */
#define CODE_ROW "SELECT wallet_id, expires_at, COALESCE(order_id, '') FROM buyer_codes WHERE token_hash = ?"
	static const struct store_sql code_row = {CODE_ROW, CODE_ROW " FOR UPDATE"};
	struct store_stmt *q = store_query_sql(c->st, &code_row, "t", hash);
	bool found = store_step(q) == STORE_ROW;
	char wallet[ID_MAX] = "", used_by[ID_MAX] = "";
	int64_t expires_ms = 0;
	if (found) {
		strlcopy(wallet, store_col_text(q, 0), sizeof wallet);
		expires_ms = store_col_int(q, 1);
		strlcopy(used_by, store_col_text(q, 2), sizeof used_by);
	}
	store_done(q);
	if (!found)
		return err_fail(e, ERR_FAIL, "bad_code",
		                "no such payment code: this ledger never made it; ask the buyer to show it again");
	char uid[UID_MAX + 1], buyer[USER_REF_MAX];
	if (bound_user(c->st, wallet, uid, e))
		return BATCH_FAIL;
	/* The merchant's order, for the code's buyer: the same request again
	 * finds the same order. */
	json_t *oreq = json_pack("{s:s}", "buyer", ids_user(uid, buyer));
	static const char *const fields[] = {"merchant", "out_trade_no", "amount", "currency", "subject", "terminal"};
	for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
		json_t *v = json_object_get(req, fields[i]);
		if (v)
			json_object_set(oreq, fields[i], v);
	}
	json_t *order = NULL;
	int rc = orders_create(c, oreq, &order, e);
	json_decref(oreq);
	if (rc != BATCH_OK)
		return rc;
	char id[ID_MAX];
	strlcopy(id, json_string_value(json_object_get(order, "id")), sizeof id);
	int64_t amount = json_integer_value(json_object_get(order, "amount"));
	char currency[8];
	strlcopy(currency, json_string_value(json_object_get(order, "currency")), sizeof currency);
	/* Nothing of the other sale, nor of the buyer, is said to this till. */
	if (*used_by && strcmp(used_by, id) != 0) {
		json_decref(order);
		return err_fail(e, ERR_FAIL, "code_used",
		                "this payment code was used already; it is good once: ask the buyer for a new one");
	}
	if (!*used_by) {
		if (clock_now_ms() >= expires_ms) {
			json_decref(order);
			char t[CLOCK_TEXT_MAX];
			clock_format(expires_ms, t);
			return err_fail(e, ERR_FAIL, "code_expired",
			                "the payment code expired at %s; ask the buyer to show a new one", t);
		}
		char now[CLOCK_TEXT_MAX];
		clock_format(clock_now_ms(), now);
		store_write(
		    c->st, 1,
		    "UPDATE buyer_codes SET order_id = ?, used_at = ? WHERE token_hash = ? AND order_id IS NULL", "ttt",
		    id, now, hash);
	}
	int64_t limit;
	if (wallets_limit(c->st, "code_no_pin", BUYERCODE_NO_PIN_DEFAULT, currency, &limit, e)) {
		json_decref(order);
		return BATCH_FAIL;
	}
	bool waiting = strcmp(json_string_value(json_object_get(order, "state")), "created") == 0;
	/* Only the first charge decides: an order left waiting for the PIN
	 * stays so on a replay, whatever the limit says by then. */
	if (*used_by)
		limit = 0;
	if (amount > limit && waiting) {
		/* The buyer confirms it with the PIN (wpay pay --order). */
		*out = order;
		json_object_set_new(*out, "awaiting", json_string("buyer_pin"));
		return BATCH_OK;
	}
	json_decref(order);
	batch_identify("wallet", wallet);
	/* Paid from the wallet, the code standing for the PIN up to the limit;
	 * an order paid already answers its payment. */
	json_t *pay = json_pack("{s:s, s:s}", "order", id, "source", "wallet");
	if (amount <= limit)
		strlcopy(p->code_wallet, wallet, sizeof p->code_wallet);
	rc = payments_pay(c, p, pay, out, e);
	*p->code_wallet = '\0';
	json_decref(pay);
	return rc;
}
