/* Unit tests for lib/records: the JSON-lines reader's limits and refusals. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "records.h"
#include "unit.h"
#include "utf8.h"

/* Read all of `input` with a line limit; collect the codes. */
static void read_all(const char *input, size_t len, size_t max, char *codes, size_t n)
{
	/* A file, not a pipe: a pipe would block on inputs over 64 KiB. */
	FILE *f = tmpfile();
	if (!f || fwrite(input, 1, len, f) != len || fflush(f) != 0)
		return;
	rewind(f);
	struct rec_reader r;
	rec_reader_init(&r, fileno(f), "<test>", max);
	codes[0] = '\0';
	for (;;) {
		json_t *v;
		struct err e = {0};
		int rc = rec_read(&r, &v, &e);
		if (rc == REC_EOF || rc == REC_IOERR)
			break;
		const char *word = rc == REC_OK ? "ok" : e.code;
		if (strlen(codes) + strlen(word) + 2 < n) {
			strcat(codes, word);
			strcat(codes, " ");
		}
		json_decref(v);
	}
	rec_reader_free(&r);
	fclose(f);
}

#define READS(what, input, max, want)                                                                                  \
	do {                                                                                                           \
		char got[256];                                                                                         \
		read_all(input, sizeof(input) - 1, max, got, sizeof got);                                              \
		CHECK(what, strcmp(got, want) == 0);                                                                   \
		if (strcmp(got, want))                                                                                 \
			printf("# got '%s' want '%s'\n", got, want);                                                   \
	} while (0)

int main(void)
{
	READS("two records", "{\"a\":1}\n{\"b\":2}\n", 0, "ok ok ");
	READS("last line without newline", "{\"a\":1}\n{\"b\":2}", 0, "ok ok ");
	READS("blank lines skipped", "\n  \n{\"a\":1}\n\r\n", 0, "ok ");
	READS("CRLF accepted", "{\"a\":1}\r\n", 0, "ok ");
	READS("malformed JSON", "{\"a\":\n{\"b\":2}\n", 0, "bad_json ok ");
	READS("not an object", "[1,2]\n42\n\"s\"\n", 0, "not_object not_object not_object ");
	READS("invalid UTF-8", "{\"a\":\"\xff\"}\n{\"b\":1}\n", 0, "bad_utf8 ok ");
	READS("overlong UTF-8 refused", "{\"a\":\"\xc0\xaf\"}\n", 0, "bad_utf8 ");
	READS("NUL byte refused", "{\"a\":\"x\0y\"}\n{\"b\":1}\n", 0, "bad_json ok ");
	READS("duplicate keys refused", "{\"a\":1,\"a\":2}\n", 0, "bad_json ");
	READS("too big an integer", "{\"a\":9223372036854775808}\n", 0, "bad_json ");
	READS("a line over the limit is refused, the next still read",
	      "{\"a\":\"0123456789012345678901234567890\"}\n{\"b\":1}\n", 20, "line_too_long ok ");
	READS("a line exactly at the limit is read", "{\"a\":\"0123456789\"}\n", 18, "ok ");
	READS("a last line over the limit without newline", "{\"b\":1}\n{\"a\":\"0123456789012345678901234567890\"}",
	      20, "ok line_too_long ");

	/* A line far larger than the buffer is skipped without holding it. */
	static char big[3 << 20];
	memset(big, 'x', sizeof big);
	big[0] = '{';
	size_t n = sizeof big - 16;
	memcpy(big + n, "}\n{\"ok\":1}\n", 11);
	char got[256];
	read_all(big, n + 11, 0, got, sizeof got);
	CHECK("a 3 MiB line is refused at the 1 MiB default, the next read", strcmp(got, "line_too_long ok ") == 0);

	json_t *o = json_pack("{s:s, s:i, s:b, s:f}", "s", "text", "i", 5, "b", 1, "f", 1.5);
	const char *s = NULL;
	int64_t i = 0;
	bool b = false;
	struct err e;
	CHECK("string field", rec_get_str(o, "s", true, 10, &s, &e) == 0 && strcmp(s, "text") == 0);
	CHECK("string too long", rec_get_str(o, "s", true, 3, &s, &e) == -1 && strcmp(e.code, "bad_field") == 0);
	CHECK("integer where string wanted",
	      rec_get_str(o, "i", true, 10, &s, &e) == -1 && strstr(e.msg, "must be a string") != NULL);
	CHECK("missing required",
	      rec_get_str(o, "nope", true, 10, &s, &e) == -1 && strcmp(e.code, "missing_field") == 0);
	CHECK("missing optional is fine", rec_get_str(o, "nope", false, 10, &s, &e) == 0);
	CHECK("integer field", rec_get_int(o, "i", true, &i, &e) == 0 && i == 5);
	CHECK("real is not an integer", rec_get_int(o, "f", true, &i, &e) == -1);
	CHECK("string is not an integer", rec_get_int(o, "s", true, &i, &e) == -1);
	CHECK("boolean field", rec_get_bool(o, "b", true, &b, &e) == 0 && b);
	json_decref(o);

	/* rec_text writes what jansson's compact dump writes, byte for byte. */
	static const char *const texts[] = {
	    "{\"type\":\"payment\",\"amount\":9223372036854775807,\"neg\":-1,\"ok\":true,\"no\":false,\"nil\":null}",
	    "{\"s\":\"\\\"q\\\\ \\b\\f\\n\\r\\t \\u0001\\u001f\\u007f / \xe5\xbe\xae\xe5\x8d\x9a \xf0\x9f\x98\x80\"}",
	    "{\"nested\":{\"a\":[1,[],{},[{\"b\":\"\"}]],\"r\":1.5,\"e\":1e300,\"z\":0.0,\"i\":2.0}}",
	    "{\"key\":\"nul\\u0000inside\",\"\":\"empty key\"}",
	    "{}",
	};
	struct rec_buf buf = {0};
	for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
		json_t *v = json_loads(texts[k], JSON_ALLOW_NUL, NULL);
		char *want = json_dumps(v, JSON_COMPACT);
		CHECK("rec_text writes jansson's compact text",
		      v && strcmp(rec_text(v, &buf), want) == 0 && buf.len == strlen(want));
		free(want);
		json_decref(v);
	}
	json_t *many = json_object();
	for (int k = 0; k < 2000; k++) {
		char key[16];
		snprintf(key, sizeof key, "k%d", k);
		json_object_set_new(many, key, json_string("a value long enough to grow the buffer several times"));
	}
	char *want = json_dumps(many, JSON_COMPACT);
	CHECK("rec_text grows its buffer for a large record", strcmp(rec_text(many, &buf), want) == 0);
	free(want);
	json_decref(many);
	rec_buf_free(&buf);

	/* A record written field by field is the text rec_text makes of it. */
	const char *odd = "q\"b\\s/\x01\x1f\n\t\xe5\xbe\xae\xe2\x80\xa8";
	json_t *obj = json_pack("{s:s, s:I, s:I, s:I, s:n, s:s}", "type", "order", "zero", (json_int_t)0, "min",
	                        (json_int_t)INT64_MIN, "max", (json_int_t)INT64_MAX, "none", "odd", odd);
	want = json_dumps(obj, JSON_COMPACT);
	rec_obj_begin(&buf);
	rec_obj_str(&buf, "type", "order");
	rec_obj_int(&buf, "zero", 0);
	rec_obj_int(&buf, "min", INT64_MIN);
	rec_obj_int(&buf, "max", INT64_MAX);
	rec_obj_str(&buf, "none", NULL);
	rec_obj_str_opt(&buf, "left_out", NULL);
	rec_obj_str(&buf, "odd", odd);
	rec_obj_end(&buf);
	CHECK("rec_obj_* write what rec_text writes", strcmp(buf.text, want) == 0 && buf.len == strlen(want));
	free(want);
	json_decref(obj);
	rec_obj_begin(&buf);
	rec_obj_str_opt(&buf, "a", NULL);
	rec_obj_int(&buf, "b", -42);
	rec_obj_end(&buf);
	CHECK("rec_obj_*: no comma after a field left out first", strcmp(buf.text, "{\"b\":-42}") == 0);
	rec_buf_free(&buf);

	CHECK("utf8: valid Chinese", utf8_valid("\xe5\xbe\xae\xe5\x8d\x9a", 6, NULL));
	CHECK("utf8: surrogate refused", !utf8_valid("\xed\xa0\x80", 3, NULL));
	CHECK("utf8: above U+10FFFF refused", !utf8_valid("\xf4\x90\x80\x80", 4, NULL));
	CHECK("utf8: truncated refused", !utf8_valid("\xe5\xbe", 2, NULL));
	CHECK("utf8: counts code points", utf8_count("\xe5\xbe\xae\xe5\x8d\x9a"
	                                             "ab") == 4);
	char cut[] = "'\xe4\xb8\xad\xe4\xb8' x \xff\xe4";
	utf8_scrub(cut);
	CHECK("utf8_scrub: a cut character and stray bytes become '?', the rest stays",
	      strcmp(cut, "'\xe4\xb8\xad?\?' x ?\?") == 0);
	return UNIT_DONE();
}
