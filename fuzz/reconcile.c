/* Fuzz the reader of a merchant's records for reconciliation (JSON lines
 * or CSV with a header). */
#include <stdint.h>
#include <stdio.h>

#include "reconcile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	FILE *f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	json_t *theirs = json_object();
	struct err e;
	reconcile_read_records(f, "fuzz", "CNY", NULL, theirs, &e);
	json_decref(theirs);
	fclose(f);
	return 0;
}
