/* emv: EMVCo MPM payloads. See emv.h for the rules and their order. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "emv.h"
#include "utf8.h"

#include "util.h"

unsigned emv_crc16(const void *data, size_t n)
{
	const unsigned char *p = data;
	unsigned crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= (unsigned)p[i] << 8;
		for (int k = 0; k < 8; k++)
			crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xFFFF : (crc << 1) & 0xFFFF;
	}
	return crc;
}

static int fail(struct emv_error *e, const char *category, int offset, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(struct emv_error *e, const char *category, int offset, const char *id, const char *fmt, ...)
{
	va_list ap;
	e->category = category;
	e->offset = offset;
	strlcopy(e->id, id ? id : "", sizeof e->id);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	utf8_scrub(e->msg); /* '%.8s' of the payload can cut a character */
	return -1;
}

/* The payload as characters: offs[i] is the byte where character i starts. */
struct text {
	const char *s;
	int *offs;
	int chars;
};

static bool ascii_digit_at(const struct text *t, int i)
{
	return t->offs[i + 1] - t->offs[i] == 1 && t->s[t->offs[i]] >= '0' && t->s[t->offs[i]] <= '9';
}

static char *slice(const struct text *t, int from, int to)
{
	size_t n = (size_t)(t->offs[to] - t->offs[from]);
	char *v = xmalloc(n + 1);
	memcpy(v, t->s + t->offs[from], n);
	v[n] = '\0';
	return v;
}

static void free_objects(struct emv_object *o, int n)
{
	for (int i = 0; i < n; i++) {
		free(o[i].value);
		free_objects(o[i].sub, o[i].nsub);
		free(o[i].sub);
	}
}

/* Split [start, end) into data objects. On failure the objects read so far
 * stay in objs (for the caller to free) and e says why. */
static int walk(const struct text *t, int start, int end, const char *parent, struct emv_object *objs, int max, int *n,
                struct emv_error *e)
{
	char where[6];
	*n = 0;
	for (int pos = start; pos < end;) {
		if (end - pos < 4)
			return fail(e, "truncated", pos, parent,
			            "truncated header at %d: %d characters left, a data object needs 4", pos,
			            end - pos);
		char id[3] = {t->s[t->offs[pos]], t->s[t->offs[pos + 1]], 0};
		if (!ascii_digit_at(t, pos) || !ascii_digit_at(t, pos + 1))
			return fail(e, "tlv-id", pos, parent, "at %d: an id is 2 digits, not '%.8s'", pos,
			            t->s + t->offs[pos]);
		bufprintf(where, sizeof where, "%s%s%s", parent ? parent : "", parent ? "." : "", id);
		if (!ascii_digit_at(t, pos + 2) || !ascii_digit_at(t, pos + 3))
			return fail(e, "tlv-length", pos + 2, where, "at %d: the length of %s is 2 digits, not '%c%c'",
			            pos + 2, where, t->s[t->offs[pos + 2]], t->s[t->offs[pos + 3]]);
		int len = (t->s[t->offs[pos + 2]] - '0') * 10 + (t->s[t->offs[pos + 3]] - '0');
		if (len == 0)
			return fail(e, "tlv-length", pos + 2, where, "at %d: %s has length 00; lengths are 01 to 99",
			            pos + 2, where);
		if (pos + 4 + len > end)
			return fail(e, "truncated", pos, where,
			            "at %d: the value of %s (%d characters) runs past the end (%d left)", pos, where,
			            len, end - pos - 4);
		if (*n == max)
			return fail(e, "size", pos, where, "more than %d data objects", max);
		struct emv_object *o = &objs[(*n)++];
		memset(o, 0, sizeof *o);
		memcpy(o->id, id, 3);
		o->offset = pos;
		o->length = len;
		o->value = slice(t, pos + 4, pos + 4 + len);
		pos += 4 + len;
	}
	return 0;
}

static bool in_range(const char *id, int lo, int hi)
{
	int v = (id[0] - '0') * 10 + (id[1] - '0');
	return v >= lo && v <= hi;
}

bool emv_is_template(const char *parent, const char *id)
{
	if (!parent)
		return in_range(id, 26, 51) || strcmp(id, "62") == 0 || strcmp(id, "64") == 0 || in_range(id, 80, 99);
	return strcmp(parent, "62") == 0 && in_range(id, 50, 99);
}

static bool all_in(const char *v, const char *set)
{
	return strspn(v, set) == strlen(v);
}

static bool ans(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || (unsigned char)*v > 0x7e)
			return false;
	return true;
}

/* A decimal amount: digits with at most one '.', not zero. */
static bool amount_ok(const char *v)
{
	if (!*v || !all_in(v, "0123456789.") || strchr(v, '.') != strrchr(v, '.') || strcmp(v, ".") == 0)
		return false;
	for (; *v; v++)
		if (*v >= '1' && *v <= '9')
			return true;
	return false;
}

static int check_unique(const struct emv_object *o, int n, const char *parent, struct emv_error *e)
{
	for (int i = 0; i < n; i++)
		for (int k = 0; k < i; k++)
			if (strcmp(o[i].id, o[k].id) == 0)
				return fail(e, "duplicate", o[i].offset, o[i].id, "at %d: %s%s%s appears twice",
				            o[i].offset, parent ? parent : "", parent ? "." : "", o[i].id);
	return 0;
}

static int max_len(const struct emv_object *o, const char *where, int max, struct emv_error *e)
{
	if (o->length > max)
		return fail(e, "length", o->offset, where, "at %d: %s (%s) is %d characters, at most %d", o->offset,
		            where, emv_name(strchr(where, '.') ? where : NULL, o->id), o->length, max);
	return 0;
}

static int check_charset(const struct emv_object *o, const char *where, struct emv_error *e)
{
	if (!ans(o->value))
		return fail(e, "charset", o->offset, where,
		            "at %d: %s (%s) has characters outside the common set (printable ASCII); put them in 64",
		            o->offset, where, emv_name(NULL, o->id));
	return 0;
}

/* Rules for the objects inside one template. */
static int check_template(const struct emv_object *t, struct emv_error *e)
{
	char where[6];
	if (check_unique(t->sub, t->nsub, t->id, e))
		return -1;
	bool account = in_range(t->id, 26, 51) || in_range(t->id, 80, 99);
	if (account && !emv_find_sub(t, "00"))
		return fail(e, "format", t->offset, t->id, "at %d: template %s has no globally unique identifier (00)",
		            t->offset, t->id);
	for (int i = 0; i < t->nsub; i++) {
		const struct emv_object *o = &t->sub[i];
		bufprintf(where, sizeof where, "%s.%s", t->id, o->id);
		if (account && strcmp(o->id, "00") == 0 && max_len(o, where, 32, e))
			return -1;
		if (strcmp(t->id, "62") == 0 && in_range(o->id, 1, 9)) {
			if (max_len(o, where, 25, e) || check_charset(o, where, e))
				return -1;
		}
		if (strcmp(t->id, "64") == 0) {
			if (strcmp(o->id, "00") == 0 && o->length != 2)
				return fail(e, "format", o->offset, where,
				            "at %d: 64.00 (language) is 2 letters, not '%s'", o->offset, o->value);
			if ((strcmp(o->id, "01") == 0 && max_len(o, where, 25, e)) ||
			    (strcmp(o->id, "02") == 0 && max_len(o, where, 15, e)))
				return -1;
		}
	}
	return 0;
}

static int check_object(const struct emv_object *o, struct emv_error *e)
{
	const char *id = o->id, *v = o->value;
	int at = o->offset;
	if (strcmp(id, "00") == 0 && strcmp(v, "01") != 0)
		return fail(e, "format", at, id, "at %d: the payload format indicator (00) is '01', not '%s'", at, v);
	if (strcmp(id, "01") == 0 && strcmp(v, "11") != 0 && strcmp(v, "12") != 0)
		return fail(e, "format", at, id,
		            "at %d: the point of initiation (01) is 11 (static) or 12 (dynamic), not '%s'", at, v);
	if (strcmp(id, "52") == 0 && (o->length != 4 || !all_in(v, "0123456789")))
		return fail(e, "format", at, id, "at %d: the merchant category code (52) is 4 digits, not '%s'", at, v);
	if (strcmp(id, "53") == 0 && (o->length != 3 || !all_in(v, "0123456789")))
		return fail(e, "format", at, id, "at %d: the currency (53) is a 3-digit ISO 4217 code, not '%s'", at,
		            v);
	if (strcmp(id, "54") == 0 || strcmp(id, "56") == 0) {
		if (max_len(o, id, 13, e))
			return -1;
		if (!amount_ok(v))
			return fail(e, "format", at, id, "at %d: %s (%s) is a decimal amount above zero, not '%s'", at,
			            id, emv_name(NULL, id), v);
	}
	if (strcmp(id, "55") == 0 && strcmp(v, "01") && strcmp(v, "02") && strcmp(v, "03"))
		return fail(e, "format", at, id, "at %d: the tip indicator (55) is 01, 02 or 03, not '%s'", at, v);
	if (strcmp(id, "57") == 0 && (max_len(o, id, 5, e) || !amount_ok(v)))
		return e->category
		           ? -1
		           : fail(e, "format", at, id, "at %d: the fee percentage (57) is a decimal, not '%s'", at, v);
	if (strcmp(id, "58") == 0 && (o->length != 2 || !all_in(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")))
		return fail(e, "format", at, id,
		            "at %d: the country code (58) is 2 capital letters (ISO 3166), not '%s'", at, v);
	if (strcmp(id, "59") == 0 && (max_len(o, id, 25, e) || check_charset(o, id, e)))
		return -1;
	if (strcmp(id, "60") == 0 && (max_len(o, id, 15, e) || check_charset(o, id, e)))
		return -1;
	if (strcmp(id, "61") == 0 && (max_len(o, id, 10, e) || check_charset(o, id, e)))
		return -1;
	if (strcmp(id, "63") == 0 && o->length != 4)
		return fail(e, "format", at, id, "at %d: the CRC (63) is 4 characters, not %d", at, o->length);
	if (o->sub && check_template(o, e))
		return -1;
	return 0;
}

/* A template's objects, walked into a scratch array, kept at their own
 * size (never NULL: a template with none is still a template). */
static struct emv_object *kept(const struct emv_object *scratch, int n)
{
	struct emv_object *o = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *o);
	memcpy(o, scratch, (size_t)n * sizeof *o);
	if (n == 0)
		memset(o, 0, sizeof *o);
	return o;
}

/* Split each template at the root, and templates inside 62, into their
 * objects. On failure the objects read so far stay (a partial tree). */
static int walk_templates(const struct text *t, struct emv_payload *p, struct emv_error *e)
{
	struct emv_object scratch[EMV_MAX_OBJECTS];
	for (int i = 0; i < p->n; i++) {
		struct emv_object *o = &p->obj[i];
		if (!emv_is_template(NULL, o->id))
			continue;
		struct text sub = *t; /* same characters, a window of them */
		struct emv_error se;
		int failed = walk(&sub, o->offset + 4, o->offset + 4 + o->length, o->id, scratch, EMV_MAX_OBJECTS,
		                  &o->nsub, &se);
		o->sub = kept(scratch, o->nsub);
		if (failed) {
			fail(e, "format", se.offset, se.id, "template %s is not a list of data objects: %s", o->id,
			     se.msg);
			return -1;
		}
		for (int k = 0; k < o->nsub; k++) {
			if (!emv_is_template(o->id, o->sub[k].id))
				continue;
			struct emv_object *inner = &o->sub[k];
			char where[6];
			bufprintf(where, sizeof where, "%s.%s", o->id, inner->id);
			failed = walk(&sub, inner->offset + 4, inner->offset + 4 + inner->length, where, scratch,
			              EMV_MAX_OBJECTS, &inner->nsub, &se);
			inner->sub = kept(scratch, inner->nsub);
			if (failed) {
				fail(e, "format", se.offset, se.id, "template %s is not a list of data objects: %s",
				     where, se.msg);
				return -1;
			}
		}
	}
	return 0;
}

static int parse(const char *s, enum emv_mode mode, struct emv_payload *p, struct emv_error *e, bool keep)
{
	memset(p, 0, sizeof *p);
	memset(e, 0, sizeof *e);
	size_t bytes = strlen(s), bad;
	if (!utf8_valid(s, bytes, &bad))
		return fail(e, "charset", -1, NULL, "the payload is not UTF-8 (byte %zu)", bad + 1);
	struct text t = {.s = s, .chars = (int)utf8_count(s)};
	/* A payload's size, or the heap for a long line: a kilobyte from malloc
	 * for every code made it merge its free lists each time. */
	int offs[EMV_MAX_CHARS + 1];
	t.offs = t.chars <= EMV_MAX_CHARS ? offs : xmalloc(sizeof(int) * ((size_t)t.chars + 1));
	p->ascii = true;
	for (int i = 0, b = 0; i <= t.chars; i++) {
		t.offs[i] = b;
		if (i < t.chars) {
			if ((unsigned char)s[b] >= 0x80)
				p->ascii = false;
			do
				b++;
			while (((unsigned char)s[b] & 0xC0) == 0x80);
		}
	}
	p->chars = t.chars;
	int rc = -1;
	if (t.chars < 4) {
		fail(e, "truncated", 0, NULL, "%d characters: too short for any data object", t.chars);
		goto out;
	}
	if (t.chars > (mode == EMV_STRICT ? EMV_MAX_CHARS : EMV_READ_MAX_CHARS)) {
		fail(e, "size", -1, NULL, "%d characters: a payload has at most %d", t.chars,
		     mode == EMV_STRICT ? EMV_MAX_CHARS : EMV_READ_MAX_CHARS);
		goto out;
	}
	if (t.chars > EMV_MAX_CHARS)
		bufprintf(p->warnings[p->nwarnings++], sizeof p->warnings[0], "size: %d characters, EMV allows %d",
		          t.chars, EMV_MAX_CHARS);
	struct emv_error walk_error = {0};
	int walked = walk(&t, 0, t.chars, NULL, p->obj, EMV_MAX_OBJECTS, &p->n, &walk_error);
	if (walked && strcmp(walk_error.category, "truncated") == 0) {
		*e = walk_error;
		goto out;
	}
	if (!walked && strcmp(p->obj[p->n - 1].id, "63") != 0) {
		fail(e, "crc-missing", -1, "63", "no CRC: the last data object is %s, not 63", p->obj[p->n - 1].id);
		goto out;
	}
	/* The CRC covers everything before its own 4 characters. */
	unsigned crc = emv_crc16(s, (size_t)t.offs[t.chars - 4]);
	char want[5];
	bufprintf(want, sizeof want, "%04X", crc);
	strlcopy(p->crc, s + t.offs[t.chars - 4], sizeof p->crc);
	if (strcmp(p->crc, want) != 0 && strcasecmp(p->crc, want) == 0) {
		/* The specification's example ("007B") and every encoder we know of
		 * write capitals; a reader comparing text refuses lower case. */
		fail(e, "crc-mismatch", t.chars - 4, "63",
		     "the CRC %s is the payload's CRC %s in lower case: the same value, but EMV writes capitals",
		     p->crc, want);
		goto out;
	}
	if (strcmp(p->crc, want) != 0) {
		fail(e, "crc-mismatch", t.chars - 4, "63",
		     "the CRC is %s but the payload's is %s: it was changed or mistyped", p->crc, want);
		goto out;
	}
	if (walked) {
		*e = walk_error;
		goto out;
	}
	if (strcmp(p->obj[0].id, "00") != 0) {
		fail(e, "order", 0, p->obj[0].id,
		     "the first data object is %s; the payload format indicator 00 comes first", p->obj[0].id);
		goto out;
	}
	if (check_unique(p->obj, p->n, NULL, e))
		goto out;
	if (walk_templates(&t, p, e))
		goto out;
	/* DuitNow's codes say 02 here (PayNet, DuitNow QR V1.5, its examples):
	 * lenient mode reads another two-digit version and warns. */
	const struct emv_object *version = &p->obj[0];
	bool other_version = mode == EMV_LENIENT && strcmp(version->value, "01") != 0 && version->length == 2 &&
	                     all_in(version->value, "0123456789");
	if (other_version)
		bufprintf(p->warnings[p->nwarnings++], sizeof p->warnings[0],
		          "format: 00 (payload format) is '%s'; EMV's is 01", version->value);
	for (int i = other_version ? 1 : 0; i < p->n; i++)
		if (check_object(&p->obj[i], e))
			goto out;
	static const char *const always[] = {"53", "58"}, *const strict_only[] = {"52", "59", "60"};
	for (size_t i = 0; i < ARRAY_LEN(always); i++)
		if (!emv_find(p, always[i])) {
			fail(e, "mandatory", -1, always[i], "%s (%s) is missing", always[i], emv_name(NULL, always[i]));
			goto out;
		}
	bool account = false;
	for (int i = 0; i < p->n; i++)
		account |= in_range(p->obj[i].id, 2, 51);
	if (!account) {
		fail(e, "mandatory", -1, NULL, "no merchant account information (02 to 51): no network can be paid");
		goto out;
	}
	for (size_t i = 0; i < ARRAY_LEN(strict_only); i++) {
		if (emv_find(p, strict_only[i]))
			continue;
		if (mode == EMV_STRICT) {
			fail(e, "mandatory", -1, strict_only[i], "%s (%s) is missing", strict_only[i],
			     emv_name(NULL, strict_only[i]));
			goto out;
		}
		bufprintf(p->warnings[p->nwarnings++], sizeof p->warnings[0], "%s missing", strict_only[i]);
	}
	rc = 0;
out:
	if (rc && keep) {
		/* The tree as far as it reads: templates not split yet are split
		 * now, past failures ignored (e already says what broke). */
		struct emv_error ignored;
		bool split = false;
		for (int i = 0; i < p->n; i++)
			split |= p->obj[i].sub != NULL;
		if (!split && p->n)
			walk_templates(&t, p, &ignored);
	}
	if (t.offs != offs)
		free(t.offs);
	if (rc && !keep)
		emv_free(p);
	return rc;
}

int emv_parse(const char *s, enum emv_mode mode, struct emv_payload *p, struct emv_error *e)
{
	return parse(s, mode, p, e, false);
}

int emv_parse_partial(const char *s, enum emv_mode mode, struct emv_payload *p, struct emv_error *e)
{
	return parse(s, mode, p, e, true);
}

void emv_free(struct emv_payload *p)
{
	free_objects(p->obj, p->n);
	p->n = 0;
}

const struct emv_object *emv_find(const struct emv_payload *p, const char *id)
{
	for (int i = 0; i < p->n; i++)
		if (strcmp(p->obj[i].id, id) == 0)
			return &p->obj[i];
	return NULL;
}

const struct emv_object *emv_find_sub(const struct emv_object *t, const char *id)
{
	for (int i = 0; t && i < t->nsub; i++)
		if (strcmp(t->sub[i].id, id) == 0)
			return &t->sub[i];
	return NULL;
}

const char *emv_name(const char *parent, const char *id)
{
	static const struct {
		const char *parent, *id, *name;
	} names[] = {
	    {NULL, "00", "Payload Format Indicator"},
	    {NULL, "01", "Point of Initiation Method"},
	    {NULL, "52", "Merchant Category Code"},
	    {NULL, "53", "Transaction Currency"},
	    {NULL, "54", "Transaction Amount"},
	    {NULL, "55", "Tip or Convenience Indicator"},
	    {NULL, "56", "Value of Convenience Fee Fixed"},
	    {NULL, "57", "Value of Convenience Fee Percentage"},
	    {NULL, "58", "Country Code"},
	    {NULL, "59", "Merchant Name"},
	    {NULL, "60", "Merchant City"},
	    {NULL, "61", "Postal Code"},
	    {NULL, "62", "Additional Data Field Template"},
	    {NULL, "63", "CRC"},
	    {NULL, "64", "Merchant Information - Language Template"},
	    {"62", "01", "Bill Number"},
	    {"62", "02", "Mobile Number"},
	    {"62", "03", "Store Label"},
	    {"62", "04", "Loyalty Number"},
	    {"62", "05", "Reference Label"},
	    {"62", "06", "Customer Label"},
	    {"62", "07", "Terminal Label"},
	    {"62", "08", "Purpose of Transaction"},
	    {"62", "09", "Additional Consumer Data Request"},
	    {"62", "10", "Merchant Tax ID"},
	    {"62", "11", "Merchant Channel"},
	    {"64", "00", "Language Preference"},
	    {"64", "01", "Merchant Name - Alternate Language"},
	    {"64", "02", "Merchant City - Alternate Language"},
	};
	/* The id's two characters first: this runs for every object of every code. */
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (names[i].id[0] == id[0] && names[i].id[1] == id[1] && strcmp(names[i].id, id) == 0 &&
		    ((!parent && !names[i].parent) ||
		     (parent && names[i].parent && strcmp(parent, names[i].parent) == 0)))
			return names[i].name;
	if (!parent) {
		if (in_range(id, 2, 3))
			return "Merchant Account Information (Visa)";
		if (in_range(id, 4, 5))
			return "Merchant Account Information (Mastercard)";
		if (in_range(id, 6, 8))
			return "Merchant Account Information (EMVCo)";
		if (in_range(id, 9, 10))
			return "Merchant Account Information (Discover)";
		if (in_range(id, 11, 12))
			return "Merchant Account Information (Amex)";
		if (in_range(id, 13, 14))
			return "Merchant Account Information (JCB)";
		if (in_range(id, 15, 16))
			return "Merchant Account Information (UnionPay)";
		if (in_range(id, 17, 25))
			return "Merchant Account Information (EMVCo reserved)";
		if (in_range(id, 26, 51))
			return "Merchant Account Information";
		if (in_range(id, 65, 79))
			return "RFU for EMVCo";
		if (in_range(id, 80, 99))
			return "Unreserved Template";
		return "Unknown";
	}
	if (strcmp(id, "00") == 0)
		return "Globally Unique Identifier";
	if (strcmp(parent, "62") == 0 && in_range(id, 50, 99))
		return "Payment System specific template";
	if (strcmp(parent, "62") == 0 || strcmp(parent, "64") == 0)
		return "RFU for EMVCo";
	return "Payment network specific";
}

void emv_init(struct emv_builder *b)
{
	memset(b, 0, sizeof *b);
}

static void put_raw(struct emv_builder *b, const char *id, const char *value, int chars)
{
	if (*b->error)
		return;
	if (chars < 1 || chars > EMV_VALUE_MAX) {
		bufprintf(b->error, sizeof b->error, "data object %s would be %d characters; values are 1 to 99", id,
		          chars);
		return;
	}
	size_t n = strlen(value);
	if (b->len + 4 + n >= sizeof b->buf || b->chars + 4 + chars > EMV_MAX_CHARS - 8) {
		bufprintf(b->error, sizeof b->error, "the payload would pass %d characters at data object %s",
		          EMV_MAX_CHARS, id);
		return;
	}
	bufprintf(b->buf + b->len, sizeof b->buf - b->len, "%.2s%02d%s", id, chars, value);
	b->len += 4 + n;
	b->chars += 4 + chars;
}

void emv_put(struct emv_builder *b, const char *id, const char *value)
{
	put_raw(b, id, value, (int)utf8_count(value));
}

void emv_put_template(struct emv_builder *b, const char *id, const struct emv_builder *t)
{
	if (*t->error && !*b->error)
		strlcopy(b->error, t->error, sizeof b->error);
	put_raw(b, id, t->buf, t->chars);
}

const char *emv_finish(struct emv_builder *b)
{
	if (*b->error)
		return NULL;
	bufprintf(b->buf + b->len, sizeof b->buf - b->len, "6304");
	b->len += 4;
	unsigned crc = emv_crc16(b->buf, b->len);
	bufprintf(b->buf + b->len, sizeof b->buf - b->len, "%04X", crc);
	b->len += 4;
	b->chars += 8;
	return b->buf;
}
