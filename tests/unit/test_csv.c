/* Unit tests for lib/csv: the one CSV field writer, and the splitter. */
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "unit.h"

/* What csv_field (or csv_number) writes for s as the last field of a line. */
static bool writes(bool number, const char *s, const char *want)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return false;
	number ? csv_number(f, s, true) : csv_field(f, s, true);
	fclose(f);
	bool ok = strcmp(buf, want) == 0;
	if (!ok)
		printf("# wrote [%s], wanted [%s]\n", buf, want);
	free(buf);
	return ok;
}

/* Two fields as one line. */
static bool writes_two(const char *a, const char *b, const char *want)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return false;
	csv_field(f, a, false);
	csv_field(f, b, true);
	fclose(f);
	bool ok = strcmp(buf, want) == 0;
	free(buf);
	return ok;
}

/* Write fields as one line, split it back, and compare (guards expected). */
static bool round_trip(const char *const *in, const char *const *want, int n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return false;
	for (int i = 0; i < n; i++)
		csv_field(f, in[i], i == n - 1);
	fclose(f);
	buf[len - 1] = '\0'; /* the line end */
	char *fields[8];
	int got = csv_split(buf, fields, 8);
	bool ok = got == n;
	for (int i = 0; ok && i < n; i++)
		ok = strcmp(fields[i], want[i]) == 0;
	free(buf);
	return ok;
}

int main(void)
{
	CHECK("a plain field is written as it is", writes(false, "cafe01", "cafe01\n"));
	CHECK("NULL is an empty field", writes(false, NULL, "\n"));
	CHECK("a field that is not last ends in a comma", writes_two("a", "", "a,\n"));
	CHECK("a comma is quoted", writes(false, "a,b", "\"a,b\"\n"));
	CHECK("quotes are doubled inside quotes", writes(false, "say \"hi\"", "\"say \"\"hi\"\"\"\n"));
	CHECK("CR and LF are quoted", writes(false, "a\r\nb", "\"a\r\nb\"\n"));
	CHECK("a semicolon is quoted (locales that split on it)", writes(false, "a;=1", "\"a;=1\"\n"));
	CHECK("= is neutralised", writes(false, "=1+1", "'=1+1\n"));
	CHECK("+ is neutralised", writes(false, "+1", "'+1\n"));
	CHECK("- is neutralised in text", writes(false, "-2+3", "'-2+3\n"));
	CHECK("@ is neutralised", writes(false, "@SUM(1)", "'@SUM(1)\n"));
	CHECK("TAB first is neutralised", writes(false, "\t=1", "'\t=1\n"));
	CHECK("CR first is neutralised and quoted", writes(false, "\r=1", "\"'\r=1\"\n"));
	CHECK("the OWASP payload is neutralised", writes(false, "=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0\n"));
	CHECK("neutralised and quoted together",
	      writes(false, "=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\n"));
	CHECK("= inside a field is left alone", writes(false, "a=b", "a=b\n"));
	CHECK("a negative amount stays a number", writes(true, "-5.00", "-5.00\n"));
	CHECK("a whole number stays a number", writes(true, "500", "500\n"));
	CHECK("zero stays a number", writes(true, "0.00", "0.00\n"));
	CHECK("a formula passed as a number is still neutralised", writes(true, "-2+3", "'-2+3\n"));
	CHECK("a bare minus is text", writes(true, "-", "'-\n"));
	CHECK("a trailing point is not a plain decimal", writes(true, "-5.", "'-5.\n"));
	CHECK("formula-like: = + - @ TAB CR", csv_formula_like("=") && csv_formula_like("+") && csv_formula_like("-") &&
	                                          csv_formula_like("@") && csv_formula_like("\t") &&
	                                          csv_formula_like("\r"));
	CHECK("not formula-like: letters, digits, quote, empty, NULL",
	      !csv_formula_like("a") && !csv_formula_like("1") && !csv_formula_like("'=") && !csv_formula_like("") &&
	          !csv_formula_like(NULL));

	static const char *const in[] = {"m:cafe01", "a,\"b\"", "=1+1", "", "x;y"};
	static const char *const back[] = {"m:cafe01", "a,\"b\"", "'=1+1", "", "x;y"};
	CHECK("what is written splits back into the same fields (guards kept)", round_trip(in, back, 5));
	char bad[] = "\"open,b";
	char *fields[4];
	CHECK("an unclosed quote is malformed", csv_split(bad, fields, 4) == -1);
	char after[] = "\"a\"b,c";
	CHECK("text after a closing quote is malformed", csv_split(after, fields, 4) == -1);
	char many[] = "a,b,c,d,e";
	CHECK("more fields than asked for is malformed", csv_split(many, fields, 4) == -1);
	char empty[] = "a,,c";
	CHECK("empty fields split", csv_split(empty, fields, 4) == 3 && !*fields[1] && strcmp(fields[2], "c") == 0);
	return UNIT_DONE();
}
