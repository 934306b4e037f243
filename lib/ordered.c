/* ordered: see ordered.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "err.h"
#include "ordered.h"

#include "util.h"

/* Lines read ahead of the one done() waits for: enough to keep the
 * workers busy while one slow line is worked. */
#define RING        256
#define WORKERS_MAX 16
#define BATCH       8

struct ring {
	FILE *f;
	const struct ordered_job *job;
	pthread_mutex_t lock;
	pthread_cond_t read_more, work_more, done_more;
	struct slot {
		struct ordered_line line;
		bool worked;
	} slots[RING];
	/* Sequence numbers, each slots[n % RING]: the next line to read, to
	 * work, to hand to done(). */
	unsigned long read, taken, handed;
	bool eof, stop;
	int read_errno, workers;
};

/* The next line of f, without its line end (nor trailing CRs), into buf of
 * max_len + 2 bytes; false at the end of the input. At most max_len + 1
 * bytes are kept: the rest of a longer line is read and dropped
 * (*too_long), so a line of 400 MB costs no more memory than one of 400
 * bytes. Bytes, not a C string: a NUL is kept like any other byte. */
static bool read_line(FILE *f, char *buf, size_t max_len, size_t *len, bool *too_long)
{
	size_t n = 0;
	int c;
	*too_long = false;
	while ((c = getc_unlocked(f)) != EOF && c != '\n') {
		if (n <= max_len)
			buf[n++] = (char)c;
		else
			*too_long = true;
	}
	if (c == EOF && n == 0)
		return false;
	while (n && buf[n - 1] == '\r')
		n--;
	if (n > max_len)
		*too_long = true;
	buf[n] = '\0';
	*len = n;
	return true;
}

static void *reader(void *arg)
{
	struct ring *r = arg;
	char *buf = xmalloc(r->job->max_len + 2);
	unsigned long lineno = 0;
	for (;;) {
		pthread_mutex_lock(&r->lock);
		while (r->read - r->handed == RING && !r->stop)
			pthread_cond_wait(&r->read_more, &r->lock);
		bool stop = r->stop;
		pthread_mutex_unlock(&r->lock);
		if (stop)
			break;
		/* Outside the lock: it may wait for a person or a pipe. */
		struct ordered_line line = {0};
		bool more = read_line(r->f, buf, r->job->max_len, &line.len, &line.too_long);
		int read_errno = !more && ferror(r->f) ? errno : 0;
		if (more) {
			line.lineno = ++lineno;
			if (line.too_long)
				line.len = 0;
			line.text = xmalloc(line.len + 1);
			memcpy(line.text, line.too_long ? "" : buf, line.len + 1);
		}
		pthread_mutex_lock(&r->lock);
		if (more) {
			r->slots[r->read % RING] = (struct slot){.line = line};
			r->read++;
			pthread_cond_signal(&r->work_more);
		} else {
			r->eof = true;
			r->read_errno = read_errno ? read_errno : (ferror(r->f) ? EIO : 0);
			pthread_cond_broadcast(&r->work_more);
			pthread_cond_broadcast(&r->done_more);
		}
		pthread_mutex_unlock(&r->lock);
		if (!more)
			break;
	}
	free(buf);
	return NULL;
}

static void *worker(void *arg)
{
	struct ring *r = arg;
	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (r->taken == r->read && !r->eof && !r->stop)
			pthread_cond_wait(&r->work_more, &r->lock);
		if (r->taken == r->read || r->stop)
			break;
		/* A few lines at a time, the waiting ones shared between the
		 * workers: a lock and a wake-up for every line cost a tenth of
		 * the time of a short one. */
		unsigned long first = r->taken, n = (r->read - r->taken + r->workers - 1) / r->workers;
		if (n > BATCH)
			n = BATCH;
		r->taken += n;
		pthread_mutex_unlock(&r->lock);
		for (unsigned long k = first; k < first + n; k++) {
			struct slot *s = &r->slots[k % RING];
			if (!s->line.too_long)
				r->job->work(&s->line, r->job->arg);
		}
		pthread_mutex_lock(&r->lock);
		for (unsigned long k = first; k < first + n; k++)
			r->slots[k % RING].worked = true;
		if (first <= r->handed && r->handed < first + n)
			pthread_cond_signal(&r->done_more);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int ordered_lines(FILE *f, const struct ordered_job *job, unsigned long *lines)
{
	struct ring *r = xcalloc(1, sizeof *r);
	r->f = f;
	r->job = job;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->read_more, NULL);
	pthread_cond_init(&r->work_more, NULL);
	pthread_cond_init(&r->done_more, NULL);
	int n = job->workers;
	if (n < 1) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		n = cores < 1 ? 1 : cores > WORKERS_MAX ? WORKERS_MAX : (int)cores;
	}
	r->workers = n;
	pthread_t threads[WORKERS_MAX], read_thread;
	int started = 0;
	int rc = pthread_create(&read_thread, NULL, reader, r);
	if (rc != 0)
		err_die(EX_OSERR, "cannot start a thread to read the input: %s", strerror(rc));
	while (started < n && (rc = pthread_create(&threads[started], NULL, worker, r)) == 0)
		started++;
	if (started == 0)
		err_die(EX_OSERR, "cannot start a thread to work on the input: %s", strerror(rc));

	pthread_mutex_lock(&r->lock);
	for (;;) {
		struct slot *s = &r->slots[r->handed % RING];
		if (r->handed < r->taken && s->worked) {
			pthread_mutex_unlock(&r->lock);
			bool go_on = job->done(&s->line, job->arg);
			free(s->line.text);
			pthread_mutex_lock(&r->lock);
			r->handed++;
			if (!go_on && !r->stop) {
				r->stop = true;
				pthread_cond_broadcast(&r->work_more);
				pthread_cond_broadcast(&r->read_more);
			}
			/* The reader waits for a quarter of the ring, not each line. */
			if (r->read - r->handed == RING - RING / 4)
				pthread_cond_signal(&r->read_more);
			continue;
		}
		if ((r->eof && r->handed == r->read) || (r->stop && r->handed == r->taken))
			break;
		pthread_cond_wait(&r->done_more, &r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	pthread_join(read_thread, NULL);
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	/* Stopped: lines read that no worker took. */
	for (; r->handed < r->read; r->handed++)
		free(r->slots[r->handed % RING].line.text);
	rc = r->stop ? 0 : r->read_errno;
	*lines = r->read;
	pthread_cond_destroy(&r->read_more);
	pthread_cond_destroy(&r->work_more);
	pthread_cond_destroy(&r->done_more);
	pthread_mutex_destroy(&r->lock);
	free(r);
	return rc;
}
