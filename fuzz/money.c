/* Fuzz the parsers of amounts, rates, times and durations. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "money.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	int64_t v, ms;
	static const char *const codes[] = {"CNY", "JPY", "KWD", "XXX"};
	for (int i = 0; i < 4; i++) {
		const struct currency *c = currency_find(codes[i]);
		if (!money_parse(text, c ? c : currency_default(), true, &v)) {
			char back[MONEY_TEXT_MAX];
			money_format(v, c ? c : currency_default(), back);
			int64_t again;
			if (money_parse(back, c ? c : currency_default(), true, &again) || again != v)
				abort(); /* formatting and parsing must agree */
		}
	}
	decimal_parse(text, 4, 100000, &v);
	if (clock_parse(text, &ms)) {
		char out[CLOCK_TEXT_MAX];
		clock_format(ms, out);
	}
	clock_parse_duration(text, &ms);
	free(text);
	return 0;
}
