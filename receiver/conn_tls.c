/*
 * conn_tls.c - move a connection's bytes through BearSSL.
 *
 * The engine is pumped by hand (sendrec/recvrec/sendapp/recvapp) so that
 * every answer is flushed before a close, close_notify is sent, and
 * nothing but our own strict parser touches the decrypted bytes.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn_priv.h"
#include "log.h"
#include "tls_server.h"

/* Returns 1 on progress, 0 if the socket would block, -1 on error. */
static int send_records(struct conn *c)
{
	size_t len;
	unsigned char *buf = br_ssl_engine_sendrec_buf(&c->tls->sc.eng, &len);
	ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);

	if (n > 0) {
		br_ssl_engine_sendrec_ack(&c->tls->sc.eng, (size_t)n);
		return 1;
	}
	return (n < 0 && (errno == EAGAIN || errno == EINTR)) ? 0 : -1;
}

static int recv_records(struct conn *c)
{
	size_t len;
	unsigned char *buf = br_ssl_engine_recvrec_buf(&c->tls->sc.eng, &len);
	ssize_t n = read(c->fd, buf, len);

	if (n > 0) {
		br_ssl_engine_recvrec_ack(&c->tls->sc.eng, (size_t)n);
		return 1;
	}
	/* EOF: the client closed its side; nothing more can come. */
	return (n < 0 && (errno == EAGAIN || errno == EINTR)) ? 0 : -1;
}

static void push_out(struct conn *c)
{
	br_ssl_engine_context *eng = &c->tls->sc.eng;
	size_t len, n;
	unsigned char *buf = br_ssl_engine_sendapp_buf(eng, &len);

	n = c->out_len - c->out_off;
	if (n > len)
		n = len;
	memcpy(buf, c->out + c->out_off, n);
	br_ssl_engine_sendapp_ack(eng, n);
	if (c->out_off + n == c->out_len)
		br_ssl_engine_flush(eng, 0);
	conn_out_sent(c, n);
}

/* The client has sent its first byte: now the TLS state is worth its memory. */
static int start_tls(struct conn *c)
{
	c->tls = malloc(sizeof(*c->tls));
	if (c->tls == NULL ||
	    tls_server_start(&c->tls->sc, &c->rx->keys, c->tls->iobuf, sizeof(c->tls->iobuf)) < 0) {
		log_warnx("event=conn-setup-failed peer=%s", c->peer);
		return -1;
	}
	return 0;
}

/* Decrypted bytes to the request parser; returns 1 on progress. */
static int take_app(struct conn *c)
{
	br_ssl_engine_context *eng = &c->tls->sc.eng;
	size_t len, used;
	int progress;
	unsigned char *buf = br_ssl_engine_recvapp_buf(eng, &len);

	used = conn_feed(c, buf, len, &progress);
	br_ssl_engine_recvapp_ack(eng, used);
	return progress;
}

static int step(struct conn *c, unsigned st)
{
	int rc;

	if (c->req == NULL && (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP)) &&
	    conn_ready_for_requests(c) < 0)
		return -1;
	if (st & BR_SSL_SENDREC) {
		if ((rc = send_records(c)) <= 0)
			return rc < 0 ? -1 : EV_WRITE;
		return 0;
	}
	if (c->closing)
		return STEP_LINGER; /* close_notify is out; don't wait for the peer's */
	if ((st & BR_SSL_SENDAPP) && c->out_off < c->out_len) {
		push_out(c);
		return 0;
	}
	if (c->close_after && c->out_off == c->out_len && !c->final_queued) {
		br_ssl_engine_close(&c->tls->sc.eng);
		c->closing = 1;
		return 0;
	}
	if ((st & BR_SSL_RECVAPP) && conn_accepts_input(c) && take_app(c))
		return 0;
	if (!(st & BR_SSL_RECVREC))
		return EV_READ;
	if ((rc = recv_records(c)) <= 0)
		return rc < 0 ? -1 : EV_READ;
	return 0;
}

void conn_tls_pump(struct conn *c)
{
	unsigned st;
	int next;

	if (c->tls == NULL && start_tls(c) < 0)
		return conn_end(c);
	for (;;) {
		st = br_ssl_engine_current_state(&c->tls->sc.eng);
		if (st == BR_SSL_CLOSED)
			return conn_end(c);
		next = step(c, st);
		if (next == STEP_LINGER)
			return conn_linger(c);
		if (next < 0)
			return conn_end(c);
		if (next > 0)
			return conn_wait_for(c, (short)next);
	}
}
