/*
 * wpay-order: orders. From scanned codes (wpay-scanqr's records), from the
 * merchant (create), and their lifecycle: query, close, and expire (cron).
 * One answer per record; an error record from upstream passes through.
 */
#include <string.h>

#include "batch.h"
#include "cli.h"
#include "ctx.h"
#include "lists.h"
#include "money.h"
#include "orders.h"
#include "products.h"

#include "util.h"

static const char usage[] =
    "wpay-order [--db path] [--buyer uid] [--amount amount] [--quantity n] [--request-no no] [--allow-unsigned]\n"
    "       wpay-order [options] create merchant out_trade_no --amount amount [--currency code] [--subject text]\n"
    "                  [--buyer uid] [--expires-in duration] [--terminal terminal_id]\n"
    "       wpay-order [options] query|close order\n"
    "       wpay-order [options] query payment\n"
    "       wpay-order [options] query|close merchant out_trade_no\n"
    "       wpay-order [options] expire\n"
    "       wpay-order [options] list [--merchant merchant] [--buyer uid] [--state state] [--since time]\n"
    "                  [--until time] [--limit n] [--after order]\n";

enum {
	OPT_BUYER = OPT_FIRST_PROGRAM_OPTION,
	OPT_AMOUNT,
	OPT_REQUEST_NO,
	OPT_ALLOW_UNSIGNED,
	OPT_SUBJECT,
	OPT_EXPIRES,
	OPT_QUANTITY,
	OPT_CURRENCY,
	OPT_TERMINAL
};

static const struct option options[] = {
    CLI_COMMON_OPTIONS,
    {"buyer", required_argument, NULL, OPT_BUYER},
    {"amount", required_argument, NULL, OPT_AMOUNT},
    {"request-no", required_argument, NULL, OPT_REQUEST_NO},
    {"allow-unsigned", no_argument, NULL, OPT_ALLOW_UNSIGNED},
    {"subject", required_argument, NULL, OPT_SUBJECT},
    {"expires-in", required_argument, NULL, OPT_EXPIRES},
    {"quantity", required_argument, NULL, OPT_QUANTITY},
    {"currency", required_argument, NULL, OPT_CURRENCY},
    {"terminal", required_argument, NULL, OPT_TERMINAL},
    {NULL, 0, NULL, 0},
};

struct run {
	struct wpay_ctx c;
	struct order_defaults d;
};

static int handle(void *arg, json_t *req, json_t **out, struct err *e)
{
	struct run *r = arg;
	const char *type = json_string_value(json_object_get(req, "type")), *op = NULL;
	if (type && strcmp(type, "error") == 0) {
		*out = json_incref(req); /* already reported upstream; keep it in its place */
		return BATCH_OK;
	}
	/* A product card carries its code's payload, as a scan its text. */
	if (type && strcmp(type, "product_card") == 0 && !json_object_get(req, "text"))
		json_object_set(req, "text", json_object_get(req, "payload"));
	if (type && (strcmp(type, "scan") == 0 || strcmp(type, "product_card") == 0))
		return orders_from_scan(&r->c, &r->d, req, out, e);
	if (!type || strcmp(type, "order") != 0)
		return err_fail(e, ERR_FAIL, "unknown_request",
		                "wpay-order reads \"scan\", \"product_card\" and \"order\" records, not '%.20s'",
		                type ? type : "(no type)");
	if (rec_get_str(req, "op", false, 16, &op, e))
		return BATCH_FAIL;
	if (!op)
		op = json_object_get(req, "id") ? "query" : "create";
	if (strcmp(op, "create") == 0)
		return orders_create(&r->c, req, out, e);
	if (strcmp(op, "query") == 0)
		return orders_query(&r->c, req, out, e);
	if (strcmp(op, "close") == 0)
		return orders_close(&r->c, req, out, e);
	if (strcmp(op, "expire") == 0)
		return orders_expire(&r->c, req, out, e);
	return err_fail(e, ERR_FAIL, "unknown_request", "no order op '%s' (create, query, close, expire)", op);
}

int main(int argc, char **argv)
{
	cli_init("wpay-order");
	if (lists_is_command(argc, argv, "list", NULL))
		return lists_main(usage, LIST_ORDERS, argc, argv);
	struct run r = {0};
	const char *subject = NULL, *expires = NULL, *currency = NULL, *terminal = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (cli_common_option(opt, usage))
			continue;
		switch (opt) {
		case OPT_BUYER: r.d.buyer = optarg; break;
		case OPT_AMOUNT: r.d.amount_text = optarg; break;
		case OPT_REQUEST_NO: r.d.request_no = optarg; break;
		case OPT_ALLOW_UNSIGNED: r.d.allow_unsigned = true; break;
		case OPT_SUBJECT: subject = optarg; break;
		case OPT_EXPIRES: expires = optarg; break;
		case OPT_CURRENCY: currency = optarg; break;
		case OPT_TERMINAL: terminal = optarg; break;
		case OPT_QUANTITY:
			r.d.quantity = cli_number(usage, "--quantity", optarg, 1, PRODUCT_QUANTITY_MAX);
			break;
		}
	}
	argc -= optind, argv += optind;
	json_t *req = NULL;
	if (argc > 0) {
		const char *op = argv[0];
		int want = strcmp(op, "create") == 0 ? 2 : strcmp(op, "expire") == 0 ? 0 : -1;
		if (strcmp(op, "create") && strcmp(op, "query") && strcmp(op, "close") && strcmp(op, "expire"))
			cli_usage_error(usage, "unknown command '%s'", op);
		if ((want >= 0 && argc - 1 != want) || (want < 0 && (argc < 2 || argc > 3)))
			cli_usage_error(usage, "wrong number of arguments for '%s'", op);
		req = json_pack("{s:s, s:s}", "type", "order", "op", op);
		if (argc == 2)
			json_object_set_new(req, "order", json_string(argv[1]));
		if (argc == 3) {
			json_object_set_new(req, "merchant", json_string(argv[1]));
			json_object_set_new(req, "out_trade_no", json_string(argv[2]));
		}
		if (strcmp(op, "create") == 0) {
			if (!r.d.amount_text)
				cli_usage_error(usage, "create needs --amount");
			/* In --currency's decimals (CNY's unless given); the
			 * merchant's currency must be the same. */
			const char *why = cli_amount(req, "amount", r.d.amount_text, currency);
			if (why) {
				json_decref(req); /* exits: nothing held for the leak checker */
				cli_usage_error(usage, "--amount '%s': %s", r.d.amount_text, why);
			}
			if (subject)
				json_object_set_new(req, "subject", json_string(subject));
			if (expires)
				json_object_set_new(req, "expires_in", json_string(expires));
			if (r.d.buyer)
				json_object_set_new(req, "buyer", json_string(r.d.buyer));
			if (terminal)
				json_object_set_new(req, "terminal", json_string(terminal));
		}
		if (currency && strcmp(op, "create") != 0)
			cli_usage_error(usage, "--currency goes with 'create' (an order from a code is in the code's)");
		if (r.d.quantity)
			cli_usage_error(usage, "--quantity is for orders from product codes, not for '%s'", op);
		if (r.d.request_no)
			cli_usage_error(usage, "--request-no is a buyer's, for orders from scanned codes, not for '%s'",
			                op);
		if (terminal && strcmp(op, "create") != 0)
			cli_usage_error(usage,
			                "--terminal goes with 'create' (an order from a code is for the code's)");
	} else if (subject || expires || currency || terminal) {
		cli_usage_error(usage, "--subject, --expires-in, --currency and --terminal go with 'create'");
	}
	ctx_open(&r.c);
	rec_writer_init();
	int status = batch_serve(r.c.st, req, handle, &r, NULL);
	ctx_close(&r.c);
	if (!rec_writer_close() && status == 0)
		status = EX_IOERR;
	return status;
}
