/* accounts: users, wallets, bindings, top-ups. See accounts.h. */
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "batch.h"
#include "cards.h"
#include "clock.h"
#include "ledger.h"
#include "money.h"
#include "utf8.h"

#include "util.h"

#define NICKNAME_MAX 64
#define LOGIN_MAX    128

static void now_text(char buf[CLOCK_TEXT_MAX])
{
	clock_format(clock_now_ms(), buf);
}

int accounts_check_currency(json_t *req, const char *account_currency, struct err *e)
{
	const char *cur = NULL;
	if (rec_get_str(req, "currency", false, 3, &cur, e))
		return ERR_FAIL;
	if (cur && strcmp(cur, account_currency) != 0)
		return err_fail(e, ERR_FAIL, "currency_mismatch", "the amount is in %s but the account holds %s", cur,
		                account_currency);
	return 0;
}

/* ---- records out ---- */

static json_t *user_json(struct store *st, const char *uid)
{
	struct store_stmt *q =
	    store_query(st,
	                "SELECT u.uid, u.nickname, b.wallet_id, u.created_at FROM users u"
	                " LEFT JOIN bindings b ON b.uid = u.uid AND b.unbound_at IS NULL WHERE u.uid = ?",
	                "t", uid);
	json_t *o = NULL;
	if (store_step(q) == STORE_ROW) {
		char id[USER_REF_MAX];
		ids_user(store_col_text(q, 0), id);
		o = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s}", "type", "user", "id", id, "uid", store_col_text(q, 0),
		              "nickname", store_col_text(q, 1), "wallet", store_col_text(q, 2), "created_at",
		              store_col_text(q, 3));
	}
	store_done(q);
	return o;
}

static json_t *wallet_json(struct store *st, const char *id)
{
	struct store_stmt *q = store_query(
	    st,
	    "SELECT w.id, w.login, w.currency, b.uid, w.pin_hash IS NOT NULL, w.locked_until, w.default_card, "
	    "w.created_at"
	    " FROM wallets w LEFT JOIN bindings b ON b.wallet_id = w.id AND b.unbound_at IS NULL WHERE w.id = ?",
	    "t", id);
	json_t *o = NULL;
	if (store_step(q) == STORE_ROW) {
		char user[USER_REF_MAX];
		char locked[CLOCK_TEXT_MAX];
		bool is_locked = !store_col_null(q, 5) && store_col_int(q, 5) > clock_now_ms();
		if (is_locked)
			clock_format(store_col_int(q, 5), locked);
		o = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:b, s:s?, s:s?, s:s}", "type", "wallet", "id",
		              store_col_text(q, 0), "login", store_col_text(q, 1), "currency", store_col_text(q, 2),
		              "user", ids_user(store_col_text(q, 3), user), "pin_set", (int)store_col_int(q, 4),
		              "locked_until", is_locked ? locked : NULL, "default_card", store_col_text(q, 6),
		              "created_at", store_col_text(q, 7));
	}
	store_done(q);
	return o;
}

json_t *accounts_records_of(struct store *st, struct store_stmt *q, json_t *(*fn)(struct store *, const char *))
{
	json_t *ids = json_array(), *out = json_array();
	while (store_step(q) == STORE_ROW)
		json_array_append_new(ids, json_string(store_col_text(q, 0)));
	size_t i;
	json_t *id;
	json_array_foreach (ids, i, id)
		json_array_append_new(out, fn(st, json_string_value(id)));
	json_decref(ids);
	return out;
}

/* ---- users ---- */

static int get_uid(json_t *req, const char **uid, struct err *e)
{
	const char *raw;
	if (rec_get_str(req, "uid", true, 0, &raw, e))
		return ERR_FAIL;
	*uid = ids_uid(raw);
	if (!rec_valid_name(*uid, UID_MAX, "_.-"))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "uid '%.80s' must be 1 to %d letters, digits, '_', '.' or '-'", raw, UID_MAX);
	return 0;
}

static int user_exists(struct store *st, const char *uid, struct err *e)
{
	struct store_stmt *q = store_query(st, "SELECT 1 FROM users WHERE uid = ?", "t", uid);
	bool found = store_step(q) == STORE_ROW;
	store_done(q);
	return found
	           ? 0
	           : err_fail(e, ERR_FAIL, "not_found", "no user '%s'; add it with 'wpay bind user add %s'", uid, uid);
}

static int get_nickname(json_t *req, const char **nick, struct err *e)
{
	if (rec_get_str(req, "nickname", true, NICKNAME_MAX, nick, e))
		return ERR_FAIL;
	if (utf8_has_control(*nick))
		return err_fail(e, ERR_FAIL, "bad_field", "nickname has a control character");
	return 0;
}

int accounts_user_add(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	const char *uid, *nick;
	char now[CLOCK_TEXT_MAX];
	if (get_uid(req, &uid, e) || get_nickname(req, &nick, e))
		return BATCH_FAIL;
	now_text(now);
	store_exec(c->st, "INSERT INTO users(uid, nickname, created_at) VALUES (?, ?, ?) ON CONFLICT(uid) DO NOTHING",
	           "ttt", uid, nick, now);
	*out = user_json(c->st, uid);
	const char *have = json_string_value(json_object_get(*out, "nickname"));
	if (strcmp(have, nick) != 0)
		return err_fail(e, ERR_FAIL, "conflict",
		                "user '%s' exists with nickname '%s'; use 'user update' to change it", uid, have);
	return BATCH_OK;
}

int accounts_user_update(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	const char *uid, *nick;
	if (get_uid(req, &uid, e) || get_nickname(req, &nick, e) || user_exists(c->st, uid, e))
		return BATCH_FAIL;
	store_exec(c->st, "UPDATE users SET nickname = ? WHERE uid = ?", "tt", nick, uid);
	*out = user_json(c->st, uid);
	return BATCH_OK;
}

int accounts_user_show(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	const char *uid;
	if (get_uid(req, &uid, e) || user_exists(c->st, uid, e))
		return BATCH_FAIL;
	*out = user_json(c->st, uid);
	return BATCH_OK;
}

int accounts_user_list(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	(void)req, (void)e;
	*out = accounts_records_of(c->st, store_query(c->st, "SELECT uid FROM users ORDER BY uid", ""), user_json);
	return BATCH_OK;
}

int accounts_wallet_ref(struct store *st, const char *ref, char id[ID_MAX], struct err *e)
{
	struct store_stmt *q;
	if (ids_is(ref, "wal"))
		q = store_query(st, "SELECT id FROM wallets WHERE id = ?", "t", ref);
	else if (ids_is_user(ref))
		q = store_query(st, "SELECT wallet_id FROM bindings WHERE uid = ? AND unbound_at IS NULL", "t",
		                ids_uid(ref));
	else
		q = store_query(st, "SELECT id FROM wallets WHERE login = ?", "t", ref);
	bool found = store_step(q) == STORE_ROW;
	if (found)
		strlcopy(id, store_col_text(q, 0), ID_MAX);
	store_done(q);
	if (found)
		return 0;
	if (ids_is_user(ref))
		return err_fail(e, ERR_FAIL, "not_found",
		                "user %.80s has no wallet bound; bind one with 'wpay bind user bind'", ref);
	return err_fail(e, ERR_FAIL, "not_found", "no wallet '%.80s' (give its id wal_..., u:<uid>, or its login)",
	                ref);
}

int accounts_get_wallet(struct store *st, json_t *req, char id[ID_MAX], struct err *e)
{
	const char *ref;
	if (rec_get_str(req, "wallet", true, 0, &ref, e))
		return ERR_FAIL;
	return accounts_wallet_ref(st, ref, id, e);
}

int accounts_user_bind(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	const char *uid;
	char wallet[ID_MAX], now[CLOCK_TEXT_MAX];
	if (get_uid(req, &uid, e) || user_exists(c->st, uid, e) || accounts_get_wallet(c->st, req, wallet, e))
		return BATCH_FAIL;
	struct store_stmt *q = store_query(
	    c->st, "SELECT uid, wallet_id FROM bindings WHERE (uid = ? OR wallet_id = ?) AND unbound_at IS NULL", "tt",
	    uid, wallet);
	int rc = BATCH_OK;
	bool already = false;
	while (rc == BATCH_OK && store_step(q) == STORE_ROW) {
		if (strcmp(store_col_text(q, 0), uid) == 0 && strcmp(store_col_text(q, 1), wallet) == 0)
			already = true;
		else if (strcmp(store_col_text(q, 0), uid) == 0)
			rc = err_fail(e, ERR_FAIL, "already_bound",
			              "user '%s' is bound to wallet %s; one wallet per user: unbind it first", uid,
			              store_col_text(q, 1));
		else
			rc = err_fail(e, ERR_FAIL, "already_bound",
			              "wallet %s is bound to user '%s'; unbind it there first", wallet,
			              store_col_text(q, 0));
	}
	store_done(q);
	if (rc != BATCH_OK)
		return BATCH_FAIL;
	if (!already) {
		now_text(now);
		store_exec(c->st, "INSERT INTO bindings(uid, wallet_id, bound_at) VALUES (?, ?, ?)", "ttt", uid, wallet,
		           now);
	}
	*out = user_json(c->st, uid);
	return BATCH_OK;
}

int accounts_user_unbind(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	const char *uid;
	char now[CLOCK_TEXT_MAX];
	if (get_uid(req, &uid, e) || user_exists(c->st, uid, e))
		return BATCH_FAIL;
	now_text(now);
	store_exec(c->st, "UPDATE bindings SET unbound_at = ? WHERE uid = ? AND unbound_at IS NULL", "tt", now, uid);
	*out = user_json(c->st, uid);
	return BATCH_OK;
}

int accounts_pair_show(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	const char *uid;
	if (get_uid(req, &uid, e) || user_exists(c->st, uid, e))
		return BATCH_FAIL;
	json_t *list = json_array(), *user = user_json(c->st, uid);
	json_array_append_new(list, user);
	const char *wallet = json_string_value(json_object_get(user, "wallet"));
	if (wallet) {
		json_array_append_new(list, wallet_json(c->st, wallet));
		json_t *cards = cards_of_wallet(c->st, wallet, true);
		json_array_extend(list, cards);
		json_decref(cards);
	}
	*out = list;
	return BATCH_OK;
}

/* ---- wallets ---- */

int accounts_wallet_add(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	const char *login, *cur = "CNY";
	if (rec_get_str(req, "login", true, LOGIN_MAX, &login, e) || rec_get_str(req, "currency", false, 3, &cur, e))
		return BATCH_FAIL;
	for (const char *s = login; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return err_fail(e, ERR_FAIL, "bad_field",
			                "login must not contain spaces or control characters");
	if (ids_is(login, "wal") || ids_is_user(login))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "a login may not start with 'wal_' or 'u:' (they name wallets and users)");
	if (!currency_find(cur) || !(cur[0] >= 'A' && cur[0] <= 'Z'))
		return err_fail(e, ERR_FAIL, "bad_currency",
		                "unknown currency '%.8s'; use an ISO 4217 code such as CNY", cur);
	char id[ID_MAX], now[CLOCK_TEXT_MAX], acct[ACCOUNT_ID_MAX];
	if (accounts_wallet_ref(c->st, login, id, e) == 0) {
		*out = wallet_json(c->st, id);
		const char *have = json_string_value(json_object_get(*out, "currency"));
		if (strcmp(have, cur) != 0)
			return err_fail(e, ERR_FAIL, "conflict", "wallet %s for login %s exists in %s, not %s", id,
			                login, have, cur);
		return BATCH_OK;
	}
	ids_new("wal", id);
	now_text(now);
	store_exec(c->st, "INSERT INTO wallets(id, login, currency, created_at) VALUES (?, ?, ?, ?)", "tttt", id, login,
	           cur, now);
	ledger_account(c->st, ACCOUNT_WALLET, id, cur, acct);
	*out = wallet_json(c->st, id);
	return BATCH_OK;
}

int accounts_wallet_show(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char id[ID_MAX];
	if (accounts_get_wallet(c->st, req, id, e))
		return BATCH_FAIL;
	*out = wallet_json(c->st, id);
	return BATCH_OK;
}

int accounts_wallet_list(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	(void)req, (void)e;
	*out = accounts_records_of(c->st, store_query(c->st, "SELECT id FROM wallets ORDER BY id", ""), wallet_json);
	return BATCH_OK;
}

static const char *wallet_currency(struct store *st, const char *id, char buf[8])
{
	return ledger_currency(st, ACCOUNT_WALLET, id, buf);
}

int accounts_wallet_balance(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char id[ID_MAX], cur[8], acct[ACCOUNT_ID_MAX];
	if (accounts_get_wallet(c->st, req, id, e))
		return BATCH_FAIL;
	ledger_account_id(ACCOUNT_WALLET, id, acct);
	*out = json_pack("{s:s, s:s, s:s, s:I, s:s}", "type", "balance", "wallet", id, "account", acct, "balance",
	                 (json_int_t)ledger_balance(c->st, ACCOUNT_WALLET, id), "currency",
	                 wallet_currency(c->st, id, cur));
	return BATCH_OK;
}

int accounts_wallet_topup(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char wallet[ID_MAX], card[ID_MAX], cur[8];
	const char *request_no;
	int64_t amount;
	if (accounts_get_wallet(c->st, req, wallet, e) || rec_get_amount(req, &amount, e) ||
	    rec_get_request_no(req, &request_no, e) ||
	    accounts_check_currency(req, wallet_currency(c->st, wallet, cur), e) ||
	    cards_funding(c->st, req, wallet, card, e))
		return BATCH_FAIL;
	struct transfer t = {.kind = "topup", .amount = amount, .currency = cur, .ref = request_no};
	bufprintf(t.key, sizeof t.key, "topup:%s:%s", wallet, request_no);
	ledger_account(c->st, ACCOUNT_CARD, card, cur, t.from);
	ledger_account(c->st, ACCOUNT_WALLET, wallet, cur, t.to);
	if (ledger_post(c->st, &t, 1, LEDGER_REPLAYABLE, e) < 0)
		return BATCH_FAIL;
	*out = ledger_transfer_json(&t);
	json_object_set_new(*out, "wallet", json_string(wallet));
	json_object_set_new(*out, "card", json_string(card));
	json_object_set_new(*out, "request_no", json_string(request_no));
	return BATCH_OK;
}
