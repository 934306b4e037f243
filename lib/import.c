/* import: an SQLite ledger copied into an empty PostgreSQL one; see import.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "import.h"
#include "ledger.h"
#include "utf8.h"

#include "util.h"

/* A batch goes to the server when its JSON text passes this many bytes. */
#define BATCH_BYTES ((size_t)1 << 20)

/*
 * One step of the copy: the rows `select` reads from the source, ncols
 * columns of them, go to the target through `insert`, whose one parameter
 * is a JSON array of those rows, each an array of its columns as strings
 * or null, in the order select gives them. `count` (run on both sides)
 * counts the table; a step without it completes an earlier table.
 * PostgreSQL's own SQL in `insert` is fine: the target is always PostgreSQL.
 */
struct step {
	const char *table;
	int ncols;
	const char *select, *insert, *count;
};

/* Foreign-key order. A wallet's default card refers to cards, which refer
 * to wallets: wallets go in without it, and get it after the cards. */
static const struct step steps[] = {
    {"settings", 2, "SELECT name, value FROM settings",
     "INSERT INTO settings(name, value) SELECT r->>0, r->>1 FROM jsonb_array_elements(?::jsonb) AS r"
     " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
     "SELECT count(*) FROM settings"},
    {"accounts", 6, "SELECT id, kind, owner, currency, balance, created_at FROM accounts",
     "INSERT INTO accounts(id, kind, owner, currency, balance, created_at)"
     " SELECT r->>0, r->>1, r->>2, r->>3, (r->>4)::bigint, r->>5 FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM accounts"},
    {"transfers", 10,
     "SELECT id, idem_key, group_id, kind, from_account, to_account, amount, currency, ref, created_at FROM transfers",
     "INSERT INTO transfers(id, idem_key, group_id, kind, from_account, to_account, amount, currency, ref, created_at)"
     " SELECT r->>0, r->>1, r->>2, r->>3, r->>4, r->>5, (r->>6)::bigint, r->>7, r->>8, r->>9"
     " FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM transfers"},
    {"users", 3, "SELECT uid, nickname, created_at FROM users",
     "INSERT INTO users(uid, nickname, created_at) SELECT r->>0, r->>1, r->>2 FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM users"},
    {"wallets", 7, "SELECT id, login, currency, pin_hash, pin_failures, locked_until, created_at FROM wallets",
     "INSERT INTO wallets(id, login, currency, pin_hash, pin_failures, locked_until, created_at)"
     " SELECT r->>0, r->>1, r->>2, r->>3, (r->>4)::bigint, (r->>5)::bigint, r->>6"
     " FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM wallets"},
    {"cards", 12,
     "SELECT id, wallet_id, fingerprint, bin, last4, pan_length, brand, funding, bank, country, created_at,"
     " removed_at FROM cards",
     "INSERT INTO cards(id, wallet_id, fingerprint, bin, last4, pan_length, brand, funding, bank, country,"
     " created_at, removed_at)"
     " SELECT r->>0, r->>1, r->>2, r->>3, r->>4, (r->>5)::bigint, r->>6, r->>7, r->>8, r->>9, r->>10, r->>11"
     " FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM cards"},
    {"wallets", 2, "SELECT id, default_card FROM wallets WHERE default_card IS NOT NULL",
     "UPDATE wallets AS w SET default_card = r->>1 FROM jsonb_array_elements(?::jsonb) AS r WHERE w.id = r->>0", NULL},
    {"bindings", 5, "SELECT id, uid, wallet_id, bound_at, unbound_at FROM bindings",
     "INSERT INTO bindings(id, uid, wallet_id, bound_at, unbound_at)"
     " SELECT (r->>0)::bigint, r->>1, r->>2, r->>3, r->>4 FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM bindings"},
    {"merchants", 19,
     "SELECT id, kind, verified, name, city, mcc, country, currency, fee_ppm, settlement, notify_url,"
     " bank_account, created_at, updated_at, networks, state, state_reason, state_at, settlement_reason"
     " FROM merchants",
     "INSERT INTO merchants(id, kind, verified, name, city, mcc, country, currency, fee_ppm, settlement,"
     " notify_url, bank_account, created_at, updated_at, networks, state, state_reason, state_at,"
     " settlement_reason) SELECT r->>0, r->>1, (r->>2)::bigint, r->>3, r->>4, r->>5, r->>6, r->>7,"
     " (r->>8)::bigint, r->>9, r->>10, r->>11, r->>12, r->>13, r->>14, r->>15, r->>16, r->>17, r->>18 FROM"
     " jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM merchants"},
    {"codes", 9,
     "SELECT id, merchant_id, reference, amount, currency, payload, expires_at, created_at, terminal_id FROM codes",
     "INSERT INTO codes(id, merchant_id, reference, amount, currency, payload, expires_at, created_at, terminal_id)"
     " SELECT r->>0, r->>1, r->>2, (r->>3)::bigint, r->>4, r->>5, r->>6, r->>7, r->>8 FROM"
     " jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM codes"},
    {"orders", 20,
     "SELECT id, merchant_id, out_trade_no, amount, currency, subject, buyer, origin, state, close_reason,"
     " refunded, expires_at, created_at, paid_at, closed_at, request_no, reference, product, quantity,"
     " terminal_id FROM orders",
     "INSERT INTO orders(id, merchant_id, out_trade_no, amount, currency, subject, buyer, origin, state,"
     " close_reason, refunded, expires_at, created_at, paid_at, closed_at, request_no, reference, product,"
     " quantity, terminal_id) SELECT r->>0, r->>1, r->>2, (r->>3)::bigint, r->>4, r->>5, r->>6, r->>7, r->>8,"
     " r->>9, (r->>10)::bigint, (r->>11)::bigint, r->>12, r->>13, r->>14, r->>15, r->>16, r->>17,"
     " (r->>18)::bigint, r->>19 FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM orders"},
    /* Before the payments: the target's trigger then finds each unsettled
     * one queued already (and leaves it). */
    {"payments_due", 3, "SELECT merchant_id, created_at, payment_id FROM payments_due",
     "INSERT INTO payments_due(merchant_id, created_at, payment_id) SELECT r->>0, r->>1, r->>2"
     " FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM payments_due"},
    {"payments", 16,
     "SELECT id, order_id, merchant_id, wallet_id, buyer, source_account, amount, fee, currency,"
     " created_at, settlement_id, discount, promo_id, card_brand, card_type, card_issuer FROM payments",
     "INSERT INTO payments(id, order_id, merchant_id, wallet_id, buyer, source_account, amount, fee,"
     " currency, created_at, settlement_id, discount, promo_id, card_brand, card_type, card_issuer) SELECT"
     " r->>0, r->>1, r->>2, r->>3, r->>4, r->>5, (r->>6)::bigint, (r->>7)::bigint, r->>8, r->>9, r->>10,"
     " (r->>11)::bigint, r->>12, r->>13, r->>14, r->>15 FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM payments"},

    {"refunds", 12,
     "SELECT id, order_id, payment_id, merchant_id, out_request_no, amount, fee_returned, funded_from,"
     " reason, created_at, settlement_id, discount_returned FROM refunds",
     "INSERT INTO refunds(id, order_id, payment_id, merchant_id, out_request_no, amount, fee_returned,"
     " funded_from, reason, created_at, settlement_id, discount_returned) SELECT r->>0, r->>1, r->>2,"
     " r->>3, r->>4, (r->>5)::bigint, (r->>6)::bigint, r->>7, r->>8, r->>9, r->>10, (r->>11)::bigint FROM"
     " jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM refunds"},
    {"events", 13,
     "SELECT id, merchant_id, kind, subject, body, state, attempts, next_attempt_at, created_at, lease_until,"
     " last_status, last_error, delivered_at FROM events",
     "INSERT INTO events(id, merchant_id, kind, subject, body, state, attempts, next_attempt_at, created_at,"
     " lease_until, last_status, last_error, delivered_at)"
     " SELECT r->>0, r->>1, r->>2, r->>3, r->>4, r->>5, (r->>6)::bigint, (r->>7)::bigint, r->>8,"
     " (r->>9)::bigint, (r->>10)::bigint, r->>11, r->>12 FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM events"},
    {"event_attempts", 6, "SELECT event_id, attempt, started_at, status, error, finished_at FROM event_attempts",
     "INSERT INTO event_attempts(event_id, attempt, started_at, status, error, finished_at)"
     " SELECT r->>0, (r->>1)::bigint, r->>2, (r->>3)::bigint, r->>4, r->>5 FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM event_attempts"},
    {"follows", 3, "SELECT uid, merchant_id, created_at FROM follows",
     "INSERT INTO follows(uid, merchant_id, created_at) SELECT r->>0, r->>1, r->>2"
     " FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM follows"},
    {"settlements", 26,
     "SELECT id, merchant_id, date, mode, note, cutoff, currency, payments, gross, fees, refunds,"
     " refunded, fees_returned, refunded_from_deposit, carried_in, net, payout, carried_out,"
     " payout_account, transfer_id, created_at, discounts, discounts_returned, deposit_topup,"
     " first_payment, last_payment FROM settlements",
     "INSERT INTO settlements(id, merchant_id, date, mode, note, cutoff, currency, payments, gross, fees,"
     " refunds, refunded, fees_returned, refunded_from_deposit, carried_in, net, payout, carried_out,"
     " payout_account, transfer_id, created_at, discounts, discounts_returned, deposit_topup, first_payment,"
     " last_payment) SELECT"
     " r->>0, r->>1, r->>2, r->>3, r->>4, r->>5, r->>6, (r->>7)::bigint, (r->>8)::bigint, (r->>9)::bigint,"
     " (r->>10)::bigint, (r->>11)::bigint, (r->>12)::bigint, (r->>13)::bigint, (r->>14)::bigint,"
     " (r->>15)::bigint, (r->>16)::bigint, (r->>17)::bigint, r->>18, r->>19, r->>20, (r->>21)::bigint,"
     " (r->>22)::bigint, (r->>23)::bigint, r->>24, r->>25 FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM settlements"},
    {"products", 10,
     "SELECT merchant_id, sku, name, price, currency, stock, sold, removed_at, created_at, updated_at FROM"
     " products",
     "INSERT INTO products(merchant_id, sku, name, price, currency, stock, sold, removed_at, created_at,"
     " updated_at) SELECT r->>0, r->>1, r->>2, (r->>3)::bigint, r->>4, (r->>5)::bigint, (r->>6)::bigint,"
     " r->>7, r->>8, r->>9 FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM products"},
    {"promos", 19,
     "SELECT id, sponsor, issuer, bin_prefix, card_type, merchant_id, discount_ppm, off, min_amount,"
     " per_user, budget, spent, uses, currency, starts_at, ends_at, created_at, updated_at, removed_at"
     " FROM promos",
     "INSERT INTO promos(id, sponsor, issuer, bin_prefix, card_type, merchant_id, discount_ppm, off,"
     " min_amount, per_user, budget, spent, uses, currency, starts_at, ends_at, created_at, updated_at,"
     " removed_at) SELECT r->>0, r->>1, r->>2, r->>3, r->>4, r->>5, (r->>6)::bigint, (r->>7)::bigint,"
     " (r->>8)::bigint, (r->>9)::bigint, (r->>10)::bigint, (r->>11)::bigint, (r->>12)::bigint, r->>13,"
     " (r->>14)::bigint, (r->>15)::bigint, r->>16, r->>17, r->>18 FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM promos"},
    {"promo_uses", 3, "SELECT promo_id, uid, uses FROM promo_uses",
     "INSERT INTO promo_uses(promo_id, uid, uses) SELECT r->>0, r->>1, (r->>2)::bigint FROM"
     " jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM promo_uses"},
    {"messages", 8, "SELECT id, merchant_id, request_no, audience, text, recipients, created_at, skipped FROM messages",
     "INSERT INTO messages(id, merchant_id, request_no, audience, text, recipients, created_at, skipped) SELECT"
     " r->>0, r->>1, r->>2, r->>3, r->>4, (r->>5)::bigint, r->>6, (r->>7)::bigint FROM"
     " jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM messages"},
    {"message_quota", 3, "SELECT day, party, sent FROM message_quota",
     "INSERT INTO message_quota(day, party, sent) SELECT r->>0, r->>1, (r->>2)::bigint FROM"
     " jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM message_quota"},
    {"wallet_transfers", 9,
     "SELECT id, from_wallet, to_wallet, amount, currency, request_no, note, transfer_id, created_at FROM"
     " wallet_transfers",
     "INSERT INTO wallet_transfers(id, from_wallet, to_wallet, amount, currency, request_no, note, transfer_id,"
     " created_at) SELECT r->>0, r->>1, r->>2, (r->>3)::bigint, r->>4, r->>5, r->>6, r->>7, r->>8 FROM"
     " jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM wallet_transfers"},
    {"withdrawals", 12,
     "SELECT id, wallet_id, card_id, amount, currency, request_no, state, transfer_id, created_at, payout_date,"
     " failed_at, reason FROM withdrawals",
     "INSERT INTO withdrawals(id, wallet_id, card_id, amount, currency, request_no, state, transfer_id,"
     " created_at, payout_date, failed_at, reason) SELECT r->>0, r->>1, r->>2, (r->>3)::bigint, r->>4, r->>5,"
     " r->>6, r->>7, r->>8, r->>9, r->>10, r->>11 FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM withdrawals"},
    {"wallet_daily", 4, "SELECT day, wallet_id, kind, total FROM wallet_daily",
     "INSERT INTO wallet_daily(day, wallet_id, kind, total) SELECT r->>0, r->>1, r->>2, (r->>3)::bigint FROM"
     " jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM wallet_daily"},
    {"terminals", 5, "SELECT merchant_id, terminal_id, name, created_at, removed_at FROM terminals",
     "INSERT INTO terminals(merchant_id, terminal_id, name, created_at, removed_at) SELECT r->>0, r->>1, r->>2,"
     " r->>3, r->>4 FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM terminals"},
    {"buyer_codes", 6, "SELECT token_hash, wallet_id, created_at, expires_at, order_id, used_at FROM buyer_codes",
     "INSERT INTO buyer_codes(token_hash, wallet_id, created_at, expires_at, order_id, used_at) SELECT r->>0,"
     " r->>1, r->>2, (r->>3)::bigint, r->>4, r->>5 FROM jsonb_array_elements(?::jsonb) AS r",
     "SELECT count(*) FROM buyer_codes"},
};

/* The JSON text of a batch of rows. */
struct batch {
	char *text;
	size_t len, cap;
	int64_t rows;
};

static void put(struct batch *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->text = xrealloc(b->text, b->cap);
	}
	memcpy(b->text + b->len, s, n);
	b->len += n;
	b->text[b->len] = '\0';
}

/* s as a JSON string: quotes, backslashes and control characters escaped,
 * the rest (UTF-8, checked by the caller) as it is. */
static void put_string(struct batch *b, const char *s)
{
	put(b, "\"", 1);
	const char *run = s;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c != '"' && c != '\\' && c >= 0x20)
			continue;
		put(b, run, (size_t)(p - run));
		char esc[8];
		if (c == '"' || c == '\\')
			bufprintf(esc, sizeof esc, "\\%c", c);
		else
			bufprintf(esc, sizeof esc, "\\u%04x", c);
		put(b, esc, strlen(esc));
		run = p + 1;
	}
	put(b, run, strlen(run));
	put(b, "\"", 1);
}

/* Send the batch (if it holds rows) through the step's statement; adds
 * the rows it changed to *written. Returns 0, or 65 with e. */
static int flush(struct store *dst, const struct step *s, struct batch *b, int64_t *written, struct err *e)
{
	if (!b->rows)
		return 0;
	put(b, "]", 1);
	enum store_result r = store_exec(dst, s->insert, "t", b->text);
	b->len = 0;
	b->rows = 0;
	/* The schemas hold the same constraints: the source's rows break one
	 * only if the source is damaged. */
	if (r != STORE_DONE)
		return err_fail(
		    e, EX_DATAERR, "import_mismatch",
		    "rows of table %s break a constraint of the target ledger; run 'wpay check' on the source",
		    s->table);
	*written += store_changes(dst);
	return 0;
}

static int64_t count_rows(struct store *st, const char *sql)
{
	struct store_stmt *q = store_query(st, sql, "");
	int64_t n = store_step(q) == STORE_ROW ? store_col_int(q, 0) : -1;
	store_done(q);
	return n;
}

/* One step: every row select reads, in batches. Returns 0, or 65 with e. */
static int copy_step(struct store *dst, struct store *src, const struct step *s, struct batch *b, int64_t *read,
                     int64_t *written, struct err *e)
{
	*read = *written = 0;
	struct store_stmt *q = store_query(src, s->select, "");
	while (store_step(q) == STORE_ROW) {
		put(b, b->rows ? ",[" : "[[", 2);
		for (int c = 0; c < s->ncols; c++) {
			if (c)
				put(b, ",", 1);
			const char *v = store_col_text(q, c);
			size_t bad;
			if (!v) {
				put(b, "null", 4);
			} else if (!utf8_valid(v, strlen(v), &bad)) {
				const char *key = store_col_text(q, 0);
				char id[80];
				strlcopy(id, key && utf8_valid(key, strlen(key), &bad) ? key : "?", sizeof id);
				store_done(q);
				b->len = 0;
				b->rows = 0;
				return err_fail(
				    e, EX_DATAERR, "bad_utf8",
				    "table %s, row '%s', column %d holds text that is not UTF-8; the source "
				    "ledger is damaged",
				    s->table, id, c + 1);
			} else {
				put_string(b, v);
			}
		}
		put(b, "]", 1);
		b->rows++;
		(*read)++;
		if (b->len >= BATCH_BYTES) {
			int rc = flush(dst, s, b, written, e);
			if (rc) {
				store_done(q);
				return rc;
			}
		}
	}
	return flush(dst, s, b, written, e);
}

/* The first of the tables that mark a ledger in use that holds rows, or NULL. */
static const char *in_use(struct store *dst)
{
	/* No one writes them while the import runs, and a second import
	 * waits here and then finds this one's rows. */
	store_exec(dst, "LOCK TABLE accounts, merchants, users, wallets, orders IN SHARE ROW EXCLUSIVE MODE", "");
	struct store_stmt *q = store_query(dst,
	                                   "SELECT EXISTS (SELECT 1 FROM accounts), EXISTS (SELECT 1 FROM merchants),"
	                                   " EXISTS (SELECT 1 FROM users), EXISTS (SELECT 1 FROM wallets),"
	                                   " EXISTS (SELECT 1 FROM orders)",
	                                   "");
	static const char *const names[] = {"accounts", "merchants", "users", "wallets", "orders"};
	const char *found = NULL;
	if (store_step(q) == STORE_ROW)
		for (int i = 0; i < (int)ARRAY_LEN(names) && !found; i++)
			if (store_col_int(q, i))
				found = names[i];
	store_done(q);
	return found;
}

static int import_copy(struct store *dst, struct store *src, json_t *tables, struct err *e)
{
	const char *used = in_use(dst);
	if (used)
		return err_fail(e, EX_CANTCREAT, "not_empty",
		                "the target ledger already holds %s; import only into a ledger with no data (a new "
		                "database, after 'wpay init --db' or none)",
		                used);
	struct batch b = {0};
	int rc = 0;
	for (size_t i = 0; i < ARRAY_LEN(steps) && !rc; i++) {
		const struct step *s = &steps[i];
		int64_t read, written;
		if ((rc = copy_step(dst, src, s, &b, &read, &written, e)) != 0)
			break;
		if (written != read) {
			rc = err_fail(e, EX_DATAERR, "import_mismatch", "table %s: %lld rows read, %lld written",
			              s->table, (long long)read, (long long)written);
			break;
		}
		if (!s->count)
			continue;
		int64_t had = count_rows(src, s->count), has = count_rows(dst, s->count);
		/* Settings the target had already stay beside the imported ones. */
		bool same = strcmp(s->table, "settings") == 0 ? has >= had : has == had;
		if (had != read || !same) {
			rc = err_fail(e, EX_DATAERR, "import_mismatch",
			              "table %s: the source holds %lld rows, %lld were copied, the target holds %lld",
			              s->table, (long long)had, (long long)read, (long long)has);
			break;
		}
		json_object_set_new(tables, s->table, json_integer((json_int_t)read));
	}
	free(b.text);
	if (rc)
		return rc;
	/* The ids kept; new bindings are numbered after them. */
	struct store_stmt *q = store_query(
	    dst,
	    "SELECT setval(pg_get_serial_sequence('bindings', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM bindings",
	    "");
	store_step(q);
	store_done(q);

	bool ok;
	json_t *check = ledger_check(dst, &ok);
	if (!ok) {
		json_t *v = json_array_get(json_object_get(check, "violations"), 0);
		const char *what = json_string_value(json_object_get(v, "message"));
		rc = err_fail(e, EX_DATAERR, "import_check",
		              "the ledger check fails on the copy (%zu violations; the first: %s); run 'wpay check' "
		              "on the source",
		              json_array_size(json_object_get(check, "violations")), what ? what : "?");
	}
	json_decref(check);
	return rc;
}

int import_ledger(struct store *dst, struct store *src, json_t **tables, struct err *e)
{
	*tables = NULL;
	if (store_engine(src) != STORE_SQLITE || store_engine(dst) != STORE_POSTGRESQL || !store_in_transaction(dst))
		return err_fail(e, EX_USAGE, "bad_config",
		                "an import goes from an SQLite ledger into a PostgreSQL one, in a transaction");
	int from = store_schema_version(src), to = store_schema_version(dst);
	if (from != to)
		return err_fail(e, EX_SOFTWARE, "internal",
		                "the source has schema v%d and the target v%d; they must be the same", from, to);
	/* SQLite's write lock: a snapshot no one changes while it is copied. */
	store_begin(src);
	json_t *t = json_object();
	int rc = import_copy(dst, src, t, e);
	store_rollback(src);
	if (rc)
		json_decref(t);
	else
		*tables = t;
	return rc;
}
