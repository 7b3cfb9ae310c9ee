/*
 * conn.c - one client connection: its life, its deadlines, its requests.
 *
 * The transports (conn_tls.c, conn_plain.c) move bytes; everything that
 * decides what a request gets happens here and in route.c, the same for
 * both.
 */
#include "conn.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "accept.h"
#include "clock.h"
#include "conn_priv.h"
#include "log.h"
#include "tls_server.h"
#include "to_deployer.h"

static void arm_timer(struct conn *c, enum phase ph, long long ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	c->phase = ph;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
	evtimer_add(c->timer, &tv);
}

/*
 * Bodies are buffered whole (the signature covers all of them), so their
 * total is capped: unsigned clients each announcing max-body cannot make
 * the receiver hold more than rx->body_budget bytes between them.
 */
static int body_reserve(struct conn *c, unsigned long long len)
{
	struct rx *rx = c->rx;

	if (len > rx->body_budget - rx->body_bytes)
		return 0;
	rx->body_bytes += (size_t)len;
	c->body_reserved = (size_t)len;
	return 1;
}

static void body_release(struct conn *c)
{
	c->rx->body_bytes -= c->body_reserved;
	c->body_reserved = 0;
}

void conn_end(struct conn *c)
{
	struct rx *rx = c->rx;

	event_free(c->ev);
	event_free(c->timer);
	close(c->fd);
	if (c->req != NULL) {
		body_release(c);
		http_req_free(c->req);
		free(c->req);
	}
	if (c->tls != NULL)
		/* The engine holds the session keys; the I/O buffer only what
		 * went over the wire, and zeroing its untouched pages would fault
		 * them in just to free them. */
		explicit_bzero(&c->tls->sc, sizeof(c->tls->sc));
	free(c->tls);
	free(c->inbuf);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		rx->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	free(c);
	rx->nconns--;
	accept_resume(rx);
	if (rx->draining && rx->nconns == 0 && rx->drained != NULL)
		rx->drained(rx);
}

static const char *status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 202:
		return "Accepted";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 415:
		return "Unsupported Media Type";
	case 417:
		return "Expectation Failed";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	}
	return "Error";
}

static void queue_out(struct conn *c, const char *data, size_t len)
{
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (len > sizeof(c->out) - c->out_len)
		len = sizeof(c->out) - c->out_len;
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
}

static void log_decision(struct conn *c, int status, const char *reason)
{
	const struct http_req *r = c->req;
	const char *site = c->rr.site >= 0 ? c->rx->setup.sites[c->rr.site].name : "-";
	char method[24] = "-", path[128] = "-", delivery[TH_DELIVERY_MAX + 1] = "-";
	char detail[200] = "";

	if (r != NULL && r->state != HTTP_HEAD && r->method != NULL) {
		log_sanitize(method, sizeof(method), r->method, strlen(r->method));
		/* A request line refused at its target has a method but no target. */
		if (r->target != NULL)
			log_sanitize(path, sizeof(path), r->target, strlen(r->target));
		route_delivery(r, delivery, sizeof(delivery));
	}
	if (c->rr.detail[0] != '\0')
		snprintf(detail, sizeof(detail), " ref=\"%s\"", c->rr.detail);
	log_info("event=request site=%s delivery=%s peer=%s method=%s path=%s status=%d "
	         "reason=\"%s\"%s%s%s",
	         site, delivery, c->peer, method, path, status, reason, detail,
	         c->rr.deploy ? " commit=" : "", c->rr.deploy ? c->rr.msg.commit : "");
}

/* Queues the final answer; `close` when the connection cannot be reused. */
static void respond(struct conn *c, int status, const char *reason, int close)
{
	char head[512];
	int n;

	if (c->req == NULL || !c->req->keep_alive || c->rx->draining)
		close = 1;
	log_decision(c, status, reason);
	/* A failed signature gets one fixed text whatever the cause; the log has it. */
	if (status == 401)
		reason = "signature check failed";
	n = snprintf(head, sizeof(head),
	             "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
	             "Content-Length: %zu\r\n%sConnection: %s\r\n\r\n%s\n",
	             status, status_text(status), strlen(reason) + 1,
	             status == 405 ? "Allow: POST\r\n" : "", close ? "close" : "keep-alive",
	             reason);
	if (n > 0)
		queue_out(c, head, (size_t)n < sizeof(head) ? (size_t)n : sizeof(head) - 1);
	c->final_queued = 1;
	c->close_after = close;
}

static void on_body(struct conn *c)
{
	route_body(&c->rx->setup, c->req, &c->rr);
	if (c->rr.deploy && deploy_request_send(c->rx->sockpair, &c->rr.msg) < 0) {
		c->rr.deploy = 0;
		respond(c, 503, "deployer unavailable", 1);
		return;
	}
	respond(c, c->rr.status, c->rr.reason, 0);
}

static void on_head(struct conn *c)
{
	struct http_req *r = c->req;

	route_head(&c->rx->setup, r, &c->rr);
	if (c->rr.status != 0) {
		/* The body (if any) is unread: the connection cannot go on. */
		respond(c, c->rr.status, c->rr.reason, 1);
		return;
	}
	if (!body_reserve(c, r->content_length)) {
		respond(c, 503, "too many large bodies in flight", 1);
		return;
	}
	if (http_req_begin_body(r) < 0) {
		respond(c, 503, "out of memory", 1);
		return;
	}
	arm_timer(c, PH_REQUEST,
	          c->req_start_ms + c->rx->setup.request_timeout * 1000LL - mono_ms());
	if (r->expect_continue && r->version_minor == 1 && r->state == HTTP_BODY)
		queue_out(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	if (r->state == HTTP_BODY_DONE)
		on_body(c);
}

static int is_address(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr("0123456789abcdefABCDEF.:", p[i]) == NULL || p[i] == '\0')
			return 0;
	return 1;
}

/* A plain connection's peer is the client the proxy names last, if that is
 * an address: anything else could forge key=value pairs in the log line. */
static void peer_from_proxy(struct conn *c)
{
	size_t len, start, n;
	const char *v = http_req_header(c->req, "X-Forwarded-For", &len, NULL);

	if (!c->plain || v == NULL)
		return;
	start = len;
	while (start > 0 && v[start - 1] != ',')
		start--;
	while (start < len && (v[start] == ' ' || v[start] == '\t'))
		start++;
	n = len - start;
	if (n == 0 || n >= sizeof(c->peer) || !is_address(v + start, n)) {
		snprintf(c->peer, sizeof(c->peer), "unix(bad-x-forwarded-for)");
		return;
	}
	memcpy(c->peer, v + start, n);
	c->peer[n] = '\0';
}

int conn_accepts_input(const struct conn *c)
{
	return c->req != NULL && !c->final_queued && !c->close_after;
}

/*
 * Feeds received bytes to the parser; returns how many it used and sets
 * *progress when anything changed (bytes used or a new state).
 */
size_t conn_feed(struct conn *c, const unsigned char *buf, size_t len, int *progress)
{
	struct http_req *r = c->req;
	enum http_state before = r->state;
	size_t used;

	if (c->phase == PH_WAIT_HEAD || c->phase == PH_IDLE) {
		c->req_start_ms = mono_ms();
		arm_timer(c, PH_HEAD, c->rx->setup.head_timeout * 1000LL);
	}
	used = http_req_feed(r, buf, len);
	if (r->state == HTTP_HEAD_DONE)
		peer_from_proxy(c);
	if (r->state == HTTP_ERROR)
		respond(c, r->error_status, r->error_reason, 1);
	else if (r->state == HTTP_HEAD_DONE)
		on_head(c);
	else if (r->state == HTTP_BODY_DONE && before != HTTP_BODY_DONE)
		on_body(c);
	*progress = used > 0 || r->state != before;
	return used;
}

/* The final answer is on the wire: get ready for the next request. */
static void request_done(struct conn *c)
{
	c->final_queued = 0;
	if (c->close_after)
		return;
	body_release(c);
	http_req_reset(c->req);
	memset(&c->rr, 0, sizeof(c->rr));
	c->rr.site = -1;
	arm_timer(c, PH_IDLE, c->rx->setup.idle_timeout * 1000LL);
}

/* The transport has sent n more bytes of out[]. */
void conn_out_sent(struct conn *c, size_t n)
{
	c->out_off += n;
	if (c->out_off == c->out_len && c->final_queued)
		request_done(c);
}

void conn_wait_for(struct conn *c, short what)
{
	event_del(c->ev);
	event_assign(c->ev, c->rx->base, c->fd, what, event_get_callback(c->ev), c);
	event_add(c->ev, NULL);
}

/* The transport can carry requests now (TLS handshake done, or plain). */
int conn_ready_for_requests(struct conn *c)
{
	c->req = calloc(1, sizeof(*c->req));
	if (c->req == NULL)
		return -1;
	http_req_init(c->req);
	c->rr.site = -1;
	arm_timer(c, PH_WAIT_HEAD, c->rx->setup.head_timeout * 1000LL);
	return 0;
}

#define LINGER_MS       2000
#define LINGER_READ_MAX (1 << 20)

/*
 * The answer is out, but the client may still be sending a body we chose
 * not to read (413, 415, ...).  Closing now would make the kernel reset the
 * connection, which can destroy the answer before the client reads it.  So
 * shut down our side and discard whatever still arrives, for a short while.
 */
void conn_linger(struct conn *c)
{
	if (c->phase == PH_LINGER)
		return;
	if (shutdown(c->fd, SHUT_WR) < 0)
		return conn_end(c);
	arm_timer(c, PH_LINGER, LINGER_MS);
	conn_wait_for(c, EV_READ);
}

static void linger_read(struct conn *c)
{
	char sink[4096];
	size_t total = 0;
	ssize_t n;

	while (total < LINGER_READ_MAX) {
		n = read(c->fd, sink, sizeof(sink));
		if (n > 0) {
			total += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		return conn_end(c); /* the client has closed too */
	}
	conn_wait_for(c, EV_READ);
}

static void conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (c->phase == PH_LINGER)
		linger_read(c);
	else if (c->plain)
		conn_plain_pump(c);
	else
		conn_tls_pump(c);
}

static void conn_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	static const char *const names[] = {"handshake", "head", "head",
	                                    "request",   "idle", "linger"};

	(void)fd;
	(void)what;
	if (c->phase != PH_IDLE && c->phase != PH_WAIT_HEAD && c->phase != PH_LINGER)
		log_info("event=timeout peer=%s phase=%s", c->peer, names[c->phase]);
	conn_end(c);
}

static void conn_start(struct rx *rx, int fd, const char *peer, int plain)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c != NULL) {
		c->ev = event_new(rx->base, fd, EV_READ, conn_io_cb, c);
		c->timer = evtimer_new(rx->base, conn_timeout_cb, c);
	}
	if (c == NULL || c->ev == NULL || c->timer == NULL) {
		log_warnx("event=conn-setup-failed peer=%s", peer);
		if (c != NULL && c->ev != NULL)
			event_free(c->ev);
		if (c != NULL && c->timer != NULL)
			event_free(c->timer);
		free(c);
		close(fd);
		return;
	}
	c->rx = rx;
	c->fd = fd;
	c->plain = plain;
	c->rr.site = -1;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->next = rx->conns;
	if (rx->conns != NULL)
		rx->conns->prev = c;
	rx->conns = c;
	rx->nconns++;
	arm_timer(c, PH_HANDSHAKE, rx->setup.handshake_timeout * 1000LL);
	event_add(c->ev, NULL);
}

void conn_new(struct rx *rx, int fd, const char *peer)
{
	conn_start(rx, fd, peer, 0);
}

void conn_new_plain(struct rx *rx, int fd, const char *peer)
{
	conn_start(rx, fd, peer, 1);
}

/*
 * Drain: connections between requests close now; the others get their
 * answer with "Connection: close".  rx->drained runs when none is left.
 */
void conn_drain_all(struct rx *rx)
{
	struct conn *c = rx->conns, *next;

	while (c != NULL) {
		next = c->next;
		/* Only connections resting between requests close now: one still
		 * in its handshake or before its first request may carry a
		 * delivery, and gets its answer with "Connection: close". */
		if (c->phase == PH_IDLE)
			conn_end(c);
		c = next;
	}
}
