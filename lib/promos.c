/* promos: see promos.h. */
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "clock.h"
#include "ledger.h"
#include "merchants.h"
#include "money.h"
#include "period.h"
#include "promos.h"
#include "utf8.h"

#include "util.h"

#define PROMO_COLS                                                                                                     \
	"SELECT id, sponsor, issuer, bin_prefix, card_type, merchant_id, discount_ppm, off, min_amount, per_user,"     \
	" budget, spent, uses, currency, starts_at, ends_at, created_at, removed_at FROM promos"

static json_t *row_json(struct store_stmt *q)
{
	char merchant[MERCHANT_REF_MAX], acct[ACCOUNT_ID_MAX], from[CLOCK_TEXT_MAX], until[CLOCK_TEXT_MAX];
	int64_t now = clock_now_ms(), starts = store_col_int(q, 14), ends = store_col_int(q, 15);
	clock_format(starts, from);
	clock_format(ends, until);
	ledger_account_id(ACCOUNT_SPONSOR, store_col_text(q, 1), acct);
	bool removed = !store_col_null(q, 17);
	bool spent_all = !store_col_null(q, 10) && store_col_int(q, 11) >= store_col_int(q, 10);
	const char *status = removed        ? "removed"
	                     : now < starts ? "scheduled"
	                     : now >= ends  ? "ended"
	                     : spent_all    ? "exhausted"
	                                    : "active";
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:s, s:s*, s:s*, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s?}", "type",
	              "promo", "id", store_col_text(q, 0), "sponsor", store_col_text(q, 1), "sponsor_account", acct,
	              "issuer", store_col_text(q, 2), "bin", store_col_text(q, 3), "card_type", store_col_text(q, 4),
	              "merchant", store_col_null(q, 5) ? "all" : ids_merchant(store_col_text(q, 5), merchant), "min",
	              (json_int_t)store_col_int(q, 8), "spent", (json_int_t)store_col_int(q, 11), "uses",
	              (json_int_t)store_col_int(q, 12), "currency", store_col_text(q, 13), "from", from, "until", until,
	              "created_at", store_col_text(q, 16), "removed_at", store_col_text(q, 17));
	if (!store_col_null(q, 6)) {
		char rate[32];
		merchants_format_fee_rate(store_col_int(q, 6), rate); /* the same percent form */
		json_object_set_new(o, "discount", json_string(rate));
	} else {
		json_object_set_new(o, "off", json_integer(store_col_int(q, 7)));
	}
	if (!store_col_null(q, 9))
		json_object_set_new(o, "per_user", json_integer(store_col_int(q, 9)));
	if (!store_col_null(q, 10))
		json_object_set_new(o, "budget", json_integer(store_col_int(q, 10)));
	json_object_set_new(o, "status", json_string(status));
	return o;
}

static json_t *promo_json(struct store *st, const char *id)
{
	struct store_stmt *q = store_query(st, PROMO_COLS " WHERE id = ?", "t", id);
	json_t *o = store_step(q) == STORE_ROW ? row_json(q) : NULL;
	store_done(q);
	return o;
}

/* An amount in the promotion's currency: decimal text ("5.00", as typed
 * on the command line) or an integer of minor units. */
static int amount_field(json_t *req, const char *key, const struct currency *cur, bool *has, int64_t *out,
                        struct err *e)
{
	json_t *v = json_object_get(req, key);
	*has = v && !json_is_null(v);
	if (!*has)
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		if (*out < 0 || *out > MONEY_MAX)
			return err_fail(e, ERR_FAIL, "bad_amount", "%s %lld is not 0 to %lld minor units", key,
			                (long long)*out, (long long)MONEY_MAX);
		return 0;
	}
	if (!json_is_string(v))
		return err_fail(e, ERR_FAIL, "bad_amount", "%s must be an amount such as \"5.00\", not a %s", key,
		                rec_type_name(v));
	const char *why = money_parse(json_string_value(v), cur, false, out);
	if (why)
		return err_fail(e, ERR_FAIL, "bad_amount", "%s '%.40s': %s", key, json_string_value(v), why);
	return 0;
}

/* A count given as an integer or as digits (the command line's text). */
static int count_field(json_t *req, const char *key, bool *has, int64_t *out, struct err *e)
{
	json_t *v = json_object_get(req, key);
	*has = v && !json_is_null(v);
	if (!*has)
		return 0;
	const char *s = json_string_value(v);
	if (json_is_integer(v))
		*out = json_integer_value(v);
	else if (!s || !*s || strlen(s) > 9 || strspn(s, "0123456789") != strlen(s))
		return err_fail(e, ERR_FAIL, "bad_field", "%s must be a whole number from 1 to 999999999", key);
	else
		*out = strtoll(s, NULL, 10);
	if (*out < 1 || *out > 999999999)
		return err_fail(e, ERR_FAIL, "bad_field", "%s must be a whole number from 1 to 999999999", key);
	return 0;
}

/* --from and --until: RFC 3339 times, or dates in the ledger's zone (the
 * start of --from's day, the end of --until's). */
static int time_field(struct store *st, json_t *req, const char *key, bool upper, int64_t *ms, struct err *e)
{
	const char *text;
	if (rec_get_str(req, key, true, 64, &text, e))
		return ERR_FAIL;
	char tz[PERIOD_TZ_MAX];
	int cutoff;
	struct period p;
	struct err ignored;
	if (period_ledger_zone(st, tz, &cutoff, e))
		return ERR_FAIL;
	if (period_parse(upper ? NULL : text, upper ? text : NULL, &p, &ignored) ||
	    !clock_parse(upper ? p.until : p.since, ms))
		return err_fail(e, ERR_FAIL, "bad_date",
		                "%s '%.40s' is neither a date YYYY-MM-DD nor an RFC 3339 time such as "
		                "2026-11-20T08:00:00+08:00",
		                key, text);
	return 0;
}

int promos_add(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	const char *id, *sponsor, *issuer = NULL, *bin = NULL, *type, *mref = NULL, *rate = NULL, *code = NULL;
	bool all = false;
	if (rec_get_str(req, "id", true, 0, &id, e) || rec_get_str(req, "sponsor", true, 0, &sponsor, e) ||
	    rec_get_str(req, "issuer", false, 0, &issuer, e) || rec_get_str(req, "bin", false, 0, &bin, e) ||
	    rec_get_str(req, "card_type", true, 0, &type, e) || rec_get_str(req, "merchant", false, 0, &mref, e) ||
	    rec_get_str(req, "discount", false, 0, &rate, e) || rec_get_str(req, "currency", false, 0, &code, e))
		return BATCH_FAIL;
	if (json_object_get(req, "all") && rec_get_bool(req, "all", false, &all, e))
		return BATCH_FAIL;
	if (!rec_valid_key(id, PROMO_ID_MAX))
		return err_fail(e, ERR_FAIL, "bad_field", "promo id '%.70s' must be 1 to %d letters, digits or '_'", id,
		                PROMO_ID_MAX);
	batch_identify("promo", id);
	if (!rec_valid_name(sponsor, PROMO_SPONSOR_MAX, "_-"))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "sponsor '%.40s' must be 1 to %d letters, digits, '_' or '-' (a bank's short name)",
		                sponsor, PROMO_SPONSOR_MAX);
	if (!issuer == !bin)
		return err_fail(
		    e, ERR_FAIL, "bad_field",
		    "give exactly one of issuer (the card's bank, as 'wpay bind card show' names it) or bin");
	if (issuer && (!*issuer || utf8_count(issuer) > PROMO_ISSUER_MAX || utf8_has_control(issuer)))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "issuer must be 1 to %d characters without control characters", PROMO_ISSUER_MAX);
	/* A bound card keeps six digits of its number: a longer prefix could
	 * never match one. */
	if (bin && (!*bin || strlen(bin) > 6 || strspn(bin, "0123456789") != strlen(bin)))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "bin '%.20s' must be 1 to 6 digits, the start of card numbers", bin);
	if (strcmp(type, "credit") && strcmp(type, "debit"))
		return err_fail(e, ERR_FAIL, "bad_field", "card_type must be 'credit' or 'debit', not '%.20s'", type);
	if (!mref == !all)
		return err_fail(e, ERR_FAIL, "bad_field", "give exactly one of merchant or all");
	struct merchant m;
	if (mref && merchants_load(c->st, mref, &m, e))
		return BATCH_FAIL;
	if (!code)
		code = mref ? m.currency : "CNY";
	const struct currency *cur = currency_find(code);
	if (!cur || code[0] < 'A')
		return err_fail(e, ERR_FAIL, "bad_currency",
		                "unknown currency '%.8s'; use an ISO 4217 code such as CNY", code);
	if (mref && strcmp(cur->alpha, m.currency) != 0)
		return err_fail(e, ERR_FAIL, "currency_mismatch", "merchant %s is paid in %s, not %s", m.id, m.currency,
		                cur->alpha);
	int64_t ppm = 0, off = 0, min = 0, per_user = 0, budget = 0, from, until;
	bool has_off, has_min, has_per_user, has_budget;
	if (amount_field(req, "off", cur, &has_off, &off, e) || amount_field(req, "min", cur, &has_min, &min, e) ||
	    amount_field(req, "budget", cur, &has_budget, &budget, e) ||
	    count_field(req, "per_user", &has_per_user, &per_user, e))
		return BATCH_FAIL;
	if (!rate == !has_off)
		return err_fail(e, ERR_FAIL, "bad_field", "give exactly one of discount (such as 10%%) or off (5.00)");
	if (rate) {
		size_t n = strlen(rate);
		char num[32];
		const char *why =
		    n < 2 || rate[n - 1] != '%' || n > sizeof num ? "a discount is a percentage such as 10%" : NULL;
		if (!why) {
			memcpy(num, rate, n - 1);
			num[n - 1] = '\0';
			/* Percent with 4 decimals is parts per million. */
			why = decimal_parse(num, 4, 999999, &ppm);
			if (why && strcmp(why, "amount is too large") == 0)
				why = "a discount is less than 100%";
			else if (!why && ppm == 0)
				why = "a discount of 0% is no discount";
		}
		if (why)
			return err_fail(e, ERR_FAIL, "bad_field", "discount '%.20s': %s", rate, why);
	}
	if (has_off && off == 0)
		return err_fail(e, ERR_FAIL, "bad_amount", "off must be at least one minor unit");
	if (has_budget && budget == 0)
		return err_fail(e, ERR_FAIL, "bad_amount", "budget must be at least one minor unit");
	if (time_field(c->st, req, "from", false, &from, e) || time_field(c->st, req, "until", true, &until, e))
		return BATCH_FAIL;
	if (until <= from)
		return err_fail(e, ERR_FAIL, "bad_period", "until is not after from: the promotion would never run");

	/* The sponsor's account holds one currency: a promotion in another
	 * would fail every matching payment with currency_mismatch. */
	char held[8];
	if (*ledger_currency(c->st, ACCOUNT_SPONSOR, sponsor, held) && strcmp(held, cur->alpha) != 0)
		return err_fail(e, ERR_FAIL, "currency_mismatch",
		                "sponsor %s's account holds %s, not %s: give a promotion in %s another sponsor name",
		                sponsor, held, cur->alpha, cur->alpha);
	char now[CLOCK_TEXT_MAX], acct[ACCOUNT_ID_MAX];
	clock_format(clock_now_ms(), now);
	const char *mno = mref ? m.no : NULL;
	char ppm_s[24] = "", off_s[24] = "", per_s[24] = "", budget_s[24] = "";
	bufprintf(ppm_s, sizeof ppm_s, "%lld", (long long)ppm);
	bufprintf(off_s, sizeof off_s, "%lld", (long long)off);
	bufprintf(per_s, sizeof per_s, "%lld", (long long)per_user);
	bufprintf(budget_s, sizeof budget_s, "%lld", (long long)budget);
	const char *p_ppm = rate ? ppm_s : NULL, *p_off = has_off ? off_s : NULL, *p_per = has_per_user ? per_s : NULL,
	           *p_budget = has_budget ? budget_s : NULL;
	store_exec(c->st,
	           "INSERT INTO promos(id, sponsor, issuer, bin_prefix, card_type, merchant_id, discount_ppm, off,"
	           " min_amount, per_user, budget, currency, starts_at, ends_at, created_at, updated_at)"
	           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
	           "ttttttnninntiitt", id, sponsor, issuer, bin, type, mno, p_ppm, p_off, min, p_per, p_budget,
	           cur->alpha, from, until, now, now);
	if (store_changes(c->st) == 0) {
		/* Added before: the same terms answer the record, other terms are refused. */
		struct store_stmt *q = store_query(
		    c->st,
		    "SELECT 1 FROM promos WHERE id = ? AND sponsor = ? AND issuer IS NOT DISTINCT FROM ?"
		    " AND bin_prefix IS NOT DISTINCT FROM ? AND card_type = ? AND merchant_id IS NOT DISTINCT FROM ?"
		    " AND discount_ppm IS NOT DISTINCT FROM ? AND off IS NOT DISTINCT FROM ? AND min_amount = ?"
		    " AND per_user IS NOT DISTINCT FROM ? AND budget IS NOT DISTINCT FROM ? AND currency = ?"
		    " AND starts_at = ? AND ends_at = ?",
		    "ttttttnninntii", id, sponsor, issuer, bin, type, mno, p_ppm, p_off, min, p_per, p_budget,
		    cur->alpha, from, until);
		bool same = store_step(q) == STORE_ROW;
		store_done(q);
		if (!same)
			return err_fail(e, ERR_FAIL, "conflict",
			                "promo %s exists with other terms; remove it and add one under a new id", id);
	}
	ledger_account(c->st, ACCOUNT_SPONSOR, sponsor, cur->alpha, acct);
	*out = promo_json(c->st, id);
	return BATCH_OK;
}

static int get_promo(struct store *st, json_t *req, char id[PROMO_ID_MAX + 1], struct err *e)
{
	const char *ref;
	if (rec_get_str(req, "id", true, 0, &ref, e))
		return ERR_FAIL;
	if (!rec_valid_key(ref, PROMO_ID_MAX))
		return err_fail(e, ERR_FAIL, "not_found", "no promo '%.70s'", ref);
	struct store_stmt *q = store_query(st, "SELECT id FROM promos WHERE id = ?", "t", ref);
	bool found = store_step(q) == STORE_ROW;
	store_done(q);
	if (!found)
		return err_fail(e, ERR_FAIL, "not_found", "no promo '%s'", ref);
	strlcopy(id, ref, PROMO_ID_MAX + 1);
	batch_identify("promo", id);
	return 0;
}

int promos_show(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char id[PROMO_ID_MAX + 1];
	if (get_promo(c->st, req, id, e))
		return BATCH_FAIL;
	*out = promo_json(c->st, id);
	return BATCH_OK;
}

int promos_list(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	(void)req;
	(void)e;
	*out = json_array();
	struct store_stmt *q = store_query(c->st, PROMO_COLS " ORDER BY id", "");
	while (store_step(q) == STORE_ROW)
		json_array_append_new(*out, row_json(q));
	return BATCH_OK;
}

int promos_remove(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char id[PROMO_ID_MAX + 1], now[CLOCK_TEXT_MAX];
	if (get_promo(c->st, req, id, e))
		return BATCH_FAIL;
	clock_format(clock_now_ms(), now);
	/* Removing twice answers the first removal. */
	store_exec(c->st, "UPDATE promos SET removed_at = ?1, updated_at = ?1 WHERE id = ?2 AND removed_at IS NULL",
	           "tt", now, id);
	*out = promo_json(c->st, id);
	return BATCH_OK;
}

/* The promotions a payment could get, best first is decided in C. */
static const char find_sql[] =
    "SELECT p.id, p.sponsor, p.discount_ppm, p.off, p.budget, p.spent, p.per_user FROM promos p"
    " LEFT JOIN promo_uses u ON u.promo_id = p.id AND u.uid = ?1"
    " WHERE p.removed_at IS NULL AND p.currency = ?2 AND p.starts_at <= ?3 AND p.ends_at > ?3"
    " AND p.card_type = ?4 AND (p.merchant_id IS NULL OR p.merchant_id = ?5) AND p.min_amount <= ?6"
    " AND (p.issuer = ?7 OR substr(?8, 1, length(p.bin_prefix)) = p.bin_prefix)"
    " AND (p.budget IS NULL OR p.spent < p.budget) AND (p.per_user IS NULL OR COALESCE(u.uses, 0) < p.per_user)"
    " ORDER BY p.id";

/* The best promotion as the ledger stands; hit->discount 0 if none. */
static void find(struct store *st, const struct promo_card *card, const char *merchant, const char *currency,
                 const char *uid, int64_t amount, struct promo_hit *hit, int64_t *per_user)
{
	hit->discount = 0;
	struct store_stmt *q = store_query(st, find_sql, "ttittitt", uid, currency, clock_now_ms(), card->type,
	                                   merchant, amount, card->has_issuer ? card->issuer : NULL, card->bin);
	while (store_step(q) == STORE_ROW) {
		int64_t d = store_col_null(q, 2) ? store_col_int(q, 3)
		                                 : (int64_t)((__int128)amount * store_col_int(q, 2) / 1000000);
		if (d > amount - 1)
			d = amount - 1; /* the buyer pays at least one minor unit */
		if (!store_col_null(q, 4) && d > store_col_int(q, 4) - store_col_int(q, 5))
			d = store_col_int(q, 4) - store_col_int(q, 5); /* the last of the budget */
		if (d > hit->discount) {
			hit->discount = d;
			strlcopy(hit->id, store_col_text(q, 0), sizeof hit->id);
			strlcopy(hit->sponsor, store_col_text(q, 1), sizeof hit->sponsor);
			*per_user = store_col_null(q, 6) ? 0 : store_col_int(q, 6);
		}
	}
}

void promos_take(struct store *st, const struct promo_card *card, const char *merchant, const char *currency,
                 const char *uid, int64_t amount, struct promo_hit *hit)
{
	/* Each lost race means another payer took a use or budget, so this
	 * ends: at the latest when nothing is left to take. */
	for (;;) {
		int64_t per_user = 0;
		find(st, card, merchant, currency, uid, amount, hit, &per_user);
		if (hit->discount == 0)
			return;
		bool deferring = store_deferring(st);
		store_write(st, 1,
		            "UPDATE promos SET spent = spent + ?1, uses = uses + 1 WHERE id = ?2"
		            " AND (budget IS NULL OR spent + ?1 <= budget)",
		            "it", hit->discount, hit->id);
		if (!deferring && store_changes(st) != 1)
			continue;
		/* A buyer's uses are counted only for a per-user limit: a write
		 * less on every payment of an unlimited promotion. */
		if (per_user == 0)
			return;
		store_write(st, 1,
		            "INSERT INTO promo_uses(promo_id, uid, uses) VALUES (?1, ?2, 1) ON CONFLICT(promo_id, uid)"
		            " DO UPDATE SET uses = promo_uses.uses + 1 WHERE promo_uses.uses < ?3",
		            "tti", hit->id, uid, per_user);
		if (deferring || store_changes(st) == 1)
			return;
		/* The buyer's last use went to another of its payments: give the
		 * budget back and look again. */
		store_exec(st, "UPDATE promos SET spent = spent - ?1, uses = uses - 1 WHERE id = ?2", "it",
		           hit->discount, hit->id);
	}
}

json_t *promos_card_json(const char *brand, const char *type, const char *issuer)
{
	if (!brand)
		return NULL;
	return json_pack("{s:s, s:s, s:s?}", "brand", brand, "type", type ? type : "unknown", "issuer", issuer);
}

json_t *promos_promotion_json(const char *id, const char *sponsor, int64_t discount)
{
	if (!id || !sponsor)
		return NULL;
	char acct[ACCOUNT_ID_MAX];
	ledger_account_id(ACCOUNT_SPONSOR, sponsor, acct);
	return json_pack("{s:s, s:s, s:s, s:I}", "id", id, "sponsor", sponsor, "sponsor_account", acct, "discount",
	                 (json_int_t)discount);
}
