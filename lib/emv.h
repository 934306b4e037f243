/*
 * emv: EMVCo QR Code Merchant-Presented Mode payloads (EMV QRCPS MPM).
 *
 * A payload is a run of data objects: 2-digit id, 2-digit length, value.
 * Lengths count characters (Unicode code points), not bytes; the CRC in
 * object 63 is CRC-16/CCITT-FALSE over the UTF-8 bytes of everything
 * before its value, "6304" included, as 4 upper-case hex digits.
 *
 * The parser checks, in this order, and reports the first failure with
 * its category, the offset (in characters), the data object and the rule:
 *   truncated     shorter than a header, or a value runs past the end
 *   size          more than 512 characters (strict mode; lenient mode
 *                 reads up to EMV_READ_MAX_CHARS and warns "size")
 *   crc-missing   the last object is not 63
 *   crc-mismatch  the last 4 characters are not the CRC of the rest
 *   tlv-length    a length that is not 2 digits, or is 00
 *   tlv-id        an id that is not 2 digits
 *   order         00 is not first
 *   duplicate     an id appears twice at one level
 *   format        a value of the wrong form (01 not 11/12, MCC not 4
 *                 digits, amount not a positive decimal, country not 2
 *                 letters, a template that is not TLV or lacks its GUI)
 *   length        a value longer than its object allows
 *   charset       a value outside the common character set (printable
 *                 ASCII) where the specification asks for it
 *   mandatory     00, 53, 58, 63 or a merchant account (02-51) missing;
 *                 in strict mode also 52, 59 and 60
 * Lenient mode accepts real codes that omit 52, 59 or 60, that say another
 * two-digit payload format in 00 (DuitNow's codes say 02), or that pass 512
 * characters, and lists each in `warnings`.
 */
#ifndef WPAY_EMV_H
#define WPAY_EMV_H

#include <stdbool.h>
#include <stddef.h>

#define EMV_MAX_CHARS 512
/* What lenient mode reads: real codes pass 512 (SGQR's specification has
 * a 1,042-character example); a QR symbol holds at most 2,953 bytes. */
#define EMV_READ_MAX_CHARS 4096
#define EMV_VALUE_MAX      99
/* Ids are unique at each level, so 100 objects is the most a valid one has. */
#define EMV_MAX_OBJECTS  100
#define EMV_WARNINGS_MAX 8

struct emv_object {
	char id[3];
	int offset; /* in characters, from the payload's start */
	int length; /* in characters */
	char *value;
	struct emv_object *sub; /* parsed template, or NULL */
	int nsub;
};

struct emv_payload {
	struct emv_object obj[EMV_MAX_OBJECTS];
	int n;
	int chars;     /* payload length in characters */
	char crc[5];   /* as found in 63 */
	int nwarnings; /* lenient mode: "size", mandatory objects missing */
	char warnings[EMV_WARNINGS_MAX][64];
	bool ascii; /* every character is ASCII */
};

struct emv_error {
	const char *category; /* see above */
	int offset;           /* characters; -1 when not about one place */
	char id[6];           /* "59", "62.01", or "" */
	char msg[240];
};

enum emv_mode { EMV_STRICT, EMV_LENIENT };

/* 0 and *p filled (free with emv_free), or -1 and e filled. */
int emv_parse(const char *text, enum emv_mode mode, struct emv_payload *p, struct emv_error *e);
void emv_free(struct emv_payload *p);
/* Like emv_parse, but on failure *p keeps the objects read before the break
 * (templates split as far as they read), for explaining it: free it with
 * emv_free whatever the result. */
int emv_parse_partial(const char *text, enum emv_mode mode, struct emv_payload *p, struct emv_error *e);
/* Whether an object is a template of data objects: 26-51, 62, 64 and 80-99
 * at the root (parent NULL), 50-99 inside 62. */
bool emv_is_template(const char *parent, const char *id);

/* An object at the root, or a sub-object of a root template; NULL if absent. */
const struct emv_object *emv_find(const struct emv_payload *p, const char *id);
const struct emv_object *emv_find_sub(const struct emv_object *t, const char *id);

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of n bytes. */
unsigned emv_crc16(const void *data, size_t n);
/* The object's name in the specification ("Merchant Name"); parent is NULL
 * at the root, else the template's id. */
const char *emv_name(const char *parent, const char *id);

/*
 * Building: append objects in order, then emv_finish adds 63 with its CRC.
 * A value must be 1..99 characters; a build error sticks and is reported by
 * emv_finish. Templates are built in their own emv_builder and added with
 * emv_put_template.
 */
struct emv_builder {
	char buf[4 * EMV_MAX_CHARS + 16]; /* UTF-8: up to 4 bytes a character */
	size_t len;
	int chars;
	char error[160];
};
void emv_init(struct emv_builder *b);
void emv_put(struct emv_builder *b, const char *id, const char *value);
void emv_put_template(struct emv_builder *b, const char *id, const struct emv_builder *t);
/* The finished payload (in b->buf), or NULL with the reason in b->error. */
const char *emv_finish(struct emv_builder *b);

#endif
