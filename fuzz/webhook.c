/* Fuzz the notification signature check: input is
 * timestamp '\n' signature '\n' body, under a fixed secret. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char secret[32] = "0123456789abcdef0123456789abcdef";
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	char *sig = strchr(text, '\n');
	char *body = sig ? strchr(sig + 1, '\n') : NULL;
	if (body) {
		*sig++ = '\0';
		*body++ = '\0';
		size_t body_len = size - (size_t)(body - text);
		webhook_verify(secret, sizeof secret, text, body, body_len, sig, 1763798400, 300);
		/* What we sign, we accept. */
		char good[WEBHOOK_SIG_MAX];
		webhook_sign(secret, sizeof secret, "1763798400", body, body_len, good);
		if (webhook_verify(secret, sizeof secret, "1763798400", body, body_len, good, 1763798400, 300))
			abort();
	}
	free(text);
	return 0;
}
