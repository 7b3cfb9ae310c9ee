/*
 * receiver_proc.c - the receiver's life cycle, seen from the deployer.
 *
 * The receiver is a fresh exec of build/tailhook-receiver (a new address
 * space: nothing of the deployer's memory, config or heap layout is
 * inherited).  If it dies for any reason it is restarted: the first time
 * within a second, then with exponential back-off up to 30 s while it
 * keeps dying young.
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
	for (i = 0; i < d->cfg.nlisten; i++)
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
	if (!d->stopping && d->rx_pid <= 0)
		receiver_start(d);
}

void receiver_proc_init(struct deployer *d)
{
	d->rx_sock = -1;
	d->restart_ev = evtimer_new(d->base, restart_cb, d);
	if (d->restart_ev == NULL)
		fatalx("event=setup reason=\"cannot create the restart timer\"");
}

void receiver_start(struct deployer *d)
{
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
	d->rx_pid = pid;
	d->rx_sock = sv[0];
	d->rx_started_ms = mono_ms();
	d->rx_ev = event_new(d->base, sv[0], EV_READ | EV_PERSIST, deploy_request_recv, d);
	if (d->rx_ev == NULL || event_add(d->rx_ev, NULL) < 0)
		fatalx("event=receiver-start reason=\"cannot watch the socketpair\"");
	log_info("event=receiver-start pid=%ld", (long)pid);
}

static void forget_sock(struct deployer *d)
{
	if (d->rx_ev != NULL) {
		event_free(d->rx_ev);
		d->rx_ev = NULL;
	}
	if (d->rx_sock >= 0) {
		close(d->rx_sock);
		d->rx_sock = -1;
	}
}

void receiver_kill(struct deployer *d, const char *why)
{
	if (d->rx_pid <= 0)
		return;
	log_warnx("event=receiver-kill pid=%ld reason=\"%s\"", (long)d->rx_pid, why);
	kill(d->rx_pid, SIGKILL);
	/* Stop reading now: nothing more from this receiver is trusted. */
	forget_sock(d);
}

void receiver_end(struct deployer *d)
{
	forget_sock(d);
	if (d->rx_pid > 0)
		kill(d->rx_pid, SIGKILL);
}

void receiver_stop(struct deployer *d)
{
	forget_sock(d);
	if (d->rx_pid > 0)
		kill(d->rx_pid, SIGTERM);
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

void receiver_exited(struct deployer *d, int status)
{
	char how[40];
	struct timeval tv;
	long long lived = mono_ms() - d->rx_started_ms;

	describe_status(status, how, sizeof(how));
	forget_sock(d);
	d->rx_pid = 0;
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
