/*
 * step_exec.c - fork, drop to the site user, exec, capture, time out.
 */
#include "step_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

extern char **environ;

#define TAIL_LINES 4

struct linebuf {
	char buf[1024];
	size_t len;
	int captured;
	char tail[TAIL_LINES][160]; /* ring of the last lines, for a failure report */
	unsigned ntail;
	size_t logged; /* about how many bytes this step's lines took in the log */
};

/* A runaway build must not fill the journal or the disk (state-dir keeps
 * each deploy's log): past this much, a step's output is only counted. */
#define STEP_LOG_MAX (1u << 20)

/* The step's process group while it runs; read by step_abort in a handler. */
static volatile sig_atomic_t running_pid;
static volatile sig_atomic_t aborted;

void step_abort(void)
{
	aborted = 1;
	if (running_pid > 0) {
		/* The pid too: the child may not have called setsid yet. */
		kill(-(pid_t)running_pid, SIGKILL);
		kill((pid_t)running_pid, SIGKILL);
	}
}

int step_aborted(void)
{
	return aborted != 0;
}

/* In the child: session, stdio, user, death signal, directory. */
static void child_setup(const struct step_ctx *ctx, int out, pid_t parent)
{
	int null = open("/dev/null", O_RDONLY);

	if (null < 0 || setsid() < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(126);
	close_range(3, ~0U, 0);
	if (ctx->user != NULL && user_become(ctx->user) < 0) {
		dprintf(2, "tailhook: cannot switch to user %s\n", ctx->user->name);
		_exit(126);
	}
	/* Set after the user switch, which would clear it: if the worker dies,
	 * the step dies too instead of running on as an orphan. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(126);
	if (chdir(ctx->cwd) < 0) {
		dprintf(2, "tailhook: cannot enter %s: %s\n", ctx->cwd, strerror(errno));
		_exit(126);
	}
}

/* The guard's death signal: take the whole process group along. */
static void guard_orphaned(int sig)
{
	(void)sig;
	kill(0, SIGKILL);
}

/* Ends the guard the way the step ended, so the worker sees its status. */
static void guard_exit_like(int status)
{
	if (WIFSIGNALED(status)) {
		signal(WTERMSIG(status), SIG_DFL);
		kill(getpid(), WTERMSIG(status));
	}
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 126);
}

/*
 * The step's first process stays as a guard, the leader of its process
 * group, and runs the program in a child.  If the worker dies (kill -9 of
 * the deployer), the kernel signals the guard, which kills the whole group:
 * a build's own children never outlive their deploy, not even to write
 * into a checkout that the next deploy is using.
 */
static void child(const struct step_ctx *ctx, char *const argv[], int out, pid_t parent)
{
	struct sigaction sa;
	int status;
	pid_t pid;

	child_setup(ctx, out, parent);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = guard_orphaned;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 ||
	    getppid() != parent)
		_exit(126);
	pid = fork();
	if (pid < 0)
		_exit(126);
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		prctl(PR_SET_PDEATHSIG, 0);
		/* execvp searches the step's own PATH, not the deployer's. */
		environ = (char **)ctx->envp;
		execvp(argv[0], argv);
		dprintf(2, "tailhook: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			_exit(126);
	guard_exit_like(status);
}

static void emit_line(const struct step_ctx *ctx, const char *step, struct linebuf *lb,
                      int want_capture, struct step_result *res)
{
	char clean[600];

	if (want_capture && !lb->captured) {
		lb->captured = 1;
		snprintf(res->capture, sizeof(res->capture), "%.*s", (int)lb->len, lb->buf);
		return;
	}
	log_sanitize(clean, sizeof(clean), lb->buf, lb->len);
	snprintf(lb->tail[lb->ntail++ % TAIL_LINES], sizeof(lb->tail[0]), "%.*s",
	         (int)sizeof(lb->tail[0]) - 1, clean);
	/* Each line also carries the event, site and delivery: ~128 bytes. */
	lb->logged += lb->len + 128;
	if (lb->logged > STEP_LOG_MAX) {
		if (lb->logged - (lb->len + 128) <= STEP_LOG_MAX)
			log_warnx("event=deploy-output site=%s delivery=%s step=%s "
			          "line=\"[more output not logged: over %u bytes of log]\"",
			          ctx->site, ctx->delivery, step, STEP_LOG_MAX);
		return;
	}
	log_info("event=deploy-output site=%s delivery=%s step=%s line=\"%s\"", ctx->site,
	         ctx->delivery, step, clean);
}

/* Splits what arrived into lines; over-long lines are cut, not lost. */
static void take_output(const struct step_ctx *ctx, const char *step, struct linebuf *lb,
                        const char *p, size_t n, int want_capture, struct step_result *res)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n' || lb->len == sizeof(lb->buf)) {
			emit_line(ctx, step, lb, want_capture, res);
			lb->len = 0;
			if (p[i] == '\n')
				continue;
		}
		lb->buf[lb->len++] = p[i];
	}
}

/* The ring of last lines, oldest first, into res->tail. */
static void keep_tail(const struct linebuf *lb, struct step_result *res)
{
	unsigned i, first = lb->ntail > TAIL_LINES ? lb->ntail - TAIL_LINES : 0;
	size_t pos = 0;

	res->tail[0] = '\0';
	for (i = first; i < lb->ntail && pos < sizeof(res->tail); i++) {
		int n = snprintf(res->tail + pos, sizeof(res->tail) - pos, "%s%s",
		                 i == first ? "" : " | ", lb->tail[i % TAIL_LINES]);
		if (n < 0)
			break;
		pos += (size_t)n;
	}
}

static void set_status(struct step_result *res, int status)
{
	res->ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (WIFEXITED(status))
		snprintf(res->status, sizeof(res->status), "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(res->status, sizeof(res->status), "signal %d", WTERMSIG(status));
}

static void watch(const struct step_ctx *ctx, const char *step, pid_t pid, int fd, int want_capture,
                  struct step_result *res)
{
	long long deadline = mono_ms() + (long long)ctx->timeout * 1000;
	static struct linebuf lb;
	struct pollfd pfd = {fd, POLLIN, 0};
	char buf[4096];
	int status = 0, open_pipe = 1;
	ssize_t n;

	memset(&lb, 0, sizeof(lb));
	while (open_pipe) {
		long long left = deadline - mono_ms();
		if (aborted)
			step_abort();
		if (left <= 0) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(res->status, sizeof(res->status), "timeout after %us",
			         ctx->timeout);
			res->ok = 0;
			goto out;
		}
		if (poll(&pfd, 1, left > 1000 ? 1000 : (int)left) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n > 0)
			take_output(ctx, step, &lb, buf, (size_t)n, want_capture, res);
		else if (n == 0 || errno != EINTR)
			open_pipe = 0;
	}
	waitpid(pid, &status, 0);
	set_status(res, status);
out:
	/* Nothing the step started may outlive it. */
	kill(-pid, SIGKILL);
	running_pid = 0;
	if (lb.len > 0)
		emit_line(ctx, step, &lb, want_capture, res);
	keep_tail(&lb, res);
	if (aborted) {
		res->ok = 0;
		snprintf(res->status, sizeof(res->status), "aborted: tailhook is stopping");
	}
}

/*
 * A process group cannot hold a step that calls setsid(): a build could
 * leave a daemon behind that way.  When the site user is the site's own
 * (no other site and not the receiver), every process of that user after
 * the step is a leftover, and kill(-1) as that user removes them all.
 */
static void sweep_user(const struct step_ctx *ctx)
{
	pid_t pid;

	if (!ctx->sweep || ctx->user == NULL)
		return;
	pid = fork();
	if (pid == 0) {
		if (user_become(ctx->user) == 0)
			kill(-1, SIGKILL);
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

/* Forks with a pipe for the output; in the child calls run(argv or fn). */
static void spawn(const struct step_ctx *ctx, const char *step, char *const argv[],
                  int (*fn)(void *), void *arg, int want_capture, struct step_result *res)
{
	int p[2];
	pid_t pid, parent = getpid();

	memset(res, 0, sizeof(*res));
	snprintf(res->status, sizeof(res->status),
	         aborted ? "aborted: tailhook is stopping" : "exec failed");
	if (aborted || pipe2(p, O_CLOEXEC) < 0)
		return;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid == 0 && fn == NULL)
		child(ctx, argv, p[1], parent);
	if (pid == 0) {
		child_setup(ctx, p[1], parent);
		_exit(fn(arg) == 0 ? 0 : 1);
	}
	running_pid = pid;
	/* A SIGTERM that came between the check above and the fork. */
	if (aborted)
		step_abort();
	close(p[1]);
	watch(ctx, step, pid, p[0], want_capture, res);
	close(p[0]);
	sweep_user(ctx);
}

void step_run(const struct step_ctx *ctx, const char *step, char *const argv[], int want_capture,
              struct step_result *res)
{
	spawn(ctx, step, argv, NULL, NULL, want_capture, res);
}

void step_call(const struct step_ctx *ctx, const char *step, int (*fn)(void *), void *arg,
               struct step_result *res)
{
	spawn(ctx, step, NULL, fn, arg, 0, res);
}
