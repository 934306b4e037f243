/* csv: see csv.h. */
#include <string.h>

#include "csv.h"

#include "util.h"

bool csv_formula_like(const char *s)
{
	/* OWASP's list: a cell starting with one of these is a formula (or,
	 * TAB and CR, is trimmed into one) in Excel, LibreOffice and Sheets. */
	return s && *s && strchr("=+-@\t\r", *s);
}

static void write_field(FILE *f, const char *s, bool guard, bool last)
{
	if (!s)
		s = "";
	const char *lead = guard && csv_formula_like(s) ? "'" : "";
	if (strpbrk(s, ",\"\r\n;")) {
		fputc('"', f);
		fputs(lead, f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(lead, f);
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

void csv_field(FILE *f, const char *s, bool last)
{
	write_field(f, s, true, last);
}

/* -?digits(.digits)? : what money_format makes, and never a formula. */
static bool plain_decimal(const char *s)
{
	if (*s == '-')
		s++;
	size_t whole = strspn(s, "0123456789");
	if (!whole)
		return false;
	s += whole;
	if (*s == '.') {
		size_t frac = strspn(s + 1, "0123456789");
		if (!frac)
			return false;
		s += 1 + frac;
	}
	return *s == '\0';
}

void csv_number(FILE *f, const char *s, bool last)
{
	/* A negative amount such as -5.00 starts with '-' but is a number, and
	 * must stay one for the sums in a bill; the guard is for text. */
	write_field(f, s, !(s && plain_decimal(s)), last);
}

int csv_split(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;
	while (n < max) {
		char *out = p;
		fields[n++] = p;
		if (*p == '"') {
			char *r = p + 1;
			for (;;) {
				if (!*r)
					return -1; /* an unclosed quote */
				if (*r == '"' && r[1] == '"')
					*out++ = '"', r += 2;
				else if (*r == '"')
					break;
				else
					*out++ = *r++;
			}
			r++;
			if (*r && *r != ',')
				return -1;
			*out = '\0';
			if (!*r)
				return n;
			p = r + 1;
		} else {
			char *comma = strchr(p, ',');
			if (!comma)
				return n;
			*comma = '\0';
			p = comma + 1;
		}
	}
	return -1;
}
