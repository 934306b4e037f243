/* events: see events.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "clock.h"
#include "err.h"
#include "events.h"
#include "records.h"

#include "util.h"

void events_queue(struct store *st, const char *merchant_no, const char *kind, const char *subject, json_t *body)
{
	char id[EVENT_ID_MAX], now[CLOCK_TEXT_MAX];
	ids_event(subject, id);
	int64_t ms = clock_now_ms();
	clock_format(ms, now);
	json_object_set_new(body, "event_id", json_string(id));
	json_object_set_new(body, "event", json_string(kind));
	struct rec_buf text = {0};
	store_write(st, -1,
	            "INSERT INTO events(id, merchant_id, kind, subject, body, next_attempt_at, created_at)"
	            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
	            "tttttit", id, merchant_no, kind, subject, rec_text(body, &text), ms, now);
	rec_buf_free(&text);
}

/* On PostgreSQL, notifiers on several hosts claim at once: each locks
 * what it takes and passes over what another has locked (SKIP LOCKED),
 * then sees it claimed once that one commits. SQLite has one writer. */
#define CLAIM_SELECT                                                                                                   \
	"SELECT e.id, e.merchant_id, m.notify_url, e.body, e.attempts FROM events e"                                   \
	" JOIN merchants m ON m.id = e.merchant_id WHERE "
#define CLAIM_LAPSED                                                                                                   \
	"e.state = 'sending' AND e.lease_until <= ? AND m.notify_url IS NOT NULL AND m.notify_url <> ''"               \
	" ORDER BY e.next_attempt_at, e.id LIMIT ?"
#define CLAIM_DUE                                                                                                      \
	"e.state = 'pending' AND e.next_attempt_at <= ? AND m.notify_url IS NOT NULL AND m.notify_url <> ''"           \
	" ORDER BY e.next_attempt_at, e.id LIMIT ?"
static const struct store_sql claim_lapsed = {
    .sqlite = CLAIM_SELECT CLAIM_LAPSED,
    .postgresql = CLAIM_SELECT CLAIM_LAPSED " FOR NO KEY UPDATE OF e SKIP LOCKED",
};
static const struct store_sql claim_due = {
    .sqlite = CLAIM_SELECT CLAIM_DUE,
    .postgresql = CLAIM_SELECT CLAIM_DUE " FOR NO KEY UPDATE OF e SKIP LOCKED",
};

size_t events_claim(struct store *st, int64_t now_ms, int64_t lease_ms, struct event_claim *out, size_t max)
{
	char now[CLOCK_TEXT_MAX];
	clock_format(now_ms, now);
	size_t n = 0;
	/* Claims whose notifier died are due again, first; then what is due,
	 * in the order of events_due, so a claim reads only what it takes (an
	 * OR of the two made every claim scan the whole queue). */
	for (int lapsed = 1; lapsed >= 0 && n < max; lapsed--) {
		struct store_stmt *q =
		    store_query_sql(st, lapsed ? &claim_lapsed : &claim_due, "ii", now_ms, (int64_t)(max - n));
		while (n < max && store_step(q) == STORE_ROW) {
			struct event_claim *c = &out[n++];
			strlcopy(c->id, store_col_text(q, 0), sizeof c->id);
			strlcopy(c->merchant, store_col_text(q, 1), sizeof c->merchant);
			c->url = xstrdup(store_col_text(q, 2));
			c->body = xstrdup(store_col_text(q, 3));
			c->attempt = (int)store_col_int(q, 4) + 1;
		}
		store_done(q);
	}
	for (size_t i = 0; i < n; i++) {
		store_exec(st, "UPDATE events SET state = 'sending', attempts = ?, lease_until = ? WHERE id = ?", "iit",
		           (int64_t)out[i].attempt, now_ms + lease_ms, out[i].id);
		/* The attempt's number is its key: a second claim of it would fail here. */
		if (store_exec(st, "INSERT INTO event_attempts(event_id, attempt, started_at) VALUES (?, ?, ?)", "tit",
		               out[i].id, (int64_t)out[i].attempt, now) == STORE_CONSTRAINT) {
			err_die(EX_SOFTWARE, "attempt %d of %s was claimed twice; this is a bug", out[i].attempt,
			        out[i].id);
		}
	}
	return n;
}

void events_claim_free(struct event_claim *c)
{
	free(c->url);
	free(c->body);
	c->url = c->body = NULL;
}

json_t *events_record(struct store *st, const struct event_claim *c, long status, const char *error, int64_t now_ms,
                      const int64_t *retry_ms, int nretry)
{
	char now[CLOCK_TEXT_MAX], next[CLOCK_TEXT_MAX];
	clock_format(now_ms, now);
	bool ok = status >= 200 && status <= 299;
	const char *result = ok ? "delivered" : c->attempt > nretry ? "failed" : "retry";
	int64_t next_ms = ok || c->attempt > nretry ? now_ms : now_ms + retry_ms[c->attempt - 1];
	store_exec(
	    st, "UPDATE event_attempts SET status = ?, error = ?, finished_at = ? WHERE event_id = ? AND attempt = ?",
	    "ittti", (int64_t)status, error, now, c->id, (int64_t)c->attempt);
	store_exec(st,
	           "UPDATE events SET state = ?, next_attempt_at = ?, lease_until = NULL, last_status = ?,"
	           " last_error = ?, delivered_at = ? WHERE id = ?",
	           "tiittt",
	           ok                    ? "delivered"
	           : c->attempt > nretry ? "failed"
	                                 : "pending",
	           next_ms, (int64_t)status, error, ok ? now : NULL, c->id);
	char merchant[MERCHANT_REF_MAX];
	ids_merchant(c->merchant, merchant);
	json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s}", "type", "delivery", "event", c->id, "merchant", merchant,
	                      "attempt", c->attempt, "result", result);
	json_object_set_new(o, "status", status ? json_integer(status) : json_null());
	if (error)
		json_object_set_new(o, "error", json_string(error));
	if (!ok && c->attempt <= nretry) {
		clock_format(next_ms, next);
		json_object_set_new(o, "next_attempt_at", json_string(next));
	}
	json_object_set_new(o, "at", json_string(now));
	return o;
}
