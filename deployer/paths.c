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

#include "deploy_run.h"

static int check_chroot(const struct deployer *d, int create, char *err, size_t errlen)
{
	const char *p = d->cfg.chroot;
	struct stat st;

	if (!d->privileged)
		return 0; /* not used: no chroot without root */
	if (stat(p, &st) < 0 && errno == ENOENT) {
		/* -n (and so ExecStartPre) must pass before the first start has
		 * created it; the start itself creates it. */
		if (!create)
			return 0;
		if (mkdir(p, 0755) < 0) {
			snprintf(err, errlen, "%s: cannot create the chroot directory: %s", p,
			         strerror(errno));
			return -1;
		}
	}
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: chroot directory missing", p);
		return -1;
	}
	if (st.st_uid != 0 || (st.st_mode & 022) != 0 || dir_has_entries(p) != 0) {
		snprintf(err, errlen,
		         "%s: chroot must be an empty directory owned by root and not "
		         "writable by group or others",
		         p);
		return -1;
	}
	return 0;
}

/*
 * chown through a descriptor opened without following symlinks: the parent
 * may belong to the site user, who could swap the new directory for a link.
 */
static int give_to(const char *p, const struct th_user *u)
{
	int fd = open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fchown(fd, u->uid, u->gid);
	close(fd);
	return rc;
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
		if (mkdir(p, 0755) < 0 || (d->privileged && give_to(p, u) < 0)) {
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

/*
 * publish = symlink: the site user replaces `target` by renaming a new
 * symlink over it, so it must own the directory that holds it.  The target
 * itself may be missing, our symlink, or a directory to take over.
 */
static int check_live_link(const struct deployer *d, size_t i, char *err, size_t errlen)
{
	const struct th_user *u = &d->site_users[i];
	const char *target = d->cfg.sites[i].target;
	char parent[PATH_MAX];
	struct stat st;

	snprintf(parent, sizeof(parent), "%s", target);
	*strrchr(parent, '/') = '\0';
	if (stat(parent[0] ? parent : "/", &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: the directory holding target %s must exist", parent,
		         target);
		return -1;
	}
	if (d->privileged && st.st_uid != u->uid) {
		snprintf(err, errlen,
		         "%s: must be owned by the site user %s (uid %u): with publish = symlink "
		         "the live symlink %s is replaced there",
		         parent, u->name, (unsigned)u->uid, target);
		return -1;
	}
	if (lstat(target, &st) < 0)
		return 0; /* the first deploy creates it */
	if (!S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a symlink or a directory", target);
		return -1;
	}
	if (d->privileged && st.st_uid != u->uid) {
		snprintf(err, errlen, "%s: must be owned by the site user %s (uid %u)", target,
		         u->name, (unsigned)u->uid);
		return -1;
	}
	return 0;
}

static int check_site(const struct deployer *d, size_t i, int create, char *err, size_t errlen)
{
	const struct th_site *s = &d->cfg.sites[i];
	char releases[PATH_MAX];

	if (check_site_dir(d, i, s->checkout, create, err, errlen) < 0)
		return -1;
	if (s->publish == TH_PUBLISH_RSYNC)
		return check_site_dir(d, i, s->target, create, err, errlen);
	deploy_releases_dir(s, releases, sizeof(releases));
	if (check_live_link(d, i, err, errlen) < 0)
		return -1;
	return check_site_dir(d, i, releases, create, err, errlen);
}

int paths_check(const struct deployer *d, int create, char *err, size_t errlen)
{
	size_t i;

	if (check_chroot(d, create, err, errlen) < 0)
		return -1;
	for (i = 0; i < d->cfg.nsites; i++)
		if (check_site(d, i, create, err, errlen) < 0)
			return -1;
	return 0;
}

int dir_has_entries(const char *path)
{
	DIR *dh = opendir(path);
	const struct dirent *de;
	int found = 0;

	if (dh == NULL)
		return -1;
	while (!found && (de = readdir(dh)) != NULL)
		found = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(dh);
	return found;
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
