/*
 * log.h - the one logging API of both processes.
 *
 * Every line goes to stderr as "tailhook[ROLE]: level=L <key=value ...>",
 * which journald and a terminal both read well.  Callers format the rest of
 * the line as key=value pairs and MUST name the site, delivery id and peer
 * when they are known.  Secrets are never passed to these functions.
 */
#ifndef TH_LOG_H
#define TH_LOG_H

#include <stdarg.h>

/* Sets the role shown in every line ("deployer", "receiver", "worker"). */
void log_init(const char *role);

/*
 * Also writes every later line to fd (-1 stops): a deploy worker keeps the
 * lines of its deploy in a file under state-dir.
 */
void log_copy_to(int fd);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_warn appends ": <strerror(errno)>"; log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The one fatal path: logs and exits with status 1. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Copies s into out (size outsz) so that it is safe inside a log line:
 * printable ASCII except '"' and '\\' kept, everything else as \xHH.
 * Always NUL-terminates; truncates with "..." when out is too small.
 */
void log_sanitize(char *out, unsigned long outsz, const char *s, unsigned long len);

#endif
