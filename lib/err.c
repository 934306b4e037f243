/* err: see err.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sysexits.h>

#include "err.h"

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
	return status;
}

void err_vwarn(const char *fmt, va_list ap)
{
	if (err_before_message)
		err_before_message();
	fprintf(stderr, "%s: ", err_progname);
	vfprintf(stderr, fmt, ap);
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
