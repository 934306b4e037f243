/* records: JSON-lines reader and writer. See records.h. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ids.h"
#include "money.h"
#include "records.h"
#include "utf8.h"

#include "util.h"

void rec_reader_init(struct rec_reader *r, int fd, const char *name, size_t max)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->name = name;
	r->max = max ? max : REC_LINE_MAX_DEFAULT;
	r->cap = r->max + 1 < 65536 ? r->max + 1 : 65536;
	r->buf = xmalloc(r->cap);
}

void rec_reader_free(struct rec_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Read more bytes after end; returns bytes read, 0 at EOF, -1 on error. */
static ssize_t fill(struct rec_reader *r)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->end == r->cap) {
		/* Room for a whole line of max bytes plus its newline, no more. */
		size_t want = r->cap * 2;
		if (want > r->max + 1)
			want = r->max + 1;
		if (want > r->cap) {
			r->buf = xrealloc(r->buf, want);
			r->cap = want;
		}
	}
	for (;;) {
		ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n > 0)
			r->end += (size_t)n;
		if (n == 0)
			r->eof = true;
		return n;
	}
}

/* Skip the rest of an over-long line. Returns false on a read error. */
static bool discard_line(struct rec_reader *r)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl) {
			r->start = (size_t)(nl - r->buf) + 1;
			return true;
		}
		r->start = r->end = 0;
		if (r->eof)
			return true;
		if (fill(r) < 0)
			return false;
	}
}

static bool is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

int rec_read(struct rec_reader *r, json_t **out, struct err *err)
{
	*out = NULL;
	for (;;) {
		char *line = r->buf + r->start;
		size_t avail = r->end - r->start;
		char *nl = memchr(line, '\n', avail);
		size_t len;
		if (nl) {
			len = (size_t)(nl - line);
		} else if (avail > r->max) {
			r->lineno++;
			if (!discard_line(r))
				return REC_IOERR;
			err_fail(err, ERR_FAIL, "line_too_long",
			         "line %lu is longer than %zu bytes; split the record or raise --max-line", r->lineno,
			         r->max);
			return REC_BAD;
		} else if (!r->eof) {
			if (fill(r) < 0)
				return REC_IOERR;
			continue;
		} else if (avail == 0) {
			return REC_EOF;
		} else {
			len = avail; /* last line without a newline */
		}
		r->lineno++;
		r->start += len + (nl != NULL);
		if (len > r->max) {
			err_fail(err, ERR_FAIL, "line_too_long",
			         "line %lu is longer than %zu bytes; split the record or raise --max-line", r->lineno,
			         r->max);
			return REC_BAD;
		}
		if (is_blank(line, len))
			continue;
		if (len && line[len - 1] == '\r')
			len--;
		if (memchr(line, '\0', len))
			return err_fail(err, ERR_FAIL, "bad_json", "line %lu has a NUL byte; records are JSON text",
			                r->lineno),
			       REC_BAD;
		size_t bad_at;
		if (!utf8_valid(line, len, &bad_at))
			return err_fail(err, ERR_FAIL, "bad_utf8", "line %lu is not valid UTF-8 (byte %zu)", r->lineno,
			                bad_at + 1),
			       REC_BAD;
		json_error_t jerr;
		json_t *v = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
		if (!v)
			return err_fail(err, ERR_FAIL, "bad_json", "line %lu is not valid JSON: %s (column %d)",
			                r->lineno, jerr.text, jerr.column),
			       REC_BAD;
		if (!json_is_object(v)) {
			err_fail(err, ERR_FAIL, "not_object",
			         "line %lu is a JSON %s, not an object; each line must be one {...} record", r->lineno,
			         rec_type_name(v));
			json_decref(v);
			return REC_BAD;
		}
		*out = v;
		return REC_OK;
	}
}

bool rec_reader_ready(struct rec_reader *r)
{
	if (r->eof || memchr(r->buf + r->start, '\n', r->end - r->start))
		return true;
	struct pollfd p = {.fd = r->fd, .events = POLLIN};
	return poll(&p, 1, 0) > 0;
}

static bool flush_each, on_tty;

void rec_writer_init(void)
{
	struct stat st;
	on_tty = isatty(STDOUT_FILENO);
	flush_each = on_tty || (fstat(STDOUT_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)));
}

void rec_writer_stream(void)
{
	static char block[64 * 1024];
	flush_each = on_tty;
	if (!on_tty)
		setvbuf(stdout, block, _IOFBF, sizeof block);
}

bool rec_flush(void)
{
	return fflush(stdout) == 0;
}

static void buf_reserve(struct rec_buf *b, size_t more)
{
	if (b->len + more < b->cap)
		return;
	size_t cap = b->cap ? b->cap : 512;
	while (b->len + more >= cap)
		cap *= 2;
	b->text = xrealloc(b->text, cap);
	b->cap = cap;
}

static void buf_add(struct rec_buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->text + b->len, s, n);
	b->len += n;
}

/* A JSON string as jansson writes it: UTF-8 kept, '"', '\\' and control
 * characters escaped. */
static void add_string(struct rec_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	buf_reserve(b, n + 2);
	b->text[b->len++] = '"';
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_add(b, s + run, i - run);
		run = i + 1;
		char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
		char short_esc = c == '"'    ? '"'
		                 : c == '\\' ? '\\'
		                 : c == '\b' ? 'b'
		                 : c == '\f' ? 'f'
		                 : c == '\n' ? 'n'
		                 : c == '\r' ? 'r'
		                 : c == '\t' ? 't'
		                             : 0;
		if (short_esc) {
			esc[1] = short_esc;
			buf_add(b, esc, 2);
		} else {
			buf_add(b, esc, 6);
		}
	}
	buf_add(b, s + run, n - run);
	buf_add(b, "\"", 1);
}

/* Digits from the right, without printf: a list writes millions. */
static void add_int(struct rec_buf *b, int64_t v)
{
	char num[24];
	size_t i = sizeof num;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do
		num[--i] = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		num[--i] = '-';
	buf_add(b, num + i, sizeof num - i);
}

static void add_value(struct rec_buf *b, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *item;
		bool first = true;
		buf_add(b, "{", 1);
		json_object_foreach (v, key, item) {
			if (!first)
				buf_add(b, ",", 1);
			first = false;
			add_string(b, key, strlen(key));
			buf_add(b, ":", 1);
			add_value(b, item);
		}
		buf_add(b, "}", 1);
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *item;
		buf_add(b, "[", 1);
		json_array_foreach (v, i, item) {
			if (i)
				buf_add(b, ",", 1);
			add_value(b, item);
		}
		buf_add(b, "]", 1);
		break;
	}
	case JSON_STRING: add_string(b, json_string_value(v), json_string_length(v)); break;
	case JSON_INTEGER: add_int(b, json_integer_value(v)); break;
	case JSON_REAL: {
		/* Never money; passed-through input only: jansson's own format. */
		char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		buf_add(b, text, strlen(text));
		free(text);
		break;
	}
	case JSON_TRUE: buf_add(b, "true", 4); break;
	case JSON_FALSE: buf_add(b, "false", 5); break;
	case JSON_NULL: buf_add(b, "null", 4); break;
	}
}

const char *rec_text(json_t *rec, struct rec_buf *b)
{
	/* Our own writer, the same text as jansson's compact dump: jansson
	 * builds a loop-check key with snprintf and a hash entry for every
	 * object and calls back per token, which was a seventh of a
	 * payment's time. */
	b->len = 0;
	add_value(b, rec);
	buf_reserve(b, 1);
	b->text[b->len] = '\0';
	return b->text;
}

void rec_buf_free(struct rec_buf *b)
{
	free(b->text);
	memset(b, 0, sizeof *b);
}

static struct rec_buf out_buf;

void rec_obj_begin(struct rec_buf *b)
{
	b->len = 0;
	buf_add(b, "{", 1);
}

/* Keys are the program's own words, never escaped: written as they are. */
static void add_key(struct rec_buf *b, const char *key)
{
	size_t n = strlen(key);
	buf_reserve(b, n + 4);
	if (b->text[b->len - 1] != '{')
		b->text[b->len++] = ',';
	b->text[b->len++] = '"';
	memcpy(b->text + b->len, key, n);
	b->len += n;
	b->text[b->len++] = '"';
	b->text[b->len++] = ':';
}

void rec_obj_str(struct rec_buf *b, const char *key, const char *v)
{
	add_key(b, key);
	if (v)
		add_string(b, v, strlen(v));
	else
		buf_add(b, "null", 4);
}

void rec_obj_str_opt(struct rec_buf *b, const char *key, const char *v)
{
	if (v)
		rec_obj_str(b, key, v);
}

void rec_obj_int(struct rec_buf *b, const char *key, int64_t v)
{
	add_key(b, key);
	add_int(b, v);
}

void rec_obj_open(struct rec_buf *b, const char *key)
{
	add_key(b, key);
	buf_add(b, "{", 1);
}

void rec_obj_close(struct rec_buf *b)
{
	buf_add(b, "}", 1);
}

void rec_obj_end(struct rec_buf *b)
{
	buf_add(b, "}", 1);
	buf_reserve(b, 1);
	b->text[b->len] = '\0';
}

bool rec_emit_text(struct rec_buf *b)
{
	buf_reserve(b, 1);
	b->text[b->len] = '\n';
	bool ok = fwrite(b->text, 1, b->len + 1, stdout) == b->len + 1;
	b->text[b->len] = '\0';
	if (!ok)
		return false;
	if (flush_each && fflush(stdout) == EOF)
		return false;
	return true;
}

bool rec_emit(json_t *rec)
{
	rec_text(rec, &out_buf);
	return rec_emit_text(&out_buf);
}

bool rec_writer_close(void)
{
	rec_buf_free(&out_buf);
	bool ok = fflush(stdout) == 0 && !ferror(stdout);
	if (fclose(stdout) != 0)
		ok = false;
	return ok;
}

json_t *rec_error_record(const struct err *e, json_t *ref)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "type", "error", "code", e->code, "message", e->msg);
	if (ref)
		json_object_set(o, "ref", ref);
	return o;
}

static const char *const identifying[] = {
    "order",     "payment", "refund", "merchant",    "out_trade_no", "out_request_no", "request_no",
    "reference", "wallet",  "uid",    "merchant_no", "card",         "event",
};

/* A value worth repeating: what the caller can compare with its own. */
static bool identifies(const json_t *v)
{
	return json_is_integer(v) || (json_is_string(v) && json_string_length(v) <= 256);
}

json_t *rec_error_for(const struct err *e, json_t *req, json_t *learnt)
{
	json_t *o = rec_error_record(e, json_object_get(req, "ref"));
	const char *type = json_string_value(json_object_get(req, "type"));
	json_t *id = json_object_get(req, "id");
	for (size_t i = 0; i < sizeof identifying / sizeof *identifying; i++) {
		const char *key = identifying[i];
		json_t *v = json_object_get(req, key);
		if (!v && type && strcmp(type, key) == 0)
			v = id;
		if (!v || !identifies(v))
			v = json_object_get(learnt, key);
		/* A card only by its id: a caller may have typed a card number
		 * where the id belongs, and that is never repeated. */
		if (v && strcmp(key, "card") == 0 && !ids_is(json_string_value(v) ? json_string_value(v) : "", "card"))
			v = NULL;
		if (v && identifies(v))
			json_object_set(o, key, v);
	}
	return o;
}

const char *rec_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "non-integer number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	case JSON_NULL: return "null";
	}
	return "value";
}

int rec_get_str(json_t *o, const char *key, bool required, size_t max_chars, const char **out, struct err *e)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		if (required)
			return err_fail(e, ERR_FAIL, "missing_field", "missing field '%s'", key);
		return 0;
	}
	if (!json_is_string(v))
		return err_fail(e, ERR_FAIL, "bad_field", "field '%s' must be a string, not a %s", key,
		                rec_type_name(v));
	const char *s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return err_fail(e, ERR_FAIL, "bad_field", "field '%s' contains a NUL character", key);
	if (max_chars && utf8_count(s) > max_chars)
		return err_fail(e, ERR_FAIL, "bad_field", "field '%s' is longer than %zu characters", key, max_chars);
	if (required && !*s)
		return err_fail(e, ERR_FAIL, "missing_field", "field '%s' is empty", key);
	*out = s;
	return 0;
}

int rec_get_int(json_t *o, const char *key, bool required, int64_t *out, struct err *e)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		if (required)
			return err_fail(e, ERR_FAIL, "missing_field", "missing field '%s'", key);
		return 0;
	}
	if (!json_is_integer(v))
		return err_fail(e, ERR_FAIL, "bad_field", "field '%s' must be an integer, not a %s", key,
		                rec_type_name(v));
	*out = json_integer_value(v);
	return 0;
}

int rec_get_bool(json_t *o, const char *key, bool required, bool *out, struct err *e)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v)) {
		if (required)
			return err_fail(e, ERR_FAIL, "missing_field", "missing field '%s'", key);
		return 0;
	}
	if (!json_is_boolean(v))
		return err_fail(e, ERR_FAIL, "bad_field", "field '%s' must be true or false, not a %s", key,
		                rec_type_name(v));
	*out = json_is_true(v);
	return 0;
}

bool rec_valid_name(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr(extra, *s)))
			return false;
	return true;
}

bool rec_valid_key(const char *s, size_t max)
{
	return rec_valid_name(s, max, "_");
}

int rec_get_request_no(json_t *req, const char **out, struct err *e)
{
	if (rec_get_str(req, "request_no", true, 0, out, e))
		return ERR_FAIL;
	if (!rec_valid_key(*out, REQUEST_NO_MAX))
		return err_fail(e, ERR_FAIL, "bad_field", "request_no '%.80s' must be 1 to %d letters, digits or '_'",
		                *out, REQUEST_NO_MAX);
	return 0;
}

int rec_get_amount(json_t *req, int64_t *out, struct err *e)
{
	json_t *v = json_object_get(req, "amount");
	if (v && !json_is_integer(v))
		return err_fail(e, ERR_FAIL, "bad_amount",
		                "amount must be an integer number of minor units (12.34 CNY is 1234), not a %s",
		                rec_type_name(v));
	if (rec_get_int(req, "amount", true, out, e))
		return ERR_FAIL;
	if (*out <= 0)
		return err_fail(e, ERR_FAIL, "bad_amount", "amount %lld must be at least 1 minor unit",
		                (long long)*out);
	if (*out > MONEY_MAX)
		return err_fail(e, ERR_FAIL, "bad_amount", "amount %lld is over the limit of %lld minor units",
		                (long long)*out, (long long)MONEY_MAX);
	return 0;
}
