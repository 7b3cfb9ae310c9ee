/*
 * conn.h - one client connection: BearSSL engine driven by libevent,
 * feeding the HTTP request state machine and sending the answers.
 */
#ifndef TH_CONN_H
#define TH_CONN_H

#include "rx.h"

/* Takes ownership of fd (non-blocking, accepted) and starts the handshake. */
void conn_new(struct rx *rx, int fd, const char *peer);

/* The same for a plain-HTTP connection from a Unix-socket listener. */
void conn_new_plain(struct rx *rx, int fd, const char *peer);

/*
 * Starts draining: idle connections close now, busy ones after their
 * current answer.  rx->drained runs once none is left.
 */
void conn_drain_all(struct rx *rx);

#endif
