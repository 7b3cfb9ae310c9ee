/*
 * deploy_queue.c - start deploy workers and collapse bursts.
 */
#include "deploy_queue.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deploy_run.h"
#include "log.h"

static void start_worker(struct deployer *d, size_t i, const struct th_msg *m)
{
	struct site_state *ss = &d->sites[i];
	pid_t pid;

	ss->running = *m;
	ss->started_ms = mono_ms();
	pid = fork();
	if (pid < 0) {
		log_warn("event=deploy-failed site=%s delivery=%s step=fork", d->cfg.sites[i].name,
		         m->delivery);
		return;
	}
	if (pid == 0) {
		/* The worker must not touch the parent's event loop or sockets,
		 * and a Ctrl-C meant for the foreground daemon must not kill it
		 * mid-step: the deployer decides when deploys stop. */
		signal(SIGCHLD, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		setsid();
		close_range(3, ~0U, 0);
		_exit(deploy_run(d, i, m));
	}
	ss->worker = pid;
	log_info("event=deploy-start site=%s delivery=%s commit=%s", d->cfg.sites[i].name,
	         m->delivery, m->commit);
}

void deploy_queue_add(struct deployer *d, const struct th_msg *m)
{
	struct site_state *ss = &d->sites[m->site];

	if (d->stopping)
		return;
	if (ss->worker == 0) {
		start_worker(d, m->site, m);
		return;
	}
	ss->queued = *m;
	ss->pending = 1;
	log_info("event=deploy-queued site=%s delivery=%s commit=%s", d->cfg.sites[m->site].name,
	         m->delivery, m->commit);
}

int deploy_queue_reaped(struct deployer *d, pid_t pid, int status)
{
	size_t i;
	struct site_state *ss;

	for (i = 0; i < d->cfg.nsites; i++) {
		ss = &d->sites[i];
		if (ss->worker != pid)
			continue;
		ss->worker = 0;
		/* A worker that did not exit on its own could not log its result. */
		if (WIFSIGNALED(status))
			log_warnx("event=deploy-failed site=%s delivery=%s step=worker "
			          "status=\"signal %d\" duration_ms=%lld",
			          d->cfg.sites[i].name, ss->running.delivery, WTERMSIG(status),
			          mono_ms() - ss->started_ms);
		if (ss->pending && !d->stopping) {
			ss->pending = 0;
			start_worker(d, i, &ss->queued);
		}
		return 1;
	}
	return 0;
}

unsigned deploy_queue_running(const struct deployer *d)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < d->cfg.nsites; i++)
		n += d->sites[i].worker != 0;
	return n;
}
