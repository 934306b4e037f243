/* Fuzz the notify URL check: the merchant's text, with private addresses
 * allowed and not. What passes without the allowance passes with it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	char why[512];
	bool strict = netaddr_check_url(text, false, why, sizeof why) == NULL;
	bool allowed = netaddr_check_url(text, true, why, sizeof why) == NULL;
	if (strict && !allowed)
		abort();
	free(text);
	return 0;
}
