/*
 * wpay-init: create the ledger and the key files, or check them. Safe to
 * run again: it makes only what is missing, never overwrites a key, and
 * refuses key files that group or others can read, and a key directory
 * they can write (see keys.h). Prints one "init"
 * record; with --public-key prints the platform's signing public key (PEM)
 * instead, for wallets that verify codes offline. With --import FILE it
 * also moves the SQLite ledger FILE, whole, into the PostgreSQL ledger
 * --db names, which must hold no data yet (see import.h): all of it in
 * one transaction, proved by counting and by the ledger check, or nothing.
 */
#include <errno.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buyercodes.h"
#include "cli.h"
#include "clock.h"
#include "crypto.h"
#include "import.h"
#include "keys.h"
#include "netaddr.h"
#include "period.h"
#include "records.h"
#include "secret.h"
#include "settle.h"
#include "social.h"
#include "store.h"
#include "wallets.h"

#include "util.h"

static const char usage[] =
    "wpay-init [--db path] [--pin-tries n] [--pin-lock duration] [--refund-window days] "
    "[--settle-tz zone] [--cutoff-hour hour] [--allow-private-notify] [--import file]\n"
    "                 [--platform-notify-url url] [--messages-per-merchant n] "
    "[--messages-per-buyer n]\n"
    "                 [--transfer-limit limit] [--withdrawal-limit limit] [--code-no-pin-limit limit]\n"
    "       wpay-init [--db path] --public-key\n";

enum {
	OPT_PIN_TRIES = OPT_FIRST_PROGRAM_OPTION,
	OPT_PIN_LOCK,
	OPT_PUBLIC_KEY,
	OPT_REFUND_WINDOW,
	OPT_SETTLE_TZ,
	OPT_CUTOFF_HOUR,
	OPT_ALLOW_PRIVATE_NOTIFY,
	OPT_IMPORT,
	OPT_PLATFORM_NOTIFY_URL,
	OPT_MESSAGES_PER_MERCHANT,
	OPT_MESSAGES_PER_BUYER,
	OPT_TRANSFER_LIMIT,
	OPT_WITHDRAWAL_LIMIT,
	OPT_CODE_NO_PIN_LIMIT
};

static const struct option options[] = {
    CLI_COMMON_OPTIONS,
    {"pin-tries", required_argument, NULL, OPT_PIN_TRIES},
    {"pin-lock", required_argument, NULL, OPT_PIN_LOCK},
    {"public-key", no_argument, NULL, OPT_PUBLIC_KEY},
    {"refund-window", required_argument, NULL, OPT_REFUND_WINDOW},
    {"settle-tz", required_argument, NULL, OPT_SETTLE_TZ},
    {"cutoff-hour", required_argument, NULL, OPT_CUTOFF_HOUR},
    {"allow-private-notify", no_argument, NULL, OPT_ALLOW_PRIVATE_NOTIFY},
    {"import", required_argument, NULL, OPT_IMPORT},
    {"platform-notify-url", required_argument, NULL, OPT_PLATFORM_NOTIFY_URL},
    {"messages-per-merchant", required_argument, NULL, OPT_MESSAGES_PER_MERCHANT},
    {"messages-per-buyer", required_argument, NULL, OPT_MESSAGES_PER_BUYER},
    {"transfer-limit", required_argument, NULL, OPT_TRANSFER_LIMIT},
    {"withdrawal-limit", required_argument, NULL, OPT_WITHDRAWAL_LIMIT},
    {"code-no-pin-limit", required_argument, NULL, OPT_CODE_NO_PIN_LIMIT},
    {NULL, 0, NULL, 0},
};

/* The long option that has value opt. */
static const char *longopts_name(int opt)
{
	for (const struct option *o = options; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

static int print_public_key(const char *keys_dir)
{
	struct err e;
	char kid[KEY_ID_MAX];
	EVP_PKEY *key;
	int rc;
	/* Checked as every reader checks it: a key handed to wallets must be ours. */
	if ((rc = keys_check_dir(keys_dir, &e)) != 0 || (rc = keys_signing_id(keys_dir, kid, &e)) != 0 ||
	    (rc = keys_load_public(keys_dir, kid, &key, &e)) != 0)
		err_die(rc, "%s", e.msg);
	bool ok = PEM_write_PUBKEY(stdout, key) == 1;
	EVP_PKEY_free(key);
	return ok ? 0 : EX_IOERR;
}

/* An imported ledger's PIN hashes, card fingerprints, codes and webhooks
 * were made with its keys: new ones would silently make them useless. */
static void need_keys(const char *keys_dir)
{
	struct err e;
	unsigned char secret[KEY_SECRET_LEN];
	char kid[KEY_ID_MAX];
	int rc;
	if ((rc = keys_check_dir(keys_dir, &e)) != 0 ||
	    (rc = keys_read_secret(keys_dir, KEY_PIN_PEPPER, secret, &e)) != 0 ||
	    (rc = keys_read_secret(keys_dir, KEY_CARD_FINGERPRINT, secret, &e)) != 0 ||
	    (rc = keys_signing_id(keys_dir, kid, &e)) != 0)
		err_die(rc,
		        "%s; --import needs the key directory the SQLite ledger was used with (its PIN hashes, card "
		        "fingerprints, codes and webhook secrets were made with those keys): copy it to %s first",
		        e.msg, keys_dir);
	crypto_wipe(secret, sizeof secret);
}

/* The social platform's URL, by the rules of a merchant's notify URL (the
 * ledger's --allow-private-notify, set by now), and its signing secret. */
static void set_platform_url(struct store *st, const char *keys_dir, const char *url, json_t *created)
{
	char *allow = store_setting(st, NETADDR_ALLOW_SETTING, "0");
	char why[512];
	bool refused = netaddr_check_url(url, strcmp(allow, "1") == 0, why, sizeof why) != NULL;
	free(allow);
	if (refused) {
		store_rollback(st);
		err_die(EX_USAGE, "--platform-notify-url: %s", why);
	}
	struct err e = {0};
	int rc = keys_ensure_secret(keys_dir, SOCIAL_KEY, created, &e);
	if (rc) {
		store_rollback(st);
		err_die(rc, "%s", e.msg);
	}
	store_set_setting(st, SOCIAL_URL_SETTING, url);
}

/* The messages' settings in the init record. */
static void social_settings(struct store *st, json_t *rec)
{
	char *url = store_setting(st, SOCIAL_URL_SETTING, "");
	char *per_merchant = store_setting(st, SOCIAL_PER_MERCHANT_SETTING, SOCIAL_PER_MERCHANT_DEFAULT);
	char *per_buyer = store_setting(st, SOCIAL_PER_BUYER_SETTING, SOCIAL_PER_BUYER_DEFAULT);
	json_object_set_new(rec, "platform_notify_url", *url ? json_string(url) : json_null());
	json_object_set_new(rec, "messages_per_merchant", json_integer(strtoll(per_merchant, NULL, 10)));
	json_object_set_new(rec, "messages_per_buyer", json_integer(strtoll(per_buyer, NULL, 10)));
	free(url);
	free(per_merchant);
	free(per_buyer);
}

int main(int argc, char **argv)
{
	cli_init("wpay-init");
	int opt;
	const char *tries = NULL, *refund_window = NULL, *settle_tz = NULL, *cutoff_hour = NULL, *import = NULL;
	const char *platform_url = NULL, *per_merchant = NULL, *per_buyer = NULL;
	char lock_secs[32] = "";
	/* Daily limits, each option a setting (name, value), as many as given. */
	struct {
		char name[40], value[MONEY_TEXT_MAX];
	} limits[16];
	size_t nlimits = 0;
	bool public_key = false, allow_private_notify = false;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (cli_common_option(opt, usage))
			continue;
		switch (opt) {
		case OPT_PIN_TRIES:
			cli_number(usage, "--pin-tries", optarg, 1, 100);
			tries = optarg;
			break;
		case OPT_PIN_LOCK: {
			int64_t ms;
			if (!clock_parse_duration(optarg, &ms) || ms < 60000 || ms > 30LL * 86400000)
				cli_usage_error(
				    usage, "--pin-lock takes a duration from 1m to 30d such as 3h, not '%s'", optarg);
			bufprintf(lock_secs, sizeof lock_secs, "%lld", (long long)(ms / 1000));
			break;
		}
		case OPT_PUBLIC_KEY: public_key = true; break;
		case OPT_REFUND_WINDOW:
			cli_number(usage, "--refund-window", optarg, 1, 3650);
			refund_window = optarg;
			break;
		case OPT_SETTLE_TZ: {
			const char *why = period_check_tz(optarg);
			if (why)
				cli_usage_error(usage, "--settle-tz '%s': %s", optarg, why);
			settle_tz = optarg;
			break;
		}
		case OPT_CUTOFF_HOUR:
			cli_number(usage, "--cutoff-hour", optarg, 0, 23);
			cutoff_hour = optarg;
			break;
		case OPT_ALLOW_PRIVATE_NOTIFY: allow_private_notify = true; break;
		case OPT_IMPORT: import = optarg; break;
		case OPT_PLATFORM_NOTIFY_URL:
			if (strlen(optarg) > 512)
				cli_usage_error(usage, "--platform-notify-url is longer than 512 bytes");
			platform_url = optarg;
			break;
		case OPT_MESSAGES_PER_MERCHANT:
			cli_number(usage, "--messages-per-merchant", optarg, 1, 1000);
			per_merchant = optarg;
			break;
		case OPT_TRANSFER_LIMIT:
		case OPT_WITHDRAWAL_LIMIT:
		case OPT_CODE_NO_PIN_LIMIT: {
			const char *kind = opt == OPT_TRANSFER_LIMIT     ? "transfer"
			                   : opt == OPT_WITHDRAWAL_LIMIT ? "withdrawal"
			                                                 : "code_no_pin";
			if (nlimits == ARRAY_LEN(limits))
				cli_usage_error(usage, "at most %zu daily limits at once", ARRAY_LEN(limits));
			const char *why =
			    wallets_limit_setting(kind, optarg, limits[nlimits].name, limits[nlimits].value);
			if (why)
				cli_usage_error(usage, "--%s '%s': %s", longopts_name(opt), optarg, why);
			nlimits++;
			break;
		}
		case OPT_MESSAGES_PER_BUYER:
			cli_number(usage, "--messages-per-buyer", optarg, 1, 1000);
			per_buyer = optarg;
			break;
		}
	}
	if (optind < argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (import && public_key)
		cli_usage_error(usage, "--import and --public-key do not go together");
	if (import && store_is_url(import))
		cli_usage_error(usage, "--import takes an SQLite ledger file, not '%s'", import);

	secret_protect_process();
	char *keys_dir = cli_keys_dir();
	if (public_key) {
		int rc = print_public_key(keys_dir);
		free(keys_dir);
		return rc ? rc : rec_writer_close() ? 0 : EX_IOERR;
	}

	char *db = cli_db_path();
	if (import && !store_is_url(db))
		cli_usage_error(
		    usage,
		    "--import moves a ledger into PostgreSQL: --db (or WPAY_DB) must be a postgresql:// URI, not '%s'",
		    db);
	struct err e = {0};
	struct store *src = NULL;
	if (import) {
		need_keys(keys_dir);
		/* A file that is not there is never made. */
		struct stat sb;
		if (stat(import, &sb) != 0)
			err_die(EX_NOINPUT, "cannot import %s: %s", import, strerror(errno));
		/* Brought to the current schema first, as every program does. */
		int rc = store_open(import, false, &src, &e);
		if (rc)
			err_die(rc, "cannot import %s: %s", import, e.msg);
	}
	json_t *created = json_array();
	int rc = keys_create(keys_dir, created, &e);
	if (rc)
		err_die(rc, "%s", e.msg);
	struct store *st;
	if ((rc = store_open(db, true, &st, &e)) != 0)
		err_die(rc, "%s", e.msg);
	if (store_created(st))
		json_array_append_new(created, json_string(db));
	store_begin(st);
	json_t *tables = NULL;
	if (src) {
		if ((rc = import_ledger(st, src, &tables, &e)) != 0) {
			store_rollback(st);
			err_die(rc, "cannot import %s into %s: %s; nothing was imported", import, db, e.msg);
		}
		store_close(src);
	}
	/* What the command line says wins over what was imported. */
	if (tries)
		store_set_setting(st, "pin_max_tries", tries);
	if (*lock_secs)
		store_set_setting(st, "pin_lock_seconds", lock_secs);
	if (refund_window)
		store_set_setting(st, "refund_window_days", refund_window);
	if (settle_tz)
		store_set_setting(st, "settle_tz", settle_tz);
	if (cutoff_hour)
		store_set_setting(st, "settle_cutoff_hour", cutoff_hour);
	if (allow_private_notify)
		store_set_setting(st, NETADDR_ALLOW_SETTING, "1");
	if (per_merchant)
		store_set_setting(st, SOCIAL_PER_MERCHANT_SETTING, per_merchant);
	if (per_buyer)
		store_set_setting(st, SOCIAL_PER_BUYER_SETTING, per_buyer);
	for (size_t i = 0; i < nlimits; i++)
		store_set_setting(st, limits[i].name, limits[i].value);
	if (platform_url)
		set_platform_url(st, keys_dir, platform_url, created);
	char *tz = store_setting(st, "settle_tz", SETTLE_TZ_DEFAULT);
	char *hour = store_setting(st, "settle_cutoff_hour", "0");
	char *max_tries = store_setting(st, "pin_max_tries", "3");
	char *window = store_setting(st, "refund_window_days", "90");
	char *lock = store_setting(st, "pin_lock_seconds", "10800");
	char *allow = store_setting(st, NETADDR_ALLOW_SETTING, "0");
	store_commit(st);

	char kid[KEY_ID_MAX];
	if ((rc = keys_signing_id(keys_dir, kid, &e)) != 0)
		err_die(rc, "%s", e.msg);
	char *pub = keys_public_path(keys_dir, kid);
	json_t *rec =
	    json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:I, s:I, s:I, s:s, s:I, s:o}", "type", "init", "db", db, "keys",
	              keys_dir, "schema", store_schema_version(st), "signing_key_id", kid, "public_key", pub,
	              "pin_max_tries", (json_int_t)strtoll(max_tries, NULL, 10), "pin_lock_seconds",
	              (json_int_t)strtoll(lock, NULL, 10), "refund_window_days", (json_int_t)strtoll(window, NULL, 10),
	              "settle_tz", tz, "settle_cutoff_hour", (json_int_t)strtoll(hour, NULL, 10), "created", created);
	json_object_set_new(rec, "allow_private_notify", json_boolean(strcmp(allow, "1") == 0));
	social_settings(st, rec);
	json_object_set_new(rec, "daily_limits", wallets_limits_json(st));
	json_object_set_new(rec, "code_no_pin_limit", wallets_limit_json(st, "code_no_pin", BUYERCODE_NO_PIN_DEFAULT));
	if (tables)
		json_object_set_new(rec, "imported", json_pack("{s:s, s:o}", "from", import, "tables", tables));
	rec_writer_init();
	bool ok = rec_emit(rec);
	json_decref(rec);
	store_close(st);
	free(max_tries);
	free(lock);
	free(window);
	free(tz);
	free(hour);
	free(allow);
	free(pub);
	free(db);
	free(keys_dir);
	return rec_writer_close() && ok ? 0 : EX_IOERR;
}
