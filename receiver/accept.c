/*
 * accept.c - the listeners: accept, cap, pause and resume.
 */
#include "accept.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"

#define ACCEPT_BATCH 64

static void accept_pause(struct rx *rx)
{
	size_t i;

	if (!rx->accepting)
		return;
	for (i = 0; i < rx->nlisten; i++)
		event_del(rx->listen_ev[i]);
	rx->accepting = 0;
}

void accept_resume(struct rx *rx)
{
	size_t i;

	if (rx->accepting || rx->draining || rx->nconns >= rx->setup.max_connections)
		return;
	if (evtimer_pending(rx->resume_ev, NULL))
		return; /* out of fds recently: wait for the back-off */
	for (i = 0; i < rx->nlisten; i++)
		event_add(rx->listen_ev[i], NULL);
	rx->accepting = 1;
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	accept_resume(arg);
}

static void format_peer(const struct sockaddr_storage *ss, char *out, size_t outsz)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(out, outsz, "%s:%u", host, ntohs(in->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(out, outsz, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(out, outsz, "unknown");
	}
}

static void out_of_fds(struct rx *rx)
{
	struct timeval tv = {0, 200 * 1000};

	log_warn("event=accept-paused reason=\"out of file descriptors\" conns=%u", rx->nconns);
	accept_pause(rx);
	evtimer_add(rx->resume_ev, &tv);
}

static int is_plain(const struct rx *rx, int lfd)
{
	size_t i;

	for (i = 0; i < rx->nlisten; i++)
		if (rx->listen_fds[i] == lfd)
			return rx->setup.listen_plain[i];
	return 0;
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct rx *rx = arg;
	struct sockaddr_storage ss;
	socklen_t sl;
	char peer[80];
	int i, fd, plain = is_plain(rx, lfd);

	(void)what;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		if (rx->nconns >= rx->setup.max_connections)
			return accept_pause(rx);
		sl = sizeof(ss);
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				out_of_fds(rx);
			return; /* EAGAIN, ECONNABORTED, EINTR: try again on the next event */
		}
		if (plain) {
			conn_new_plain(rx, fd, "unix");
			continue;
		}
		format_peer(&ss, peer, sizeof(peer));
		conn_new(rx, fd, peer);
	}
}

void accept_stop(struct rx *rx)
{
	size_t i;

	for (i = 0; i < rx->nlisten; i++) {
		event_del(rx->listen_ev[i]);
		close(rx->listen_fds[i]);
		rx->listen_fds[i] = -1;
	}
	rx->accepting = 0;
}

int accept_setup(struct rx *rx)
{
	size_t i;

	rx->resume_ev = evtimer_new(rx->base, resume_cb, rx);
	if (rx->resume_ev == NULL)
		return -1;
	for (i = 0; i < rx->nlisten; i++) {
		rx->listen_ev[i] =
		    event_new(rx->base, rx->listen_fds[i], EV_READ | EV_PERSIST, accept_cb, rx);
		if (rx->listen_ev[i] == NULL)
			return -1;
	}
	rx->accepting = 0;
	accept_resume(rx);
	return 0;
}
