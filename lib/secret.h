/*
 * secret: reading PINs and card numbers, which never come from argv or the
 * environment: from the controlling terminal with echo off, or one line at
 * a time from a file descriptor the caller opened (--pin-fd 3 3<file).
 */
#ifndef WPAY_SECRET_H
#define WPAY_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Room for a PIN line: more than 6 digits, so a long line is seen and refused. */
#define PIN_BUF 64

struct secret_src {
	int fd;   /* -1: the terminal */
	bool eof; /* the fd has no more lines */
};

/* Make this process leave no core file and refuse ptrace by its peers;
 * every program that holds a secret calls it first (ctx_open does). */
void secret_protect_process(void);

/* fd >= 0 reads lines from fd; fd < 0 reads from /dev/tty. */
void secret_src_init(struct secret_src *s, int fd);
/*
 * Read one line into buf (without its newline), prompting on the terminal.
 * Fails with "no_secret" at end of input, or "bad_secret" if the line does
 * not fit. The caller wipes buf with crypto_wipe when done.
 */
int secret_read(struct secret_src *s, const char *prompt, char *buf, size_t n, struct err *e);
/* True if fd is open (for checking --pin-fd before reading records). */
bool secret_fd_open(int fd);

#endif
