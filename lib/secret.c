/* secret: see secret.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include "secret.h"

#include "util.h"

/* LeakSanitizer checks a process by ptrace, which PR_SET_DUMPABLE forbids. */
#ifdef __has_feature
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifdef __SANITIZE_ADDRESS__
#define UNDER_ASAN 1
#endif

void secret_protect_process(void)
{
	/* No core file, and no ptrace by other processes of the same user: a
	 * PIN being checked, or a key, would be in the image. */
	struct rlimit none = {0, 0};
	setrlimit(RLIMIT_CORE, &none);
#ifndef UNDER_ASAN
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

void secret_src_init(struct secret_src *s, int fd)
{
	s->fd = fd;
	s->eof = false;
}

bool secret_fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* Byte at a time, so nothing past this line is consumed from a shared fd. */
static int read_line(int fd, char *buf, size_t n, bool *eof)
{
	size_t len = 0;
	bool too_long = false;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*eof = true;
			if (len == 0 && !too_long)
				return -1;
			break;
		}
		if (c == '\n')
			break;
		if (len + 1 < n)
			buf[len++] = c;
		else
			too_long = true;
	}
	if (len && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return too_long ? -2 : 0;
}

int secret_read(struct secret_src *s, const char *prompt, char *buf, size_t n, struct err *e)
{
	int rc;
	if (s->fd >= 0) {
		if (s->eof)
			return err_fail(e, ERR_FAIL, "no_secret", "no more lines on the secret file descriptor %d",
			                s->fd);
		rc = read_line(s->fd, buf, n, &s->eof);
		if (rc == -1)
			return err_fail(e, ERR_FAIL, "no_secret", "no more lines on the secret file descriptor %d",
			                s->fd);
	} else {
		int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (tty < 0)
			return err_fail(e, ERR_FAIL, "no_secret",
			                "no terminal to ask on; pass the secret with --pin-fd N (or --pan-fd N)");
		struct termios old, quiet;
		bool restore = tcgetattr(tty, &old) == 0;
		if (restore) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
			tcsetattr(tty, TCSAFLUSH, &quiet);
		}
		if (write(tty, prompt, strlen(prompt)) < 0) {
			/* nothing to do: the read below still works */
		}
		bool eof = false;
		rc = read_line(tty, buf, n, &eof);
		if (restore)
			tcsetattr(tty, TCSAFLUSH, &old);
		if (write(tty, "\n", 1) < 0) {
			/* as above */
		}
		close(tty);
		if (rc == -1)
			return err_fail(e, ERR_FAIL, "no_secret", "no answer on the terminal");
	}
	if (rc == -2) {
		memset(buf, 0, n);
		return err_fail(e, ERR_FAIL, "bad_secret", "the secret line is longer than %zu characters", n - 1);
	}
	return 0;
}
