/* qr: see qr.h. */
#include <errno.h>
#include <png.h>
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
	png_write_info(png, info);
	for (int y = 0; y < side; y++) {
		int my = y / s->module - s->margin;
		memset(row, 0, (size_t)(side + 7) / 8);
		for (int x = 0; x < side; x++)
			if (!dark_at(m, x / s->module - s->margin, my))
				row[x / 8] |= (png_byte)(0x80 >> (x % 8)); /* 1 is white in grey */
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
