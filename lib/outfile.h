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
/* A new temporary file for path, of the given mode (umask applies), to be
 * closed with outfiles_close; NULL with e set (73) if it cannot be made. */
FILE *outfiles_create(struct outfiles *of, const char *path, mode_t mode, struct err *e);
/* Close f, the file outfiles_create made last; rc: the writer's status
 * (0 if all was written, else its error is in e). A file not written
 * whole is removed. Returns 0, or rc (74 if the close failed) with e set. */
int outfiles_close(struct outfiles *of, FILE *f, int rc, struct err *e);
/* Append n bytes to the i-th file made (counting from 0), after it was
 * closed: for more files than a process may hold open. 0, or 74 with e
 * set. */
int outfiles_append(struct outfiles *of, size_t i, const void *data, size_t n, struct err *e);
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
