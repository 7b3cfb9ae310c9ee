/*
 * load.h - read and check everything the config names, without side
 * effects on the running daemon: used at start, on SIGHUP (where an error
 * must leave the old config in force) and by tailhook -t.
 */
#ifndef TH_LOAD_H
#define TH_LOAD_H

#include <stddef.h>

#include "deployer.h"

/*
 * Loads `file` into the cfg, cert/key and user fields of *d (which must
 * not hold any yet): config_load, then the certificate and key (decoded
 * and matched: a reload must never hand the receiver a pair it cannot
 * use), then the users.  Returns 0, or -1 with one "FILE:LINE: message"
 * or "PATH: message" line in err and those fields freed again.
 */
int load_config(struct deployer *d, const char *file, char *err, size_t errlen);

/* Frees what load_config filled in (and the per-site table). */
void load_free(struct deployer *d);

/*
 * Checks (and creates as needed) the directories: the chroot, each site's
 * checkout, releases and target, and state-dir.  0, or -1 with err.
 */
int load_check_paths(const struct deployer *d, int create, char *err, size_t errlen);

#endif
