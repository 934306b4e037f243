/* Unit tests for lib/period: the spans --since, --until and a business
 * day cover, in a zone with daylight saving time and in the ledger's. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "period.h"
#include "unit.h"

static void zone(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static bool spans(const char *since, const char *until, const char *want_since, const char *want_until)
{
	struct period p;
	struct err e = {0};
	return period_parse(since, until, &p, &e) == 0 && strcmp(p.since, want_since) == 0 &&
	       strcmp(p.until, want_until) == 0;
}

static const char *refused(const char *since, const char *until)
{
	struct period p;
	static struct err e;
	e = (struct err){0};
	return period_parse(since, until, &p, &e) == 64 ? e.code : "accepted";
}

int main(void)
{
	/* clock_format writes its digits itself: the same text as strftime. */
	bool same = true;
	for (int64_t ms = -86400000LL * 800; ms < 86400000LL * 366 * 9000; ms += 86400000LL * 37 + 3723456) {
		char got[CLOCK_TEXT_MAX], want[CLOCK_TEXT_MAX];
		time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
		struct tm tm;
		gmtime_r(&secs, &tm);
		strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
		clock_format(ms, got);
		same &= strcmp(got, want) == 0;
	}
	CHECK("clock_format is strftime's %Y-%m-%dT%H:%M:%SZ from 1967 to 10985", same);
	zone("Asia/Shanghai");
	CHECK("a bare date is its day in the zone, 00:00 to 24:00 +08:00",
	      spans("2026-11-20", "2026-11-20", "2026-11-19T16:00:00Z", "2026-11-20T16:00:00Z"));
	CHECK("an RFC 3339 time is itself, in UTC",
	      spans("2026-11-20T08:00:00+08:00", NULL, "2026-11-20T00:00:00Z", ""));
	CHECK("an upper bound inside a second takes the second in",
	      spans(NULL, "2026-11-20T00:00:00.250Z", "", "2026-11-20T00:00:01Z"));
	CHECK("no bounds: open both ways", spans(NULL, NULL, "", ""));
	CHECK("--until before --since is bad_period", strcmp(refused("2026-11-21", "2026-11-20"), "bad_period") == 0);
	CHECK("--until equal to --since is bad_period",
	      strcmp(refused("2026-11-20T00:00:00Z", "2026-11-20T00:00:00Z"), "bad_period") == 0);
	CHECK("a day that does not exist is bad_date", strcmp(refused("2026-02-30", NULL), "bad_date") == 0);
	CHECK("a time without a zone is bad_date", strcmp(refused("2026-11-20T08:00:00", NULL), "bad_date") == 0);
	CHECK("words are bad_date", strcmp(refused(NULL, "yesterday"), "bad_date") == 0);

	struct period p;
	struct err e = {0};
	CHECK("business day with cut-off 0 is the calendar day",
	      period_business_day("--date", "2026-11-20", 0, &p, &e) == 0 &&
	          strcmp(p.since, "2026-11-19T16:00:00Z") == 0 && strcmp(p.until, "2026-11-20T16:00:00Z") == 0);
	CHECK("business day with cut-off 2 runs 02:00 to 02:00",
	      period_business_day("--date", "2026-11-20", 2, &p, &e) == 0 &&
	          strcmp(p.since, "2026-11-19T18:00:00Z") == 0 && strcmp(p.until, "2026-11-20T18:00:00Z") == 0);
	CHECK("contains: since is in, until is out",
	      period_contains(&p, "2026-11-19T18:00:00Z") && !period_contains(&p, "2026-11-20T18:00:00Z"));

	zone("Europe/Berlin");
	CHECK("a day when clocks go back lasts 25 hours",
	      spans("2026-10-25", "2026-10-25", "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"));
	CHECK("a day when clocks go forward lasts 23 hours",
	      spans("2026-03-29", "2026-03-29", "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"));
	CHECK("the day after the 31st is the 1st of the next month",
	      spans(NULL, "2026-12-31", "", "2026-12-31T23:00:00Z"));
	return UNIT_DONE();
}
