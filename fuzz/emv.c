/* Fuzz the EMV MPM parser (strict, lenient and partial) and what scanqr
 * makes of any payload: scheme recognition, signature and CRC checks, the
 * explanation; and the repairs of a broken one, each of which must parse
 * with its CRC holding. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emv.h"
#include "networks.h"
#include "payload.h"
#include "repair.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct networks nets;
	static bool loaded;
	if (!loaded) {
		struct err e;
		unsetenv("WPAY_NETWORKS");
		setenv("XDG_CONFIG_HOME", "/nonexistent", 1); /* the built-in table */
		loaded = networks_load(&nets, &e) == 0;
	}
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	for (int mode = EMV_STRICT; mode <= EMV_LENIENT; mode++) {
		struct emv_payload p;
		struct emv_error e;
		if (emv_parse(text, (enum emv_mode)mode, &p, &e) == 0)
			emv_free(&p);
	}
	struct emv_payload p;
	struct emv_error e;
	emv_parse_partial(text, EMV_LENIENT, &p, &e);
	emv_free(&p);
	if (strlen(text) == size) {
		struct repair_report r;
		repair_find(text, &r);
		for (int i = 0; i < r.n; i++) {
			if (emv_parse_partial(r.r[i].payload, EMV_LENIENT, &p, &e) != 0 &&
			    (strncmp(e.category, "crc", 3) == 0 || strncmp(e.category, "tlv", 3) == 0 ||
			     strcmp(e.category, "truncated") == 0 || strcmp(e.category, "size") == 0 ||
			     strncmp(e.msg, "template ", 9) == 0))
				abort(); /* a repair offered that does not verify */
			emv_free(&p);
		}
		repair_free(&r);
	}
	static struct key_ring *keys;
	if (!keys)
		keys = keys_ring_new("/nonexistent");
	struct payload_env env = {.keys = keys, .networks = loaded ? &nets : NULL, .now_ms = 0};
	json_t *scan = payload_describe(data, size, &env);
	/* A verdict of invalid always says why: a reason that JSON could not
	 * carry (a value cut inside a character) used to vanish. */
	json_t *scheme = json_object_get(scan, "scheme");
	if (scheme && json_is_false(json_object_get(scheme, "valid")) &&
	    json_array_size(json_object_get(scheme, "reasons")) == 0)
		abort();
	FILE *null = fopen("/dev/null", "w");
	if (scan && null)
		payload_explain(scan, null);
	if (null)
		fclose(null);
	json_decref(scan);
	free(text);
	return 0;
}
