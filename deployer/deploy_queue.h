/*
 * deploy_queue.h - one running deploy per site, at most one pending.
 *
 * Any number of requests for a site while it deploys collapse into one
 * follow-up deploy, which fetches the branch tip at its own start and so
 * includes every push that arrived meanwhile.
 */
#ifndef TH_DEPLOY_QUEUE_H
#define TH_DEPLOY_QUEUE_H

#include "deployer.h"

/* A validated request: start a deploy of m->site or queue one. */
void deploy_queue_add(struct deployer *d, const struct th_msg *m);

/* Called from the SIGCHLD handler; returns 1 if pid was a deploy worker. */
int deploy_queue_reaped(struct deployer *d, pid_t pid, int status);

/* Number of deploys running now. */
unsigned deploy_queue_running(const struct deployer *d);

#endif
