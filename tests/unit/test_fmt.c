/* fmt: escaping for a terminal, display widths, tables and short ids. */
#define _GNU_SOURCE /* open_memstream */
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "unit.h"

#include "util.h"

static bool escaped(const char *in, const char *want, int want_width)
{
	int w = -1;
	char *got = fmt_escape(in, strlen(in), &w);
	bool ok = strcmp(got, want) == 0 && w == want_width;
	if (!ok)
		printf("# '%s' -> '%s' width %d\n", in, got, w);
	free(got);
	return ok;
}

/* What fmt prints for lines given, in a memory buffer (caller frees). */
static char *shown(const char *const *lines, size_t n, size_t window)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct fmt_opts o = {.window = window};
	struct fmt *f = fmt_new(out, &o);
	for (size_t i = 0; i < n; i++)
		fmt_line(f, lines[i], strlen(lines[i]));
	fmt_close(f);
	fclose(out);
	return buf;
}

int main(void)
{
	/* fmt_new sets a UTF-8 character type; escapes below need it. */
	struct fmt_opts o = {0};
	FILE *null = fopen("/dev/null", "w");
	fmt_close(fmt_new(null, &o));
	fclose(null);

	CHECK("plain text is kept, one column a character", escaped("Cafe Lu", "Cafe Lu", 7));
	CHECK("CJK is kept, two columns a character", escaped("北京咖啡", "北京咖啡", 8));
	CHECK("a combining accent takes no column", escaped("e\xcc\x81", "e\xcc\x81", 1));
	CHECK("ESC and BEL are shown by number", escaped("\x1b[2J\a", "\\x1b[2J\\x07", 11));
	CHECK("newline, CR, tab and DEL by number", escaped("a\n\r\t\x7f", "a\\x0a\\x0d\\x09\\x7f", 17));
	CHECK("C1 CSI (U+009B) by number", escaped("\xc2\x9b"
	                                           "6n",
	                                           "\\x9b6n", 6));
	CHECK("bidi override and isolate by number", escaped("\xe2\x80\xae"
	                                                     "gnp\xe2\x81\xa6",
	                                                     "\\u202egnp\\u2066", 15));
	CHECK("a byte that is not UTF-8 by number", escaped("\xff", "\\xff", 4));
	CHECK("an overlong NUL is not UTF-8", escaped("\xc0\x80", "\\xc0\\x80", 8));
	CHECK("a surrogate is not UTF-8", escaped("\xed\xa0\x80", "\\xed\\xa0\\x80", 12));
	CHECK("a cut sequence is not UTF-8", escaped("\xe5\x8c", "\\xe5\\x8c", 8));
	CHECK("a backslash is doubled, so escapes cannot be faked", escaped("\\x1b", "\\\\x1b", 5));

	const char *ids[] = {
	    "{\"type\":\"payment\",\"id\":\"pay_01KQ3Z8Y6CAAAAAAAAAAAAAAAA\"}",
	    "{\"type\":\"payment\",\"id\":\"pay_01KQ3Z8Y6CABBBBBBBBBBBBBBB\"}",
	    "{\"type\":\"payment\",\"id\":\"pay_01KQ3Z8Z00000000000000000A\"}",
	};
	char *t = shown(ids, 3, 100);
	CHECK("ids sharing 11 characters show 12", strstr(t, "pay_01KQ3Z8Y6CAA\n") && strstr(t, "pay_01KQ3Z8Y6CAB\n"));
	CHECK("a lone id shows 8", strstr(t, "pay_01KQ3Z8Z\n") != NULL);
	CHECK("one header for one table", strstr(t, "# type") == t && !strstr(t + 1, "# type"));
	free(t);

	const char *mixed[] = {"{\"type\":\"refund\",\"amount\":-5,\"currency\":\"JPY\"}",
	                       "{\"type\":\"refund\",\"amount\":1,\"currency\":\"XXX\"}", "[]", "{\"type\":7}"};
	const char *events[] = {"{\"type\":\"delivery\",\"event\":\"evt_pay_01KQ3Z8Y6CAAAAAAAAAAAAAAAA\"}",
	                        "{\"type\":\"delivery\",\"event\":\"pay__01KQ3Z8Y6CAAAAAAAAAAAAAAAA\"}",
	                        "{\"type\":\"delivery\",\"event\":\"_01KQ3Z8Y6CAAAAAAAAAAAAAAAA\"}"};
	t = shown(events, 3, 100);
	CHECK("an event's id is cut after its subject's prefix", strstr(t, " evt_pay_01KQ3Z8Y\n") != NULL);
	CHECK("a bare '_' and 26 characters is no id", strstr(t, " _01KQ3Z8Y6CAAAAAAAAAAAAAAAA\n") != NULL);
	free(t);

	t = shown(mixed, 4, 1);
	CHECK("JPY has no decimals; a negative amount keeps its sign", strstr(t, "-5 JPY") != NULL);
	CHECK("an unknown currency leaves the integer and its field", strstr(t, "  1  XXX\n") != NULL);
	CHECK("JSON that is no object is passed through, marked", strstr(t, "\n? []\n") != NULL);
	CHECK("a type that is no string is shown as a field", strstr(t, "(no type)  7\n") != NULL);
	free(t);
	return UNIT_DONE();
}
