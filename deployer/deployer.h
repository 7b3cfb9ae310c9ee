/*
 * deployer.h - the privileged parent's process-wide state.
 */
#ifndef TH_DEPLOYER_H
#define TH_DEPLOYER_H

#include <limits.h>
#include <sys/types.h>

#include "clock.h"
#include "config.h"
#include "msg.h"
#include "site_user.h"

struct event_base;
struct event;
struct deployer;
struct ctl_client;

/* Receivers still finishing their connections after a reload, at most. */
#define TH_MAX_DRAINING 4

/* One receiver process and our end of its socketpair. */
struct rx_proc {
	struct deployer *d;
	pid_t pid; /* 0: none */
	int sock;  /* -1 once closed */
	struct event *ev;
	struct event *deadline; /* draining: SIGKILL when it passes */
	long long started_ms;
	int draining;
	/* The site names of the config it was started with: its messages carry
	 * indexes into that list, which a reload may have reordered. */
	char **sites;
	size_t nsites;
};

/* One running deploy at most, and at most one pending behind it. */
struct site_state {
	pid_t worker;
	int kind; /* enum deploy_kind of the running worker */
	int pending, pending_kind;
	struct th_msg running, queued;
	long long started_ms;
	unsigned long long starts; /* workers started: control clients wait for one */
	long long catch_up_due_ms; /* a failed catch-up is retried then; 0: none due */
	unsigned catch_up_tries;
};

struct deployer {
	struct event_base *base;
	struct th_config cfg;
	int privileged; /* started as root: switch users, chroot the receiver */
	struct th_user rx_user;
	struct th_user *site_users;
	struct site_state *sites;
	char *cert_pem, *key_pem;
	size_t cert_len, key_len;
	char receiver_path[PATH_MAX];

	/* Listening sockets, handed to every receiver as fds 5.. */
	int listen_fds[TH_MAX_LISTEN];
	unsigned char listen_plain[TH_MAX_LISTEN]; /* 1: unix: socket, plain HTTP */
	char *listen_spec[TH_MAX_LISTEN];          /* as configured; NULL if from systemd */
	size_t nlisten;
	int activated; /* the listeners came from systemd (LISTEN_FDS) */

	struct rx_proc rx; /* the current receiver */
	struct rx_proc draining[TH_MAX_DRAINING];
	struct event *restart_ev;
	unsigned restart_delay_ms;

	/* Workers of sites that a reload removed: still reaped and waited for. */
	pid_t detached[TH_MAX_SITES];
	size_t ndetached;

	int ctl_fd; /* the control socket, -1 if none */
	struct event *ctl_ev;
	struct ctl_client *ctl_clients;

	struct event *catch_up_ev; /* retries catch-ups that could not reach the remote */
	struct event *stop_ev;     /* after SIGTERM: the deadline for running deploys */
	int stopping;
};

#endif
