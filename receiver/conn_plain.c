/*
 * conn_plain.c - a connection on a Unix socket behind a local proxy.
 *
 * Plain HTTP by necessity (the proxy terminated TLS); everything above
 * the transport -- parser, deadlines, signature, policy -- is the same
 * code as for TLS connections.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn_priv.h"

/* Returns 0 to go on, EV_READ/EV_WRITE to wait, -1 to close. */
static int send_out(struct conn *c)
{
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

	if (n > 0) {
		conn_out_sent(c, (size_t)n);
		return 0;
	}
	return (n < 0 && (errno == EAGAIN || errno == EINTR)) ? EV_WRITE : -1;
}

static int read_in(struct conn *c)
{
	ssize_t n;

	c->in_off = c->in_len = 0;
	n = read(c->fd, c->inbuf, PLAIN_INBUF);
	if (n > 0) {
		c->in_len = (size_t)n;
		return 0;
	}
	return (n < 0 && (errno == EAGAIN || errno == EINTR)) ? EV_READ : -1;
}

static int step(struct conn *c)
{
	int progress;

	if (c->out_off < c->out_len)
		return send_out(c);
	if (c->close_after && !c->final_queued)
		return STEP_LINGER;
	if (c->in_off < c->in_len && conn_accepts_input(c)) {
		c->in_off += conn_feed(c, c->inbuf + c->in_off, c->in_len - c->in_off, &progress);
		if (progress)
			return 0;
	}
	if (c->in_off < c->in_len)
		return EV_READ; /* unreachable in practice: input waits for an answer */
	return read_in(c);
}

void conn_plain_pump(struct conn *c)
{
	int next;

	if (c->inbuf == NULL) {
		c->inbuf = malloc(PLAIN_INBUF);
		if (c->inbuf == NULL || conn_ready_for_requests(c) < 0)
			return conn_end(c);
	}
	for (;;) {
		next = step(c);
		if (next == STEP_LINGER)
			return conn_linger(c);
		if (next < 0)
			return conn_end(c);
		if (next > 0)
			return conn_wait_for(c, (short)next);
	}
}
