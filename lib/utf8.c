/* utf8: see utf8.h. Follows the well-formed table of Unicode 15, section 3.9. */
#include <stdint.h>
#include <string.h>

#include "utf8.h"

#include "util.h"

bool utf8_valid(const char *str, size_t n, size_t *bad_at)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t len;
		unsigned lo = 0x80, hi = 0xBF;
		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			len = 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		} else {
			goto bad;
		}
		if (i + len > n)
			goto bad;
		if (s[i + 1] < lo || s[i + 1] > hi)
			goto bad;
		for (size_t k = 2; k < len; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				goto bad;
		i += len;
	}
	return true;
bad:
	if (bad_at)
		*bad_at = i;
	return false;
}

void utf8_scrub(char *s)
{
	size_t n = strlen(s), from = 0, at;
	while (!utf8_valid(s + from, n - from, &at)) {
		s[from + at] = '?';
		from += at + 1;
	}
}

size_t utf8_count(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

bool utf8_has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7F)
			return true;
	return false;
}

bool utf8_is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

bool utf8_unsafe_cp(long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0xfeff;
}

bool utf8_has_unsafe(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	while (*s) {
		/* Valid UTF-8 (the caller checked): the lead byte gives the length. */
		size_t len = *s < 0x80 ? 1 : *s < 0xE0 ? 2 : *s < 0xF0 ? 3 : 4;
		long cp = len == 1 ? *s : *s & (0x7F >> len);
		for (size_t k = 1; k < len && s[k]; k++)
			cp = cp << 6 | (s[k] & 0x3F);
		if (utf8_unsafe_cp(cp))
			return true;
		for (size_t k = 0; k < len && *s; k++)
			s++;
	}
	return false;
}
