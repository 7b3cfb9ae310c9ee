/*
 * test_fuzz_regressions.c - every seed and every input that ever crashed
 * a fuzz target, replayed through the same harness code without clang.
 *
 * For each target NAME, every file of fuzz/corpus/NAME/ and (when it
 * exists) fuzz/crashes/NAME/ goes through fuzz_NAME_one (fuzz/fuzz_NAME.c,
 * compiled with -DFUZZ_NO_MAIN; see fuzz/fuzz.mk).  Each file runs in a
 * child process, so a crash or a broken harness invariant (abort) fails
 * the test and names the file, with the child's stderr.  Run from the
 * repository root (FUZZ_DIR overrides "fuzz").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"

/* How much of a failed child's stderr to show (the end of it). */
#define STDERR_KEEP 2000

struct target {
	const char *name;
	int (*one)(const uint8_t *data, size_t size);
};

static const char *fuzz_dir(void)
{
	const char *d = getenv("FUZZ_DIR");
	return d != NULL && *d != '\0' ? d : "fuzz";
}

/* Reads a whole file; never returns NULL data, even for an empty file. */
static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	while (buf != NULL && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (buf != NULL && got != (size_t)st.st_size) {
		free(buf);
		return NULL;
	}
	*len = got;
	return buf;
}

/* Prints the end of what the child wrote to stderr. */
static void show_stderr(int fd)
{
	char buf[STDERR_KEEP + 1];
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > STDERR_KEEP ? end - STDERR_KEEP : 0;
	ssize_t n = pread(fd, buf, STDERR_KEEP, from);

	if (n > 0) {
		buf[n] = '\0';
		print_message("%s%s\n", from > 0 ? "...\n" : "", buf);
	}
}

/* Runs one input in a child; returns 1 if it passed. */
static int run_one(const struct target *t, const char *path)
{
	char errpath[] = "/tmp/tailhook-fuzz-regress-XXXXXX";
	int errfd = mkstemp(errpath);
	int status = 0, ok;
	pid_t pid;

	if (errfd < 0) {
		print_error("%s: cannot create a temp file\n", path);
		return 0;
	}
	unlink(errpath);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		size_t len = 0;
		uint8_t *data = slurp(path, &len);

		/* cmocka's handlers would turn a crash into a failure of the whole suite. */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		signal(SIGFPE, SIG_DFL);
		signal(SIGILL, SIG_DFL);
		signal(SIGSYS, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		signal(SIGPIPE, SIG_IGN);
		dup2(errfd, STDERR_FILENO);
		if (data == NULL) {
			fprintf(stderr, "cannot read %s\n", path);
			exit(3);
		}
		t->one(data, len);
		free(data);
		exit(0); /* not _exit: the harnesses clean up in atexit handlers */
	}
	ok = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	     WEXITSTATUS(status) == 0;
	if (!ok) {
		if (pid > 0 && WIFSIGNALED(status))
			print_error("%s: %s harness killed by signal %d\n", path, t->name,
			            WTERMSIG(status));
		else
			print_error("%s: %s harness failed (status %d)\n", path, t->name, status);
		show_stderr(errfd);
	}
	close(errfd);
	return ok;
}

/* Runs every file of dir; returns the number of failures, counts files in *n. */
static int run_dir(const struct target *t, const char *dir, size_t *n)
{
	struct dirent **names;
	char path[4096];
	int count, failed = 0;

	count = scandir(dir, &names, NULL, alphasort);
	if (count < 0)
		return -1;
	for (int i = 0; i < count; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			(*n)++;
			failed += !run_one(t, path);
		}
		free(names[i]);
	}
	free(names);
	return failed;
}

static void run_target(void **state)
{
	const struct target *t = *state;
	char corpus[1024], crashes[1024];
	size_t seeds = 0, crashed = 0;
	int failed, crash_failed;

	snprintf(corpus, sizeof(corpus), "%s/corpus/%s", fuzz_dir(), t->name);
	snprintf(crashes, sizeof(crashes), "%s/crashes/%s", fuzz_dir(), t->name);
	failed = run_dir(t, corpus, &seeds);
	if (failed < 0)
		fail_msg("%s: cannot read the corpus directory", corpus);
	/* No crashes directory just means nothing has crashed this target yet. */
	crash_failed = run_dir(t, crashes, &crashed);
	if (crash_failed > 0)
		failed += crash_failed;
	print_message("%s: %zu corpus files, %zu crash files, %d failed\n", t->name, seeds, crashed,
	              failed);
	assert_true(seeds > 0);
	assert_int_equal(failed, 0);
}

static const struct target targets[] = {
    {"json_push", fuzz_json_push_one},
    {"form", fuzz_form_one},
    {"http_req", fuzz_http_req_one},
    {"signature", fuzz_signature_one},
    {"msg", fuzz_msg_one},
    {"config", fuzz_config_one},
    {"tls", fuzz_tls_one},
};

int main(void)
{
	struct CMUnitTest tests[sizeof(targets) / sizeof(targets[0])];

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = targets[i].name;
		tests[i].test_func = run_target;
		tests[i].initial_state = (void *)&targets[i];
	}
	return _cmocka_run_group_tests("fuzz_regressions", tests, sizeof(tests) / sizeof(tests[0]),
	                               NULL, NULL);
}
