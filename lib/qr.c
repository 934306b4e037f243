/* qr: see qr.h. */
#include <errno.h>
#include <png.h>
#include <pthread.h>
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qr.h"
#include "utf8.h"
#include "util.h"

bool qr_encode(const char *text, char ecc, struct qr_matrix *m, const char **why)
{
	QRecLevel level = ecc == 'L'   ? QR_ECLEVEL_L
	                  : ecc == 'Q' ? QR_ECLEVEL_Q
	                  : ecc == 'H' ? QR_ECLEVEL_H
	                               : QR_ECLEVEL_M;
	QRinput *in = QRinput_new2(0, level);
	QRcode *code = NULL;
	bool ok = in != NULL;
	if (ok && !utf8_is_ascii(text))
		ok = QRinput_appendECIheader(in, 26) == 0;
	if (ok)
		ok = QRinput_append(in, QR_MODE_8, (int)strlen(text), (const unsigned char *)text) == 0;
	if (ok)
		ok = (code = QRcode_encodeInput(in)) != NULL;
	QRinput_free(in);
	if (!ok) {
		*why = errno == ERANGE ? "the text is too long for a QR code" : "libqrencode could not encode the text";
		return false;
	}
	m->width = code->width;
	m->dark = xmalloc((size_t)code->width * (size_t)code->width);
	for (int i = 0; i < code->width * code->width; i++)
		m->dark[i] = code->data[i] & 1;
	QRcode_free(code);
	return true;
}

void qr_matrix_free(struct qr_matrix *m)
{
	free(m->dark);
	m->dark = NULL;
}

static bool dark_at(const struct qr_matrix *m, int x, int y)
{
	return x >= 0 && y >= 0 && x < m->width && y < m->width && m->dark[y * m->width + x];
}

static bool write_png(const struct qr_matrix *m, const struct qr_style *s, FILE *f)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	int side = (m->width + 2 * s->margin) * s->module;
	png_bytep row = xcalloc((size_t)(side + 7) / 8, 1);
	bool ok = false;
	if (!info)
		goto out;
	if (setjmp(png_jmpbuf(png)))
		goto out;
	png_init_io(png, f);
	/* 1-bit grey compresses at level 1 to about the same size, far faster. */
	png_set_compression_level(png, 1);
	png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)side, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_set_filter(png, 0, PNG_FILTER_NONE);
	png_write_info(png, info);
	/* One row of pixels per row of modules, written module-size times. */
	size_t rowbytes = (size_t)(side + 7) / 8;
	for (int my = -s->margin; my < m->width + s->margin; my++) {
		memset(row, 0xff, rowbytes); /* 1 is white in grey */
		for (int mx = 0; mx < m->width; mx++) {
			if (!dark_at(m, mx, my))
				continue;
			for (int x = (mx + s->margin) * s->module, end = x + s->module; x < end; x++)
				row[x / 8] &= (png_byte) ~(0x80 >> (x % 8));
		}
		for (int k = 0; k < s->module; k++)
			png_write_row(png, row);
	}
	png_write_end(png, NULL);
	ok = true;
out:
	png_destroy_write_struct(&png, info ? &info : NULL);
	free(row);
	return ok;
}

static bool write_svg(const struct qr_matrix *m, const struct qr_style *s, FILE *f)
{
	int side = m->width + 2 * s->margin;
	fprintf(f,
	        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	        "shape-rendering=\"crispEdges\">\n"
	        "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\"",
	        side * s->module, side * s->module, side, side, side, side);
	for (int y = 0; y < m->width; y++)
		for (int x = 0; x < m->width; x++)
			if (dark_at(m, x, y)) {
				int run = 1;
				while (dark_at(m, x + run, y))
					run++;
				fprintf(f, "M%d %dh%dv1h-%dz", x + s->margin, y + s->margin, run, run);
				x += run - 1;
			}
	fprintf(f, "\"/>\n</svg>\n");
	return !ferror(f);
}

void qr_write_text(const struct qr_matrix *m, int margin, FILE *out)
{
	for (int y = -margin; y < m->width + margin; y += 2) {
		for (int x = -margin; x < m->width + margin; x++) {
			bool top = !dark_at(m, x, y), bottom = y + 1 < m->width + margin && !dark_at(m, x, y + 1);
			fputs(top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ", out);
		}
		fputc('\n', out);
	}
}

bool qr_write_file(const struct qr_matrix *m, enum qr_format fmt, const struct qr_style *s, const char *path,
                   const char **why)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "wbx");
	if (!f) {
		*why = strerror(errno);
		free(tmp);
		return false;
	}
	bool ok = fmt == QR_PNG   ? write_png(m, s, f)
	          : fmt == QR_SVG ? write_svg(m, s, f)
	                          : (qr_write_text(m, s->margin, f), true);
	ok = fflush(f) == 0 && !ferror(f) && ok;
	int saved = errno;
	if (fclose(f) != 0)
		ok = false;
	if (ok && rename(tmp, path) != 0)
		ok = false, saved = errno;
	if (!ok) {
		unlink(tmp);
		*why = saved ? strerror(saved) : "the image could not be written";
	}
	free(tmp);
	return ok;
}

bool qr_format_parse(const char *name, enum qr_format *f)
{
	if (strcmp(name, "png") == 0)
		*f = QR_PNG;
	else if (strcmp(name, "svg") == 0)
		*f = QR_SVG;
	else if (strcmp(name, "txt") == 0 || strcmp(name, "text") == 0)
		*f = QR_TEXT;
	else
		return false;
	return true;
}

const char *qr_format_ext(enum qr_format f)
{
	return f == QR_PNG ? "png" : f == QR_SVG ? "svg" : "txt";
}

struct qr_job {
	char *payload, *path, *why;
	void *tag;
	struct qr_job *next;
};

struct qr_pool {
	pthread_mutex_t lock;
	pthread_cond_t work, idle;
	struct qr_job *todo, *last, *failed;
	int busy, nthreads;
	bool stop;
	enum qr_format format;
	struct qr_style style;
	pthread_t threads[16];
};

/* Draw one job's image; false (and j->why set) if it could not be written. */
static bool render(struct qr_pool *p, struct qr_job *j)
{
	struct qr_matrix m;
	const char *why = NULL;
	if (qr_encode(j->payload, p->style.ecc, &m, &why)) {
		if (qr_write_file(&m, p->format, &p->style, j->path, &why))
			why = NULL;
		qr_matrix_free(&m);
	}
	if (why)
		j->why = xstrdup(why);
	return why == NULL;
}

/* A done job: kept on the failed list for qr_pool_wait, or freed. Called
 * with the lock held (or with no threads at all). */
static void finish(struct qr_pool *p, struct qr_job *j, bool failed)
{
	if (failed) {
		j->next = p->failed;
		p->failed = j;
	} else {
		free(j->payload);
		free(j->path);
		free(j);
	}
}

static void *worker(void *arg)
{
	struct qr_pool *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->todo && !p->stop)
			pthread_cond_wait(&p->work, &p->lock);
		if (!p->todo)
			break;
		struct qr_job *j = p->todo;
		p->todo = j->next;
		if (!p->todo)
			p->last = NULL;
		p->busy++;
		pthread_mutex_unlock(&p->lock);

		bool failed = !render(p, j);
		pthread_mutex_lock(&p->lock);
		p->busy--;
		finish(p, j, failed);
		if (!p->todo && p->busy == 0)
			pthread_cond_broadcast(&p->idle);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct qr_pool *qr_pool_new(int threads, enum qr_format f, const struct qr_style *s)
{
	struct qr_pool *p = xcalloc(1, sizeof *p);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	p->format = f;
	p->style = *s;
	if (threads < 1)
		threads = 1;
	if (threads > 16)
		threads = 16;
	for (int i = 0; i < threads; i++)
		if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) == 0)
			p->nthreads++;
	return p;
}

void qr_pool_submit(struct qr_pool *p, const char *payload, const char *path, void *tag)
{
	struct qr_job *j = xcalloc(1, sizeof *j);
	j->payload = xstrdup(payload);
	j->path = xstrdup(path);
	j->tag = tag;
	if (p->nthreads == 0) { /* no thread could start: do it here */
		finish(p, j, !render(p, j));
		return;
	}
	pthread_mutex_lock(&p->lock);
	if (p->last)
		p->last->next = j;
	else
		p->todo = j;
	p->last = j;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

void qr_pool_wait(struct qr_pool *p, void (*failed)(void *tag, const char *why, void *arg), void *arg)
{
	pthread_mutex_lock(&p->lock);
	while (p->todo || p->busy)
		pthread_cond_wait(&p->idle, &p->lock);
	struct qr_job *f = p->failed;
	p->failed = NULL;
	pthread_mutex_unlock(&p->lock);
	while (f) {
		struct qr_job *next = f->next;
		if (failed)
			failed(f->tag, f->why, arg);
		free(f->payload);
		free(f->path);
		free(f->why);
		free(f);
		f = next;
	}
}

void qr_pool_free(struct qr_pool *p)
{
	if (!p)
		return;
	qr_pool_wait(p, NULL, NULL);
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->idle);
	free(p);
}
