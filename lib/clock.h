/*
 * clock: the one source of "now" for the toolkit, and RFC 3339 times.
 *
 * Built twice: the shipped programs read the system clock only; the test
 * build (-DWPAY_TEST_CLOCK, used by `make check`) also honours WPAY_NOW,
 * so expiry, lockouts and T+15 can be tested without waiting. A shipped
 * binary ignores WPAY_NOW, so it cannot be used to step past a PIN lockout.
 */
#ifndef WPAY_CLOCK_H
#define WPAY_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define CLOCK_TEXT_MAX 32

/* The test build's other seam: with WPAY_CRASH=point:n the process dies
 * (as by SIGKILL, exit 137) the n-th time it passes point, to prove that a
 * crash leaves nothing half done. Does nothing in shipped programs. */
void clock_test_crash(const char *point);

/* Milliseconds since the Unix epoch. */
int64_t clock_now_ms(void);
/* True when this build honours WPAY_NOW. */
bool clock_is_settable(void);

/* "2026-11-22T10:15:12Z" (UTC, whole seconds) into buf. */
void clock_format(int64_t ms, char buf[CLOCK_TEXT_MAX]);
/* Parse RFC 3339 (Z or +hh:mm offset, optional fraction); false if malformed. */
bool clock_parse(const char *text, int64_t *ms);
/* Parse a duration: "90" (seconds), "90s", "15m", "3h", "2d"; false if malformed. */
bool clock_parse_duration(const char *text, int64_t *ms);
/* A calendar date "YYYY-MM-DD" from 1970 on that exists (no 2026-02-30). */
bool clock_parse_date(const char *s, int *y, int *m, int *d);

#endif
