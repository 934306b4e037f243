/* fmt: see fmt.h. */
#define _XOPEN_SOURCE 700 /* wcwidth */
#include <errno.h>
#include <jansson.h>
#include <locale.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "clock.h"
#include "fmt.h"
#include "money.h"
#include "utf8.h"

#include "util.h"

enum {
	COL_MAX_WIDTH = 40,       /* a longer cell overflows rather than widen its column */
	LINE_MAX_BYTES = 1 << 20, /* as records.h: a longer line is not a record */
	PASS_MAX_BYTES = 1000,    /* of a non-record line shown */
	ID_MIN = 8,               /* characters after the '_' of a short id */
	ID_CHARS = 26,            /* after the '_' of a generated id */
	ID_KEEP = 1 << 15,        /* distinct ids remembered for short forms */
	ID_SLOTS = 1 << 20,       /* hash slots: prefixes of ID_KEEP ids, under half full */
	ID_TRACKED = 20,          /* prefix lengths counted: beyond, ids are shown whole */
};

/* A table cell: its text, escaped, and its width; an id is resolved to
 * its short form when the window is printed. */
struct cell {
	char *text;
	int width;
	size_t id_at; /* where a generated id starts in text, or SIZE_MAX */
	bool right;   /* a number: right-aligned */
};

struct row {
	char mark;          /* ' ' a record, '!' an error */
	struct cell *cells; /* one per column; text NULL where the record has no such field */
	size_t ncells;
};

/* Counts of id prefixes seen, in two generations: a prefix counted once
 * names one id. When the newer holds ID_KEEP ids the older is dropped, so
 * memory stays bounded and any two ids shown within ID_KEEP distinct ids
 * of each other are always told apart. */
struct idgen {
	uint64_t *keys; /* hash of the prefix; 0 free */
	uint32_t *counts;
	size_t ids;
};
struct idset {
	struct idgen gen[2]; /* gen[0] the newer */
};

struct fmt {
	FILE *out;
	struct fmt_opts o;
	char *type; /* of the window's records */
	char **cols;
	size_t ncols;
	struct row *rows;
	size_t nrows, caprows;
	/* The table last printed: its type, columns and widths, so a window
	 * like it continues it without a new header. */
	char *last_type;
	char **last_cols;
	size_t last_ncols;
	int *last_widths;
	struct idset ids;
	bool write_error;
};

struct fmt *fmt_new(FILE *out, const struct fmt_opts *o)
{
	struct fmt *f = xcalloc(1, sizeof *f);
	f->out = out;
	f->o = *o;
	if (!f->o.window)
		f->o.window = 100;
	/* Display widths (wcwidth) need a UTF-8 character type; records are
	 * UTF-8 whatever the user's locale. */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "en_US.UTF-8");
	return f;
}

/* ---- escaping and width ---- */

/* Next code point of s[i..n), or -1 for a byte that is not UTF-8; *len its bytes. */
static long utf8_next(const unsigned char *s, size_t n, size_t i, size_t *len)
{
	unsigned char c = s[i];
	int need;
	long cp;
	if (c < 0x80) {
		*len = 1;
		return c;
	} else if (c >= 0xc2 && c <= 0xdf) {
		need = 1, cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2, cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3, cp = c & 0x07;
	} else {
		*len = 1;
		return -1;
	}
	if (n - i <= (size_t)need) {
		*len = 1;
		return -1;
	}
	for (int k = 1; k <= need; k++) {
		if ((s[i + (size_t)k] & 0xc0) != 0x80) {
			*len = 1;
			return -1;
		}
		cp = cp << 6 | (s[i + (size_t)k] & 0x3f);
	}
	/* Overlongs, surrogates and beyond U+10FFFF are not UTF-8. */
	if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff)) {
		*len = 1;
		return -1;
	}
	*len = (size_t)need + 1;
	return cp;
}

static void sb_str(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

char *fmt_escape(const char *s, size_t n, int *width)
{
	struct strbuf b = {0};
	strbuf_add(&b, "", 0);
	int w = 0;
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		size_t len;
		long cp = utf8_next(u, n, i, &len);
		char esc[16];
		int cw = cp < 0 || utf8_unsafe_cp(cp) ? -1 : cp < 0x80 ? 1 : wcwidth((wchar_t)cp);
		if (cp == '\\') {
			sb_str(&b, "\\\\");
			w += 2;
		} else if (cw >= 0) {
			strbuf_add(&b, s + i, len);
			w += cw;
		} else {
			/* Unassigned or invisible code points are shown by number too:
			 * what cannot be seen cannot be trusted. */
			int k = cp < 0       ? snprintf(esc, sizeof esc, "\\x%02x", u[i])
			        : cp < 0x100 ? snprintf(esc, sizeof esc, "\\x%02lx", cp)
			                     : snprintf(esc, sizeof esc, "\\u%04lx", cp);
			strbuf_add(&b, esc, (size_t)k);
			w += k;
		}
		i += len;
	}
	*width = w;
	return b.s;
}

/* ---- ids ---- */

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	h ^= n * 0x9e3779b97f4a7c15u;
	return h ? h : 1;
}

/* The slot of key: where it is, or the free one where it goes. */
static size_t slot(const struct idgen *g, uint64_t key)
{
	size_t i = (size_t)key & (ID_SLOTS - 1);
	while (g->keys[i] && g->keys[i] != key)
		i = (i + 1) & (ID_SLOTS - 1);
	return i;
}

static uint32_t count(const struct idgen *g, uint64_t key)
{
	if (!g->keys)
		return 0;
	size_t i = slot(g, key);
	return g->keys[i] ? g->counts[i] : 0;
}

/* Length of the part of a generated id before its 26 characters ("pay_",
 * an event's "evt_pay_"), or 0. */
static size_t id_prefix(const char *s)
{
	size_t p = 0;
	while ((s[p] >= 'a' && s[p] <= 'z') || s[p] == '_')
		p++;
	if (p < 2 || p > 16 || s[p - 1] != '_' || s[0] == '_')
		return 0;
	size_t k = 0;
	for (; s[p + k]; k++)
		if (!strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", s[p + k]))
			return 0;
	return k == ID_CHARS ? p : 0;
}

/* The key of a whole id, apart from its prefixes' (the trailing '#'). */
static uint64_t whole_key(const char *id)
{
	char whole[64];
	bufprintf(whole, sizeof whole, "%s#", id);
	return hash(whole, strlen(whole));
}

/* Count id's prefixes, once per distinct id. */
static void id_add(struct idset *ids, const char *id)
{
	uint64_t wk = whole_key(id);
	if (count(&ids->gen[0], wk) || count(&ids->gen[1], wk))
		return;
	struct idgen *g = &ids->gen[0];
	if (g->ids == ID_KEEP) {
		/* Bounded memory on an endless stream: the older generation goes. */
		struct idgen old = ids->gen[1];
		ids->gen[1] = *g;
		*g = old;
		if (g->keys) {
			memset(g->keys, 0, ID_SLOTS * sizeof *g->keys);
			memset(g->counts, 0, ID_SLOTS * sizeof *g->counts);
		}
		g->ids = 0;
	}
	if (!g->keys) {
		g->keys = xcalloc(ID_SLOTS, sizeof *g->keys);
		g->counts = xcalloc(ID_SLOTS, sizeof *g->counts);
	}
	size_t w = slot(g, wk);
	g->keys[w] = wk;
	g->counts[w] = 1;
	g->ids++;
	size_t p = id_prefix(id);
	for (size_t l = p + ID_MIN; l <= p + ID_TRACKED; l++) {
		uint64_t k = hash(id, l);
		size_t i = slot(g, k);
		g->keys[i] = k;
		g->counts[i]++;
	}
}

/* Characters of id to show: the shortest prefix no other id remembered shares. */
static size_t id_short(const struct idset *ids, const char *id)
{
	size_t p = id_prefix(id);
	for (size_t l = p + ID_MIN; l <= p + ID_TRACKED; l++) {
		uint64_t k = hash(id, l);
		if (count(&ids->gen[0], k) + count(&ids->gen[1], k) == 1)
			return l;
	}
	return strlen(id);
}

/* ---- cells ---- */

static const char *const money_keys[] = {"amount",
                                         "fee",
                                         "fees",
                                         "gross",
                                         "net",
                                         "payout",
                                         "pending",
                                         "deposit",
                                         "balance",
                                         "refunded",
                                         "fee_returned",
                                         "fees_returned",
                                         "refunded_from_deposit",
                                         "carried_in",
                                         "carried_out",
                                         "debit",
                                         "credit",
                                         "opening",
                                         "closing",
                                         "total",
                                         "held"};

static bool money_key(const char *k)
{
	for (size_t i = 0; i < ARRAY_LEN(money_keys); i++)
		if (strcmp(k, money_keys[i]) == 0)
			return true;
	size_t n = strlen(k);
	return (n > 7 && strcmp(k + n - 7, "_amount") == 0) || (n > 8 && strcmp(k + n - 8, "_balance") == 0) ||
	       strcmp(k, "price") == 0; /* a product's */
}

/* An RFC 3339 time as the ledger writes them, in local time. */
static bool local_time(const char *s, char out[64])
{
	int64_t ms;
	if (strlen(s) < 20 || s[10] != 'T' || !clock_parse(s, &ms))
		return false;
	time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0));
	struct tm tm;
	if (!localtime_r(&t, &tm))
		return false;
	return strftime(out, 64, "%Y-%m-%d %H:%M:%S %Z", &tm) > 0;
}

static void cell_text(struct cell *c, const char *s, size_t n)
{
	c->text = fmt_escape(s, n, &c->width);
}

static void cell_make(struct cell *c, const char *key, json_t *v, const struct currency *cur)
{
	*c = (struct cell){.id_at = SIZE_MAX};
	char buf[MONEY_TEXT_MAX + 8], when[64];
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (cur && money_key(key) && i >= -MONEY_MAX * 1000 && i <= MONEY_MAX * 1000) {
			char m[MONEY_TEXT_MAX];
			money_format((int64_t)i, cur, m);
			bufprintf(buf, sizeof buf, "%s %s", m, cur->alpha);
		} else {
			bufprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, i);
		}
		cell_text(c, buf, strlen(buf));
		c->right = true;
	} else if (json_is_real(v)) {
		bufprintf(buf, sizeof buf, "%.17g", json_real_value(v));
		cell_text(c, buf, strlen(buf));
		c->right = true;
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);
		const char *colon = memchr(s, ':', n);
		if (strlen(s) == n && local_time(s, when)) {
			cell_text(c, when, strlen(when));
		} else if (strlen(s) == n && id_prefix(s)) {
			cell_text(c, s, n);
			c->id_at = 0;
		} else if (strlen(s) == n && colon && id_prefix(colon + 1)) {
			/* a ledger account: "wallet:wal_..." */
			cell_text(c, s, n);
			c->id_at = (size_t)(colon + 1 - s);
		} else {
			cell_text(c, s, n);
		}
	} else if (json_is_null(v)) {
		cell_text(c, "-", 1);
	} else if (json_is_true(v) || json_is_false(v)) {
		cell_text(c, json_is_true(v) ? "yes" : "no", json_is_true(v) ? 3 : 2);
	} else {
		/* Lists of names read as such; anything else as compact JSON. */
		size_t i;
		json_t *x;
		bool names = json_is_array(v);
		json_array_foreach (v, i, x)
			names = names && json_is_string(x);
		if (names) {
			struct strbuf b = {0};
			strbuf_add(&b, "", 0);
			json_array_foreach (v, i, x) {
				if (i)
					sb_str(&b, ",");
				strbuf_add(&b, json_string_value(x), json_string_length(x));
			}
			cell_text(c, b.s, b.len);
			free(b.s);
		} else {
			char *j = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
			cell_text(c, j ? j : "?", j ? strlen(j) : 1);
			free(j);
		}
	}
}

/* ---- tables ---- */

/* The column of key in the window, added if new. */
static size_t column(struct fmt *f, const char *key)
{
	for (size_t i = 0; i < f->ncols; i++)
		if (strcmp(f->cols[i], key) == 0)
			return i;
	f->cols = xrealloc(f->cols, (f->ncols + 1) * sizeof *f->cols);
	f->cols[f->ncols] = xstrdup(key);
	return f->ncols++;
}

static void color(struct fmt *f, const char *sgr)
{
	if (f->o.color)
		fputs(sgr, f->out);
}

static void pad(struct fmt *f, int n)
{
	for (; n > 0; n--)
		fputc(' ', f->out);
}

/* A cell's text, its id cut short. */
static void put_cell(struct fmt *f, const struct cell *c, int width, bool last)
{
	const char *t = c->text ? c->text : "";
	int w = c->text ? c->width : 0;
	size_t n = strlen(t);
	if (c->text && c->id_at != SIZE_MAX) {
		size_t keep = c->id_at + id_short(&f->ids, t + c->id_at);
		w -= (int)(n - keep);
		n = keep;
	}
	if (c->right && !last)
		pad(f, width - w);
	fwrite(t, 1, n, f->out);
	if (!c->right && !last)
		pad(f, width - w);
}

static bool same_columns(const struct fmt *f)
{
	if (!f->last_type || strcmp(f->last_type, f->type) != 0 || f->last_ncols != f->ncols)
		return false;
	for (size_t i = 0; i < f->ncols; i++)
		if (strcmp(f->cols[i], f->last_cols[i]) != 0)
			return false;
	return true;
}

static void forget_last(struct fmt *f)
{
	for (size_t i = 0; i < f->last_ncols; i++)
		free(f->last_cols[i]);
	free(f->last_cols);
	free(f->last_widths);
	free(f->last_type);
	f->last_cols = NULL;
	f->last_widths = NULL;
	f->last_type = NULL;
	f->last_ncols = 0;
}

void fmt_flush(struct fmt *f)
{
	if (!f->nrows)
		return;
	/* Every id of the window counts before any is cut short. */
	for (size_t r = 0; r < f->nrows; r++)
		for (size_t i = 0; i < f->rows[r].ncells; i++) {
			struct cell *c = &f->rows[r].cells[i];
			if (c->text && c->id_at != SIZE_MAX)
				id_add(&f->ids, c->text + c->id_at);
		}
	/* Column 0 is the type; widths by display width, capped. */
	size_t nc = f->ncols + 1;
	int *w = xcalloc(nc, sizeof *w);
	bool cont = same_columns(f), grew = !cont;
	w[0] = 4;
	for (size_t i = 1; i < nc; i++) {
		int hw = 0;
		free(fmt_escape(f->cols[i - 1], strlen(f->cols[i - 1]), &hw));
		w[i] = hw;
	}
	if (cont)
		for (size_t i = 0; i < nc; i++)
			w[i] = f->last_widths[i];
	for (size_t r = 0; r < f->nrows; r++)
		for (size_t i = 0; i < nc; i++) {
			struct cell *c = &f->rows[r].cells[i];
			if (!c->text)
				continue;
			int cw = c->width;
			if (c->id_at != SIZE_MAX)
				cw -= (int)(strlen(c->text) - c->id_at - id_short(&f->ids, c->text + c->id_at));
			if (cw > COL_MAX_WIDTH)
				cw = COL_MAX_WIDTH;
			if (cw > w[i]) {
				w[i] = cw;
				grew = true;
			}
		}
	if (grew) {
		/* The header: field names, dim. */
		color(f, "\033[2m");
		fputs("# type", f->out);
		pad(f, w[0] - 4);
		for (size_t i = 1; i < nc; i++) {
			int hw;
			char *h = fmt_escape(f->cols[i - 1], strlen(f->cols[i - 1]), &hw);
			fputs("  ", f->out);
			fputs(h, f->out);
			if (i + 1 < nc)
				pad(f, w[i] - hw);
			free(h);
		}
		color(f, "\033[0m");
		fputc('\n', f->out);
	}
	for (size_t r = 0; r < f->nrows; r++) {
		struct row *row = &f->rows[r];
		size_t last = nc;
		while (last > 0 && !row->cells[last - 1].text)
			last--;
		if (row->mark == '!')
			color(f, "\033[1;31m");
		fputc(row->mark, f->out);
		fputc(' ', f->out);
		for (size_t i = 0; i < last; i++) {
			if (i)
				fputs("  ", f->out);
			put_cell(f, &row->cells[i], w[i], i + 1 == last);
		}
		if (row->mark == '!')
			color(f, "\033[0m");
		fputc('\n', f->out);
		for (size_t i = 0; i < row->ncells; i++)
			free(row->cells[i].text);
		free(row->cells);
	}
	/* Remember this table so the next window of it goes on under it. */
	if (!cont) {
		forget_last(f);
		f->last_type = xstrdup(f->type);
		f->last_cols = xcalloc(f->ncols + 1, sizeof *f->last_cols);
		for (size_t i = 0; i < f->ncols; i++)
			f->last_cols[i] = xstrdup(f->cols[i]);
		f->last_ncols = f->ncols;
	} else {
		free(f->last_widths);
	}
	f->last_widths = w;
	f->nrows = 0;
	for (size_t i = 0; i < f->ncols; i++)
		free(f->cols[i]);
	f->ncols = 0;
	free(f->type);
	f->type = NULL;
	if (fflush(f->out) != 0 || ferror(f->out))
		f->write_error = true;
}

/* Fields in the order a person looks for them; the rest follow in the record's order. */
static const char *const first_keys[] = {"id", "code", "merchant", "order", "out_trade_no", "amount", "currency"};

static void add_record(struct fmt *f, json_t *rec)
{
	json_t *t = json_object_get(rec, "type");
	const char *type = json_is_string(t) ? json_string_value(t) : "(no type)";
	if (f->type && (strcmp(f->type, type) != 0 || f->nrows >= f->o.window))
		fmt_flush(f);
	if (!f->type)
		f->type = xstrdup(type);
	const char *cname = json_string_value(json_object_get(rec, "currency"));
	const struct currency *cur = cname ? currency_find(cname) : NULL;
	if (f->nrows == f->caprows) {
		f->caprows = f->caprows ? f->caprows * 2 : 16;
		f->rows = xrealloc(f->rows, f->caprows * sizeof *f->rows);
	}
	struct row *row = &f->rows[f->nrows++];
	bool error = strcmp(type, "error") == 0;
	*row = (struct row){.mark = error ? '!' : ' '};
	/* Columns: known ones first, then the record's own order. */
	size_t order_n = 0;
	const char **keys = xcalloc(json_object_size(rec) + 1, sizeof *keys);
	for (size_t i = 0; i < ARRAY_LEN(first_keys); i++)
		if (json_object_get(rec, first_keys[i]) && !(cur && strcmp(first_keys[i], "currency") == 0))
			keys[order_n++] = first_keys[i];
	const char *key;
	json_t *v;
	/* The currency is shown with the amounts when there are any. */
	bool in_amounts = false;
	json_object_foreach (rec, key, v)
		in_amounts = in_amounts || (cur && json_is_integer(v) && money_key(key));
	json_object_foreach (rec, key, v) {
		bool seen = (strcmp(key, "type") == 0 && json_is_string(v)) ||
		            (in_amounts && strcmp(key, "currency") == 0) || strcmp(key, "message") == 0;
		for (size_t i = 0; i < order_n && !seen; i++)
			seen = strcmp(keys[i], key) == 0;
		if (!seen)
			keys[order_n++] = key;
	}
	/* An error's sentence last: it is long, and the fields say what it is about. */
	if (json_object_get(rec, "message"))
		keys[order_n++] = "message";
	for (size_t k = 0; k < order_n; k++)
		column(f, keys[k]);
	row->ncells = f->ncols + 1;
	row->cells = xcalloc(row->ncells, sizeof *row->cells);
	for (size_t i = 0; i < row->ncells; i++)
		row->cells[i].id_at = SIZE_MAX;
	cell_text(&row->cells[0], error ? "ERROR" : type, strlen(error ? "ERROR" : type));
	for (size_t k = 0; k < order_n; k++)
		cell_make(&row->cells[column(f, keys[k]) + 1], keys[k], json_object_get(rec, keys[k]), cur);
	free(keys);
	/* Rows made before a new column appeared get an empty cell there. */
	for (size_t r = 0; r + 1 < f->nrows; r++) {
		struct row *o = &f->rows[r];
		if (o->ncells < f->ncols + 1) {
			o->cells = xrealloc(o->cells, (f->ncols + 1) * sizeof *o->cells);
			for (size_t i = o->ncells; i < f->ncols + 1; i++)
				o->cells[i] = (struct cell){.id_at = SIZE_MAX};
			o->ncells = f->ncols + 1;
		}
	}
}

/* A line that is no record: shown as it came, escaped, marked '?'. */
static void pass_through(struct fmt *f, const char *line, size_t len, size_t more)
{
	fmt_flush(f);
	forget_last(f);
	int w;
	size_t shown = len > PASS_MAX_BYTES ? PASS_MAX_BYTES : len;
	char *t = fmt_escape(line, shown, &w);
	color(f, "\033[33m");
	fprintf(f->out, "? %s", t);
	if (shown < len || more)
		fprintf(f->out, " [... %zu bytes more]", len - shown + more);
	color(f, "\033[0m");
	fputc('\n', f->out);
	free(t);
	if (fflush(f->out) != 0 || ferror(f->out))
		f->write_error = true;
}

void fmt_line(struct fmt *f, const char *line, size_t len)
{
	while (len && line[len - 1] == '\r')
		len--;
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i == len)
		return; /* blank lines are skipped, as every program skips them */
	json_error_t jerr;
	json_t *rec = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (json_is_object(rec))
		add_record(f, rec);
	else
		pass_through(f, line, len, 0);
	json_decref(rec);
}

int fmt_read(struct fmt *f, int fd)
{
	size_t cap = 1 << 16, start = 0, end = 0, dropped = 0;
	char *buf = xmalloc(cap);
	int rc = 0;
	for (;;) {
		/* Every complete line in the buffer. */
		char *nl;
		while ((nl = memchr(buf + start, '\n', end - start)) != NULL) {
			size_t n = (size_t)(nl - (buf + start));
			if (dropped)
				pass_through(f, buf + start, n, dropped);
			else
				fmt_line(f, buf + start, n);
			dropped = 0;
			start += n + 1;
		}
		memmove(buf, buf + start, end - start);
		end -= start;
		start = 0;
		if (end >= LINE_MAX_BYTES) {
			/* Not a record: keep its beginning to show, count the rest. */
			dropped += end - PASS_MAX_BYTES;
			end = PASS_MAX_BYTES;
		}
		if (end == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		/* The input pauses: print what the window holds now. */
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (f->nrows && poll(&p, 1, 0) == 0)
			fmt_flush(f);
		ssize_t r = read(fd, buf + end, cap - end);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = errno;
			break;
		}
		if (r == 0) {
			if (end)
				dropped ? pass_through(f, buf, end, dropped) : fmt_line(f, buf, end);
			break;
		}
		end += (size_t)r;
		if (f->write_error)
			break;
	}
	free(buf);
	fmt_flush(f);
	return rc;
}

bool fmt_close(struct fmt *f)
{
	fmt_flush(f);
	bool ok = !f->write_error;
	forget_last(f);
	free(f->cols);
	free(f->rows);
	free(f->type);
	for (int g = 0; g < 2; g++) {
		free(f->ids.gen[g].keys);
		free(f->ids.gen[g].counts);
	}
	free(f);
	return ok;
}
