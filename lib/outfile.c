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

int outfiles_write(struct outfiles *of, const char *path, mode_t mode, int (*fill)(FILE *, void *, struct err *),
                   void *arg, struct err *e)
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
		return EX_CANTCREAT;
	}
	/* Big writes: a bill is many short lines. */
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	e->code = NULL;
	int rc = fill(f, arg, e);
	int saved = errno;
	if (fclose(f) != 0 && !rc)
		rc = EX_IOERR, saved = errno;
	if (rc) {
		unlink(tmp);
		if (rc == EX_IOERR && !e->code)
			err_fail(e, EX_IOERR, "io", "cannot write %s: %s", tmp, strerror(saved ? saved : EIO));
		free(tmp);
		return rc;
	}
	json_array_append_new(of->list, json_pack("[s, s]", tmp, path));
	free(tmp);
	return 0;
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
