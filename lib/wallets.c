/* wallets: transfers and withdrawals. See wallets.h. */
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "batch.h"
#include "card.h"
#include "cards.h"
#include "clock.h"
#include "ledger.h"
#include "money.h"
#include "period.h"
#include "pins.h"
#include "utf8.h"
#include "wallets.h"

#include "util.h"

static const char *const limit_kinds[] = {"transfer", "withdrawal"};

/* ---- daily limits ---- */

const char *wallets_limit_setting(const char *kind, const char *text, char name[40], char value[MONEY_TEXT_MAX])
{
	const char *colon = strchr(text, ':'), *amount = colon ? colon + 1 : text;
	const struct currency *cur = NULL;
	if (colon) {
		char code[8];
		if (colon - text != 3)
			return "a currency is its 3-letter ISO 4217 code, as in JPY:1000000";
		memcpy(code, text, 3);
		code[3] = '\0';
		cur = currency_find(code);
		if (!cur || !(code[0] >= 'A' && code[0] <= 'Z'))
			return "unknown currency: give an ISO 4217 code such as CNY";
		bufprintf(name, 40, "%s_limit.%s", kind, cur->alpha);
	} else {
		bufprintf(name, 40, "%s_limit", kind);
	}
	int64_t minor;
	/* Without a currency it is read in each currency's major units, so it
	 * must be whole: 0.50 means nothing in yen. */
	static const struct currency whole = {.alpha = "XXX", .minor = 0};
	const char *why = money_parse(amount, cur ? cur : &whole, false, &minor);
	if (why)
		return why;
	/* Read in any currency's minor units (up to 3 decimals), it must stay an amount. */
	if (!cur && minor > MONEY_MAX / 1000)
		return "more than 10^12 major units, which no currency's amounts can reach";
	money_format(minor, cur ? cur : &whole, value);
	return NULL;
}

json_t *wallets_limits_json(struct store *st)
{
	json_t *o = json_object();
	for (size_t k = 0; k < ARRAY_LEN(limit_kinds); k++)
		json_object_set_new(o, limit_kinds[k], wallets_limit_json(st, limit_kinds[k], WALLET_LIMIT_DEFAULT));
	return o;
}

json_t *wallets_limit_json(struct store *st, const char *kind, const char *fallback)
{
	char name[40];
	bufprintf(name, sizeof name, "%s_limit", kind);
	char *all = store_setting(st, name, fallback);
	json_t *o = json_pack("{s:s}", "default", all);
	free(all);
	/* "transfer_limit.JPY" and the like: after "." and before "/". */
	char from[48], to[48];
	bufprintf(from, sizeof from, "%s.", name);
	bufprintf(to, sizeof to, "%s/", name);
	struct store_stmt *q = store_query(
	    st, "SELECT name, value FROM settings WHERE name > ? AND name < ? ORDER BY name", "tt", from, to);
	while (store_step(q) == STORE_ROW)
		json_object_set_new(o, store_col_text(q, 0) + strlen(from), json_string(store_col_text(q, 1)));
	store_done(q);
	return o;
}

int wallets_limit(struct store *st, const char *kind, const char *fallback, const char *cur, int64_t *limit,
                  struct err *e)
{
	char name[40];
	bufprintf(name, sizeof name, "%s_limit.%s", kind, cur);
	char *text = store_setting(st, name, NULL);
	if (!text) {
		bufprintf(name, sizeof name, "%s_limit", kind);
		char *whole = store_setting(st, name, fallback);
		/* Major units: as many zeros after it as the currency has decimals. */
		text = xasprintf("%s%s", whole, currency_find(cur)->minor ? "." : "");
		free(whole);
		for (unsigned i = 0; i < currency_find(cur)->minor; i++) {
			char *more = xasprintf("%s0", text);
			free(text);
			text = more;
		}
	}
	const char *why = money_parse(text, currency_find(cur), false, limit);
	char option[40];
	strlcopy(option, kind, sizeof option);
	for (char *u = option; *u; u++)
		if (*u == '_')
			*u = '-';
	int rc = why ? err_fail(e, ERR_FAIL, "bad_setting",
	                        "the ledger's setting %s '%.40s' is not an amount in %s (%s); set it again with "
	                        "'wpay init --%s-limit'",
	                        name, text, cur, why, option)
	             : 0;
	free(text);
	return rc;
}

/* Count amount against wallet's day of kind: 0, or ERR_FAIL "over_limit". */
static int limit_take(struct store *st, const char *wallet, const char *kind, int64_t amount, const char *cur,
                      struct err *e)
{
	int64_t limit;
	char day[16];
	int rc = wallets_limit(st, kind, WALLET_LIMIT_DEFAULT, cur, &limit, e);
	if (rc)
		return rc;
	if ((rc = period_ledger_day(st, clock_now_ms(), day, e)) != 0)
		return ERR_FAIL;
	bool taken = false;
	if (amount <= limit) {
		/* One statement: two requests at once cannot both take the last of it. */
		struct store_stmt *q =
		    store_query(st,
		                "INSERT INTO wallet_daily(day, wallet_id, kind, total) VALUES (?1, ?2, ?3, ?4)"
		                " ON CONFLICT (wallet_id, day, kind) DO UPDATE SET total = wallet_daily.total + ?4"
		                " WHERE wallet_daily.total + ?4 <= ?5 RETURNING total",
		                "tttii", day, wallet, kind, amount, limit);
		taken = store_step(q) == STORE_ROW;
		store_done(q);
	}
	if (taken)
		return 0;
	struct store_stmt *q =
	    store_query(st, "SELECT total FROM wallet_daily WHERE wallet_id = ? AND day = ? AND kind = ?", "ttt",
	                wallet, day, kind);
	int64_t used = store_step(q) == STORE_ROW ? store_col_int(q, 0) : 0;
	store_done(q);
	const struct currency *c = currency_find(cur);
	char lim[MONEY_TEXT_MAX], left[MONEY_TEXT_MAX], want[MONEY_TEXT_MAX];
	money_format(limit, c, lim);
	money_format(limit > used ? limit - used : 0, c, left);
	money_format(amount, c, want);
	return err_fail(e, ERR_FAIL, "over_limit",
	                "%s %s %s from wallet %s is over its daily %s limit of %s %s: %s %s is left for %s", kind, want,
	                cur, wallet, kind, lim, cur, left, cur, day);
}

/* ---- what the two requests share ---- */

/* The PIN comes from the terminal or --pin-fd, never from a record. */
static int no_pin_in_record(json_t *req, struct err *e)
{
	if (json_object_get(req, "pin"))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "PINs are never taken from records; pass them with --pin-fd N");
	return 0;
}

/* The wallet, the amount, the request number, the currency: the request
 * in the wallet's currency. */
static int outgoing(struct wpay_ctx *c, json_t *req, char wallet[ID_MAX], char cur[8], int64_t *amount,
                    const char **request_no, struct err *e)
{
	if (no_pin_in_record(req, e) || accounts_get_wallet(c->st, req, wallet, e) || rec_get_amount(req, amount, e) ||
	    rec_get_request_no(req, request_no, e))
		return ERR_FAIL;
	ledger_currency(c->st, ACCOUNT_WALLET, wallet, cur);
	return accounts_check_currency(req, cur, e);
}

/* Check the PIN typed for this request (BATCH_ASK until it is). */
static int confirm(struct wpay_ctx *c, const char *wallet, struct err *e)
{
	if (!c->typed.ready)
		return BATCH_ASK;
	return pins_check(c, wallet, c->typed.current, e);
}

static void now_text(char buf[CLOCK_TEXT_MAX])
{
	clock_format(clock_now_ms(), buf);
}

/* ---- transfers ---- */

static json_t *transfer_json(struct store *st, const char *transfer_id)
{
	struct store_stmt *q = store_query(st,
	                                   "SELECT id, from_wallet, to_wallet, amount, currency, request_no, note,"
	                                   " transfer_id, created_at FROM wallet_transfers WHERE transfer_id = ?",
	                                   "t", transfer_id);
	json_t *o = NULL;
	if (store_step(q) == STORE_ROW)
		o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s?, s:s, s:s}", "type", "wallet_transfer", "id",
		              store_col_text(q, 0), "from", store_col_text(q, 1), "to", store_col_text(q, 2), "amount",
		              (json_int_t)store_col_int(q, 3), "currency", store_col_text(q, 4), "request_no",
		              store_col_text(q, 5), "note", store_col_null(q, 6) ? NULL : store_col_text(q, 6),
		              "transfer", store_col_text(q, 7), "created_at", store_col_text(q, 8));
	store_done(q);
	return o;
}

int wallets_transfer(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char from[ID_MAX], to[ID_MAX], cur[8], to_cur[8];
	const char *request_no, *to_ref, *note = NULL;
	int64_t amount;
	if (outgoing(c, req, from, cur, &amount, &request_no, e) || rec_get_str(req, "to", true, 0, &to_ref, e) ||
	    accounts_wallet_ref(c->st, to_ref, to, e) || rec_get_str(req, "note", false, WALLET_NOTE_MAX, &note, e))
		return BATCH_FAIL;
	if (note && utf8_has_control(note))
		return err_fail(e, ERR_FAIL, "bad_field", "note has a control character");
	if (strcmp(from, to) == 0)
		return err_fail(e, ERR_FAIL, "same_wallet",
		                "wallet %s cannot transfer to itself; name the wallet the money goes to", from);
	ledger_currency(c->st, ACCOUNT_WALLET, to, to_cur);
	if (strcmp(cur, to_cur) != 0)
		return err_fail(e, ERR_FAIL, "currency_mismatch",
		                "wallet %s holds %s and wallet %s holds %s: a transfer stays in one currency, with no "
		                "conversion",
		                from, cur, to, to_cur);
	int rc = confirm(c, from, e);
	if (rc != BATCH_OK)
		return rc;
	/* The ledger's line names the record (a replay keeps the first one's). */
	char id[ID_MAX];
	ids_new("wtr", id);
	struct transfer t = {.kind = "wallet_transfer", .amount = amount, .currency = cur, .ref = id};
	bufprintf(t.key, sizeof t.key, "wallet_transfer:%s:%s", from, request_no);
	ledger_account_id(ACCOUNT_WALLET, from, t.from);
	ledger_account_id(ACCOUNT_WALLET, to, t.to);
	int posted = ledger_post(c->st, &t, 1, LEDGER_REPLAYABLE, e);
	if (posted < 0)
		return BATCH_FAIL;
	if (posted == 0) {
		if (limit_take(c->st, from, "transfer", amount, cur, e))
			return BATCH_FAIL;
		store_write(
		    c->st, 1,
		    "INSERT INTO wallet_transfers(id, from_wallet, to_wallet, amount, currency, request_no, note,"
		    " transfer_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		    "tttittttt", id, from, to, amount, cur, request_no, note, t.id, t.created_at);
	}
	*out = transfer_json(c->st, t.id);
	if (!*out)
		return err_fail(e, ERR_FAIL, "not_found", "transfer %s has no wallet transfer record", t.id);
	return BATCH_OK;
}

/* ---- withdrawals ---- */

/* A withdrawal's record, by its id or (by_transfer) its ledger transfer's. */
static json_t *withdrawal_json(struct store *st, bool by_transfer, const char *value)
{
	/* Statements are kept by their text's address: both texts are static. */
#define WITHDRAWAL_SELECT                                                                                              \
	"SELECT w.id, w.wallet_id, w.card_id, w.amount, w.currency, w.request_no, w.state, w.transfer_id,"             \
	" w.created_at, w.payout_date, w.failed_at, w.reason, c.bin, c.last4, c.pan_length"                            \
	" FROM withdrawals w JOIN cards c ON c.id = w.card_id"
	struct store_stmt *q = store_query(
	    st, by_transfer ? WITHDRAWAL_SELECT " WHERE w.transfer_id = ?" : WITHDRAWAL_SELECT " WHERE w.id = ?", "t",
	    value);
	json_t *o = NULL;
	if (store_step(q) == STORE_ROW) {
		char masked[CARD_MASK_MAX];
		card_mask(store_col_text(q, 12), store_col_text(q, 13), (int)store_col_int(q, 14), masked);
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "type", "withdrawal", "id",
		              store_col_text(q, 0), "wallet", store_col_text(q, 1), "card", store_col_text(q, 2),
		              "card_masked", masked, "amount", (json_int_t)store_col_int(q, 3), "currency",
		              store_col_text(q, 4), "request_no", store_col_text(q, 5), "state", store_col_text(q, 6),
		              "transfer", store_col_text(q, 7), "created_at", store_col_text(q, 8));
		static const char *const later[] = {"payout_date", "failed_at", "reason"};
		for (int i = 0; i < 3; i++)
			if (!store_col_null(q, 9 + i))
				json_object_set_new(o, later[i], json_string(store_col_text(q, 9 + i)));
	}
	store_done(q);
	return o;
}

/* The card a withdrawal goes to: one of the wallet's, and a debit card. */
static int payout_card(struct store *st, json_t *req, const char *wallet, char card[ID_MAX], struct err *e)
{
	if (cards_funding(st, req, wallet, card, e))
		return ERR_FAIL;
	struct store_stmt *q = store_query(st, "SELECT funding, brand, last4 FROM cards WHERE id = ?", "t", card);
	store_step(q);
	int rc = 0;
	if (strcmp(store_col_text(q, 0), "debit") != 0)
		rc = err_fail(e, ERR_FAIL, "not_debit",
		              "card %s (%s ending %s) is a %s card: money is withdrawn only to a debit card; name one "
		              "with --card",
		              card, store_col_text(q, 1), store_col_text(q, 2), store_col_text(q, 0));
	store_done(q);
	return rc;
}

int wallets_withdraw(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char wallet[ID_MAX], cur[8], card[ID_MAX];
	const char *request_no;
	int64_t amount;
	if (outgoing(c, req, wallet, cur, &amount, &request_no, e) || payout_card(c->st, req, wallet, card, e))
		return BATCH_FAIL;
	int rc = confirm(c, wallet, e);
	if (rc != BATCH_OK)
		return rc;
	char id[ID_MAX];
	ids_new("wd", id);
	struct transfer t = {.kind = "withdrawal", .amount = amount, .currency = cur, .ref = id};
	bufprintf(t.key, sizeof t.key, "withdrawal:%s:%s", wallet, request_no);
	ledger_account_id(ACCOUNT_WALLET, wallet, t.from);
	char owner[32];
	bufprintf(owner, sizeof owner, "withdrawals.%s", cur);
	ledger_account(c->st, ACCOUNT_CLEARING, owner, cur, t.to);
	int posted = ledger_post(c->st, &t, 1, LEDGER_REPLAYABLE, e);
	if (posted < 0)
		return BATCH_FAIL;
	if (posted == 0) {
		if (limit_take(c->st, wallet, "withdrawal", amount, cur, e))
			return BATCH_FAIL;
		store_write(c->st, 1,
		            "INSERT INTO withdrawals(id, wallet_id, card_id, amount, currency, request_no, state,"
		            " transfer_id, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
		            "tttitttt", id, wallet, card, amount, cur, request_no, t.id, t.created_at);
	}
	*out = withdrawal_json(c->st, true, t.id);
	if (!*out)
		return err_fail(e, ERR_FAIL, "not_found", "transfer %s has no withdrawal record", t.id);
	char had[ID_MAX];
	strlcopy(had, json_string_value(json_object_get(*out, "card")), sizeof had);
	if (strcmp(had, card) != 0) {
		json_decref(*out);
		*out = NULL;
		return err_fail(e, ERR_FAIL, "idempotency_conflict",
		                "request_no %s of wallet %s was a withdrawal to card %s, not %s; use a new request_no",
		                request_no, wallet, had, card);
	}
	return BATCH_OK;
}

/* ---- payouts ---- */

void wallets_payout_requests(struct store *st, const struct settle_run *run, json_t *requests)
{
	struct store_stmt *q = store_query(st,
	                                   "SELECT id FROM withdrawals WHERE state = 'pending' AND created_at < ?"
	                                   " UNION SELECT id FROM withdrawals WHERE payout_date = ? ORDER BY 1",
	                                   "tt", run->cutoff_t0, run->date);
	while (store_step(q) == STORE_ROW)
		json_array_append_new(requests, json_pack("{s:s}", "withdrawal", store_col_text(q, 0)));
}

/* The withdrawal a request names, its row's card, state and amount. */
struct withdrawal_row {
	char id[ID_MAX], wallet[ID_MAX], card[ID_MAX], currency[8], state[16], payout_date[16],
	    created_at[CLOCK_TEXT_MAX];
	int64_t amount;
};

static int load_withdrawal(struct store *st, json_t *req, struct withdrawal_row *w, struct err *e)
{
	const char *id;
	if (rec_get_str(req, "withdrawal", true, 0, &id, e))
		return ERR_FAIL;
		/* Locked where the engine can: a settler and a report of failure, or
		 * two settlers, take it in turn, each seeing the other's state. */
#define WITHDRAWAL_ROW                                                                                                 \
	"SELECT id, wallet_id, card_id, currency, state, COALESCE(payout_date, ''), created_at, amount"                \
	" FROM withdrawals WHERE id = ?"
	static const struct store_sql row = {WITHDRAWAL_ROW, WITHDRAWAL_ROW " FOR UPDATE"};
	struct store_stmt *q = store_query_sql(st, &row, "t", id);
	bool found = store_step(q) == STORE_ROW;
	if (found) {
		strlcopy(w->id, store_col_text(q, 0), sizeof w->id);
		strlcopy(w->wallet, store_col_text(q, 1), sizeof w->wallet);
		strlcopy(w->card, store_col_text(q, 2), sizeof w->card);
		strlcopy(w->currency, store_col_text(q, 3), sizeof w->currency);
		strlcopy(w->state, store_col_text(q, 4), sizeof w->state);
		strlcopy(w->payout_date, store_col_text(q, 5), sizeof w->payout_date);
		strlcopy(w->created_at, store_col_text(q, 6), sizeof w->created_at);
		w->amount = store_col_int(q, 7);
	}
	store_done(q);
	if (!found)
		return err_fail(e, ERR_FAIL, "not_found", "no withdrawal '%.60s' (a withdrawal's id is wd_...)", id);
	return 0;
}

int wallets_pay_out(struct wpay_ctx *c, const struct settle_run *run, json_t *req, json_t **out, struct err *e)
{
	struct withdrawal_row w;
	if (load_withdrawal(c->st, req, &w, e))
		return BATCH_FAIL;
	if (strcmp(w.state, "pending") == 0 && strcmp(w.created_at, run->cutoff_t0) < 0) {
		struct transfer t = {
		    .kind = "withdrawal_payout", .amount = w.amount, .currency = w.currency, .ref = w.id};
		bufprintf(t.key, sizeof t.key, "withdrawal_payout:%s", w.id);
		char owner[32];
		bufprintf(owner, sizeof owner, "withdrawals.%s", w.currency);
		ledger_account_id(ACCOUNT_CLEARING, owner, t.from);
		ledger_account_id(ACCOUNT_CARD, w.card, t.to);
		if (ledger_post(c->st, &t, 1, LEDGER_FIRST, e) < 0)
			return BATCH_FAIL;
		/* Another settler that took it first leaves no row here: its
		 * transfer's key stops this one before it. */
		store_write(c->st, 1,
		            "UPDATE withdrawals SET state = 'sent', payout_date = ? WHERE id = ? AND state = 'pending'",
		            "tt", run->date, w.id);
	} else if (strcmp(w.payout_date, run->date) != 0) {
		*out = NULL; /* another date's: nothing to answer */
		return BATCH_OK;
	}
	*out = withdrawal_json(c->st, false, w.id);
	return BATCH_OK;
}

int wallets_payout_failed(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	struct withdrawal_row w;
	const char *reason = NULL;
	if (load_withdrawal(c->st, req, &w, e) || rec_get_str(req, "reason", false, 200, &reason, e))
		return BATCH_FAIL;
	if (reason && utf8_has_control(reason))
		return err_fail(e, ERR_FAIL, "bad_field", "reason has a control character");
	if (strcmp(w.state, "pending") == 0)
		return err_fail(
		    e, ERR_FAIL, "not_sent",
		    "withdrawal %s is in no payout file yet (wpay settle sends it with the first date whose "
		    "cut-off is after %s), so no bank can have failed it",
		    w.id, w.created_at);
	if (strcmp(w.state, "sent") == 0) {
		struct transfer t = {
		    .kind = "withdrawal_returned", .amount = w.amount, .currency = w.currency, .ref = w.id};
		bufprintf(t.key, sizeof t.key, "withdrawal_returned:%s", w.id);
		ledger_account_id(ACCOUNT_CARD, w.card, t.from);
		ledger_account_id(ACCOUNT_WALLET, w.wallet, t.to);
		if (ledger_post(c->st, &t, 1, LEDGER_FIRST, e) < 0)
			return BATCH_FAIL;
		char now[CLOCK_TEXT_MAX];
		now_text(now);
		store_write(c->st, 1,
		            "UPDATE withdrawals SET state = 'failed', failed_at = ?, reason = ? WHERE id = ? AND state "
		            "= 'sent'",
		            "ttt", now, reason ? reason : "payout failed", w.id);
	}
	*out = withdrawal_json(c->st, false, w.id);
	return BATCH_OK;
}
