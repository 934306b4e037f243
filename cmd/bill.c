/*
 * wpay-bill: a merchant's bill of one trade date, the trade bill (every
 * payment and refund, settled or not) or the fund bill (every movement
 * of its accounts), as CSV for accountants or JSON lines. See bills.h.
 */
#include <stdio.h>
#include <string.h>

#include "bills.h"
#include "cli.h"
#include "ctx.h"
#include "records.h"

#include "util.h"

static const char usage[] =
    "wpay-bill [--db path] merchant --date YYYY-MM-DD [--kind trade|fund] [--format csv|jsonl]\n"
    "          [--encoding utf-8|gbk|gb18030] [--bom] [--headers en|zh] [-o file]\n";

enum { OPT_DATE = OPT_FIRST_PROGRAM_OPTION, OPT_KIND, OPT_FORMAT, OPT_ENCODING, OPT_BOM, OPT_HEADERS };

static const struct option options[] = {
    CLI_COMMON_OPTIONS,
    {"date", required_argument, NULL, OPT_DATE},
    {"kind", required_argument, NULL, OPT_KIND},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"encoding", required_argument, NULL, OPT_ENCODING},
    {"bom", no_argument, NULL, OPT_BOM},
    {"headers", required_argument, NULL, OPT_HEADERS},
    {"output", required_argument, NULL, 'o'},
    {NULL, 0, NULL, 0},
};

/* The index of text in words (NULL-terminated), or a usage error. */
static int choice(const char *opt, const char *text, const char *const *words)
{
	for (int i = 0; words[i]; i++)
		if (strcmp(text, words[i]) == 0)
			return i;
	cli_usage_error(usage, "%s '%s': not one of the choices", opt, text);
}

int main(int argc, char **argv)
{
	cli_init("wpay-bill");
	static const char *const kinds[] = {"trade", "fund", NULL}, *const formats[] = {"csv", "jsonl", NULL},
	                         *const headers[] = {"en", "zh", NULL};
	struct bill_opts o = {0};
	const char *date = NULL, *path = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
		if (cli_common_option(opt, usage))
			continue;
		switch (opt) {
		case OPT_DATE: date = optarg; break;
		case OPT_KIND: o.kind = (enum bill_kind)choice("--kind", optarg, kinds); break;
		case OPT_FORMAT: o.format = (enum bill_format)choice("--format", optarg, formats); break;
		case OPT_ENCODING: o.encoding = optarg; break;
		case OPT_BOM: o.bom = true; break;
		case OPT_HEADERS: o.zh = choice("--headers", optarg, headers) == 1; break;
		case 'o': path = optarg; break;
		}
	}
	if (argc - optind != 1)
		cli_usage_error(usage, "name one merchant");
	if (!date)
		cli_usage_error(usage, "which day? --date YYYY-MM-DD (a trade date)");
	if (path && !*path)
		cli_usage_error(usage, "-o needs a file name");
	struct err e = {0};
	int rc = bills_check_opts(&o, &e);
	if (rc)
		cli_usage_error(usage, "%s", e.msg);
	struct wpay_ctx c;
	ctx_open(&c);
	rc = path ? bills_write_file(c.st, argv[optind], date, &o, path, &e)
	          : bills_write(c.st, argv[optind], date, &o, stdout, &e);
	ctx_close(&c);
	if (rc)
		err_die(rc, "%s", e.msg);
	if (fclose(stdout) != 0)
		err_die(EX_IOERR, "cannot write the bill: standard output");
	return 0;
}
