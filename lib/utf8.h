/* utf8: validation and code point counting, strict (no overlongs, no surrogates). */
#ifndef WPAY_UTF8_H
#define WPAY_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True if s[0..n) is well-formed UTF-8. On failure *bad_at is the byte offset. */
bool utf8_valid(const char *s, size_t n, size_t *bad_at);
/* Code points in a valid UTF-8 string. */
size_t utf8_count(const char *s);
/* Make each byte of s that is not part of well-formed UTF-8 a '?' (a
 * character that "%.60s" or a full buffer cut in two, a Latin-1 file
 * name): JSON cannot carry them, and a record with them would be lost. */
void utf8_scrub(char *s);
/* True if every byte is ASCII. */
bool utf8_is_ascii(const char *s);
/* True if the string has a C0 control character or DEL (a name must not). */
bool utf8_has_control(const char *s);
/* True for a code point that moves the cursor, recolours, or reorders
 * what follows: C0 and C1 controls, DEL, bidi marks and overrides, line
 * and paragraph separators, the BOM. */
bool utf8_unsafe_cp(long cp);
/* True if valid UTF-8 s has such a code point (text shown to a person). */
bool utf8_has_unsafe(const char *s);

#endif
