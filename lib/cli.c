/* cli: see cli.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "money.h"

#include "util.h"

#ifndef WPAY_VERSION
#define WPAY_VERSION "0.0.0-dev"
#endif

static const char *db_option;

void cli_init(const char *progname)
{
	err_progname = progname;
}

noreturn void cli_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vwarn(fmt, ap);
	va_end(ap);
	fprintf(stderr, "usage: %s", usage);
	err_exit(EX_USAGE);
}

bool cli_common_option(int opt, const char *usage)
{
	switch (opt) {
	case OPT_HELP: printf("usage: %s", usage); err_exit(0);
	case OPT_VERSION: printf("%s %s\n", err_progname, WPAY_VERSION); err_exit(0);
	case OPT_DB: db_option = optarg; return true;
	case '?': fprintf(stderr, "usage: %s", usage); err_exit(EX_USAGE);
	}
	return false;
}

char *cli_record_message(const struct err *e, const char *source, unsigned long line)
{
	if (source && line)
		return xasprintf("%s: %s (%s:%lu)", err_progname, e->msg, source, line);
	return xasprintf("%s: %s", err_progname, e->msg);
}

void cli_record_warn(const struct err *e, const char *source, unsigned long line)
{
	char *message = cli_record_message(e, source, line);
	if (err_before_message)
		err_before_message();
	err_put_message(message, stderr);
	fputc('\n', stderr);
	free(message);
}

static char *xdg_path(const char *var, const char *fallback, const char *leaf)
{
	const char *base = getenv(var);
	if (base && *base == '/')
		return xasprintf("%s/wpay%s%s", base, *leaf ? "/" : "", leaf);
	const char *home = getenv("HOME");
	if (!home || !*home)
		err_die(EX_CONFIG, "neither %s nor HOME is set; set WPAY_DB and WPAY_KEYS", var);
	return xasprintf("%s/%s/wpay%s%s", home, fallback, *leaf ? "/" : "", leaf);
}

char *cli_db_path(void)
{
	if (db_option)
		return xstrdup(db_option);
	const char *env = getenv("WPAY_DB");
	if (env && *env)
		return xstrdup(env);
	return xdg_path("XDG_DATA_HOME", ".local/share", "ledger.db");
}

char *cli_keys_dir(void)
{
	const char *env = getenv("WPAY_KEYS");
	if (env && *env)
		return xstrdup(env);
	return xdg_path("XDG_CONFIG_HOME", ".config", "");
}

long long cli_number(const char *usage, const char *opt, const char *text, long long min, long long max)
{
	char *end;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max)
		cli_usage_error(usage, "%s takes a whole number from %lld to %lld, not '%s'", opt, min, max, text);
	return v;
}

const char *cli_amount(json_t *req, const char *key, const char *text, const char *code)
{
	if (!code)
		code = json_string_value(json_object_get(req, "currency"));
	const struct currency *cur = code ? currency_find(code) : currency_default();
	if (!cur) {
		static char why[96]; /* a program reads one command line */
		bufprintf(why, sizeof why, "unknown currency '%.8s' (an ISO 4217 code, as CNY, JPY or KWD)", code);
		return why;
	}
	int64_t minor;
	const char *why = money_parse(text, cur, false, &minor);
	if (why)
		return why;
	json_object_set_new(req, key, json_integer(minor));
	json_object_set_new(req, "currency", json_string(cur->alpha));
	return NULL;
}
