/*
 * deploy_queue.c - start deploy workers and collapse bursts.
 */
#include "deploy_queue.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "log.h"

pid_t deploy_fork(struct deployer *d, size_t i, const struct th_msg *m, enum deploy_kind kind)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	/* The worker must not touch the parent's event loop or sockets,
	 * and a Ctrl-C meant for the foreground daemon must not kill it
	 * mid-step: the deployer decides when deploys stop. */
	signal(SIGCHLD, SIG_DFL);
	/* Until deploy_run installs its own handler: libevent's would write
	 * to the parent's signal pipe, which close_range closes below. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	setsid();
	close_range(3, ~0U, 0);
	_exit(deploy_run(d, i, m, kind));
}

static void start_worker(struct deployer *d, size_t i, const struct th_msg *m,
                         enum deploy_kind kind)
{
	struct site_state *ss = &d->sites[i];
	pid_t pid;

	ss->running = *m;
	ss->started_ms = mono_ms();
	ss->starts++;
	pid = deploy_fork(d, i, m, kind);
	if (pid < 0) {
		log_warn("event=deploy-failed site=%s delivery=%s step=fork", d->cfg.sites[i].name,
		         m->delivery);
		control_deploy_ended(d, i, ss->starts, DEPLOY_FAILED);
		return;
	}
	ss->worker = pid;
	ss->kind = (int)kind;
	if (kind == DEPLOY_CATCHUP)
		log_info("event=catch-up-start site=%s", d->cfg.sites[i].name);
	else
		log_info("event=deploy-start site=%s delivery=%s commit=%s", d->cfg.sites[i].name,
		         m->delivery, m->commit);
}

void deploy_queue_add(struct deployer *d, const struct th_msg *m)
{
	struct site_state *ss = &d->sites[m->site];

	if (d->stopping)
		return;
	if (ss->worker == 0) {
		start_worker(d, m->site, m, DEPLOY_PUSH);
		return;
	}
	ss->queued = *m;
	ss->pending = 1;
	ss->pending_kind = DEPLOY_PUSH;
	log_info("event=deploy-queued site=%s delivery=%s commit=%s", d->cfg.sites[m->site].name,
	         m->delivery, m->commit);
}

static void internal_msg(struct th_msg *m, size_t i, const char *delivery)
{
	memset(m, 0, sizeof(*m));
	m->magic = TH_MSG_MAGIC;
	m->version = TH_MSG_VERSION;
	m->site = (uint16_t)i;
	memset(m->commit, '0', TH_COMMIT_HEX);
	snprintf(m->delivery, sizeof(m->delivery), "%s", delivery);
}

void deploy_queue_catch_up(struct deployer *d)
{
	struct th_msg m;
	size_t i;

	for (i = 0; i < d->cfg.nsites; i++) {
		if (d->sites[i].worker != 0)
			continue;
		internal_msg(&m, i, "catch-up");
		start_worker(d, i, &m, DEPLOY_CATCHUP);
	}
}

#define CATCH_UP_RETRY_MS     30000LL
#define CATCH_UP_RETRY_MAX_MS 900000LL
#define CATCH_UP_TICK_S       5

static void catch_up_tick(evutil_socket_t fd, short what, void *arg)
{
	struct deployer *d = arg;
	struct th_msg m;
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; i < d->cfg.nsites && !d->stopping; i++) {
		struct site_state *ss = &d->sites[i];
		if (ss->catch_up_due_ms == 0 || ss->worker != 0 || mono_ms() < ss->catch_up_due_ms)
			continue;
		ss->catch_up_due_ms = 0;
		internal_msg(&m, i, "catch-up");
		start_worker(d, i, &m, DEPLOY_CATCHUP);
	}
}

void deploy_queue_init(struct deployer *d)
{
	struct timeval tv = {CATCH_UP_TICK_S, 0};

	d->catch_up_ev = event_new(d->base, -1, EV_PERSIST, catch_up_tick, d);
	if (d->catch_up_ev == NULL || event_add(d->catch_up_ev, &tv) < 0)
		fatalx("event=setup reason=\"cannot create the catch-up timer\"");
}

/* The remote could not be asked: try again later, less and less often. */
static void catch_up_later(struct deployer *d, size_t i)
{
	struct site_state *ss = &d->sites[i];
	long long delay = CATCH_UP_RETRY_MS << (ss->catch_up_tries < 5 ? ss->catch_up_tries : 5);

	if (delay > CATCH_UP_RETRY_MAX_MS)
		delay = CATCH_UP_RETRY_MAX_MS;
	ss->catch_up_tries++;
	ss->catch_up_due_ms = mono_ms() + delay;
	log_warnx("event=catch-up-retry site=%s in_ms=%lld tries=%u", d->cfg.sites[i].name, delay,
	          ss->catch_up_tries);
}

unsigned long long deploy_queue_manual(struct deployer *d, size_t i, int *queued)
{
	struct site_state *ss = &d->sites[i];
	struct th_msg m;

	internal_msg(&m, i, "manual");
	*queued = ss->worker != 0;
	if (!*queued) {
		start_worker(d, i, &m, DEPLOY_MANUAL);
		return ss->starts;
	}
	ss->queued = m;
	ss->pending = 1;
	ss->pending_kind = DEPLOY_MANUAL;
	log_info("event=deploy-queued site=%s delivery=manual", d->cfg.sites[i].name);
	return ss->starts + 1;
}

static int detached_reaped(struct deployer *d, pid_t pid)
{
	size_t i;

	for (i = 0; i < d->ndetached; i++) {
		if (d->detached[i] != pid)
			continue;
		d->detached[i] = d->detached[--d->ndetached];
		return 1;
	}
	return 0;
}

/* A worker that did not exit on its own could not log its result. */
static void log_reaped(struct deployer *d, size_t i, int status)
{
	struct site_state *ss = &d->sites[i];

	if (ss->kind == DEPLOY_CATCHUP)
		log_info("event=catch-up-end site=%s status=%d", d->cfg.sites[i].name,
		         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	if (ss->kind == DEPLOY_CATCHUP && WIFEXITED(status) &&
	    WEXITSTATUS(status) == DEPLOY_CHECK_FAIL)
		catch_up_later(d, i);
	else if (WIFEXITED(status) && WEXITSTATUS(status) == DEPLOY_OK) {
		/* A deploy fetched and published the tip: no retry is needed. */
		ss->catch_up_tries = 0;
		ss->catch_up_due_ms = 0;
	}
	if (WIFSIGNALED(status))
		log_warnx("event=deploy-failed site=%s delivery=%s step=worker "
		          "status=\"signal %d\" duration_ms=%lld",
		          d->cfg.sites[i].name, ss->running.delivery, WTERMSIG(status),
		          mono_ms() - ss->started_ms);
}

int deploy_queue_reaped(struct deployer *d, pid_t pid, int status)
{
	size_t i;
	struct site_state *ss;

	if (detached_reaped(d, pid))
		return 1;
	for (i = 0; i < d->cfg.nsites; i++) {
		ss = &d->sites[i];
		if (ss->worker != pid)
			continue;
		ss->worker = 0;
		log_reaped(d, i, status);
		control_deploy_ended(d, i, ss->starts,
		                     WIFEXITED(status) ? WEXITSTATUS(status) : DEPLOY_FAILED);
		if (ss->pending && !d->stopping) {
			ss->pending = 0;
			start_worker(d, i, &ss->queued, (enum deploy_kind)ss->pending_kind);
		}
		return 1;
	}
	return 0;
}

unsigned deploy_queue_running(const struct deployer *d)
{
	unsigned n = (unsigned)d->ndetached;
	size_t i;

	for (i = 0; i < d->cfg.nsites; i++)
		n += d->sites[i].worker != 0;
	return n;
}

void deploy_queue_drop_pending(struct deployer *d)
{
	size_t i;

	for (i = 0; i < d->cfg.nsites; i++) {
		if (!d->sites[i].pending)
			continue;
		d->sites[i].pending = 0;
		log_info("event=deploy-dropped site=%s delivery=%s reason=\"stopping; the next "
		         "start catches up\"",
		         d->cfg.sites[i].name, d->sites[i].queued.delivery);
		control_deploy_ended(d, i, d->sites[i].starts + 1, -1);
	}
}

void deploy_queue_abort(struct deployer *d)
{
	size_t i;

	for (i = 0; i < d->cfg.nsites; i++)
		if (d->sites[i].worker > 0) {
			log_warnx("event=deploy-abort site=%s delivery=%s", d->cfg.sites[i].name,
			          d->sites[i].running.delivery);
			kill(d->sites[i].worker, SIGTERM);
		}
	for (i = 0; i < d->ndetached; i++)
		kill(d->detached[i], SIGTERM);
}

unsigned deploy_queue_max_timeout(const struct deployer *d)
{
	unsigned t = 0;
	size_t i;

	for (i = 0; i < d->cfg.nsites; i++)
		if (d->sites[i].worker > 0 && d->cfg.sites[i].timeout > t)
			t = d->cfg.sites[i].timeout;
	return d->ndetached > 0 && t == 0 ? 900 : t;
}

struct site_state *deploy_queue_remap(struct deployer *d, const struct th_config *cfg)
{
	struct site_state *n = calloc(cfg->nsites, sizeof(*n));
	size_t i;
	int j;

	if (n == NULL)
		return NULL;
	for (i = 0; i < d->cfg.nsites; i++) {
		j = config_site_index(cfg, d->cfg.sites[i].name);
		if (j >= 0) {
			n[j] = d->sites[i];
			n[j].running.site = n[j].queued.site = (uint16_t)j;
			continue;
		}
		if (d->sites[i].worker > 0 && d->ndetached < TH_MAX_SITES)
			d->detached[d->ndetached++] = d->sites[i].worker;
		control_site_removed(d, i);
	}
	return n;
}
