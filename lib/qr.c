/* qr: see qr.h. */
#define _GNU_SOURCE /* O_TMPFILE */
#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <pthread.h>
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qr.h"
#include "utf8.h"

#include "util.h"

/* Exported by libqrencode 4 but not in its header: encode with a given mask,
 * skipping its own mask search, which is most of its time. */
extern QRcode *QRcode_encodeMask(QRinput *input, int mask);

/* The eight data masks of ISO/IEC 18004 (table 10); i is the row, j the column. */
bool qr_mask_bit(int mask, int i, int j)
{
	switch (mask) {
	case 0: return (i + j) % 2 == 0;
	case 1: return i % 2 == 0;
	case 2: return j % 3 == 0;
	case 3: return (i + j) % 3 == 0;
	case 4: return (i / 2 + j / 3) % 2 == 0;
	case 5: return (i * j) % 2 + (i * j) % 3 == 0;
	case 6: return ((i * j) % 2 + (i * j) % 3) % 2 == 0;
	default: return ((i + j) % 2 + (i * j) % 3) % 2 == 0;
	}
}

/* The 15 format bits for an error correction level and a mask (BCH, XOR 0x5412). */
static unsigned format_bits(char ecc, int mask)
{
	unsigned level = ecc == 'L' ? 1 : ecc == 'Q' ? 3 : ecc == 'H' ? 2 : 0;
	unsigned data = level << 3 | (unsigned)mask, rem = data;
	for (int i = 0; i < 10; i++)
		rem = (rem << 1) ^ ((rem >> 9) * 0x537);
	return (data << 10 | (rem & 0x3FF)) ^ 0x5412;
}

/* Where the 15 format bits go, both copies (x is the column): position i
 * of the table holds bit fmt_bit[i]. */
enum { FORMAT_CELLS = 30 };
static void format_cells(int n, int xs[FORMAT_CELLS], int ys[FORMAT_CELLS], int bits[FORMAT_CELLS])
{
	int k = 0;
#define CELL(x, y, bit) (xs[k] = (x), ys[k] = (y), bits[k] = (bit), k++)
	for (int i = 0; i <= 5; i++)
		CELL(8, i, i);
	CELL(8, 7, 6);
	CELL(8, 8, 7);
	CELL(7, 8, 8);
	for (int i = 9; i < 15; i++)
		CELL(14 - i, 8, i);
	for (int i = 0; i < 8; i++)
		CELL(n - 1 - i, 8, i);
	for (int i = 8; i < 15; i++)
		CELL(8, n - 15 + i, i);
#undef CELL
}

/* Write both copies of the format information, and the dark module. */
static void put_format(unsigned char *d, int n, char ecc, int mask)
{
	int xs[FORMAT_CELLS], ys[FORMAT_CELLS], bits[FORMAT_CELLS];
	unsigned f = format_bits(ecc, mask);
	format_cells(n, xs, ys, bits);
	for (int i = 0; i < FORMAT_CELLS; i++)
		d[ys[i] * n + xs[i]] = (unsigned char)((f >> bits[i]) & 1);
	d[(n - 8) * n + 8] = 1;
}

/* Penalty of a masked symbol, ISO/IEC 18004 7.8.3: N1 runs of five or more
 * (3 + run - 5), N2 2x2 blocks (3), N3 finder-like 1:1:3:1:1 patterns beside
 * four light modules, outside the symbol counting as light (40), N4 the
 * dark/light balance (10 per 5% off 50%). One row-major pass: columns keep
 * their own run and pattern window, so nothing is read out of order. */
long qr_penalty_scalar(const unsigned char *d, int n)
{
	enum { FINDER_BEFORE = 0x5D0, FINDER_AFTER = 0x05D, WINDOW = 0x7FF };
	unsigned col_window[QR_WIDTH_MAX] = {0};
	int col_run[QR_WIDTH_MAX] = {0};
	unsigned char col_color[QR_WIDTH_MAX];
	long score = 0, dark = 0;
	if (n > QR_WIDTH_MAX)
		return 0;
	memset(col_color, 2, sizeof col_color);
	for (int y = 0; y < n; y++) {
		const unsigned char *row = d + (size_t)y * (size_t)n, *above = y ? row - n : NULL;
		unsigned window = 0; /* the light modules before the row are zeros already */
		int run = 0;
		unsigned char color = 2;
		for (int x = 0; x < n; x++) {
			unsigned char v = row[x];
			dark += v;
			if (v == color) {
				run++;
			} else {
				score += run >= 5 ? run - 2 : 0;
				color = v, run = 1;
			}
			window = ((window << 1) | v) & WINDOW;
			score += (window == FINDER_BEFORE || window == FINDER_AFTER) ? 40 : 0;
			if (v == col_color[x]) {
				col_run[x]++;
			} else {
				score += col_run[x] >= 5 ? col_run[x] - 2 : 0;
				col_color[x] = v, col_run[x] = 1;
			}
			col_window[x] = ((col_window[x] << 1) | v) & WINDOW;
			score += (col_window[x] == FINDER_BEFORE || col_window[x] == FINDER_AFTER) ? 40 : 0;
			if (above && x && v == row[x - 1] && v == above[x] && v == above[x - 1])
				score += 3;
		}
		score += run >= 5 ? run - 2 : 0;
		for (int k = 0; k < 4; k++) { /* the light modules after the row */
			window = (window << 1) & WINDOW;
			score += window == FINDER_BEFORE ? 40 : 0;
		}
	}
	for (int x = 0; x < n; x++) {
		score += col_run[x] >= 5 ? col_run[x] - 2 : 0;
		for (int k = 0; k < 4; k++) {
			col_window[x] = (col_window[x] << 1) & WINDOW;
			score += col_window[x] == FINDER_BEFORE ? 40 : 0;
		}
	}
	long percent = dark * 100 / ((long)n * n);
	return score + 10 * (labs(percent - 50) / 5);
}

typedef unsigned __int128 bits128;

/* Portable popcount (no libgcc call where the CPU flag is not assumed). */
static int popcount64(unsigned long long v)
{
	v = v - ((v >> 1) & 0x5555555555555555ULL);
	v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
	v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
	return (int)((v * 0x0101010101010101ULL) >> 56);
}

static int popcount128(bits128 v)
{
	return popcount64((unsigned long long)v) + popcount64((unsigned long long)(v >> 64));
}

static bits128 low_bits(int n)
{
	return n >= 128 ? ~(bits128)0 : ((bits128)1 << n) - 1;
}

/* N1 and N3 of one line: m holds its n modules at bits 0..n-1 (1 = dark). */
static long line_penalty(bits128 m, int n)
{
	/* Runs: e marks a module equal to the next; w a start of five equal. */
	bits128 e = ~(m ^ (m >> 1)) & low_bits(n - 1);
	bits128 w = e & (e >> 1) & (e >> 2) & (e >> 3);
	long score = popcount128(w) + 2L * popcount128(w & ~(w << 1));
	/* Finder-like patterns, with four light modules of margin each side. */
	bits128 r = m << 4, nr = ~r, valid = low_bits(n - 2);
	static const char *const patterns[] = {"00001011101", "10111010000"};
	for (int k = 0; k < 2; k++) {
		bits128 match = valid;
		for (int i = 0; i < 11; i++)
			match &= (patterns[k][i] == '1' ? r : nr) >> i;
		score += 40L * popcount128(match);
	}
	return score;
}

/* The score of a symbol given as row and column bit sets (bit x of rows[y]
 * is the module at column x, row y; 1 = dark). */
static long penalty_bits(const bits128 *rows, const bits128 *cols, int n)
{
	long score = 0, dark = 0;
	for (int y = 0; y < n; y++) {
		dark += popcount128(rows[y]);
		score += line_penalty(rows[y], n) + line_penalty(cols[y], n);
		if (y) {
			bits128 same = ~(rows[y] ^ rows[y - 1]), across = ~(rows[y] ^ (rows[y] >> 1));
			score += 3L * popcount128(same & (same >> 1) & across & low_bits(n - 1));
		}
	}
	long percent = dark * 100 / ((long)n * n);
	return score + 10 * (labs(percent - 50) / 5);
}

static void to_bits(const unsigned char *d, int n, bits128 *rows, bits128 *cols)
{
	memset(cols, 0, sizeof *cols * (size_t)n);
	for (int y = 0; y < n; y++) {
		bits128 row = 0;
		for (int x = 0; x < n; x++) {
			bits128 bit = (bits128)(d[y * n + x] & 1);
			row |= bit << x;
			cols[x] |= bit << y;
		}
		rows[y] = row;
	}
}

/* The same score as qr_penalty_scalar, a line at a time in 128-bit sets. */
long qr_penalty(const unsigned char *d, int n)
{
	if (n + 8 > 128)
		return qr_penalty_scalar(d, n);
	bits128 rows[QR_WIDTH_MAX], cols[QR_WIDTH_MAX];
	to_bits(d, n, rows, cols);
	return penalty_bits(rows, cols, n);
}

/* The eight masks of a version, restricted to its data modules, are the
 * same for every code of that version: kept per thread for the last few
 * versions seen, as bytes and as row and column bit sets. */
struct mask_set {
	int width;
	unsigned char function[QR_WIDTH_MAX * QR_WIDTH_MAX];
	unsigned char bytes[8][QR_WIDTH_MAX * QR_WIDTH_MAX];
	bits128 rows[8][QR_WIDTH_MAX], cols[8][QR_WIDTH_MAX];
};
enum { MASK_SETS = 4 };
static _Thread_local struct mask_set *sets[MASK_SETS];
static _Thread_local int next_set;

void qr_thread_done(void)
{
	for (int i = 0; i < MASK_SETS; i++) {
		free(sets[i]);
		sets[i] = NULL;
	}
}

/* libqrencode's frame flags: bit 0 dark, bit 7 a function module. */
#define QR_FUNCTION 0x80

bool qr_encode_mask(const char *text, char ecc, int mask, struct qr_matrix *m, const char **why)
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
	/* Encode once under mask 0, then choose the mask here: the same rules
	 * as libqrencode's search, at a fraction of its cost. */
	if (ok)
		ok = (code = QRcode_encodeMask(in, 0)) != NULL;
	QRinput_free(in);
	if (!ok) {
		*why = errno == ERANGE ? "the text is too long for a QR code" : "libqrencode could not encode the text";
		return false;
	}
	int n = code->width;
	size_t cells = (size_t)n * (size_t)n;
	unsigned char *plain = xmalloc(cells), *try = xmalloc(cells);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			unsigned char v = code->data[i * n + j];
			plain[i * n + j] =
			    (unsigned char)((v & 1) ^ (!(v & QR_FUNCTION) && (i + j) % 2 == 0)); /* mask 0 off */
		}
	struct mask_set *ms = NULL;
	for (int i = 0; i < MASK_SETS && !ms; i++) {
		if (!sets[i] || sets[i]->width != n)
			continue;
		bool same = true;
		for (size_t c = 0; same && c < cells; c++)
			same = sets[i]->function[c] == (code->data[c] & QR_FUNCTION);
		if (same)
			ms = sets[i];
	}
	if (!ms) {
		if (!sets[next_set])
			sets[next_set] = xmalloc(sizeof *ms); /* freed by qr_thread_done */
		ms = sets[next_set];
		next_set = (next_set + 1) % MASK_SETS;
		ms->width = n;
		for (size_t c = 0; c < cells; c++)
			ms->function[c] = code->data[c] & QR_FUNCTION;
		for (int k = 0; k < 8; k++) {
			for (int i = 0; i < n; i++)
				for (int j = 0; j < n; j++)
					ms->bytes[k][i * n + j] =
					    (unsigned char)(!(code->data[i * n + j] & QR_FUNCTION) &&
					                    qr_mask_bit(k, i, j));
			if (n + 8 <= 128)
				to_bits(ms->bytes[k], n, ms->rows[k], ms->cols[k]);
		}
	}
	int best = mask < 0 ? 0 : mask;
	if (mask < 0) {
		/* Masking is an XOR: each candidate is the unmasked symbol's bit sets
		 * XOR the mask's, with the few format modules that differ flipped. */
		put_format(plain, n, ecc, 0);
		long best_score = -1;
		bits128 base_rows[QR_WIDTH_MAX], base_cols[QR_WIDTH_MAX], rows[QR_WIDTH_MAX], cols[QR_WIDTH_MAX];
		int xs[FORMAT_CELLS], ys[FORMAT_CELLS], fbits[FORMAT_CELLS];
		bool fast = n + 8 <= 128;
		if (fast) {
			to_bits(plain, n, base_rows, base_cols);
			format_cells(n, xs, ys, fbits);
		}
		unsigned f0 = format_bits(ecc, 0);
		for (int k = 0; k < 8; k++) {
			long score;
			if (fast) {
				unsigned flip = f0 ^ format_bits(ecc, k);
				for (int i = 0; i < n; i++)
					rows[i] = base_rows[i] ^ ms->rows[k][i],
					cols[i] = base_cols[i] ^ ms->cols[k][i];
				for (int i = 0; i < FORMAT_CELLS; i++)
					if ((flip >> fbits[i]) & 1)
						rows[ys[i]] ^= (bits128)1 << xs[i], cols[xs[i]] ^= (bits128)1 << ys[i];
				score = penalty_bits(rows, cols, n);
			} else {
				for (size_t c = 0; c < cells; c++)
					try[c] = plain[c] ^ ms->bytes[k][c];
				put_format(try, n, ecc, k);
				score = qr_penalty_scalar(try, n);
			}
			if (best_score < 0 || score < best_score) /* ties keep the lower mask */
				best_score = score, best = k;
		}
	}
	for (size_t c = 0; c < cells; c++)
		try[c] = plain[c] ^ ms->bytes[best][c];
	put_format(try, n, ecc, best);
	m->dark = try;
	try = NULL;
	m->width = n;
	QRcode_free(code);
	free(plain);
	free(try);
	return true;
}

bool qr_encode(const char *text, char ecc, struct qr_matrix *m, const char **why)
{
	return qr_encode_mask(text, ecc, -1, m, why);
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

static bool write_format(const struct qr_matrix *m, enum qr_format fmt, const struct qr_style *s, FILE *f)
{
	bool ok = fmt == QR_PNG   ? write_png(m, s, f)
	          : fmt == QR_SVG ? write_svg(m, s, f)
	                          : (qr_write_text(m, s->margin, f), true);
	return fflush(f) == 0 && !ferror(f) && ok;
}

bool qr_write_file(const struct qr_matrix *m, enum qr_format fmt, const struct qr_style *s, const char *path,
                   const char **why)
{
	/* First choice: an unnamed file in the target's directory, linked into
	 * place when whole: one change to the directory, not two. */
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	if (slash)
		slash == dir ? (void)(slash[1] = '\0') : (void)(*slash = '\0');
	int fd = open(slash ? dir : ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	free(dir);
	if (fd >= 0) {
		FILE *f = fdopen(fd, "wb");
		if (!f) {
			close(fd);
			*why = strerror(errno);
			return false;
		}
		bool written = write_format(m, fmt, s, f);
		int saved = errno;
		char proc[64];
		bufprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
		bool linked = written && linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0;
		if (written && !linked)
			saved = errno;
		fclose(f);
		if (linked)
			return true;
		if (!written || saved != EEXIST) {
			*why = strerror(saved ? saved : EIO);
			return false;
		}
		/* It exists (a replay): replace it whole, by rename, below. */
	}
	char *tmp = xasprintf("%s.tmp.%ld.%lu", path, (long)getpid(), (unsigned long)pthread_self());
	FILE *f = fopen(tmp, "wbx");
	if (!f) {
		*why = strerror(errno);
		free(tmp);
		return false;
	}
	bool ok = write_format(m, fmt, s, f);
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
	qr_thread_done();
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
