/*
 * bench-mark.c - what the benchmarked tools run instead of /bin/true, so
 * that the benchmark can count and time what they ran.
 *
 *   bench-mark count FILE            append one byte to FILE, exit 0: a
 *                                    /bin/true whose runs can be counted
 *   bench-mark point FILE NAME       append "NAME <CLOCK_MONOTONIC ns>"
 *   bench-mark run FILE NAME CMD...  append "NAME-start <ns>", run CMD,
 *                                    append "NAME-end <ns> <status>", exit
 *                                    with CMD's status
 *
 * Each line is one O_APPEND write, so concurrent runs never mix lines.
 * CLOCK_MONOTONIC is the clock of Python's time.monotonic() on Linux,
 * which the benchmark uses on its side.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int append(const char *file, const char *line, size_t len)
{
	int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	ssize_t n;

	if (fd < 0) {
		fprintf(stderr, "bench-mark: %s: %s\n", file, strerror(errno));
		return -1;
	}
	n = write(fd, line, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static int mark(const char *file, const char *name, const char *suffix, const char *extra)
{
	struct timespec ts;
	char line[256];
	int n;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(line, sizeof(line), "%s%s %lld%s%s\n", name, suffix,
	             (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, extra[0] ? " " : "", extra);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	return append(file, line, (size_t)n);
}

int main(int argc, char **argv)
{
	pid_t pid;
	int status;
	char st[16];

	if (argc == 3 && strcmp(argv[1], "count") == 0) {
		append(argv[2], "1", 1);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "point") == 0)
		return mark(argv[2], argv[3], "", "") < 0;
	if (argc >= 5 && strcmp(argv[1], "run") == 0) {
		mark(argv[2], argv[3], "-start", "");
		pid = fork();
		if (pid < 0)
			return 127;
		if (pid == 0) {
			execvp(argv[4], argv + 4);
			fprintf(stderr, "bench-mark: %s: %s\n", argv[4], strerror(errno));
			_exit(127);
		}
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				return 127;
		status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		snprintf(st, sizeof(st), "%d", status);
		mark(argv[2], argv[3], "-end", st);
		return status;
	}
	fprintf(stderr, "usage: bench-mark count FILE | point FILE NAME | run FILE NAME CMD...\n");
	return 2;
}
