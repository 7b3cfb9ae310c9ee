/*
 * deploy_queue.h - one running deploy per site, at most one pending.
 *
 * Any number of requests for a site while it deploys collapse into one
 * follow-up deploy, which fetches the branch tip at its own start and so
 * includes every push that arrived meanwhile.
 */
#ifndef TH_DEPLOY_QUEUE_H
#define TH_DEPLOY_QUEUE_H

#include "deploy_run.h"
#include "deployer.h"

/* A validated request: start a deploy of m->site or queue one. */
void deploy_queue_add(struct deployer *d, const struct th_msg *m);

/*
 * Start-up catch-up: for every site, a worker asks the remote for the
 * branch tip and deploys it unless it is live already.
 */
void deploy_queue_catch_up(struct deployer *d);

/*
 * A catch-up that could not ask the remote (network down at boot) is
 * retried after 30 s, then with doubling delays up to 15 minutes, until
 * it gets an answer: a push acknowledged before a crash is never dropped
 * because the remote was briefly unreachable.  Creates the retry timer.
 */
void deploy_queue_init(struct deployer *d);

/*
 * tailhook -t: starts or queues a deploy of site i.  Returns the number
 * (site_state.starts) the deploy that will serve the request gets, and
 * sets *queued when it waits behind a running one.
 */
unsigned long long deploy_queue_manual(struct deployer *d, size_t i, int *queued);

/* Forks a worker for site i (also used by a one-shot tailhook -t); -1 on error. */
pid_t deploy_fork(struct deployer *d, size_t i, const struct th_msg *m, enum deploy_kind kind);

/* Called from the SIGCHLD handler; returns 1 if pid was a deploy worker. */
int deploy_queue_reaped(struct deployer *d, pid_t pid, int status);

/* Number of deploys running now. */
unsigned deploy_queue_running(const struct deployer *d);

/* Stopping: forgets pending deploys (the next start catches up). */
void deploy_queue_drop_pending(struct deployer *d);

/* SIGTERMs every worker: each kills its running step's process group. */
void deploy_queue_abort(struct deployer *d);

/* The longest timeout among sites with a running deploy, in seconds. */
unsigned deploy_queue_max_timeout(const struct deployer *d);

/*
 * After a reload: builds the per-site table for `cfg` from the current
 * one, matching sites by name.  Workers of removed sites are detached
 * (still reaped).  Returns the new table (the caller installs it with the
 * new config), or NULL if out of memory.
 */
struct site_state *deploy_queue_remap(struct deployer *d, const struct th_config *cfg);

#endif
