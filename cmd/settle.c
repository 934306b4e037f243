/*
 * wpay-settle: settle merchants for a date, from cron. Every merchant with
 * anything due gets one settlement record (the same on a rerun); with
 * --out, a payout batch file and a bill per merchant. --reconcile compares
 * a merchant's own records with the ledger instead; --preview foretells
 * the settlements to come; --payout-failed takes back a withdrawal the
 * bank could not pay. See settle.h and wallets.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "cli.h"
#include "clock.h"
#include "ctx.h"
#include "ids.h"
#include "payouts.h"
#include "progress.h"
#include "reconcile.h"
#include "settle.h"

#include "wallets.h"

#include "util.h"

static const char usage[] = "wpay-settle [--db path] [--date YYYY-MM-DD] [--out dir] [--dry-run] [--batch-size n]\n"
                            "       wpay-settle [--db path] --reconcile file --merchant merchant\n"
                            "                   [--trade-date YYYY-MM-DD | --settle-date YYYY-MM-DD] [--encoding enc]\n"
                            "       wpay-settle [--db path] --preview [--merchant merchant] [--date YYYY-MM-DD]\n"
                            "       wpay-settle [--db path] --payout-failed withdrawal [--reason text]\n";

enum {
	OPT_DATE = OPT_FIRST_PROGRAM_OPTION,
	OPT_OUT,
	OPT_DRY_RUN,
	OPT_BATCH_SIZE,
	OPT_RECONCILE,
	OPT_MERCHANT,
	OPT_PREVIEW,
	OPT_TRADE_DATE,
	OPT_SETTLE_DATE,
	OPT_ENCODING,
	OPT_PAYOUT_FAILED,
	OPT_REASON
};

static const struct option options[] = {
    CLI_COMMON_OPTIONS,
    {"date", required_argument, NULL, OPT_DATE},
    {"out", required_argument, NULL, OPT_OUT},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"batch-size", required_argument, NULL, OPT_BATCH_SIZE},
    {"reconcile", required_argument, NULL, OPT_RECONCILE},
    {"merchant", required_argument, NULL, OPT_MERCHANT},
    {"preview", no_argument, NULL, OPT_PREVIEW},
    {"trade-date", required_argument, NULL, OPT_TRADE_DATE},
    {"settle-date", required_argument, NULL, OPT_SETTLE_DATE},
    {"encoding", required_argument, NULL, OPT_ENCODING},
    {"payout-failed", required_argument, NULL, OPT_PAYOUT_FAILED},
    {"reason", required_argument, NULL, OPT_REASON},
    {NULL, 0, NULL, 0},
};

struct run {
	struct wpay_ctx c;
	struct settle_run s;
	struct progress progress;
};

static int handle(void *arg, json_t *req, json_t **out, struct err *e)
{
	struct run *r = arg;
	int rc = json_object_get(req, "withdrawal") ? wallets_pay_out(&r->c, &r->s, req, out, e)
	                                            : settle_merchant(&r->c, &r->s, req, out, e);
	if (rc == BATCH_OK && *out && r->s.dry_run)
		json_object_set_new(*out, "dry_run", json_true());
	return rc;
}

static int handle_failed(void *arg, json_t *req, json_t **out, struct err *e)
{
	struct run *r = arg;
	return wallets_payout_failed(&r->c, req, out, e);
}

static void prefetch(void *arg, json_t *requests)
{
	struct run *r = arg;
	settle_prefetch(&r->c, &r->s, requests);
}

static int reconcile(struct run *r, const char *file, const char *merchant, const struct reconcile_opts *ro)
{
	struct err e = {0};
	json_t *out = json_array();
	bool agree = false;
	int rc = reconcile_merchant(r->c.st, merchant, ro, file, out, &agree, &e);
	if (rc)
		err_die(rc, "%s", e.msg);
	size_t i;
	json_t *rec;
	bool written = true;
	json_array_foreach (out, i, rec)
		written = written && rec_emit(rec);
	json_decref(out);
	if (!agree)
		err_warn("%s and the ledger differ: see the difference records", file);
	return !written ? EX_IOERR : agree ? 0 : EX_RECORDS;
}

/* The forecast, merchant by merchant: read only. */
static int preview(struct run *r, const char *merchant, const char *date)
{
	struct err e = {0};
	r->s.preview = true;
	int rc = settle_prepare(r->c.st, date, &r->s, &e);
	if (rc)
		err_die(rc, "%s", e.msg);
	/* One snapshot, so that a payment or a settlement made meanwhile is
	 * in every figure of the forecast or in none. */
	store_begin_read(r->c.st);
	json_t *merchants = merchant ? json_pack("[{s:s}]", "merchant", merchant) : settle_requests(r->c.st, &r->s);
	bool written = true, failed = false;
	size_t i;
	json_t *req;
	json_array_foreach (merchants, i, req) {
		const char *ref = json_string_value(json_object_get(req, "merchant"));
		json_t *out = json_array();
		e = (struct err){0};
		if (settle_preview(r->c.st, &r->s, ref, out, &e)) {
			/* A merchant the option names that is not there is bad data. */
			if (merchant)
				err_die(EX_DATAERR, "%s", e.msg);
			failed = true;
			err_warn("%s", e.msg);
			json_t *rec = rec_error_record(&e, NULL);
			char *who = ids_merchant_dup(ids_merchant_no(ref));
			json_object_set_new(rec, "merchant", json_string(who));
			free(who);
			json_array_append_new(out, rec);
		}
		size_t j;
		json_t *rec;
		json_array_foreach (out, j, rec)
			written = written && rec_emit(rec);
		json_decref(out);
	}
	json_decref(merchants);
	store_rollback(r->c.st); /* nothing was written */
	return !written ? EX_IOERR : failed ? EX_RECORDS : 0;
}

int main(int argc, char **argv)
{
	cli_init("wpay-settle");
	const char *date = NULL, *out_dir = NULL, *file = NULL, *merchant = NULL, *settle_date = NULL, *failed = NULL,
	           *reason = NULL;
	struct reconcile_opts ro = {0};
	struct run r = {0};
	bool do_preview = false;
	struct batch_opts opts = {.progress = &r.progress};
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (cli_common_option(opt, usage))
			continue;
		switch (opt) {
		case OPT_DATE: date = optarg; break;
		case OPT_OUT: out_dir = optarg; break;
		case OPT_DRY_RUN: r.s.dry_run = true; break;
		case OPT_BATCH_SIZE:
			opts.max_records = (size_t)cli_number(usage, "--batch-size", optarg, 1, 100000);
			break;
		case OPT_RECONCILE: file = optarg; break;
		case OPT_MERCHANT: merchant = optarg; break;
		case OPT_PREVIEW: do_preview = true; break;
		case OPT_TRADE_DATE: ro.trade_date = optarg; break;
		case OPT_SETTLE_DATE: settle_date = optarg; break;
		case OPT_ENCODING: ro.encoding = optarg; break;
		case OPT_PAYOUT_FAILED: failed = optarg; break;
		case OPT_REASON: reason = optarg; break;
		}
	}
	if (optind < argc)
		cli_usage_error(usage, "unexpected argument '%s'", argv[optind]);
	if (reason && !failed)
		cli_usage_error(usage, "--reason goes with --payout-failed");
	if (failed && (date || out_dir || r.s.dry_run || opts.max_records || file || merchant || do_preview))
		cli_usage_error(usage, "--payout-failed reports one failed payout: it takes only --reason");
	if (do_preview && (file || out_dir || r.s.dry_run || opts.max_records))
		cli_usage_error(
		    usage,
		    "--preview foretells and changes nothing: drop --reconcile, --out, --dry-run and --batch-size");
	if (file && !merchant)
		cli_usage_error(usage, "--reconcile needs --merchant: whose records are these?");
	if (!file && !do_preview && merchant)
		cli_usage_error(usage, "--merchant goes with --reconcile or --preview");
	if (file && (out_dir || r.s.dry_run))
		cli_usage_error(usage, "--reconcile changes nothing and writes no files: drop --out and --dry-run");
	if (!file && (ro.trade_date || settle_date || ro.encoding))
		cli_usage_error(usage, "--trade-date, --settle-date and --encoding go with --reconcile");
	if (file) {
		/* With --reconcile, --date has always meant the settlement's date. */
		if (date && settle_date)
			cli_usage_error(usage, "--date is --settle-date: give one");
		ro.settle_date = settle_date ? settle_date : date;
		if (ro.settle_date && ro.trade_date)
			cli_usage_error(usage, "compare a trade date or a settlement, not both");
	}
	if (out_dir && r.s.dry_run)
		cli_usage_error(usage, "--dry-run writes no files: drop --out");
	ctx_open(&r.c);
	rec_writer_init();
	int status;
	if (failed) {
		json_t *req = json_pack("{s:s}", "withdrawal", failed);
		if (reason)
			json_object_set_new(req, "reason", json_string(reason));
		status = batch_serve(r.c.st, req, handle_failed, &r, &opts);
	} else if (do_preview) {
		status = preview(&r, merchant, date);
	} else if (file) {
		status = reconcile(&r, file, merchant, &ro);
	} else {
		struct err e = {0};
		int rc = settle_prepare(r.c.st, date, &r.s, &e);
		if (rc)
			err_die(rc, "%s", e.msg);
		opts.dry_run = r.s.dry_run;
		opts.prefetch = prefetch;
		json_t *requests = settle_requests(r.c.st, &r.s);
		wallets_payout_requests(r.c.st, &r.s, requests);
		progress_start(&r.progress, "merchants", json_array_size(requests));
		status = batch_list(r.c.st, requests, handle, &r, &opts);
		json_decref(requests);
		progress_end(&r.progress);
		if (out_dir && status != EX_IOERR && (rc = payouts_write(r.c.st, &r.s, out_dir, &e)) != 0) {
			err_warn("%s", e.msg);
			status = rc;
		}
	}
	ctx_close(&r.c);
	if (!rec_writer_close() && status == 0)
		status = EX_IOERR;
	return status;
}
