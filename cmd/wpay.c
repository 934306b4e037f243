/*
 * wpay: the dispatcher. `wpay pay ...` runs wpay-pay, found first beside
 * this program and then on PATH, as git does; `wpay` alone lists the
 * programs. The wpay- prefix keeps the real names clear of shell builtins
 * (bind) and of other tools' generic names (order, pay).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "util.h"

#ifndef WPAY_VERSION
#define WPAY_VERSION "0.0.0-dev"
#endif

static const struct program {
	const char *name, *what;
} programs[] = {
    {"init", "create the ledger and the key files"},
    {"bind", "users, wallets, cards, PINs, merchants and deposits"},
    {"check", "prove the ledger: balances, zero sums, overdraft rules"},
    {"mkqr", "make payable EMV QR codes for merchants and products"},
    {"scanqr", "read QR codes from images or text and explain them"},
    {"order", "place, query, close and expire orders"},
    {"pay", "pay orders with a wallet and a 6-digit PIN"},
    {"refund", "refund paid orders through the merchant"},
    {"settle", "settle merchants in batches and write payout files"},
    {"notify", "deliver merchant notifications over HTTP"},
    {"fmt", "show records as aligned tables for a person"},
};

static const char usage[] = "wpay [program [args ...]]\n"
                            "       wpay -h | --version\n";

/* Directory this executable lives in, or NULL. */
static char *self_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return xstrdup(buf);
}

static char *find_program(const char *dir, const char *name)
{
	char *path = xasprintf("%s/wpay-%s", dir, name);
	if (access(path, X_OK) == 0)
		return path;
	free(path);
	return NULL;
}

static int list(void)
{
	char *dir = self_dir();
	printf("usage: %s\nprograms:\n", usage);
	for (size_t i = 0; i < ARRAY_LEN(programs); i++) {
		char *path = dir ? find_program(dir, programs[i].name) : NULL;
		if (path || !dir)
			printf("  %-8s %s\n", programs[i].name, programs[i].what);
		free(path);
	}
	free(dir);
	return fflush(stdout) == 0 ? 0 : EX_IOERR;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return list();
	const char *name = argv[1];
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0)
		return list();
	if (strcmp(name, "--version") == 0) {
		printf("wpay %s\n", WPAY_VERSION);
		return fflush(stdout) == 0 ? 0 : EX_IOERR;
	}
	if (name[0] == '-' || strchr(name, '/')) {
		fprintf(stderr, "wpay: '%s' is not a program name\nusage: %s", name, usage);
		return EX_USAGE;
	}
	char *dir = self_dir();
	char *path = dir ? find_program(dir, name) : NULL;
	char *prog = xasprintf("wpay-%s", name);
	argv[1] = prog;
	if (path)
		execv(path, argv + 1);
	else
		execvp(prog, argv + 1);
	int err = errno;
	if (err == ENOENT)
		fprintf(stderr, "wpay: '%s' is not a wpay program; run 'wpay' to list them\n", name);
	else
		fprintf(stderr, "wpay: cannot run %s: %s\n", path ? path : prog, strerror(err));
	free(dir);
	free(path);
	free(prog);
	return err == ENOENT ? EX_USAGE : err == EACCES ? EX_NOPERM : EX_OSERR;
}
