/* uris: see uris.h. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "money.h"
#include "uris.h"
#include "utf8.h"

#include "util.h"

/* A wallet's own codes, told by how they start. Not EMV: only that wallet pays them. */
static const struct {
	const char *prefix, *format, *network;
} wallet_urls[] = {
    {"wxp://", "wechat", "WeChat Pay"},
    {"weixin://wxpay/", "wechat", "WeChat Pay"},
    {"https://wx.tenpay.com/f2f", "wechat", "WeChat Pay"},
    {"https://payapp.weixin.qq.com/", "wechat", "WeChat Pay"},
    {"https://qr.alipay.com/", "alipay", "Alipay"},
    {"alipays://", "alipay", "Alipay"},
    {"https://qr.95516.com/", "unionpay", "UnionPay"},
    {"upi://pay", "upi", "UPI"},
    {"upi://mandate?", "upi", "UPI"},
};

void uris_kind(const char *text, struct code_kind *k)
{
	*k = (struct code_kind){"text", NULL};
	/* White space or a byte-order mark pasted before a code does not make it
	 * text: it is still what it says, and the EMV reading says how to repair it. */
	if (strncmp(text, "\xEF\xBB\xBF", 3) == 0)
		text += 3;
	text += strspn(text, " \t\r\n");
	if (strncmp(text, "0002", 4) == 0) {
		k->format = "emv";
		return;
	}
	for (size_t i = 0; i < ARRAY_LEN(wallet_urls); i++)
		if (strncasecmp(text, wallet_urls[i].prefix, strlen(wallet_urls[i].prefix)) == 0) {
			k->format = wallet_urls[i].format;
			k->network = wallet_urls[i].network;
			return;
		}
	if (strncasecmp(text, "http://", 7) == 0 || strncasecmp(text, "https://", 8) == 0)
		k->format = "url";
}

/*
 * UPI's rules, from NPCI, "UPI Linking Specifications", version 1.6
 * (November 2017), 1.2 "Link Specification and Parameters": pa and pn are
 * mandatory; am is a decimal amount; cu is INR, the only currency; mc is
 * a 4-digit merchant category code. They take the same shape as the EMV
 * schemes' rules so that a scan reports them the same way.
 */
#define UPI_SOURCE "NPCI UPI Linking Specifications 1.6, 1.2"
static const struct scheme_rule upi_rules[] = {
    {"UPI", "UPI-pa", "must", "-", "present", "pa", "-", "the payee address (pa) is mandatory", UPI_SOURCE},
    {"UPI", "UPI-pa-form", "must", "-", "contains", "pa", "@", "the payee address (pa) is a VPA, name@handle",
     UPI_SOURCE},
    {"UPI", "UPI-pn", "must", "-", "present", "pn", "-", "the payee name (pn) is mandatory", UPI_SOURCE},
    {"UPI", "UPI-am", "must", "-", "decimals", "am", "2", "the amount (am) is a decimal above zero, in rupees",
     UPI_SOURCE},
    {"UPI", "UPI-cu", "must", "-", "equals", "cu", "INR", "the currency (cu) is INR", UPI_SOURCE},
    {"UPI", "UPI-mc", "must", "-", "digits", "mc", "4", "the merchant code (mc) is 4 digits", UPI_SOURCE},
    {"UPI", "UPI-once", "must", "-", "absent", "-", "-", "each parameter appears once", "RFC 3986, 3.4"},
    {"UPI", "UPI-text", "must", "-", "ans", "-", "-", "each value is percent-encoded UTF-8 without controls",
     "RFC 3986, 2.1"},
};

static const struct {
	const char *param, *name;
} upi_names[] = {
    {"pa", "payee address (VPA)"},
    {"pn", "payee name"},
    {"mc", "merchant category code"},
    {"tid", "transaction id (from the payee's PSP)"},
    {"tr", "transaction reference (order or bill id)"},
    {"tn", "transaction note"},
    {"am", "amount"},
    {"mam", "minimum amount"},
    {"cu", "currency"},
    {"url", "reference URL"},
    {"mode", "initiation mode"},
    {"purpose", "purpose code"},
    {"orgid", "originating organisation"},
    {"sign", "signature"},
    {"mid", "merchant id"},
    {"msid", "merchant store id"},
    {"mtid", "merchant terminal id"},
    {"refUrl", "reference URL"},
    {"qrMedium", "QR medium"},
    {"invoiceNo", "invoice number"},
    {"invoiceDate", "invoice date"},
    {"QRexpire", "QR expiry"},
    {"QRts", "QR timestamp"},
    {"gstIn", "GSTIN"},
    {"gstBrkUp", "GST breakup"},
    {"ver", "version"},
};

static void broke(struct scheme_verdict *v, const char *rule, const char *found)
{
	if (v->nbroken == SCHEMES_FINDINGS_MAX)
		return;
	for (size_t i = 0; i < ARRAY_LEN(upi_rules); i++)
		if (strcmp(upi_rules[i].rule, rule) == 0) {
			v->broken[v->nbroken].rule = &upi_rules[i];
			strlcopy(v->broken[v->nbroken].found, found, sizeof v->broken[0].found);
			utf8_scrub(v->broken[v->nbroken].found); /* '%.60s' of a value can cut a character */
			v->nbroken++;
		}
}

static int hexval(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

/* Percent-decode [s, end); NULL if the result is not text (bad UTF-8, a control). */
static char *decode(const char *s, const char *end)
{
	char *out = xmalloc((size_t)(end - s) + 1);
	size_t k = 0;
	for (; s < end; s++) {
		if (*s == '%' && end - s >= 3 && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			out[k++] = (char)(hexval(s[1]) * 16 + hexval(s[2]));
			s += 2;
		} else if (*s == '%') { /* not %XX: broken encoding, not a literal '%' */
			free(out);
			return NULL;
		} else {
			out[k++] = *s == '+' ? ' ' : *s;
		}
	}
	out[k] = '\0';
	if (!utf8_valid(out, k, NULL) || memchr(out, 0, k) || utf8_has_control(out)) {
		free(out);
		return NULL;
	}
	return out;
}

char *uris_card_link(const char *payload)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(URIS_CARD_PREFIX);
	char *out = xmalloc(n + 3 * strlen(payload) + 1);
	memcpy(out, URIS_CARD_PREFIX, n);
	/* Only RFC 3986's unreserved characters stay as they are: '+' would
	 * read back as a space. */
	for (const unsigned char *s = (const unsigned char *)payload; *s; s++) {
		if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    strchr("-._~", *s)) {
			out[n++] = (char)*s;
		} else {
			out[n++] = '%';
			out[n++] = hex[*s >> 4];
			out[n++] = hex[*s & 15];
		}
	}
	out[n] = '\0';
	return out;
}

char *uris_card_payload(const char *link)
{
	size_t n = strlen(URIS_CARD_PREFIX);
	if (strncmp(link, URIS_CARD_PREFIX, n) != 0)
		return NULL;
	const char *s = link + n, *end = s + strcspn(s, "&#\r\n");
	/* Only the payload: anything after it is not the card's. */
	if (*end || s == end)
		return NULL;
	return decode(s, end);
}

static const char *upi_name(const char *param)
{
	for (size_t i = 0; i < ARRAY_LEN(upi_names); i++)
		if (strcmp(upi_names[i].param, param) == 0)
			return upi_names[i].name;
	return NULL;
}

/* Names are compared without case: a wallet that reads PA= as pa= must not
 * see a second payee the check did not. */
static bool has_key(json_t *params, const char *key)
{
	const char *k;
	json_t *v;
	json_object_foreach (params, k, v)
		if (strcasecmp(k, key) == 0)
			return true;
	return false;
}

json_t *uris_describe_upi(const char *text, struct scheme_verdict *v)
{
	memset(v, 0, sizeof *v);
	if (strncasecmp(text, "upi://", 6) != 0)
		return NULL;
	const char *q = strchr(text, '?');
	if (!q)
		q = text + strlen(text) - 1; /* no parameters: the rules say what is missing */
	v->names[0] = "UPI";
	v->checked[0] = true;
	v->nnames = 1;
	json_t *params = json_object(), *list = json_array();
	for (q++; *q;) {
		const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q),
		           *eq = memchr(q, '=', (size_t)(end - q));
		if (end > q) {
			char *key = decode(q, eq ? eq : end), *val = eq ? decode(eq + 1, end) : xstrdup("");
			char found[128];
			if (!key || !val || !*key) {
				if (key && !*key)
					bufprintf(found, sizeof found, "a parameter has no name");
				else
					bufprintf(found, sizeof found, "%.60s is not text",
					          key ? key : "a parameter's name");
				broke(v, "UPI-text", found);
			} else if (has_key(params, key)) {
				bufprintf(found, sizeof found, "%.60s appears twice", key);
				broke(v, "UPI-once", found);
			} else {
				json_object_set_new(params, key, json_string(val));
				const char *name = upi_name(key);
				json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "param", key, "name",
				                                      name ? name : "not in NPCI's specification",
				                                      "value", val));
			}
			free(key);
			free(val);
		}
		q = amp ? amp + 1 : end;
	}
	const char *pa = json_string_value(json_object_get(params, "pa")),
	           *pn = json_string_value(json_object_get(params, "pn")),
	           *am = json_string_value(json_object_get(params, "am")),
	           *cu = json_string_value(json_object_get(params, "cu")),
	           *mc = json_string_value(json_object_get(params, "mc"));
	char found[128];
	if (!pa)
		broke(v, "UPI-pa", "absent");
	else if (!strchr(pa, '@') || *pa == '@' || !strchr(pa, '@')[1]) {
		bufprintf(found, sizeof found, "it is '%.100s'", pa);
		broke(v, "UPI-pa-form", found);
	}
	if (!pn)
		broke(v, "UPI-pn", "absent");
	if (cu && strcmp(cu, "INR") != 0) {
		bufprintf(found, sizeof found, "it is '%.100s'", cu);
		broke(v, "UPI-cu", found);
	}
	if (mc && (strlen(mc) != 4 || strspn(mc, "0123456789") != 4)) {
		bufprintf(found, sizeof found, "it is '%.100s'", mc);
		broke(v, "UPI-mc", found);
	}
	json_t *merchant = json_object();
	if (pn)
		json_object_set_new(merchant, "name", json_string(pn));
	if (mc)
		json_object_set_new(merchant, "mcc", json_string(mc));
	json_object_set_new(merchant, "currency", json_string(cu ? cu : "INR"));
	if (am) {
		int64_t minor;
		const char *why = money_parse(am, currency_find("INR"), false, &minor);
		if (why || minor <= 0) {
			bufprintf(found, sizeof found, "it is '%.60s'%s%s", am, why ? ": " : "", why ? why : "");
			broke(v, "UPI-am", found);
		} else {
			json_object_set_new(merchant, "amount", json_integer(minor));
		}
	}
	const char *tr = json_string_value(json_object_get(params, "tr"));
	if (tr)
		json_object_set_new(merchant, "reference", json_string(tr));
	return json_pack("{s:o, s:o, s:o}", "upi", params, "upi_params", list, "merchant", merchant);
}
