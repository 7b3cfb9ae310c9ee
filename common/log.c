/*
 * log.c - line-oriented logging to stderr, shared by both processes.
 *
 * One write(2) per line so that lines of the deployer, the receiver and the
 * deploy workers, which share stderr, never interleave mid-line.
 */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *log_role = "tailhook";

void log_init(const char *role)
{
	log_role = role;
}

static int log_copy_fd = -1;

void log_copy_to(int fd)
{
	log_copy_fd = fd;
}

static void log_emit(const char *level, const char *err, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void log_emit(const char *level, const char *err, const char *fmt, va_list ap)
{
	char line[2048];
	int n, m;

	n = snprintf(line, sizeof(line), "tailhook[%s]: level=%s ", log_role, level);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n >= sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	if (err != NULL) {
		m = snprintf(line + n, sizeof(line) - (size_t)n, " error=\"%s\"", err);
		if (m > 0)
			n += m;
		if ((size_t)n >= sizeof(line) - 2)
			n = (int)sizeof(line) - 2;
	}
	line[n++] = '\n';
	/* Nothing useful can be done if stderr (or the copy) is gone. */
	if (log_copy_fd >= 0 && write(log_copy_fd, line, (size_t)n) < 0)
		log_copy_fd = -1;
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit("info", NULL, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *err = strerror(errno);
	va_start(ap, fmt);
	log_emit("warn", err, fmt, ap);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit("warn", NULL, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	va_list ap;
	const char *err = strerror(errno);
	va_start(ap, fmt);
	log_emit("fatal", err, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_emit("fatal", NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

void log_sanitize(char *out, unsigned long outsz, const char *s, unsigned long len)
{
	unsigned long i, o = 0;

	if (outsz == 0)
		return;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int need = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? 1 : 4;
		if (o + (unsigned long)need + 4 > outsz) {
			if (o + 4 <= outsz) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (need == 1)
			out[o++] = (char)c;
		else
			o += (unsigned long)snprintf(out + o, outsz - o, "\\x%02x", c);
	}
	out[o] = '\0';
}
