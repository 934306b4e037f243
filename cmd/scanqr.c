/*
 * wpay-scanqr: read QR codes from images (PNG, JPEG, PGM/PPM; "-" is
 * stdin) or, with --payload, payload text one per line, and say what each
 * is: one "scan" record per code with its raw bytes, text, kind (EMV of any
 * scheme, Alipay or WeChat URL, UPI URI, URL, text), EMV objects and
 * checks (CRC, signature, expiry, merchant known here). An input with no
 * readable code gets an error record. --explain prints a tree for a person.
 * It changes nothing; a ledger, when there is one, only answers
 * "is this merchant ours".
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "charset.h"
#include "cli.h"
#include "clock.h"
#include "image.h"
#include "keys.h"
#include "networks.h"
#include "ordered.h"
#include "payload.h"
#include "progress.h"
#include "records.h"
#include "store.h"

#include "util.h"

static const char usage[] =
    "wpay-scanqr [--db path] [--explain] [--public-key file] [--encoding name] [file ...]\n"
    "       wpay-scanqr [--db path] [--explain] [--public-key file] [--encoding name] --payload "
    "[file ...]\n";

enum { OPT_EXPLAIN = OPT_FIRST_PROGRAM_OPTION, OPT_PAYLOAD, OPT_PUBLIC_KEY, OPT_ENCODING };

static const struct option options[] = {
    CLI_COMMON_OPTIONS,
    {"explain", no_argument, NULL, OPT_EXPLAIN},
    {"payload", no_argument, NULL, OPT_PAYLOAD},
    {"public-key", required_argument, NULL, OPT_PUBLIC_KEY},
    {"encoding", required_argument, NULL, OPT_ENCODING},
    {NULL, 0, NULL, 0},
};

#define FILE_MAX         ((size_t)128 << 20)
#define PAYLOAD_LINE_MAX 8192

struct scan {
	struct payload_env env;
	bool explain, failed, write_error;
	struct progress progress;
	size_t errors;      /* of the input being read, for the progress line */
	const char *source; /* the payload lines': their name in records */
	pthread_mutex_t store_lock;
};

/* One input (an image, a payload line) done. */
static void step(struct scan *s)
{
	progress_add(&s->progress, 1, s->errors);
	s->errors = 0;
}

/* Merge a part made for this record into it (jansson's update takes no ownership). */
static void merge(json_t *rec, json_t *part)
{
	json_object_update(rec, part);
	json_decref(part);
}

/* A record made ready to print, on any thread: its line (or, for
 * --explain, the record for its tree), and, for a code that is not text
 * in the forced charset (bad_encoding), what to say: it fails like an
 * input. */
struct answer {
	json_t *rec;
	struct rec_buf text;
	bool bad;
	char code[32];
	struct err e;
	unsigned long line;
};

static struct answer *answer_new(struct scan *s, json_t *rec)
{
	struct answer *a = xcalloc(1, sizeof *a);
	bool error = strcmp(json_string_value(json_object_get(rec, "type")), "error") == 0;
	if (error && json_object_get(rec, "raw_hex")) {
		a->bad = true;
		strlcopy(a->code, json_string_value(json_object_get(rec, "code")), sizeof a->code);
		strlcopy(a->e.msg, json_string_value(json_object_get(rec, "message")), sizeof a->e.msg);
		a->line = (unsigned long)json_integer_value(json_object_get(rec, "line"));
	}
	if (!s->explain)
		rec_text(rec, &a->text);
	else if (!error)
		a->rec = json_incref(rec);
	json_decref(rec);
	return a;
}

static void answer_free(struct answer *a)
{
	json_decref(a->rec);
	rec_buf_free(&a->text);
	free(a);
}

/* In order, on the main thread. */
static void answer_give(struct scan *s, struct answer *a, const char *source)
{
	if (a->bad) {
		a->e.code = a->code;
		cli_record_warn(&a->e, source, a->line);
		s->failed = true;
		s->errors++;
	}
	progress_clear(&s->progress, true);
	if (a->rec)
		payload_explain(a->rec, stdout);
	else if (a->text.text && !rec_emit_text(&a->text))
		s->write_error = true;
	answer_free(a);
}

static void emit(struct scan *s, json_t *rec, const char *source)
{
	answer_give(s, answer_new(s, rec), source);
}

static void fail(struct scan *s, const char *source, unsigned long line, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void fail(struct scan *s, const char *source, unsigned long line, const char *code, const char *fmt, ...)
{
	struct err e;
	va_list ap;
	e.code = code;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof e.msg, fmt, ap);
	va_end(ap);
	cli_record_warn(&e, source, line); /* erases the progress line first */
	json_t *rec = rec_error_record(&e, NULL);
	json_object_set_new(rec, "source", json_string(source));
	if (line)
		json_object_set_new(rec, "line", json_integer((json_int_t)line));
	s->failed = true;
	s->errors++;
	emit(s, rec, source);
}

static unsigned char *read_all(int fd, size_t *len, int *err)
{
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if (cap >= FILE_MAX) {
				*err = EFBIG;
				free(buf);
				return NULL;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*err = errno;
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

static void scan_image_one(struct scan *s, const char *name)
{
	bool is_stdin = strcmp(name, "-") == 0;
	const char *source = is_stdin ? "<stdin>" : name;
	int fd = is_stdin ? 0 : open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail(s, source, 0, "no_input", "cannot open %s: %s", name, strerror(errno));
		return;
	}
	size_t len = 0;
	int err = 0;
	unsigned char *data = read_all(fd, &len, &err);
	if (!is_stdin)
		close(fd);
	if (!data) {
		fail(s, source, 0, "no_input", "cannot read %s: %s", name,
		     err == EFBIG ? "larger than 128 MiB" : strerror(err));
		return;
	}
	struct image img;
	char why[200];
	if (image_load(data, len, &img, why, sizeof why) != 0) {
		free(data);
		fail(s, source, 0, "bad_image", "%s: %s", source, why);
		return;
	}
	free(data);
	struct image_code codes[IMAGE_CODES_MAX];
	int n = image_scan(&img, codes, IMAGE_CODES_MAX);
	if (n == 0)
		fail(s, source, 0, "no_code", "%s: no QR code found in the %dx%d %s image", source, img.width,
		     img.height, img.format);
	for (int i = 0; i < n; i++) {
		json_t *rec = json_pack("{s:s, s:s, s:i, s:{s:s, s:i, s:i}, s:{s:i, s:i, s:i, s:i}, s:s}", "type",
		                        "scan", "source", source, "index", i + 1, "image", "format", img.format,
		                        "width", img.width, "height", img.height, "position", "x", codes[i].x, "y",
		                        codes[i].y, "w", codes[i].w, "h", codes[i].h, "pass", codes[i].pass);
		merge(rec, payload_describe(codes[i].data, codes[i].len, &s->env));
		free(codes[i].data);
		emit(s, rec, source);
	}
	image_free(&img);
}

static void scan_image(struct scan *s, const char *name)
{
	scan_image_one(s, name);
	step(s);
}

/* A payload line's record, on a worker thread (see ordered.h). */
static void describe_line(struct ordered_line *l, void *arg)
{
	struct scan *s = arg;
	if (l->len == 0)
		return; /* a blank line is no payload */
	json_t *rec = json_pack("{s:s, s:s, s:I}", "type", "scan", "source", s->source, "line", (json_int_t)l->lineno);
	merge(rec, payload_describe((unsigned char *)l->text, l->len, &s->env));
	/* Written here, on every core, and freed by the thread that made it. */
	l->result = answer_new(s, rec);
}

/* And in the input's order, on this thread. */
static bool line_done(struct ordered_line *l, void *arg)
{
	struct scan *s = arg;
	struct answer *a = l->result;
	if (s->write_error) {
		if (a)
			answer_free(a);
		return false;
	}
	if (l->too_long) {
		fail(s, s->source, l->lineno, "line_too_long",
		     "line %lu is longer than %d bytes; no QR code holds that", l->lineno, PAYLOAD_LINE_MAX);
		step(s);
	} else if (a) {
		answer_give(s, a, s->source);
		step(s);
	}
	return !s->write_error;
}

static void scan_lines(struct scan *s, const char *name)
{
	bool is_stdin = strcmp(name, "-") == 0;
	s->source = is_stdin ? "<stdin>" : name;
	FILE *f = is_stdin ? stdin : fopen(name, "r");
	if (!f) {
		fail(s, s->source, 0, "no_input", "cannot open %s: %s", name, strerror(errno));
		return;
	}
	/* Checking a signature is most of a line's time: every core checks. */
	struct ordered_job job = {.max_len = PAYLOAD_LINE_MAX, .work = describe_line, .done = line_done, .arg = s};
	unsigned long lines = 0;
	int err = ordered_lines(f, &job, &lines);
	if (err)
		fail(s, s->source, lines, "no_input", "cannot read %s: %s", name, strerror(err));
	if (!is_stdin)
		fclose(f);
}

int main(int argc, char **argv)
{
	cli_init("wpay-scanqr");
	json_object_seed(0); /* before any thread makes a record */
	struct scan s = {0};
	bool payload = false;
	const char *public_key = NULL;
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (cli_common_option(opt, usage))
			continue;
		if (opt == OPT_EXPLAIN)
			s.explain = true;
		else if (opt == OPT_PAYLOAD)
			payload = true;
		else if (opt == OPT_PUBLIC_KEY)
			public_key = optarg;
		else if (opt == OPT_ENCODING && !charset_known(optarg))
			cli_usage_error(usage, "--encoding %s: not a character set iconv knows", optarg);
		else if (opt == OPT_ENCODING)
			s.env.encoding = optarg;
	}
	struct networks nw;
	struct err e;
	int rc = networks_load(&nw, &e);
	if (rc)
		err_die(rc, "%s", e.msg);
	char *db = cli_db_path(), *keys = cli_keys_dir();
	/* A key given by hand is the only one tried: no key directory is needed. */
	struct code_key given = {0};
	if (public_key && (rc = keys_load_public_file(public_key, &given.key, given.kid, &e)) != 0)
		err_die(rc == EX_NOINPUT ? EX_USAGE : rc, "%s", e.msg);
	if (!public_key && (rc = keys_check_dir(keys, &e)) != 0)
		err_die(rc, "%s", e.msg);
	struct store *st = NULL;
	if ((store_is_url(db) || access(db, F_OK) == 0) && (rc = store_open(db, false, &st, &e)) != 0)
		err_die(rc, "%s", e.msg);
	pthread_mutex_init(&s.store_lock, NULL);
	s.env = (struct payload_env){.keys = keys_ring_new(keys),
	                             .store_lock = &s.store_lock,
	                             .public_key = public_key ? &given : NULL,
	                             .st = st,
	                             .networks = &nw,
	                             .now_ms = clock_now_ms(),
	                             .encoding = s.env.encoding};
	rec_writer_init();
	progress_start(&s.progress, payload ? "payloads" : "images", payload ? 0 : (size_t)(argc - optind));
	if (optind == argc)
		payload ? scan_lines(&s, "-") : scan_image(&s, "-");
	for (int i = optind; i < argc && !s.write_error; i++)
		payload ? scan_lines(&s, argv[i]) : scan_image(&s, argv[i]);
	progress_end(&s.progress);
	store_close(st);
	keys_ring_free(s.env.keys);
	EVP_PKEY_free(given.key);
	free(db);
	free(keys);
	if (!rec_writer_close() || s.write_error) {
		err_warn("cannot write to standard output: %s", strerror(errno));
		return EX_IOERR;
	}
	return s.failed ? EX_RECORDS : 0;
}
