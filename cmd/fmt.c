/*
 * wpay-fmt: records made readable for a person at the end of a pipeline:
 * aligned tables, amounts with their currency, times in the ledger's zone,
 * short ids, errors marked. It reads any wpay records (and passes other
 * lines through, marked) and its output feeds no program. See fmt.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "fmt.h"
#include "period.h"
#include "store.h"

#include "util.h"

static const char usage[] = "wpay-fmt [--db path] [--tz zone] [--color auto|always|never] [--window n] [file ...]\n";

enum { OPT_TZ = OPT_FIRST_PROGRAM_OPTION, OPT_COLOR, OPT_WINDOW };

static const struct option options[] = {
    CLI_COMMON_OPTIONS,
    {"tz", required_argument, NULL, OPT_TZ},
    {"color", required_argument, NULL, OPT_COLOR},
    {"window", required_argument, NULL, OPT_WINDOW},
    {NULL, 0, NULL, 0},
};

/* Times in the ledger's zone when there is a ledger; else TZ as it is. */
static void ledger_zone(void)
{
	char *db = cli_db_path();
	struct store *st = NULL;
	struct err e = {0};
	char tz[PERIOD_TZ_MAX];
	int cutoff, rc = 0;
	if (store_is_url(db) || access(db, F_OK) == 0) {
		if ((rc = store_open_readonly(db, &st, &e)) == 0)
			rc = period_ledger_zone(st, tz, &cutoff, &e);
		else if (rc == EX_NOINPUT)
			rc = 0; /* a database with no ledger in it yet: TZ */
		store_close(st);
	}
	free(db);
	if (rc)
		err_die(rc, "%s", e.msg);
}

int main(int argc, char **argv)
{
	cli_init("wpay-fmt");
	const char *tz = NULL, *when = "auto";
	struct fmt_opts o = {0};
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (cli_common_option(opt, usage))
			continue;
		switch (opt) {
		case OPT_TZ: tz = optarg; break;
		case OPT_COLOR: when = optarg; break;
		case OPT_WINDOW: o.window = (size_t)cli_number(usage, "--window", optarg, 1, 100000); break;
		}
	}
	if (strcmp(when, "always") == 0)
		o.color = true;
	else if (strcmp(when, "auto") == 0)
		o.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR") &&
		          !(getenv("TERM") && strcmp(getenv("TERM"), "dumb") == 0);
	else if (strcmp(when, "never") != 0)
		cli_usage_error(usage, "--color is auto, always or never, not '%s'", when);
	if (tz) {
		const char *why = period_check_tz(tz);
		if (why)
			cli_usage_error(usage, "--tz '%s': %s", tz, why);
		setenv("TZ", tz, 1);
		tzset();
	} else {
		ledger_zone();
	}
	struct fmt *f = fmt_new(stdout, &o);
	int status = 0;
	for (int i = optind; i < argc || i == optind; i++) {
		const char *name = i < argc ? argv[i] : "-";
		int fd = strcmp(name, "-") == 0 ? STDIN_FILENO : open(name, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fmt_flush(f);
			err_warn("cannot open %s: %s", name, strerror(errno));
			status = EX_NOINPUT;
			continue;
		}
		int rc = fmt_read(f, fd);
		if (rc) {
			err_warn("cannot read %s: %s", name, strerror(rc));
			status = EX_IOERR;
		}
		if (fd != STDIN_FILENO)
			close(fd);
	}
	if (!fmt_close(f)) {
		err_warn("cannot write to standard output: %s", strerror(errno));
		return EX_IOERR;
	}
	return status;
}
