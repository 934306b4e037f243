/*
 * Unit tests for lib/charset: the edges the bats tests do not reach (empty
 * input, a lone lead byte, the confidence thresholds, forcing with bytes
 * cut in the middle of a character).
 */
#include <string.h>

#include "charset.h"
#include "unit.h"

static int decode(const char *bytes, const char *forced, struct charset_text *t)
{
	return charset_decode((const unsigned char *)bytes, strlen(bytes), forced, t);
}

int main(void)
{
	struct charset_text t;
	CHECK("nothing is ASCII, certain",
	      decode("", NULL, &t) == 0 && t.text && !strcmp(t.encoding, "ascii") && t.certain && t.n == 0);
	charset_free(&t);

	/* 0xB1 alone: no GB18030 (a lead byte cut short); Shift_JIS's half-width ｱ; Latin-1's ±. */
	CHECK("a lone GB lead byte is not GB18030", decode("\xb1", NULL, &t) == 0 && t.n == 2 &&
	                                                strcmp(t.cand[0].name, "gb18030") &&
	                                                strcmp(t.cand[1].name, "gb18030"));
	CHECK("...Shift_JIS's ｱ wins, a guess", !t.certain && !strcmp(t.encoding, "shift_jis"));
	charset_free(&t);

	CHECK("0x80-0x9F alone decodes nowhere but GB18030 leads: binary-ish bytes are low",
	      decode("\x81\x30\x81\x30", NULL, &t) == 0 && !strcmp(t.encoding, "gb18030") &&
	          !strcmp(t.confidence, "low"));
	charset_free(&t);

	CHECK("0.7 and 0.3 ahead is high", !strcmp(charset_confidence(0.7, 0.4), "high"));
	CHECK("just under 0.3 ahead is medium", !strcmp(charset_confidence(0.9, 0.61), "medium"));
	CHECK("0.4 and 0.1 ahead is medium", !strcmp(charset_confidence(0.4, 0.3), "medium"));
	CHECK("below 0.4 is low however far ahead", !strcmp(charset_confidence(0.39, 0), "low"));
	CHECK("a near tie is low", !strcmp(charset_confidence(1.0, 0.95), "low"));

	CHECK("forced, a character cut at the end is invalid, at its first byte",
	      decode("ab\xb1", "gb18030", &t) == -1 && t.bad_at == 2 && !t.text && !t.nul);
	charset_free(&t);
	CHECK("forced names are iconv's, case-insensitively; suffixes refused",
	      charset_known("GB18030") && charset_known("shift_jis") && charset_known("Shift-JIS") &&
	          !charset_known("gbk//IGNORE") && !charset_known("") && !charset_known("no-such-charset"));
	CHECK("forced Shift_JIS is CP932: 0x5C stays a backslash",
	      decode("a\\b", "shift_jis", &t) == 0 && !strcmp(t.text, "a\\b") && t.certain);
	charset_free(&t);
	return UNIT_DONE();
}
