/* image: see image.h. */
#include <stdio.h> /* jpeglib.h needs it first */

#include <jpeglib.h>
#include <png.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zbar.h>

#include "image.h"

#include "util.h"

static int too_big(long w, long h, char *why, size_t n)
{
	if (w <= 0 || h <= 0) {
		bufprintf(why, n, "the image claims %ldx%ld pixels", w, h);
		return -1;
	}
	if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || w * h > IMAGE_MAX_PIXELS) {
		bufprintf(why, n, "the image claims %ldx%ld pixels, more than the %ld megapixel limit", w, h,
		          IMAGE_MAX_PIXELS / 1000000);
		return -1;
	}
	return 0;
}

/* ---- PNG ---- */

struct mem {
	const unsigned char *data;
	size_t len, pos;
};

static void png_read_mem(png_structp png, png_bytep out, png_size_t n)
{
	struct mem *m = png_get_io_ptr(png);
	if (m->pos + n > m->len)
		png_error(png, "the PNG data ends early");
	memcpy(out, m->data + m->pos, n);
	m->pos += n;
}

static void png_quiet(png_structp png, png_const_charp msg)
{
	(void)png, (void)msg;
}

/* libpng would print its own message; ours says the same, once. */
static void png_fail(png_structp png, png_const_charp msg)
{
	(void)msg;
	png_longjmp(png, 1);
}

static int load_png(const unsigned char *data, size_t len, struct image *img, char *why, size_t whylen)
{
	png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, png_fail, png_quiet);
	png_infop info = png ? png_create_info_struct(png) : NULL;
	struct mem m = {data, len, 0};
	/* Changed after setjmp, so volatile: longjmp must see the new value. */
	png_bytep *volatile rows = NULL;
	if (!info) {
		bufprintf(why, whylen, "libpng could not start");
		png_destroy_read_struct(&png, NULL, NULL);
		return -1;
	}
	if (setjmp(png_jmpbuf(png))) {
		bufprintf(why, whylen, "the PNG is damaged or truncated");
		png_destroy_read_struct(&png, &info, NULL);
		free(rows);
		image_free(img);
		return -1;
	}
	png_set_read_fn(png, &m, png_read_mem);
	png_read_info(png, info);
	png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
	if (too_big((long)w, (long)h, why, whylen)) {
		png_destroy_read_struct(&png, &info, NULL);
		return -1;
	}
	/* Whatever it holds, give 8-bit grey, alpha composited on white. */
	png_set_expand(png);
	png_set_strip_16(png);
	png_color_16 white = {0, 0xff, 0xff, 0xff, 0xff};
	png_set_background(png, &white, PNG_BACKGROUND_GAMMA_SCREEN, 0, 1.0);
	png_byte color = png_get_color_type(png, info);
	if (color & PNG_COLOR_MASK_COLOR || color == PNG_COLOR_TYPE_PALETTE)
		png_set_rgb_to_gray_fixed(png, 1, -1, -1);
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	size_t rowbytes = png_get_rowbytes(png, info);
	if (rowbytes != w) {
		bufprintf(why, whylen, "unexpected PNG layout (%zu bytes a row for %u pixels)", rowbytes, (unsigned)w);
		png_destroy_read_struct(&png, &info, NULL);
		return -1;
	}
	img->width = (int)w;
	img->height = (int)h;
	img->grey = xmalloc((size_t)w * h);
	rows = xmalloc(sizeof *rows * h);
	for (png_uint_32 y = 0; y < h; y++)
		rows[y] = img->grey + (size_t)y * w;
	png_read_image(png, rows);
	png_read_end(png, NULL);
	free(rows);
	png_destroy_read_struct(&png, &info, NULL);
	img->format = "png";
	return 0;
}

/* ---- JPEG ---- */

struct jpeg_fail {
	struct jpeg_error_mgr mgr;
	jmp_buf jump;
	char msg[JMSG_LENGTH_MAX];
};

static void jpeg_bail(j_common_ptr cinfo)
{
	struct jpeg_fail *f = (struct jpeg_fail *)cinfo->err;
	(*cinfo->err->format_message)(cinfo, f->msg);
	longjmp(f->jump, 1);
}

static void jpeg_quiet(j_common_ptr cinfo, int level)
{
	(void)cinfo, (void)level;
}

static int load_jpeg(const unsigned char *data, size_t len, struct image *img, char *why, size_t whylen)
{
	struct jpeg_decompress_struct cinfo;
	struct jpeg_fail fail;
	cinfo.err = jpeg_std_error(&fail.mgr);
	fail.mgr.error_exit = jpeg_bail;
	fail.mgr.emit_message = jpeg_quiet;
	if (setjmp(fail.jump)) {
		bufprintf(why, whylen, "the JPEG is damaged or truncated: %s", fail.msg);
		jpeg_destroy_decompress(&cinfo);
		image_free(img);
		return -1;
	}
	jpeg_create_decompress(&cinfo);
	jpeg_mem_src(&cinfo, data, (unsigned long)len);
	jpeg_read_header(&cinfo, TRUE);
	if (too_big((long)cinfo.image_width, (long)cinfo.image_height, why, whylen)) {
		jpeg_destroy_decompress(&cinfo);
		return -1;
	}
	cinfo.out_color_space = JCS_GRAYSCALE;
	jpeg_start_decompress(&cinfo);
	img->width = (int)cinfo.output_width;
	img->height = (int)cinfo.output_height;
	img->grey = xmalloc((size_t)img->width * (size_t)img->height);
	while (cinfo.output_scanline < cinfo.output_height) {
		JSAMPROW row = img->grey + (size_t)cinfo.output_scanline * (size_t)img->width;
		jpeg_read_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_decompress(&cinfo);
	jpeg_destroy_decompress(&cinfo);
	img->format = "jpeg";
	return 0;
}

/* ---- PNM ---- */

/* Next header number, skipping blanks and comments; -1 if none. */
static long pnm_number(const unsigned char *d, size_t len, size_t *pos)
{
	for (;;) {
		while (*pos < len && (d[*pos] == ' ' || d[*pos] == '\t' || d[*pos] == '\n' || d[*pos] == '\r'))
			(*pos)++;
		if (*pos < len && d[*pos] == '#') {
			while (*pos < len && d[*pos] != '\n')
				(*pos)++;
			continue;
		}
		break;
	}
	if (*pos >= len || d[*pos] < '0' || d[*pos] > '9')
		return -1;
	long v = 0;
	while (*pos < len && d[*pos] >= '0' && d[*pos] <= '9') {
		if (v > 100000000)
			return -1;
		v = v * 10 + (d[(*pos)++] - '0');
	}
	return v;
}

static int load_pnm(const unsigned char *d, size_t len, struct image *img, char *why, size_t whylen)
{
	char kind = (char)d[1];
	size_t pos = 2;
	long w = pnm_number(d, len, &pos), h = pnm_number(d, len, &pos), max = pnm_number(d, len, &pos);
	if (w < 0 || h < 0 || max < 1 || max > 65535) {
		bufprintf(why, whylen, "the PNM header is malformed");
		return -1;
	}
	if (too_big(w, h, why, whylen))
		return -1;
	bool color = kind == '3' || kind == '6', binary = kind == '5' || kind == '6';
	int channels = color ? 3 : 1, bytes = max > 255 ? 2 : 1;
	pos++; /* the single blank after maxval */
	size_t need = (size_t)w * (size_t)h * (size_t)channels * (size_t)bytes;
	if (binary && (pos > len || len - pos < need)) {
		bufprintf(why, whylen, "the PNM data ends early (%zu of %zu bytes)", pos > len ? 0 : len - pos, need);
		return -1;
	}
	img->width = (int)w;
	img->height = (int)h;
	img->grey = xmalloc((size_t)w * (size_t)h);
	pos = binary ? pos : pos - 1;
	for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
		long sum = 0;
		for (int c = 0; c < channels; c++) {
			long v;
			if (binary) {
				v = bytes == 2 ? (d[pos] << 8 | d[pos + 1]) : d[pos];
				pos += (size_t)bytes;
			} else if ((v = pnm_number(d, len, &pos)) < 0 || v > max) {
				bufprintf(why, whylen, "the PNM data ends early or has a bad sample");
				image_free(img);
				return -1;
			}
			sum += v > max ? max : v;
		}
		img->grey[i] = (unsigned char)(sum * 255 / (max * channels));
	}
	img->format = "pnm";
	return 0;
}

int image_load(const unsigned char *data, size_t len, struct image *img, char *why, size_t whylen)
{
	memset(img, 0, sizeof *img);
	if (len == 0) {
		bufprintf(why, whylen, "the file is empty");
		return -1;
	}
	if (len >= 8 && png_sig_cmp(data, 0, 8) == 0)
		return load_png(data, len, img, why, whylen);
	if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
		return load_jpeg(data, len, img, why, whylen);
	if (len >= 3 && data[0] == 'P' && strchr("2356", data[1]) && data[1])
		return load_pnm(data, len, img, why, whylen);
	bufprintf(why, whylen, "not a PNG, JPEG or PNM image");
	return -1;
}

void image_free(struct image *img)
{
	free(img->grey);
	img->grey = NULL;
}

/* ---- scanning ---- */

/* The first look is at most this size: a code whose modules are 2 pixels
 * there still reads, and most photos' codes are larger. */
#define IMAGE_SMALL_PIXELS 80000L
/* Past this, zbar misses big modules and takes long: scaled down. */
#define IMAGE_DIRECT_PIXELS (2L * 1000 * 1000)

/* A grey image scaled by num/den (box filter down, nearest up). */
static struct image rescale(const struct image *src, int num, int den)
{
	struct image out = {.width = src->width * num / den, .height = src->height * num / den, .format = src->format};
	if (out.width < 1)
		out.width = 1;
	if (out.height < 1)
		out.height = 1;
	out.grey = xmalloc((size_t)out.width * (size_t)out.height);
	for (int y = 0; y < out.height; y++)
		for (int x = 0; x < out.width; x++) {
			int x0 = x * den / num, y0 = y * den / num, x1 = (x + 1) * den / num, y1 = (y + 1) * den / num;
			if (x1 <= x0)
				x1 = x0 + 1;
			if (y1 <= y0)
				y1 = y0 + 1;
			long sum = 0, count = 0;
			for (int yy = y0; yy < y1 && yy < src->height; yy++)
				for (int xx = x0; xx < x1 && xx < src->width; xx++, count++)
					sum += src->grey[(size_t)yy * (size_t)src->width + (size_t)xx];
			out.grey[(size_t)y * (size_t)out.width + (size_t)x] =
			    (unsigned char)(count ? sum / count : 255);
		}
	return out;
}

/* Otsu's threshold over the whole image, to black and white. */
static struct image binarize(const struct image *src, bool invert)
{
	struct image out = *src;
	size_t n = (size_t)src->width * (size_t)src->height;
	out.grey = xmalloc(n);
	long hist[256] = {0};
	for (size_t i = 0; i < n; i++)
		hist[src->grey[i]]++;
	double sum = 0, sum_b = 0, best = -1;
	for (int i = 0; i < 256; i++)
		sum += (double)i * (double)hist[i];
	long w_b = 0;
	int threshold = 128;
	for (int t = 0; t < 256; t++) {
		w_b += hist[t];
		long w_f = (long)n - w_b;
		if (w_b == 0 || w_f == 0)
			continue;
		sum_b += (double)t * (double)hist[t];
		double m_b = sum_b / (double)w_b, m_f = (sum - sum_b) / (double)w_f;
		double between = (double)w_b * (double)w_f * (m_b - m_f) * (m_b - m_f);
		if (between > best)
			best = between, threshold = t;
	}
	for (size_t i = 0; i < n; i++)
		out.grey[i] = (unsigned char)(((src->grey[i] > threshold) != invert) ? 255 : 0);
	return out;
}

static int zbar_pass(const struct image *img, int num, int den, const char *pass, struct image_code *codes, int max)
{
	zbar_image_scanner_t *scanner = zbar_image_scanner_create();
	zbar_image_scanner_set_config(scanner, ZBAR_NONE, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	/* Binary: the bytes as encoded; we decide their text ourselves. */
	zbar_image_scanner_set_config(scanner, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
	zbar_image_t *z = zbar_image_create();
	zbar_image_set_format(z, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(z, (unsigned)img->width, (unsigned)img->height);
	zbar_image_set_data(z, img->grey, (unsigned long)img->width * (unsigned long)img->height, NULL);
	int n = 0;
	if (zbar_scan_image(scanner, z) > 0) {
		for (const zbar_symbol_t *s = zbar_image_first_symbol(z); s && n < max; s = zbar_symbol_next(s)) {
			if (zbar_symbol_get_type(s) != ZBAR_QRCODE)
				continue;
			struct image_code *c = &codes[n++];
			c->len = zbar_symbol_get_data_length(s);
			c->data = xmalloc(c->len + 1);
			memcpy(c->data, zbar_symbol_get_data(s), c->len);
			c->data[c->len] = 0;
			int x0 = img->width, y0 = img->height, x1 = 0, y1 = 0;
			for (unsigned i = 0; i < zbar_symbol_get_loc_size(s); i++) {
				int x = zbar_symbol_get_loc_x(s, i), y = zbar_symbol_get_loc_y(s, i);
				x0 = x < x0 ? x : x0, y0 = y < y0 ? y : y0, x1 = x > x1 ? x : x1, y1 = y > y1 ? y : y1;
			}
			/* Back to the original image's pixels. */
			c->x = x0 * den / num, c->y = y0 * den / num;
			c->w = (x1 - x0) * den / num, c->h = (y1 - y0) * den / num;
			c->pass = pass;
		}
	}
	zbar_image_destroy(z);
	zbar_image_scanner_destroy(scanner);
	return n;
}

/* One way to look at the image: a scale of it, maybe thresholded. */
#define LOOKS_MAX 8
struct look {
	const char *pass;
	int num, den; /* of the original image */
	enum { LOOK_GREY, LOOK_THRESHOLD, LOOK_INVERTED } tone;
};

static int look(const struct image *img, const struct look *l, struct image_code *codes, int max)
{
	struct image scaled = *img, toned;
	if (l->num != l->den)
		scaled = rescale(img, l->num, l->den);
	int n;
	if (l->tone == LOOK_GREY) {
		n = zbar_pass(&scaled, l->num, l->den, l->pass, codes, max);
	} else {
		toned = binarize(&scaled, l->tone == LOOK_INVERTED);
		n = zbar_pass(&toned, l->num, l->den, l->pass, codes, max);
		image_free(&toned);
	}
	if (l->num != l->den)
		image_free(&scaled);
	return n;
}

/* The harder looks, tried by every core at once. The answer is the one
 * the first look in order would give: a look starts only while no earlier
 * one has found a code, and a later look's find is dropped. They start
 * largest first, so that the largest (a photo doubled) is not left to one
 * core at the end. */
struct tries {
	const struct image *img;
	const struct look *looks;
	int nlooks, max;
	int by_size[LOOKS_MAX]; /* the looks' indexes, the most pixels first */
	struct image_code (*codes)[IMAGE_CODES_MAX];
	int *found;
	pthread_mutex_t lock;
	int next, first; /* the next of by_size to start; the first look that found (nlooks: none yet) */
};

static void *try_looks(void *arg)
{
	struct tries *t = arg;
	for (;;) {
		pthread_mutex_lock(&t->lock);
		int i = t->nlooks;
		while (t->next < t->nlooks && i == t->nlooks) {
			int k = t->by_size[t->next++];
			if (k < t->first)
				i = k;
		}
		pthread_mutex_unlock(&t->lock);
		if (i >= t->nlooks)
			return NULL;
		int n = look(t->img, &t->looks[i], t->codes[i], t->max);
		pthread_mutex_lock(&t->lock);
		t->found[i] = n;
		if (n > 0 && i < t->first)
			t->first = i;
		pthread_mutex_unlock(&t->lock);
	}
}

static int try_harder(const struct image *img, const struct look *looks, int nlooks, struct image_code *codes, int max)
{
	struct image_code(*each)[IMAGE_CODES_MAX] = xcalloc((size_t)nlooks, sizeof *each);
	int *found = xcalloc((size_t)nlooks, sizeof *found);
	struct tries t = {.img = img,
	                  .looks = looks,
	                  .nlooks = nlooks,
	                  .max = max < IMAGE_CODES_MAX ? max : IMAGE_CODES_MAX,
	                  .codes = each,
	                  .found = found,
	                  .first = nlooks};
	/* Insertion sort of a few, by the pixels each look scans. */
	for (int i = 0; i < nlooks; i++) {
		int k = i;
		double size = (double)looks[i].num * looks[i].num / ((double)looks[i].den * looks[i].den);
		for (; k > 0; k--) {
			const struct look *prev = &looks[t.by_size[k - 1]];
			if ((double)prev->num * prev->num / ((double)prev->den * prev->den) >= size)
				break;
			t.by_size[k] = t.by_size[k - 1];
		}
		t.by_size[k] = i;
	}
	pthread_mutex_init(&t.lock, NULL);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int helpers = cores > 1 ? (int)(cores < 4 ? cores : 4) - 1 : 0;
	pthread_t threads[3];
	int started = 0;
	while (started < helpers && pthread_create(&threads[started], NULL, try_looks, &t) == 0)
		started++;
	try_looks(&t); /* this thread too; alone if no thread could start */
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&t.lock);
	int n = 0;
	for (int i = 0; i < nlooks; i++) {
		if (i == t.first) {
			n = found[i];
			memcpy(codes, each[i], (size_t)n * sizeof *codes);
			continue;
		}
		for (int k = 0; k < found[i]; k++)
			free(each[i][k].data);
	}
	free(found);
	free(each);
	return n;
}

int image_scan(const struct image *img, struct image_code *codes, int max)
{
	long pixels = (long)img->width * img->height;
	/* First a small copy: most codes fill enough of a photo to be read at
	 * this size, and zbar's time grows with pixels. */
	static const int small_scales[][2] = {{3, 4}, {2, 3},  {1, 2},  {2, 5},  {1, 3},  {1, 4},  {1, 5}, {1, 6},
	                                      {1, 8}, {1, 10}, {1, 12}, {1, 16}, {1, 20}, {1, 25}, {1, 32}};
	int n;
	if (pixels > IMAGE_SMALL_PIXELS) {
		struct look small = {"small", 1, 1, LOOK_GREY};
		for (size_t i = 0; i < sizeof small_scales / sizeof small_scales[0]; i++) {
			small.num = small_scales[i][0], small.den = small_scales[i][1];
			if (pixels * small.num * small.num / ((long)small.den * small.den) <= IMAGE_SMALL_PIXELS)
				break;
		}
		if ((n = look(img, &small, codes, max)) > 0)
			return n;
	}
	/* Then the image itself, or a photo over 2 megapixels scaled to that
	 * (big modules in a huge frame are missed at full size). */
	int den = 1;
	while (pixels / ((long)den * den) > IMAGE_DIRECT_PIXELS)
		den++;
	struct look direct = {den > 1 ? "scaled" : "direct", 1, den, LOOK_GREY};
	if ((n = look(img, &direct, codes, max)) > 0)
		return n;
	/* Only then try harder: the full image, a global threshold (Otsu),
	 * the inverse (light on dark), other scales (big modules in a huge
	 * frame want smaller, tiny codes larger). */
	struct look harder[LOOKS_MAX];
	int nharder = 0;
	if (den > 1)
		harder[nharder++] = (struct look){"full", 1, 1, LOOK_GREY};
	harder[nharder++] = (struct look){"threshold", 1, den, LOOK_THRESHOLD};
	harder[nharder++] = (struct look){"inverted", 1, den, LOOK_INVERTED};
	static const int scales[][2] = {{1, 2}, {1, 3}, {2, 3}, {2, 1}};
	for (size_t i = 0; i < sizeof scales / sizeof scales[0]; i++) {
		int num = scales[i][0], d = scales[i][1] * den;
		if ((long)img->width * num / d < 64 || (long)img->width * num / d > 6000)
			continue;
		harder[nharder++] = (struct look){"rescaled", num, d, LOOK_GREY};
	}
	return try_harder(img, harder, nharder, codes, max);
}
