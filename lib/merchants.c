/* merchants: see merchants.h. */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "batch.h"
#include "clock.h"
#include "events.h"
#include "keys.h"
#include "ledger.h"
#include "merchants.h"
#include "money.h"
#include "netaddr.h"
#include "settle.h"
#include "utf8.h"

#include "util.h"

const char *merchants_parse_fee_rate(const char *text, int64_t *ppm)
{
	size_t n = strlen(text);
	if (n < 2 || text[n - 1] != '%')
		return "a fee rate is a percentage such as 0.6%";
	char num[32];
	if (n - 1 >= sizeof num)
		return "fee rate is too long";
	memcpy(num, text, n - 1);
	num[n - 1] = '\0';
	/* percent with 4 decimals == parts per million */
	const char *why = decimal_parse(num, 4, 100000, ppm);
	return why ? (strcmp(why, "amount is too large") == 0 ? "a fee rate is at most 10%" : why) : NULL;
}

void merchants_format_fee_rate(int64_t ppm, char buf[32])
{
	char num[MONEY_TEXT_MAX];
	decimal_format(ppm, 4, num);
	size_t n = strlen(num);
	while (n > 1 && num[n - 1] == '0')
		num[--n] = '\0';
	if (num[n - 1] == '.')
		num[--n] = '\0';
	bufprintf(buf, 32, "%s%%", num);
}

char *merchants_secret_name(const char *no)
{
	return xasprintf("webhook-%s.key", no);
}

json_t *merchants_networks(struct wpay_ctx *c, const char *stored)
{
	json_t *list = json_array();
	for (int i = 0; i < c->networks.count; i++) {
		const char *name = c->networks.n[i].name;
		if (!networks_accepts(stored, name))
			continue;
		json_array_append_new(list, json_string(name));
	}
	return list;
}

#define MERCHANT_SELECT                                                                                                \
	"SELECT id, kind, verified, name, city, mcc, country, currency, fee_ppm, settlement,"                          \
	" notify_url, bank_account, created_at, updated_at, networks, state,"                                          \
	" COALESCE(state_reason, ''), COALESCE(state_at, ''), COALESCE(settlement_reason, '')"                         \
	" FROM merchants WHERE "

static int load(struct store_stmt *q, const char *ref, struct merchant *m, struct err *e);

int merchants_load(struct store *st, const char *ref, struct merchant *m, struct err *e)
{
	return load(store_query(st, MERCHANT_SELECT "id = ?", "t", ids_merchant_no(ref)), ref, m, e);
}

/* SQLite has one writer at a time; PostgreSQL locks the row against
 * other lockers only: NO KEY, so that orders and payments that refer to
 * the merchant (their foreign keys take a key-share lock) go on. */
static const struct store_sql select_locked = {
    .sqlite = MERCHANT_SELECT "id = ?",
    .postgresql = MERCHANT_SELECT "id = ? FOR NO KEY UPDATE",
};
/* Many at once, in the order of their ids: two workers lock them in one
 * order, never in a cycle. */
static const struct store_sql select_many_locked = {
    .sqlite = MERCHANT_SELECT "id IN (SELECT value FROM json_each(?)) ORDER BY id",
    .postgresql = MERCHANT_SELECT "id = ANY(ARRAY(SELECT json_array_elements_text(?::json))) ORDER BY id"
                                  " FOR NO KEY UPDATE",
};

int merchants_load_locked(struct store *st, const char *ref, struct merchant *m, struct err *e)
{
	return load(store_query_sql(st, &select_locked, "t", ids_merchant_no(ref)), ref, m, e);
}

static bool from_row(struct store_stmt *q, struct merchant *m);

void merchants_load_many_locked(struct store *st, const char *nos, void (*each)(void *arg, const struct merchant *m),
                                void *arg)
{
	struct store_stmt *q = store_query_sql(st, &select_many_locked, "t", nos);
	struct merchant m;
	while (store_step(q) == STORE_ROW) {
		if (!from_row(q, &m))
			err_die(EX_DATAERR,
			        "merchant '%.64s' in the ledger has a field longer than wpay allows; check the ledger",
			        store_col_text(q, 0));
		each(arg, &m);
	}
}

static int load(struct store_stmt *q, const char *ref, struct merchant *m, struct err *e)
{
	bool found = store_step(q) == STORE_ROW;
	bool fits = found ? from_row(q, m) : true;
	store_done(q);
	/* Every field fits what wpay ever let in; one that does not was written
	 * by something else, and is not cut short into someone's payout. */
	if (!fits)
		err_die(EX_DATAERR,
		        "merchant '%.64s' in the ledger has a field longer than wpay allows; check the ledger", ref);
	return found ? 0
	             : err_fail(e, ERR_FAIL, "unknown_merchant",
	                        "no merchant '%.64s' in this ledger; 'wpay bind merchant list' shows them", ref);
}

/* m from q's row; false if a field does not fit. */
static bool from_row(struct store_stmt *q, struct merchant *m)
{
	bool fits = true;
	memset(m, 0, sizeof *m);
	fits &= strlcopy(m->no, store_col_text(q, 0), sizeof m->no);
	ids_merchant(m->no, m->id);
	fits &= strlcopy(m->kind, store_col_text(q, 1), sizeof m->kind);
	m->verified = store_col_int(q, 2) != 0;
	fits &= strlcopy(m->name, store_col_text(q, 3), sizeof m->name);
	fits &= strlcopy(m->city, store_col_text(q, 4), sizeof m->city);
	fits &= strlcopy(m->mcc, store_col_text(q, 5), sizeof m->mcc);
	fits &= strlcopy(m->country, store_col_text(q, 6), sizeof m->country);
	fits &= strlcopy(m->currency, store_col_text(q, 7), sizeof m->currency);
	m->fee_ppm = store_col_int(q, 8);
	fits &= strlcopy(m->settlement, store_col_text(q, 9), sizeof m->settlement);
	if ((m->has_notify_url = !store_col_null(q, 10)))
		fits &= strlcopy(m->notify_url, store_col_text(q, 10), sizeof m->notify_url);
	if ((m->has_bank_account = !store_col_null(q, 11)))
		fits &= strlcopy(m->bank_account, store_col_text(q, 11), sizeof m->bank_account);
	fits &= strlcopy(m->created_at, store_col_text(q, 12), sizeof m->created_at);
	fits &= strlcopy(m->updated_at, store_col_text(q, 13), sizeof m->updated_at);
	if (!(m->all_networks = store_col_null(q, 14)))
		fits &= strlcopy(m->networks, store_col_text(q, 14), sizeof m->networks);
	fits &= strlcopy(m->state, store_col_text(q, 15), sizeof m->state);
	fits &= strlcopy(m->state_reason, store_col_text(q, 16), sizeof m->state_reason);
	fits &= strlcopy(m->state_at, store_col_text(q, 17), sizeof m->state_at);
	fits &= strlcopy(m->settlement_reason, store_col_text(q, 18), sizeof m->settlement_reason);
	return fits;
}

static json_t *merchant_json(struct wpay_ctx *c, const struct merchant *m)
{
	char rate[32], masked[BANK_ACCOUNT_MAX + 8] = "";
	char *secret_name = merchants_secret_name(m->no);
	char *secret_path = xasprintf("%s/%s", c->keys_dir, secret_name);
	merchants_format_fee_rate(m->fee_ppm, rate);
	const char *bank = m->bank_account;
	if (m->has_bank_account) /* a payout account may be a card number: show the end only */
		bufprintf(masked, sizeof masked, "****%s", strlen(bank) > 4 ? bank + strlen(bank) - 4 : bank);
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:s, s:s, s:s}", "type",
	              "merchant", "id", m->id, "merchant_no", m->no, "kind", m->kind, "verified", (int)m->verified,
	              "name", m->name, "city", m->city, "mcc", m->mcc, "country", m->country, "currency", m->currency,
	              "fee_rate", rate, "settlement", m->settlement, "notify_url",
	              m->has_notify_url ? m->notify_url : NULL, "bank_account", m->has_bank_account ? masked : NULL,
	              "webhook_secret_file", secret_path, "created_at", m->created_at, "updated_at", m->updated_at);
	json_object_set_new(o, "networks", merchants_networks(c, m->all_networks ? NULL : m->networks));
	json_object_set_new(o, "state", json_string(m->state));
	json_object_set_new(o, "state_reason", *m->state_reason ? json_string(m->state_reason) : json_null());
	json_object_set_new(o, "state_at", *m->state_at ? json_string(m->state_at) : json_null());
	json_object_set_new(o, "settlement_reason",
	                    *m->settlement_reason ? json_string(m->settlement_reason) : json_null());
	free(secret_name);
	free(secret_path);
	return o;
}

/* The merchant a request names ("merchant": "m:<no>" or "<no>"). */
static int get_merchant(struct store *st, json_t *req, struct merchant *m, struct err *e)
{
	const char *ref;
	if (rec_get_str(req, "merchant", true, 0, &ref, e))
		return ERR_FAIL;
	return merchants_load(st, ref, m, e);
}

/* The merchant's details as given in a request; `adding` makes name and
 * city required and fills defaults. */
struct details {
	const char *kind, *name, *city, *mcc, *country, *currency, *notify_url, *bank_account, *settlement, *networks;
	bool verified, has_verified, has_networks;
	int64_t fee_ppm;
	bool has_fee;
};

/* A payout account: 6 to 34 digits (34: the longest IBAN), grouped by
 * single spaces or dashes, starting and ending with a digit. Nothing else
 * gets in: the account goes into payout files a person opens in a
 * spreadsheet, where "=cmd|..." would run. */
static bool valid_bank_account(const char *s)
{
	int digits = 0;
	for (const char *p = s; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if ((*p != ' ' && *p != '-') || p == s || !p[1] || p[1] == ' ' || p[1] == '-')
			return false;
	}
	return digits >= 6 && digits <= 34;
}

static int text_field(json_t *req, const char *key, bool required, size_t max, const char **out, struct err *e)
{
	if (rec_get_str(req, key, required, max, out, e))
		return ERR_FAIL;
	/* Shown to buyers (codes, product cards, messages): no bidi override
	 * may turn the text around. */
	if (*out && utf8_has_unsafe(*out))
		return err_fail(e, ERR_FAIL, "bad_field", "%s has a control character or a bidi override", key);
	return 0;
}

static int get_details(struct wpay_ctx *c, json_t *req, bool adding, struct details *d, struct err *e)
{
	memset(d, 0, sizeof *d);
	if (adding) {
		d->kind = "individual";
		d->mcc = "5999";
		d->country = "CN";
		d->currency = "CNY";
		d->fee_ppm = FEE_PPM_DEFAULT;
		d->has_fee = true;
	}
	const char *fee = NULL;
	if (text_field(req, "kind", false, 16, &d->kind, e) ||
	    text_field(req, "name", adding, MERCHANT_NAME_MAX, &d->name, e) ||
	    text_field(req, "city", adding, MERCHANT_CITY_MAX, &d->city, e) ||
	    text_field(req, "mcc", false, 4, &d->mcc, e) || text_field(req, "country", false, 2, &d->country, e) ||
	    text_field(req, "currency", false, 3, &d->currency, e) ||
	    text_field(req, "notify_url", false, MERCHANT_URL_MAX, &d->notify_url, e) ||
	    text_field(req, "bank_account", false, BANK_ACCOUNT_MAX, &d->bank_account, e) ||
	    text_field(req, "settlement", false, 3, &d->settlement, e) ||
	    text_field(req, "fee_rate", false, 16, &fee, e) ||
	    text_field(req, "networks", false, MERCHANT_NETWORKS_MAX, &d->networks, e))
		return ERR_FAIL;
	if (d->networks) {
		/* Every name must be configured; "all" (or "") means every one. */
		if (!*d->networks || strcmp(d->networks, "all") == 0)
			d->networks = "";
		for (const char *p = d->networks; *p;) {
			const char *comma = strchr(p, ',');
			char name[32];
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			bufprintf(name, sizeof name, "%.*s", (int)(len < 31 ? len : 31), p);
			if (!networks_by_name(&c->networks, name))
				return err_fail(e, ERR_FAIL, "bad_field",
				                "networks: '%s' is not a configured network (%s)", name,
				                c->networks.source);
			p = comma ? comma + 1 : "";
		}
		d->has_networks = true;
		if (!*d->networks)
			d->networks = NULL;
	}
	if (json_object_get(req, "verified")) {
		if (rec_get_bool(req, "verified", false, &d->verified, e))
			return ERR_FAIL;
		d->has_verified = true;
	}
	if (d->kind && strcmp(d->kind, "enterprise") && strcmp(d->kind, "individual"))
		return err_fail(e, ERR_FAIL, "bad_field", "kind must be 'enterprise' or 'individual', not '%s'",
		                d->kind);
	if (d->mcc && (strlen(d->mcc) != 4 || strspn(d->mcc, "0123456789") != 4))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "mcc must be a 4-digit merchant category code (ISO 18245), not '%s'", d->mcc);
	if (d->country && (strlen(d->country) != 2 || d->country[0] < 'A' || d->country[0] > 'Z' ||
	                   d->country[1] < 'A' || d->country[1] > 'Z'))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "country must be an ISO 3166 alpha-2 code such as CN, not '%s'", d->country);
	if (d->currency && (!currency_find(d->currency) || d->currency[0] < 'A'))
		return err_fail(e, ERR_FAIL, "bad_currency", "unknown currency '%s'; use an ISO 4217 code such as CNY",
		                d->currency);
	if (d->notify_url && *d->notify_url) {
		char *allow = store_setting(c->st, NETADDR_ALLOW_SETTING, "0");
		char why[sizeof e->msg];
		bool refused = netaddr_check_url(d->notify_url, strcmp(allow, "1") == 0, why, sizeof why) != NULL;
		free(allow);
		if (refused)
			return err_fail(e, ERR_FAIL, "bad_field", "%s", why);
	}
	if (d->bank_account && !valid_bank_account(d->bank_account))
		return err_fail(e, ERR_FAIL, "bad_field",
		                "bank_account '%.40s' is not an account number: give 6 to 34 digits, grouped by single "
		                "spaces or dashes if you like, such as 6222 0200 1234 5678",
		                d->bank_account);
	if (d->settlement && strcmp(d->settlement, "T0") && strcmp(d->settlement, "T15"))
		return err_fail(e, ERR_FAIL, "bad_field", "settlement must be T0 or T15, not '%s'", d->settlement);
	if (fee) {
		const char *why = merchants_parse_fee_rate(fee, &d->fee_ppm);
		if (why)
			return err_fail(e, ERR_FAIL, "bad_field", "fee_rate '%s': %s", fee, why);
		d->has_fee = true;
	}
	return 0;
}

/* T0 needs the deposit: 0 if it is held, else ERR_FAIL with e saying how much is missing. */
static int check_t0(struct store *st, const char *no, const char *currency, struct err *e)
{
	char id[MERCHANT_REF_MAX];
	ids_merchant(no, id);
	int64_t deposit = ledger_balance(st, ACCOUNT_DEPOSIT, id);
	if (deposit >= DEPOSIT_T0_MIN)
		return 0;
	const struct currency *cur = currency_find(currency);
	char have[MONEY_TEXT_MAX], need[MONEY_TEXT_MAX];
	money_format(deposit, cur, have);
	money_format(DEPOSIT_T0_MIN, cur, need);
	return err_fail(
	    e, ERR_FAIL, "deposit_required",
	    "merchant %s holds a deposit of %s %s; T0 settlement needs %s %s (post one with 'merchant deposit')", id,
	    have, currency, need, currency);
}

const char *merchants_t0_refusal(const struct merchant *m)
{
	if (strcmp(m->state, "approved") != 0)
		return "it is not approved";
	if (strcmp(m->kind, "enterprise") != 0)
		return "it is not an enterprise";
	if (!m->verified)
		return "it is not verified";
	return NULL;
}

static int t0_refused(const struct merchant *m, struct err *e)
{
	const char *why = merchants_t0_refusal(m);
	return why ? err_fail(e, ERR_FAIL, "t0_not_allowed",
	                      "merchant %s cannot settle T0: %s; T0 is for approved, verified enterprise merchants "
	                      "holding the deposit",
	                      m->id, why)
	           : 0;
}

int64_t merchants_deposit_shortfall(struct store *st, const char *id)
{
	int64_t deposit = ledger_balance(st, ACCOUNT_DEPOSIT, id);
	return deposit < DEPOSIT_T0_MIN ? DEPOSIT_T0_MIN - deposit : 0;
}

int merchants_check_approved(const struct merchant *m, const char *doing, struct err *e)
{
	if (strcmp(m->state, "approved") == 0)
		return 0;
	if (strcmp(m->state, "applied") == 0)
		return err_fail(e, ERR_FAIL, "merchant_not_approved",
		                "merchant %s has applied and is not approved yet, so it cannot %s; the platform "
		                "approves it with 'wpay bind merchant approve %s'",
		                m->id, doing, m->id);
	return err_fail(e, ERR_FAIL, "merchant_not_approved",
	                "merchant %s is %s (%.200s), so it cannot %s; refunds and settlement of what it was paid go "
	                "on, and 'wpay bind merchant approve %s' lets it trade again",
	                m->id, m->state, *m->state_reason ? m->state_reason : "no reason given", doing, m->id);
}

int merchants_check_approved_no(struct store *st, const char *no, const char *doing, struct err *e)
{
	struct merchant m = {0};
	struct store_stmt *q =
	    store_query(st, "SELECT state, COALESCE(state_reason, '') FROM merchants WHERE id = ?", "t", no);
	if (store_step(q) == STORE_ROW) {
		strlcopy(m.state, store_col_text(q, 0), sizeof m.state);
		strlcopy(m.state_reason, store_col_text(q, 1), sizeof m.state_reason);
	}
	store_done(q);
	ids_merchant(no, m.id);
	return merchants_check_approved(&m, doing, e);
}

/* The event of m's state as it is now, from state `previous` ("" on its application). */
static void state_event(struct store *st, const struct merchant *m, const char *previous)
{
	char subject[ID_MAX], kind[32];
	ids_new("mst", subject);
	bufprintf(kind, sizeof kind, "merchant.%s", m->state);
	json_t *body = json_pack("{s:s, s:s, s:s?, s:s?, s:s}", "merchant", m->id, "state", m->state, "previous_state",
	                         *previous ? previous : NULL, "reason", *m->state_reason ? m->state_reason : NULL,
	                         "state_at", m->state_at);
	events_queue(st, m->no, kind, subject, body);
	json_decref(body);
}

/* Move the merchant to state `to`; one already there answers as it is and queues nothing. */
static int set_state(struct wpay_ctx *c, json_t *req, const char *to, bool reason_required, json_t **out, struct err *e)
{
	struct merchant m;
	const char *reason = NULL;
	if (get_merchant(c->st, req, &m, e) ||
	    text_field(req, "reason", reason_required, MERCHANT_REASON_MAX, &reason, e))
		return ERR_FAIL;
	if (reason && !*reason)
		return err_fail(e, ERR_FAIL, "bad_field", "reason is empty; say why");
	char now[CLOCK_TEXT_MAX], previous[sizeof m.state], no[MERCHANT_NO_MAX + 1];
	clock_format(clock_now_ms(), now);
	strlcopy(previous, m.state, sizeof previous);
	strlcopy(no, m.no, sizeof no);
	store_exec(c->st,
	           "UPDATE merchants SET state = ?, state_reason = ?, state_at = ?, updated_at = ?"
	           " WHERE id = ? AND state <> ?",
	           "tttttt", to, reason, now, now, no, to);
	bool moved = store_changes(c->st) > 0;
	if (merchants_load(c->st, no, &m, e))
		return ERR_FAIL;
	if (moved)
		state_event(c->st, &m, previous);
	*out = merchant_json(c, &m);
	return BATCH_OK;
}

int merchants_approve(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	return set_state(c, req, "approved", false, out, e);
}

int merchants_suspend(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	return set_state(c, req, "suspended", true, out, e);
}

int merchants_add(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	const char *no;
	struct details d;
	if (rec_get_str(req, "merchant_no", true, 0, &no, e))
		return BATCH_FAIL;
	if (!rec_valid_key(no, MERCHANT_NO_MAX))
		return err_fail(e, ERR_FAIL, "bad_field", "merchant_no '%.64s' must be 1 to %d letters, digits or '_'",
		                no, MERCHANT_NO_MAX);
	if (get_details(c, req, true, &d, e))
		return BATCH_FAIL;
	if (d.verified && strcmp(d.kind, "enterprise") != 0)
		return err_fail(e, ERR_FAIL, "bad_field", "only an enterprise merchant can be verified");
	/* The application: a verified enterprise (the blue V) is approved at
	 * once, any other merchant waits for 'merchant approve'. */
	struct merchant applying = {.verified = d.verified};
	strlcopy(applying.kind, d.kind, sizeof applying.kind);
	strlcopy(applying.state, d.verified ? "approved" : "applied", sizeof applying.state);
	ids_merchant(no, applying.id);
	if (d.settlement && strcmp(d.settlement, "T0") == 0 &&
	    (t0_refused(&applying, e) || check_t0(c->st, no, d.currency, e)))
		return ERR_FAIL;

	char now[CLOCK_TEXT_MAX], acct[ACCOUNT_ID_MAX];
	clock_format(clock_now_ms(), now);
	store_exec(c->st,
	           "INSERT INTO merchants(id, kind, verified, name, city, mcc, country, currency, fee_ppm, notify_url,"
	           " bank_account, networks, settlement, created_at, updated_at, state, state_at)"
	           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, 'T15'), ?, ?, ?, ?)"
	           " ON CONFLICT(id) DO NOTHING",
	           "ttbtttttitttt"
	           "tttt",
	           no, d.kind, (int)d.verified, d.name, d.city, d.mcc, d.country, d.currency, d.fee_ppm, d.notify_url,
	           d.bank_account, d.networks, d.settlement, now, now, applying.state, now);
	bool added = store_changes(c->st) > 0;
	if (!added) {
		/* Added before: the same request again is fine, a different one is not. */
		struct store_stmt *q = store_query(
		    c->st,
		    "SELECT 1 FROM merchants WHERE id = ? AND kind = ? AND verified = ? AND name = ? AND city = ?"
		    " AND mcc = ? AND country = ? AND currency = ? AND fee_ppm = ? AND notify_url IS NOT DISTINCT FROM "
		    "?"
		    " AND bank_account IS NOT DISTINCT FROM ? AND networks IS NOT DISTINCT FROM ? AND settlement = "
		    "COALESCE(?, settlement)",
		    "ttbtttttitttt", no, d.kind, (int)d.verified, d.name, d.city, d.mcc, d.country, d.currency,
		    d.fee_ppm, d.notify_url, d.bank_account, d.networks, d.settlement);
		bool same = store_step(q) == STORE_ROW;
		store_done(q);
		char id[MERCHANT_REF_MAX];
		ids_merchant(no, id);
		if (!same)
			return err_fail(
			    e, ERR_FAIL, "conflict",
			    "merchant %s exists with other details; change them with 'wpay bind merchant update'", id);
	}
	char *name = merchants_secret_name(no);
	int rc = keys_ensure_secret(c->keys_dir, name, NULL, e);
	free(name);
	if (rc)
		return BATCH_FAIL;
	struct merchant m;
	if (merchants_load(c->st, no, &m, e))
		return ERR_FAIL;
	ledger_account(c->st, ACCOUNT_PENDING, m.id, m.currency, acct);
	ledger_account(c->st, ACCOUNT_DEPOSIT, m.id, m.currency, acct);
	ledger_account(c->st, ACCOUNT_PAYOUT, m.id, m.currency, acct);
	ledger_account(c->st, ACCOUNT_FEES, m.currency, m.currency, acct);
	/* An application is news to the merchant (merchant.applied); a blue V
	 * approved at once has its record as the answer, and no change to hear of. */
	if (added && strcmp(m.state, "applied") == 0)
		state_event(c->st, &m, "");
	*out = merchant_json(c, &m);
	return BATCH_OK;
}

int merchants_update(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	char now[CLOCK_TEXT_MAX];
	struct merchant m;
	struct details d;
	if (get_merchant(c->st, req, &m, e) || get_details(c, req, false, &d, e))
		return ERR_FAIL;
	if (d.currency && strcmp(d.currency, m.currency) != 0)
		return err_fail(e, ERR_FAIL, "bad_field", "a merchant's currency cannot change (%s settles in %s)",
		                m.id, m.currency);
	bool to_t0 = d.settlement && strcmp(d.settlement, "T0") == 0;
	if (to_t0) {
		/* Judged as the update leaves it: kind and verified may come with it. */
		struct merchant after = m;
		if (d.kind)
			strlcopy(after.kind, d.kind, sizeof after.kind);
		if (d.has_verified)
			after.verified = d.verified;
		if (t0_refused(&after, e) || check_t0(c->st, m.no, m.currency, e))
			return ERR_FAIL;
	}
	clock_format(clock_now_ms(), now);
	/* Each given field replaces the stored one; absent ones stay. */
	store_exec(c->st,
	           "UPDATE merchants SET kind = COALESCE(?, kind), name = COALESCE(?, name), city = COALESCE(?, city),"
	           " mcc = COALESCE(?, mcc), country = COALESCE(?, country), notify_url = COALESCE(?, notify_url),"
	           " bank_account = COALESCE(?, bank_account), settlement = COALESCE(?, settlement),"
	           " fee_ppm = CASE WHEN ? THEN ? ELSE fee_ppm END,"
	           " verified = CASE WHEN ? THEN ? ELSE verified END,"
	           " networks = CASE WHEN ? THEN ? ELSE networks END,"
	           " settlement_reason = CASE WHEN ? THEN NULL ELSE settlement_reason END, updated_at = ? WHERE id = ?",
	           "ttttttttbibbbtbtt", d.kind, d.name, d.city, d.mcc, d.country, d.notify_url, d.bank_account,
	           d.settlement, (int)d.has_fee, d.fee_ppm, (int)d.has_verified, (int)d.verified, (int)d.has_networks,
	           d.networks, (int)to_t0, now, m.no);
	char no[MERCHANT_NO_MAX + 1];
	strlcopy(no, m.no, sizeof no); /* bound as the key while m is loaded again */
	if (merchants_load(c->st, no, &m, e))
		return ERR_FAIL;
	if (m.verified && strcmp(m.kind, "enterprise") != 0)
		return err_fail(e, ERR_FAIL, "bad_field", "only an enterprise merchant can be verified");
	*out = merchant_json(c, &m);
	return BATCH_OK;
}

int merchants_show(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	struct merchant m;
	if (get_merchant(c->st, req, &m, e))
		return ERR_FAIL;
	*out = merchant_json(c, &m);
	return BATCH_OK;
}

int merchants_list(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	(void)req;
	json_t *nos = json_array();
	struct store_stmt *q = store_query(c->st, "SELECT id FROM merchants ORDER BY id", "");
	while (store_step(q) == STORE_ROW)
		json_array_append_new(nos, json_string(store_col_text(q, 0)));
	*out = json_array();
	size_t i;
	json_t *no;
	struct merchant m;
	json_array_foreach (nos, i, no)
		if (merchants_load(c->st, json_string_value(no), &m, e) == 0)
			json_array_append_new(*out, merchant_json(c, &m));
	json_decref(nos);
	return BATCH_OK;
}

int merchants_balance(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	struct merchant m;
	if (get_merchant(c->st, req, &m, e))
		return ERR_FAIL;
	*out = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s}", "type", "balance", "merchant", m.id, "pending",
	                 (json_int_t)ledger_balance(c->st, ACCOUNT_PENDING, m.id), "deposit",
	                 (json_int_t)ledger_balance(c->st, ACCOUNT_DEPOSIT, m.id), "payout",
	                 (json_int_t)ledger_balance(c->st, ACCOUNT_PAYOUT, m.id), "currency", m.currency);
	json_object_set_new(*out, "deposit_shortfall", json_integer(merchants_deposit_shortfall(c->st, m.id)));
	return BATCH_OK;
}

/* A T0 merchant's refunds of settled payments come out of its deposit
 * (payments_refund), and T0 paid those payments out the next day: while
 * any of them can still be refunded (its order is still 'paid'), the
 * deposit must keep DEPOSIT_T0_MIN, or those refunds fall to the platform.
 * Fills an example order into `order` when it holds. Newest settlements
 * first: their orders are the likeliest to be inside the refund window. */
static bool deposit_held(struct store *st, const char *no, char order[OUT_TRADE_NO_MAX + 1])
{
	struct store_stmt *q = store_query(st,
	                                   "SELECT o.out_trade_no FROM settlements s"
	                                   " JOIN payments p ON " SETTLED_PAYMENTS " JOIN orders o ON o.id = p.order_id"
	                                   " WHERE s.merchant_id = ? AND s.mode = 'T0' AND o.state = 'paid'"
	                                   " ORDER BY s.date DESC LIMIT 1",
	                                   "t", no);
	bool held = store_step(q) == STORE_ROW;
	if (held)
		strlcopy(order, store_col_text(q, 0), OUT_TRADE_NO_MAX + 1);
	store_done(q);
	return held;
}

/* Deposit in (payout -> deposit) or out (deposit -> payout). */
static int move_deposit(struct wpay_ctx *c, json_t *req, bool in, json_t **out, struct err *e)
{
	struct merchant m;
	const char *request_no, *given_cur = NULL;
	int64_t amount;
	if (get_merchant(c->st, req, &m, e) || rec_get_amount(req, &amount, e) ||
	    rec_get_request_no(req, &request_no, e) || rec_get_str(req, "currency", false, 3, &given_cur, e))
		return ERR_FAIL;
	const char *cur = m.currency, *id = m.id, *no = m.no;
	if (given_cur && strcmp(given_cur, cur) != 0)
		return err_fail(e, ERR_FAIL, "currency_mismatch",
		                "the amount is in %s but merchant %s holds its deposit in %s", given_cur, id, cur);
	struct transfer t = {
	    .kind = in ? "deposit" : "deposit_withdrawal", .amount = amount, .currency = cur, .ref = request_no};
	bufprintf(t.key, sizeof t.key, "%s:%s:%s", t.kind, id, request_no);
	ledger_account(c->st, in ? ACCOUNT_PAYOUT : ACCOUNT_DEPOSIT, id, cur, t.from);
	ledger_account(c->st, in ? ACCOUNT_DEPOSIT : ACCOUNT_PAYOUT, id, cur, t.to);
	int posted = ledger_post(c->st, &t, 1, LEDGER_REPLAYABLE, e);
	if (posted < 0)
		return BATCH_FAIL;
	int64_t deposit = ledger_balance(c->st, ACCOUNT_DEPOSIT, id);
	char order[OUT_TRADE_NO_MAX + 1];
	/* Checked on the balance the withdrawal leaves (a replay answers as before). */
	if (!in && posted == 0 && deposit < DEPOSIT_T0_MIN && deposit_held(c->st, no, order)) {
		const struct currency *in_cur = currency_find(cur);
		int64_t had = deposit + amount, free_now = had > DEPOSIT_T0_MIN ? had - DEPOSIT_T0_MIN : 0;
		char need[MONEY_TEXT_MAX], have[MONEY_TEXT_MAX], can[MONEY_TEXT_MAX];
		money_format(DEPOSIT_T0_MIN, in_cur, need);
		money_format(had, in_cur, have);
		money_format(free_now, in_cur, can);
		return err_fail(e, ERR_FAIL, "deposit_held",
		                "%s must keep %s %s of deposit while payments it was paid at T0 can still be refunded "
		                "(order %s and maybe others); it holds %s %s, so at most %s %s can be withdrawn until "
		                "their refund window is over",
		                id, need, cur, order, have, cur, can, cur);
	}
	char *why = NULL;
	if (deposit < DEPOSIT_T0_MIN) {
		char have[MONEY_TEXT_MAX], need[MONEY_TEXT_MAX];
		money_format(deposit, currency_find(cur), have);
		money_format(DEPOSIT_T0_MIN, currency_find(cur), need);
		why = xasprintf("deposit %s %s is below the %s %s that T0 needs", have, cur, need, cur);
	}
	if (!in && why) {
		/* The record says why, as when a settlement puts it on T15. */
		char *reason = xasprintf("withdrawal %s: %s", request_no, why);
		store_exec(c->st,
		           "UPDATE merchants SET settlement = 'T15', settlement_reason = ?, updated_at = ?"
		           " WHERE id = ? AND settlement = 'T0'",
		           "ttt", reason, t.created_at, no);
		free(reason);
		if (strcmp(m.settlement, "T0") == 0)
			strlcopy(m.settlement, "T15", sizeof m.settlement);
	}
	*out = ledger_transfer_json(&t);
	json_object_set_new(*out, "merchant", json_string(id));
	json_object_set_new(*out, "request_no", json_string(request_no));
	json_object_set_new(*out, "settlement", json_string(m.settlement));
	if (why)
		json_object_set_new(*out, "settlement_note", json_string(why));
	free(why);
	return BATCH_OK;
}

int merchants_deposit(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	return move_deposit(c, req, true, out, e);
}

int merchants_withdraw(struct wpay_ctx *c, json_t *req, json_t **out, struct err *e)
{
	return move_deposit(c, req, false, out, e);
}
