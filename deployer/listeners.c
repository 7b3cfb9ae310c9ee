/*
 * listeners.c - bind and listen on the configured addresses.
 */
#include "listeners.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

static int parse_spec(const char *spec, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[64];
	const char *colon, *h = spec;
	size_t hlen;
	char *end;
	unsigned long port;

	colon = strrchr(spec, ':');
	if (colon == NULL)
		return -1;
	hlen = (size_t)(colon - spec);
	if (spec[0] == '[' && hlen >= 2 && spec[hlen - 1] == ']') {
		h = spec + 1;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || colon[1] == '\0' || port > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (h == spec) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		*sl = sizeof(*in);
		return inet_pton(AF_INET, host, &in->sin_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons((uint16_t)port);
	*sl = sizeof(*in6);
	return inet_pton(AF_INET6, host, &in6->sin6_addr) == 1 ? 0 : -1;
}

static void log_bound(int fd, const char *source)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		log_info("event=listen addr=%s:%u source=%s", host, ntohs(in->sin_port), source);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		log_info("event=listen addr=[%s]:%u source=%s", host, ntohs(in6->sin6_port),
		         source);
	} else if (ss.ss_family == AF_UNIX) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;
		log_info("event=listen addr=unix:%.*s source=%s plain=1",
		         (int)(sl - offsetof(struct sockaddr_un, sun_path)), un->sun_path, source);
	}
}

/* Replaces a leftover socket file, never anything else. */
static int open_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "listen unix:%s: exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0 ||
	    listen(fd, 511) < 0) {
		snprintf(err, errlen, "listen unix:%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int open_inet(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	if (parse_spec(spec, &ss, &sl) < 0) {
		snprintf(err, errlen, "listen %s: not host:port", spec);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "listen %s: socket: %s", spec, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Accepted sockets inherit it: without it each TLS handshake flight
	 * waits ~40 ms on the client's delayed ACK (Nagle). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 511) < 0) {
		snprintf(err, errlen, "listen %s: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int listener_open(const char *spec, int *plain, char *err, size_t errlen)
{
	int fd;

	*plain = strncmp(spec, "unix:", 5) == 0;
	fd = *plain ? open_unix(spec + 5, err, errlen) : open_inet(spec, err, errlen);
	if (fd >= 0)
		log_bound(fd, "config");
	return fd;
}

/* One passed fd: a listening stream socket of a family we serve. */
static int take_activated(int fd, unsigned char *plain, char *err, size_t errlen)
{
	int type = 0, acc = 0, flags;
	socklen_t len = sizeof(type), alen = sizeof(acc);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &alen) < 0 || !acc ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6 && ss.ss_family != AF_UNIX)) {
		snprintf(err, errlen,
		         "socket activation: fd %d is not a listening TCP or Unix stream socket",
		         fd);
		return -1;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		snprintf(err, errlen, "socket activation: fd %d: %s", fd, strerror(errno));
		return -1;
	}
	*plain = ss.ss_family == AF_UNIX;
	log_bound(fd, "systemd");
	return 0;
}

int listeners_from_systemd(int *fds, unsigned char *plain, size_t max, char *err, size_t errlen)
{
	const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	char *end;
	unsigned long count;
	size_t i;

	if (pid == NULL || n == NULL || strtol(pid, &end, 10) != (long)getpid() || *end != '\0')
		return 0;
	errno = 0;
	count = strtoul(n, &end, 10);
	if (errno != 0 || *end != '\0' || count == 0 || count > max) {
		snprintf(err, errlen, "socket activation: LISTEN_FDS=%s: expected 1 to %zu", n,
		         max);
		return -1;
	}
	for (i = 0; i < count; i++) {
		fds[i] = 3 + (int)i;
		if (take_activated(fds[i], &plain[i], err, errlen) < 0)
			return -1;
	}
	/* The receiver and the steps must not think they were activated. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)count;
}
