/*
 * conn.c - drive one TLS connection from libevent and answer its requests.
 *
 * The BearSSL engine is pumped by hand (sendrec/recvrec/sendapp/recvapp)
 * so that every answer is flushed before a close, close_notify is sent,
 * and nothing but our own strict parser touches the decrypted bytes.
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
#include "http_req.h"
#include "clock.h"
#include "log.h"
#include "route.h"
#include "tls_server.h"
#include "to_deployer.h"

enum phase { PH_HANDSHAKE, PH_WAIT_HEAD, PH_HEAD, PH_REQUEST, PH_IDLE };

struct conn {
	struct rx *rx;
	int fd;
	struct event *ev;
	struct event *timer;
	enum phase phase;
	char peer[64];
	br_ssl_server_context sc;
	unsigned char *iobuf;
	struct http_req *req;
	struct route_result rr;
	char out[1024];
	size_t out_len, out_off;
	int final_queued; /* the final answer to the current request is in out[] */
	int close_after;  /* close once out[] is flushed */
	int closing;      /* close_notify queued */
	long long req_start_ms;
};

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

static void conn_end(struct conn *c)
{
	struct rx *rx = c->rx;

	event_free(c->ev);
	event_free(c->timer);
	close(c->fd);
	if (c->req != NULL) {
		http_req_free(c->req);
		free(c->req);
	}
	explicit_bzero(&c->sc, sizeof(c->sc));
	free(c->iobuf);
	free(c);
	rx->nconns--;
	accept_resume(rx);
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

	if (c->req == NULL || !c->req->keep_alive)
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

/* Feeds decrypted bytes to the parser; returns 1 if anything changed. */
static int feed_app(struct conn *c, unsigned char *buf, size_t len)
{
	struct http_req *r = c->req;
	enum http_state before = r->state;
	size_t used;

	if (c->phase == PH_WAIT_HEAD || c->phase == PH_IDLE) {
		c->req_start_ms = mono_ms();
		arm_timer(c, PH_HEAD, c->rx->setup.head_timeout * 1000LL);
	}
	used = http_req_feed(r, buf, len);
	br_ssl_engine_recvapp_ack(&c->sc.eng, used);
	if (r->state == HTTP_ERROR)
		respond(c, r->error_status, r->error_reason, 1);
	else if (r->state == HTTP_HEAD_DONE)
		on_head(c);
	else if (r->state == HTTP_BODY_DONE && before != HTTP_BODY_DONE)
		on_body(c);
	return used > 0 || r->state != before;
}

/* The final answer is on the wire: get ready for the next request. */
static void request_done(struct conn *c)
{
	c->final_queued = 0;
	if (c->close_after)
		return;
	http_req_reset(c->req);
	memset(&c->rr, 0, sizeof(c->rr));
	c->rr.site = -1;
	arm_timer(c, PH_IDLE, c->rx->setup.idle_timeout * 1000LL);
}

static void push_out(struct conn *c)
{
	size_t len, n;
	unsigned char *buf = br_ssl_engine_sendapp_buf(&c->sc.eng, &len);

	n = c->out_len - c->out_off;
	if (n > len)
		n = len;
	memcpy(buf, c->out + c->out_off, n);
	br_ssl_engine_sendapp_ack(&c->sc.eng, n);
	c->out_off += n;
	if (c->out_off == c->out_len) {
		br_ssl_engine_flush(&c->sc.eng, 0);
		if (c->final_queued)
			request_done(c);
	}
}

/* Returns 1 on progress, 0 if the socket would block, -1 on error. */
static int send_records(struct conn *c)
{
	size_t len;
	unsigned char *buf = br_ssl_engine_sendrec_buf(&c->sc.eng, &len);
	ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

	if (n > 0) {
		br_ssl_engine_sendrec_ack(&c->sc.eng, (size_t)n);
		return 1;
	}
	return (n < 0 && (errno == EAGAIN || errno == EINTR)) ? 0 : -1;
}

static int recv_records(struct conn *c)
{
	size_t len;
	unsigned char *buf = br_ssl_engine_recvrec_buf(&c->sc.eng, &len);
	ssize_t n = read(c->fd, buf, len);

	if (n > 0) {
		br_ssl_engine_recvrec_ack(&c->sc.eng, (size_t)n);
		return 1;
	}
	/* EOF: the client closed its side; nothing more can come. */
	return (n < 0 && (errno == EAGAIN || errno == EINTR)) ? 0 : -1;
}

static void wait_for(struct conn *c, short what)
{
	event_del(c->ev);
	event_assign(c->ev, c->rx->base, c->fd, what, event_get_callback(c->ev), c);
	event_add(c->ev, NULL);
}

static void handshake_done(struct conn *c)
{
	c->req = calloc(1, sizeof(*c->req));
	if (c->req == NULL)
		return;
	http_req_init(c->req);
	c->rr.site = -1;
	arm_timer(c, PH_WAIT_HEAD, c->rx->setup.head_timeout * 1000LL);
}

static void conn_pump(struct conn *c)
{
	br_ssl_engine_context *eng = &c->sc.eng;
	unsigned st;
	int rc;
	size_t len;
	unsigned char *buf;

	for (;;) {
		st = br_ssl_engine_current_state(eng);
		if (st == BR_SSL_CLOSED)
			return conn_end(c);
		if (c->req == NULL && (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))) {
			handshake_done(c);
			if (c->req == NULL)
				return conn_end(c);
		}
		if (st & BR_SSL_SENDREC) {
			if ((rc = send_records(c)) < 0)
				return conn_end(c);
			if (rc == 0)
				return wait_for(c, EV_WRITE);
			continue;
		}
		if (c->closing)
			return conn_end(c); /* close_notify is out; don't wait for the peer's */
		if ((st & BR_SSL_SENDAPP) && c->out_off < c->out_len) {
			push_out(c);
			continue;
		}
		if (c->close_after && c->out_off == c->out_len && !c->final_queued) {
			br_ssl_engine_close(eng);
			c->closing = 1;
			continue;
		}
		if ((st & BR_SSL_RECVAPP) && !c->final_queued && !c->close_after) {
			buf = br_ssl_engine_recvapp_buf(eng, &len);
			if (feed_app(c, buf, len))
				continue;
		}
		if (!(st & BR_SSL_RECVREC))
			return wait_for(c, EV_READ);
		if ((rc = recv_records(c)) < 0)
			return conn_end(c);
		if (rc == 0)
			return wait_for(c, EV_READ);
	}
}

static void conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_pump(arg);
}

static void conn_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	static const char *const names[] = {"handshake", "head", "head", "request", "idle"};

	(void)fd;
	(void)what;
	if (c->phase != PH_IDLE && c->phase != PH_WAIT_HEAD)
		log_info("event=timeout peer=%s phase=%s", c->peer, names[c->phase]);
	conn_end(c);
}

void conn_new(struct rx *rx, int fd, const char *peer)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (c != NULL) {
		c->iobuf = malloc(BR_SSL_BUFSIZE_BIDI);
		c->ev = event_new(rx->base, fd, EV_READ, conn_io_cb, c);
		c->timer = evtimer_new(rx->base, conn_timeout_cb, c);
	}
	if (c == NULL || c->iobuf == NULL || c->ev == NULL || c->timer == NULL ||
	    tls_server_start(&c->sc, &rx->keys, c->iobuf, BR_SSL_BUFSIZE_BIDI) < 0) {
		log_warnx("event=conn-setup-failed peer=%s", peer);
		if (c != NULL) {
			if (c->ev != NULL)
				event_free(c->ev);
			if (c->timer != NULL)
				event_free(c->timer);
			free(c->iobuf);
			free(c);
		}
		close(fd);
		return;
	}
	c->rx = rx;
	c->fd = fd;
	c->rr.site = -1;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	rx->nconns++;
	arm_timer(c, PH_HANDSHAKE, rx->setup.handshake_timeout * 1000LL);
	event_add(c->ev, NULL);
}
