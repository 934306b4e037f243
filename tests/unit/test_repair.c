/*
 * Unit tests for lib/repair: the CRC-16 variants against their published
 * check values, repairs the command line cannot reach (leading white space,
 * a byte-order mark), that every repair offered parses, that the length
 * search keeps its bound, and the caret under a break.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emv.h"
#include "repair.h"
#include "unit.h"

/* A valid payload: PIX, "CAFE DO JOAO", SAO PAULO. */
static const char ok[] = "00020101021126380014BR.GOV.BCB.PIX0116joao@example.com5204581253039865802BR5912CAFE DO "
                         "JOAO6009SAO PAULO63043C22";

static bool offers(const struct repair_report *r, const char *kind, const char *payload)
{
	for (int i = 0; i < r->n; i++)
		if (strcmp(r->r[i].kind, kind) == 0 && strcmp(r->r[i].payload, payload) == 0)
			return true;
	return false;
}

static bool all_parse(const struct repair_report *r)
{
	for (int i = 0; i < r->n; i++) {
		struct emv_payload p;
		struct emv_error e;
		if (emv_parse(r->r[i].payload, EMV_LENIENT, &p, &e))
			return false;
		emv_free(&p);
	}
	return true;
}

static void check_variants(void)
{
	/* The check values of the CRC catalogue (reveng.sourceforge.io) for
	 * "123456789", in the order of repair.h's list. */
	static const int want[] = {0xB129, 0x31C3, 0x2189, 0x8921, 0x906E, 0xD64E, 0xE5CC, 0xBB3D, 0x4B37};
	bool all = true;
	for (int i = 0; i < (int)(sizeof want / sizeof want[0]); i++)
		all &= repair_crc16_variant(i, "123456789", 9) == want[i];
	CHECK("each CRC-16 variant gives its catalogue check value", all);
	CHECK("no variant past the list", repair_crc16_variant(9, "1", 1) == -1);
	CHECK("EMV's own CRC gives CCITT-FALSE's check value", emv_crc16("123456789", 9) == 0x29B1);
}

static void check_whitespace(void)
{
	struct repair_report r;
	char buf[256];
	snprintf(buf, sizeof buf, "  %s", ok);
	repair_find(buf, &r);
	CHECK("leading spaces: stripped", r.n == 1 && offers(&r, "strip-whitespace", ok));
	CHECK("leading spaces: said", strstr(r.why, "starts with white space") != NULL);
	CHECK("leading spaces: the break at 0", r.offset == 0);
	repair_free(&r);
	snprintf(buf, sizeof buf, "\xEF\xBB\xBF%s\n", ok);
	repair_find(buf, &r);
	CHECK("a byte-order mark and a newline: stripped", r.n == 1 && offers(&r, "strip-whitespace", ok));
	CHECK("a byte-order mark and a newline: said",
	      strcmp(r.why, "the payload starts with a byte-order mark and ends with a newline, outside its data "
	                    "objects") == 0);
	repair_free(&r);
	snprintf(buf, sizeof buf, "%s\xC2\xA0", ok);
	repair_find(buf, &r);
	CHECK("a no-break space: stripped", offers(&r, "strip-whitespace", ok) && strstr(r.why, "no-break"));
	repair_free(&r);
}

static void check_partial(void)
{
	const char *broken = "00020101021126380014BR.GOV.BCB.PIX0116joao@example.com5204581253039865802BR5910CAFE DO "
	                     "JOAO6009SAO PAULO63042E1C";
	struct emv_payload p;
	struct emv_error e;
	CHECK("emv_parse refuses a wrong length, and keeps nothing",
	      emv_parse(broken, EMV_LENIENT, &p, &e) && p.n == 0);
	CHECK("emv_parse_partial keeps the 7 objects before the break",
	      emv_parse_partial(broken, EMV_LENIENT, &p, &e) && p.n == 7 && strcmp(p.obj[6].value, "CAFE DO JO") == 0);
	CHECK("... with 26 split into its objects",
	      p.obj[2].nsub == 2 && strcmp(p.obj[2].sub[1].value, "joao@example.com") == 0);
	emv_free(&p);
	CHECK("emv_parse_partial on a valid payload is emv_parse",
	      emv_parse_partial(ok, EMV_LENIENT, &p, &e) == 0 && p.n == 9);
	emv_free(&p);
	struct repair_report r;
	repair_find(broken, &r);
	CHECK("the wrong length repaired", r.n == 1 && offers(&r, "length", ok));
	CHECK("the length search tried each other length of each object up to the break", r.tries == 7 * 98);
	CHECK("every repair offered parses", all_parse(&r));
	repair_free(&r);
}

static void check_bound(void)
{
	/* 99 objects, then a header that breaks and a CRC: the most the search
	 * tries, each other length of each object. */
	char buf[4096];
	size_t n = 0;
	n += (size_t)snprintf(buf + n, sizeof buf - n, "000201");
	for (int i = 0; i < 98; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%02d01%d", 10 + i % 16, i % 10);
	snprintf(buf + n, sizeof buf - n, "99X96304ABCD");
	struct repair_report r;
	repair_find(buf, &r);
	CHECK("the length search keeps its bound", r.tries == 99 * 98 && r.tries <= REPAIR_LENGTH_TRIES);
	CHECK("... and offers nothing here", r.n == 0);
	repair_free(&r);
	/* 99 objects whose values are runs of objects, and a wrong CRC: many
	 * lengths let the rest read; only REPAIR_READINGS_MAX get a CRC. */
	n = (size_t)snprintf(buf, sizeof buf, "000201");
	for (int i = 0; i < 98; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%02d300102AB0102AB0102AB0102AB0102AB", 80 + i % 20);
	snprintf(buf + n, sizeof buf - n, "6304ABCD");
	repair_find(buf, &r);
	CHECK("many readings: at most REPAIR_READINGS_MAX get a CRC", r.readings == REPAIR_READINGS_MAX && r.n == 0);
	repair_free(&r);
	const char *zeros = "00020000000000000000000000000000";
	repair_find(zeros, &r);
	CHECK("all zeros: no repair, a reason", r.n == 0 && *r.why);
	repair_free(&r);
	repair_find("0002\xff", &r);
	CHECK("not UTF-8: no repair, said", r.n == 0 && strcmp(r.why, "the payload is not UTF-8") == 0);
	repair_free(&r);
}

static void check_mark(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	repair_mark(f,
	            "00\x1b"
	            "1\xe5\x8c\x97X",
	            5);
	fclose(f);
	/* \x1b is 4 columns, 北 2: the caret is under X (3 + 2 + 4 + 1 + 2 = 12 columns in). */
	CHECK("the caret counts escapes and wide characters",
	      strcmp(out, "   00\\x1b1\xe5\x8c\x97X\n            ^\n") == 0);
	free(out);
}

int main(void)
{
	check_variants();
	check_whitespace();
	check_partial();
	check_bound();
	check_mark();
	return UNIT_DONE();
}
