/*
 * events: the notifications queued for merchants (order.paid,
 * order.refunded, settlement.done), and for the social platform (message,
 * social.h), and the bookkeeping of their delivery by wpay-notify.
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
 *
 * A failed event can be put back (events_redeliver): pending, due now,
 * its schedule from the start (events.attempts counts the attempts since
 * it was last queued); event_attempts keeps every attempt, numbered on
 * over redeliveries, and the id and body stay the same.
 */
#ifndef WPAY_EVENTS_H
#define WPAY_EVENTS_H

#include <jansson.h>
#include <stdint.h>

#include "ids.h"
#include "period.h"
#include "store.h"

#define EVENT_RETRY_MAX 16

/* Queue kind for merchant_no about subject (an id), with body (the
 * event_id and event fields are added to it), unless it is queued already. */
void events_queue(struct store *st, const char *merchant_no, const char *kind, const char *subject, json_t *body);

struct event_claim {
	char id[EVENT_ID_MAX];
	char merchant[MERCHANT_NO_MAX + 1];
	char kind[32];    /* "message" is signed with the platform's key (social.h) */
	char *url, *body; /* owned; events_claim_free */
	int attempt;      /* 1 for the first since it was queued: its place in the schedule */
	int number;       /* its number in event_attempts, counting every attempt */
};

/* In the caller's write transaction: claim up to max due events (of
 * merchants with a notify URL; message events while the platform's URL
 * is set) for lease_ms. Returns how many. */
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

/* True if id has the form of an event id (evt_ and a subject id). */
bool events_is_id(const char *id);

/* What events_list shows. */
struct events_filter {
	const char *state;    /* "pending" (with "sending"), "failed", "delivered", or NULL: any */
	const char *merchant; /* a merchant number, or NULL: every merchant */
	const char *kind;     /* "order.paid", "message", ... or NULL: any */
	struct period span;   /* of created_at */
	const char *after;    /* an event id: only those after it in the listing, or NULL */
	int64_t limit;        /* at most this many; 0: no limit */
};

/*
 * Each event f selects, oldest first (created_at, then id), as an "event"
 * record given to each, which stops the listing by returning false.
 * Returns 0, or 65 "unknown_event" when f->after names no event.
 */
int events_list(struct store *st, const struct events_filter *f, bool (*each)(json_t *rec, void *arg), void *arg,
                struct err *e);

/*
 * Put the failed event id back on the queue, due at now_ms, in its own
 * statement (a notifier running beside it sees it failed or pending,
 * never between). *out: a "redelivery" record, result "queued", or
 * "unchanged" with the state that kept it (pending, sending: in flight,
 * delivered); an event never moves but from failed, so a second run
 * changes nothing. Returns 0, or ERR_FAIL with e set: "bad_id" (not an
 * event id), "unknown_event".
 */
int events_redeliver(struct store *st, const char *id, int64_t now_ms, json_t **out, struct err *e);

/* The ids of merchant_no's failed events created in span, oldest first. */
json_t *events_failed(struct store *st, const char *merchant_no, const struct period *span);

#endif
