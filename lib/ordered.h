/*
 * ordered: a function over the lines of a stream on every core, with the
 * answers handed back in the order of the input. One thread reads, the
 * workers run work() on the lines, and the calling thread gets each line
 * in turn in done() as soon as it and every line before it are worked:
 * so an answer is never held back by a read that blocks (a person typing,
 * a pipe that waits for the answer before writing the next line).
 */
#ifndef WPAY_ORDERED_H
#define WPAY_ORDERED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct ordered_line {
	char *text; /* without its line end; NUL-terminated, but may hold NULs */
	size_t len;
	unsigned long lineno; /* from 1 */
	bool too_long;        /* over max_len: text is empty and work() is not called */
	void *result;         /* work()'s, for done() */
};

struct ordered_job {
	size_t max_len; /* a longer line is read and dropped as it is read */
	int workers;    /* threads running work(); below 1: as many as there are cores */
	/* On a worker thread, lines at once: must touch nothing shared without a lock. */
	void (*work)(struct ordered_line *line, void *arg);
	/* On the calling thread, in input order; false stops the reading. */
	bool (*done)(struct ordered_line *line, void *arg);
	void *arg;
};

/* Every line of f through work and done: 0, or the errno of a failed read
 * (the lines before it are all done); *lines, how many were read. */
int ordered_lines(FILE *f, const struct ordered_job *job, unsigned long *lines);

#endif
