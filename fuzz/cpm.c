/* Fuzz the reader of buyers' payment codes (EMV CPM: base64 of BER-TLV),
 * which a till gives whatever a phone screen shows. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buyercodes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char key[KEY_SECRET_LEN] = {1, 2, 3};
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	char token[BUYERCODE_TOKEN_MAX];
	struct err e;
	buyercodes_decode(key, text, token, &e);
	free(text);
	return 0;
}
