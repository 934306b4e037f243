/*
 * events: the notifications queued for merchants (order.paid,
 * order.refunded, settlement.done) and the bookkeeping of their delivery
 * by wpay-notify.
 *
 * An event is queued once: its id is "evt_" and its subject's id. Its
 * body is fixed when queued, and every attempt sends the same body and id,
 * so a merchant drops duplicates by id. An attempt is claimed before it is
 * sent (in a write transaction: the event becomes 'sending' with a lease,
 * and the attempt is logged by its number, which is unique), so two
 * notifiers never send the same attempt; a claim whose notifier died is
 * taken again when its lease ends, as the next attempt.
 *
 * States: pending (due at next_attempt_at), sending, delivered (a 2xx
 * answer), failed (the retry schedule ran out).
 */
#ifndef WPAY_EVENTS_H
#define WPAY_EVENTS_H

#include <jansson.h>
#include <stdint.h>

#include "ids.h"
#include "store.h"

#define EVENT_RETRY_MAX 16

/* Queue kind for merchant_no about subject (an id), with body (the
 * event_id and event fields are added to it), unless it is queued already. */
void events_queue(struct store *st, const char *merchant_no, const char *kind, const char *subject, json_t *body);

struct event_claim {
	char id[EVENT_ID_MAX];
	char merchant[MERCHANT_NO_MAX + 1];
	char *url, *body; /* owned; events_claim_free */
	int attempt;      /* 1 for the first */
};

/* In the caller's write transaction: claim up to max due events (of
 * merchants with a notify URL) for lease_ms. Returns how many. */
size_t events_claim(struct store *st, int64_t now_ms, int64_t lease_ms, struct event_claim *out, size_t max);
void events_claim_free(struct event_claim *c);

/*
 * In the caller's write transaction: what the attempt got: an HTTP status
 * (0: no answer, with error saying why). A 2xx delivers; anything else
 * schedules the next attempt after retry_ms[attempt - 1], or fails the
 * event when the schedule (nretry waits) has run out. Returns the
 * "delivery" record.
 */
json_t *events_record(struct store *st, const struct event_claim *c, long status, const char *error, int64_t now_ms,
                      const int64_t *retry_ms, int nretry);

#endif
