/*
 * schema: the ledger's tables, one migration per version, applied in order
 * by store_open. Never edit a shipped migration; add the next one.
 */
#ifndef WPAY_SCHEMA_H
#define WPAY_SCHEMA_H

static const char *const schema_migrations[] = {
    /* v1: the foundation: settings, the double-entry ledger, accounts. */
    "CREATE TABLE settings ("
    "  name TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL);"

    /* Tables keyed by text ids are WITHOUT ROWID: the row lives in its
     * key's B-tree, instead of a table and an index beside it.
     * Overdraft rules live here too, so no writer can break them: only card
     * funding (the bank), merchant pending (refunds after settlement) and
     * payout (the merchant's bank) may go below zero. typeof() stops SQLite
     * from turning an overflowing sum into a float. */
    "CREATE TABLE accounts ("
    "  id TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('wallet','card','pending','deposit','fees','payout')),"
    "  owner TEXT NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  balance INTEGER NOT NULL DEFAULT 0 CHECK (typeof(balance) = 'integer'),"
    "  created_at TEXT NOT NULL,"
    "  CHECK (balance >= 0 OR kind IN ('card','pending','payout'))) WITHOUT ROWID;"

    "CREATE TABLE transfers ("
    "  id TEXT PRIMARY KEY,"
    "  idem_key TEXT NOT NULL UNIQUE,"
    "  group_id TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  from_account TEXT NOT NULL REFERENCES accounts(id),"
    "  to_account TEXT NOT NULL REFERENCES accounts(id),"
    "  amount INTEGER NOT NULL CHECK (typeof(amount) = 'integer' AND amount > 0),"
    "  currency TEXT NOT NULL,"
    "  ref TEXT,"
    "  created_at TEXT NOT NULL,"
    "  CHECK (from_account <> to_account)) WITHOUT ROWID;"
    "CREATE TRIGGER transfers_no_update BEFORE UPDATE ON transfers"
    "  BEGIN SELECT RAISE(ABORT, 'transfers are immutable'); END;"
    "CREATE TRIGGER transfers_no_delete BEFORE DELETE ON transfers"
    "  BEGIN SELECT RAISE(ABORT, 'transfers are immutable'); END;"

    "CREATE TABLE users ("
    "  uid TEXT PRIMARY KEY,"
    "  nickname TEXT NOT NULL,"
    "  created_at TEXT NOT NULL);"

    "CREATE TABLE wallets ("
    "  id TEXT PRIMARY KEY,"
    "  login TEXT NOT NULL UNIQUE,"
    "  currency TEXT NOT NULL,"
    "  pin_hash TEXT,"
    "  pin_failures INTEGER NOT NULL DEFAULT 0,"
    "  locked_until INTEGER,"
    "  default_card TEXT REFERENCES cards(id),"
    "  created_at TEXT NOT NULL);"

    "CREATE TABLE bindings ("
    "  id INTEGER PRIMARY KEY,"
    "  uid TEXT NOT NULL REFERENCES users(uid),"
    "  wallet_id TEXT NOT NULL REFERENCES wallets(id),"
    "  bound_at TEXT NOT NULL,"
    "  unbound_at TEXT);"
    "CREATE UNIQUE INDEX bindings_one_wallet_per_user ON bindings(uid) WHERE unbound_at IS NULL;"
    "CREATE UNIQUE INDEX bindings_one_user_per_wallet ON bindings(wallet_id) WHERE unbound_at IS NULL;"

    /* Only BIN, last four and a keyed fingerprint: never the number. */
    "CREATE TABLE cards ("
    "  id TEXT PRIMARY KEY,"
    "  wallet_id TEXT NOT NULL REFERENCES wallets(id),"
    "  fingerprint TEXT NOT NULL,"
    "  bin TEXT NOT NULL,"
    "  last4 TEXT NOT NULL,"
    "  pan_length INTEGER NOT NULL,"
    "  brand TEXT NOT NULL,"
    "  funding TEXT NOT NULL,"
    "  bank TEXT,"
    "  country TEXT,"
    "  created_at TEXT NOT NULL,"
    "  removed_at TEXT);"
    "CREATE UNIQUE INDEX cards_bound_once ON cards(fingerprint) WHERE removed_at IS NULL;"
    "CREATE INDEX cards_wallet ON cards(wallet_id);"

    "CREATE TABLE merchants ("
    "  id TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('enterprise','individual')),"
    "  verified INTEGER NOT NULL DEFAULT 0,"
    "  name TEXT NOT NULL,"
    "  city TEXT NOT NULL,"
    "  mcc TEXT NOT NULL,"
    "  country TEXT NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  fee_ppm INTEGER NOT NULL CHECK (fee_ppm >= 0 AND fee_ppm <= 100000),"
    "  settlement TEXT NOT NULL DEFAULT 'T15' CHECK (settlement IN ('T0','T15')),"
    "  notify_url TEXT,"
    "  bank_account TEXT,"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL);",

    /* v2: payable codes: which networks accept a merchant (NULL: every
     * configured one), and the dynamic codes made, by their reference, so
     * that making one again answers the same code. */
    "ALTER TABLE merchants ADD COLUMN networks TEXT;"
    "CREATE TABLE codes ("
    "  id TEXT PRIMARY KEY,"
    "  merchant_id TEXT NOT NULL REFERENCES merchants(id),"
    "  reference TEXT NOT NULL,"
    "  amount INTEGER NOT NULL CHECK (amount > 0),"
    "  currency TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  expires_at TEXT NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  UNIQUE (merchant_id, reference));",

    /* v3: orders, their payments and refunds, the merchant notifications
     * they queue, and who follows whom. An order is unique by merchant and
     * the merchant's own out_trade_no; a payment by its order; a refund by
     * order and out_request_no; an event by its id, made from its subject
     * ("evt_" and the payment's or refund's id), so it is queued once. */
    "CREATE TABLE orders ("
    "  id TEXT PRIMARY KEY,"
    "  merchant_id TEXT NOT NULL REFERENCES merchants(id),"
    "  out_trade_no TEXT NOT NULL,"
    "  amount INTEGER NOT NULL CHECK (amount > 0),"
    "  currency TEXT NOT NULL,"
    "  subject TEXT,"
    "  buyer TEXT REFERENCES users(uid),"
    "  origin TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'created' CHECK (state IN ('created','paid','closed','finished')),"
    "  close_reason TEXT,"
    "  refunded INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount),"
    "  expires_at INTEGER NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  paid_at TEXT,"
    "  closed_at TEXT,"
    "  UNIQUE (merchant_id, out_trade_no));"
    /* Only unpaid orders can fall due: a paid one leaves the index. */
    "CREATE INDEX orders_due ON orders(expires_at) WHERE state = 'created';"
    "CREATE TABLE payments ("
    "  id TEXT PRIMARY KEY,"
    "  order_id TEXT NOT NULL UNIQUE REFERENCES orders(id),"
    "  merchant_id TEXT NOT NULL REFERENCES merchants(id),"
    "  wallet_id TEXT NOT NULL REFERENCES wallets(id),"
    "  buyer TEXT,"
    "  source_account TEXT NOT NULL,"
    "  amount INTEGER NOT NULL,"
    "  fee INTEGER NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  settlement_id TEXT) WITHOUT ROWID;"
    "CREATE TABLE refunds ("
    "  id TEXT PRIMARY KEY,"
    "  order_id TEXT NOT NULL REFERENCES orders(id),"
    "  payment_id TEXT NOT NULL REFERENCES payments(id),"
    "  merchant_id TEXT NOT NULL REFERENCES merchants(id),"
    "  out_request_no TEXT NOT NULL,"
    "  amount INTEGER NOT NULL CHECK (amount > 0),"
    "  fee_returned INTEGER NOT NULL,"
    "  funded_from TEXT NOT NULL,"
    "  reason TEXT,"
    "  created_at TEXT NOT NULL,"
    "  settlement_id TEXT,"
    "  UNIQUE (order_id, out_request_no));"
    "CREATE TABLE events ("
    "  id TEXT PRIMARY KEY,"
    "  merchant_id TEXT NOT NULL REFERENCES merchants(id),"
    "  kind TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending',"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER NOT NULL,"
    "  created_at TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX events_due ON events(state, next_attempt_at);"
    "CREATE TABLE follows ("
    "  uid TEXT NOT NULL REFERENCES users(uid),"
    "  merchant_id TEXT NOT NULL REFERENCES merchants(id),"
    "  created_at TEXT NOT NULL,"
    "  PRIMARY KEY (uid, merchant_id));",

    /* v4: settlement and notification delivery. A settlement is one
     * merchant's batch for one date; every payment and refund joins
     * exactly one (settlement_id). The partial indexes hold only what is
     * still unsettled, so a day's run never walks the history. A
     * notification attempt is claimed (state 'sending' with a lease) in
     * a write transaction before it is sent, and logged once by its
     * number, so two notifiers never send the same attempt. */
    "CREATE TABLE settlements ("
    "  id TEXT PRIMARY KEY,"
    "  merchant_id TEXT NOT NULL REFERENCES merchants(id),"
    "  date TEXT NOT NULL,"
    "  mode TEXT NOT NULL CHECK (mode IN ('T0','T15')),"
    "  note TEXT,"
    "  cutoff TEXT NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  payments INTEGER NOT NULL,"
    "  gross INTEGER NOT NULL,"
    "  fees INTEGER NOT NULL,"
    "  refunds INTEGER NOT NULL,"
    "  refunded INTEGER NOT NULL,"
    "  fees_returned INTEGER NOT NULL,"
    "  refunded_from_deposit INTEGER NOT NULL,"
    "  carried_in INTEGER NOT NULL CHECK (carried_in <= 0),"
    "  net INTEGER NOT NULL,"
    "  payout INTEGER NOT NULL CHECK (payout >= 0),"
    "  carried_out INTEGER NOT NULL CHECK (carried_out <= 0),"
    "  payout_account TEXT,"
    "  transfer_id TEXT,"
    "  created_at TEXT NOT NULL,"
    "  UNIQUE (merchant_id, date));"
    "CREATE INDEX payments_unsettled ON payments(merchant_id, created_at) WHERE settlement_id IS NULL;"
    "CREATE INDEX payments_settlement ON payments(settlement_id) WHERE settlement_id IS NOT NULL;"
    "CREATE INDEX refunds_unsettled ON refunds(merchant_id, created_at) WHERE settlement_id IS NULL;"
    "CREATE INDEX refunds_settlement ON refunds(settlement_id) WHERE settlement_id IS NOT NULL;"
    "ALTER TABLE events ADD COLUMN lease_until INTEGER;"
    "ALTER TABLE events ADD COLUMN last_status INTEGER;"
    "ALTER TABLE events ADD COLUMN last_error TEXT;"
    "ALTER TABLE events ADD COLUMN delivered_at TEXT;"
    "CREATE TABLE event_attempts ("
    "  event_id TEXT NOT NULL REFERENCES events(id),"
    "  attempt INTEGER NOT NULL,"
    "  started_at TEXT NOT NULL,"
    "  status INTEGER,"
    "  error TEXT,"
    "  finished_at TEXT,"
    "  PRIMARY KEY (event_id, attempt)) WITHOUT ROWID;",

    /* v5: out_trade_no is the merchant's alone. An order the buyer starts
     * (a static code, or a code this ledger did not make) gets its
     * out_trade_no from the ledger, and is keyed by the buyer's own
     * request_no, unique per buyer. reference is a dynamic code's 62.05.
     * Earlier static-code orders took the buyer's number as out_trade_no:
     * it becomes their request_no where that is unique for the buyer, so
     * a replay after the upgrade still finds them. */
    "ALTER TABLE orders ADD COLUMN request_no TEXT;"
    "ALTER TABLE orders ADD COLUMN reference TEXT;"
    "UPDATE orders SET request_no = out_trade_no WHERE id IN (SELECT MIN(id) FROM orders"
    "  WHERE origin = 'static_code' AND buyer IS NOT NULL GROUP BY buyer, out_trade_no HAVING COUNT(*) = 1);"
    "UPDATE orders SET reference = out_trade_no WHERE origin = 'dynamic_code';"
    "CREATE UNIQUE INDEX orders_buyer_request ON orders(buyer, request_no) WHERE request_no IS NOT NULL;",

    /* v6: the read side (issue 13). Lists walk a merchant's or a buyer's
     * records in id order (ids are time-ordered), so each index ends in
     * id; a wallet statement walks the transfers from and to one wallet,
     * and only wallets', so the payment's fee transfer and every merchant
     * movement stay out of those two (partial) indexes: the pay path pays
     * for as few index entries as the lists need. */
    "CREATE INDEX orders_merchant ON orders(merchant_id, id);"
    "CREATE INDEX orders_buyer ON orders(buyer, id) WHERE buyer IS NOT NULL;"
    "CREATE INDEX payments_merchant ON payments(merchant_id, id);"
    "CREATE INDEX payments_buyer ON payments(buyer, id) WHERE buyer IS NOT NULL;"
    "CREATE INDEX refunds_merchant ON refunds(merchant_id, id);"
    "CREATE INDEX refunds_order ON refunds(order_id, id);"
    "CREATE INDEX events_merchant ON events(merchant_id, id);"
    "CREATE INDEX transfers_from_wallet ON transfers(from_account, id) WHERE substr(from_account, 1, 7) = 'wallet:';"
    "CREATE INDEX transfers_to_wallet ON transfers(to_account, id) WHERE substr(to_account, 1, 7) = 'wallet:';",

    /* v7: the social storefront (issue 15).
     * Accounts gain the kind 'sponsor': a bank's account that funds its
     * card promotions' discounts, which may go below zero (it is the
     * bank, settled with the platform outside this ledger). SQLite cannot
     * change a CHECK, so the table is copied whole, id for id (foreign
     * keys are off while a migration runs). */
    "CREATE TABLE accounts_v7 ("
    "  id TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('wallet','card','pending','deposit','fees','payout','sponsor')),"
    "  owner TEXT NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  balance INTEGER NOT NULL DEFAULT 0 CHECK (typeof(balance) = 'integer'),"
    "  created_at TEXT NOT NULL,"
    "  CHECK (balance >= 0 OR kind IN ('card','pending','payout','sponsor'))) WITHOUT ROWID;"
    "INSERT INTO accounts_v7(id, kind, owner, currency, balance, created_at)"
    "  SELECT id, kind, owner, currency, balance, created_at FROM accounts;"
    "DROP TABLE accounts;"
    "ALTER TABLE accounts_v7 RENAME TO accounts;"

    /* Merchant approval: applied, approved, suspended, with why and when.
     * Merchants that took payments before approval existed stay approved.
     * settlement_reason says why a merchant's mode was changed for it (a
     * deposit its payouts could not make whole). */
    "ALTER TABLE merchants ADD COLUMN state TEXT NOT NULL DEFAULT 'approved'"
    "  CHECK (state IN ('applied','approved','suspended'));"
    "ALTER TABLE merchants ADD COLUMN state_reason TEXT;"
    "ALTER TABLE merchants ADD COLUMN state_at TEXT;"
    "ALTER TABLE merchants ADD COLUMN settlement_reason TEXT;"

    /* A merchant's catalog. A product's code carries the SKU, never the
     * price: every scan orders at the catalog's price of the moment.
     * stock NULL: not counted; sold counts units paid. */
    "CREATE TABLE products ("
    "  merchant_id TEXT NOT NULL REFERENCES merchants(id),"
    "  sku TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  price INTEGER NOT NULL CHECK (typeof(price) = 'integer' AND price > 0),"
    "  currency TEXT NOT NULL,"
    "  stock INTEGER CHECK (stock IS NULL OR (typeof(stock) = 'integer' AND stock >= 0)),"
    "  sold INTEGER NOT NULL DEFAULT 0 CHECK (typeof(sold) = 'integer' AND sold >= 0),"
    "  removed_at TEXT,"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL,"
    "  PRIMARY KEY (merchant_id, sku)) WITHOUT ROWID;"
    "ALTER TABLE orders ADD COLUMN product TEXT;"
    "ALTER TABLE orders ADD COLUMN quantity INTEGER CHECK (quantity IS NULL OR quantity > 0);"

    /* Card-type promotions: data, funded by a sponsor's account. spent
     * never passes budget (the schema refuses it, whatever the writer);
     * promo_uses counts each buyer's uses for the per-user limit. */
    "CREATE TABLE promos ("
    "  id TEXT PRIMARY KEY,"
    "  sponsor TEXT NOT NULL,"
    "  issuer TEXT,"
    "  bin_prefix TEXT,"
    "  card_type TEXT NOT NULL CHECK (card_type IN ('credit','debit')),"
    "  merchant_id TEXT REFERENCES merchants(id),"
    "  discount_ppm INTEGER CHECK (discount_ppm > 0 AND discount_ppm <= 1000000),"
    "  off INTEGER CHECK (off > 0),"
    "  min_amount INTEGER NOT NULL DEFAULT 0 CHECK (min_amount >= 0),"
    "  per_user INTEGER CHECK (per_user > 0),"
    "  budget INTEGER CHECK (budget > 0),"
    "  spent INTEGER NOT NULL DEFAULT 0"
    "    CHECK (typeof(spent) = 'integer' AND spent >= 0 AND (budget IS NULL OR spent <= budget)),"
    "  uses INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),"
    "  currency TEXT NOT NULL,"
    "  starts_at INTEGER NOT NULL,"
    "  ends_at INTEGER NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL,"
    "  removed_at TEXT,"
    "  CHECK ((discount_ppm IS NULL) <> (off IS NULL)),"
    "  CHECK ((issuer IS NULL) <> (bin_prefix IS NULL)),"
    "  CHECK (starts_at < ends_at));"
    "CREATE TABLE promo_uses ("
    "  promo_id TEXT NOT NULL REFERENCES promos(id),"
    "  uid TEXT NOT NULL,"
    "  uses INTEGER NOT NULL CHECK (uses >= 0),"
    "  PRIMARY KEY (promo_id, uid)) WITHOUT ROWID;"
    /* A payment's amount stays the merchant's full price; discount is what
     * the sponsor paid of it. The card's brand, type and issuer, never
     * its number. */
    "ALTER TABLE payments ADD COLUMN discount INTEGER NOT NULL DEFAULT 0 CHECK (discount >= 0);"
    "ALTER TABLE payments ADD COLUMN promo_id TEXT;"
    "ALTER TABLE payments ADD COLUMN card_brand TEXT;"
    "ALTER TABLE payments ADD COLUMN card_type TEXT;"
    "ALTER TABLE payments ADD COLUMN card_issuer TEXT;"
    "ALTER TABLE refunds ADD COLUMN discount_returned INTEGER NOT NULL DEFAULT 0 CHECK (discount_returned >= 0);"
    "ALTER TABLE settlements ADD COLUMN discounts INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE settlements ADD COLUMN discounts_returned INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE settlements ADD COLUMN deposit_topup INTEGER NOT NULL DEFAULT 0 CHECK (deposit_topup >= 0);"

    /* Followers and the seller's messages: a merchant lists its followers;
     * a message is sent once per request_no, to each recipient as one
     * event for the platform (skipped: those past their day's limit, so a
     * replay answers the same record); message_quota counts a day's messages per
     * merchant and per buyer, so the limits hold under concurrent senders. */
    "CREATE INDEX follows_merchant ON follows(merchant_id, created_at, uid);"
    "CREATE TABLE messages ("
    "  id TEXT PRIMARY KEY,"
    "  merchant_id TEXT NOT NULL REFERENCES merchants(id),"
    "  request_no TEXT NOT NULL,"
    "  audience TEXT NOT NULL,"
    "  text TEXT NOT NULL,"
    "  recipients INTEGER NOT NULL CHECK (recipients >= 0),"
    "  skipped INTEGER NOT NULL DEFAULT 0 CHECK (skipped >= 0),"
    "  created_at TEXT NOT NULL,"
    "  UNIQUE (merchant_id, request_no));"
    "CREATE TABLE message_quota ("
    "  day TEXT NOT NULL,"
    "  party TEXT NOT NULL,"
    "  sent INTEGER NOT NULL CHECK (sent >= 0),"
    "  PRIMARY KEY (day, party)) WITHOUT ROWID;",

    /* v8: what settlement has still to take is a queue beside payments,
     * filled in the payment's own commit by a trigger, and emptied by the
     * settlement that marks the payment: marking then changes no index of
     * payments (on PostgreSQL the update stays on its page, HOT, instead
     * of a new entry in every index). A settlement keeps the first and
     * last id of its payments, by which its payments are found within the
     * merchant's (payments_merchant) instead of by an index on the mark. */
    "CREATE TABLE payments_due ("
    "  merchant_id TEXT NOT NULL,"
    "  created_at TEXT NOT NULL,"
    "  payment_id TEXT NOT NULL,"
    "  PRIMARY KEY (merchant_id, created_at, payment_id)) WITHOUT ROWID;"
    "CREATE TRIGGER payments_due_add AFTER INSERT ON payments WHEN NEW.settlement_id IS NULL BEGIN"
    "  INSERT INTO payments_due(merchant_id, created_at, payment_id) VALUES (NEW.merchant_id, NEW.created_at, NEW.id);"
    "  END;"
    "INSERT INTO payments_due(merchant_id, created_at, payment_id)"
    "  SELECT merchant_id, created_at, id FROM payments WHERE settlement_id IS NULL;"
    "ALTER TABLE settlements ADD COLUMN first_payment TEXT;"
    "ALTER TABLE settlements ADD COLUMN last_payment TEXT;"
    "UPDATE settlements SET first_payment = (SELECT MIN(id) FROM payments WHERE settlement_id = settlements.id),"
    "  last_payment = (SELECT MAX(id) FROM payments WHERE settlement_id = settlements.id);"
    "DROP INDEX payments_unsettled;"
    "DROP INDEX payments_settlement;",

    /* v9: the micro-wallet's transfers and withdrawals, terminals, buyers'
     * payment codes (issue 16).
     * Accounts gain the kind 'clearing': what the platform holds for a
     * while on someone's behalf, never below zero; withdrawals wait in
     * "clearing:withdrawals.<currency>" until the payout file takes them
     * to the card. A wallet transfer keeps its note beside the ledger's
     * transfer; wallet_daily counts what a wallet moved out on a business
     * day, by kind, so one conditional upsert keeps the day's limit under
     * concurrent requests. */
    "CREATE TABLE accounts_v9 ("
    "  id TEXT PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('wallet','card','pending','deposit','fees','payout','sponsor','clearing')),"
    "  owner TEXT NOT NULL,"
    "  currency TEXT NOT NULL,"
    "  balance INTEGER NOT NULL DEFAULT 0 CHECK (typeof(balance) = 'integer'),"
    "  created_at TEXT NOT NULL,"
    "  CHECK (balance >= 0 OR kind IN ('card','pending','payout','sponsor'))) WITHOUT ROWID;"
    "INSERT INTO accounts_v9(id, kind, owner, currency, balance, created_at)"
    "  SELECT id, kind, owner, currency, balance, created_at FROM accounts;"
    "DROP TABLE accounts;"
    "ALTER TABLE accounts_v9 RENAME TO accounts;"
    "CREATE TABLE wallet_transfers ("
    "  id TEXT PRIMARY KEY,"
    "  from_wallet TEXT NOT NULL REFERENCES wallets(id),"
    "  to_wallet TEXT NOT NULL REFERENCES wallets(id),"
    "  amount INTEGER NOT NULL CHECK (amount > 0),"
    "  currency TEXT NOT NULL,"
    "  request_no TEXT NOT NULL,"
    "  note TEXT,"
    "  transfer_id TEXT NOT NULL UNIQUE,"
    "  created_at TEXT NOT NULL,"
    "  UNIQUE (from_wallet, request_no),"
    "  CHECK (from_wallet <> to_wallet)) WITHOUT ROWID;"
    "CREATE TABLE withdrawals ("
    "  id TEXT PRIMARY KEY,"
    "  wallet_id TEXT NOT NULL REFERENCES wallets(id),"
    "  card_id TEXT NOT NULL REFERENCES cards(id),"
    "  amount INTEGER NOT NULL CHECK (amount > 0),"
    "  currency TEXT NOT NULL,"
    "  request_no TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('pending','sent','failed')),"
    "  transfer_id TEXT NOT NULL UNIQUE,"
    "  created_at TEXT NOT NULL,"
    "  payout_date TEXT,"
    "  failed_at TEXT,"
    "  reason TEXT,"
    "  UNIQUE (wallet_id, request_no)) WITHOUT ROWID;"
    "CREATE INDEX withdrawals_pending ON withdrawals(created_at) WHERE state = 'pending';"
    "CREATE INDEX withdrawals_payout ON withdrawals(payout_date) WHERE payout_date IS NOT NULL;"
    "CREATE TABLE wallet_daily ("
    "  day TEXT NOT NULL,"
    "  wallet_id TEXT NOT NULL,"
    "  kind TEXT NOT NULL CHECK (kind IN ('transfer','withdrawal')),"
    "  total INTEGER NOT NULL CHECK (total >= 0),"
    "  PRIMARY KEY (wallet_id, day, kind)) WITHOUT ROWID;"
    /* A merchant's tills and vending machines (EMV 62.07), which its
     * codes and orders name. */
    "CREATE TABLE terminals ("
    "  merchant_id TEXT NOT NULL REFERENCES merchants(id),"
    "  terminal_id TEXT NOT NULL,"
    "  name TEXT,"
    "  created_at TEXT NOT NULL,"
    "  removed_at TEXT,"
    "  PRIMARY KEY (merchant_id, terminal_id)) WITHOUT ROWID;"
    "ALTER TABLE codes ADD COLUMN terminal_id TEXT;"
    "ALTER TABLE orders ADD COLUMN terminal_id TEXT;"
    /* Buyers' one-time payment codes (buyercodes.h), by their token's
     * keyed hash; order_id once charged. */
    "CREATE TABLE buyer_codes ("
    "  token_hash TEXT PRIMARY KEY,"
    "  wallet_id TEXT NOT NULL REFERENCES wallets(id),"
    "  created_at TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  order_id TEXT REFERENCES orders(id),"
    "  used_at TEXT) WITHOUT ROWID;",
};

#endif
