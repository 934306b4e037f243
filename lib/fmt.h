/*
 * fmt: wpay records made readable for a person, like column -t for the
 * toolkit (wpay-fmt). Records are shown in tables, one per run of records
 * of the same type, each headed by its field names: amounts as decimals
 * with their currency, times in the process's local zone (TZ), generated
 * ids cut to the shortest prefix (8 characters at least after the '_')
 * that no other id shown shares (among the last 32,768 at least), errors marked '!', lines that are not
 * records passed through marked '?'. Every field is shown, unknown ones
 * too. Text is escaped: no control byte or bidi override reaches the
 * terminal. Columns are aligned by display width over a window: a table
 * is printed when the type changes, after `window` records, or when the
 * input would block, so an endless pipe still prints.
 *
 * The output is for people and may change: nothing should parse it.
 */
#ifndef WPAY_FMT_H
#define WPAY_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct fmt;

struct fmt_opts {
	bool color;    /* SGR colours: errors red, headers dim, non-records yellow */
	size_t window; /* most records a table holds before it is printed */
};

struct fmt *fmt_new(FILE *out, const struct fmt_opts *o);
/* Read lines from fd until its end, printing as tables fill or as the
 * input pauses. Returns 0, or an errno from read. */
int fmt_read(struct fmt *f, int fd);
/* One line of input (without its newline). */
void fmt_line(struct fmt *f, const char *line, size_t len);
/* Print what the window holds. */
void fmt_flush(struct fmt *f);
/* False if writing failed. Frees f. */
bool fmt_close(struct fmt *f);

/* Escape text for a terminal into a new string (caller frees): C0 and C1
 * controls, DEL, bidi controls and invalid UTF-8 as \xNN or \uNNNN, '\'
 * as "\\". *width is its display width in columns. */
char *fmt_escape(const char *s, size_t n, int *width);

#endif
