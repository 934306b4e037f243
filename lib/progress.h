/*
 * progress: one line on stderr for a person watching a long run (records
 * done, their rate, errors), the one way every program shows it. Only
 * when stderr is a terminal, and only once the run has passed a second:
 * a short run, a pipe or a log file never sees it. The line is erased
 * before anything else is written to the terminal and at the end.
 */
#ifndef WPAY_PROGRESS_H
#define WPAY_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct progress {
	const char *what; /* what a record is, plural: "payments" */
	size_t done, errors;
	size_t total;     /* 0: not known in advance */
	int64_t start_ms; /* monotonic */
	int64_t shown_ms; /* when the line was last drawn */
	bool on, shown, stdout_tty;
};

/* Start counting; the line is shown only if stderr is a terminal. */
void progress_start(struct progress *p, const char *what, size_t total);
/* Count n more records, of which errors failed, then redraw if due. */
void progress_add(struct progress *p, size_t n, size_t errors);
/* Before other output: erase the line if it is shown (the next
 * progress_add draws it again). stdout_only: the output goes to stdout,
 * which meets the line only when stdout is a terminal as well. */
void progress_clear(struct progress *p, bool stdout_only);
/* At the end of the run: erase the line. */
void progress_end(struct progress *p);

#endif
