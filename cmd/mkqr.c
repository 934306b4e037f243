/*
 * wpay-mkqr: payable QR codes for merchants and products.
 *
 * With a merchant argument it makes one code; without, it reads requests
 * on stdin ({"merchant":"m:cafe01","amount":1234,"reference":"sku_1"}) and
 * answers each with a "code" record carrying the signed EMV payload and,
 * with --out-dir or -o, the image file it wrote (atomically). A code with
 * an amount is dynamic: kept by its reference, so asking again answers the
 * same code. On a terminal, with no file named, it also draws the code.
 * A product code (--product) carries the SKU and no amount; --card
 * answers a "product_card" record for a post instead of the code record.
 * --buyer makes the buyer's own one-time payment code instead, after the
 * wallet's PIN, for a till to scan (buyercodes.h).
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "buyercodes.h"
#include "cli.h"
#include "codes.h"
#include "crypto.h"
#include "ctx.h"
#include "ids.h"
#include "money.h"
#include "pins.h"
#include "products.h"
#include "qr.h"
#include "secret.h"

#include "util.h"

static const char usage[] =
    "wpay-mkqr [--db path] [--out-dir dir] [--name template] [--format png|svg|txt] [--module n] [--margin n] "
    "[--ecc L|M|Q|H]\n"
    "       wpay-mkqr [options] merchant [--terminal terminal_id] [-o file]\n"
    "       wpay-mkqr [options] merchant --amount amount --reference ref [--currency code] [--expires-in duration]\n"
    "                 [--terminal terminal_id] [-o file]\n"
    "       wpay-mkqr [options] merchant --product sku [--card] [--terminal terminal_id] [-o file]\n"
    "       wpay-mkqr [options] --buyer wallet [--expires-in duration] [--pin-fd n] [-o file]\n";

enum {
	OPT_OUT_DIR = OPT_FIRST_PROGRAM_OPTION,
	OPT_NAME,
	OPT_FORMAT,
	OPT_MODULE,
	OPT_MARGIN,
	OPT_ECC,
	OPT_AMOUNT,
	OPT_CURRENCY,
	OPT_REFERENCE,
	OPT_EXPIRES,
	OPT_PRODUCT,
	OPT_CARD,
	OPT_TERMINAL,
	OPT_BUYER,
	OPT_PIN_FD,
	OPT_OUTPUT = 'o'
};

static const struct option options[] = {
    CLI_COMMON_OPTIONS,
    {"out-dir", required_argument, NULL, OPT_OUT_DIR},
    {"name", required_argument, NULL, OPT_NAME},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"module", required_argument, NULL, OPT_MODULE},
    {"margin", required_argument, NULL, OPT_MARGIN},
    {"ecc", required_argument, NULL, OPT_ECC},
    {"amount", required_argument, NULL, OPT_AMOUNT},
    {"currency", required_argument, NULL, OPT_CURRENCY},
    {"reference", required_argument, NULL, OPT_REFERENCE},
    {"expires-in", required_argument, NULL, OPT_EXPIRES},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"product", required_argument, NULL, OPT_PRODUCT},
    {"card", no_argument, NULL, OPT_CARD},
    {"terminal", required_argument, NULL, OPT_TERMINAL},
    {"buyer", required_argument, NULL, OPT_BUYER},
    {"pin-fd", required_argument, NULL, OPT_PIN_FD},
    {NULL, 0, NULL, 0},
};

struct mkqr {
	struct code_maker maker;
	struct qr_pool *pool; /* batches with --out-dir render on every core */
	const char *out_dir, *name_template, *output;
	bool have_format, draw;
	enum qr_format format;
	struct qr_style style;
	unsigned long n;
};

/* A placeholder's value may name a file only if it is plain. */
static bool plain(const char *s)
{
	return *s && strcmp(s, ".") && strcmp(s, "..") &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == strlen(s);
}

/* Expand {merchant} {reference} {ref} {n} {ext} in the name template. */
static char *file_name(struct mkqr *m, json_t *req, json_t *code, struct err *e)
{
	char out[512] = "", num[24];
	const char *t = m->name_template;
	size_t len = 0;
	while (*t) {
		const char *value = NULL;
		const char *close = *t == '{' ? strchr(t, '}') : NULL;
		if (close) {
			size_t n = (size_t)(close - t - 1);
			json_t *ref = json_object_get(req, "ref");
			if (n == 8 && strncmp(t + 1, "merchant", 8) == 0) {
				const char *mref = json_string_value(json_object_get(code, "merchant"));
				value = mref ? ids_merchant_no(mref) : "buyer";
			} else if (n == 9 && strncmp(t + 1, "reference", 9) == 0) {
				value = json_string_value(json_object_get(code, "reference"));
				if (!value)
					value = json_string_value(json_object_get(code, "product"));
				if (!value)
					value = "static";
			} else if (n == 3 && strncmp(t + 1, "ref", 3) == 0) {
				if (json_is_integer(ref))
					bufprintf(num, sizeof num, "%lld", (long long)json_integer_value(ref)),
					    value = num;
				else
					value = json_string_value(ref);
				if (!value)
					return err_fail(e, ERR_FAIL, "bad_field",
					                "the file name uses {ref} but the request has no ref"),
					       NULL;
			} else if (n == 1 && t[1] == 'n')
				bufprintf(num, sizeof num, "%lu", m->n), value = num;
			else if (n == 3 && strncmp(t + 1, "ext", 3) == 0)
				value = qr_format_ext(m->format);
		}
		if (value) {
			if (!plain(value))
				return err_fail(e, ERR_FAIL, "bad_field", "'%.40s' cannot be part of a file name",
				                value),
				       NULL;
			t = close + 1;
		} else {
			num[0] = *t++;
			num[1] = '\0';
			value = num;
		}
		if (len + strlen(value) >= sizeof out)
			return err_fail(e, ERR_FAIL, "bad_field", "the file name is too long"), NULL;
		memcpy(out + len, value, strlen(value) + 1);
		len += strlen(value);
	}
	return xasprintf("%s/%s", m->out_dir, out);
}

/* An image the pool could not write: its answer becomes an error. The code
 * itself stands (it is in the ledger); asking again writes the image. */
static void render_failed(void *tag, const char *why, void *arg)
{
	json_t *rec = tag, *ref = json_incref(json_object_get(rec, "ref"));
	char *path = xstrdup(json_string_value(json_object_get(rec, "file")));
	struct err e;
	err_fail(&e, ERR_FAIL, "io", "cannot write %s: %s", path, why);
	cli_record_warn(&e, NULL, 0);
	json_object_clear(rec);
	json_object_set_new(rec, "type", json_string("error"));
	json_object_set_new(rec, "code", json_string(e.code));
	json_object_set_new(rec, "message", json_string(e.msg));
	if (ref)
		json_object_set_new(rec, "ref", ref);
	free(path);
	(void)arg;
}

/* A buyer's code asks for the wallet's PIN, with the ledger unlocked. */
static int ask(void *arg, json_t *req, struct err *e)
{
	struct mkqr *m = arg;
	return pins_ask(m->maker.c, req, e);
}

static void render_wait(void *arg)
{
	struct mkqr *m = arg;
	if (m->pool)
		qr_pool_wait(m->pool, render_failed, m);
}

static int handle(void *arg, json_t *req, json_t **out, struct err *e)
{
	struct mkqr *m = arg;
	m->n++;
	int rc;
	if (json_object_get(req, "buyer")) {
		/* One file per code, never shared: a batch's buyer codes would
		 * all be named alike, and each is money to whoever holds it. */
		if (m->out_dir)
			return err_fail(e, ERR_FAIL, "bad_field",
			                "a buyer's code is shown to its buyer alone: make it with -o, not --out-dir");
		/* The buyer's own code: the PIN typed for it is for it alone
		 * (kept only for a record that must run again). */
		rc = buyercodes_make(m->maker.c, req, out, e);
		if (rc != BATCH_ASK && !store_must_replay(m->maker.c->st))
			crypto_wipe(&m->maker.c->typed, sizeof m->maker.c->typed);
	} else {
		rc = codes_make(&m->maker, req, out, e);
	}
	if (rc != BATCH_OK)
		return rc;
	/* A product's card for a post: the same payload, and a link to it. */
	json_t *card = json_object_get(req, "card");
	if (card && !json_is_boolean(card))
		return err_fail(e, ERR_FAIL, "bad_field", "card is true or false");
	if (json_is_true(card)) {
		if (!json_object_get(*out, "product"))
			return err_fail(e, ERR_FAIL, "bad_field", "a card is for a product: give 'product' too");
		json_t *c = products_card(*out);
		json_decref(*out);
		*out = c;
	}
	char *path = m->output ? xstrdup(m->output) : m->out_dir ? file_name(m, req, *out, e) : NULL;
	if (!path && !m->output && m->out_dir)
		return BATCH_FAIL;
	const char *payload = json_string_value(json_object_get(*out, "payload")), *why;
	struct qr_matrix qr;
	bool encode_here = (path && !m->pool) || m->draw;
	if (encode_here && !qr_encode(payload, m->style.ecc, &qr, &why)) {
		free(path);
		return err_fail(e, ERR_FAIL, "qr_encode", "%s", why);
	}
	if (path && m->pool) {
		/* Written by the pool before this answer is printed (render_wait). */
		json_object_set_new(*out, "file", json_string(path));
		json_object_set_new(*out, "format", json_string(qr_format_ext(m->format)));
		qr_pool_submit(m->pool, payload, path, *out);
	} else if (path) {
		if (!qr_write_file(&qr, m->format, &m->style, path, &why)) {
			err_fail(e, ERR_FAIL, "io", "cannot write %s: %s", path, why);
			qr_matrix_free(&qr);
			free(path);
			return BATCH_FAIL;
		}
		json_object_set_new(*out, "file", json_string(path));
		json_object_set_new(*out, "format", json_string(qr_format_ext(m->format)));
	}
	if (m->draw) {
		qr_write_text(&qr, 2, stdout);
		fflush(stdout);
	}
	if (encode_here)
		qr_matrix_free(&qr);
	free(path);
	return BATCH_OK;
}

int main(int argc, char **argv)
{
	cli_init("wpay-mkqr");
	struct mkqr m = {.name_template = "{merchant}_{reference}.{ext}", .format = QR_PNG, .style = {8, 4, 'M'}};
	const char *amount = NULL, *currency = NULL, *reference = NULL, *expires = NULL, *product = NULL;
	const char *terminal = NULL, *buyer = NULL;
	long long pin_fd = -1;
	bool card = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
		if (cli_common_option(opt, usage))
			continue;
		switch (opt) {
		case OPT_OUT_DIR: m.out_dir = optarg; break;
		case OPT_NAME: m.name_template = optarg; break;
		case OPT_FORMAT:
			if (!qr_format_parse(optarg, &m.format))
				cli_usage_error(usage, "--format is png, svg or txt, not '%s'", optarg);
			m.have_format = true;
			break;
		case OPT_MODULE: m.style.module = (int)cli_number(usage, "--module", optarg, 1, 100); break;
		case OPT_MARGIN: m.style.margin = (int)cli_number(usage, "--margin", optarg, 0, 100); break;
		case OPT_ECC:
			if (strlen(optarg) != 1 || !strchr("LMQH", optarg[0]))
				cli_usage_error(usage, "--ecc is L, M, Q or H, not '%s'", optarg);
			m.style.ecc = optarg[0];
			break;
		case OPT_AMOUNT: amount = optarg; break;
		case OPT_CURRENCY: currency = optarg; break;
		case OPT_REFERENCE: reference = optarg; break;
		case OPT_EXPIRES: expires = optarg; break;
		case OPT_OUTPUT: m.output = optarg; break;
		case OPT_PRODUCT: product = optarg; break;
		case OPT_CARD: card = true; break;
		case OPT_TERMINAL: terminal = optarg; break;
		case OPT_BUYER: buyer = optarg; break;
		case OPT_PIN_FD: pin_fd = cli_number(usage, "--pin-fd", optarg, 3, 1023); break;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		cli_usage_error(usage, "one merchant at a time; use records on stdin for a batch");
	if (buyer && (argc || amount || reference || product || card || terminal || currency))
		cli_usage_error(usage, "--buyer makes the buyer's own payment code: no merchant, amount, reference, "
		                       "product, card or terminal");
	if (pin_fd >= 0 && !secret_fd_open((int)pin_fd))
		cli_usage_error(usage, "--pin-fd %lld is not an open file descriptor (use e.g. --pin-fd 3 3<file)",
		                pin_fd);
	if (argc == 0 && !buyer && (amount || reference || expires || m.output || product || card || terminal))
		cli_usage_error(usage,
		                "--amount, --reference, --expires-in, --product, --card, --terminal and -o go with a "
		                "merchant argument");
	if (product && (amount || reference || expires))
		cli_usage_error(usage,
		                "a product code's price is the catalog's: --product takes no --amount, --reference "
		                "or --expires-in");
	if (card && !product)
		cli_usage_error(usage, "--card is a product's card: give --product");
	if (m.output && m.out_dir)
		cli_usage_error(usage, "-o names one file; --out-dir is for a batch");
	if (m.output && !m.have_format) {
		const char *dot = strrchr(m.output, '.');
		if (!dot || !qr_format_parse(dot + 1, &m.format))
			cli_usage_error(
			    usage, "cannot tell the format of '%s'; end it in .png, .svg or .txt, or give --format",
			    m.output);
	}
	if (m.out_dir && access(m.out_dir, W_OK) != 0)
		err_die(EX_CANTCREAT, "cannot write to --out-dir %s", m.out_dir);
	/* A person at a terminal asking for one code sees it. */
	m.draw = (argc == 1 || buyer) && !m.output && isatty(STDOUT_FILENO);

	struct wpay_ctx c;
	ctx_open(&c);
	secret_src_init(&c.pins, (int)pin_fd);
	struct err e = {0};
	int rc = codes_maker_open(&m.maker, &c, &e);
	if (rc)
		err_die(rc, "%s", e.msg);
	rec_writer_init();
	json_t *req = NULL;
	if (buyer) {
		req = json_pack("{s:s}", "buyer", buyer);
		if (expires)
			json_object_set_new(req, "expires_in", json_string(expires));
	} else if (argc == 1) {
		req = json_pack("{s:s}", "merchant", argv[0]);
		if (amount) {
			/* In --currency's decimals (CNY's unless given); the
			 * merchant's currency must be the same. */
			const char *why = cli_amount(req, "amount", amount, currency);
			if (why) {
				json_decref(req); /* exits: nothing held for the leak checker */
				cli_usage_error(usage, "--amount '%s': %s", amount, why);
			}
		} else if (currency) {
			cli_usage_error(usage, "--currency goes with --amount");
		}
		if (reference)
			json_object_set_new(req, "reference", json_string(reference));
		if (expires)
			json_object_set_new(req, "expires_in", json_string(expires));
		if (product)
			json_object_set_new(req, "product", json_string(product));
		if (card)
			json_object_set_new(req, "card", json_true());
		if (terminal)
			json_object_set_new(req, "terminal", json_string(terminal));
	} else if (m.out_dir) {
		/* Keep freed memory: giving it back page by page from the render
		 * threads costs a TLB flush on every core, each time. */
		mallopt(M_TRIM_THRESHOLD, 64 << 20);
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		m.pool = qr_pool_new(cores > 0 ? (int)cores : 1, m.format, &m.style);
	}
	struct progress progress;
	progress_start(&progress, "codes", 0);
	struct batch_opts opts = {.before_print = render_wait, .progress = &progress, .ask = ask};
	int status = batch_serve(c.st, req, handle, &m, &opts);
	progress_end(&progress);
	qr_pool_free(m.pool);
	qr_thread_done();
	codes_maker_close(&m.maker);
	ctx_close(&c);
	if (!rec_writer_close() && status == 0)
		status = EX_IOERR;
	return status;
}
