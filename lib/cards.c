/* cards: see cards.h. */
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "batch.h"
#include "card.h"
#include "cards.h"
#include "clock.h"
#include "crypto.h"
#include "ledger.h"

#include "util.h"

json_t *cards_json(struct store *st, const char *id)
{
	struct store_stmt *q =
	    store_query(st,
	                "SELECT c.id, c.wallet_id, c.bin, c.last4, c.pan_length, c.brand, c.funding, c.bank,"
	                " c.country, c.created_at, c.removed_at, w.default_card = c.id"
	                " FROM cards c JOIN wallets w ON w.id = c.wallet_id WHERE c.id = ?",
	                "t", id);
	json_t *o = NULL;
	if (store_step(q) == STORE_ROW) {
		char masked[CARD_MASK_MAX];
		card_mask(store_col_text(q, 2), store_col_text(q, 3), (int)store_col_int(q, 4), masked);
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:b, s:s, s:s, s:s?}", "type",
		              "card", "id", store_col_text(q, 0), "wallet", store_col_text(q, 1), "masked", masked,
		              "bin", store_col_text(q, 2), "last4", store_col_text(q, 3), "brand", store_col_text(q, 5),
		              "funding", store_col_text(q, 6), "issuer", store_col_text(q, 7), "country",
		              store_col_text(q, 8), "default", (int)store_col_int(q, 11), "status",
		              store_col_null(q, 10) ? "active" : "removed", "created_at", store_col_text(q, 9),
		              "removed_at", store_col_text(q, 10));
	}
	store_done(q);
	return o;
}

json_t *cards_of_wallet(struct store *st, const char *wallet, bool active_only)
{
	struct store_stmt *q =
	    active_only ? store_query(st, "SELECT id FROM cards WHERE wallet_id = ? AND removed_at IS NULL ORDER BY id",
	                              "t", wallet)
	                : store_query(st, "SELECT id FROM cards WHERE wallet_id = ? ORDER BY id", "t", wallet);
	return accounts_records_of(st, q, cards_json);
}

/* An active card of this wallet: the one named in req "card", else the default. */
int cards_funding(struct store *st, json_t *req, const char *wallet, char card[ID_MAX], struct err *e)
{
	const char *named = NULL;
	if (rec_get_str(req, "card", false, 0, &named, e))
		return ERR_FAIL;
	struct store_stmt *q =
	    named ? store_query(st, "SELECT id FROM cards WHERE id = ? AND wallet_id = ? AND removed_at IS NULL", "tt",
	                        named, wallet)
	          : store_query(st, "SELECT default_card FROM wallets WHERE id = ? AND default_card IS NOT NULL", "t",
	                        wallet);
	bool found = store_step(q) == STORE_ROW;
	if (found)
		strlcopy(card, store_col_text(q, 0), ID_MAX);
	store_done(q);
	if (found)
		return 0;
	if (named)
		return err_fail(e, ERR_FAIL, "not_found", "card %.60s is not an active card of wallet %s", named,
		                wallet);
	return err_fail(e, ERR_FAIL, "no_card", "wallet %s has no default card; bind one with 'wpay bind card add'",
	                wallet);
}

static int get_card(struct store *st, json_t *req, char id[ID_MAX], struct err *e)
{
	const char *ref;
	if (rec_get_str(req, "card", true, 0, &ref, e))
		return ERR_FAIL;
	struct store_stmt *q = store_query(st, "SELECT id FROM cards WHERE id = ?", "t", ref);
	bool found = store_step(q) == STORE_ROW;
	if (found)
		strlcopy(id, store_col_text(q, 0), ID_MAX);
	store_done(q);
	if (found)
		return 0;
	/* Digits where a card id belongs may be a card number: never echoed. */
	if (!ids_is(ref, "card"))
		return err_fail(e, ERR_FAIL, "not_found", "no card of that id: a card is named by its id (card_...)");
	return err_fail(e, ERR_FAIL, "not_found", "no card '%.60s'", ref);
}

int cards_add(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char wallet[ID_MAX], pan[PAN_MAX + 1], fp[CARD_FINGERPRINT_MAX], id[ID_MAX], cur[8], now[CLOCK_TEXT_MAX],
	    acct[ACCOUNT_ID_MAX];
	const char *typed;
	struct card_info info;
	if (accounts_get_wallet(c->st, req, wallet, e) || rec_get_str(req, "pan", true, 64, &typed, e))
		return BATCH_FAIL;
	const char *why = card_check(typed, pan, &info);
	/* The number is not needed past this point: wipe it where it was read. */
	crypto_wipe((char *)typed, strlen(typed));
	if (why) {
		crypto_wipe(pan, sizeof pan);
		return err_fail(e, ERR_FAIL, "bad_card", "%s", why);
	}
	card_fingerprint(c->card_key, pan, fp);
	crypto_wipe(pan, sizeof pan);

	struct store_stmt *q =
	    store_query(c->st, "SELECT id, wallet_id FROM cards WHERE fingerprint = ? AND removed_at IS NULL", "t", fp);
	int rc = 0;
	if (store_step(q) == STORE_ROW) {
		strlcopy(id, store_col_text(q, 0), sizeof id);
		if (strcmp(store_col_text(q, 1), wallet) != 0)
			rc = err_fail(e, ERR_FAIL, "card_bound",
			              "this card (%s) is already bound to another wallet; remove it there first", id);
		else
			rc = 1; /* bound here already: the same answer again */
	}
	store_done(q);
	if (rc < 0)
		return BATCH_FAIL;
	if (rc == 0) {
		ids_new("card", id);
		clock_format(clock_now_ms(), now);
		store_exec(c->st,
		           "INSERT INTO cards(id, wallet_id, fingerprint, bin, last4, pan_length, brand, funding, bank,"
		           " country, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		           "tttttitttt"
		           "t",
		           id, wallet, fp, info.bin, info.last4, (int64_t)info.length, info.brand, info.funding,
		           info.issuer, info.country, now);
		store_exec(c->st, "UPDATE wallets SET default_card = ? WHERE id = ? AND default_card IS NULL", "tt", id,
		           wallet);
		ledger_account(c->st, ACCOUNT_CARD, id, ledger_currency(c->st, ACCOUNT_WALLET, wallet, cur), acct);
	}
	*out = cards_json(c->st, id);
	return BATCH_OK;
}

int cards_remove(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char id[ID_MAX], now[CLOCK_TEXT_MAX];
	if (get_card(c->st, req, id, e))
		return BATCH_FAIL;
	clock_format(clock_now_ms(), now);
	store_exec(c->st, "UPDATE cards SET removed_at = ? WHERE id = ? AND removed_at IS NULL", "tt", now, id);
	/* The newest remaining card becomes the default, if this one was. */
	store_exec(c->st,
	           "UPDATE wallets SET default_card = (SELECT id FROM cards WHERE wallet_id = wallets.id"
	           " AND removed_at IS NULL ORDER BY id DESC LIMIT 1) WHERE default_card = ?",
	           "t", id);
	*out = cards_json(c->st, id);
	return BATCH_OK;
}

int cards_default(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char id[ID_MAX];
	if (get_card(c->st, req, id, e))
		return BATCH_FAIL;
	store_exec(c->st,
	           "UPDATE wallets SET default_card = ?1 WHERE id = (SELECT wallet_id FROM cards WHERE id = ?1"
	           " AND removed_at IS NULL)",
	           "t", id);
	if (store_changes(c->st) == 0)
		return err_fail(e, ERR_FAIL, "card_removed", "card %s was removed; bind it again to use it", id);
	*out = cards_json(c->st, id);
	return BATCH_OK;
}

int cards_show(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char id[ID_MAX];
	if (get_card(c->st, req, id, e))
		return BATCH_FAIL;
	*out = cards_json(c->st, id);
	return BATCH_OK;
}

int cards_list(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char wallet[ID_MAX];
	if (json_object_get(req, "wallet")) {
		if (accounts_get_wallet(c->st, req, wallet, e))
			return BATCH_FAIL;
		*out = cards_of_wallet(c->st, wallet, false);
	} else {
		*out =
		    accounts_records_of(c->st, store_query(c->st, "SELECT id FROM cards ORDER BY id", ""), cards_json);
	}
	return BATCH_OK;
}
