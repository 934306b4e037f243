/* err: see err.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "err.h"
#include "utf8.h"

#include "util.h"

const char *err_progname = "wpay";
void (*err_before_message)(void);

int err_fail(struct err *e, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	utf8_scrub(e->msg);
	return status;
}

void err_put_message(const char *s, FILE *f)
{
	const unsigned char *u = (const unsigned char *)s;
	for (; *u; u++) {
		if (*u < 0x20 || *u == 0x7f)
			fprintf(f, "\\x%02x", *u);
		else if (u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f)
			fprintf(f, "\\u%04x", u[1]), u++; /* C1: CSI without an ESC */
		else if (u[0] == 0xe2 && ((u[1] == 0x80 && u[2] >= 0xaa && u[2] <= 0xae) ||
		                          (u[1] == 0x81 && u[2] >= 0xa6 && u[2] <= 0xa9)))
			fprintf(f, "\\u%04x", 0x2000 + ((u[1] & 0x3f) << 6) + (u[2] & 0x3f)), u += 2; /* bidi */
		else
			fputc(*u, f);
	}
}

void err_vwarn(const char *fmt, va_list ap)
{
	if (err_before_message)
		err_before_message();
	char buf[4096];
	vsnprintf(buf, sizeof buf, fmt, ap);
	fprintf(stderr, "%s: ", err_progname);
	err_put_message(buf, stderr);
	fputc('\n', stderr);
}

void err_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vwarn(fmt, ap);
	va_end(ap);
}

noreturn void err_die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vwarn(fmt, ap);
	va_end(ap);
	err_exit(status);
}

noreturn void err_exit(int status)
{
	if (fflush(stdout) != 0 && status == 0)
		status = EX_IOERR;
	exit(status);
}
