/*
 * util: allocation that dies on out-of-memory, small string helpers.
 * Every lib/ and cmd/ file includes this last, in a block of its own
 * (clang-format sorts only within a block; `make lint` checks it), so
 * banned.h sees the system prototypes first.
 */
#ifndef WPAY_UTIL_H
#define WPAY_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Each returns memory the caller frees; none returns NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Copy src into dst of size n, always terminated; true if it fit. */
bool strlcopy(char *dst, const char *src, size_t n);
/* A growing string: append n bytes, kept NUL-terminated (s is the caller's to free). */
struct strbuf {
	char *s;
	size_t len, cap;
};
void strbuf_add(struct strbuf *b, const char *s, size_t n);
/* Formatted write into a fixed buffer; true if it fit. */
bool bufprintf(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#include "banned.h"

#endif
