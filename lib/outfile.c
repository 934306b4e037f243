/* outfile: see outfile.h. */
#define _GNU_SOURCE /* syncfs */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "crypto.h"
#include "outfile.h"

#include "util.h"

void outfiles_init(struct outfiles *of)
{
	of->list = json_array();
}

FILE *outfiles_create(struct outfiles *of, const char *path, mode_t mode, struct err *e)
{
	/* A new file of ours, never one found there: O_EXCL refuses any name
	 * that exists, a planted link included, so it cannot be made to write
	 * through a link to another file; the name is random, so no one can
	 * take every name we might pick. */
	char *tmp = NULL;
	int fd = -1;
	for (int tries = 0; fd < 0 && tries < 16; tries++) {
		unsigned char r[8];
		char hex[2 * sizeof r + 1];
		crypto_random(r, sizeof r);
		hex_encode(r, sizeof r, hex);
		free(tmp);
		tmp = xasprintf("%s.tmp.%s", path, hex);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		err_fail(e, EX_CANTCREAT, "io", "cannot create %s: %s", tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return NULL;
	}
	/* Big writes: a bill is many short lines. */
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	json_array_append_new(of->list, json_pack("[s, s]", tmp, path));
	free(tmp);
	e->code = NULL;
	return f;
}

int outfiles_close(struct outfiles *of, FILE *f, int rc, struct err *e)
{
	int saved = errno;
	if (fclose(f) != 0 && !rc)
		rc = EX_IOERR, saved = errno;
	if (!rc)
		return 0;
	size_t last = json_array_size(of->list) - 1;
	const char *tmp = json_string_value(json_array_get(json_array_get(of->list, last), 0));
	unlink(tmp);
	if (rc == EX_IOERR && !e->code)
		err_fail(e, EX_IOERR, "io", "cannot write %s: %s", tmp, strerror(saved ? saved : EIO));
	json_array_remove(of->list, last);
	return rc;
}

int outfiles_append(struct outfiles *of, size_t i, const void *data, size_t n, struct err *e)
{
	const char *tmp = json_string_value(json_array_get(json_array_get(of->list, i), 0));
	/* Our own temporary file, made new by outfiles_create: O_NOFOLLOW
	 * refuses a link put in its place since. */
	int fd = open(tmp, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_fail(e, EX_IOERR, "io", "cannot open %s again: %s", tmp, strerror(errno));
	const char *p = data;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int saved = errno;
			close(fd);
			return err_fail(e, EX_IOERR, "io", "cannot write %s: %s", tmp, strerror(w < 0 ? saved : EIO));
		}
		p += w, n -= (size_t)w;
	}
	if (close(fd) != 0)
		return err_fail(e, EX_IOERR, "io", "cannot write %s: %s", tmp, strerror(errno));
	return 0;
}

int outfiles_write(struct outfiles *of, const char *path, mode_t mode, int (*fill)(FILE *, void *, struct err *),
                   void *arg, struct err *e)
{
	FILE *f = outfiles_create(of, path, mode, e);
	if (!f)
		return EX_CANTCREAT;
	return outfiles_close(of, f, fill(f, arg, e), e);
}

int outfiles_finish(struct outfiles *of, const char *dir, int rc, struct err *e)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* One syncfs for every file, not an fsync each: 10,000 bills took
	 * 26 s with an fsync each. */
	if (!rc && (fd < 0 || syncfs(fd) != 0))
		rc = err_fail(e, EX_IOERR, "io", "cannot sync %s: %s", dir, strerror(errno));
	size_t i;
	json_t *pair;
	json_array_foreach (of->list, i, pair) {
		const char *tmp = json_string_value(json_array_get(pair, 0));
		const char *path = json_string_value(json_array_get(pair, 1));
		if (rc || rename(tmp, path) != 0) {
			if (!rc)
				rc = err_fail(e, EX_IOERR, "io", "cannot rename %s: %s", tmp, strerror(errno));
			unlink(tmp);
		}
	}
	if (!rc && fsync(fd) != 0)
		rc = err_fail(e, EX_IOERR, "io", "cannot sync %s: %s", dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	json_decref(of->list);
	of->list = NULL;
	return rc;
}
