/* payload: see payload.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "charset.h"
#include "clock.h"
#include "codes.h"
#include "crypto.h"
#include "emv.h"
#include "ids.h"
#include "merchants.h"
#include "money.h"
#include "payload.h"
#include "repair.h"
#include "schemes.h"
#include "uris.h"
#include "utf8.h"

#include "util.h"

static void add_scheme(json_t *list, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v)
		if (strcmp(json_string_value(v), name) == 0)
			return;
	json_array_append_new(list, json_string(name));
}

static json_t *findings_json(const struct scheme_finding *f, int n)
{
	json_t *list = json_array();
	for (int i = 0; i < n; i++) {
		const struct scheme_rule *r = f[i].rule;
		char *message = xasprintf("%s: %s (%s)", r->scheme, r->says, f[i].found);
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s}", "scheme", r->scheme, "rule", r->rule,
		                                      "object", r->object, "message", message, "source", r->source));
		free(message);
	}
	return list;
}

/* "scheme": whether the code keeps the rules of the schemes it belongs to. */
static json_t *scheme_json(const struct scheme_verdict *v)
{
	json_t *checked = json_array();
	for (int i = 0; i < v->nnames; i++)
		if (v->checked[i])
			json_array_append_new(checked, json_string(v->names[i]));
	return json_pack("{s:b, s:o, s:o, s:o}", "valid", schemes_valid(v), "checked", checked, "reasons",
	                 findings_json(v->broken, v->nbroken), "warnings", findings_json(v->warned, v->nwarned));
}

static json_t *objects_json(const struct emv_object *o, int n, const char *parent, const struct networks *nw)
{
	json_t *list = json_array();
	for (int i = 0; i < n; i++) {
		/* Not json_pack: reading its format for every object cost more than the object. */
		json_t *e = json_object();
		json_object_set_new_nocheck(e, "id", json_string(o[i].id));
		json_object_set_new_nocheck(e, "length", json_integer(o[i].length));
		json_object_set_new_nocheck(e, "name", json_string(emv_name(parent, o[i].id)));
		const struct emv_object *gui = emv_find_sub(&o[i], "00");
		const struct network *net = gui && nw ? networks_by_guid(nw, gui->value) : NULL;
		if (net)
			json_object_set_new(e, "network", json_string(net->name));
		if (o[i].sub)
			json_object_set_new(e, "objects", objects_json(o[i].sub, o[i].nsub, o[i].id, nw));
		else
			json_object_set_new(e, "value", json_string(o[i].value));
		json_array_append_new(list, e);
	}
	return list;
}

/* The EMV part of a scan: objects, schemes, merchant details and checks. */
static void describe_emv(json_t *rec, const char *text, const struct payload_env *env)
{
	struct emv_payload p;
	struct emv_error err;
	json_t *checks = json_object_get(rec, "checks"), *schemes_found = json_array(), *scheme = NULL;
	int rc = emv_parse(text, EMV_LENIENT, &p, &err);
	json_t *emv = json_pack("{s:b}", "valid", rc == 0);
	const char *crc = "ok";
	if (rc) {
		json_object_set_new(emv, "error",
		                    json_pack("{s:s, s:i, s:s, s:s}", "category", err.category, "offset", err.offset,
		                              "id", err.id, "message", err.msg));
		crc = strcmp(err.category, "crc-mismatch") == 0  ? "mismatch"
		      : strcmp(err.category, "crc-missing") == 0 ? "absent"
		      : strcmp(err.category, "truncated") == 0 || strcmp(err.category, "size") == 0 ||
		              strcmp(err.category, "charset") == 0
		          ? "unchecked"
		          : "ok";
		/* The tree as far as it reads, where and why it breaks, and the
		 * repairs that verify. */
		struct emv_payload part;
		struct emv_error perr;
		emv_parse_partial(text, EMV_LENIENT, &part, &perr);
		json_object_set_new(emv, "objects", objects_json(part.obj, part.n, NULL, env->networks));
		emv_free(&part);
		struct repair_report rr;
		repair_find(text, &rr);
		json_object_set_new(emv, "break",
		                    json_pack("{s:i, s:s, s:s}", "offset", rr.offset, "id", rr.id, "message", rr.why));
		json_t *repairs = json_array();
		for (int i = 0; i < rr.n; i++)
			json_array_append_new(repairs, json_pack("{s:s, s:s, s:s}", "kind", rr.r[i].kind, "message",
			                                         rr.r[i].msg, "payload", rr.r[i].payload));
		json_object_set_new(emv, "repairs", repairs);
		repair_free(&rr);
	} else {
		json_t *warnings = json_array();
		for (int i = 0; i < p.nwarnings; i++)
			json_array_append_new(warnings, json_string(p.warnings[i]));
		json_object_set_new(emv, "warnings", warnings);
		json_object_set_new(emv, "objects", objects_json(p.obj, p.n, NULL, env->networks));
		struct scheme_verdict verdict;
		const struct emv_object *account;
		schemes_check_payable(&p, env->networks, &account, &verdict);
		for (int i = 0; i < verdict.nnames; i++)
			add_scheme(schemes_found, verdict.names[i]);
		/* A configured network the table does not know is a scheme too. */
		for (int i = 0; i < p.n && env->networks; i++) {
			const struct emv_object *gui = emv_find_sub(&p.obj[i], "00");
			const struct network *net = gui ? networks_by_guid(env->networks, gui->value) : NULL;
			if (net && !schemes_gui_known(gui->value))
				add_scheme(schemes_found, net->name);
		}
		scheme = scheme_json(&verdict);
		/* Merchant details, for a person and for order. */
		json_t *m = json_object();
		static const char *const fields[][2] = {
		    {"59", "name"}, {"60", "city"}, {"52", "mcc"}, {"58", "country"}, {"61", "postal_code"}};
		for (size_t k = 0; k < ARRAY_LEN(fields); k++)
			if (emv_find(&p, fields[k][0]))
				json_object_set_new(m, fields[k][1], json_string(emv_find(&p, fields[k][0])->value));
		const struct emv_object *cur = emv_find(&p, "53"), *amt = emv_find(&p, "54"), *poi = emv_find(&p, "01");
		const struct currency *c = cur ? currency_find(cur->value) : NULL;
		if (c)
			json_object_set_new(m, "currency", json_string(c->alpha));
		if (amt && c) {
			int64_t minor;
			if (!money_parse(amt->value, c, false, &minor))
				json_object_set_new(m, "amount", json_integer(minor));
		}
		json_object_set_new(rec, "mode",
		                    json_string(poi && strcmp(poi->value, "12") == 0 ? "dynamic" : "static"));
		const struct emv_object *ref = emv_find_sub(emv_find(&p, "62"), "05");
		if (ref)
			json_object_set_new(m, "reference", json_string(ref->value));
		/* The till or machine it was made for (Terminal Label). */
		const struct emv_object *tid = emv_find_sub(emv_find(&p, "62"), "07");
		if (tid)
			json_object_set_new(m, "terminal", json_string(tid->value));
		/* A product code names its product (signed, in wpay's 89). */
		const struct emv_object *product = emv_find_sub(emv_find(&p, CODE_META_ID), CODE_META_PRODUCT);
		if (product)
			json_object_set_new(rec, "product", json_string(product->value));
		const struct emv_object *lang = emv_find(&p, "64");
		if (emv_find_sub(lang, "01"))
			json_object_set_new(m, "name_local", json_string(emv_find_sub(lang, "01")->value));
		if (emv_find_sub(lang, "02"))
			json_object_set_new(m, "city_local", json_string(emv_find_sub(lang, "02")->value));
		/* Known here if a configured network's template names one of our merchants. */
		if (account) {
			const char *no = emv_find_sub(account, "01")->value;
			char *id = ids_merchant_dup(no);
			json_object_set_new(m, "id", json_string(id));
			free(id);
			if (env->st) {
				struct merchant known;
				struct err unknown;
				if (env->store_lock)
					pthread_mutex_lock(env->store_lock);
				bool ours = merchants_load(env->st, no, &known, &unknown) == 0;
				if (env->store_lock)
					pthread_mutex_unlock(env->store_lock);
				json_object_set_new(checks, "merchant_known", json_boolean(ours));
			}
		}
		json_object_set_new(rec, "merchant", m);

		struct code_check cc;
		codes_check(text, &p, env->keys, env->public_key, env->now_ms, &cc);
		json_object_set_new(checks, "signature", json_string(cc.signature));
		if (*cc.kid)
			json_object_set_new(checks, "key_id", json_string(cc.kid));
		if (cc.why)
			json_object_set_new(checks, "signature_problem", json_string(cc.why));
		if (cc.has_expiry) {
			char t[CLOCK_TEXT_MAX];
			clock_format(cc.expires_ms, t);
			json_object_set_new(checks, "expires_at", json_string(t));
			json_object_set_new(checks, "expired", json_boolean(cc.expired));
		}
		emv_free(&p);
	}
	json_object_set_new(checks, "crc", json_string(crc));
	json_object_set_new(rec, "schemes", schemes_found);
	if (scheme)
		json_object_set_new(rec, "scheme", scheme);
	json_object_set_new(rec, "emv", emv);
}

/* Merge a part into a record (jansson's update takes no ownership). */
static void merge_into(json_t *rec, json_t *part)
{
	json_object_update(rec, part);
	json_decref(part);
}

/*
 * A code made in a legacy charset (GB18030) has its CRC over those bytes,
 * not over the UTF-8 we read them as. If it holds over the raw bytes, the
 * code is as made: the parser gets the text with the CRC of its UTF-8
 * form (a copy to free), and set_crc puts the code's own back in the
 * record. NULL if the text is UTF-8 or the CRC does not hold over the bytes.
 */
static char *legacy_crc_text(const unsigned char *b, size_t len, const char *text, const char *encoding)
{
	size_t n = strlen(text);
	char own[5];
	if (!strcmp(encoding, "ascii") || !strcasecmp(encoding, "utf-8") || !strcasecmp(encoding, "utf8") || len < 8 ||
	    n < 8 || memcmp(b + len - 8, "6304", 4) != 0 || memcmp(text + n - 8, b + len - 8, 8) != 0)
		return NULL;
	bufprintf(own, sizeof own, "%04X", emv_crc16(b, len - 4));
	if (memcmp(own, b + len - 4, 4) != 0)
		return NULL;
	char *t = xstrdup(text);
	bufprintf(t + n - 4, 5, "%04X", emv_crc16(t, n - 4));
	return t;
}

/* Object 63's value in the record, back to the code's own CRC. */
static void set_crc(json_t *rec, const char *crc)
{
	json_t *objects = json_object_get(json_object_get(rec, "emv"), "objects");
	json_t *last = json_array_get(objects, json_array_size(objects) - 1);
	if (last && strcmp(json_string_value(json_object_get(last, "id")), "63") == 0)
		json_object_set_new(last, "value", json_string(crc));
}

json_t *payload_describe(const unsigned char *bytes, size_t len, const struct payload_env *env)
{
	char *hex = xmalloc(2 * len + 1);
	hex_encode(bytes, len, hex);
	json_t *rec = json_pack("{s:s}", "raw_hex", hex);
	free(hex);
	json_object_set_new(rec, "checks", json_object());

	struct charset_text ct;
	if (charset_decode(bytes, len, env->encoding, &ct) != 0) {
		/* Forced and invalid: an error for this code; raw_hex keeps its bytes. */
		char *msg = ct.nul ? xasprintf("the bytes decode to a NUL character in %s: not text", env->encoding)
		                   : xasprintf("the bytes are not valid %s (byte %zu, 0x%02x)", env->encoding,
		                               ct.bad_at + 1, ct.bad_at < len ? bytes[ct.bad_at] : 0);
		json_t *e = json_pack("{s:s, s:s, s:s}", "type", "error", "code", "bad_encoding", "message", msg);
		json_object_update(rec, e);
		json_decref(e);
		json_object_del(rec, "checks");
		free(msg);
		charset_free(&ct);
		return rec;
	}
	if (!ct.text) {
		json_object_set_new(rec, "format", json_string("binary"));
		charset_free(&ct);
		return rec;
	}
	const char *text = ct.text, *encoding = ct.encoding;
	bool certain = ct.certain;
	/* wpay's own card link: what it carries is the code. */
	char *carried = uris_card_payload(text);
	if (carried) {
		json_object_set_new(rec, "link", json_string(text));
		text = carried;
	}
	json_object_set_new(rec, "text", json_string(text));
	struct code_kind kind;
	uris_kind(text, &kind);
	if (strcmp(kind.format, "emv") == 0) {
		char *made = legacy_crc_text(bytes, len, text, encoding);
		describe_emv(rec, made ? made : text, env);
		if (made) {
			set_crc(rec, text + strlen(text) - 4);
			json_object_set_new(json_object_get(rec, "checks"), "crc_charset", json_string(encoding));
			/* Made in a legacy charset: a clear guess among them is proven. */
			certain |= strcmp(ct.confidence, "high") == 0;
			free(made);
		}
		/* A CRC that holds over these bytes as UTF-8 proves the decoding. */
		if (strcmp(json_string_value(json_object_get(json_object_get(rec, "checks"), "crc")), "ok") == 0 &&
		    strcmp(encoding, "utf-8") == 0)
			certain = true;
	} else if (kind.network) {
		json_object_set_new(rec, "schemes", json_pack("[s]", kind.network));
		struct scheme_verdict verdict;
		json_t *upi = strcmp(kind.format, "upi") == 0 ? uris_describe_upi(text, &verdict) : NULL;
		if (upi) {
			merge_into(rec, upi);
			json_object_set_new(rec, "scheme", scheme_json(&verdict));
		}
	}
	const char *format = kind.format;
	json_object_set_new(rec, "format", json_string(format));
	json_object_set_new(rec, "encoding", json_string(encoding));
	json_object_set_new(rec, "encoding_certain", json_boolean(certain));
	json_object_set_new(rec, "encoding_confidence", json_string(certain ? "high" : ct.confidence));
	if (ct.n) {
		json_t *list = json_array();
		for (int i = 0; i < ct.n; i++)
			json_array_append_new(list, json_pack("{s:s, s:f, s:s}", "encoding", ct.cand[i].name, "score",
			                                      (double)(int)(ct.cand[i].score * 100 + 0.5) / 100, "text",
			                                      ct.cand[i].text));
		json_object_set_new(rec, "encoding_candidates", list);
	}
	charset_free(&ct);
	free(carried);
	return rec;
}

void payload_safe_puts(const char *s, FILE *out)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			fprintf(out, "\\x%02x", *p);
		else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9f) /* C1 controls */
			fprintf(out, "\\u%04x", p[1]), p++;
		else if (p[0] == 0xe2 && ((p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) ||
		                          (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)))
			/* bidi overrides and isolates: a name that reads backwards on a terminal, as err_put_message */
			fprintf(out, "\\u%04x", 0x2000 + ((p[1] & 0x3f) << 6) + (p[2] & 0x3f)), p += 2;
		else
			fputc(*p, out);
	}
}

static void explain_objects(json_t *objects, int depth, FILE *out)
{
	size_t i;
	json_t *o;
	json_array_foreach (objects, i, o) {
		fprintf(out, "%*s%s %02d %s", depth * 4, "", json_string_value(json_object_get(o, "id")),
		        (int)json_integer_value(json_object_get(o, "length")),
		        json_string_value(json_object_get(o, "name")));
		if (json_object_get(o, "network"))
			fprintf(out, " [%s]", json_string_value(json_object_get(o, "network")));
		json_t *v = json_object_get(o, "value");
		if (v) {
			fputs(": ", out);
			payload_safe_puts(json_string_value(v), out);
		}
		fputc('\n', out);
		if (json_object_get(o, "objects"))
			explain_objects(json_object_get(o, "objects"), depth + 1, out);
	}
}

/* A UPI URI's parameters, each with its name. */
static void explain_params(json_t *params, FILE *out)
{
	size_t i;
	json_t *p;
	json_array_foreach (params, i, p) {
		payload_safe_puts(json_string_value(json_object_get(p, "param")), out);
		fprintf(out, " %s: ", json_string_value(json_object_get(p, "name")));
		payload_safe_puts(json_string_value(json_object_get(p, "value")), out);
		fputc('\n', out);
	}
}

/* The scheme's verdict: each broken rule with its source. */
static void explain_scheme(json_t *scheme, FILE *out)
{
	if (!scheme)
		return;
	size_t n = json_array_size(json_object_get(scheme, "checked"));
	fprintf(out, "scheme rules: %s",
	        n == 0                                           ? "none apply"
	        : json_is_true(json_object_get(scheme, "valid")) ? "kept"
	                                                         : "broken");
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(scheme, "checked"), i, v)
		fprintf(out, "%s%s", i ? ", " : " (", json_string_value(v));
	fputs(n ? ")\n" : "\n", out);
	static const char *const lists[][2] = {{"reasons", "!!"}, {"warnings", "??"}};
	for (size_t l = 0; l < ARRAY_LEN(lists); l++)
		json_array_foreach (json_object_get(scheme, lists[l][0]), i, v) {
			fprintf(out, "%s %s: ", lists[l][1], json_string_value(json_object_get(v, "rule")));
			payload_safe_puts(json_string_value(json_object_get(v, "message")), out);
			fputs(" [", out);
			payload_safe_puts(json_string_value(json_object_get(v, "source")), out);
			fputs("]\n", out);
		}
}

void payload_explain(json_t *scan, FILE *out)
{
	const char *format = json_string_value(json_object_get(scan, "format"));
	json_t *checks = json_object_get(scan, "checks"), *emv = json_object_get(scan, "emv");
	if (json_object_get(scan, "source")) {
		fputs("== ", out);
		payload_safe_puts(json_string_value(json_object_get(scan, "source")), out);
		if (json_object_get(scan, "line"))
			fprintf(out, " line %lld\n", (long long)json_integer_value(json_object_get(scan, "line")));
		else
			fprintf(out, " code %lld\n", (long long)json_integer_value(json_object_get(scan, "index")));
	}
	fprintf(out, "format: %s", format ? format : "?");
	if (json_object_get(scan, "encoding")) {
		fprintf(out, ", text %s", json_string_value(json_object_get(scan, "encoding")));
		if (!json_is_true(json_object_get(scan, "encoding_certain")))
			fprintf(out, " (a guess, %s confidence)",
			        json_string_value(json_object_get(scan, "encoding_confidence")));
	}
	fputc('\n', out);
	if (json_array_size(json_object_get(scan, "schemes"))) {
		fputs("schemes:", out);
		size_t i;
		json_t *s;
		json_array_foreach (json_object_get(scan, "schemes"), i, s)
			fprintf(out, " %s", json_string_value(s));
		fputc('\n', out);
	}
	const char *key;
	json_t *v;
	json_object_foreach (checks, key, v) {
		fprintf(out, "%s: ", key);
		if (json_is_string(v))
			payload_safe_puts(json_string_value(v), out);
		else
			fputs(json_is_true(v) ? "yes" : json_is_false(v) ? "no" : "unknown", out);
		fputc('\n', out);
	}
	if (emv) {
		explain_objects(json_object_get(emv, "objects"), 0, out);
		json_t *err = json_object_get(emv, "error"), *brk = json_object_get(emv, "break");
		if (err) {
			fprintf(out, "!! %s: ", json_string_value(json_object_get(err, "category")));
			payload_safe_puts(json_string_value(json_object_get(err, "message")), out);
			fputc('\n', out);
		}
		if (brk) {
			int at = (int)json_integer_value(json_object_get(brk, "offset"));
			const char *id = json_string_value(json_object_get(brk, "id")),
			           *text = json_string_value(json_object_get(scan, "text"));
			if (at >= 0 && text) {
				fprintf(out, "!! breaks at character %d%s%s:\n", at, id && *id ? ", at fault: " : "",
				        id ? id : "");
				repair_mark(out, text, at);
			}
			const char *why = json_string_value(json_object_get(brk, "message"));
			const char *said = err ? json_string_value(json_object_get(err, "message")) : NULL;
			if (why && (!said || strcmp(why, said) != 0)) { /* not twice */
				fputs("!! ", out);
				payload_safe_puts(why, out);
				fputc('\n', out);
			}
		}
		size_t k;
		json_array_foreach (json_object_get(emv, "repairs"), k, v) {
			fprintf(out, "repair %s: ", json_string_value(json_object_get(v, "kind")));
			payload_safe_puts(json_string_value(json_object_get(v, "message")), out);
			fputs("\n   ", out);
			payload_safe_puts(json_string_value(json_object_get(v, "payload")), out);
			fputc('\n', out);
		}
		size_t i;
		json_array_foreach (json_object_get(emv, "warnings"), i, v)
			fprintf(out, "!! %s\n", json_string_value(v));
	} else if (json_object_get(scan, "text")) {
		fputs("text: ", out);
		payload_safe_puts(json_string_value(json_object_get(scan, "text")), out);
		fputc('\n', out);
	}
	explain_params(json_object_get(scan, "upi_params"), out);
	explain_scheme(json_object_get(scan, "scheme"), out);
}
