/*
 * receiver_proc.c - the receiver's life cycle, seen from the deployer.
 *
 * The receiver is a fresh exec of build/tailhook-receiver (a new address
 * space: nothing of the deployer's memory, config or heap layout is
 * inherited).  If the current receiver dies for any reason it is
 * restarted: the first time within a second, then with exponential
 * back-off up to 30 s while it keeps dying young.  After a reload, the old
 * receiver drains while a new one serves (receiver_replace).
 */
#include "receiver_proc.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "from_receiver.h"
#include "log.h"
#include "setup_blob.h"
#include "setup_send.h"

#define RESTART_FIRST_MS 200
#define RESTART_MAX_MS   30000
#define HEALTHY_AFTER_MS 10000
#define DRAIN_GRACE_S    5

/* In the child: move fds to their fixed numbers and exec the receiver. */
static void exec_receiver(const struct deployer *d, int sock, int setup)
{
	int tmp[2 + TH_MAX_LISTEN];
	size_t i, n = 0;
	char *const argv[] = {"tailhook-receiver", NULL};
	char dbg[40] = "TAILHOOK_SECCOMP_DEBUG=";
	const char *dv = getenv("TAILHOOK_SECCOMP_DEBUG");
	char *envp[] = {dbg, NULL};

	/* Park every fd above the target range first so dup2 cannot clobber one. */
	tmp[n++] = fcntl(sock, F_DUPFD, 100);
	tmp[n++] = fcntl(setup, F_DUPFD, 100);
	for (i = 0; i < d->nlisten; i++)
		tmp[n++] = fcntl(d->listen_fds[i], F_DUPFD, 100);
	for (i = 0; i < n; i++)
		if (tmp[i] < 0 || dup2(tmp[i], TH_FD_SOCKPAIR + (int)i) < 0)
			_exit(126);
	close_range(TH_FD_SOCKPAIR + (unsigned)n, ~0U, 0);
	/* Its own session: a terminal's Ctrl-C stops the deployer, which then
	 * stops the receiver in order. */
	setsid();
	if (dv != NULL && strcmp(dv, "1") == 0)
		strcat(dbg, "1");
	else
		envp[0] = NULL;
	execve(d->receiver_path, argv, envp);
	log_warn("event=receiver-exec path=%s", d->receiver_path);
	_exit(127);
}

static void restart_cb(evutil_socket_t fd, short what, void *arg)
{
	struct deployer *d = arg;

	(void)fd;
	(void)what;
	if (!d->stopping && d->rx.pid <= 0)
		receiver_start(d);
}

static void init_slot(struct deployer *d, struct rx_proc *rx)
{
	memset(rx, 0, sizeof(*rx));
	rx->d = d;
	rx->sock = -1;
}

void receiver_proc_init(struct deployer *d)
{
	size_t i;

	init_slot(d, &d->rx);
	for (i = 0; i < TH_MAX_DRAINING; i++)
		init_slot(d, &d->draining[i]);
	d->restart_ev = evtimer_new(d->base, restart_cb, d);
	if (d->restart_ev == NULL)
		fatalx("event=setup reason=\"cannot create the restart timer\"");
}

static void free_sites(struct rx_proc *rx)
{
	size_t i;

	for (i = 0; i < rx->nsites; i++)
		free(rx->sites[i]);
	free(rx->sites);
	rx->sites = NULL;
	rx->nsites = 0;
}

/* The receiver's messages name sites by index in this list. */
static void copy_sites(struct rx_proc *rx, const struct th_config *cfg)
{
	size_t i;

	free_sites(rx);
	rx->sites = calloc(cfg->nsites, sizeof(*rx->sites));
	if (rx->sites == NULL)
		fatal("event=receiver-start step=setup");
	for (i = 0; i < cfg->nsites; i++)
		if ((rx->sites[i] = strdup(cfg->sites[i].name)) == NULL)
			fatal("event=receiver-start step=setup");
	rx->nsites = cfg->nsites;
}

void receiver_start(struct deployer *d)
{
	struct rx_proc *rx = &d->rx;
	int sv[2], setup;
	pid_t pid;

	setup = setup_send_memfd(d);
	if (setup < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		fatal("event=receiver-start step=setup");
	pid = fork();
	if (pid < 0)
		fatal("event=receiver-start step=fork");
	if (pid == 0)
		exec_receiver(d, sv[1], setup);
	close(sv[1]);
	close(setup);
	rx->pid = pid;
	rx->sock = sv[0];
	rx->draining = 0;
	rx->started_ms = mono_ms();
	copy_sites(rx, &d->cfg);
	rx->ev = event_new(d->base, sv[0], EV_READ | EV_PERSIST, deploy_request_recv, rx);
	if (rx->ev == NULL || event_add(rx->ev, NULL) < 0)
		fatalx("event=receiver-start reason=\"cannot watch the socketpair\"");
	log_info("event=receiver-start pid=%ld", (long)pid);
}

static void forget_sock(struct rx_proc *rx)
{
	if (rx->ev != NULL) {
		event_free(rx->ev);
		rx->ev = NULL;
	}
	if (rx->sock >= 0) {
		close(rx->sock);
		rx->sock = -1;
	}
}

void receiver_kill(struct rx_proc *rx, const char *why)
{
	if (rx->pid <= 0)
		return;
	log_warnx("event=receiver-kill pid=%ld reason=\"%s\"", (long)rx->pid, why);
	kill(rx->pid, SIGKILL);
	/* Stop reading now: nothing more from this receiver is trusted. */
	forget_sock(rx);
}

void receiver_end(struct rx_proc *rx)
{
	forget_sock(rx);
	if (rx->pid > 0)
		kill(rx->pid, SIGKILL);
}

void receiver_stop(struct deployer *d)
{
	size_t i;

	forget_sock(&d->rx);
	if (d->rx.pid > 0)
		kill(d->rx.pid, SIGTERM);
	for (i = 0; i < TH_MAX_DRAINING; i++) {
		forget_sock(&d->draining[i]);
		if (d->draining[i].pid > 0)
			kill(d->draining[i].pid, SIGTERM);
	}
}

int receiver_any(const struct deployer *d)
{
	size_t i;

	for (i = 0; i < TH_MAX_DRAINING; i++)
		if (d->draining[i].pid > 0)
			return 1;
	return d->rx.pid > 0;
}

static void describe_status(int status, char *out, size_t outsz)
{
	if (WIFEXITED(status))
		snprintf(out, outsz, "exit %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, outsz, "signal %s",
		         sigabbrev_np(WTERMSIG(status)) != NULL ? sigabbrev_np(WTERMSIG(status))
		                                                : "?");
	else
		snprintf(out, outsz, "status %d", status);
}

static void current_exited(struct deployer *d, int status)
{
	char how[40];
	struct timeval tv;
	long long lived = mono_ms() - d->rx.started_ms;

	describe_status(status, how, sizeof(how));
	forget_sock(&d->rx);
	d->rx.pid = 0;
	if (d->stopping) {
		log_info("event=receiver-exit status=\"%s\"", how);
		return;
	}
	if (lived >= HEALTHY_AFTER_MS || d->restart_delay_ms == 0)
		d->restart_delay_ms = RESTART_FIRST_MS;
	else if ((d->restart_delay_ms *= 2) > RESTART_MAX_MS)
		d->restart_delay_ms = RESTART_MAX_MS;
	log_warnx("event=receiver-exit status=\"%s\" lived_ms=%lld restart_in_ms=%u", how, lived,
	          d->restart_delay_ms);
	tv.tv_sec = d->restart_delay_ms / 1000;
	tv.tv_usec = (d->restart_delay_ms % 1000) * 1000;
	evtimer_add(d->restart_ev, &tv);
}

static void release_slot(struct rx_proc *rx)
{
	forget_sock(rx);
	if (rx->deadline != NULL) {
		event_free(rx->deadline);
		rx->deadline = NULL;
	}
	free_sites(rx);
	rx->pid = 0;
	rx->draining = 0;
}

int receiver_reaped(struct deployer *d, pid_t pid, int status)
{
	char how[40];
	size_t i;

	if (pid == d->rx.pid) {
		current_exited(d, status);
		return 1;
	}
	for (i = 0; i < TH_MAX_DRAINING; i++) {
		if (d->draining[i].pid != pid)
			continue;
		describe_status(status, how, sizeof(how));
		log_info("event=receiver-drained pid=%ld status=\"%s\" lived_ms=%lld", (long)pid,
		         how, mono_ms() - d->draining[i].started_ms);
		release_slot(&d->draining[i]);
		return 1;
	}
	return 0;
}

static void drain_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	receiver_kill(arg, "draining past request-timeout");
}

/* A free draining slot; when all are taken the oldest is ended. */
static struct rx_proc *draining_slot(struct deployer *d)
{
	struct rx_proc *oldest = &d->draining[0];
	size_t i;

	for (i = 0; i < TH_MAX_DRAINING; i++) {
		if (d->draining[i].pid <= 0) {
			release_slot(&d->draining[i]);
			return &d->draining[i];
		}
		if (d->draining[i].started_ms < oldest->started_ms)
			oldest = &d->draining[i];
	}
	receiver_kill(oldest, "too many receivers draining");
	/* Its exit is still reaped: remember nothing else of it. */
	release_slot(oldest);
	return oldest;
}

void receiver_replace(struct deployer *d)
{
	struct timeval tv = {(time_t)d->cfg.request_timeout + DRAIN_GRACE_S, 0};
	struct rx_proc *old;

	evtimer_del(d->restart_ev);
	if (d->rx.pid > 0) {
		old = draining_slot(d);
		*old = d->rx;
		old->draining = 1;
		/* The event's argument is the slot: re-create it for the new place. */
		if (old->ev != NULL) {
			event_free(old->ev);
			old->ev = event_new(d->base, old->sock, EV_READ | EV_PERSIST,
			                    deploy_request_recv, old);
			if (old->ev == NULL || event_add(old->ev, NULL) < 0)
				fatalx("event=reload reason=\"cannot watch the old socketpair\"");
		}
		old->deadline = evtimer_new(d->base, drain_deadline_cb, old);
		if (old->deadline == NULL || evtimer_add(old->deadline, &tv) < 0)
			fatalx("event=reload reason=\"cannot arm the drain deadline\"");
		log_info("event=receiver-drain pid=%ld deadline_s=%ld", (long)old->pid,
		         (long)tv.tv_sec);
		kill(old->pid, SIGUSR1);
		init_slot(d, &d->rx);
	}
	d->restart_delay_ms = 0;
	receiver_start(d);
}

int receiver_site(const struct rx_proc *rx, unsigned idx)
{
	const struct th_config *cfg = &rx->d->cfg;
	size_t i;

	if (idx >= rx->nsites)
		return -1;
	for (i = 0; i < cfg->nsites; i++)
		if (strcmp(cfg->sites[i].name, rx->sites[idx]) == 0)
			return (int)i;
	return -1;
}
