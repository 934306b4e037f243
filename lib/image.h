/*
 * image: load PNG, JPEG and PNM (P2, P3, P5, P6) into 8-bit grey, from
 * memory, for scanning. The format is told by its magic bytes, not the
 * name. Dimensions are checked before pixels are allocated, so a header
 * that claims 30000x30000 is refused, not obeyed.
 */
#ifndef WPAY_IMAGE_H
#define WPAY_IMAGE_H

#include <stddef.h>

#define IMAGE_MAX_PIXELS (100L * 1000 * 1000) /* 100 megapixels */
#define IMAGE_MAX_SIDE   40000

struct image {
	int width, height;
	unsigned char *grey; /* width*height, row-major */
	const char *format;  /* "png", "jpeg", "pnm" */
};

/* One QR code found: its bytes as the symbol holds them (zbar, binary mode,
 * so nothing is converted), where it is, and which pass found it. */
struct image_code {
	unsigned char *data;
	size_t len;
	int x, y, w, h; /* bounding box in the original image's pixels */
	const char *pass;
};

#define IMAGE_CODES_MAX 64

/*
 * Find the QR codes. A look at a small copy first (zbar's time grows with
 * pixels), then the image itself, or scaled to 2 megapixels when larger
 * (big modules in a huge frame are missed); only when those find nothing
 * does it try harder, on every core: the full image, a global threshold
 * (Otsu), the inverse (light on dark), and other scales. The first look
 * in that order that finds any code gives the answer, so a code too small
 * for the small look is missed beside one it finds. Returns how many it
 * found (at most IMAGE_CODES_MAX); free each data.
 */
int image_scan(const struct image *img, struct image_code *codes, int max);

/* 0 and *img filled (free with image_free), or -1 with why set. */
int image_load(const unsigned char *data, size_t len, struct image *img, char *why, size_t whylen);
void image_free(struct image *img);

#endif
