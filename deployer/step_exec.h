/*
 * step_exec.h - run one deploy step (git, build, rsync) as the site user.
 */
#ifndef TH_STEP_EXEC_H
#define TH_STEP_EXEC_H

#include <stddef.h>

#include "site_user.h"

struct step_ctx {
	const char *site;
	const char *delivery;
	const struct th_user *user; /* NULL: run as ourselves (not root) */
	char *const *envp;          /* the whole environment of the step */
	const char *cwd;
	unsigned timeout; /* seconds */
	int sweep;        /* after the step, kill every process of `user` (see step_exec.c) */
};

struct step_result {
	int ok;
	char status[48];   /* "exit 1", "signal KILL", "timeout after 30s", "exec failed" */
	char capture[128]; /* first line of output, when asked for */
	char tail[512];    /* the last few output lines, " | "-separated, sanitised */
};

/*
 * Runs argv (execvp with envp, no shell) in a new session and process
 * group, stdin from /dev/null, stdout and stderr logged line by line as
 * "event=deploy-output site=.. delivery=.. step=.. line=..".  The whole
 * process group is killed when the step exits or its timeout passes.
 * `want_capture`: keep the first output line in res->capture (and don't
 * log it).
 */
void step_run(const struct step_ctx *ctx, const char *step, char *const argv[], int want_capture,
              struct step_result *res);

/*
 * Like step_run, but the child calls fn(arg) instead of exec'ing a program:
 * filesystem work in directories the site user owns (switching the live
 * symlink, pruning releases) is done as that user, never as root.  fn
 * returns 0 for success and reports problems on stderr, which is logged.
 */
void step_call(const struct step_ctx *ctx, const char *step, int (*fn)(void *), void *arg,
               struct step_result *res);

/*
 * For a SIGTERM handler in the worker (async-signal-safe): kills the
 * running step's process group and makes every later step fail at once
 * with "aborted".
 */
void step_abort(void);

/* 1 once step_abort was called. */
int step_aborted(void);

#endif
