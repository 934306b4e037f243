/* codes: see codes.h. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "batch.h"
#include "clock.h"
#include "codes.h"
#include "crypto.h"
#include "merchants.h"
#include "money.h"
#include "products.h"
#include "schemes.h"
#include "terminals.h"
#include "utf8.h"

#include "util.h"

int codes_maker_open(struct code_maker *m, struct wpay_ctx *c, struct err *e)
{
	memset(m, 0, sizeof *m);
	m->c = c;
	int rc = keys_signing_id(c->keys_dir, m->kid, e);
	if (rc == 0)
		rc = keys_load_signing(c->keys_dir, m->kid, &m->key, e);
	return rc;
}

void codes_maker_close(struct code_maker *m)
{
	EVP_PKEY_free(m->key);
	m->key = NULL;
}

bool codes_ascii_fold(const char *in, char *out, size_t n)
{
	/* Latin-1 letters U+00C0..U+00FF without their marks. */
	static const char fold[] = "AAAAAAACEEEEIIIIDNOOOOOxOUUUUYTsaaaaaaaceeeeiiiidnooooo/ouuuuyty";
	size_t k = 0;
	bool ascii = true;
	for (const unsigned char *s = (const unsigned char *)in; *s && k + 1 < n;) {
		if (*s < 0x80) {
			out[k++] = (char)*s++;
		} else if ((s[0] == 0xC3) && s[1] >= 0x80 && s[1] <= 0xBF) {
			out[k++] = fold[s[1] - 0x80];
			s += 2;
		} else {
			ascii = false;
			do
				s++;
			while ((*s & 0xC0) == 0x80);
		}
	}
	out[k] = '\0';
	return ascii && k > 0;
}

static const char *language_of(const char *country)
{
	static const char *const map[][2] = {{"CN", "ZH"}, {"HK", "ZH"}, {"TW", "ZH"}, {"MO", "ZH"}, {"SG", "ZH"},
	                                     {"JP", "JA"}, {"KR", "KO"}, {"TH", "TH"}, {"VN", "VI"}, {"KH", "KM"}};
	for (size_t i = 0; i < ARRAY_LEN(map); i++)
		if (strcmp(map[i][0], country) == 0)
			return map[i][1];
	return "EN";
}

/* The merchant a request names. */
static int get_merchant(struct store *st, json_t *req, struct merchant *m, struct err *e)
{
	const char *ref;
	if (rec_get_str(req, "merchant", true, 0, &ref, e))
		return ERR_FAIL;
	return merchants_load(st, ref, m, e) || merchants_check_approved(m, "have codes made", e) ? ERR_FAIL : 0;
}

/* The payload for a merchant; NULL with e set if it cannot be built. */
static const char *build(struct code_maker *mk, const struct merchant *m, int64_t amount, const char *reference,
                         const char *product, const char *terminal, int64_t expires_ms, struct emv_builder *b,
                         json_t *networks, struct err *e)
{
	const struct currency *cur = currency_find(m->currency);
	struct emv_builder t;
	char text[64];
	emv_init(b);
	emv_put(b, "00", "01");
	emv_put(b, "01", amount ? "12" : "11");
	for (int i = 0; i < mk->c->networks.count; i++) {
		const struct network *n = &mk->c->networks.n[i];
		if (!networks_accepts(m->all_networks ? NULL : m->networks, n->name))
			continue;
		emv_init(&t);
		emv_put(&t, "00", n->guid);
		emv_put(&t, "01", m->no);
		emv_put_template(b, n->id, &t);
		json_array_append_new(networks, json_string(n->name));
	}
	if (json_array_size(networks) == 0)
		return err_fail(e, ERR_FAIL, "no_network", "merchant %s is accepted by no configured network", m->id),
		       NULL;
	emv_put(b, "52", m->mcc);
	bufprintf(text, sizeof text, "%03u", cur->code);
	emv_put(b, "53", text);
	if (amount) {
		money_format(amount, cur, text);
		emv_put(b, "54", text);
	}
	emv_put(b, "58", m->country);
	char name[MERCHANT_NAME_MAX + 1], city[MERCHANT_CITY_MAX + 1];
	bool name_ascii = codes_ascii_fold(m->name, name, sizeof name),
	     city_ascii = codes_ascii_fold(m->city, city, sizeof city);
	/* Other scripts cannot go in 59/60: the merchant number and the country
	 * stand in, and 64 carries the real name and city. */
	emv_put(b, "59", name_ascii ? name : m->no);
	emv_put(b, "60", city_ascii ? city : m->country);
	if (reference || terminal) {
		emv_init(&t);
		if (reference)
			emv_put(&t, "05", reference);
		if (terminal)
			emv_put(&t, "07", terminal);
		emv_put_template(b, "62", &t);
	}
	if (!utf8_is_ascii(m->name) || !utf8_is_ascii(m->city)) {
		emv_init(&t);
		emv_put(&t, "00", language_of(m->country));
		emv_put(&t, "01", m->name);
		emv_put(&t, "02", m->city);
		emv_put_template(b, "64", &t);
	}
	emv_init(&t);
	emv_put(&t, "00", CODE_META_GUI);
	emv_put(&t, "01", mk->kid);
	if (expires_ms) {
		bufprintf(text, sizeof text, "%lld", (long long)(expires_ms / 1000));
		emv_put(&t, "02", text);
	}
	if (product)
		emv_put(&t, CODE_META_PRODUCT, product);
	emv_put_template(b, CODE_META_ID, &t);
	if (*b->error)
		return err_fail(e, ERR_FAIL, "bad_field", "cannot make the code: %s", b->error), NULL;

	unsigned char sig[64];
	char sig64[100];
	if (!ed25519_sign(mk->key, b->buf, b->len, sig))
		return err_fail(e, ERR_FAIL, "internal", "OpenSSL could not sign the code"), NULL;
	base64_encode_nopad(sig, sizeof sig, sig64);
	emv_init(&t);
	emv_put(&t, "00", CODE_SIG_GUI);
	emv_put(&t, "01", sig64);
	emv_put_template(b, CODE_SIG_ID, &t);
	const char *payload = emv_finish(b);
	if (!payload)
		return err_fail(e, ERR_FAIL, "bad_field", "cannot make the code: %s", b->error), NULL;
	return payload;
}

static bool valid_reference(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= CODE_REFERENCE_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* A code this ledger makes must be one it pays: a network configured with
 * a scheme's GUI (PIX) brings that scheme's rules, as wpay-order applies them. */
static bool refused_by_scheme(const char *payload, const struct networks *nw, struct err *e)
{
	struct emv_payload p;
	struct emv_error pe;
	if (emv_parse(payload, EMV_LENIENT, &p, &pe) != 0) {
		err_fail(e, ERR_FAIL, "bad_code", "the code made does not read back: %s", pe.msg);
		return true;
	}
	struct scheme_verdict v;
	const struct emv_object *account;
	schemes_check_payable(&p, nw, &account, &v);
	emv_free(&p);
	if (schemes_valid(&v))
		return false;
	const struct scheme_finding *f = &v.broken[0];
	err_fail(e, ERR_FAIL, "scheme_rule",
	         "the code would break a rule of %s: %s (%s; rule %s, %s); change the merchant or the networks",
	         f->rule->scheme, f->rule->says, f->found, f->rule->rule, f->rule->source);
	return true;
}

int codes_make(struct code_maker *mk, json_t *req, json_t **out, struct err *e)
{
	struct store *st = mk->c->st;
	struct merchant m;
	const char *reference = NULL, *currency = NULL, *expires_in = NULL, *sku = NULL, *terminal = NULL;
	int64_t amount = 0, expires_ms = 0;
	struct product product;
	if (get_merchant(st, req, &m, e) || terminals_get(st, req, &m, &terminal, e) ||
	    rec_get_str(req, "product", false, 0, &sku, e) || rec_get_str(req, "reference", false, 0, &reference, e) ||
	    rec_get_str(req, "currency", false, 3, &currency, e) ||
	    rec_get_str(req, "expires_in", false, 16, &expires_in, e))
		return BATCH_FAIL;
	if (json_object_get(req, "amount") && rec_get_amount(req, &amount, e))
		return BATCH_FAIL;
	if (currency && strcmp(currency, m.currency) != 0)
		return err_fail(e, ERR_FAIL, "currency_mismatch", "the amount is in %s but merchant %s takes %s",
		                currency, m.id, m.currency);
	if (sku) {
		if (json_object_get(req, "amount") || reference || expires_in)
			return err_fail(
			    e, ERR_FAIL, "bad_field",
			    "a product code takes its price from the catalog: no amount, reference or expiry");
		if (!products_valid_sku(sku))
			return err_fail(e, ERR_FAIL, "bad_field",
			                "product '%.40s' must be 1 to %d letters, digits, '_' or '-'", sku,
			                PRODUCT_SKU_MAX);
		/* Sold out now is no reason to refuse a code: stock comes back. */
		if (products_for_order(st, &m, sku, 0, &product, e))
			return BATCH_FAIL;
		reference = sku;
	}
	if (reference && !valid_reference(reference))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "reference '%.40s' must be 1 to %d letters, digits, '_' or '-'", reference,
		                CODE_REFERENCE_MAX);
	if (amount && !reference)
		return err_fail(e, ERR_FAIL, "missing_field",
		                "a code with an amount needs a reference (the order it is for)");
	if (!amount && !sku && (reference || expires_in))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "a static code has no reference or expiry; give an amount for a dynamic one");

	char created[CLOCK_TEXT_MAX], expires[CLOCK_TEXT_MAX] = "";
	int64_t now = clock_now_ms();
	clock_format(now, created);
	char *payload = NULL;
	json_t *networks = json_array();
	if (amount) {
		int64_t ttl = 2 * 3600 * 1000;
		if (expires_in && (!clock_parse_duration(expires_in, &ttl) || ttl < 60000 || ttl > 15LL * 86400000)) {
			json_decref(networks);
			return err_fail(e, ERR_FAIL, "bad_field",
			                "expires_in '%s' must be a duration from 1m to 15d such as 15m", expires_in);
		}
		/* Made before: the same code again, whatever the clock says now. */
		struct store_stmt *q =
		    store_query(st,
		                "SELECT payload, amount, expires_at, created_at, terminal_id IS NOT DISTINCT"
		                " FROM ? FROM codes WHERE merchant_id = ? AND reference = ?",
		                "ttt", terminal, m.no, reference);
		if (store_step(q) == STORE_ROW) {
			int64_t had = store_col_int(q, 1);
			bool same_terminal = store_col_int(q, 4);
			payload = xstrdup(store_col_text(q, 0));
			strlcopy(expires, store_col_text(q, 2), sizeof expires);
			strlcopy(created, store_col_text(q, 3), sizeof created);
			store_done(q);
			if (had != amount || !same_terminal) {
				free(payload);
				json_decref(networks);
				if (!same_terminal)
					return err_fail(e, ERR_FAIL, "conflict",
					                "reference %s of %s was made for another terminal, or none",
					                reference, m.id);
				return err_fail(e, ERR_FAIL, "conflict",
				                "reference %s of %s was made for another amount (%lld)", reference,
				                m.id, (long long)had);
			}
			/* Which networks it carries is read back from the payload. */
			struct emv_payload p;
			struct emv_error pe;
			if (emv_parse(payload, EMV_STRICT, &p, &pe) == 0) {
				for (int i = 0; i < p.n; i++) {
					const struct emv_object *g = emv_find_sub(&p.obj[i], "00");
					const struct network *n =
					    g ? networks_by_guid(&mk->c->networks, g->value) : NULL;
					if (n && strcmp(n->id, p.obj[i].id) == 0)
						json_array_append_new(networks, json_string(n->name));
				}
				emv_free(&p);
			}
		} else {
			store_done(q);
			expires_ms = now + ttl;
			clock_format(expires_ms, expires);
		}
	}
	if (!payload) {
		struct emv_builder *b = xmalloc(sizeof *b);
		const char *built = build(mk, &m, amount, reference, sku, terminal, expires_ms, b, networks, e);
		payload = built ? xstrdup(built) : NULL;
		free(b);
		if (!payload || refused_by_scheme(payload, &mk->c->networks, e)) {
			free(payload);
			json_decref(networks);
			return BATCH_FAIL;
		}
		if (amount) {
			char id[ID_MAX];
			ids_new("code", id);
			if (store_exec(
			        st,
			        "INSERT INTO codes(id, merchant_id, reference, amount, currency, payload, expires_at,"
			        " created_at, terminal_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			        "tttitttt"
			        "t",
			        id, m.no, reference, amount, m.currency, payload, expires, created,
			        terminal) == STORE_CONSTRAINT) {
				/* Another worker made this reference a moment ago: its code
				 * is the one, answered as a rerun would. */
				free(payload);
				json_decref(networks);
				return codes_make(mk, req, out, e);
			}
		}
	}
	*out = json_pack("{s:s, s:s, s:s, s:s}", "type", "code", "mode", amount ? "dynamic" : "static", "merchant",
	                 m.id, "payload", payload);
	if (amount) {
		json_object_set_new(*out, "amount", json_integer(amount));
		json_object_set_new(*out, "currency", json_string(m.currency));
		json_object_set_new(*out, "reference", json_string(reference));
		json_object_set_new(*out, "expires_at", json_string(expires));
	} else {
		json_object_set_new(*out, "currency", json_string(m.currency));
	}
	if (sku) {
		/* The price of the moment, for a card; the code itself has none. */
		json_object_set_new(*out, "product", json_string(sku));
		json_object_set_new(*out, "name", json_string(product.name));
		json_object_set_new(*out, "price", json_integer(product.price));
		json_object_set_new(*out, "merchant_name", json_string(m.name));
	}
	if (terminal)
		json_object_set_new(*out, "terminal", json_string(terminal));
	json_object_set_new(*out, "key_id", json_string(mk->kid));
	json_object_set_new(*out, "networks", networks);
	json_object_set_new(*out, "created_at", json_string(created));
	free(payload);
	return BATCH_OK;
}

/* Byte offset of character `chars` in text. */
static size_t byte_offset(const char *text, int chars)
{
	size_t b = 0;
	for (int i = 0; i < chars && text[b]; i++) {
		do
			b++;
		while (((unsigned char)text[b] & 0xC0) == 0x80);
	}
	return b;
}

void codes_check(const char *text, const struct emv_payload *p, struct key_ring *keys, const struct code_key *given,
                 int64_t now_ms, struct code_check *out)
{
	memset(out, 0, sizeof *out);
	out->signature = "absent";
	const struct emv_object *meta = emv_find(p, CODE_META_ID), *sig = emv_find(p, CODE_SIG_ID);
	const struct emv_object *meta_gui = emv_find_sub(meta, "00"), *sig_gui = emv_find_sub(sig, "00");
	bool ours = sig && sig_gui && strcmp(sig_gui->value, CODE_SIG_GUI) == 0;
	if (!ours)
		return;
	out->signature = "invalid";
	if (!meta || !meta_gui || strcmp(meta_gui->value, CODE_META_GUI) != 0 || !emv_find_sub(meta, "01")) {
		out->why = "no key id (template 89)";
		return;
	}
	strlcopy(out->kid, emv_find_sub(meta, "01")->value, sizeof out->kid);
	utf8_scrub(out->kid); /* anyone's text, cut to the buffer: keep it UTF-8 for the record */
	const struct emv_object *exp = emv_find_sub(meta, "02");
	if (exp) {
		/* Read before the signature is checked, from anyone's text: digits
		 * only, and bounded, so that the milliseconds cannot overflow. */
		int64_t secs = 0;
		const char *d = exp->value;
		for (; *d >= '0' && *d <= '9' && secs <= CODE_EXPIRY_MAX; d++)
			secs = secs * 10 + (*d - '0');
		if (*d || d == exp->value || secs <= 0 || secs > CODE_EXPIRY_MAX) {
			out->why = "a malformed expiry (not a time in seconds from 1970 to 9999)";
			return;
		}
		out->has_expiry = true;
		out->expires_ms = secs * 1000;
		out->expired = now_ms >= out->expires_ms;
	}
	/* 90 must be the last object before the CRC, so nothing unsigned hides. */
	if (p->n < 2 || &p->obj[p->n - 2] != sig) {
		out->why = "objects after the signature";
		return;
	}
	unsigned char raw[64];
	const struct emv_object *value = emv_find_sub(sig, "01");
	if (!value || base64_decode_nopad(value->value, raw, sizeof raw) != 64) {
		out->why = "a malformed signature";
		return;
	}
	EVP_PKEY *key;
	struct err ke;
	if (given && strcmp(given->kid, out->kid) != 0) {
		out->signature = "unknown_key";
		bufprintf(out->problem, sizeof out->problem, "the code is signed by key %s; the key given is %s",
		          out->kid, given->kid);
		out->why = out->problem;
		return;
	}
	int rc = given ? 0 : keys_ring_public(keys, out->kid, &key, &ke);
	if (given)
		key = given->key;
	if (rc == EX_NOINPUT) {
		out->signature = "unknown_key";
		return;
	}
	/* A key file anyone could have planted or changed proves nothing. */
	if (rc) {
		out->signature = "untrusted";
		strlcopy(out->problem, ke.msg, sizeof out->problem);
		out->why = out->problem;
		return;
	}
	size_t signed_bytes = byte_offset(text, sig->offset);
	bool ok = ed25519_verify(key, text, signed_bytes, raw);
	out->signature = ok ? "valid" : "invalid";
	if (!ok)
		out->why = "the signature does not match: the code was changed or signed by another key";
}
