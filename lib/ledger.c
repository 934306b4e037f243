/* ledger: see ledger.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <jansson.h>

#include "ledger.h"
#include "money.h"

#include "util.h"

static const char *const kind_names[] = {"wallet", "card",   "pending", "deposit",
                                         "fees",   "payout", "sponsor", "clearing"};

void ledger_account_id(enum account_kind kind, const char *owner, char id[ACCOUNT_ID_MAX])
{
	bufprintf(id, ACCOUNT_ID_MAX, "%s:%s", kind_names[kind], owner);
}

void ledger_account(struct store *st, enum account_kind kind, const char *owner, const char *currency,
                    char id[ACCOUNT_ID_MAX])
{
	char now[CLOCK_TEXT_MAX];
	ledger_account_id(kind, owner, id);
	clock_format(clock_now_ms(), now);
	store_write(st, -1,
	            "INSERT INTO accounts(id, kind, owner, currency, created_at) VALUES (?, ?, ?, ?, ?)"
	            " ON CONFLICT(id) DO NOTHING",
	            "ttttt", id, kind_names[kind], owner, currency, now);
}

const char *ledger_currency(struct store *st, enum account_kind kind, const char *owner, char buf[8])
{
	char id[ACCOUNT_ID_MAX];
	ledger_account_id(kind, owner, id);
	struct store_stmt *q = store_query(st, "SELECT currency FROM accounts WHERE id = ?", "t", id);
	strlcopy(buf, store_step(q) == STORE_ROW ? store_col_text(q, 0) : "", 8);
	store_done(q);
	return buf;
}

/*
 * The journal. On an engine that sends writes without waiting
 * (store_deferring: PostgreSQL, in a batch), a batch moves each balance
 * once, at its commit, in the order of account ids, instead of once per
 * transfer. So a hot account (the platform's fees, a busy merchant's
 * pending) is locked for the commit only, not for the whole batch: workers
 * on other hosts do not queue behind one another, never deadlock on
 * balances, and PostgreSQL keeps no row version per payment. The rules are
 * checked here, against the balance read when the batch first touched the
 * account plus what the batch has moved since; the commit adds the sums
 * with store_write, expecting one row each and within the same limits, so
 * that a balance another worker moved meanwhile past a rule dooms the
 * batch, which then runs again moving balances at once.
 */
struct journal_entry {
	char id[ACCOUNT_ID_MAX];
	char currency[8];
	bool found, may_go_negative;
	int64_t balance; /* as read */
	int64_t batch;   /* moved by the batch's released records */
	int64_t record;  /* moved by the record in its savepoint */
};

static struct journal {
	struct store *st;
	size_t n, cap;
	struct journal_entry *e;
} journal;

static void journal_release(void *arg)
{
	(void)arg;
	for (size_t i = 0; i < journal.n; i++)
		journal.e[i].batch += journal.e[i].record, journal.e[i].record = 0;
}

static void journal_rollback_savepoint(void *arg)
{
	(void)arg;
	for (size_t i = 0; i < journal.n; i++)
		journal.e[i].record = 0;
}

static void journal_clear(void *arg)
{
	(void)arg;
	journal.n = 0;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct journal_entry *)a)->id, ((const struct journal_entry *)b)->id);
}

static void journal_before_commit(void *arg)
{
	struct store *st = arg;
	qsort(journal.e, journal.n, sizeof journal.e[0], by_id);
	for (size_t i = 0; i < journal.n; i++) {
		int64_t delta = journal.e[i].batch + journal.e[i].record;
		if (delta == 0)
			continue;
		/* Writes in flight are read back when too many are (hundreds
		 * of moves), and one that failed dooms the batch here: it runs
		 * again, moving these balances at once. */
		if (store_must_replay(st))
			break;
		if (!store_deferring(st))
			err_die(EX_SOFTWARE, "ledger: balances batched for a store that no longer defers writes");
		store_write(st, 1,
		            "UPDATE accounts SET balance = balance + ?1 WHERE id = ?2"
		            " AND (balance + ?1 BETWEEN -?3 AND ?3"
		            " OR (?1 < 0 AND balance + ?1 >= 0) OR (?1 > 0 AND balance + ?1 <= 0))",
		            "iti", delta, journal.e[i].id, BALANCE_MAX);
	}
	journal.n = 0;
}

static const struct store_hooks journal_hooks = {
    .release = journal_release,
    .rollback_savepoint = journal_rollback_savepoint,
    .before_commit = journal_before_commit,
    .rollback = journal_clear,
};

static void journal_attach(struct store *st)
{
	static struct store_hooks hooks;
	/* A store opened after another was closed may be where it was: its
	 * hooks, not its address, say whether it is the journal's. */
	if (journal.st != st || store_get_hooks(st) != &hooks) {
		hooks = journal_hooks;
		hooks.arg = st;
		journal.st = st;
		journal.n = 0;
		store_set_hooks(st, &hooks);
	}
}

static struct journal_entry *journal_find(const char *acct)
{
	for (size_t i = 0; i < journal.n; i++)
		if (strcmp(journal.e[i].id, acct) == 0)
			return &journal.e[i];
	return NULL;
}

/* je from a row of id, currency, balance, kind. */
static void journal_fill(struct journal_entry *je, struct store_stmt *q)
{
	*je = (struct journal_entry){.found = true, .balance = store_col_int(q, 2)};
	strlcopy(je->id, store_col_text(q, 0), sizeof je->id);
	strlcopy(je->currency, store_col_text(q, 1), sizeof je->currency);
	const char *kind = store_col_text(q, 3);
	je->may_go_negative = strcmp(kind, "card") == 0 || strcmp(kind, "pending") == 0 ||
	                      strcmp(kind, "payout") == 0 || strcmp(kind, "sponsor") == 0;
}

static struct journal_entry *journal_add(const char *acct)
{
	if (journal.n == journal.cap) {
		journal.cap = journal.cap ? 2 * journal.cap : 64;
		journal.e = xrealloc(journal.e, journal.cap * sizeof journal.e[0]);
	}
	struct journal_entry *je = &journal.e[journal.n++];
	*je = (struct journal_entry){0};
	strlcopy(je->id, acct, sizeof je->id);
	return je;
}

static const struct store_sql select_accounts = {
    .sqlite = "SELECT id, currency, balance, kind FROM accounts WHERE id IN (SELECT value FROM json_each(?))",
    .postgresql = "SELECT id, currency, balance, kind FROM accounts"
                  " WHERE id = ANY(ARRAY(SELECT json_array_elements_text(?::json)))",
};

/* Read, in one query, those of the n accounts the batch has not found:
 * not met yet, or met before they were made (a later record may make one;
 * an entry not found moved nothing, so it is read again in place). With
 * note_missing, one still not there gets an entry that says so. */
static void journal_read(struct store *st, const char *const *accts, size_t n, bool note_missing)
{
	journal_attach(st);
	json_t *ids = json_array();
	for (size_t k = 0; k < n; k++) {
		const struct journal_entry *met = journal_find(accts[k]);
		if (!met || !met->found)
			json_array_append_new(ids, json_string(accts[k]));
	}
	if (json_array_size(ids)) {
		char *text = json_dumps(ids, JSON_COMPACT);
		struct store_stmt *q = store_query_sql(st, &select_accounts, "t", text);
		while (store_step(q) == STORE_ROW) {
			struct journal_entry *je = journal_find(store_col_text(q, 0));
			if (!je || !je->found)
				journal_fill(je ? je : journal_add(store_col_text(q, 0)), q);
		}
		free(text);
	}
	json_decref(ids);
	for (size_t k = 0; k < n && note_missing; k++)
		if (!journal_find(accts[k]))
			journal_add(accts[k]);
}

/* The batch's entries for the n accounts, each read on first use (a
 * group's new accounts in one round trip). They are found by id after
 * all are read: a pointer taken before the list grew would point into the
 * memory it left. */
static void journal_load(struct store *st, const char *const *accts, size_t n, struct journal_entry **out)
{
	journal_read(st, accts, n, true);
	for (size_t k = 0; k < n; k++)
		out[k] = journal_find(accts[k]);
}

void ledger_preload(struct store *st, const char *const *accts, size_t n)
{
	/* Only those there: one missing may yet be made before it is moved. */
	if (store_deferring(st) && n > 0)
		journal_read(st, accts, n, false);
}

/* What the batch has moved acct by, not yet in its stored balance. */
static int64_t journal_moved(const struct store *st, const char *acct)
{
	if (journal.st != st)
		return 0;
	for (size_t i = 0; i < journal.n; i++)
		if (strcmp(journal.e[i].id, acct) == 0)
			return journal.e[i].batch + journal.e[i].record;
	return 0;
}

int64_t ledger_balance(struct store *st, enum account_kind kind, const char *owner)
{
	char id[ACCOUNT_ID_MAX];
	ledger_account_id(kind, owner, id);
	struct store_stmt *q = store_query(st, "SELECT balance FROM accounts WHERE id = ?", "t", id);
	int64_t b = store_step(q) == STORE_ROW ? store_col_int(q, 0) : 0;
	store_done(q);
	return b + journal_moved(st, id);
}

/* The transfer stored under t->key, into t; false if there is none or it
 * differs from what t asks for. */
static bool load_existing(struct store *st, struct transfer *t, bool *differs)
{
	struct store_stmt *q = store_query(
	    st,
	    "SELECT id, kind, from_account, to_account, amount, currency, created_at FROM transfers WHERE idem_key = ?",
	    "t", t->key);
	bool found = store_step(q) == STORE_ROW;
	if (found) {
		*differs = strcmp(store_col_text(q, 1), t->kind) || strcmp(store_col_text(q, 2), t->from) ||
		           strcmp(store_col_text(q, 3), t->to) || store_col_int(q, 4) != t->amount ||
		           strcmp(store_col_text(q, 5), t->currency);
		strlcopy(t->id, store_col_text(q, 0), sizeof t->id);
		strlcopy(t->created_at, store_col_text(q, 6), sizeof t->created_at);
	}
	store_done(q);
	return found;
}

/* Why an update of acct in currency by delta touched no row. */
static int explain_missing(struct store *st, const char *acct, int64_t delta, const char *currency, struct err *e)
{
	struct store_stmt *q = store_query(st, "SELECT currency, balance FROM accounts WHERE id = ?", "t", acct);
	bool found = store_step(q) == STORE_ROW;
	char cur[8] = "";
	int64_t balance = 0;
	if (found)
		strlcopy(cur, store_col_text(q, 0), sizeof cur),
		    balance = store_col_int(q, 1) + journal_moved(st, acct);
	store_done(q);
	if (!found)
		return err_fail(e, ERR_FAIL, "no_account", "ledger account %s does not exist", acct);
	if (strcmp(cur, currency) != 0)
		return err_fail(e, ERR_FAIL, "currency_mismatch", "account %s holds %s, the transfer is in %s", acct,
		                cur, currency);
	const struct currency *c = currency_find(currency);
	char have[MONEY_TEXT_MAX], move[MONEY_TEXT_MAX], limit[MONEY_TEXT_MAX];
	money_format(balance, c ? c : currency_default(), have);
	money_format(delta < 0 ? -delta : delta, c ? c : currency_default(), move);
	money_format(BALANCE_MAX, c ? c : currency_default(), limit);
	return err_fail(e, ERR_FAIL, "balance_limit",
	                "%s holds %s %s; %s %s %s would take it past %s%s %s, the most one account may %s; use "
	                "smaller amounts or another account",
	                acct, have, currency, delta < 0 ? "taking" : "adding", move, currency, delta < 0 ? "-" : "",
	                limit, currency, delta < 0 ? "owe" : "hold");
}

/* Why a debit of acct by amount was refused: its balance. */
static int explain_overdraft(struct store *st, const char *acct, int64_t amount, const char *currency, struct err *e)
{
	const struct currency *c = currency_find(currency);
	char have[MONEY_TEXT_MAX], need[MONEY_TEXT_MAX];
	struct store_stmt *q = store_query(st, "SELECT balance FROM accounts WHERE id = ?", "t", acct);
	money_format(store_step(q) == STORE_ROW ? store_col_int(q, 0) + journal_moved(st, acct) : 0,
	             c ? c : currency_default(), have);
	store_done(q);
	money_format(amount, c ? c : currency_default(), need);
	return err_fail(e, ERR_FAIL, "insufficient_funds", "%s holds %s %s, not enough for %s %s", acct, have, currency,
	                need, currency);
}

enum { GROUP_MAX = 8 };

int ledger_post(struct store *st, struct transfer *t, size_t n, enum ledger_mode mode, struct err *e)
{
	if (n == 0 || n > GROUP_MAX)
		return err_fail(e, ERR_FAIL, "bad_transfer", "a group has 1 to %d transfers, not %zu", GROUP_MAX, n);
	bool differs = false;
	if (mode == LEDGER_REPLAYABLE && load_existing(st, &t[0], &differs)) {
		for (size_t i = 1; i < n && !differs; i++)
			if (!load_existing(st, &t[i], &differs))
				differs = true;
		if (differs)
			return err_fail(
			    e, ERR_FAIL, "idempotency_conflict",
			    "request %s was already posted with different details (amount or accounts); use a new "
			    "request number",
			    t[0].ref ? t[0].ref : t[0].key);
		return 1;
	}
	/* The group moves each account once, by its net: its legs are never
	 * seen apart, so the rules hold on the balances it leaves. */
	struct {
		const char *acct;
		int64_t delta;
	} net[2 * GROUP_MAX];
	size_t nnet = 0;
	for (size_t i = 0; i < n; i++) {
		if (t[i].amount <= 0 || t[i].amount > MONEY_MAX)
			return err_fail(e, ERR_FAIL, "bad_amount", "amount %lld is not between 1 and %lld minor units",
			                (long long)t[i].amount, (long long)MONEY_MAX);
		if (strcmp(t[i].from, t[i].to) == 0)
			return err_fail(e, ERR_FAIL, "bad_transfer", "a transfer from %s to itself moves nothing",
			                t[i].from);
		if (strcmp(t[i].currency, t[0].currency) != 0)
			return err_fail(e, ERR_FAIL, "currency_mismatch", "a group moves one currency, not %s and %s",
			                t[0].currency, t[i].currency);
		for (int side = 0; side < 2; side++) {
			const char *acct = side ? t[i].to : t[i].from;
			size_t k = 0;
			while (k < nnet && strcmp(net[k].acct, acct) != 0)
				k++;
			if (k == nnet)
				net[nnet].acct = acct, net[nnet].delta = 0, nnet++;
			net[k].delta += side ? t[i].amount : -t[i].amount; /* at most 8 x 10^15: no overflow */
		}
	}
	/* In the order of their ids: two workers that move the same accounts
	 * lock them in the same order, so neither waits on the other in a
	 * cycle (a deadlock, on PostgreSQL). */
	for (size_t k = 1; k < nnet; k++)
		for (size_t j = k; j > 0 && strcmp(net[j - 1].acct, net[j].acct) > 0; j--) {
			const char *a = net[j].acct;
			int64_t d = net[j].delta;
			net[j] = net[j - 1];
			net[j - 1].acct = a, net[j - 1].delta = d;
		}
	if (store_deferring(st)) {
		/* Check every account first, then move them all: a group is
		 * never half recorded. */
		struct journal_entry *je[2 * GROUP_MAX];
		const char *accts[2 * GROUP_MAX];
		for (size_t k = 0; k < nnet; k++)
			accts[k] = net[k].acct;
		journal_load(st, accts, nnet, je);
		for (size_t k = 0; k < nnet; k++) {
			if (net[k].delta == 0)
				continue;
			int64_t delta = net[k].delta, now = 0, after;
			if (je[k]->found && strcmp(je[k]->currency, t[0].currency) == 0) {
				now = je[k]->balance + je[k]->batch + je[k]->record;
				after = now + delta;
				bool within = (after >= -BALANCE_MAX && after <= BALANCE_MAX) ||
				              (delta < 0 && after >= 0) || (delta > 0 && after <= 0);
				if (within && (after >= 0 || je[k]->may_go_negative))
					continue;
				if (within)
					return explain_overdraft(st, net[k].acct, -delta, t[0].currency, e);
			}
			return explain_missing(st, net[k].acct, delta, t[0].currency, e);
		}
		for (size_t k = 0; k < nnet; k++)
			if (net[k].delta != 0)
				je[k]->record += net[k].delta;
	}
	for (size_t k = 0; k < nnet && !store_deferring(st); k++) {
		if (net[k].delta == 0)
			continue;
		/* The ceiling is in the statement, not a read before it: no extra
		 * round trip per account. A balance already past it (a ledger from
		 * before the ceiling) may still move back towards zero. */
		enum store_result r =
		    store_exec(st,
		               "UPDATE accounts SET balance = balance + ?1 WHERE id = ?2 AND currency = ?3"
		               " AND (balance + ?1 BETWEEN -?4 AND ?4"
		               " OR (?1 < 0 AND balance + ?1 >= 0) OR (?1 > 0 AND balance + ?1 <= 0))",
		               "itti", net[k].delta, net[k].acct, t[0].currency, BALANCE_MAX);
		if (r == STORE_CONSTRAINT)
			return net[k].delta < 0
			           ? explain_overdraft(st, net[k].acct, -net[k].delta, t[0].currency, e)
			           : err_fail(e, ERR_FAIL, "bad_amount", "account %s would overflow", net[k].acct);
		if (store_changes(st) == 0)
			return explain_missing(st, net[k].acct, net[k].delta, t[0].currency, e);
	}
	char now[CLOCK_TEXT_MAX];
	clock_format(clock_now_ms(), now);
	for (size_t i = 0; i < n; i++) {
		ids_new("tr", t[i].id);
		strlcopy(t[i].created_at, now, sizeof t[i].created_at);
	}
	if (n == 2 && store_deferring(st)) {
		/* A payment and its fee in one statement: what a payment costs
		 * the server is mostly its statements. Any failure dooms the
		 * batch, whose replay inserts them one by one (below) and says
		 * which key was taken. */
		store_write_many(st, 2,
		                 "INSERT INTO transfers(id, idem_key, group_id, kind, from_account, to_account,"
		                 " amount, currency, ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?),"
		                 " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		                 "ttttttittt"
		                 "ttttttittt",
		                 t[0].id, t[0].key, t[0].id, t[0].kind, t[0].from, t[0].to, t[0].amount, t[0].currency,
		                 t[0].ref, t[0].created_at, t[1].id, t[1].key, t[0].id, t[1].kind, t[1].from, t[1].to,
		                 t[1].amount, t[1].currency, t[1].ref, t[1].created_at);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		enum store_result r =
		    store_write_many(st, 1,
		                     "INSERT INTO transfers(id, idem_key, group_id, kind, from_account, to_account,"
		                     " amount, currency, ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		                     "ttttttittt", t[i].id, t[i].key, t[0].id, t[i].kind, t[i].from, t[i].to,
		                     t[i].amount, t[i].currency, t[i].ref, t[i].created_at);
		if (r == STORE_CONSTRAINT)
			return err_fail(e, ERR_FAIL, "idempotency_conflict", "transfer key %s was posted before",
			                t[i].key);
	}
	return 0;
}

json_t *ledger_transfer_json(const struct transfer *t)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "type", "transfer", "id", t->id, "kind", t->kind,
	                      "from", t->from, "to", t->to, "amount", (json_int_t)t->amount, "currency", t->currency);
	if (t->ref)
		json_object_set_new(o, "ref", json_string(t->ref));
	json_object_set_new(o, "created_at", json_string(t->created_at));
	return o;
}

static void violation(json_t *list, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void violation(json_t *list, const char *code, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_array_append_new(list, json_pack("{s:s, s:s}", "code", code, "message", msg));
}

/*
 * The check's sums are exact whatever the ledger holds. SQLite's SUM()
 * stops with "integer overflow" when a running total passes int64, which
 * an account's transfers in and out can do long before its balance does
 * (10^4 top-ups of 10^15 each spent again), and so can 10^4 balances of
 * 10^15. So each value v is summed in two halves, v / 2^31 and v % 2^31
 * (both truncated towards zero, so v = hi * 2^31 + lo exactly, |hi| <= 2^32,
 * |lo| < 2^31): neither SQL sum can overflow before 2^31 rows (SQL the
 * PostgreSQL backend reads alike), and C joins them in 128 bits.
 */
typedef __int128 wide;
#define HALF         INT64_C(2147483648)
#define WIDE(hi, lo) ((wide)(hi)*HALF + (lo))

static bool wide_fits(wide v)
{
	return v >= INT64_MIN && v <= INT64_MAX;
}

/* v in decimal; buf needs 48 bytes. */
static const char *wide_text(wide v, char buf[48])
{
	char digits[48];
	size_t n = 0;
	unsigned __int128 mag = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
	do
		digits[n++] = (char)('0' + (int)(mag % 10));
	while ((mag /= 10) > 0);
	size_t k = 0;
	if (v < 0)
		buf[k++] = '-';
	while (n > 0)
		buf[k++] = digits[--n];
	buf[k] = '\0';
	return buf;
}

json_t *ledger_check(struct store *st, bool *ok)
{
	json_t *violations = json_array(), *currencies = json_object();
	int64_t n_accounts = 0, n_transfers = 0;
	char text[48];

	/* Each stored balance against the sum of its transfers. */
	struct store_stmt *q =
	    store_query(st,
	                /* One pass over transfers, not one per account. */
	                "SELECT a.id, a.kind, a.balance, COALESCE(x.hi, 0), COALESCE(x.lo, 0) FROM accounts a LEFT JOIN"
	                " (SELECT account, SUM(delta / 2147483648) AS hi, SUM(delta % 2147483648) AS lo FROM"
	                "   (SELECT to_account AS account, amount AS delta FROM transfers"
	                "    UNION ALL SELECT from_account, -amount FROM transfers) AS legs"
	                "  GROUP BY account) x ON x.account = a.id ORDER BY a.id",
	                "");
	while (store_step(q) == STORE_ROW) {
		n_accounts++;
		const char *id = store_col_text(q, 0), *kind = store_col_text(q, 1);
		int64_t stored = store_col_int(q, 2);
		wide computed = WIDE(store_col_int(q, 3), store_col_int(q, 4));
		if (computed != stored)
			violation(violations, "balance_mismatch", "%s has balance %lld but its transfers sum to %s", id,
			          (long long)stored, wide_text(computed, text));
		if (stored < 0 && (strcmp(kind, "wallet") == 0 || strcmp(kind, "deposit") == 0 ||
		                   strcmp(kind, "fees") == 0 || strcmp(kind, "clearing") == 0))
			violation(violations, "overdraft", "%s (%s) is below zero: %lld", id, kind, (long long)stored);
		if (stored > BALANCE_MAX || stored < -BALANCE_MAX)
			violation(violations, "balance_limit", "%s (%s) holds %lld, past the limit of %lld either way",
			          id, kind, (long long)stored, (long long)BALANCE_MAX);
	}

	q = store_query(st,
	                "SELECT currency, SUM(balance / 2147483648), SUM(balance % 2147483648), COUNT(*) FROM accounts"
	                " GROUP BY currency ORDER BY currency",
	                "");
	while (store_step(q) == STORE_ROW) {
		const char *cur = store_col_text(q, 0);
		wide sum = WIDE(store_col_int(q, 1), store_col_int(q, 2));
		/* A sum past int64 (a damaged ledger) is null here, in full in its violation. */
		json_object_set_new(currencies, cur,
		                    json_pack("{s:o, s:I}", "sum",
		                              wide_fits(sum) ? json_integer((json_int_t)sum) : json_null(), "accounts",
		                              (json_int_t)store_col_int(q, 3)));
		if (sum != 0)
			violation(violations, "sum_not_zero", "%s balances sum to %s, not zero", cur,
			          wide_text(sum, text));
	}

	q = store_query(st,
	                "SELECT t.id, t.currency, f.currency, o.currency FROM transfers t"
	                " JOIN accounts f ON f.id = t.from_account JOIN accounts o ON o.id = t.to_account"
	                " WHERE t.currency <> f.currency OR t.currency <> o.currency",
	                "");
	while (store_step(q) == STORE_ROW)
		violation(violations, "currency_mismatch", "transfer %s in %s joins accounts in %s and %s",
		          store_col_text(q, 0), store_col_text(q, 1), store_col_text(q, 2), store_col_text(q, 3));

	q = store_query(st, "SELECT COUNT(*) FROM transfers", "");
	if (store_step(q) == STORE_ROW)
		n_transfers = store_col_int(q, 0);
	store_done(q);

	*ok = json_array_size(violations) == 0;
	return json_pack("{s:s, s:b, s:I, s:I, s:o, s:o}", "type", "check", "ok", *ok, "accounts",
	                 (json_int_t)n_accounts, "transfers", (json_int_t)n_transfers, "currencies", currencies,
	                 "violations", violations);
}
