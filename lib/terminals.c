/* terminals: see terminals.h. */
#include <string.h>

#include "batch.h"
#include "clock.h"
#include "terminals.h"
#include "utf8.h"

#include "util.h"

bool terminals_valid_id(const char *id)
{
	size_t n = strlen(id);
	return n >= 1 && n <= TERMINAL_ID_MAX &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") == n;
}

static json_t *terminal_json(struct store *st, const char *merchant_no, const char *id)
{
	struct store_stmt *q = store_query(st,
	                                   "SELECT terminal_id, name, created_at, removed_at FROM terminals"
	                                   " WHERE merchant_id = ? AND terminal_id = ?",
	                                   "tt", merchant_no, id);
	json_t *o = NULL;
	if (store_step(q) == STORE_ROW) {
		char merchant[MERCHANT_REF_MAX];
		ids_merchant(merchant_no, merchant);
		o = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s?, s:s}", "type", "terminal", "merchant", merchant,
		              "terminal", store_col_text(q, 0), "name", store_col_text(q, 1), "created_at",
		              store_col_text(q, 2), "removed_at", store_col_text(q, 3), "status",
		              store_col_null(q, 3) ? "active" : "removed");
	}
	store_done(q);
	return o;
}

/* The merchant and the terminal id a request names. */
static int named(struct store *st, json_t *req, struct merchant *m, const char **id, struct err *e)
{
	const char *ref;
	if (rec_get_str(req, "merchant", true, 0, &ref, e) || merchants_load(st, ref, m, e) ||
	    rec_get_str(req, "terminal", true, 0, id, e))
		return ERR_FAIL;
	if (!terminals_valid_id(*id))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "terminal '%.40s' must be 1 to %d letters, digits, '_', '-' or '.' (EMV 62.07)", *id,
		                TERMINAL_ID_MAX);
	return 0;
}

int terminals_add(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	struct merchant m;
	const char *id, *name = NULL;
	if (named(c->st, req, &m, &id, e) || rec_get_str(req, "name", false, TERMINAL_NAME_MAX, &name, e))
		return BATCH_FAIL;
	if (name && utf8_has_control(name))
		return err_fail(e, ERR_FAIL, "bad_field", "name has a control character");
	char now[CLOCK_TEXT_MAX];
	clock_format(clock_now_ms(), now);
	/* Added again: revived, its name as given (or kept). */
	store_exec(c->st,
	           "INSERT INTO terminals(merchant_id, terminal_id, name, created_at) VALUES (?1, ?2, ?3, ?4)"
	           " ON CONFLICT (merchant_id, terminal_id) DO UPDATE SET removed_at = NULL,"
	           " name = COALESCE(?3, terminals.name)",
	           "tttt", m.no, id, name, now);
	*out = terminal_json(c->st, m.no, id);
	return BATCH_OK;
}

int terminals_remove(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	struct merchant m;
	const char *id;
	if (named(c->st, req, &m, &id, e))
		return BATCH_FAIL;
	char now[CLOCK_TEXT_MAX];
	clock_format(clock_now_ms(), now);
	store_exec(
	    c->st,
	    "UPDATE terminals SET removed_at = ? WHERE merchant_id = ? AND terminal_id = ? AND removed_at IS NULL",
	    "ttt", now, m.no, id);
	*out = terminal_json(c->st, m.no, id);
	if (!*out)
		return err_fail(e, ERR_FAIL, "unknown_terminal", "merchant %s has no terminal '%s'", m.id, id);
	return BATCH_OK;
}

int terminals_list(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	struct merchant m;
	const char *ref;
	if (rec_get_str(req, "merchant", true, 0, &ref, e) || merchants_load(c->st, ref, &m, e))
		return BATCH_FAIL;
	json_t *ids = json_array();
	struct store_stmt *q = store_query(
	    c->st, "SELECT terminal_id FROM terminals WHERE merchant_id = ? ORDER BY terminal_id", "t", m.no);
	while (store_step(q) == STORE_ROW)
		json_array_append_new(ids, json_string(store_col_text(q, 0)));
	*out = json_array();
	size_t i;
	json_t *id;
	json_array_foreach (ids, i, id)
		json_array_append_new(*out, terminal_json(c->st, m.no, json_string_value(id)));
	json_decref(ids);
	return BATCH_OK;
}

int terminals_check(struct store *st, const struct merchant *m, const char *id, struct err *e)
{
	if (!terminals_valid_id(id))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "terminal '%.40s' must be 1 to %d letters, digits, '_', '-' or '.' (EMV 62.07)", id,
		                TERMINAL_ID_MAX);
	struct store_stmt *q = store_query(
	    st, "SELECT removed_at IS NULL FROM terminals WHERE merchant_id = ? AND terminal_id = ?", "tt", m->no, id);
	int state = store_step(q) == STORE_ROW ? (int)store_col_int(q, 0) : -1;
	store_done(q);
	if (state == 1)
		return 0;
	if (state == 0)
		return err_fail(e, ERR_FAIL, "unknown_terminal",
		                "terminal %s of %s was removed; add it again with 'wpay bind merchant terminal add'",
		                id, m->id);
	return err_fail(e, ERR_FAIL, "unknown_terminal",
	                "merchant %s has no terminal '%s'; add it with 'wpay bind merchant terminal add %s %s'", m->id,
	                id, m->no, id);
}

int terminals_get(struct store *st, json_t *req, const struct merchant *m, const char **id, struct err *e)
{
	*id = NULL;
	if (rec_get_str(req, "terminal", false, 0, id, e))
		return ERR_FAIL;
	return *id ? terminals_check(st, m, *id, e) : 0;
}
