/* repair: see repair.h. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "emv.h"
#include "repair.h"
#include "utf8.h"

#include "util.h"

/* The text as characters: offs[i] is the byte where character i starts. */
struct chars {
	const char *s;
	int *offs;
	int n;
};

static void chars_init(struct chars *c, const char *s)
{
	c->s = s;
	c->n = (int)utf8_count(s);
	c->offs = xmalloc(sizeof(int) * ((size_t)c->n + 1));
	for (int i = 0, b = 0; i <= c->n; i++) {
		c->offs[i] = b;
		if (i < c->n)
			do
				b++;
			while (((unsigned char)s[b] & 0xC0) == 0x80);
	}
}

static bool digit_at(const struct chars *c, int i)
{
	return c->offs[i + 1] - c->offs[i] == 1 && c->s[c->offs[i]] >= '0' && c->s[c->offs[i]] <= '9';
}

static int number_at(const struct chars *c, int i)
{
	return (c->s[c->offs[i]] - '0') * 10 + (c->s[c->offs[i + 1]] - '0');
}

/* Cut a message where bufprintf may have split a character. */
static void utf8_cut(char *s)
{
	size_t bad;
	if (!utf8_valid(s, strlen(s), &bad))
		s[bad] = '\0';
}

/* A value for a message: its first 24 characters, "..." if there are more. */
static void quote(char *dst, size_t n, const char *s, size_t bytes)
{
	size_t b = 0;
	int chars = 0;
	while (b < bytes && chars < 24) {
		do
			b++;
		while (b < bytes && ((unsigned char)s[b] & 0xC0) == 0x80);
		chars++;
	}
	bufprintf(dst, n, "%.*s%s", (int)b, s, b < bytes ? "..." : "");
	utf8_cut(dst);
}

/* Append the CRC of s (which ends with "6304") to it. */
static char *with_crc(const char *s, size_t n)
{
	return xasprintf("%.*s%04X", (int)n, s, emv_crc16(s, n));
}

/* Offered only if the repaired text parses and its CRC holds; a rule it
 * still breaks beyond those is the payload's other problem, said in rest. */
static bool verified(const char *text, char *rest, size_t n)
{
	static const char *const structural[] = {"truncated",    "size",       "crc-missing",
	                                         "crc-mismatch", "tlv-length", "tlv-id"};
	struct emv_payload p;
	struct emv_error e;
	*rest = '\0';
	if (emv_parse(text, EMV_LENIENT, &p, &e) == 0) {
		emv_free(&p);
		return true;
	}
	for (size_t i = 0; i < ARRAY_LEN(structural); i++)
		if (strcmp(e.category, structural[i]) == 0)
			return false;
	if ((strcmp(e.category, "charset") == 0 && e.offset < 0) || strncmp(e.msg, "template ", 9) == 0)
		return false; /* not UTF-8, or a template that does not split */
	bufprintf(rest, n, " (it then still fails: %s)", e.msg);
	return true;
}

static bool add(struct repair_report *r, const char *prefix, const char *kind, const char *payload, const char *fmt,
                ...) __attribute__((format(printf, 5, 6)));
static bool add(struct repair_report *r, const char *prefix, const char *kind, const char *payload, const char *fmt,
                ...)
{
	char rest[300], msg[sizeof r->r[0].msg];
	if (r->n == REPAIR_MAX)
		return false;
	for (int i = 0; i < r->n; i++)
		if (strcmp(r->r[i].payload, payload) == 0)
			return false; /* found by another reading: the first says it */
	if (!verified(payload, rest, sizeof rest))
		return false;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct repair *x = &r->r[r->n++];
	strlcopy(x->kind, kind, sizeof x->kind);
	bufprintf(x->msg, sizeof x->msg, "%s%s%s", prefix, msg, rest);
	utf8_cut(x->msg);
	x->payload = xstrdup(payload);
	return true;
}

/* CRC-16 variants an encoder may have used instead of CCITT-FALSE. */
struct crc16 {
	const char *name;
	unsigned poly, init, xorout;
	bool reflect, swap;
};

static const struct crc16 variants[] = {
    {"CRC-16/CCITT-FALSE with its two bytes swapped", 0x1021, 0xFFFF, 0, false, true},
    {"CRC-16/XMODEM (initial value 0000)", 0x1021, 0x0000, 0, false, false},
    {"CRC-16/KERMIT (reflected, initial value 0000)", 0x1021, 0x0000, 0, true, false},
    {"CRC-16/KERMIT with its two bytes swapped", 0x1021, 0x0000, 0, true, true},
    {"CRC-16/X-25 (reflected, inverted)", 0x1021, 0xFFFF, 0xFFFF, true, false},
    {"CRC-16/GENIBUS (inverted)", 0x1021, 0xFFFF, 0xFFFF, false, false},
    {"CRC-16/SPI-FUJITSU (initial value 1D0F)", 0x1021, 0x1D0F, 0, false, false},
    {"CRC-16/ARC (polynomial 8005)", 0x8005, 0x0000, 0, true, false},
    {"CRC-16/MODBUS (polynomial 8005, initial value FFFF)", 0x8005, 0xFFFF, 0, true, false},
};

/* A variant's table, a byte at a time: the payload may be 4,096
 * characters and 20 CRCs of it are taken. Built per search (256 * 8 steps),
 * so no state outlives a call. */
struct crc_table {
	const struct crc16 *v;
	unsigned t[256];
};

static void crc_table_init(struct crc_table *ct, const struct crc16 *v)
{
	unsigned poly = 0;
	for (int k = 0; k < 16; k++)
		if (v->poly & (1u << k))
			poly |= 1u << (15 - k);
	ct->v = v;
	for (unsigned b = 0; b < 256; b++) {
		unsigned crc = v->reflect ? b : b << 8;
		for (int k = 0; k < 8; k++)
			crc = v->reflect ? (crc & 1 ? (crc >> 1) ^ poly : crc >> 1)
			                 : (crc & 0x8000 ? ((crc << 1) ^ v->poly) & 0xFFFF : (crc << 1) & 0xFFFF);
		ct->t[b] = crc;
	}
}

static unsigned crc_table_run(const struct crc_table *ct, const void *data, size_t n)
{
	const unsigned char *p = data;
	unsigned crc = ct->v->init;
	for (size_t i = 0; i < n; i++)
		crc = ct->v->reflect ? (crc >> 8) ^ ct->t[(crc ^ p[i]) & 0xFF]
		                     : ((crc << 8) & 0xFFFF) ^ ct->t[((crc >> 8) ^ p[i]) & 0xFF];
	crc = (crc ^ ct->v->xorout) & 0xFFFF;
	return ct->v->swap ? ((crc & 0xFF) << 8) | (crc >> 8) : crc;
}

/* EMV's own, for the many CRCs of the length search. */
static const struct crc16 ccitt_false = {"CRC-16/CCITT-FALSE", 0x1021, 0xFFFF, 0, false, false};

int repair_crc16_variant(int i, const void *p, size_t n)
{
	if (i < 0 || (size_t)i >= ARRAY_LEN(variants))
		return -1;
	struct crc_table ct;
	crc_table_init(&ct, &variants[i]);
	return (int)crc_table_run(&ct, p, n);
}

static bool hex4(const char *s, unsigned *v)
{
	if (strspn(s, "0123456789abcdefABCDEF") < 4)
		return false;
	char h[5] = {s[0], s[1], s[2], s[3], 0};
	*v = (unsigned)strtoul(h, NULL, 16);
	return true;
}

/* A CRC that does not match: lower case, without 6304, another CRC-16. */
static void crc_repairs(struct repair_report *r, const char *prefix, const struct chars *c)
{
	if (c->n < 8)
		return;
	const char *s = c->s, *found = s + c->offs[c->n - 4];
	size_t pre = (size_t)c->offs[c->n - 4];
	unsigned value, right = emv_crc16(s, pre);
	if (pre < 4 || strncmp(s + pre - 4, "6304", 4) != 0 || !hex4(found, &value))
		return;
	char *fixed = with_crc(s, pre);
	if (value == right && strncmp(found, fixed + pre, 4) != 0)
		add(r, prefix, "crc-case", fixed,
		    "the CRC %.4s is the right value in lower case; EMV writes its 4 hex digits in capitals: %.4s",
		    found, fixed + pre);
	if (emv_crc16(s, pre - 4) == value)
		add(r, prefix, "crc-without-6304", fixed,
		    "the CRC %.4s was computed without \"6304\", over the objects only; EMV's covers the CRC's own id "
		    "and length too: %.4s",
		    found, fixed + pre);
	for (size_t i = 0; i < ARRAY_LEN(variants); i++) {
		struct crc_table ct;
		crc_table_init(&ct, &variants[i]);
		for (int without = 0; without < 2; without++)
			if (crc_table_run(&ct, s, pre - 4 * (size_t)without) == value)
				add(r, prefix, "crc-algorithm", fixed,
				    "the CRC %.4s is %s%s; EMV's is CRC-16/CCITT-FALSE (polynomial 1021, initial value "
				    "FFFF) over everything before it, \"6304\" included: %.4s",
				    found, variants[i].name, without ? " over the objects without \"6304\"" : "",
				    fixed + pre);
	}
	free(fixed);
}

/* No CRC object, or one cut short: "6", "63", "630", "6304", "6304A"... */
static void crc_missing_repairs(struct repair_report *r, const char *prefix, const struct chars *c,
                                const struct emv_payload *p, const struct emv_error *e)
{
	const char *s = c->s;
	if (strcmp(e->category, "crc-missing") == 0) {
		char *t = xasprintf("%s6304", s);
		char *fixed = with_crc(t, strlen(t));
		add(r, prefix, "crc-missing", fixed,
		    "the payload has no CRC: its last object is %s, not 63; with \"6304\" and the CRC %.4s appended",
		    p->n ? p->obj[p->n - 1].id : "?", fixed + strlen(t));
		free(t);
		free(fixed);
		return;
	}
	if (strcmp(e->category, "truncated") != 0)
		return;
	for (int cut = 1; cut <= 7 && cut < c->n; cut++) {
		const char *tail = s + c->offs[c->n - cut];
		size_t head = (size_t)c->offs[c->n - cut];
		if (strncmp(tail, "6304", (size_t)(cut < 4 ? cut : 4)) != 0 ||
		    (cut > 4 && strspn(tail + 4, "0123456789abcdefABCDEF") != (size_t)(cut - 4)))
			continue;
		char *h = xasprintf("%.*s", (int)head, s);
		struct emv_payload hp;
		struct emv_error he;
		emv_parse_partial(h, EMV_LENIENT, &hp, &he);
		emv_free(&hp);
		bool walks = he.category && strcmp(he.category, "crc-missing") == 0;
		free(h);
		if (!walks)
			continue;
		char *t = xasprintf("%.*s6304", (int)head, s);
		char *fixed = with_crc(t, strlen(t));
		const char *crc = fixed + strlen(t);
		if (cut < 4)
			add(r, prefix, "crc-missing", fixed,
			    "the payload ends with a bare '%s', the start of the CRC object; with \"6304\" and the CRC "
			    "%.4s",
			    tail, crc);
		else if (cut == 4)
			add(r, prefix, "crc-missing", fixed,
			    "the payload ends with a bare \"6304\", the CRC's id and length without its value; with "
			    "the "
			    "CRC %.4s",
			    crc);
		else if (strncasecmp(tail + 4, crc, (size_t)(cut - 4)) == 0)
			add(r, prefix, "crc-missing", fixed,
			    "the CRC was cut after %d digits: '%s' is how the right CRC %.4s starts", cut - 4, tail + 4,
			    crc);
		free(t);
		free(fixed);
		return;
	}
}

static bool byte_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static int count_chars(const char *s, size_t n)
{
	int k = 0;
	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xC0) != 0x80;
	return k;
}

/* What a byte-length reading found: the first object whose lengths differ. */
struct bytes_read {
	int changed;
	char first[6];
	int bytes, chars;
	size_t crc_at; /* where the value of 63 starts */
};

/*
 * Re-read s[from, to) with lengths counted in UTF-8 bytes, writing its
 * objects to out with lengths in characters. At the root the last object
 * must be 63 (written as "6304", its value left for the caller).
 */
static bool reread_bytes(const char *s, size_t from, size_t to, const char *parent, struct strbuf *out,
                         struct bytes_read *br)
{
	for (size_t pos = from; pos < to;) {
		if (to - pos < 4 || !byte_digit(s[pos]) || !byte_digit(s[pos + 1]) || !byte_digit(s[pos + 2]) ||
		    !byte_digit(s[pos + 3]))
			return false;
		char id[3] = {s[pos], s[pos + 1], 0}, head[8];
		size_t len = (size_t)((s[pos + 2] - '0') * 10 + (s[pos + 3] - '0'));
		const char *v = s + pos + 4;
		if (len == 0 || pos + 4 + len > to || !utf8_valid(v, len, NULL))
			return false;
		if (!parent && strcmp(id, "63") == 0) {
			if (len != 4 || pos + 8 != to)
				return false;
			strbuf_add(out, "6304", 4);
			br->crc_at = pos + 4;
			return true;
		}
		if (emv_is_template(parent, id)) {
			struct strbuf inner = {0};
			bool ok = reread_bytes(s, pos + 4, pos + 4 + len, id, &inner, br);
			int chars = ok ? count_chars(inner.s, inner.len) : 0;
			if (ok && chars <= EMV_VALUE_MAX) {
				bufprintf(head, sizeof head, "%s%02d", id, chars);
				strbuf_add(out, head, 4);
				strbuf_add(out, inner.s, inner.len);
			}
			free(inner.s);
			if (!ok || chars > EMV_VALUE_MAX)
				return false;
		} else {
			int chars = count_chars(v, len);
			if ((size_t)chars != len && br->changed++ == 0) {
				bufprintf(br->first, sizeof br->first, "%s%s%s", parent ? parent : "",
				          parent ? "." : "", id);
				br->bytes = (int)len;
				br->chars = chars;
			}
			bufprintf(head, sizeof head, "%s%02d", id, chars);
			strbuf_add(out, head, 4);
			strbuf_add(out, v, len);
		}
		pos += 4 + len;
	}
	return parent != NULL; /* the root ends with 63, above */
}

static void length_bytes_repair(struct repair_report *r, const char *prefix, const char *s)
{
	struct strbuf out = {0};
	struct bytes_read br = {0};
	unsigned value;
	size_t n = strlen(s);
	if (utf8_is_ascii(s) || !reread_bytes(s, 0, n, NULL, &out, &br) || !br.changed ||
	    !hex4(s + br.crc_at, &value) || emv_crc16(s, br.crc_at) != value) {
		free(out.s);
		return;
	}
	char *fixed = with_crc(out.s, out.len);
	add(r, prefix, "length-bytes", fixed,
	    "the lengths count UTF-8 bytes, not characters (%d object%s, the first %s: %d bytes, %d characters); "
	    "read that way the payload parses and its CRC holds. EMV counts characters: with character lengths "
	    "and a new CRC %.4s",
	    br.changed, br.changed == 1 ? "" : "s", br.first, br.bytes, br.chars, fixed + out.len);
	free(fixed);
	free(out.s);
}

/*
 * For each character from start to end, whether the objects from there to
 * end read (at the root, need_crc, the last being 63 of 4): filled from the
 * end backwards once, so each length tried is one look-up, not a re-read.
 * reads[end - start] is for a value that runs to the end exactly.
 */
static bool *reads_to_end(const struct chars *c, int start, int end, bool need_crc)
{
	bool *reads = xcalloc((size_t)(end - start) + 1, sizeof *reads);
	reads[end - start] = !need_crc;
	for (int pos = end - 4; pos >= start; pos--) {
		if (!digit_at(c, pos) || !digit_at(c, pos + 1) || !digit_at(c, pos + 2) || !digit_at(c, pos + 3))
			continue;
		int len = number_at(c, pos + 2), next = pos + 4 + len;
		if (len == 0 || next > end)
			continue;
		reads[pos - start] =
		    next == end ? !need_crc || (number_at(c, pos) == 63 && len == 4) : reads[next - start];
	}
	return reads;
}

/* An object of length 00 at the root (an encoder writing an empty value,
 * which EMV does not allow): the payload without it. */
static void empty_object_repair(struct repair_report *r, const char *prefix, const struct chars *c,
                                const struct emv_error *e)
{
	int at = e->offset - 2; /* tlv-length points at the length */
	if (strcmp(e->category, "tlv-length") != 0 || strchr(e->id, '.') || at < 0 || at + 4 > c->n - 8 ||
	    number_at(c, at + 2) != 0)
		return;
	bool *reads = reads_to_end(c, at + 4, c->n, true), rest = reads[0];
	free(reads);
	if (!rest)
		return;
	const char *s = c->s;
	size_t pre = (size_t)c->offs[c->n - 4];
	unsigned value;
	if (!hex4(s + pre, &value))
		return;
	char *t = xasprintf("%.*s%.*s", c->offs[at], s, (int)(pre - (size_t)c->offs[at + 4]), s + c->offs[at + 4]);
	bool as_written = emv_crc16(s, pre) == value, holds = emv_crc16(t, strlen(t)) == value;
	if (as_written || holds) {
		char *fixed = with_crc(t, strlen(t));
		add(r, prefix, "empty-object", fixed,
		    "%.2s (%s) has length 00, an empty value, which EMV does not allow (lengths are 01 to 99); "
		    "without it the rest parses and the CRC holds (%s)%s",
		    s + c->offs[at], emv_name(NULL, e->id),
		    as_written ? "as the encoder computed it, with it" : "without it",
		    as_written ? "; without it, a new CRC" : "");
		free(fixed);
	}
	free(t);
}

/* What the one-length search found, for the break's explanation. */
struct length_found {
	int fits, offset, length, was;
	char id[6]; /* "59", or "62.05" in a template */
};

/*
 * How far a repaired payload gets through emv_parse's rules, in their
 * order: one that breaks none first (a coincidental reading rarely passes
 * every rule), then one that fails later (an object's own rule, the later
 * the object the better, beats a template that does not split, beats a
 * duplicate id), then the most objects read (a length that swallows
 * well-formed objects into a value is the less likely).
 */
static int how_far(bool ok, const struct emv_error *e, int objects)
{
	int rank = 0, at = 0;
	if (ok)
		rank = 6;
	else if (strcmp(e->category, "mandatory") == 0)
		rank = 5;
	else if (strncmp(e->msg, "template ", 9) == 0)
		rank = 3;
	else if (strcmp(e->category, "format") == 0 || strcmp(e->category, "length") == 0 ||
	         strcmp(e->category, "charset") == 0)
		rank = 4, at = e->offset > 0 ? e->offset : 0;
	else if (strcmp(e->category, "duplicate") == 0)
		rank = 2;
	else if (strcmp(e->category, "order") == 0)
		rank = 1;
	return rank * 10000000 + at * 1000 + objects;
}

/* One object's length is wrong: try every other length of every object
 * read before the break (and of the one at it), bounded. The objects are
 * the root's (parent NULL, the rest must end with 63) or a template's, whose
 * window ends at end. */
static void length_repairs(struct repair_report *r, const char *prefix, const struct chars *c,
                           const struct emv_object *objs, int nobjs, const char *parent, int end,
                           const struct emv_error *e, struct length_found *lf)
{
	int offs[EMV_MAX_OBJECTS + 1], n = 0;
	for (int i = 0; i < nobjs; i++)
		offs[n++] = objs[i].offset;
	if (e->offset >= 0 && e->offset + 4 <= end && digit_at(c, e->offset) && digit_at(c, e->offset + 1) &&
	    digit_at(c, e->offset + 2) && digit_at(c, e->offset + 3) && (n == 0 || offs[n - 1] < e->offset))
		offs[n++] = e->offset;
	if (n == 0 || c->n < 12)
		return;
	const char *s = c->s;
	size_t pre = (size_t)c->offs[c->n - 4];
	unsigned value;
	if (!hex4(s + pre, &value))
		return;
	struct crc_table ct;
	crc_table_init(&ct, &ccitt_false);
	bool holds_as_written = crc_table_run(&ct, s, pre) == value;
	int from = offs[0] + 4;
	bool *reads = reads_to_end(c, from, end, !parent);
	/* Two counts: lengths that make the rest read with the CRC holding, and
	 * of those the ones whose repaired payload breaks no rule at all (a
	 * coincidental reading rarely passes every rule): a clean one wins. */
	/* Each length that makes the rest read with the CRC holding is scored
	 * by how far its repaired payload gets (how_far); the best wins if it is
	 * alone. */
	struct fit {
		int n, score, offset, length, was;
		bool as_written;
		char *text;
	} best = {0};
	for (int i = n - 1; i >= 0; i--) {
		int at = offs[i], was = number_at(c, at + 2);
		for (int len = 1; len <= EMV_VALUE_MAX; len++) {
			if (len == was || r->tries >= REPAIR_LENGTH_TRIES)
				continue;
			r->tries++;
			if (at + 4 + len > (parent ? end : c->n - 8) || !reads[at + 4 + len - from] ||
			    r->readings >= REPAIR_READINGS_MAX)
				continue;
			r->readings++;
			char *t = xstrdup(s), digits[3];
			bufprintf(digits, sizeof digits, "%02d", len);
			memcpy(t + c->offs[at + 2], digits, 2);
			bool holds_repaired = crc_table_run(&ct, t, pre) == value;
			if (!holds_as_written && !holds_repaired) {
				free(t);
				continue;
			}
			struct emv_payload q;
			struct emv_error qe;
			char *fixed = with_crc(t, pre);
			bool ok = emv_parse_partial(fixed, EMV_LENIENT, &q, &qe) == 0;
			int score = how_far(ok, &qe, q.n);
			emv_free(&q);
			free(fixed);
			if (score > best.score) {
				free(best.text);
				best = (struct fit){1, score, at, len, was, !holds_repaired, t};
				continue;
			}
			if (score == best.score)
				best.n++;
			free(t);
		}
	}
	const struct fit *chosen = best.n == 1 ? &best : NULL;
	lf->fits = best.n;
	if (chosen) {
		lf->offset = chosen->offset;
		lf->length = chosen->length;
		lf->was = chosen->was;
		bufprintf(lf->id, sizeof lf->id, "%s%s%.2s", parent ? parent : "", parent ? "." : "",
		          s + c->offs[chosen->offset]);
		char v[128];
		int stop = lf->offset + 4 + lf->length;
		quote(v, sizeof v, s + c->offs[lf->offset + 4], (size_t)(c->offs[stop] - c->offs[lf->offset + 4]));
		char *fixed = with_crc(chosen->text, pre);
		add(r, prefix, "length", fixed,
		    "%s (%s) says %d characters, but its value is %d: '%s'; with %02d the rest parses and the CRC "
		    "holds (%s)%s",
		    lf->id, emv_name(parent, parent ? lf->id + 3 : lf->id), lf->was, lf->length, v, lf->length,
		    chosen->as_written ? "as the encoder computed it, over the wrong length"
		                       : "as computed over the right length",
		    chosen->as_written ? "; with the length fixed, a new CRC" : "");
		free(fixed);
	}
	free(best.text);
	free(reads);
}

static const char *space_name(const char *s, size_t n)
{
	if (n == 1)
		return *s == ' '    ? "a space"
		       : *s == '\t' ? "a tab"
		       : *s == '\n' ? "a newline"
		       : *s == '\r' ? "a carriage return"
		       : *s == '\v' ? "a vertical tab"
		                    : "a form feed";
	if (n == 2 && (unsigned char)*s == 0xC2)
		return "a no-break space";
	if (n == 3 && (unsigned char)*s == 0xEF)
		return "a byte-order mark";
	if (n == 2 && strncmp(s, "\r\n", 2) == 0)
		return "a line end (CR LF)";
	return "white space";
}

/* Bytes of white space at s (ASCII, U+00A0, U+FEFF). */
static size_t space_at(const char *s)
{
	if (*s && strchr(" \t\n\r\v\f", *s))
		return 1;
	if ((unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0)
		return 2;
	if ((unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF)
		return 3;
	return 0;
}

/* The repairs of one text, and why it breaks, into r (offsets shifted by
 * shift characters, for a text stripped of leading white space). */
static void search(struct repair_report *r, const char *prefix, const char *text, int shift, bool explain)
{
	struct emv_payload p;
	struct emv_error e;
	if (emv_parse_partial(text, EMV_LENIENT, &p, &e) == 0) {
		emv_free(&p);
		return;
	}
	if (strcmp(e.category, "charset") == 0 && e.offset < 0) {
		emv_free(&p);
		if (explain)
			strlcopy(r->why, e.msg, sizeof r->why);
		return;
	}
	struct chars c;
	chars_init(&c, text);
	int before = r->n;
	struct length_found lf = {0};
	if (strcmp(e.category, "crc-mismatch") == 0)
		crc_repairs(r, prefix, &c);
	crc_missing_repairs(r, prefix, &c, &p, &e);
	length_bytes_repair(r, prefix, text);
	empty_object_repair(r, prefix, &c, &e);
	static const char *const walkable[] = {"truncated", "tlv-id", "tlv-length", "crc-missing", "crc-mismatch"};
	for (size_t i = 0; i < ARRAY_LEN(walkable) && r->n == before; i++)
		if (strcmp(e.category, walkable[i]) == 0)
			length_repairs(r, prefix, &c, p.obj, p.n, NULL, c.n, &e, &lf);
	/* A template that does not split: one of its objects' lengths. */
	char tid[3] = {e.id[0], e.id[0] ? e.id[1] : 0, 0};
	const struct emv_object *t = emv_find(&p, tid);
	bool template_broken = strcmp(e.category, "format") == 0 && strncmp(e.msg, "template ", 9) == 0;
	if (template_broken && t && t->sub && r->n == before)
		length_repairs(r, prefix, &c, t->sub, t->nsub, t->id, t->offset + 4 + t->length, &e, &lf);
	if (explain) {
		r->offset = e.offset >= 0 ? e.offset + shift : -1;
		strlcopy(r->id, e.id, sizeof r->id);
		bufprintf(r->why, sizeof r->why, "%s", e.msg);
		/* A header that does not read right after an object: that object's
		 * length is the likely culprit, so say what it made of its value. */
		bool in_template = template_broken && t && t->sub;
		bool length_digits = strcmp(e.category, "tlv-length") == 0 ||
		                     (in_template && strstr(e.msg, ": at ") && strstr(e.msg, "the length of "));
		int header = length_digits ? e.offset - 2 : e.offset;
		const struct emv_object *prev = NULL, *among = in_template ? t->sub : p.obj;
		for (int i = 0; i < (in_template ? t->nsub : p.n) && header >= 0; i++)
			if (among[i].offset + 4 + among[i].length == header)
				prev = &among[i];
		bool walk_error =
		    strcmp(e.category, "tlv-id") == 0 || strcmp(e.category, "tlv-length") == 0 ||
		    (strcmp(e.category, "truncated") == 0 && strncmp(e.msg, "truncated header", 16) == 0) ||
		    (in_template && (strstr(e.msg, ": truncated header") || strstr(e.msg, "an id is 2") ||
		                     strstr(e.msg, "the length of ")));
		/* A repair of the CRC or an empty object says it all; a misread
		 * length is shown. */
		bool crc_repaired = r->n > before && (strncmp(r->r[before].kind, "crc-", 4) == 0 ||
		                                      strcmp(r->r[before].kind, "empty-object") == 0);
		if (prev && walk_error && header < c.n && !crc_repaired) {
			char v[128], next[40], path[6];
			quote(v, sizeof v, prev->value, strlen(prev->value));
			int limit = in_template ? t->offset + 4 + t->length : c.n,
			    to = header + 4 < limit ? header + 4 : limit;
			bufprintf(next, sizeof next, "%.*s", c.offs[to] - c.offs[header], text + c.offs[header]);
			bufprintf(path, sizeof path, "%s%s%s", in_template ? t->id : "", in_template ? "." : "",
			          prev->id);
			bufprintf(
			    r->why, sizeof r->why,
			    "%s (%s) says %d characters, so its value is '%s'; then '%s' at %d does not read as a "
			    "data object (%s)",
			    path, emv_name(in_template ? t->id : NULL, prev->id), prev->length, v, next, header + shift,
			    e.msg);
			r->offset = header + shift;
			strlcopy(r->id, path, sizeof r->id);
		} else if (lf.fits == 1) {
			/* The CRC was computed over the right length: the walk's own
			 * complaint was hidden behind the CRC's. */
			const struct emv_object *o = NULL;
			for (int i = 0; i < (in_template ? t->nsub : p.n); i++)
				if (among[i].offset == lf.offset)
					o = &among[i];
			if (o) {
				char v[128];
				quote(v, sizeof v, o->value, strlen(o->value));
				bufprintf(r->why, sizeof r->why,
				          "%s (%s) says %d characters, so its value is '%s' and what follows does not "
				          "read as data objects",
				          lf.id, emv_name(in_template ? t->id : NULL, o->id), lf.was, v);
			}
			r->offset = lf.offset + shift;
			strlcopy(r->id, lf.id, sizeof r->id);
		}
		size_t len = strlen(r->why);
		if (lf.fits == 1)
			bufprintf(r->why + len, sizeof r->why - len, ": %s's length is probably %d", lf.id, lf.length);
		else if (lf.fits > 1)
			bufprintf(r->why + len, sizeof r->why - len,
			          "; %d different lengths would make it read, so none is offered", lf.fits);
		if (strcmp(e.category, "crc-mismatch") == 0 && r->n == before)
			strlcopy(
			    r->why,
			    "the CRC does not match and no single repair makes it hold: the payload was changed or "
			    "mistyped",
			    sizeof r->why);
		utf8_cut(r->why);
	}
	free(c.offs);
	emv_free(&p);
}

void repair_find(const char *text, struct repair_report *r)
{
	memset(r, 0, sizeof *r);
	r->offset = -1;
	if (!utf8_valid(text, strlen(text), NULL)) {
		strlcopy(r->why, "the payload is not UTF-8", sizeof r->why);
		return;
	}
	/* White space around the payload: strip it, then look again. */
	size_t from = 0, to = strlen(text), k;
	int lead = 0;
	while ((k = space_at(text + from)) != 0)
		from += k, lead++;
	size_t end = to;
	for (size_t i = from; i < to;) {
		k = space_at(text + i);
		if (!k) {
			do
				i++;
			while (((unsigned char)text[i] & 0xC0) == 0x80);
			end = i;
		} else {
			i += k;
		}
	}
	if (from == 0 && end == to) {
		search(r, "", text, 0, true);
		return;
	}
	char *stripped = xasprintf("%.*s", (int)(end - from), text + from);
	char where[200] = "", prefix[220];
	if (from)
		bufprintf(where, sizeof where, "starts with %s", space_name(text, from));
	if (end < to) {
		size_t len = strlen(where);
		bufprintf(where + len, sizeof where - len, "%sends with %s", from ? " and " : "",
		          space_name(text + end, to - end));
	}
	if (add(r, "", "strip-whitespace", stripped,
	        "the payload %s, outside its data objects; without it the payload parses and its CRC holds", where)) {
		r->offset = end < to ? (int)utf8_count(stripped) + lead : 0;
		bufprintf(r->why, sizeof r->why, "the payload %s, outside its data objects", where);
	} else {
		bufprintf(prefix, sizeof prefix, "the payload %s; without it, ", where);
		search(r, prefix, stripped, lead, true);
		char why[sizeof r->why];
		bufprintf(why, sizeof why, "the payload %s; without it: %s", where, r->why);
		strlcopy(r->why, why, sizeof r->why);
		utf8_cut(r->why);
	}
	free(stripped);
}

void repair_free(struct repair_report *r)
{
	for (int i = 0; i < r->n; i++)
		free(r->r[i].payload);
	r->n = 0;
}

/* Columns a code point takes on a terminal: 2 for East Asian wide ones. */
static int width(unsigned cp)
{
	return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
	               (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFF00 && cp <= 0xFF60) ||
	               (cp >= 0xFFE0 && cp <= 0xFFE6) || cp >= 0x20000
	           ? 2
	           : 1;
}

void repair_mark(FILE *out, const char *text, int offset)
{
	enum { BEFORE = 30, AFTER = 30 };
	if (!utf8_valid(text, strlen(text), NULL) || offset < 0)
		return;
	struct chars c;
	chars_init(&c, text);
	if (offset > c.n)
		offset = c.n;
	int from = offset > BEFORE ? offset - BEFORE : 0, to = offset + AFTER < c.n ? offset + AFTER : c.n, col = 0;
	fputs("   ", out);
	if (from > 0)
		fputs("...", out), col += 3;
	for (int i = from; i < to; i++) {
		const unsigned char *p = (const unsigned char *)text + c.offs[i];
		int n = c.offs[i + 1] - c.offs[i], w;
		unsigned cp = n == 1   ? p[0]
		              : n == 2 ? (p[0] & 0x1Fu) << 6 | (p[1] & 0x3Fu)
		              : n == 3
		                  ? (p[0] & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu)
		                  : (p[0] & 0x07u) << 18 | (p[1] & 0x3Fu) << 12 | (p[2] & 0x3Fu) << 6 | (p[3] & 0x3Fu);
		if (cp < 0x20 || cp == 0x7f || cp == '\\')
			w = fprintf(out, "\\x%02x", cp);
		else if (cp >= 0x80 && cp <= 0x9f)
			w = fprintf(out, "\\u%04x", cp);
		else
			w = width(cp), fwrite(p, 1, (size_t)n, out);
		if (i < offset)
			col += w;
	}
	if (to < c.n)
		fputs("...", out);
	fprintf(out, "\n   %*s^\n", col, "");
	free(c.offs);
}
