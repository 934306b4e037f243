/* Fuzz card number checking (Luhn, IIN ranges, the BIN table, masking). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "card.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	char pan[PAN_MAX + 1];
	struct card_info info;
	card_check(text, pan, &info);
	luhn_valid(text);
	free(text);
	return 0;
}
