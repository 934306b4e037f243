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
	store_write_many(st, -1,
	                 "INSERT INTO events(id, merchant_id, kind, subject, body, next_attempt_at, created_at)"
	                 " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
	                 "tttttit", id, merchant_no, kind, subject, rec_text(body, &text), ms, now);
	rec_buf_free(&text);
}

/* On PostgreSQL, notifiers on several hosts claim at once: each locks
 * what it takes and passes over what another has locked (SKIP LOCKED),
 * then sees it claimed once that one commits. SQLite has one writer.
 * The attempt's number in event_attempts is read with the claim, so two
 * claims of one attempt would log the same number, which its key refuses. */
/* A message event goes to the social platform's URL (social.h), every
 * other to its merchant's. */
#define CLAIM_URL                                                                                                      \
	"COALESCE(CASE WHEN e.kind = 'message' THEN (SELECT s.value FROM settings s WHERE s.name ="                    \
	" 'platform_notify_url') ELSE m.notify_url END, '')"
#define CLAIM_SELECT                                                                                                   \
	"SELECT e.id, e.merchant_id, " CLAIM_URL ", e.body, e.attempts,"                                               \
	" (SELECT COALESCE(MAX(a.attempt), 0) FROM event_attempts a WHERE a.event_id = e.id), e.kind FROM events e"    \
	" JOIN merchants m ON m.id = e.merchant_id WHERE "
#define CLAIM_LAPSED                                                                                                   \
	"e.state = 'sending' AND e.lease_until <= ? AND " CLAIM_URL " <> ''"                                           \
	" ORDER BY e.next_attempt_at, e.id LIMIT ?"
#define CLAIM_DUE                                                                                                      \
	"e.state = 'pending' AND e.next_attempt_at <= ? AND " CLAIM_URL " <> ''"                                       \
	" ORDER BY e.next_attempt_at, e.id LIMIT ?"
static const struct store_sql claim_lapsed = {
    .sqlite = CLAIM_SELECT CLAIM_LAPSED,
    .postgresql = CLAIM_SELECT CLAIM_LAPSED " FOR NO KEY UPDATE OF e SKIP LOCKED",
};
static const struct store_sql claim_due = {
    .sqlite = CLAIM_SELECT CLAIM_DUE,
    .postgresql = CLAIM_SELECT CLAIM_DUE " FOR NO KEY UPDATE OF e SKIP LOCKED",
};

/* A message whose buyer has stopped following its merchant since it was
 * queued is never sent: an unfollowed buyer gets none. */
static bool message_unwanted(struct store *st, const struct event_claim *c)
{
	if (strcmp(c->kind, "message") != 0)
		return false;
	json_t *body = json_loads(c->body, 0, NULL);
	const char *to = json_string_value(json_object_get(body, "to"));
	bool follows = false;
	if (to) {
		struct store_stmt *q = store_query(st, "SELECT 1 FROM follows WHERE uid = ? AND merchant_id = ?", "tt",
		                                   ids_uid(to), c->merchant);
		follows = store_step(q) == STORE_ROW;
		store_done(q);
	}
	json_decref(body);
	return !follows;
}

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
			c->number = (int)store_col_int(q, 5) + 1;
			strlcopy(c->kind, store_col_text(q, 6), sizeof c->kind);
		}
		store_done(q);
	}
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (message_unwanted(st, &out[i])) {
			store_exec(
			    st,
			    "UPDATE events SET state = 'withdrawn', lease_until = NULL, last_error = ? WHERE id = ?",
			    "tt", "the buyer no longer follows the merchant", out[i].id);
			events_claim_free(&out[i]);
		} else if (kept++ != i) {
			out[kept - 1] = out[i];
		}
	}
	n = kept;
	for (size_t i = 0; i < n; i++) {
		store_exec(st, "UPDATE events SET state = 'sending', attempts = ?, lease_until = ? WHERE id = ?", "iit",
		           (int64_t)out[i].attempt, now_ms + lease_ms, out[i].id);
		/* The attempt's number is its key: a second claim of it would fail here. */
		if (store_exec(st, "INSERT INTO event_attempts(event_id, attempt, started_at) VALUES (?, ?, ?)", "tit",
		               out[i].id, (int64_t)out[i].number, now) == STORE_CONSTRAINT) {
			err_die(EX_SOFTWARE, "attempt %d of %s was claimed twice; this is a bug", out[i].number,
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
	    "ittti", (int64_t)status, error, now, c->id, (int64_t)c->number);
	/* Only the claim the event is still under decides its state: a
	 * notifier whose lease ran out while it waited for an answer may find
	 * that another one took the event over, and perhaps delivered it. Its
	 * attempt is logged above; the event is left to the later claim. */
	struct store_stmt *q =
	    store_query(st,
	                "UPDATE events SET state = ?1, next_attempt_at = ?2, lease_until = NULL, last_status = ?3,"
	                " last_error = ?4, delivered_at = ?5 WHERE id = ?6 AND state = 'sending' AND NOT EXISTS"
	                " (SELECT 1 FROM event_attempts a WHERE a.event_id = ?6 AND a.attempt > ?7) RETURNING id",
	                "tiittti",
	                ok                    ? "delivered"
	                : c->attempt > nretry ? "failed"
	                                      : "pending",
	                next_ms, (int64_t)status, error, ok ? now : NULL, c->id, (int64_t)c->number);
	bool current = store_step(q) == STORE_ROW;
	store_done(q);
	if (!current)
		result = "superseded";
	char merchant[MERCHANT_REF_MAX];
	ids_merchant(c->merchant, merchant);
	json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s}", "type", "delivery", "event", c->id, "merchant", merchant,
	                      "attempt", c->number, "result", result);
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

bool events_is_id(const char *id)
{
	return ids_is(id, "evt") && rec_valid_key(id, EVENT_ID_MAX - 1);
}

static json_t *text_or_null(struct store_stmt *q, int col)
{
	return store_col_null(q, col) ? json_null() : json_string(store_col_text(q, col));
}

static json_t *time_or_null(struct store_stmt *q, int col)
{
	char t[CLOCK_TEXT_MAX];
	if (store_col_null(q, col))
		return json_null();
	clock_format(store_col_int(q, col), t);
	return json_string(t);
}

int events_list(struct store *st, const struct events_filter *f, bool (*each)(json_t *rec, void *arg), void *arg,
                struct err *e)
{
	char after_at[CLOCK_TEXT_MAX] = "";
	if (f->after) {
		struct store_stmt *q = store_query(st, "SELECT created_at FROM events WHERE id = ?", "t", f->after);
		bool found = store_step(q) == STORE_ROW;
		if (found)
			strlcopy(after_at, store_col_text(q, 0), sizeof after_at);
		store_done(q);
		if (!found)
			return err_fail(e, EX_DATAERR, "unknown_event", "--after %s: no such event in this ledger",
			                f->after);
	}
	/* One statement for every filter (a NULL parameter leaves its filter
	 * out); a scan of events, which a listing of all of them is anyway.
	 * Paging goes by (created_at, id), the listing's order, so a page
	 * starts where the last ended even among events of one second. */
	struct store_stmt *q =
	    store_query(st,
	                "SELECT e.id, e.merchant_id, e.kind, e.subject, e.state, e.attempts,"
	                " (SELECT COUNT(*) FROM event_attempts a WHERE a.event_id = e.id), e.last_status, e.last_error,"
	                " e.next_attempt_at, e.lease_until, e.delivered_at, e.created_at FROM events e"
	                " WHERE (?1 IS NULL OR e.state = ?1 OR (?1 = 'pending' AND e.state = 'sending'))"
	                " AND (?2 IS NULL OR e.merchant_id = ?2) AND (?3 = '' OR e.created_at >= ?3)"
	                " AND (?4 = '' OR e.created_at < ?4) AND (?5 = '' OR e.created_at > ?5 OR (e.created_at = ?5 "
	                "AND e.id > ?6)) AND (?8 IS NULL OR e.kind = ?8)"
	                " ORDER BY e.created_at, e.id LIMIT ?7",
	                "ttttttit", f->state, f->merchant, f->span.since, f->span.until, after_at,
	                f->after ? f->after : "", f->limit > 0 ? f->limit : INT64_MAX, f->kind);
	while (store_step(q) == STORE_ROW) {
		char merchant[MERCHANT_REF_MAX];
		const char *state = store_col_text(q, 4);
		json_t *o =
		    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "type", "event", "id", store_col_text(q, 0),
		              "merchant", ids_merchant(store_col_text(q, 1), merchant), "kind", store_col_text(q, 2),
		              "subject", store_col_text(q, 3), "state", state, "attempts",
		              (json_int_t)store_col_int(q, 5), "attempts_total", (json_int_t)store_col_int(q, 6));
		json_object_set_new(
		    o, "last_status",
		    store_col_null(q, 7) || store_col_int(q, 7) == 0 ? json_null() : json_integer(store_col_int(q, 7)));
		json_object_set_new(o, "last_error", text_or_null(q, 8));
		/* Only a pending event has a next attempt; a sending one is in
		 * flight until its lease ends (then it is taken again). */
		json_object_set_new(o, "next_attempt_at",
		                    strcmp(state, "pending") == 0 ? time_or_null(q, 9) : json_null());
		if (strcmp(state, "sending") == 0)
			json_object_set_new(o, "lease_until", time_or_null(q, 10));
		json_object_set_new(o, "delivered_at", text_or_null(q, 11));
		json_object_set_new(o, "created_at", json_string(store_col_text(q, 12)));
		bool more = each(o, arg);
		json_decref(o);
		if (!more)
			break;
	}
	store_done(q);
	return 0;
}

int events_redeliver(struct store *st, const char *id, int64_t now_ms, json_t **out, struct err *e)
{
	if (!events_is_id(id))
		return err_fail(e, ERR_FAIL, "bad_id", "'%.80s' is not an event id (evt_...)", id);
	char now[CLOCK_TEXT_MAX], merchant[MERCHANT_REF_MAX];
	clock_format(now_ms, now);
	/* Only a failed event moves, in this one statement: one in flight
	 * (sending) or delivered is a notifier's, and one already pending
	 * was put back before, so a rerun is a no-op. */
	struct store_stmt *q =
	    store_query(st,
	                "UPDATE events SET state = 'pending', attempts = 0, next_attempt_at = ?,"
	                " lease_until = NULL WHERE id = ? AND state = 'failed' RETURNING merchant_id",
	                "it", now_ms, id);
	if (store_step(q) == STORE_ROW) {
		*out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "redelivery", "event", id, "merchant",
		                 ids_merchant(store_col_text(q, 0), merchant), "result", "queued", "state", "pending",
		                 "next_attempt_at", now);
		store_done(q);
		return 0;
	}
	store_done(q);
	q = store_query(st, "SELECT merchant_id, state FROM events WHERE id = ?", "t", id);
	if (store_step(q) != STORE_ROW) {
		store_done(q);
		return err_fail(e, ERR_FAIL, "unknown_event", "no event %s in this ledger", id);
	}
	const char *state = store_col_text(q, 1);
	static const struct {
		const char *state, *why;
	} whys[] = {
	    {"pending", "it is queued already: not failed"},
	    {"sending", "a notifier is sending it now: not failed"},
	    {"delivered", "it was delivered: not failed"},
	};
	const char *why = "it is not failed";
	for (size_t i = 0; i < ARRAY_LEN(whys); i++)
		if (strcmp(state, whys[i].state) == 0)
			why = whys[i].why;
	*out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", "redelivery", "event", id, "merchant",
	                 ids_merchant(store_col_text(q, 0), merchant), "result", "unchanged", "state", state, "reason",
	                 why);
	store_done(q);
	return 0;
}

json_t *events_failed(struct store *st, const char *merchant_no, const struct period *span)
{
	json_t *ids = json_array();
	struct store_stmt *q = store_query(st,
	                                   "SELECT id FROM events WHERE merchant_id = ?1 AND state = 'failed'"
	                                   " AND (?2 = '' OR created_at >= ?2) AND (?3 = '' OR created_at < ?3)"
	                                   " ORDER BY created_at, id",
	                                   "ttt", merchant_no, span->since, span->until);
	while (store_step(q) == STORE_ROW)
		json_array_append_new(ids, json_string(store_col_text(q, 0)));
	return ids;
}
