/*
 * control.c - STATE/control.sock: both ends of `tailhook -t SITE`.
 */
#include "control.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "deploy_queue.h"
#include "log.h"
#include "state.h"

#define MAX_CLIENTS    32
#define REQUEST_WAIT_S 5

struct ctl_client {
	struct deployer *d;
	int fd;
	struct event *ev;
	char site[64];           /* by name: a reload may renumber sites */
	unsigned long long want; /* the deploy number that serves the request */
	int waiting;             /* the request was read and accepted */
	struct ctl_client *next;
};

int control_path(char *out, size_t outsz, const char *state_dir)
{
	int n = snprintf(out, outsz, "%s/control.sock", state_dir);

	return n < 0 || (size_t)n >= outsz ||
	               (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path)
	           ? -1
	           : 0;
}

static int make_addr(struct sockaddr_un *sa, const char *state_dir)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	return control_path(sa->sun_path, sizeof(sa->sun_path), state_dir);
}

static void client_free(struct ctl_client *c)
{
	struct ctl_client **pp = &c->d->ctl_clients;

	while (*pp != NULL && *pp != c)
		pp = &(*pp)->next;
	if (*pp == c)
		*pp = c->next;
	if (c->ev != NULL)
		event_free(c->ev);
	close(c->fd);
	free(c);
}

static void reply(struct ctl_client *c, enum th_ctl_kind kind, int status, const char *text)
{
	struct th_ctl_resp r;

	memset(&r, 0, sizeof(r));
	r.magic = TH_CTL_MAGIC;
	r.version = TH_CTL_VERSION;
	r.kind = (uint16_t)kind;
	r.status = status;
	snprintf(r.text, sizeof(r.text), "%s", text);
	/* A client that went away is no reason to stop: the deploy goes on. */
	(void)send(c->fd, &r, sizeof(r), MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* The one request a client may send; anything else ends the connection. */
static void take_request(struct ctl_client *c, const struct th_ctl_req *q)
{
	struct deployer *d = c->d;
	char text[200];
	int i, queued;

	if (q->magic != TH_CTL_MAGIC || q->version != TH_CTL_VERSION || q->op != TH_CTL_DEPLOY ||
	    memchr(q->site, '\0', sizeof(q->site)) == NULL) {
		log_warnx("event=control-refused reason=\"malformed request\"");
		client_free(c);
		return;
	}
	i = config_site_index(&d->cfg, q->site);
	if (i < 0 || d->stopping) {
		reply(c, TH_CTL_ERROR, -1, i < 0 ? "no such site" : "tailhook is stopping");
		client_free(c);
		return;
	}
	snprintf(c->site, sizeof(c->site), "%s", q->site);
	c->want = deploy_queue_manual(d, (size_t)i, &queued);
	c->waiting = 1;
	/* From now on the client waits as long as the deploy takes. */
	event_del(c->ev);
	event_add(c->ev, NULL);
	log_info("event=control-deploy site=%s queued=%d", c->site, queued);
	snprintf(text, sizeof(text), "site=%s deploy=%s", c->site,
	         queued ? "queued behind the running deploy" : "started");
	reply(c, TH_CTL_ACCEPTED, 0, text);
}

static void client_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client *c = arg;
	struct th_ctl_req q;
	ssize_t n;

	if (what & EV_TIMEOUT) {
		log_warnx("event=control-refused reason=\"no request within %ds\"", REQUEST_WAIT_S);
		client_free(c);
		return;
	}
	n = recv(fd, &q, sizeof(q), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* After the request, readable only means the client left (or misbehaves). */
	if (c->waiting || n != (ssize_t)sizeof(q)) {
		if (!c->waiting && n != 0)
			log_warnx("event=control-refused reason=\"request of %zd bytes\"", n);
		client_free(c);
		return;
	}
	take_request(c, &q);
}

static int peer_is_us(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == geteuid();
}

static unsigned count_clients(const struct deployer *d)
{
	const struct ctl_client *c;
	unsigned n = 0;

	for (c = d->ctl_clients; c != NULL; c = c->next)
		n++;
	return n;
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct deployer *d = arg;
	struct timeval tv = {REQUEST_WAIT_S, 0};
	struct ctl_client *c;
	int fd;

	(void)what;
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (!peer_is_us(fd) || count_clients(d) >= MAX_CLIENTS ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("event=control-refused reason=\"foreign uid or too many clients\"");
		close(fd);
		return;
	}
	c->d = d;
	c->fd = fd;
	c->ev = event_new(d->base, fd, EV_READ | EV_PERSIST, client_cb, c);
	c->next = d->ctl_clients;
	d->ctl_clients = c;
	if (c->ev == NULL || event_add(c->ev, &tv) < 0)
		client_free(c);
}

/* A socket file that nobody answers on is a leftover of a killed daemon. */
static int take_over_path(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	int rc = 0;

	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", sa->sun_path, strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0) {
		snprintf(err, errlen, "%s: another tailhook is running with this state-dir",
		         sa->sun_path);
		rc = -1;
	} else if (errno == ECONNREFUSED && unlink(sa->sun_path) < 0) {
		snprintf(err, errlen, "%s: cannot remove the stale socket: %s", sa->sun_path,
		         strerror(errno));
		rc = -1;
	}
	close(fd);
	return rc;
}

int control_open(struct deployer *d, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int fd;

	d->ctl_fd = -1;
	if (make_addr(&sa, d->cfg.state_dir) < 0) {
		snprintf(err, errlen, "%s: state-dir path too long for a socket", d->cfg.state_dir);
		return -1;
	}
	if (take_over_path(&sa, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(sa.sun_path, 0600) < 0 || listen(fd, 8) < 0) {
		snprintf(err, errlen, "%s: %s", sa.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	d->ctl_fd = fd;
	d->ctl_ev = event_new(d->base, fd, EV_READ | EV_PERSIST, accept_cb, d);
	if (d->ctl_ev == NULL || event_add(d->ctl_ev, NULL) < 0) {
		snprintf(err, errlen, "%s: cannot watch the control socket", sa.sun_path);
		return -1;
	}
	log_info("event=control-listen path=%s", sa.sun_path);
	return 0;
}

void control_close(struct deployer *d)
{
	while (d->ctl_clients != NULL) {
		reply(d->ctl_clients, TH_CTL_ERROR, -1, "tailhook stopped");
		client_free(d->ctl_clients);
	}
	control_stop_listening(d);
}

void control_stop_listening(struct deployer *d)
{
	struct sockaddr_un sa;

	if (d->ctl_fd < 0)
		return;
	event_free(d->ctl_ev);
	d->ctl_ev = NULL;
	close(d->ctl_fd);
	d->ctl_fd = -1;
	if (make_addr(&sa, d->cfg.state_dir) == 0)
		unlink(sa.sun_path);
}

void control_describe(const struct deployer *d, size_t i, int status, char *out, size_t outsz)
{
	const char *name = d->cfg.sites[i].name;
	struct th_state st;

	if (status < 0) {
		snprintf(out, outsz, "site=%s result=not-run reason=\"tailhook is stopping\"",
		         name);
		return;
	}
	if (state_load(d->cfg.state_dir, name, &st) != 0) {
		snprintf(out, outsz, "site=%s result=%s", name, status == 0 ? "ok" : "failed");
		return;
	}
	if (status == DEPLOY_OK)
		snprintf(out, outsz, "site=%s result=ok commit=%s release=%s duration_ms=%lld",
		         name, st.commit, st.release[0] ? st.release : "-", st.duration_ms);
	else
		snprintf(out, outsz,
		         "site=%s result=failed step=%s status=\"%s\" commit=%s live=%s "
		         "duration_ms=%lld output=\"%.200s\"",
		         name, st.step[0] ? st.step : "-", st.status[0] ? st.status : "?",
		         st.last_commit[0] ? st.last_commit : "-", st.commit[0] ? st.commit : "-",
		         st.duration_ms, st.output);
}

void control_deploy_ended(struct deployer *d, size_t i, unsigned long long n, int status)
{
	struct ctl_client *c = d->ctl_clients, *next;
	char text[500];

	for (; c != NULL; c = next) {
		next = c->next;
		if (!c->waiting || c->want != n || strcmp(c->site, d->cfg.sites[i].name) != 0)
			continue;
		control_describe(d, i, status, text, sizeof(text));
		reply(c, TH_CTL_RESULT, status, text);
		client_free(c);
	}
}

void control_site_removed(struct deployer *d, size_t i)
{
	struct ctl_client *c = d->ctl_clients, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		if (c->waiting && strcmp(c->site, d->cfg.sites[i].name) == 0) {
			reply(c, TH_CTL_ERROR, -1, "the site was removed by a reload");
			client_free(c);
		}
	}
}

/* -- client ---------------------------------------------------------------- */

static int client_send(int fd, const char *site, char *err, size_t errlen)
{
	struct th_ctl_req q;

	memset(&q, 0, sizeof(q));
	q.magic = TH_CTL_MAGIC;
	q.version = TH_CTL_VERSION;
	q.op = TH_CTL_DEPLOY;
	if (strlen(site) >= sizeof(q.site)) {
		snprintf(err, errlen, "site name too long");
		return -1;
	}
	memcpy(q.site, site, strlen(site));
	if (send(fd, &q, sizeof(q), MSG_NOSIGNAL) != (ssize_t)sizeof(q)) {
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Reads answers until the result; prints each line. */
static int client_wait(int fd, int *status, char *err, size_t errlen)
{
	struct th_ctl_resp r;
	ssize_t n;

	for (;;) {
		n = recv(fd, &r, sizeof(r), MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(r) || r.magic != TH_CTL_MAGIC ||
		    r.version != TH_CTL_VERSION || memchr(r.text, '\0', sizeof(r.text)) == NULL) {
			snprintf(err, errlen, "the daemon closed the control connection");
			return -1;
		}
		printf("tailhook: %s\n", r.text);
		fflush(stdout);
		if (r.kind == TH_CTL_ERROR) {
			*status = -1;
			return 0;
		}
		if (r.kind == TH_CTL_RESULT) {
			*status = r.status;
			return 0;
		}
	}
}

int control_request(const char *state_dir, const char *site, int *status, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	int fd, rc;

	if (make_addr(&sa, state_dir) < 0) {
		snprintf(err, errlen, "%s: state-dir path too long for a socket", state_dir);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = errno == ENOENT || errno == ECONNREFUSED ? 1 : -1;
		if (rc < 0)
			snprintf(err, errlen, "%s: %s", sa.sun_path, strerror(errno));
		close(fd);
		return rc;
	}
	rc = client_send(fd, site, err, errlen);
	if (rc == 0)
		rc = client_wait(fd, status, err, errlen);
	close(fd);
	return rc;
}
