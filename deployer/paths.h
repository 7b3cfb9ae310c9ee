/*
 * paths.h - start-up checks of the directories tailhook relies on.
 */
#ifndef TH_PATHS_H
#define TH_PATHS_H

#include <stddef.h>

#include "deployer.h"

/*
 * Checks (and, when `create`, creates) the receiver's chroot, each site's
 * checkout and target.  As root: the chroot must be an empty directory
 * owned by root and writable by no one else; checkout and target must be
 * owned by the site user (new ones are created for it).  Returns 0, or -1
 * with "PATH: message" in err.
 */
int paths_check(const struct deployer *d, int create, char *err, size_t errlen);

/* 1 if the directory holds anything, 0 if it is empty, -1 if unreadable. */
int dir_has_entries(const char *path);

/* Reads a whole (small) file; returns a malloc'd buffer or NULL with err set. */
char *paths_read_file(const char *path, size_t *len, char *err, size_t errlen);

#endif
