/*
 * deploy_run.h - one deploy of one site, in a worker process.
 *
 * fetch the configured branch from the configured remote, reset hard to
 * the fetched tip, clean, build, and publish the output: into a new
 * release directory and a symlink switch (publish = symlink), or with
 * rsync --delay-updates into the target (publish = rsync).  The commit in
 * the request is only compared with the fetched tip: the receiver cannot
 * choose what gets deployed.  Every attempt is recorded in the site's
 * state file, with the log of its lines (state.h).
 */
#ifndef TH_DEPLOY_RUN_H
#define TH_DEPLOY_RUN_H

#include <stddef.h>

#include "deployer.h"

enum deploy_kind {
	DEPLOY_PUSH,    /* a webhook delivery */
	DEPLOY_CATCHUP, /* at start: deploy only if the remote tip is not live */
	DEPLOY_MANUAL,  /* tailhook -t SITE */
};

/* Exit statuses of a worker. */
#define DEPLOY_OK         0
#define DEPLOY_FAILED     1
#define DEPLOY_UP_TO_DATE 2 /* catch-up: the remote tip is already live */
#define DEPLOY_CHECK_FAIL 3 /* catch-up: the remote could not be asked */

/* Runs in the forked worker; returns its exit status (DEPLOY_*). */
int deploy_run(struct deployer *d, size_t site, const struct th_msg *m, enum deploy_kind kind);

/* The releases directory of a site: `releases`, or TARGET.releases. */
void deploy_releases_dir(const struct th_site *s, char *out, size_t outsz);

#endif
