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

/* One running deploy at most, and at most one pending behind it. */
struct site_state {
	pid_t worker;
	int pending;
	struct th_msg running, queued;
	long long started_ms;
};

struct deployer {
	struct event_base *base;
	struct th_config cfg;
	int privileged; /* started as root: switch users, chroot the receiver */
	struct th_user rx_user;
	struct th_user *site_users;
	struct site_state *sites;
	int listen_fds[TH_MAX_LISTEN];
	char *cert_pem, *key_pem;
	size_t cert_len, key_len;
	char receiver_path[PATH_MAX];

	pid_t rx_pid;
	int rx_sock; /* our end of the socketpair, -1 when no receiver */
	struct event *rx_ev;
	struct event *restart_ev;
	unsigned restart_delay_ms;
	long long rx_started_ms;
	int stopping;
};

#endif
