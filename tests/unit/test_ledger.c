/* Unit tests for lib/ledger on a scratch ledger: rules, idempotency, the check. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger.h"
#include "store.h"
#include "unit.h"

static struct transfer make(const char *key, const char *from, const char *to, int64_t amount)
{
	struct transfer t = {.kind = "test", .amount = amount, .currency = "CNY", .ref = key};
	snprintf(t.key, sizeof t.key, "%s", key);
	snprintf(t.from, sizeof t.from, "%s", from);
	snprintf(t.to, sizeof t.to, "%s", to);
	return t;
}

static int post(struct store *st, struct transfer *t, size_t n, struct err *e)
{
	store_savepoint(st);
	int rc = ledger_post(st, t, n, LEDGER_REPLAYABLE, e);
	if (rc < 0)
		store_rollback_savepoint(st);
	else
		store_release(st);
	return rc;
}

int main(void)
{
	char dir[] = "/tmp/wpay-unit-XXXXXX";
	if (!mkdtemp(dir))
		return 2;
	char path[128];
	snprintf(path, sizeof path, "%s/ledger.db", dir);
	struct store *st;
	struct err e = {0};
	CHECK("a missing ledger is not created without asking", store_open(path, false, &st, &e) == 66);
	CHECK("a new ledger is created", store_open(path, true, &st, &e) == 0);
	CHECK("schema migrated", store_schema_version(st) >= 1);

	store_begin(st);
	char card[ACCOUNT_ID_MAX], wallet[ACCOUNT_ID_MAX], deposit[ACCOUNT_ID_MAX], pending[ACCOUNT_ID_MAX],
	    fees[ACCOUNT_ID_MAX], usd[ACCOUNT_ID_MAX];
	ledger_account(st, ACCOUNT_CARD, "card_1", "CNY", card);
	ledger_account(st, ACCOUNT_WALLET, "wal_1", "CNY", wallet);
	ledger_account(st, ACCOUNT_DEPOSIT, "m:1", "CNY", deposit);
	ledger_account(st, ACCOUNT_PENDING, "m:1", "CNY", pending);
	ledger_account(st, ACCOUNT_FEES, "CNY", "CNY", fees);
	ledger_account(st, ACCOUNT_WALLET, "wal_usd", "USD", usd);
	CHECK("account ids name kind and owner", strcmp(card, "card:card_1") == 0 && strcmp(fees, "fees:CNY") == 0);

	struct transfer t = make("k1", card, wallet, 10000);
	CHECK("a card may go below zero to fund a wallet", post(st, &t, 1, &e) == 0);
	CHECK("balances moved", ledger_balance(st, ACCOUNT_WALLET, "wal_1") == 10000 &&
	                            ledger_balance(st, ACCOUNT_CARD, "card_1") == -10000);
	char first_id[ID_MAX];
	strcpy(first_id, t.id);
	struct transfer again = make("k1", card, wallet, 10000);
	CHECK("a repeat returns the first transfer", post(st, &again, 1, &e) == 1 && strcmp(again.id, first_id) == 0);
	CHECK("and moves nothing", ledger_balance(st, ACCOUNT_WALLET, "wal_1") == 10000);
	struct transfer other = make("k1", card, wallet, 10001);
	CHECK("the same key for another amount is refused",
	      post(st, &other, 1, &e) == -1 && strcmp(e.code, "idempotency_conflict") == 0);

	struct transfer over = make("k2", wallet, pending, 10001);
	CHECK("a wallet never goes below zero",
	      post(st, &over, 1, &e) == -1 && strcmp(e.code, "insufficient_funds") == 0);
	CHECK("nothing moved on refusal", ledger_balance(st, ACCOUNT_WALLET, "wal_1") == 10000);
	struct transfer dep = make("k3", deposit, pending, 1);
	CHECK("a deposit never goes below zero", post(st, &dep, 1, &e) == -1);
	struct transfer fee = make("k3b", fees, pending, 1);
	CHECK("fees never go below zero", post(st, &fee, 1, &e) == -1);
	struct transfer cur = make("k4", wallet, usd, 1);
	CHECK("currencies do not mix", post(st, &cur, 1, &e) == -1 && strcmp(e.code, "currency_mismatch") == 0);
	struct transfer zero = make("k5", card, wallet, 0);
	CHECK("zero amount refused", post(st, &zero, 1, &e) == -1 && strcmp(e.code, "bad_amount") == 0);
	struct transfer neg = make("k6", card, wallet, -5);
	CHECK("negative amount refused", post(st, &neg, 1, &e) == -1 && strcmp(e.code, "bad_amount") == 0);
	struct transfer self = make("k7", wallet, wallet, 5);
	CHECK("a transfer to itself refused", post(st, &self, 1, &e) == -1);
	struct transfer ghost = make("k8", "wallet:nobody", wallet, 5);
	CHECK("unknown account refused", post(st, &ghost, 1, &e) == -1 && strcmp(e.code, "no_account") == 0);

	/* A group is atomic: the second leg fails, so the first does not stand. */
	struct transfer group[2] = {make("g1a", wallet, pending, 6000), make("g1b", wallet, fees, 6000)};
	CHECK("a group whose second leg fails is refused", post(st, group, 2, &e) == -1);
	CHECK("and its first leg is undone",
	      ledger_balance(st, ACCOUNT_WALLET, "wal_1") == 10000 && ledger_balance(st, ACCOUNT_PENDING, "m:1") == 0);
	struct transfer ok_group[2] = {make("g2a", wallet, pending, 6000), make("g2b", pending, fees, 36)};
	CHECK("a good group posts", post(st, ok_group, 2, &e) == 0);
	struct transfer ok_again[2] = {make("g2a", wallet, pending, 6000), make("g2b", pending, fees, 36)};
	CHECK("a repeated group is a replay",
	      post(st, ok_again, 2, &e) == 1 && strcmp(ok_again[1].id, ok_group[1].id) == 0);

	/* The balance limit: 10^15 either way, a group's net counted; a move
	 * back towards zero from past it (an old ledger) still allowed. */
	char card2[ACCOUNT_ID_MAX], wallet2[ACCOUNT_ID_MAX];
	ledger_account(st, ACCOUNT_CARD, "card_2", "CNY", card2);
	ledger_account(st, ACCOUNT_WALLET, "wal_2", "CNY", wallet2);
	struct transfer full = make("L1", card2, wallet2, BALANCE_MAX);
	CHECK("a balance may reach the limit", post(st, &full, 1, &e) == 0);
	struct transfer past = make("L2", card2, wallet2, 1);
	CHECK("but not pass it below zero", post(st, &past, 1, &e) == -1 && strcmp(e.code, "balance_limit") == 0 &&
	                                        strstr(e.msg, "card:card_2 holds -10000000000000.00 CNY"));
	struct transfer back = make("L3", wallet2, card2, 1);
	CHECK("a move back is allowed", post(st, &back, 1, &e) == 0);
	struct transfer two[2] = {make("L4a", card, wallet2, 1), make("L4b", card, wallet2, 1)};
	CHECK("nor above it, by a group's net",
	      post(st, two, 2, &e) == -1 && strcmp(e.code, "balance_limit") == 0 && strstr(e.msg, "wallet:wal_2"));
	store_exec(st, "UPDATE accounts SET balance = balance - ?1 WHERE id = ?2", "it", BALANCE_MAX, card2);
	struct transfer further = make("L5", card2, wallet, 1);
	CHECK("a balance past the limit may not move further",
	      post(st, &further, 1, &e) == -1 && strcmp(e.code, "balance_limit") == 0);
	struct transfer closer = make("L6", wallet2, card2, 5);
	CHECK("but may move back towards zero", post(st, &closer, 1, &e) == 0);
	store_exec(st, "UPDATE accounts SET balance = balance + ?1 WHERE id = ?2", "it", BALANCE_MAX, card2);
	store_commit(st);

	bool ok;
	json_t *rec = ledger_check(st, &ok);
	CHECK("the check holds", ok && json_integer_value(json_object_get(rec, "transfers")) == 6);
	json_decref(rec);

	/* Break the books behind the ledger's back: the check must see it. */
	CHECK("transfers are immutable",
	      store_exec(st, "UPDATE transfers SET amount = 1 WHERE idem_key = 'k1'", "") == STORE_CONSTRAINT);
	store_exec(st, "UPDATE accounts SET balance = balance + 5 WHERE id = ?", "t", wallet);
	rec = ledger_check(st, &ok);
	const char *dump = json_dumps(rec, 0);
	CHECK("a changed balance fails the check",
	      !ok && strstr(dump, "balance_mismatch") && strstr(dump, "sum_not_zero"));
	free((void *)dump);
	json_decref(rec);
	store_close(st);

	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? UNIT_DONE() : 2;
}
