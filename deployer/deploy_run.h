/*
 * deploy_run.h - one deploy of one site, in a worker process.
 *
 * fetch the configured branch from the configured remote, reset hard to
 * the fetched tip, clean, build, and rsync the output into the target.
 * The commit in the request is only compared with the fetched tip: the
 * receiver cannot choose what gets deployed.
 */
#ifndef TH_DEPLOY_RUN_H
#define TH_DEPLOY_RUN_H

#include <stddef.h>

#include "deployer.h"

/* Runs in the forked worker; returns its exit status (0 = deployed). */
int deploy_run(struct deployer *d, size_t site, const struct th_msg *m);

#endif
