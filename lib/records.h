/*
 * records: JSON-lines in and out.
 *
 * Input: one JSON object per line, at most `max` bytes (1 MiB by default);
 * blank lines are skipped, a last line without a newline is accepted, and a
 * line that is too long, not UTF-8, not JSON or not an object is reported
 * as a bad record, never cut or guessed at. Output: compact objects, one
 * per line, flushed per record when stdout is a pipe or a terminal.
 */
#ifndef WPAY_RECORDS_H
#define WPAY_RECORDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define REC_LINE_MAX_DEFAULT ((size_t)1 << 20)

struct rec_reader {
	int fd;
	const char *name; /* "<stdin>" or a file name, for messages */
	size_t max;
	unsigned long lineno; /* line number of the record last returned */
	char *buf;
	size_t cap, start, end;
	bool eof;
};

enum { REC_EOF = 0, REC_OK = 1, REC_BAD = -1, REC_IOERR = -2 };

void rec_reader_init(struct rec_reader *r, int fd, const char *name, size_t max);
void rec_reader_free(struct rec_reader *r);
/*
 * Next record. REC_OK: *out is a new reference the caller releases.
 * REC_BAD: the line was rejected, err says why, reading can go on.
 * REC_IOERR: reading failed (errno set). REC_EOF: no more input.
 */
int rec_read(struct rec_reader *r, json_t **out, struct err *err);
/* True if another line can be read without blocking. */
bool rec_reader_ready(struct rec_reader *r);

/* Compact JSON text of rec in b, reused from call to call: valid until
 * the next call with b; b->len is its length. rec_buf_free releases it. */
struct rec_buf {
	char *text;
	size_t len, cap;
};
const char *rec_text(json_t *rec, struct rec_buf *b);
void rec_buf_free(struct rec_buf *b);

/* Output. rec_emit takes no ownership; returns false on a write error. */
void rec_writer_init(void);
bool rec_emit(json_t *rec);
/* A record written field by field into b, the same text rec_text makes
 * of the object: for a list streaming rows from a statement without a
 * json_t per row. A NULL string is null with rec_obj_str and left out
 * with rec_obj_str_opt (json_pack's "s?" and "s*"). */
void rec_obj_begin(struct rec_buf *b);
void rec_obj_str(struct rec_buf *b, const char *key, const char *v);
void rec_obj_str_opt(struct rec_buf *b, const char *key, const char *v);
void rec_obj_int(struct rec_buf *b, const char *key, int64_t v);
/* An object inside the record, as key: fields up to rec_obj_close. */
void rec_obj_open(struct rec_buf *b, const char *key);
void rec_obj_close(struct rec_buf *b);
void rec_obj_end(struct rec_buf *b);
/* Print the record in b as rec_emit prints one. */
bool rec_emit_text(struct rec_buf *b);
/* For a program that prints a stream of records as fast as it reads them
 * (a list): on a pipe, flushed in 64 KiB blocks and at each rec_flush
 * instead of per record, which was a write(2) and a wake-up of the reader
 * per record, most of a list's time; a terminal still sees each line. */
void rec_writer_stream(void);
bool rec_flush(void);
/* Flush and check stdout at exit; false on a write error. */
bool rec_writer_close(void);

/* {"type":"error","code":...,"message":...,"ref":...}; ref may be NULL. */
json_t *rec_error_record(const struct err *e, json_t *ref);
/* The error record for a request that failed: its ref, and the fields
 * that name what it was about, so a script can match the error without
 * having kept the request: order, payment, refund, merchant,
 * out_trade_no, out_request_no, request_no, reference, wallet, uid,
 * merchant_no, card, event (an "id" of a request of one of those types
 * counts as that field), each as the request gave it (a string or an
 * integer), else as the program learnt it (learnt: an object, may be
 * NULL). */
json_t *rec_error_for(const struct err *e, json_t *req, json_t *learnt);

/*
 * Typed field access on request objects. Each returns 0 or fails with
 * code "missing_field" or "bad_field" naming the field and what was wanted.
 * Absent optional fields leave *out untouched and return 0.
 */
int rec_get_str(json_t *o, const char *key, bool required, size_t max_chars, const char **out, struct err *e);
int rec_get_int(json_t *o, const char *key, bool required, int64_t *out, struct err *e);
int rec_get_bool(json_t *o, const char *key, bool required, bool *out, struct err *e);
/* The fields every domain takes, checked the one way. "amount": an
 * integer number of minor units from 1 to MONEY_MAX ("bad_amount").
 * "request_no": the caller's key of a request, a key of up to
 * REQUEST_NO_MAX characters ("bad_field"). */
int rec_get_amount(json_t *req, int64_t *out, struct err *e);
int rec_get_request_no(json_t *req, const char **out, struct err *e);
/* A key a caller chooses (merchant_no, out_trade_no, request_no):
 * 1 to max letters, digits or '_'. rec_valid_name allows the characters
 * in extra as well. */
bool rec_valid_key(const char *s, size_t max);
bool rec_valid_name(const char *s, size_t max, const char *extra);
/* The JSON type of v as a word for messages: "string", "number", ... */
const char *rec_type_name(const json_t *v);

#endif
