/* Fuzz wpay-fmt's reading of any line: records of any shape, escapes, widths, ids. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *out = fopen("/dev/null", "w");
	struct fmt_opts o = {.color = size % 2, .window = 1 + size % 5};
	struct fmt *f = fmt_new(out, &o);
	/* Each line as fmt reads it, then the whole input as one line. */
	size_t start = 0;
	for (size_t i = 0; i <= size; i++)
		if (i == size || data[i] == '\n') {
			fmt_line(f, (const char *)data + start, i - start);
			start = i + 1;
		}
	fmt_line(f, (const char *)data, size);
	fmt_close(f);
	fclose(out);
	int w;
	free(fmt_escape((const char *)data, size, &w));
	return 0;
}
