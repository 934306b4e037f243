/*
 * qr_bytes: a test helper, not a test. Renders its standard input's bytes
 * as they are in one 8-bit-mode QR code with no ECI header, as a legacy
 * encoder makes a GB18030 or Shift_JIS code, to a PNG (lib/qr's writer),
 * or to a binary PGM when OUT ends in .pgm (for a test to degrade).
 *   qr_bytes OUT [MODULE_PIXELS] < bytes
 */
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qr.h"

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fputs("usage: qr_bytes OUT.png [MODULE_PIXELS] < bytes\n", stderr);
		return 64;
	}
	static unsigned char data[4096];
	size_t n = fread(data, 1, sizeof data, stdin);
	if (n == 0 || n == sizeof data) {
		fputs("qr_bytes: 1 to 4095 bytes on standard input\n", stderr);
		return 65;
	}
	QRcode *code = QRcode_encodeData((int)n, data, 0, QR_ECLEVEL_M);
	if (!code) {
		perror("qr_bytes: QRcode_encodeData");
		return 1;
	}
	struct qr_matrix m = {.width = code->width, .dark = malloc((size_t)code->width * (size_t)code->width)};
	for (int i = 0; i < code->width * code->width; i++)
		m.dark[i] = code->data[i] & 1;
	QRcode_free(code);
	struct qr_style style = {.module = argc == 3 ? atoi(argv[2]) : 8, .margin = 4, .ecc = 'M'};
	const char *why = "bad module size";
	size_t len = strlen(argv[1]);
	bool ok = style.module > 0 && style.module <= 64;
	if (ok && len > 4 && strcmp(argv[1] + len - 4, ".pgm") == 0) {
		FILE *f = fopen(argv[1], "wb");
		int side = (m.width + 2 * style.margin) * style.module;
		ok = f && fprintf(f, "P5\n%d %d\n255\n", side, side) > 0;
		for (int y = 0; ok && y < side; y++)
			for (int x = 0; x < side; x++) {
				int r = y / style.module - style.margin, c = x / style.module - style.margin;
				bool dark = r >= 0 && c >= 0 && r < m.width && c < m.width && m.dark[r * m.width + c];
				putc(dark ? 0 : 255, f);
			}
		why = "write failed";
		ok = f && fclose(f) == 0 && ok;
	} else if (ok) {
		ok = qr_write_file(&m, QR_PNG, &style, argv[1], &why);
	}
	qr_matrix_free(&m);
	if (!ok) {
		fprintf(stderr, "qr_bytes: cannot write %s: %s\n", argv[1], why);
		return 1;
	}
	return 0;
}
