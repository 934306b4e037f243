/* social: see social.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch.h"
#include "clock.h"
#include "events.h"
#include "lists.h"
#include "merchants.h"
#include "period.h"
#include "social.h"
#include "utf8.h"

#include "util.h"

/* The uid that ref names ("u:<uid>" or "<uid>"; what names it), of a
 * user the ledger has. */
static int user_ref(struct store *st, const char *what, const char *ref, const char **uid, struct err *e)
{
	*uid = ids_uid(ref);
	if (!rec_valid_name(*uid, UID_MAX, "_.-"))
		return err_fail(e, ERR_FAIL, "bad_field", "%s '%.80s' must be 1 to %d letters, digits, '_', '.' or '-'",
		                what, ref, UID_MAX);
	struct store_stmt *q = store_query(st, "SELECT 1 FROM users WHERE uid = ?", "t", *uid);
	bool found = store_step(q) == STORE_ROW;
	store_done(q);
	return found ? 0 : err_fail(e, ERR_FAIL, "not_found", "no user '%.80s' in this ledger", *uid);
}

static int get_user(struct store *st, json_t *req, const char **uid, struct err *e)
{
	const char *raw;
	if (rec_get_str(req, "uid", true, 0, &raw, e))
		return ERR_FAIL;
	return user_ref(st, "uid", raw, uid, e);
}

static int get_merchant(struct store *st, json_t *req, struct merchant *m, struct err *e)
{
	const char *ref;
	if (rec_get_str(req, "merchant", true, 0, &ref, e) || merchants_load(st, ref, m, e))
		return ERR_FAIL;
	batch_identify("merchant", m->id);
	return 0;
}

/* When uid started following merchant_no, in since; false if it does not. */
static bool follows(struct store *st, const char *uid, const char *merchant_no, char since[CLOCK_TEXT_MAX])
{
	struct store_stmt *q =
	    store_query(st, "SELECT created_at FROM follows WHERE uid = ? AND merchant_id = ?", "tt", uid, merchant_no);
	bool found = store_step(q) == STORE_ROW;
	if (found)
		strlcopy(since, store_col_text(q, 0), CLOCK_TEXT_MAX);
	store_done(q);
	return found;
}

static json_t *follow_json(const char *uid, const struct merchant *m, const char *result, const char *since)
{
	char buyer[USER_REF_MAX];
	json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:s}", "type", "follow", "buyer", ids_user(uid, buyer), "merchant",
	                      m->id, "following", since != NULL, "result", result);
	if (since)
		json_object_set_new(o, "since", json_string(since));
	return o;
}

int social_follow(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	const char *uid;
	struct merchant m;
	if (get_user(c->st, req, &uid, e) || get_merchant(c->st, req, &m, e))
		return BATCH_FAIL;
	char since[CLOCK_TEXT_MAX];
	/* A follow made before (by a payment's --follow) keeps its date. */
	if (follows(c->st, uid, m.no, since)) {
		*out = follow_json(uid, &m, "unchanged", since);
		return BATCH_OK;
	}
	clock_format(clock_now_ms(), since);
	store_exec(c->st, "INSERT INTO follows(uid, merchant_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
	           "ttt", uid, m.no, since);
	*out = follow_json(uid, &m, "followed", since);
	return BATCH_OK;
}

int social_unfollow(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	const char *uid;
	struct merchant m;
	if (get_user(c->st, req, &uid, e) || get_merchant(c->st, req, &m, e))
		return BATCH_FAIL;
	struct store_stmt *q =
	    store_query(c->st, "DELETE FROM follows WHERE uid = ? AND merchant_id = ? RETURNING uid", "tt", uid, m.no);
	bool was = store_step(q) == STORE_ROW;
	store_done(q);
	/* Not following is where an unfollow leads: no error, the record says so. */
	*out = follow_json(uid, &m, was ? "unfollowed" : "unchanged", NULL);
	return BATCH_OK;
}

/* A request's "limit": a number, or its text from the command line. */
static int get_limit(json_t *req, int64_t *limit, struct err *e)
{
	json_t *v = json_object_get(req, "limit");
	*limit = 0;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v))
		*limit = json_integer_value(v);
	else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		long long n = strtoll(s, &end, 10);
		*limit = *s >= '0' && *s <= '9' && !*end && n <= LIST_LIMIT_MAX ? n : -1;
	} else
		*limit = -1;
	if (*limit < 1 || *limit > LIST_LIMIT_MAX)
		return err_fail(e, ERR_FAIL, "bad_field", "limit must be a number from 1 to %lld", LIST_LIMIT_MAX);
	return 0;
}

int social_followers(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	struct merchant m;
	int64_t limit;
	const char *after = NULL;
	if (get_merchant(c->st, req, &m, e) || get_limit(req, &limit, e) ||
	    rec_get_str(req, "after", false, 0, &after, e))
		return BATCH_FAIL;
	char after_at[CLOCK_TEXT_MAX] = "";
	const char *after_uid = "";
	if (after) {
		/* Pages go by (since, uid), the listing's order; the last
		 * follower of a page starts the next. */
		if (!ids_is_user(after))
			return err_fail(e, ERR_FAIL, "bad_field",
			                "after takes a follower, u:<uid> as the listing gives it, not '%.80s'", after);
		after_uid = ids_uid(after);
		if (!follows(c->st, after_uid, m.no, after_at))
			return err_fail(e, ERR_FAIL, "not_found", "after: %.80s does not follow %s", after, m.id);
	}
	/* The index follows_merchant(merchant_id, created_at, uid) is this order. */
	struct store_stmt *q =
	    store_query(c->st,
	                "SELECT f.uid, u.nickname, f.created_at FROM follows f JOIN users u ON u.uid = f.uid"
	                " WHERE f.merchant_id = ?1 AND (?2 = '' OR f.created_at > ?2 OR (f.created_at = ?2 AND"
	                " f.uid > ?3)) ORDER BY f.created_at, f.uid LIMIT ?4",
	                "ttti", m.no, after_at, after_uid, limit > 0 ? limit : INT64_MAX);
	*out = json_array();
	while (store_step(q) == STORE_ROW) {
		char buyer[USER_REF_MAX];
		json_array_append_new(*out, json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "follower", "merchant", m.id,
		                                      "buyer", ids_user(store_col_text(q, 0), buyer), "nickname",
		                                      store_col_text(q, 1), "since", store_col_text(q, 2)));
	}
	store_done(q);
	return BATCH_OK;
}

/* ---- messages ---- */

/* Count one against party's limit for day: true if it fits. One
 * statement, so that two senders at once cannot both take the last one. */
static bool quota_take(struct store *st, const char *day, const char *party, int64_t limit)
{
	struct store_stmt *q =
	    store_query(st,
	                "INSERT INTO message_quota(day, party, sent) VALUES (?1, ?2, 1) ON CONFLICT (day, party)"
	                " DO UPDATE SET sent = message_quota.sent + 1 WHERE message_quota.sent < ?3 RETURNING sent",
	                "tti", day, party, limit);
	bool taken = store_step(q) == STORE_ROW && store_col_int(q, 0) <= limit;
	store_done(q);
	return taken;
}

static int64_t limit_setting(struct store *st, const char *name, const char *fallback)
{
	char *text = store_setting(st, name, fallback);
	int64_t n = strtoll(text, NULL, 10);
	free(text);
	return n;
}

static json_t *message_json(const char *id, const struct merchant *m, const char *request_no, const char *to,
                            int64_t recipients, int64_t skipped, const char *created_at)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:{s:I}, s:s}", "type", "message", "id", id, "merchant", m->id,
	                 "request_no", request_no, "to", to, "recipients", (json_int_t)recipients, "skipped",
	                 "buyer_limit", (json_int_t)skipped, "created_at", created_at);
}

/* The message sent before with this request_no, as *out; 1 if there is one. */
static int replay(struct store *st, const struct merchant *m, const char *request_no, const char *to, const char *text,
                  json_t **out, struct err *e)
{
	struct store_stmt *q = store_query(st,
	                                   "SELECT id, audience, text, recipients, skipped, created_at FROM messages "
	                                   "WHERE merchant_id = ? AND request_no = ?",
	                                   "tt", m->no, request_no);
	int found = store_step(q) == STORE_ROW;
	if (found && (strcmp(store_col_text(q, 1), to) != 0 || strcmp(store_col_text(q, 2), text) != 0))
		found = err_fail(e, ERR_FAIL, "conflict",
		                 "%s sent another message with request_no '%s'; give each message its own", m->id,
		                 request_no);
	else if (found)
		*out = message_json(store_col_text(q, 0), m, request_no, to, store_col_int(q, 3), store_col_int(q, 4),
		                    store_col_text(q, 5));
	store_done(q);
	return found;
}

/* Who "to" names, each a uid, in recipients (order: the order's id). */
static int audience(struct store *st, const struct merchant *m, const char *to, json_t *recipients, char order[ID_MAX],
                    struct err *e)
{
	char since[CLOCK_TEXT_MAX];
	if (strcmp(to, "followers") == 0) {
		struct store_stmt *q = store_query(
		    st, "SELECT uid FROM follows WHERE merchant_id = ? ORDER BY created_at, uid", "t", m->no);
		while (store_step(q) == STORE_ROW)
			json_array_append_new(recipients, json_string(store_col_text(q, 0)));
		store_done(q);
		return 0;
	}
	const char *uid;
	if (ids_is_user(to)) {
		if (user_ref(st, "to", to, &uid, e))
			return ERR_FAIL;
		json_array_append_new(recipients, json_string(uid));
	} else if (strncmp(to, "order:", 6) == 0) {
		const char *id = to + 6;
		if (!ids_valid(id, "ord"))
			return err_fail(e, ERR_FAIL, "bad_field", "to: '%.80s' is not an order id (ord_...)", id);
		struct store_stmt *q =
		    store_query(st, "SELECT buyer FROM orders WHERE id = ? AND merchant_id = ?", "tt", id, m->no);
		bool found = store_step(q) == STORE_ROW;
		bool buyer = found && !store_col_null(q, 0);
		if (buyer)
			json_array_append_new(recipients, json_string(store_col_text(q, 0)));
		store_done(q);
		if (!found)
			return err_fail(e, ERR_FAIL, "not_found", "%s has no order %s", m->id, id);
		if (!buyer)
			return err_fail(e, ERR_FAIL, "no_buyer", "order %s has no buyer to write to", id);
		strlcopy(order, id, ID_MAX);
		uid = json_string_value(json_array_get(recipients, 0));
	} else {
		return err_fail(e, ERR_FAIL, "bad_field", "to is 'followers', u:<uid> or order:<id>, not '%.80s'", to);
	}
	if (!follows(st, uid, m->no, since))
		return err_fail(e, ERR_FAIL, "not_following", "u:%s does not follow %s: messages go only to followers",
		                uid, m->id);
	return 0;
}

int social_message(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	struct merchant m;
	const char *to, *text, *request_no;
	if (get_merchant(c->st, req, &m, e) || rec_get_str(req, "to", true, 0, &to, e) ||
	    rec_get_request_no(req, &request_no, e) || rec_get_str(req, "text", true, 0, &text, e))
		return BATCH_FAIL;
	if (utf8_count(text) > SOCIAL_TEXT_MAX)
		return err_fail(e, ERR_FAIL, "bad_field", "text is longer than %d characters", SOCIAL_TEXT_MAX);
	/* The platform shows it to people: nothing that moves the cursor or
	 * reverses what follows (a bidi override makes "gro.knab" a bank). */
	if (utf8_has_unsafe(text))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "text has a control character (a line break, a tab, a bidi override, ...)");
	int rc = replay(c->st, &m, request_no, to, text, out, e);
	if (rc)
		return rc > 0 ? BATCH_OK : BATCH_FAIL;
	/* A merchant suspended (say for fake goods) must not reach its buyers
	 * through the platform; an applicant has not been vetted yet. */
	if (merchants_check_approved(&m, "send messages", e))
		return BATCH_FAIL;
	char *url = store_setting(c->st, SOCIAL_URL_SETTING, "");
	bool no_url = !*url;
	free(url);
	if (no_url)
		return err_fail(e, ERR_FAIL, "no_platform_url",
		                "messages go to the social platform, whose notify URL is not set: run 'wpay init "
		                "--platform-notify-url URL'");
	json_t *recipients = json_array();
	char order[ID_MAX] = "";
	if (audience(c->st, &m, to, recipients, order, e)) {
		json_decref(recipients);
		return BATCH_FAIL;
	}
	int64_t now_ms = clock_now_ms();
	char day[16], now[CLOCK_TEXT_MAX], id[ID_MAX];
	if (period_ledger_day(c->st, now_ms, day, e)) {
		json_decref(recipients);
		return BATCH_FAIL;
	}
	int64_t per_merchant = limit_setting(c->st, SOCIAL_PER_MERCHANT_SETTING, SOCIAL_PER_MERCHANT_DEFAULT);
	if (!quota_take(c->st, day, m.id, per_merchant)) {
		json_decref(recipients);
		return err_fail(e, ERR_FAIL, "rate_limited",
		                "%s has sent its %lld messages of the day %s; send again the next day", m.id,
		                (long long)per_merchant, day);
	}
	clock_format(now_ms, now);
	ids_new("msg", id);
	/* The message first: a concurrent replay of its request_no waits on
	 * this row, then finds it. */
	if (store_exec(c->st,
	               "INSERT INTO messages(id, merchant_id, request_no, audience, text, recipients, created_at)"
	               " VALUES (?, ?, ?, ?, ?, 0, ?)",
	               "tttttt", id, m.no, request_no, to, text, now) == STORE_CONSTRAINT) {
		json_decref(recipients);
		return err_fail(
		    e, ERR_FAIL, "conflict",
		    "a message with request_no '%s' was being sent at the same time; send again for its record",
		    request_no);
	}
	int64_t per_buyer = limit_setting(c->st, SOCIAL_PER_BUYER_SETTING, SOCIAL_PER_BUYER_DEFAULT), sent = 0,
	        skipped = 0;
	size_t i;
	json_t *uid;
	json_array_foreach (recipients, i, uid) {
		char party[USER_REF_MAX], subject[ID_MAX];
		ids_user(json_string_value(uid), party);
		if (!quota_take(c->st, day, party, per_buyer)) {
			skipped++;
			continue;
		}
		json_t *body =
		    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind", SOCIAL_EVENT_KIND, "message", id,
		              "merchant", m.id, "merchant_name", m.name, "to", party, "text", text, "sent_at", now);
		if (*order)
			json_object_set_new(body, "order", json_string(order));
		ids_new("dm", subject); /* one event per recipient */
		events_queue(c->st, m.no, SOCIAL_EVENT_KIND, subject, body);
		json_decref(body);
		sent++;
	}
	json_decref(recipients);
	store_exec(c->st, "UPDATE messages SET recipients = ?, skipped = ? WHERE id = ?", "iit", sent, skipped, id);
	*out = message_json(id, &m, request_no, to, sent, skipped, now);
	return BATCH_OK;
}
