/*
 * unit: a two-macro test harness printing TAP, after redis's testhelp.h.
 *   CHECK("what it proves", condition);
 *   return UNIT_DONE();
 */
#ifndef WPAY_UNIT_H
#define WPAY_UNIT_H

#include <stdio.h>

static int unit_count, unit_failed;

#define CHECK(what, cond)                                                                                              \
	do {                                                                                                           \
		unit_count++;                                                                                          \
		if (cond) {                                                                                            \
			printf("ok %d - %s\n", unit_count, what);                                                      \
		} else {                                                                                               \
			unit_failed++;                                                                                 \
			printf("not ok %d - %s (%s:%d: %s)\n", unit_count, what, __FILE__, __LINE__, #cond);           \
		}                                                                                                      \
	} while (0)

#define UNIT_DONE() (printf("1..%d\n", unit_count), unit_failed ? 1 : 0)

#endif
