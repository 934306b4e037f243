/*
 * csv: the toolkit's one CSV writer, and the splitter that reads a
 * merchant's CSV lines.
 *
 * Fields are written as RFC 4180 says: a field holding a comma, a double
 * quote, CR or LF is quoted, its quotes doubled (a semicolon too, for
 * spreadsheets whose locale splits on it); lines end in LF. Text fields
 * are also neutralised against CSV injection as OWASP advises: one that
 * begins with = + - @, TAB or CR, which a spreadsheet would run as a
 * formula, gets a single quote (') in front, so it is shown as text.
 */
#ifndef WPAY_CSV_H
#define WPAY_CSV_H

#include <stdbool.h>
#include <stdio.h>

/* Write a text field (NULL: empty), then a comma, or a newline if last. */
void csv_field(FILE *f, const char *s, bool last);
/* Write a number we made (e.g. "-5.00") as it is, so a spreadsheet keeps
 * it a number; anything that is not a plain decimal is written as text. */
void csv_number(FILE *f, const char *s, bool last);
/* True if a text field would be neutralised (it begins like a formula). */
bool csv_formula_like(const char *s);

/* Split one CSV line (no line end; quoted fields allowed, quotes doubled)
 * into at most max fields, in place; the count, or -1 if malformed (an
 * unclosed quote, text after a closing quote, more than max fields). */
int csv_split(char *line, char **fields, int max);

#endif
