/*
 * qr: render a payload as a QR code (libqrencode), in byte mode with an
 * ECI 26 (UTF-8) header when the text is not ASCII, as EMVCo requires.
 * Outputs: PNG (1-bit grey, module size and quiet zone in modules), SVG,
 * and UTF-8 half blocks for a terminal. Files are written whole or not at
 * all: a temporary file beside the target, then rename.
 */
#ifndef WPAY_QR_H
#define WPAY_QR_H

#include <stdbool.h>
#include <stdio.h>

enum qr_format { QR_PNG, QR_SVG, QR_TEXT };

#define QR_WIDTH_MAX 177 /* version 40 */

struct qr_style {
	int module; /* pixels per module (PNG, SVG) */
	int margin; /* quiet zone, in modules */
	char ecc;   /* 'L', 'M', 'Q' or 'H' */
};

struct qr_matrix {
	int width;
	unsigned char *dark; /* width*width, 1 = dark module */
};

/* Encode; false with why set if the text does not fit any QR version. */
bool qr_encode(const char *text, char ecc, struct qr_matrix *m, const char **why);
/* The same with a given mask (0-7), or -1 to choose the one of least
 * penalty, as qr_encode does. */
bool qr_encode_mask(const char *text, char ecc, int mask, struct qr_matrix *m, const char **why);
/* Free what this thread keeps between codes (call before it ends). */
void qr_thread_done(void);
/* The parts, for tests: a data mask's value at row i, column j, and the
 * penalty score of a masked symbol (ISO/IEC 18004 7.8.3). */
bool qr_mask_bit(int mask, int i, int j);
long qr_penalty(const unsigned char *dark, int width);
/* The same, a module at a time: the reference the fast one is tested against. */
long qr_penalty_scalar(const unsigned char *dark, int width);
void qr_matrix_free(struct qr_matrix *m);

/* Write to path atomically; false with why (an errno string) on failure. */
bool qr_write_file(const struct qr_matrix *m, enum qr_format f, const struct qr_style *s, const char *path,
                   const char **why);
/* Half-block art to a stream (light modules drawn, for dark terminals). */
void qr_write_text(const struct qr_matrix *m, int margin, FILE *out);
/*
 * A pool of threads that encode and write images, for batches: rendering
 * is most of mkqr's work, and it parallelises. qr_pool_wait returns when
 * every submitted job is done, calling failed(tag, why, arg) for each that
 * could not be written.
 */
struct qr_pool;
struct qr_pool *qr_pool_new(int threads, enum qr_format f, const struct qr_style *s);
void qr_pool_submit(struct qr_pool *p, const char *payload, const char *path, void *tag);
void qr_pool_wait(struct qr_pool *p, void (*failed)(void *tag, const char *why, void *arg), void *arg);
void qr_pool_free(struct qr_pool *p);

/* "png", "svg", "txt" to a format; false if unknown. */
bool qr_format_parse(const char *name, enum qr_format *f);
const char *qr_format_ext(enum qr_format f);

#endif
