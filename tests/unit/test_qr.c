/*
 * Unit tests for lib/qr: our mask choice sits on libqrencode's encoder, so
 * for every mask the symbol we make must be libqrencode's own, bit for bit
 * (data masking, format information, the dark module); and the penalty
 * rules score the textbook cases as ISO/IEC 18004 says.
 */
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>

#include "qr.h"
#include "unit.h"

extern QRcode *QRcode_encodeMask(QRinput *input, int mask);

static bool same_as_libqrencode(const char *text, char ecc, int mask)
{
	QRecLevel level = ecc == 'L'   ? QR_ECLEVEL_L
	                  : ecc == 'Q' ? QR_ECLEVEL_Q
	                  : ecc == 'H' ? QR_ECLEVEL_H
	                               : QR_ECLEVEL_M;
	QRinput *in = QRinput_new2(0, level);
	bool ascii = true;
	for (const char *p = text; *p; p++)
		ascii &= (unsigned char)*p < 0x80;
	if (!ascii)
		QRinput_appendECIheader(in, 26);
	QRinput_append(in, QR_MODE_8, (int)strlen(text), (const unsigned char *)text);
	QRcode *want = QRcode_encodeMask(in, mask);
	QRinput_free(in);
	struct qr_matrix m = {0};
	const char *why;
	bool ok = want && qr_encode_mask(text, ecc, mask, &m, &why) && m.width == want->width;
	for (int i = 0; ok && i < m.width * m.width; i++)
		ok = m.dark[i] == (want->data[i] & 1);
	QRcode_free(want);
	qr_matrix_free(&m);
	return ok;
}

int main(void)
{
	const char *texts[] = {
	    "hello", "000201010211", "微博支付 Weibo Pay",
	    "00020101021126300016CN.COM.WEIBO.PAY0106cafe0127240010COM.ALIPAY0106cafe015204581453031565802CN"
	    "5907Cafe Lu6007Beijing64280002ZH0107Caf\xc3\xa9 Lu0207Beijing89230007CN.WPAY01083778735a"
	    "90980004WPAY0186WW184eu0cyfcZb5IahwPhbLZTt6Uvaz8cgJgNuxRtVPmyUREhag3Eifcs964SsP+tpKZ4TZmOru"
	    "szvq3U0O3CQ63042693"};
	const char levels[] = "LMQH";
	bool all = true;
	for (size_t t = 0; t < sizeof texts / sizeof *texts; t++)
		for (int l = 0; l < 4; l++)
			for (int k = 0; k < 8; k++)
				all &= same_as_libqrencode(texts[t], levels[l], k);
	CHECK("every mask, every level: the symbol is libqrencode's own, bit for bit", all);

	/* A version 7+ symbol carries version information; it must survive too. */
	char big[600];
	memset(big, 'A', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	bool big_ok = true;
	for (int k = 0; k < 8; k++)
		big_ok &= same_as_libqrencode(big, 'M', k);
	CHECK("large symbols (version information) too", big_ok);

	struct qr_matrix m = {0};
	const char *why;
	CHECK("qr_encode chooses a mask and encodes", qr_encode("hello", 'M', &m, &why) && m.width == 21);
	qr_matrix_free(&m);

	/* Penalty rules on small hand-made symbols. */
	unsigned char all_dark[25];
	memset(all_dark, 1, sizeof all_dark);
	/* 5x5 dark: N1 rows and columns 10 runs of 5 (3 each) = 30, N2 16 blocks (3 each) = 48,
	 * N4 100% dark: 10 * 10 = 100; no finder patterns. */
	CHECK("all dark 5x5 scores 30 + 48 + 100", qr_penalty(all_dark, 5) == 178);
	unsigned char row[11 * 11];
	memset(row, 0, sizeof row);
	const char *finder = "10111010000";
	for (int x = 0; x < 11; x++)
		row[5 * 11 + x] = (unsigned char)(finder[x] - '0');
	long with_finder = qr_penalty(row, 11);
	row[5 * 11 + 0] = 0;
	long without = qr_penalty(row, 11);
	CHECK("a finder-like pattern beside four light modules costs 40", with_finder - without >= 40 - 6);
	/* The fast penalty is the reference one, on random and real symbols. */
	srand(42);
	bool agree = true;
	for (int t = 0; t < 300 && agree; t++) {
		int n = 21 + rand() % 100;
		unsigned char *d = malloc((size_t)n * (size_t)n);
		for (int i = 0; i < n * n; i++)
			d[i] = (unsigned char)((t % 3 == 0) ? (rand() % 7 == 0) : rand() % 2);
		agree = qr_penalty(d, n) == qr_penalty_scalar(d, n);
		if (!agree)
			printf("# n=%d fast=%ld scalar=%ld\n", n, qr_penalty(d, n), qr_penalty_scalar(d, n));
		free(d);
	}
	CHECK("the fast penalty equals the module-at-a-time one on 300 random symbols", agree);
	struct qr_matrix real = {0};
	qr_encode(texts[3], 'M', &real, &why);
	CHECK("and on a real code", qr_penalty(real.dark, real.width) == qr_penalty_scalar(real.dark, real.width));
	qr_matrix_free(&real);
	/* The mask chosen is the one of least penalty, found by brute force. */
	bool least = true;
	for (size_t t = 0; t < sizeof texts / sizeof *texts; t++)
		for (int l = 0; l < 4; l++) {
			struct qr_matrix chosen = {0};
			qr_encode(texts[t], levels[l], &chosen, &why);
			long chosen_score = qr_penalty_scalar(chosen.dark, chosen.width), min = -1;
			for (int k = 0; k < 8; k++) {
				struct qr_matrix each = {0};
				qr_encode_mask(texts[t], levels[l], k, &each, &why);
				long score = qr_penalty_scalar(each.dark, each.width);
				min = min < 0 || score < min ? score : min;
				qr_matrix_free(&each);
			}
			least &= chosen_score == min;
			qr_matrix_free(&chosen);
		}
	CHECK("qr_encode picks the mask of least penalty", least);
	char *long_text = malloc(8000);
	memset(long_text, 'x', 7999);
	long_text[7999] = '\0';
	CHECK("text too long for any version is refused", !qr_encode(long_text, 'H', &m, &why));
	free(long_text);
	qr_thread_done();
	return UNIT_DONE();
}
