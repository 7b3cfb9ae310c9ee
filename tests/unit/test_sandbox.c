/*
 * test_sandbox.c - the receiver's real seccomp filter kills forbidden calls.
 *
 * Each case forks a child, installs the filter with the same function the
 * receiver calls (sandbox_seccomp), then attempts one syscall.  The parent
 * checks how the child died.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox.h"

typedef void (*attempt_fn)(int fd);

static int s_socket_fd = -1;

static void try_open(int fd)
{
	(void)fd;
	syscall(SYS_open, "/etc/hostname", O_RDONLY);
}
static void try_openat(int fd)
{
	(void)fd;
	openat(AT_FDCWD, "/etc/hostname", O_RDONLY);
}
static void try_execve(int fd)
{
	char *const argv[] = {"true", NULL};
	(void)fd;
	execve("/bin/true", argv, argv + 1);
}
static void try_socket(int fd)
{
	(void)fd;
	socket(AF_INET, SOCK_STREAM, 0);
}
static void try_connect(int fd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	connect(fd, (struct sockaddr *)&sa, sizeof(sa));
}
static void try_fork(int fd)
{
	(void)fd;
	syscall(SYS_fork);
}
static void try_clone(int fd)
{
	(void)fd;
	syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
}
static void try_ptrace(int fd)
{
	(void)fd;
	ptrace(PTRACE_TRACEME, 0, 0, 0);
}
static void try_setuid(int fd)
{
	(void)fd;
	syscall(SYS_setuid, 0);
}
static void try_mmap_exec(int fd)
{
	(void)fd;
	syscall(SYS_mmap, 0, 4096, 7 /* RWX */, 0x22 /* PRIVATE|ANON */, -1, 0);
}

/* Forks, sandboxes the child, runs f; returns the child's wait status. */
static int run_sandboxed(attempt_fn f, int debug, int errpipe)
{
	pid_t pid = fork();
	int status = 0;

	if (pid == 0) {
		if (errpipe >= 0)
			dup2(errpipe, 2);
		if (debug)
			setenv("TAILHOOK_SECCOMP_DEBUG", "1", 1);
		else
			unsetenv("TAILHOOK_SECCOMP_DEBUG");
		if (sandbox_seccomp() < 0)
			_exit(99);
		f(s_socket_fd);
		_exit(0); /* only reached if the call was allowed */
	}
	waitpid(pid, &status, 0);
	return status;
}

static void expect_sigsys(attempt_fn f)
{
	int status = run_sandboxed(f, 0, -1);

	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void test_open_killed(void **state)
{
	(void)state;
	expect_sigsys(try_open);
	expect_sigsys(try_openat);
}
static void test_execve_killed(void **state)
{
	(void)state;
	expect_sigsys(try_execve);
}
static void test_socket_connect_killed(void **state)
{
	(void)state;
	expect_sigsys(try_socket);
	expect_sigsys(try_connect);
}
static void test_fork_clone_killed(void **state)
{
	(void)state;
	expect_sigsys(try_fork);
	expect_sigsys(try_clone);
}
static void test_ptrace_setuid_killed(void **state)
{
	(void)state;
	expect_sigsys(try_ptrace);
	expect_sigsys(try_setuid);
}
static void test_exec_memory_killed(void **state)
{
	(void)state;
	expect_sigsys(try_mmap_exec);
}

/* The event loop's own needs stay allowed: memory, time, writes, close. */
static void do_allowed(int fd)
{
	struct timespec ts;
	char *big = malloc(8 << 20);
	int p = fd;

	if (big == NULL)
		_exit(2);
	char *bigger;

	memset(big, 1, 8 << 20);
	bigger = realloc(big, 16 << 20);
	free(bigger != NULL ? bigger : big);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (write(p, "x", 1) != 1)
		_exit(3);
	close(p);
}

static void test_allowed_calls_survive(void **state)
{
	int p[2], status;
	char c = 0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	s_socket_fd = p[1];
	status = run_sandboxed(do_allowed, 0, -1);
	s_socket_fd = -1;
	close(p[1]);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(c, 'x');
	close(p[0]);
}

/* Debug mode traps instead of killing, and names the syscall. */
static void test_debug_mode_names_syscall(void **state)
{
	int p[2], status;
	char buf[512] = "";
	ssize_t n, got = 0;

	(void)state;
	assert_int_equal(pipe(p), 0);
	status = run_sandboxed(try_openat, 1, p[1]);
	close(p[1]);
	while ((n = read(p[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += n;
	close(p[0]);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	assert_non_null(strstr(buf, "event=seccomp-violation syscall=openat"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_killed),
	    cmocka_unit_test(test_execve_killed),
	    cmocka_unit_test(test_socket_connect_killed),
	    cmocka_unit_test(test_fork_clone_killed),
	    cmocka_unit_test(test_ptrace_setuid_killed),
	    cmocka_unit_test(test_exec_memory_killed),
	    cmocka_unit_test(test_allowed_calls_survive),
	    cmocka_unit_test(test_debug_mode_names_syscall),
	};
	int sock = socket(AF_INET, SOCK_STREAM, 0);

	/* connect needs a socket made before the filter is installed. */
	s_socket_fd = sock;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
