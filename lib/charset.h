/*
 * charset: the text of a code's raw bytes. A QR code carries bytes, and
 * the reader we use (zbar 0.23) reports no ECI designator, so the charset
 * is guessed as an expert would: every candidate that decodes (UTF-8,
 * GB18030, Shift_JIS as CP932, ISO-8859-1) is scored by how plausible its
 * text is. Valid UTF-8 wins, unless it is short GB2312 text that chance
 * made valid (only two-byte characters, implausible); else the best wins;
 * on a tie GB18030 goes first, then Shift_JIS, ISO-8859-1 last. EUC-KR and
 * Big5 are not guessed (every GB2312 text also decodes as EUC-KR), only
 * read when forced. A charset may be forced by name (anything iconv
 * knows); the forced one is certain.
 */
#ifndef WPAY_CHARSET_H
#define WPAY_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

#define CHARSET_CANDIDATES_MAX 4

struct charset_candidate {
	const char *name; /* "utf-8", "gb18030", "shift_jis", "iso-8859-1" */
	double score;     /* plausibility of its text, 0..1 */
	char *text;       /* UTF-8 */
};

struct charset_text {
	char *text;             /* UTF-8; NULL: binary (a NUL byte, or nothing decodes) */
	const char *encoding;   /* "ascii", a candidate's name, or the forced name */
	bool certain;           /* ASCII or forced (the caller may prove more) */
	const char *confidence; /* "high", "medium" or "low" */
	int n;                  /* candidates that decoded, best first; 0 for ASCII or forced */
	struct charset_candidate cand[CHARSET_CANDIDATES_MAX];
	size_t bad_at; /* forced and invalid: the offending byte's offset */
	bool nul;      /* forced: it decodes to a NUL character */
};

/* A name for --encoding: true if iconv can read it (no "//" suffixes). */
bool charset_known(const char *name);
/*
 * Decode bytes: forced NULL guesses, else reads them in that charset.
 * 0, or -1 when the bytes are not valid in the forced charset (or decode
 * to a NUL: t->nul), with t->bad_at set. Free with charset_free either way.
 */
int charset_decode(const unsigned char *bytes, size_t len, const char *forced, struct charset_text *t);
void charset_free(struct charset_text *t);
/* The confidence a guess of score best has over a runner-up of score next. */
const char *charset_confidence(double best, double next);

#endif
