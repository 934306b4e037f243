/*
 * err: how a lib/ function fails, and the program's voice on stderr.
 *
 * A function that can fail takes `struct err *e` as its last parameter and
 * returns 0 when it worked. To fail it fills e with err_fail, a stable
 * code for scripts and a sentence for people, and returns what err_fail
 * returns: ERR_FAIL (-1), or, where its header says so, a sysexits(3)
 * status, when the kind of failure decides how the program exits:
 *
 *	return err_fail(e, ERR_FAIL, "not_found", "no order '%s'", id);
 *	return err_fail(e, EX_NOINPUT, "no_ledger", "no ledger at %s", path);
 *
 * A record handler (batch.h) returns BATCH_FAIL, which is ERR_FAIL, or
 * BATCH_ASK. The parsers of outside bytes that need no ledger (emv, qr,
 * the checks in money and merchants) answer with a reason string or, for
 * emv, their own error with the place the payload broke; whoever calls
 * them for a request turns that into an err.
 *
 * Nothing here needs jansson: the store and the keys use it too.
 *
 * Failures nobody can handle (out of memory, a broken ledger, a bug) end
 * the program through err_die, which prints "<program>: message" (the name
 * cli_init set) and is, with err_exit, the only way lib/ exits.
 */
#ifndef WPAY_ERR_H
#define WPAY_ERR_H

#include <stdarg.h>
#include <stdio.h>
#include <stdnoreturn.h>

#define ERR_MSG_MAX 512

enum { ERR_FAIL = -1 };

/* What went wrong: a stable code and a sentence for people. */
struct err {
	const char *code; /* static string, e.g. "bad_field" */
	char msg[ERR_MSG_MAX];
};

/* Fill e and return status (ERR_FAIL, or a sysexits status). */
int err_fail(struct err *e, int status, const char *code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The program's name in diagnostics, "wpay" until cli_init sets it. */
extern const char *err_progname;
/* Called before any message is written to stderr (NULL: none): a progress
 * line on the terminal erases itself (progress.h). */
extern void (*err_before_message)(void);
/* "<program>: message" on stderr. */
void err_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void err_vwarn(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
/* Write a message for a person to f with its terminal controls shown by
 * number (C0 and DEL as \x1b, C1 and bidi overrides as \u009b): a
 * message may quote what a stranger wrote (a merchant's file, a record),
 * and that must not move the cursor or retitle the terminal. */
void err_put_message(const char *s, FILE *f);
/* err_warn, then err_exit(status). */
noreturn void err_die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* End the program with status, after flushing standard output: a failed
 * flush turns a success into 74. */
noreturn void err_exit(int status);

#endif
