/* Fuzz the image loaders behind scanqr (PNG, JPEG, PNM), and scan what
 * loads when it is small enough to scan quickly. */
#include <stdint.h>
#include <stdlib.h>

#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image img;
	char why[200];
	if (image_load(data, size, &img, why, sizeof why) != 0)
		return 0;
	if ((long)img.width * img.height <= 256 * 256) {
		struct image_code codes[IMAGE_CODES_MAX];
		int n = image_scan(&img, codes, IMAGE_CODES_MAX);
		for (int i = 0; i < n; i++)
			free(codes[i].data);
	}
	image_free(&img);
	return 0;
}
