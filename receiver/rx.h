/*
 * rx.h - the receiver's process-wide state, built before the sandbox.
 */
#ifndef TH_RX_H
#define TH_RX_H

#include <stddef.h>

#include "setup_blob.h"
#include "tls_keys.h"

struct event_base;
struct event;
struct conn;

struct rx {
	struct event_base *base;
	struct th_setup setup; /* sites, limits; owned */
	struct tls_keys keys;
	int sockpair; /* to the deployer */
	int listen_fds[16];
	struct event *listen_ev[16];
	size_t nlisten;
	struct event *resume_ev; /* re-enables accepting after EMFILE */
	struct event *sockpair_ev;
	unsigned nconns;
	size_t body_bytes;  /* request bodies being buffered now */
	size_t body_budget; /* at most this many; see receiver/main.c */
	struct conn *conns; /* every open connection */
	int accepting;
	int draining; /* SIGUSR1: finish open requests, accept no more, then exit */
	struct event *drain_ev, *drain_deadline;
	void (*drained)(struct rx *rx); /* every connection of a draining receiver is gone */
};

#endif
