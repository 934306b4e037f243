/*
 * outfile: files for people (payout batches, bills) written whole: each
 * to a new temporary file beside it, then one sync for them all, the
 * renames, and a sync of the directory. A reader never sees half a file,
 * and a link planted at a name is replaced, never written through.
 */
#ifndef WPAY_OUTFILE_H
#define WPAY_OUTFILE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "err.h"

struct outfiles {
	json_t *list; /* [[tmp, path], ...] */
};

void outfiles_init(struct outfiles *of);
/* Write path's future content with fill (false: a write failed, errno
 * set; or the fill's own error, already in e, when e->code is set) into
 * a new temporary file of the given mode (umask applies). Returns 0, or
 * 73 / 74 (or fill's status) with e set; what was written is removed. */
int outfiles_write(struct outfiles *of, const char *path, mode_t mode, int (*fill)(FILE *, void *, struct err *),
                   void *arg, struct err *e);
/* Sync, then rename every file written into place; or, with rc set,
 * remove them. dir is the directory they are in. Returns rc, or 74 with
 * e set. */
int outfiles_finish(struct outfiles *of, const char *dir, int rc, struct err *e);

#endif
