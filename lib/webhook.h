/*
 * webhook: signed HTTP POSTs to merchants (libcurl), and checking them.
 *
 * A notification is POSTed as application/json with three headers:
 *   Wpay-Event-Id: evt_...      the same on every attempt
 *   Wpay-Timestamp: 1763880000  Unix seconds when this attempt was sent
 *   Wpay-Signature: sha256=<hex HMAC-SHA256(secret, timestamp "." body)>
 * keyed with the merchant's webhook secret (the 32 bytes whose hex is its
 * key file). TLS is verified; redirects are not followed; no proxy is
 * used, so that the address connected to is the merchant's own; and,
 * unless allowed, every address is checked as it is connected to (see
 * netaddr.h), so no name can lead a notification into this network.
 */
#ifndef WPAY_WEBHOOK_H
#define WPAY_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define WEBHOOK_SIG_MAX (7 + 2 * SHA256_LEN + 1)

struct webhook_opts {
	long connect_timeout_ms, timeout_ms;
	bool allow_private; /* the ledger allows non-public addresses */
};

/* The one answer for an address refused: the same whatever is there, so
 * that it tells nothing about the host or its ports. */
#define WEBHOOK_REFUSED                                                                                                \
	"the notify URL leads to a loopback, private, link-local or other non-public address, where notifications "    \
	"do not go; use a public URL (or allow such addresses with 'wpay init --allow-private-notify')"

/* "sha256=<hex>" over timestamp "." body. */
void webhook_sign(const unsigned char *secret, size_t secret_len, const char *timestamp, const char *body,
                  size_t body_len, char out[WEBHOOK_SIG_MAX]);
/* Check a signature, and that timestamp is within tolerance_s of now_s;
 * NULL if valid, else why not. */
const char *webhook_verify(const unsigned char *secret, size_t secret_len, const char *timestamp, const char *body,
                           size_t body_len, const char *signature, int64_t now_s, int64_t tolerance_s);

/* POST body to url. Returns the HTTP status, or 0 with why filled in when
 * there was no answer (refused, timed out, TLS failed, or WEBHOOK_REFUSED:
 * an address notifications may not go to). */
long webhook_post(const char *url, const char *event_id, const char *body, const unsigned char *secret,
                  size_t secret_len, int64_t now_s, const struct webhook_opts *o, char *why, size_t why_len);

void webhook_global_init(void);
void webhook_global_cleanup(void);

#endif
