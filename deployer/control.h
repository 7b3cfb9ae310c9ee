/*
 * control.h - the local control channel: `tailhook -f FILE -t SITE`.
 *
 * The running daemon listens on STATE/control.sock, a SOCK_SEQPACKET Unix
 * socket in its own state-dir (owned by it, mode 0700), and accepts a peer
 * only if SO_PEERCRED says it runs as the daemon's own uid.  A request is
 * one fixed-size packet naming a site; the daemon answers with one
 * "accepted" packet at once and one "result" packet when the deploy that
 * serves the request has ended, then closes.  Nothing else is parsed.
 */
#ifndef TH_CONTROL_H
#define TH_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "deployer.h"

#define TH_CTL_MAGIC   0x74686331u /* "thc1" */
#define TH_CTL_VERSION 1
#define TH_CTL_DEPLOY  1 /* op: deploy the site now, or after the running deploy */

enum th_ctl_kind { TH_CTL_ACCEPTED = 1, TH_CTL_RESULT, TH_CTL_ERROR };

struct th_ctl_req {
	uint32_t magic;
	uint16_t version;
	uint16_t op;
	char site[64]; /* NUL-terminated site name */
};

struct th_ctl_resp {
	uint32_t magic;
	uint16_t version;
	uint16_t kind;  /* enum th_ctl_kind */
	int32_t status; /* TH_CTL_RESULT: the worker's exit status (DEPLOY_*), -1 not run */
	char text[500]; /* one line for the operator, NUL-terminated */
};

_Static_assert(sizeof(struct th_ctl_req) == 72, "th_ctl_req has no padding");
_Static_assert(sizeof(struct th_ctl_resp) == 512, "th_ctl_resp has no padding");

/* STATE/control.sock; 0, or -1 if it does not fit. */
int control_path(char *out, size_t outsz, const char *state_dir);

/*
 * Daemon side: binds STATE/control.sock (refusing if another daemon
 * answers there, removing a stale one) and watches it.  0, or -1 with err.
 */
int control_open(struct deployer *d, char *err, size_t errlen);

/* Stopping: closes the socket and removes its file; waiting clients stay. */
void control_stop_listening(struct deployer *d);

/* Closes the socket, removes its file and ends every client. */
void control_close(struct deployer *d);

/* Deploy number `n` of site i ended with `status` (-1: it never ran). */
void control_deploy_ended(struct deployer *d, size_t i, unsigned long long n, int status);

/* A reload removed site i (indexes of the old config). */
void control_site_removed(struct deployer *d, size_t i);

/* One line describing the last attempt of site i, from its state file. */
void control_describe(const struct deployer *d, size_t i, int status, char *out, size_t outsz);

/*
 * Client side.  Returns 0 if a daemon served the request (*status holds
 * the result), 1 if no daemon listens there, -1 on any other error (err).
 * Prints the daemon's lines to stdout.
 */
int control_request(const char *state_dir, const char *site, int *status, char *err, size_t errlen);

#endif
