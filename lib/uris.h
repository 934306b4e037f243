/*
 * uris: the payment codes that are not EMV payloads, recognised for what
 * they are: a wallet's own URLs (WeChat Pay wxp:// and wx.tenpay.com,
 * Alipay qr.alipay.com, UnionPay qr.95516.com ...), UPI's upi://pay URIs
 * with every parameter named and the amount and currency checked, other
 * URLs, and text. Nothing here pays: a ledger serves EMV codes of its own
 * networks, and these say whose code it is.
 */
#ifndef WPAY_URIS_H
#define WPAY_URIS_H

#include <jansson.h>

#include "schemes.h"

struct code_kind {
	const char *format;  /* "emv", "wechat", "alipay", "unionpay", "upi", "url", "text" ... */
	const char *network; /* whose code it is ("WeChat Pay"), or NULL */
};

/* What kind of code the text is. */
void uris_kind(const char *text, struct code_kind *k);
/*
 * For a UPI URI: "upi" (the parameters, decoded), "upi_params" (each with
 * its name in NPCI's specification) and "merchant"; the rules it breaks go
 * into v (as scheme UPI). NULL for other kinds.
 */
json_t *uris_describe_upi(const char *text, struct scheme_verdict *v);

/* wpay's product card link: the payload, percent-encoded, after this. */
#define URIS_CARD_PREFIX "https://pay.weibo.example/qr?c="
/* The link for a payload (to free). */
char *uris_card_link(const char *payload);
/* The payload a card link carries (to free), or NULL if the text is not
 * such a link, or carries anything else, or its payload is not text. */
char *uris_card_payload(const char *link);

#endif
