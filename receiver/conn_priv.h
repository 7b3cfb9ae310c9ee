/*
 * conn_priv.h - what conn.c shares with its two transports.
 *
 * conn.c owns a connection's life, deadlines and HTTP requests;
 * conn_tls.c moves bytes through BearSSL, conn_plain.c through a plain
 * Unix socket behind a local proxy.  Nothing outside these files sees
 * struct conn.
 */
#ifndef TH_CONN_PRIV_H
#define TH_CONN_PRIV_H

#include <bearssl.h>
#include <stddef.h>

#include "http_req.h"
#include "route.h"
#include "rx.h"

enum phase { PH_HANDSHAKE, PH_WAIT_HEAD, PH_HEAD, PH_REQUEST, PH_IDLE, PH_LINGER };

/* A transport step's answer: go on (0), wait (EV_READ/EV_WRITE), or stop. */
#define STEP_CLOSE  (-1)
#define STEP_LINGER (-2)

/* Allocated only once the client sends its first byte: a silent
 * connection costs a struct conn, not 37 KB of TLS state. */
struct tls_state {
	br_ssl_server_context sc;
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

#define PLAIN_INBUF 16384

struct conn {
	struct rx *rx;
	struct conn *prev, *next; /* rx->conns, for draining */
	int fd;
	int plain; /* 1: no TLS (Unix socket behind a proxy) */
	struct event *ev;
	struct event *timer;
	enum phase phase;
	char peer[64];
	struct tls_state *tls;
	unsigned char *inbuf; /* plain only: bytes read, not yet parsed */
	size_t in_off, in_len;
	struct http_req *req;
	struct route_result rr;
	char out[512];
	size_t out_len, out_off;
	int final_queued; /* the final answer to the current request is in out[] */
	int close_after;  /* close once out[] is flushed */
	int closing;      /* close_notify queued */
	long long req_start_ms;
	size_t body_reserved; /* this request's share of rx->body_bytes */
};

/* conn.c */
void conn_end(struct conn *c);
void conn_wait_for(struct conn *c, short what);
int conn_ready_for_requests(struct conn *c);
int conn_accepts_input(const struct conn *c);
size_t conn_feed(struct conn *c, const unsigned char *buf, size_t len, int *progress);
void conn_out_sent(struct conn *c, size_t n);
void conn_linger(struct conn *c);

/* conn_tls.c */
void conn_tls_pump(struct conn *c);

/* conn_plain.c */
void conn_plain_pump(struct conn *c);

#endif
