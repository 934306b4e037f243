/*
 * payload: what a scanned code says. From the raw bytes: the text (see
 * charset.h: UTF-8, or the most plausible legacy charset with its
 * confidence, or the forced one; an invalid forced one makes a
 * "bad_encoding" error record), what kind of code it is (EMV MPM of any scheme, an Alipay or
 * WeChat Pay URL, a UPI URI, a URL, plain text), the EMV objects, and the
 * checks: CRC, wpay signature, expiry, whether the merchant is known here.
 * The raw bytes are always kept, in hex, so nothing is lost.
 */
#ifndef WPAY_PAYLOAD_H
#define WPAY_PAYLOAD_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "codes.h"
#include "networks.h"
#include "store.h"

struct payload_env {
	struct key_ring *keys;             /* public keys by id */
	const struct code_key *public_key; /* or only this one (--public-key) */
	struct store *st;                  /* NULL: merchants cannot be looked up */
	pthread_mutex_t *store_lock;       /* held around st, if threads share it */
	const struct networks *networks;   /* for naming templates */
	int64_t now_ms;
	const char *encoding; /* forced (--encoding), or NULL to guess */
};

/* Fields for a "scan" record: raw, text, encoding, format, emv, checks... */
json_t *payload_describe(const unsigned char *bytes, size_t len, const struct payload_env *env);
/* An indented, annotated tree for a person; control characters escaped. */
void payload_explain(json_t *scan, FILE *out);
/* Write s with control characters and backslashes escaped (\xNN). */
void payload_safe_puts(const char *s, FILE *out);

#endif
