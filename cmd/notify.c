/*
 * wpay-notify: deliver the merchants' queued notifications (order paid,
 * refunded, settled) by signed HTTP POST, retrying on a schedule; list the
 * queue and put failed events back on it; and, for a merchant's scripts,
 * check a signature (--verify). See events.h and webhook.h.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "cli.h"
#include "clock.h"
#include "ctx.h"
#include "events.h"
#include "keys.h"
#include "merchants.h"
#include "netaddr.h"
#include "period.h"
#include "records.h"
#include "secret.h"
#include "social.h"
#include "utf8.h"
#include "webhook.h"

#include "util.h"

static const char usage[] =
    "wpay-notify [--db path] --once|--loop [--interval duration] [--schedule list] [--timeout duration] "
    "[--connect-timeout duration]\n"
    "       wpay-notify --verify --secret-file file --timestamp seconds --signature sig [--tolerance duration]\n"
    "       wpay-notify [--db path] list [--pending|--failed|--delivered] [--merchant merchant] [--kind kind]\n"
    "                   [--since time] [--until time] [--limit n] [--after event]\n"
    "       wpay-notify [--db path] redeliver event ...\n"
    "       wpay-notify [--db path] redeliver --merchant merchant --failed [--since time] [--until time]\n"
    "       wpay-notify [--db path] message merchant --to followers|u:uid|order:id --text text --request-no no\n"
    "       wpay-notify [--db path] message\n";

enum {
	OPT_ONCE = OPT_FIRST_PROGRAM_OPTION,
	OPT_LOOP,
	OPT_INTERVAL,
	OPT_SCHEDULE,
	OPT_TIMEOUT,
	OPT_CONNECT_TIMEOUT,
	OPT_VERIFY,
	OPT_SECRET_FILE,
	OPT_TIMESTAMP,
	OPT_SIGNATURE,
	OPT_TOLERANCE,
	OPT_PENDING,
	OPT_FAILED,
	OPT_DELIVERED,
	OPT_MERCHANT,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_LIMIT,
	OPT_AFTER,
	OPT_KIND,
	OPT_TO,
	OPT_TEXT,
	OPT_REQUEST_NO
};

static const struct option options[] = {
    CLI_COMMON_OPTIONS,
    {"once", no_argument, NULL, OPT_ONCE},
    {"loop", no_argument, NULL, OPT_LOOP},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"schedule", required_argument, NULL, OPT_SCHEDULE},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"verify", no_argument, NULL, OPT_VERIFY},
    {"secret-file", required_argument, NULL, OPT_SECRET_FILE},
    {"timestamp", required_argument, NULL, OPT_TIMESTAMP},
    {"signature", required_argument, NULL, OPT_SIGNATURE},
    {"tolerance", required_argument, NULL, OPT_TOLERANCE},
    {"pending", no_argument, NULL, OPT_PENDING},
    {"failed", no_argument, NULL, OPT_FAILED},
    {"delivered", no_argument, NULL, OPT_DELIVERED},
    {"merchant", required_argument, NULL, OPT_MERCHANT},
    {"since", required_argument, NULL, OPT_SINCE},
    {"until", required_argument, NULL, OPT_UNTIL},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"after", required_argument, NULL, OPT_AFTER},
    {"kind", required_argument, NULL, OPT_KIND},
    {"to", required_argument, NULL, OPT_TO},
    {"text", required_argument, NULL, OPT_TEXT},
    {"request-no", required_argument, NULL, OPT_REQUEST_NO},
    {NULL, 0, NULL, 0},
};

/* A claim takes a few events at a time, so notifiers share the work. */
/* Alipay's: 4m, 10m, 10m, 1h, 2h, 6h, 15h after the first attempt. */
#define SCHEDULE_DEFAULT "4m,10m,10m,1h,2h,6h,15h"
#define CLAIMS_MAX       16
#define LIST_LIMIT_MAX   1000000000LL
#define REDELIVER_BATCH  500

/* The options of list and redeliver, as typed. */
struct queue_opts {
	const char *state, *merchant, *since, *until, *after, *kind;
	int nstates;
	int64_t limit;
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int64_t duration(const char *opt, const char *text, int64_t min_ms, int64_t max_ms)
{
	int64_t ms;
	if (!clock_parse_duration(text, &ms) || ms < min_ms || ms > max_ms)
		cli_usage_error(usage, "%s takes a duration such as 30s, 10m or 2h, not '%s'", opt, text);
	return ms;
}

static int parse_schedule(const char *text, int64_t *out)
{
	int n = 0;
	for (const char *p = text;; p++) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char wait[32];
		if (len == 0 || len >= sizeof wait)
			cli_usage_error(usage, "--schedule lists the waits between attempts, such as %s, not '%s'",
			                SCHEDULE_DEFAULT, text);
		if (n == EVENT_RETRY_MAX)
			cli_usage_error(usage, "--schedule has at most %d waits", EVENT_RETRY_MAX);
		memcpy(wait, p, len);
		wait[len] = '\0';
		out[n++] = duration("--schedule", wait, 1000, 7 * 86400000LL);
		if (!comma)
			return n;
		p = comma;
	}
}

static int verify(const char *secret_file, const char *timestamp, const char *signature, int64_t tolerance_ms)
{
	if (!secret_file || !timestamp || !signature)
		cli_usage_error(usage, "--verify needs --secret-file, --timestamp and --signature");
	secret_protect_process();
	char *dir = xstrdup(secret_file), *slash = strrchr(dir, '/');
	const char *name = slash ? slash + 1 : secret_file;
	if (slash)
		*slash = '\0';
	unsigned char secret[KEY_SECRET_LEN];
	struct err e = {0};
	int rc = keys_read_secret(slash ? (*dir ? dir : "/") : ".", name, secret, &e);
	free(dir);
	if (rc)
		err_die(rc, "%s", e.msg);
	/* The body exactly as received, from standard input. */
	size_t cap = 1 << 20, len = 0;
	char *body = xmalloc(cap + 1);
	ssize_t n;
	while ((n = read(STDIN_FILENO, body + len, cap - len)) > 0)
		len += (size_t)n;
	if (n < 0)
		err_die(EX_IOERR, "cannot read the body from standard input");
	if (len == cap)
		err_die(EX_DATAERR, "the body is larger than 1 MiB; wpay never sends one that large");
	body[len] = '\0';
	const char *why = webhook_verify(secret, sizeof secret, timestamp, body, len, signature, clock_now_ms() / 1000,
	                                 tolerance_ms / 1000);
	crypto_wipe(secret, sizeof secret);
	free(body);
	json_t *rec = json_pack("{s:s, s:b}", "type", "verification", "valid", why == NULL);
	if (why)
		json_object_set_new(rec, "reason", json_string(why));
	bool written = rec_emit(rec);
	json_decref(rec);
	if (why)
		err_warn("not a valid notification: %s", why);
	return !written ? EX_IOERR : why ? EX_RECORDS : 0;
}

static void nap(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	nanosleep(&ts, NULL); /* a signal cuts it short */
}

static int deliver(struct wpay_ctx *c, bool loop, int64_t interval_ms, const int64_t *schedule, int nretry,
                   const struct webhook_opts *wo)
{
	struct event_claim claims[CLAIMS_MAX];
	/* A claim outlives the slowest attempt, so no other notifier takes it
	 * while this one still might deliver it. */
	int64_t lease_ms = wo->connect_timeout_ms + wo->timeout_ms + 60000;
	bool failed = false, written = true;
	while (!stopping && written) {
		int64_t now = clock_now_ms();
		store_begin(c->st);
		size_t n = events_claim(c->st, now, lease_ms, claims, CLAIMS_MAX);
		store_commit(c->st);
		if (n == 0) {
			if (!loop)
				break;
			nap(interval_ms);
			continue;
		}
		/* Send the claimed attempts, then record them in one transaction:
		 * a crash between the two sends them again when the claims lapse,
		 * with the same event ids, which merchants drop as duplicates. */
		long status[CLAIMS_MAX] = {0};
		char why[CLAIMS_MAX][256];
		for (size_t i = 0; i < n; i++) {
			unsigned char secret[KEY_SECRET_LEN];
			struct err e = {0};
			char *name = strcmp(claims[i].kind, SOCIAL_EVENT_KIND) == 0
			                 ? xstrdup(SOCIAL_KEY)
			                 : merchants_secret_name(claims[i].merchant);
			why[i][0] = '\0';
			if (keys_read_secret(c->keys_dir, name, secret, &e) == 0)
				status[i] =
				    webhook_post(claims[i].url, claims[i].id, claims[i].body, secret, sizeof secret,
				                 clock_now_ms() / 1000, wo, why[i], sizeof why[i]);
			else
				strlcopy(why[i], e.msg, sizeof why[i]);
			crypto_wipe(secret, sizeof secret);
			free(name);
		}
		json_t *recs = json_array();
		store_begin(c->st);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(recs, events_record(c->st, &claims[i], status[i], *why[i] ? why[i] : NULL,
			                                          clock_now_ms(), schedule, nretry));
		store_commit(c->st);
		for (size_t i = 0; i < n; i++) {
			json_t *rec = json_array_get(recs, i);
			if (strcmp(json_string_value(json_object_get(rec, "result")), "failed") == 0) {
				failed = true;
				err_warn("gave up on %s for %s after %d attempts (last: %s)", claims[i].id,
				         json_string_value(json_object_get(rec, "merchant")), claims[i].attempt,
				         *why[i] ? why[i] : "an HTTP error status");
			}
			written = written && rec_emit(rec);
			events_claim_free(&claims[i]);
		}
		json_decref(recs);
	}
	return !written ? EX_IOERR : failed ? EX_RECORDS : 0;
}

static bool emit_each(json_t *rec, void *arg)
{
	bool *written = arg;
	return *written = rec_emit(rec);
}

/* The merchant and span the options name, or the end of the program: an
 * unknown merchant is bad data (65), a bad time bad usage (64). */
static void queue_scope(struct wpay_ctx *c, const struct queue_opts *q, struct merchant *m, struct period *span)
{
	struct err e = {0};
	char tz[PERIOD_TZ_MAX];
	int cutoff, rc;
	if (q->merchant && merchants_load(c->st, q->merchant, m, &e))
		err_die(EX_DATAERR, "%s", e.msg);
	if ((rc = period_ledger_zone(c->st, tz, &cutoff, &e)) != 0 ||
	    (rc = period_parse(q->since, q->until, span, &e)) != 0)
		err_die(rc, "%s", e.msg);
}

static int queue_list(struct wpay_ctx *c, const struct queue_opts *q)
{
	struct merchant m;
	struct events_filter f = {.state = q->state, .after = q->after, .limit = q->limit, .kind = q->kind};
	queue_scope(c, q, &m, &f.span);
	f.merchant = q->merchant ? m.no : NULL;
	bool written = true;
	struct err e = {0};
	int rc = events_list(c->st, &f, emit_each, &written, &e);
	if (rc)
		err_die(rc, "%s", e.msg);
	return written ? 0 : EX_IOERR;
}

static int queue_redeliver(struct wpay_ctx *c, const struct queue_opts *q, char **ids, int nids)
{
	json_t *list;
	if (q->merchant) {
		struct merchant m;
		struct period span;
		queue_scope(c, q, &m, &span);
		list = events_failed(c->st, m.no, &span);
	} else {
		list = json_array();
		for (int i = 0; i < nids; i++)
			json_array_append_new(list, json_string(ids[i]));
	}
	bool written = true, failed = false;
	size_t n = json_array_size(list);
	/* One answer per event, committed a few hundred at a time (one commit
	 * each made a merchant's thousand 3.5 s), so that a notifier running
	 * beside this waits no longer than one batch takes. */
	for (size_t from = 0; from < n; from += REDELIVER_BATCH) {
		size_t to = from + REDELIVER_BATCH < n ? from + REDELIVER_BATCH : n;
		json_t *recs = json_array();
		store_begin(c->st);
		for (size_t i = from; i < to; i++) {
			json_t *id = json_array_get(list, i), *rec = NULL;
			struct err e = {0};
			if (events_redeliver(c->st, json_string_value(id), clock_now_ms(), &rec, &e)) {
				failed = true;
				err_warn("%s", e.msg);
				rec = rec_error_record(&e, NULL);
				json_object_set(rec, "event", id);
			}
			json_array_append_new(recs, rec);
		}
		store_commit(c->st);
		size_t i;
		json_t *rec;
		json_array_foreach (recs, i, rec)
			written = written && rec_emit(rec);
		json_decref(recs);
	}
	json_decref(list);
	return !written ? EX_IOERR : failed ? EX_RECORDS : 0;
}

/* message's options, as typed. */
struct message_opts {
	const char *to, *text, *request_no;
};

static int message_handle(void *arg, json_t *req, json_t **out, struct err *e)
{
	const char *type = "message";
	if (rec_get_str(req, "type", false, 16, &type, e))
		return BATCH_FAIL;
	if (strcmp(type, "message") != 0)
		return err_fail(e, ERR_FAIL, "unknown_request", "wpay-notify message takes records of type 'message'");
	return social_message(arg, req, out, e);
}

/* A merchant's message to its followers: one from the command line, or
 * a request per line on standard input. */
static int message(int nargs, char **args, const struct message_opts *m)
{
	json_t *req = NULL;
	if (nargs > 1)
		cli_usage_error(usage, "message takes one merchant, not '%s' too", args[1]);
	if (nargs == 1) {
		if (!m->to || !m->text || !m->request_no)
			cli_usage_error(usage, "message %s needs --to, --text and --request-no", args[0]);
		size_t bad;
		if (!utf8_valid(m->text, strlen(m->text), &bad))
			cli_usage_error(usage, "--text is not valid UTF-8 (byte %zu)", bad);
		if (!utf8_valid(m->to, strlen(m->to), &bad) || !utf8_valid(args[0], strlen(args[0]), &bad) ||
		    !utf8_valid(m->request_no, strlen(m->request_no), &bad))
			cli_usage_error(usage, "the merchant, --to and --request-no must be valid UTF-8");
		req = json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "message", "merchant", args[0], "to", m->to,
		                "text", m->text, "request_no", m->request_no);
	} else if (m->to || m->text || m->request_no) {
		cli_usage_error(usage,
		                "--to, --text and --request-no go with a merchant; records on stdin carry fields");
	}
	struct wpay_ctx c;
	ctx_open(&c);
	rec_writer_init();
	struct batch_opts opts = {0};
	int status = batch_serve(c.st, req, message_handle, &c, &opts);
	ctx_close(&c);
	if (!rec_writer_close() && status == 0)
		status = EX_IOERR;
	return status;
}

/* Check the options of list and redeliver against each other. */
static void queue_check(const char *cmd, const struct queue_opts *q, char **ids, int nids)
{
	if (q->nstates > 1)
		cli_usage_error(usage, "--pending, --failed and --delivered each name one state: give one");
	if (strcmp(cmd, "list") == 0) {
		if (nids)
			cli_usage_error(usage, "unexpected argument '%s': list takes options only", ids[0]);
		return;
	}
	if (q->limit || q->after || q->kind)
		cli_usage_error(usage,
		                "--kind, --limit and --after go with list: redeliver takes every event it names");
	if (q->state && strcmp(q->state, "failed") != 0)
		cli_usage_error(usage, "redeliver puts failed events back: --%s does not go with it", q->state);
	if (nids && (q->merchant || q->state || q->since || q->until))
		cli_usage_error(usage, "redeliver takes event ids or --merchant with --failed, not both");
	if (!nids && !q->merchant)
		cli_usage_error(usage, "redeliver which events? Name them, or give --merchant and --failed");
	if (q->merchant && !q->state)
		cli_usage_error(usage,
		                "redeliver --merchant puts back every failed event of the merchant: say --failed");
}

int main(int argc, char **argv)
{
	cli_init("wpay-notify");
	bool once = false, loop = false, do_verify = false;
	const char *secret_file = NULL, *timestamp = NULL, *signature = NULL;
	int64_t interval_ms = 10000, tolerance_ms = 300000, schedule[EVENT_RETRY_MAX];
	struct webhook_opts wo = {.connect_timeout_ms = 5000, .timeout_ms = 15000};
	struct queue_opts q = {0};
	struct message_opts msg = {0};
	int nretry = parse_schedule(SCHEDULE_DEFAULT, schedule);
	int opt;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (cli_common_option(opt, usage))
			continue;
		switch (opt) {
		case OPT_ONCE: once = true; break;
		case OPT_LOOP: loop = true; break;
		case OPT_INTERVAL: interval_ms = duration("--interval", optarg, 1000, 3600000); break;
		case OPT_SCHEDULE: nretry = parse_schedule(optarg, schedule); break;
		case OPT_TIMEOUT: wo.timeout_ms = duration("--timeout", optarg, 1000, 300000); break;
		case OPT_CONNECT_TIMEOUT:
			wo.connect_timeout_ms = duration("--connect-timeout", optarg, 1000, 60000);
			break;
		case OPT_VERIFY: do_verify = true; break;
		case OPT_SECRET_FILE: secret_file = optarg; break;
		case OPT_TIMESTAMP: timestamp = optarg; break;
		case OPT_SIGNATURE: signature = optarg; break;
		case OPT_TOLERANCE: tolerance_ms = duration("--tolerance", optarg, 0, 86400000); break;
		case OPT_PENDING: q.state = "pending", q.nstates++; break;
		case OPT_FAILED: q.state = "failed", q.nstates++; break;
		case OPT_DELIVERED: q.state = "delivered", q.nstates++; break;
		case OPT_MERCHANT: q.merchant = optarg; break;
		case OPT_SINCE: q.since = optarg; break;
		case OPT_UNTIL: q.until = optarg; break;
		case OPT_LIMIT: q.limit = cli_number(usage, "--limit", optarg, 1, LIST_LIMIT_MAX); break;
		case OPT_AFTER:
			if (!events_is_id(optarg))
				cli_usage_error(usage, "--after takes an event id (evt_...), not '%.80s'", optarg);
			q.after = optarg;
			break;
		case OPT_KIND:
			if (!rec_valid_name(optarg, 32, "._"))
				cli_usage_error(usage,
				                "--kind takes an event kind such as order.paid or message, not '%.80s'",
				                optarg);
			q.kind = optarg;
			break;
		case OPT_TO: msg.to = optarg; break;
		case OPT_TEXT: msg.text = optarg; break;
		case OPT_REQUEST_NO: msg.request_no = optarg; break;
		}
	}
	const char *cmd = optind < argc ? argv[optind] : NULL;
	if (cmd && strcmp(cmd, "message") == 0) {
		if (once || loop || do_verify || q.nstates || q.merchant || q.since || q.until || q.limit || q.after ||
		    q.kind)
			cli_usage_error(usage, "message queues a message: it takes --to, --text and --request-no only");
		return message(argc - optind - 1, argv + optind + 1, &msg);
	}
	if (msg.to || msg.text || msg.request_no)
		cli_usage_error(usage, "--to, --text and --request-no go with message");
	if (cmd && (strcmp(cmd, "list") == 0 || strcmp(cmd, "redeliver") == 0)) {
		if (once || loop || do_verify)
			cli_usage_error(usage, "%s works on the queue: drop --once, --loop and --verify", cmd);
		queue_check(cmd, &q, argv + optind + 1, argc - optind - 1);
		struct wpay_ctx c;
		ctx_open(&c);
		rec_writer_init();
		int status = strcmp(cmd, "list") == 0 ? queue_list(&c, &q)
		                                      : queue_redeliver(&c, &q, argv + optind + 1, argc - optind - 1);
		ctx_close(&c);
		if (!rec_writer_close() && status == 0)
			status = EX_IOERR;
		return status;
	}
	if (cmd)
		cli_usage_error(usage, "unexpected argument '%s'", cmd);
	if (q.nstates || q.merchant || q.since || q.until || q.limit || q.after || q.kind)
		cli_usage_error(usage,
		                "--pending, --failed, --delivered, --merchant, --kind, --since, --until, --limit "
		                "and --after go with list or redeliver");
	if (do_verify) {
		if (once || loop)
			cli_usage_error(usage, "--verify checks one notification: drop --once and --loop");
		int status = verify(secret_file, timestamp, signature, tolerance_ms);
		return !rec_writer_close() && status == 0 ? EX_IOERR : status;
	}
	if (once == loop)
		cli_usage_error(usage, "say --once (deliver what is due, for cron) or --loop (keep delivering)");
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	struct wpay_ctx c;
	ctx_open(&c);
	char *allow = store_setting(c.st, NETADDR_ALLOW_SETTING, "0");
	wo.allow_private = strcmp(allow, "1") == 0;
	free(allow);
	rec_writer_init();
	webhook_global_init();
	int status = deliver(&c, loop, interval_ms, schedule, nretry, &wo);
	webhook_global_cleanup();
	ctx_close(&c);
	if (!rec_writer_close() && status == 0)
		status = EX_IOERR;
	return status;
}
