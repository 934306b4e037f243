/* progress: see progress.h. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "progress.h"

#include "util.h"

/* Not clock_now_ms: the test build's clock can stand still (WPAY_NOW),
 * and a rate needs the time that really passed. */
static int64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum { PROGRESS_AFTER_MS = 1000, PROGRESS_EVERY_MS = 250 };

/* The line on the terminal now, erased before any message (err.h). */
static struct progress *active;

static void clear_active(void)
{
	if (active)
		progress_clear(active, false);
}

void progress_start(struct progress *p, const char *what, size_t total)
{
	*p = (struct progress){.what = what,
	                       .total = total,
	                       .start_ms = monotonic_ms(),
	                       .on = isatty(STDERR_FILENO) == 1,
	                       .stdout_tty = isatty(STDOUT_FILENO) == 1};
	if (p->on) {
		active = p;
		err_before_message = clear_active;
	}
}

/* 1234567 as "1,234,567": counts a person reads at a glance. */
static void grouped(size_t n, char buf[32])
{
	char digits[24];
	int len = snprintf(digits, sizeof digits, "%zu", n), o = 0;
	for (int i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
}

void progress_add(struct progress *p, size_t n, size_t errors)
{
	p->done += n;
	p->errors += errors;
	if (!p->on)
		return;
	int64_t now = monotonic_ms();
	if (now - p->start_ms < PROGRESS_AFTER_MS || (p->shown && now - p->shown_ms < PROGRESS_EVERY_MS))
		return;
	char done[32], total[32], rate[32];
	grouped(p->done, done);
	grouped(p->total, total);
	grouped((size_t)((double)p->done * 1000.0 / (double)(now - p->start_ms) + 0.5), rate);
	if (p->stdout_tty)
		fflush(stdout); /* answers reach the terminal before the line */
	/* \r and erase to the end: the line is drawn over itself. */
	fprintf(stderr, "\r%s: %s%s%s %s, %s/s, %zu error%s\033[K", err_progname ? err_progname : "wpay", done,
	        p->total ? " of " : "", p->total ? total : "", p->what, rate, p->errors, p->errors == 1 ? "" : "s");
	fflush(stderr);
	p->shown = true;
	p->shown_ms = now;
}

void progress_clear(struct progress *p, bool stdout_only)
{
	if (!p->shown || (stdout_only && !p->stdout_tty))
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->shown = false;
	p->shown_ms = 0;
}

void progress_end(struct progress *p)
{
	progress_clear(p, false);
	if (active == p) {
		active = NULL;
		err_before_message = NULL;
	}
}
