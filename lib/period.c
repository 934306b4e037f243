/* period: see period.h. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>

#include "period.h"
#include "settle.h"

#include "util.h"

const char *period_check_tz(const char *tz)
{
	if (!*tz || *tz == '/' || strstr(tz, "..") || strlen(tz) >= PERIOD_TZ_MAX)
		return "a time zone is a name like Asia/Shanghai";
	for (const char *p = tz; *p; p++)
		if (!(*p >= 'A' && *p <= 'Z') && !(*p >= 'a' && *p <= 'z') && !(*p >= '0' && *p <= '9') &&
		    !strchr("/_+-", *p))
			return "a time zone is a name like Asia/Shanghai";
	const char *dir = getenv("TZDIR");
	char *path = xasprintf("%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
	struct stat sb;
	bool found = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
	free(path);
	return found ? NULL : "no such time zone in the system's tz database (is tzdata installed?)";
}

int period_ledger_zone(struct store *st, char tz[PERIOD_TZ_MAX], int *cutoff_hour, struct err *e)
{
	char *zone = store_setting(st, "settle_tz", SETTLE_TZ_DEFAULT);
	char *hour = store_setting(st, "settle_cutoff_hour", "0");
	strlcopy(tz, zone, PERIOD_TZ_MAX);
	*cutoff_hour = (int)strtol(hour, NULL, 10);
	free(zone);
	free(hour);
	const char *why = period_check_tz(tz);
	if (why)
		return err_fail(e, EX_DATAERR, "bad_setting",
		                "the ledger's time zone '%s': %s; set it with 'wpay init --settle-tz'", tz, why);
	/* These programs keep one zone, the ledger's: it is their local time. */
	setenv("TZ", tz, 1);
	tzset();
	return 0;
}

bool period_local_time(int y, int m, int d, int hour, char out[CLOCK_TEXT_MAX])
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_hour = hour, .tm_isdst = -1};
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		return false;
	clock_format((int64_t)t * 1000, out);
	return true;
}

/* A bound: a bare date is its day's start, or for an upper bound its
 * end; an RFC 3339 time is itself, to the whole second. */
static int bound(const char *opt, const char *text, bool upper, char out[CLOCK_TEXT_MAX], struct err *e)
{
	int y, m, d;
	int64_t ms;
	if (strlen(text) == 10 && clock_parse_date(text, &y, &m, &d)) {
		if (!period_local_time(y, m, d + upper, 0, out))
			return err_fail(e, EX_USAGE, "bad_date", "%s '%s': no such local day", opt, text);
		return 0;
	}
	if (!clock_parse(text, &ms) || ms < 0)
		return err_fail(e, EX_USAGE, "bad_date",
		                "%s '%.40s' is neither a date YYYY-MM-DD nor an RFC 3339 time such as "
		                "2026-11-20T08:00:00+08:00",
		                opt, text);
	/* The ledger keeps whole seconds: an upper bound inside a second
	 * takes that second in. */
	if (upper && ms % 1000)
		ms += 1000 - ms % 1000;
	clock_format(ms, out);
	return 0;
}

int period_parse(const char *since, const char *until, struct period *p, struct err *e)
{
	*p = (struct period){0};
	int rc;
	if (since && (rc = bound("--since", since, false, p->since, e)))
		return rc;
	if (until && (rc = bound("--until", until, true, p->until, e)))
		return rc;
	if (*p->since && *p->until && strcmp(p->until, p->since) <= 0)
		return err_fail(e, EX_USAGE, "bad_period",
		                "--until %s is not after --since %s: nothing can be in between", until, since);
	return 0;
}

int period_business_day(const char *opt, const char *date, int cutoff_hour, struct period *p, struct err *e)
{
	int y, m, d;
	*p = (struct period){0};
	if (strlen(date) != 10 || !clock_parse_date(date, &y, &m, &d))
		return err_fail(e, EX_USAGE, "bad_date", "%s '%.40s' is not a calendar date YYYY-MM-DD", opt, date);
	if (!period_local_time(y, m, d, cutoff_hour, p->since) ||
	    !period_local_time(y, m, d + 1, cutoff_hour, p->until))
		return err_fail(e, EX_USAGE, "bad_date", "%s %s: no such local day", opt, date);
	return 0;
}

bool period_contains(const struct period *p, const char *t)
{
	return (!*p->since || strcmp(t, p->since) >= 0) && (!*p->until || strcmp(t, p->until) < 0);
}

/* period.h: the business day of a moment. */
int period_ledger_day(struct store *st, int64_t now_ms, char day[16], struct err *e)
{
	char tz[PERIOD_TZ_MAX];
	int cutoff, rc = period_ledger_zone(st, tz, &cutoff, e);
	if (rc)
		return rc;
	time_t t = (time_t)(now_ms / 1000) - (time_t)cutoff * 3600;
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(day, 16, "%Y-%m-%d", &tm);
	return 0;
}
