/*
 * wpay-refund: merchant-initiated refunds, full or partial, idempotent by
 * out_request_no; the money goes back to the source that paid, and the fee
 * comes back pro rata. Reads refund requests, or does one from arguments.
 */
#include <string.h>

#include "batch.h"
#include "cli.h"
#include "ctx.h"
#include "lists.h"
#include "money.h"
#include "payments.h"

#include "util.h"

static const char usage[] = "wpay-refund [--db path]\n"
                            "       wpay-refund [options] order out_request_no --amount amount [--currency code] "
                            "[--reason text]\n"
                            "       wpay-refund [options] merchant out_trade_no out_request_no --amount amount "
                            "[--currency code]\n"
                            "                   [--reason text]\n"
                            "       wpay-refund [options] query merchant out_trade_no out_request_no\n"
                            "       wpay-refund [options] list [--merchant merchant] [--buyer uid] [--order order] "
                            "[--since time]\n"
                            "                   [--until time] [--limit n] [--after refund]\n";

enum { OPT_AMOUNT = OPT_FIRST_PROGRAM_OPTION, OPT_CURRENCY, OPT_REASON };

static const struct option options[] = {
    CLI_COMMON_OPTIONS,
    {"amount", required_argument, NULL, OPT_AMOUNT},
    {"currency", required_argument, NULL, OPT_CURRENCY},
    {"reason", required_argument, NULL, OPT_REASON},
    {NULL, 0, NULL, 0},
};

static int handle(void *arg, json_t *req, json_t **out, struct err *e)
{
	const char *type = json_string_value(json_object_get(req, "type"));
	if (type && strcmp(type, "error") == 0) {
		*out = json_incref(req);
		return BATCH_OK;
	}
	const char *op = NULL;
	if (rec_get_str(req, "op", false, 16, &op, e))
		return BATCH_FAIL;
	if (op && strcmp(op, "query") == 0)
		return payments_refund_query(arg, req, out, e);
	if (op && strcmp(op, "refund") != 0)
		return err_fail(e, ERR_FAIL, "unknown_request", "no refund op '%.16s' (refund, query)", op);
	return payments_refund(arg, req, out, e);
}

int main(int argc, char **argv)
{
	cli_init("wpay-refund");
	if (lists_is_command(argc, argv, "list", NULL))
		return lists_main(usage, LIST_REFUNDS, argc, argv);
	const char *amount = NULL, *currency = NULL, *reason = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (cli_common_option(opt, usage))
			continue;
		if (opt == OPT_AMOUNT)
			amount = optarg;
		else if (opt == OPT_CURRENCY)
			currency = optarg;
		else if (opt == OPT_REASON)
			reason = optarg;
	}
	argc -= optind, argv += optind;
	json_t *req = NULL;
	if (argc == 4 && strcmp(argv[0], "query") == 0) {
		if (amount || currency || reason)
			cli_usage_error(usage, "--amount, --currency and --reason go with a refund, not a query");
		req = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "refund", "op", "query", "merchant", argv[1],
		                "out_trade_no", argv[2], "out_request_no", argv[3]);
	} else if (argc == 2 || argc == 3) {
		if (!amount)
			cli_usage_error(usage, "a refund needs --amount");
		/* In --currency's decimals (CNY's unless given); the order's
		 * currency must be the same. */
		req = json_pack("{s:s, s:s}", "type", "refund", "out_request_no", argv[argc - 1]);
		const char *why = cli_amount(req, "amount", amount, currency);
		if (why) {
			json_decref(req); /* exits: nothing held for the leak checker */
			cli_usage_error(usage, "--amount '%s': %s", amount, why);
		}
		if (argc == 2)
			json_object_set_new(req, "order", json_string(argv[0]));
		else {
			json_object_set_new(req, "merchant", json_string(argv[0]));
			json_object_set_new(req, "out_trade_no", json_string(argv[1]));
		}
		if (reason)
			json_object_set_new(req, "reason", json_string(reason));
	} else if (argc != 0) {
		cli_usage_error(usage,
		                "give an order and an out_request_no, or a merchant, out_trade_no and out_request_no");
	} else if (amount || currency || reason) {
		cli_usage_error(usage, "--amount, --currency and --reason go with a refund named on the command line");
	}
	struct wpay_ctx c;
	ctx_open(&c);
	rec_writer_init();
	int status = batch_serve(c.st, req, handle, &c, NULL);
	ctx_close(&c);
	if (!rec_writer_close() && status == 0)
		status = EX_IOERR;
	return status;
}
