/*
 * paths.c - ownership and emptiness checks on the directories we use.
 */
#include "paths.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_empty_dir(const char *path)
{
	DIR *dh = opendir(path);
	const struct dirent *de;
	int empty = 1;

	if (dh == NULL)
		return 0;
	while (empty && (de = readdir(dh)) != NULL)
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	closedir(dh);
	return empty;
}

static int check_chroot(const struct deployer *d, int create, char *err, size_t errlen)
{
	const char *p = d->cfg.chroot;
	struct stat st;

	if (!d->privileged)
		return 0; /* not used: no chroot without root */
	if (stat(p, &st) < 0 && errno == ENOENT && create)
		mkdir(p, 0755);
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: chroot directory missing", p);
		return -1;
	}
	if (st.st_uid != 0 || (st.st_mode & 022) != 0 || !is_empty_dir(p)) {
		snprintf(err, errlen,
		         "%s: chroot must be an empty directory owned by root and not "
		         "writable by group or others",
		         p);
		return -1;
	}
	return 0;
}

/* A checkout or target: created for the site user, or owned by it. */
static int check_site_dir(const struct deployer *d, size_t i, const char *p, int create, char *err,
                          size_t errlen)
{
	const struct th_user *u = &d->site_users[i];
	struct stat st;

	if (stat(p, &st) < 0) {
		if (errno != ENOENT || !create)
			return 0; /* -n: the daemon will create it */
		if (mkdir(p, 0755) < 0 || (d->privileged && chown(p, u->uid, u->gid) < 0)) {
			snprintf(err, errlen, "%s: cannot create: %s", p, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", p);
		return -1;
	}
	if (d->privileged && st.st_uid != u->uid) {
		snprintf(err, errlen, "%s: must be owned by the site user %s (uid %u)", p, u->name,
		         (unsigned)u->uid);
		return -1;
	}
	return 0;
}

int paths_check(const struct deployer *d, int create, char *err, size_t errlen)
{
	size_t i;

	if (check_chroot(d, create, err, errlen) < 0)
		return -1;
	for (i = 0; i < d->cfg.nsites; i++) {
		const struct th_site *s = &d->cfg.sites[i];
		if (check_site_dir(d, i, s->checkout, create, err, errlen) < 0 ||
		    check_site_dir(d, i, s->target, create, err, errlen) < 0)
			return -1;
	}
	return 0;
}

char *paths_read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > (16 << 20)) {
		snprintf(err, errlen, "%s: %s", path, fd < 0 ? strerror(errno) : "too large");
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	n = buf != NULL ? read(fd, buf, (size_t)st.st_size) : -1;
	if (n != st.st_size) {
		snprintf(err, errlen, "%s: cannot read", path);
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	*len = (size_t)n;
out:
	if (fd >= 0)
		close(fd);
	return buf;
}
