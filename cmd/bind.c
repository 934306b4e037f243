/*
 * wpay-bind: who is who. Users, wallets and their binding, bank cards,
 * payment PINs, merchants, their deposits and terminals, wallet top-ups,
 * transfers and withdrawals.
 *
 * With a command (`wpay-bind user add 1001 --nickname Lu`) it does one
 * thing; without one it reads JSON-lines requests on stdin, one per line
 * ({"type":"user","op":"add","uid":"1001","nickname":"Lu"}), and answers
 * each with one record (a list with several) on stdout, in order, carrying
 * the request's "ref". Both forms build the same request, so they behave
 * the same. PINs come only from the terminal or --pin-fd, card numbers from
 * the terminal, --pan-fd, or a record's "pan" field; neither is printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "batch.h"
#include "cards.h"
#include "cli.h"
#include "crypto.h"
#include "ctx.h"
#include "lists.h"
#include "merchants.h"
#include "money.h"
#include "pins.h"
#include "products.h"
#include "promos.h"
#include "secret.h"
#include "social.h"
#include "terminals.h"
#include "utf8.h"
#include "wallets.h"

#include "util.h"

static const char usage[] =
    "wpay-bind [--db path] [--pin-fd n] [--pan-fd n] [--max-line bytes]\n"
    "       wpay-bind [options] user add|update uid --nickname name\n"
    "       wpay-bind [options] user show|unbind uid\n"
    "       wpay-bind [options] user bind uid wallet\n"
    "       wpay-bind [options] user list\n"
    "       wpay-bind [options] show uid\n"
    "       wpay-bind [options] wallet add login [--currency code]\n"
    "       wpay-bind [options] wallet show|balance wallet\n"
    "       wpay-bind [options] wallet topup wallet --amount amount --request-no no [--card card] [--currency code]\n"
    "       wpay-bind [options] wallet transfer wallet to_wallet --amount amount --request-no no [--note text]\n"
    "                 [--currency code]\n"
    "       wpay-bind [options] wallet withdraw wallet --amount amount --request-no no [--card card]\n"
    "                 [--currency code]\n"
    "       wpay-bind [options] wallet list\n"
    "       wpay-bind [options] wallet statement wallet [--since time] [--until time] [--limit n] [--after transfer]\n"
    "       wpay-bind [options] card add wallet\n"
    "       wpay-bind [options] card remove|default|show card\n"
    "       wpay-bind [options] card list [wallet]\n"
    "       wpay-bind [options] pin set|change wallet\n"
    "       wpay-bind [options] merchant add merchant_no --name name --city city [--kind kind] [--verified]\n"
    "                 [--mcc mcc] [--country cc] [--currency code] [--fee-rate rate] [--notify-url url]\n"
    "                 [--bank-account account] [--networks list]\n"
    "       wpay-bind [options] merchant update merchant [--name name] [--city city] [--kind kind] [--verified]\n"
    "                 [--mcc mcc] [--country cc] [--fee-rate rate] [--notify-url url] [--bank-account account]\n"
    "                 [--networks list] [--settlement mode]\n"
    "       wpay-bind [options] merchant show|balance merchant\n"
    "       wpay-bind [options] merchant deposit|withdraw merchant --amount amount --request-no no [--currency code]\n"
    "       wpay-bind [options] merchant list\n"
    "       wpay-bind [options] merchant terminal add merchant terminal_id [--name name]\n"
    "       wpay-bind [options] merchant terminal remove merchant terminal_id\n"
    "       wpay-bind [options] merchant terminal list merchant\n"
    "       wpay-bind [options] merchant approve merchant [--reason text]\n"
    "       wpay-bind [options] merchant suspend merchant --reason text\n"
    "       wpay-bind [options] product add|update merchant sku [--name name] [--price price] [--stock n|none]\n"
    "                 [--currency code]\n"
    "       wpay-bind [options] product remove|show merchant sku\n"
    "       wpay-bind [options] product list merchant\n"
    "       wpay-bind [options] promo add promo_id --sponsor bank [--issuer name] [--bin prefix] --card-type type\n"
    "                 [--merchant merchant] [--all] [--discount rate] [--off amount] [--min amount]\n"
    "                 [--per-user n] [--budget amount] --from time --until time [--currency code]\n"
    "       wpay-bind [options] promo show|remove promo_id\n"
    "       wpay-bind [options] promo list\n"
    "       wpay-bind [options] merchant followers merchant [--limit n] [--after uid]\n"
    "       wpay-bind [options] user follow|unfollow uid merchant\n";

enum {
	OPT_PIN_FD = OPT_FIRST_PROGRAM_OPTION,
	OPT_PAN_FD,
	OPT_MAX_LINE,
	OPT_AMOUNT,
	OPT_PRICE,
	OPT_STOCK,
	OPT_FIELD, /* options that become a request field of the same name */
};

static const struct option options[] = {
    CLI_COMMON_OPTIONS,
    {"pin-fd", required_argument, NULL, OPT_PIN_FD},
    {"pan-fd", required_argument, NULL, OPT_PAN_FD},
    {"max-line", required_argument, NULL, OPT_MAX_LINE},
    {"amount", required_argument, NULL, OPT_AMOUNT},
    {"price", required_argument, NULL, OPT_PRICE},
    {"stock", required_argument, NULL, OPT_STOCK},
    {"nickname", required_argument, NULL, OPT_FIELD},
    {"note", required_argument, NULL, OPT_FIELD},
    {"currency", required_argument, NULL, OPT_FIELD},
    {"request-no", required_argument, NULL, OPT_FIELD},
    {"card", required_argument, NULL, OPT_FIELD},
    {"name", required_argument, NULL, OPT_FIELD},
    {"city", required_argument, NULL, OPT_FIELD},
    {"kind", required_argument, NULL, OPT_FIELD},
    {"mcc", required_argument, NULL, OPT_FIELD},
    {"country", required_argument, NULL, OPT_FIELD},
    {"fee-rate", required_argument, NULL, OPT_FIELD},
    {"notify-url", required_argument, NULL, OPT_FIELD},
    {"bank-account", required_argument, NULL, OPT_FIELD},
    {"settlement", required_argument, NULL, OPT_FIELD},
    {"networks", required_argument, NULL, OPT_FIELD},
    {"verified", no_argument, NULL, OPT_FIELD},
    {"reason", required_argument, NULL, OPT_FIELD},
    {"sponsor", required_argument, NULL, OPT_FIELD},
    {"issuer", required_argument, NULL, OPT_FIELD},
    {"bin", required_argument, NULL, OPT_FIELD},
    {"card-type", required_argument, NULL, OPT_FIELD},
    {"merchant", required_argument, NULL, OPT_FIELD},
    {"all", no_argument, NULL, OPT_FIELD},
    {"discount", required_argument, NULL, OPT_FIELD},
    {"off", required_argument, NULL, OPT_FIELD},
    {"min", required_argument, NULL, OPT_FIELD},
    {"per-user", required_argument, NULL, OPT_FIELD},
    {"budget", required_argument, NULL, OPT_FIELD},
    {"from", required_argument, NULL, OPT_FIELD},
    {"until", required_argument, NULL, OPT_FIELD},
    {"limit", required_argument, NULL, OPT_FIELD},
    {"after", required_argument, NULL, OPT_FIELD},
    {NULL, 0, NULL, 0},
};

/* type + op -> handler, and the command line's positional arguments. */
static const struct command {
	const char *type, *op;
	wpay_handler fn;
	const char *arg1, *arg2; /* request fields the positionals fill */
	int min_args;
} commands[] = {
    {"user", "add", accounts_user_add, "uid", NULL, 1},
    {"user", "update", accounts_user_update, "uid", NULL, 1},
    {"user", "show", accounts_user_show, "uid", NULL, 1},
    {"user", "unbind", accounts_user_unbind, "uid", NULL, 1},
    {"user", "bind", accounts_user_bind, "uid", "wallet", 2},
    {"user", "list", accounts_user_list, NULL, NULL, 0},
    {"pair", "show", accounts_pair_show, "uid", NULL, 1},
    {"wallet", "add", accounts_wallet_add, "login", NULL, 1},
    {"wallet", "show", accounts_wallet_show, "wallet", NULL, 1},
    {"wallet", "balance", accounts_wallet_balance, "wallet", NULL, 1},
    {"wallet", "topup", accounts_wallet_topup, "wallet", NULL, 1},
    {"wallet", "list", accounts_wallet_list, NULL, NULL, 0},
    {"wallet", "transfer", wallets_transfer, "wallet", "to", 2},
    {"wallet", "withdraw", wallets_withdraw, "wallet", NULL, 1},
    {"card", "add", cards_add, "wallet", NULL, 1},
    {"card", "remove", cards_remove, "card", NULL, 1},
    {"card", "default", cards_default, "card", NULL, 1},
    {"card", "show", cards_show, "card", NULL, 1},
    {"card", "list", cards_list, "wallet", NULL, 0},
    {"pin", "set", pins_set, "wallet", NULL, 1},
    {"pin", "change", pins_change, "wallet", NULL, 1},
    {"merchant", "add", merchants_add, "merchant_no", NULL, 1},
    {"merchant", "update", merchants_update, "merchant", NULL, 1},
    {"merchant", "show", merchants_show, "merchant", NULL, 1},
    {"merchant", "balance", merchants_balance, "merchant", NULL, 1},
    {"merchant", "deposit", merchants_deposit, "merchant", NULL, 1},
    {"merchant", "withdraw", merchants_withdraw, "merchant", NULL, 1},
    {"merchant", "list", merchants_list, NULL, NULL, 0},
    {"terminal", "add", terminals_add, "merchant", "terminal", 2},
    {"terminal", "remove", terminals_remove, "merchant", "terminal", 2},
    {"terminal", "list", terminals_list, "merchant", NULL, 1},
    {"merchant", "approve", merchants_approve, "merchant", NULL, 1},
    {"merchant", "suspend", merchants_suspend, "merchant", NULL, 1},
    {"product", "add", products_add, "merchant", "sku", 2},
    {"product", "update", products_update, "merchant", "sku", 2},
    {"product", "remove", products_remove, "merchant", "sku", 2},
    {"product", "show", products_show, "merchant", "sku", 2},
    {"product", "list", products_list, "merchant", NULL, 1},
    {"promo", "add", promos_add, "id", NULL, 1},
    {"promo", "show", promos_show, "id", NULL, 1},
    {"promo", "remove", promos_remove, "id", NULL, 1},
    {"promo", "list", promos_list, NULL, NULL, 0},
    {"merchant", "followers", social_followers, "merchant", NULL, 1},
    {"user", "follow", social_follow, "uid", "merchant", 2},
    {"user", "unfollow", social_unfollow, "uid", "merchant", 2},
};

static const struct command *find_command(const char *type, const char *op)
{
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		if (strcmp(commands[i].type, type) == 0 && strcmp(commands[i].op, op) == 0)
			return &commands[i];
	return NULL;
}

/* An argument as a JSON string: one that is not UTF-8 would silently be
 * no field at all, and the error then about a missing one. */
static json_t *arg_string(const char *dashes, const char *what, const char *s)
{
	size_t bad;
	if (!utf8_valid(s, strlen(s), &bad))
		cli_usage_error(usage, "%s%s is not valid UTF-8 (byte %zu)", dashes, what, bad);
	return json_string(s);
}

static int handle(void *arg, json_t *req, json_t **out, struct err *e)
{
	struct wpay_ctx *c = arg;
	const char *type, *op = "add";
	if (rec_get_str(req, "type", true, 16, &type, e) || rec_get_str(req, "op", false, 16, &op, e))
		return BATCH_FAIL;
	const struct command *cmd = find_command(type, op);
	if (!cmd)
		return err_fail(e, ERR_FAIL, "unknown_request",
		                "no request of type '%s' with op '%s'; see wpay-bind(1) for the types and ops", type,
		                op);
	int rc = cmd->fn(c, req, out, e);
	/* Kept for a record that must run again (a deadlock broken): it
	 * reads no second PIN line. */
	if (rc != BATCH_ASK && !store_must_replay(c->st))
		crypto_wipe(&c->typed, sizeof c->typed);
	return rc;
}

/* A PIN request is run again once its PINs are typed, with the ledger unlocked. */
static int ask(void *arg, json_t *req, struct err *e)
{
	return pins_ask(arg, req, e);
}

int main(int argc, char **argv)
{
	cli_init("wpay-bind");
	if (lists_is_command(argc, argv, "wallet", "statement"))
		return lists_main(usage, LIST_STATEMENT, argc, argv);
	int opt, longindex = 0;
	long long pin_fd = -1, pan_fd = -1;
	size_t max_line = 0;
	const char *amount = NULL, *price = NULL;
	json_t *fields = json_object();
	while ((opt = getopt_long(argc, argv, "h", options, &longindex)) != -1) {
		if (cli_common_option(opt, usage))
			continue;
		switch (opt) {
		case OPT_PIN_FD: pin_fd = cli_number(usage, "--pin-fd", optarg, 0, 1023); break;
		case OPT_PAN_FD: pan_fd = cli_number(usage, "--pan-fd", optarg, 0, 1023); break;
		case OPT_MAX_LINE: max_line = (size_t)cli_number(usage, "--max-line", optarg, 2, 1 << 30); break;
		case OPT_AMOUNT: amount = optarg; break;
		case OPT_PRICE: price = optarg; break;
		case OPT_STOCK:
			/* "none": stop counting */
			json_object_set_new(
			    fields, "stock",
			    strcmp(optarg, "none") == 0
			        ? json_null()
			        : json_integer(cli_number(usage, "--stock", optarg, 0, INT64_C(1) << 53)));
			break;
		case OPT_FIELD: {
			/* --request-no -> "request_no" */
			char key[32];
			strlcopy(key, options[longindex].name, sizeof key);
			for (char *k = key; *k; k++)
				if (*k == '-')
					*k = '_';
			json_object_set_new(fields, key,
			                    optarg ? arg_string("--", options[longindex].name, optarg) : json_true());
			break;
		}
		}
	}
	argc -= optind;
	argv += optind;
	for (int fd = 0; fd < 2; fd++) {
		long long n = fd ? pan_fd : pin_fd;
		if (n >= 0 && (n <= 2 || !secret_fd_open((int)n)))
			cli_usage_error(usage, "%s %lld is not an open file descriptor above 2 (use e.g. %s 3 3<file)",
			                fd ? "--pan-fd" : "--pin-fd", n, fd ? "--pan-fd" : "--pin-fd");
	}

	json_t *req = NULL;
	if (argc > 0) {
		const char *type = argv[0], *op = argc > 1 ? argv[1] : "";
		int first = 2;
		if (strcmp(type, "show") == 0)
			type = "pair", op = "show", first = 1;
		/* "merchant terminal add ...": a terminal is the merchant's. */
		if (strcmp(type, "merchant") == 0 && strcmp(op, "terminal") == 0)
			type = "terminal", op = argc > 2 ? argv[2] : "", first = 3;
		const struct command *cmd = find_command(type, op);
		if (!cmd)
			cli_usage_error(usage, "unknown command '%s%s%s'", argv[0], argc > 1 ? " " : "",
			                argc > 1 ? argv[1] : "");
		int nargs = argc - first, max = cmd->arg2 ? 2 : cmd->arg1 ? 1 : 0;
		if (nargs < cmd->min_args || nargs > max)
			cli_usage_error(usage, "'%s %s' takes %d argument%s", cmd->type, cmd->op, max,
			                max == 1 ? "" : "s");
		req = json_pack("{s:s, s:s}", "type", cmd->type, "op", cmd->op);
		if (nargs > 0)
			json_object_set_new(req, cmd->arg1, arg_string("", cmd->arg1, argv[first]));
		if (nargs > 1)
			json_object_set_new(req, cmd->arg2, arg_string("", cmd->arg2, argv[first + 1]));
		json_object_update(req, fields);
		for (int k = 0; k < 2; k++) {
			const char *text = k ? price : amount, *key = k ? "price" : "amount";
			if (!text)
				continue;
			/* A decimal on the command line, minor units in the request;
			 * the handler refuses it if the account's currency differs. */
			const char *why = cli_amount(req, key, text, NULL);
			if (why) {
				json_decref(req); /* exits: nothing held for the leak checker */
				json_decref(fields);
				cli_usage_error(usage, "--%s '%s': %s", key, text, why);
			}
		}
	} else if (json_object_size(fields) || amount || price) {
		cli_usage_error(usage,
		                "options such as --name or --amount go with a command; records on stdin carry fields");
	}
	json_decref(fields);

	struct wpay_ctx c;
	ctx_open(&c);
	secret_src_init(&c.pins, (int)pin_fd);
	secret_src_init(&c.pans, (int)pan_fd);
	if (req && strcmp(json_string_value(json_object_get(req, "type")), "card") == 0 &&
	    strcmp(json_string_value(json_object_get(req, "op")), "add") == 0) {
		char pan[64];
		struct err e;
		if (secret_read(&c.pans, "Card number: ", pan, sizeof pan, &e))
			err_die(EX_NOINPUT, "%s", e.msg);
		json_object_set_new(req, "pan", json_string(pan));
		crypto_wipe(pan, sizeof pan);
	}

	rec_writer_init();
	struct batch_opts opts = {.max_line = max_line, .ask = ask};
	int status = batch_serve(c.st, req, handle, &c, &opts);
	ctx_close(&c);
	if (!rec_writer_close() && status == 0)
		status = EX_IOERR;
	return status;
}
