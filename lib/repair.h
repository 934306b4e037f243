/*
 * repair: why an EMV MPM payload does not parse, and the repairs that make
 * it parse, each verified before it is offered.
 *
 * Where it breaks: the character offset, the data object at fault and the
 * reason in a developer's words ("59 (Merchant Name) says 12 characters,
 * so its value is ...; then 'O.60' at 31 does not read as a data object").
 *
 * The repairs tried, each only offered if its text then parses and its CRC
 * holds (other rules it still breaks, a missing 58 say, are named in its
 * message):
 *   strip-whitespace  white space, a newline or a byte-order mark before or
 *                     after the payload; if the stripped text still fails,
 *                     the repairs below are tried on it
 *   crc-case          the right CRC in lower case
 *   crc-without-6304  a CRC over the objects only, without "6304"
 *   crc-algorithm     another CRC-16 (XMODEM, KERMIT, X-25, GENIBUS,
 *                     SPI-FUJITSU, ARC, MODBUS, the right one byte-swapped),
 *                     over the right text or without "6304"
 *   crc-missing       no 63 at the end, a bare "6", "63", "630" or "6304",
 *                     or a CRC cut short whose digits start the right one
 *   length-bytes      lengths counted in UTF-8 bytes, not characters: read
 *                     that way the payload parses and its CRC holds
 *   empty-object      an object of length 00 (an empty value, which EMV
 *                     does not allow) at the root: the payload without it
 *   length            one object's length is wrong, at the root or in a
 *                     root template that does not split, and one other
 *                     length makes the rest parse and the CRC hold (over
 *                     the text as written or as repaired); of several, the
 *                     one whose payload gets furthest through the rules,
 *                     then reads the most objects, if it is alone
 *
 * The search is bounded: at most REPAIR_LENGTH_TRIES lengths tried (every
 * object read before the break, 98 other lengths each; which lengths let
 * the rest read is worked out once, from the end backwards), of which
 * REPAIR_READINGS_MAX get a CRC, one re-read with byte lengths, 7 cuts of
 * a CRC tail and 20 CRCs.
 */
#ifndef WPAY_REPAIR_H
#define WPAY_REPAIR_H

#include <stddef.h>
#include <stdio.h>

#include "emv.h"

#define REPAIR_MAX          6
#define REPAIR_LENGTH_TRIES ((EMV_MAX_OBJECTS + 1) * 98)
/* Lengths whose rest reads get their CRC checked, the last objects' first;
 * a payload of digits reads many ways, and each check costs its length. */
#define REPAIR_READINGS_MAX 64

struct repair {
	char kind[24]; /* "strip-whitespace", "crc-case", ... (above) */
	char msg[480]; /* UTF-8 */
	char *payload; /* the repaired text, owned */
};

struct repair_report {
	int offset;    /* of the break, characters; -1 when not about one place */
	char id[6];    /* the data object at fault, or "" */
	char why[640]; /* UTF-8 */
	int n;
	struct repair r[REPAIR_MAX];
	long tries;    /* lengths tried, for the tests of the bound */
	long readings; /* of those, the ones whose rest read */
};

/* Explain why text (refused by emv_parse in lenient mode) breaks, and find
 * its repairs. Free with repair_free. */
void repair_find(const char *text, struct repair_report *out);
void repair_free(struct repair_report *r);

/* Print the text around a character offset, control characters escaped as
 * payload_safe_puts does, and a caret under the offset, each line indented
 * by 3 spaces. */
void repair_mark(FILE *out, const char *text, int offset);

/* For the unit tests: CRC-16 variant i of the ones tried (in the order of
 * the list above) over n bytes; -1 past the last. */
int repair_crc16_variant(int i, const void *p, size_t n);

#endif
