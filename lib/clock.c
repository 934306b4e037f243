/* clock: now, RFC 3339 formatting and parsing, durations. See clock.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"

#include "util.h"

bool clock_is_settable(void)
{
#ifdef WPAY_TEST_CLOCK
	return true;
#else
	return false;
#endif
}

void clock_test_crash(const char *point)
{
#ifdef WPAY_TEST_CLOCK
	/* WPAY_CRASH=point:n ends the process abruptly at the n-th pass. */
	static int passes;
	const char *want = getenv("WPAY_CRASH");
	size_t len = strlen(point);
	if (want && strncmp(want, point, len) == 0 && want[len] == ':' &&
	    ++passes == (int)strtol(want + len + 1, NULL, 10))
		raise(SIGKILL); /* as kill -9 would: no exit handler, no flush */
#else
	(void)point;
#endif
}

int64_t clock_now_ms(void)
{
#ifdef WPAY_TEST_CLOCK
	const char *fixed = getenv("WPAY_NOW");
	if (fixed && *fixed) {
		int64_t ms;
		if (!clock_parse(fixed, &ms)) {
			err_die(EX_USAGE, "WPAY_NOW '%s' is not an RFC 3339 time; use e.g. 2026-01-31T08:00:00Z",
			        fixed);
		}
		return ms;
	}
#endif
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void clock_format(int64_t ms, char buf[CLOCK_TEXT_MAX])
{
	time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	int year = tm.tm_year + 1900;
	if (year < 0 || year > 9999) {
		strftime(buf, CLOCK_TEXT_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
		return;
	}
	/* By hand: strftime was a tenth of a list's time. */
	int f[6] = {year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
	char *p = buf;
	for (int i = 0; i < 6; i++) {
		if (i == 0) {
			*p++ = (char)('0' + f[0] / 1000);
			*p++ = (char)('0' + f[0] / 100 % 10);
		}
		*p++ = (char)('0' + f[i] / 10 % 10);
		*p++ = (char)('0' + f[i] % 10);
		*p++ = "--T::Z"[i];
	}
	*p = '\0';
}

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool clock_parse(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec;
	if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) || s[13] != ':' ||
	    !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return false;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60)
		return false;
	const char *p = s + 19;
	int frac_ms = 0;
	if (*p == '.') {
		int n = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 3)
				frac_ms = frac_ms * 10 + (*p - '0');
		if (n == 0)
			return false;
		for (; n < 3; n++)
			frac_ms *= 10;
	}
	int offset_min = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
			return false;
		offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return false;
	}
	if (*p)
		return false;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec};
	time_t t = timegm(&tm);
	if (tm.tm_mday != d) /* 31 April and 29 February of a common year roll over */
		return false;
	*ms = ((int64_t)t - offset_min * 60) * 1000 + frac_ms;
	return true;
}

bool clock_parse_duration(const char *s, int64_t *ms)
{
	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || v < 0)
		return false;
	int64_t unit = 1000;
	if (*end) {
		switch (*end) {
		case 's': unit = 1000; break;
		case 'm': unit = 60 * 1000; break;
		case 'h': unit = 3600 * 1000; break;
		case 'd': unit = 86400 * 1000; break;
		default: return false;
		}
		if (end[1])
			return false;
	}
	if (v > INT64_MAX / unit)
		return false;
	*ms = v * unit;
	return true;
}

bool clock_parse_date(const char *s, int *y, int *m, int *d)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	*y = (int)strtol(s, NULL, 10), *m = (int)strtol(s + 5, NULL, 10), *d = (int)strtol(s + 8, NULL, 10);
	/* A real calendar day: it survives normalisation unchanged. */
	struct tm tm = {.tm_year = *y - 1900, .tm_mon = *m - 1, .tm_mday = *d, .tm_hour = 12};
	time_t t = timegm(&tm);
	struct tm back;
	return *y >= 1970 && t != (time_t)-1 && gmtime_r(&t, &back) && back.tm_year == *y - 1900 &&
	       back.tm_mon == *m - 1 && back.tm_mday == *d;
}
