/*
 * wpay-pay: pay orders. Reads order records (wpay-order's) or pays one
 * --order; the buyer's PIN comes from the terminal or --pin-fd, once for a
 * batch or, with --pin-each, a line per record. Each payment is one atomic
 * group of ledger transfers, idempotent by order; the merchant is notified
 * through the event queue. --follow and --share close the loop of browse,
 * interest, order, pay, share. At a till, --scanned charges the code a
 * buyer shows (buyercodes.h).
 */
#include <string.h>

#include "batch.h"
#include "buyercodes.h"
#include "cli.h"
#include "crypto.h"
#include "ctx.h"
#include "lists.h"
#include "payments.h"
#include "progress.h"
#include "secret.h"

#include "util.h"

static const char usage[] = "wpay-pay [--db path] [--buyer uid] [--source wallet|card|card_id] [--pin-fd n] "
                            "[--pin-each] [--follow] [--share] [--batch-size n]\n"
                            "       wpay-pay [options] --order order\n"
                            "       wpay-pay [options] --merchant merchant --scanned code --amount amount "
                            "--out-trade-no no\n"
                            "                [--currency code] [--terminal terminal_id]\n"
                            "       wpay-pay [options] list [--merchant merchant] [--buyer uid] [--order order] "
                            "[--since time]\n"
                            "                [--until time] [--limit n] [--after payment]\n";

enum {
	OPT_BUYER = OPT_FIRST_PROGRAM_OPTION,
	OPT_SOURCE,
	OPT_PIN_FD,
	OPT_PIN_EACH,
	OPT_FOLLOW,
	OPT_SHARE,
	OPT_ORDER,
	OPT_BATCH_SIZE,
	OPT_MERCHANT,
	OPT_SCANNED,
	OPT_AMOUNT,
	OPT_OUT_TRADE_NO,
	OPT_CURRENCY,
	OPT_TERMINAL
};

static const struct option options[] = {
    CLI_COMMON_OPTIONS,
    {"buyer", required_argument, NULL, OPT_BUYER},
    {"source", required_argument, NULL, OPT_SOURCE},
    {"pin-fd", required_argument, NULL, OPT_PIN_FD},
    {"pin-each", no_argument, NULL, OPT_PIN_EACH},
    {"follow", no_argument, NULL, OPT_FOLLOW},
    {"share", no_argument, NULL, OPT_SHARE},
    {"order", required_argument, NULL, OPT_ORDER},
    {"batch-size", required_argument, NULL, OPT_BATCH_SIZE},
    {"merchant", required_argument, NULL, OPT_MERCHANT},
    {"scanned", required_argument, NULL, OPT_SCANNED},
    {"amount", required_argument, NULL, OPT_AMOUNT},
    {"out-trade-no", required_argument, NULL, OPT_OUT_TRADE_NO},
    {"currency", required_argument, NULL, OPT_CURRENCY},
    {"terminal", required_argument, NULL, OPT_TERMINAL},
    {NULL, 0, NULL, 0},
};

struct run {
	struct wpay_ctx c;
	struct payer p;
	struct progress progress;
};

static int handle(void *arg, json_t *req, json_t **out, struct err *e)
{
	struct run *r = arg;
	const char *type = json_string_value(json_object_get(req, "type"));
	if (type && strcmp(type, "error") == 0) {
		*out = json_incref(req); /* already reported upstream; keep it in its place */
		return BATCH_OK;
	}
	if (type && strcmp(type, "order") != 0)
		return err_fail(e, ERR_FAIL, "unknown_request", "wpay-pay reads \"order\" records, not '%.20s'", type);
	/* A till's charge of the buyer's code, or a buyer's payment. */
	int rc = json_object_get(req, "scanned") ? buyercodes_charge(&r->c, &r->p, req, out, e)
	                                         : payments_pay(&r->c, &r->p, req, out, e);
	/* A PIN typed for one record is not used for another; a record whose
	 * transaction must run again keeps it for that run. */
	if (r->p.pin_each && rc != BATCH_ASK && !store_must_replay(r->c.st))
		payments_forget_pin(&r->p);
	return rc;
}

static void prefetch(void *arg, json_t *requests)
{
	struct run *r = arg;
	payments_prefetch(&r->c, requests);
}

static int ask(void *arg, json_t *req, struct err *e)
{
	struct run *r = arg;
	(void)req;
	return payments_ask_pin(&r->c, &r->p, e);
}

int main(int argc, char **argv)
{
	cli_init("wpay-pay");
	if (lists_is_command(argc, argv, "list", NULL))
		return lists_main(usage, LIST_PAYMENTS, argc, argv);
	struct run r = {0};
	long long pin_fd = -1;
	const char *order = NULL, *merchant = NULL, *scanned = NULL, *amount = NULL, *out_trade_no = NULL,
	           *currency = NULL, *terminal = NULL;
	struct batch_opts opts = {.ask = ask, .progress = &r.progress, .prefetch = prefetch};
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (cli_common_option(opt, usage))
			continue;
		switch (opt) {
		case OPT_BUYER: r.p.buyer = optarg; break;
		case OPT_SOURCE: r.p.source = optarg; break;
		case OPT_PIN_FD: pin_fd = cli_number(usage, "--pin-fd", optarg, 3, 1023); break;
		case OPT_PIN_EACH: r.p.pin_each = true; break;
		case OPT_FOLLOW: r.p.follow = true; break;
		case OPT_SHARE: r.p.share = true; break;
		case OPT_ORDER: order = optarg; break;
		case OPT_MERCHANT: merchant = optarg; break;
		case OPT_SCANNED: scanned = optarg; break;
		case OPT_AMOUNT: amount = optarg; break;
		case OPT_OUT_TRADE_NO: out_trade_no = optarg; break;
		case OPT_CURRENCY: currency = optarg; break;
		case OPT_TERMINAL: terminal = optarg; break;
		case OPT_BATCH_SIZE:
			opts.max_records = (size_t)cli_number(usage, "--batch-size", optarg, 1, 100000);
			break;
		}
	}
	if (optind < argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (pin_fd >= 0 && !secret_fd_open((int)pin_fd))
		cli_usage_error(usage, "--pin-fd %lld is not an open file descriptor (use e.g. --pin-fd 3 3<file)",
		                pin_fd);
	json_t *req = order ? json_pack("{s:s}", "order", order) : NULL;
	if (scanned || merchant || amount || out_trade_no || terminal || currency) {
		if (!scanned || !merchant || !amount || !out_trade_no)
			cli_usage_error(usage, "a charge of a buyer's code takes --merchant, --scanned, --amount and "
			                       "--out-trade-no");
		if (order)
			cli_usage_error(usage, "--order pays an order; --scanned charges a buyer's code: give one");
		if (r.p.buyer || r.p.source || r.p.follow || r.p.share || r.p.pin_each || pin_fd >= 0)
			cli_usage_error(
			    usage,
			    "a charge of a buyer's code pays as the code's buyer, from the wallet, with no "
			    "PIN of the till's: no --buyer, --source, --follow, --share, --pin-each or --pin-fd");
		req = json_pack("{s:s, s:s, s:s}", "merchant", merchant, "scanned", scanned, "out_trade_no",
		                out_trade_no);
		/* In --currency's decimals (CNY's unless given); the merchant's
		 * currency must be the same. */
		const char *why = cli_amount(req, "amount", amount, currency);
		if (why) {
			json_decref(req); /* exits: nothing held for the leak checker */
			cli_usage_error(usage, "--amount '%s': %s", amount, why);
		}
		if (terminal)
			json_object_set_new(req, "terminal", json_string(terminal));
	}
	ctx_open(&r.c);
	secret_src_init(&r.c.pins, (int)pin_fd);
	rec_writer_init();
	progress_start(&r.progress, "orders", 0);
	int status = batch_serve(r.c.st, req, handle, &r, &opts);
	progress_end(&r.progress);
	payments_forget_pin(&r.p);
	ctx_close(&r.c);
	if (!rec_writer_close() && status == 0)
		status = EX_IOERR;
	return status;
}
