/*
 * conn.h - one client connection: BearSSL engine driven by libevent,
 * feeding the HTTP request state machine and sending the answers.
 */
#ifndef TH_CONN_H
#define TH_CONN_H

#include "rx.h"

/* Takes ownership of fd (non-blocking, accepted) and starts the handshake. */
void conn_new(struct rx *rx, int fd, const char *peer);

#endif
