/*
 * cli: what every program shares on its command line: the program name in
 * diagnostics, -h/--help, --version, --db, usage errors, and where the
 * ledger and key files live. Exit statuses (see wpay(7)) are sysexits(3)
 * plus EX_RECORDS for "ran, but some records failed".
 */
#ifndef WPAY_CLI_H
#define WPAY_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdnoreturn.h>
#include <sysexits.h>

#include "err.h"

#define EX_RECORDS 1

/* Long options every program takes; put first in a program's table. */
enum { OPT_HELP = 'h', OPT_VERSION = 0x100, OPT_DB, OPT_FIRST_PROGRAM_OPTION };
#define CLI_COMMON_OPTIONS                                                                                             \
	{"help", no_argument, NULL, OPT_HELP}, {"version", no_argument, NULL, OPT_VERSION},                            \
	{                                                                                                              \
		"db", required_argument, NULL, OPT_DB                                                                  \
	}

/* Set the name used in diagnostics. */
void cli_init(const char *progname);
/*
 * Handle a common option; returns true if it was one. -h prints usage to
 * stdout and exits 0; --version prints the version and exits 0; an unknown
 * option ('?') prints usage to stderr and exits 64.
 */
bool cli_common_option(int opt, const char *usage);
noreturn void cli_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "prog: message (<stdin>:12)" for a failed record: printed to stderr, or
 * made (caller frees) to be printed later. */
void cli_record_warn(const struct err *e, const char *source, unsigned long line);
char *cli_record_message(const struct err *e, const char *source, unsigned long line);

/* The ledger: --db, else $WPAY_DB, else $XDG_DATA_HOME/wpay/ledger.db
 * (~/.local/share/wpay/ledger.db). Caller frees. */
char *cli_db_path(void);
/* Key files: $WPAY_KEYS, else $XDG_CONFIG_HOME/wpay (~/.config/wpay). Caller frees. */
char *cli_keys_dir(void);
/*
 * An amount typed on the command line, a decimal in its currency's minor
 * units ("12.34" CNY, "1000" JPY, "1.234" KWD), put in req as minor units
 * under key, with "currency" set: code, else req's "currency", else CNY.
 * NULL, or why it is no amount (unknown currency, too many decimals, ...).
 */
const char *cli_amount(json_t *req, const char *key, const char *text, const char *code);
/* Parse a non-negative decimal integer option in [min, max]; exits 64 if not. */
long long cli_number(const char *usage, const char *opt, const char *text, long long min, long long max);

#endif
