/*
 * release.c - release directories, the live symlink, and pruning.
 */
#include "release.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STAMP_LEN  20 /* "YYYYmmddTHHMMSS.mmmZ" */
#define COMMIT_LEN 12

int release_name(char *out, size_t outsz, long long ms, const char *commit)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char stamp[32];
	int n;

	if (gmtime_r(&t, &tm) == NULL || strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm) == 0)
		return -1;
	n = snprintf(out, outsz, "%s.%03lldZ-%.*s", stamp, ms % 1000, COMMIT_LEN, commit);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

static int all_of(const char *s, size_t n, const char *set)
{
	return strspn(s, set) >= n;
}

int release_name_valid(const char *name)
{
	const char *digits = "0123456789";
	const char *rest = name + STAMP_LEN + 1;

	if (strlen(name) < STAMP_LEN + 2)
		return 0;
	if (!all_of(name, 8, digits) || name[8] != 'T' || !all_of(name + 9, 6, digits) ||
	    name[15] != '.' || !all_of(name + 16, 3, digits) || name[19] != 'Z' || name[20] != '-')
		return 0;
	if (strcmp(rest, "legacy") == 0)
		return 1;
	return strlen(rest) == COMMIT_LEN && all_of(rest, COMMIT_LEN, "0123456789abcdef");
}

static int newest_first(const void *a, const void *b)
{
	return strcmp(*(const char *const *)b, *(const char *const *)a);
}

size_t release_prune_plan(const char *const *names, size_t n, const char *live, unsigned keep,
                          const char **del)
{
	const char **valid = calloc(n ? n : 1, sizeof(*valid));
	size_t i, nvalid = 0, ndel = 0, kept = 0;
	int live_seen = 0;

	if (valid == NULL)
		return 0; /* pruning is best effort: keep everything */
	for (i = 0; i < n; i++) {
		if (strncmp(names[i], TH_RELEASE_TMP, strlen(TH_RELEASE_TMP)) == 0)
			del[ndel++] = names[i];
		else if (release_name_valid(names[i]))
			valid[nvalid++] = names[i];
	}
	qsort(valid, nvalid, sizeof(*valid), newest_first);
	for (i = 0; i < nvalid; i++)
		live_seen |= live != NULL && strcmp(valid[i], live) == 0;
	/* The live release always stays and takes one of the `keep` places. */
	if (live_seen && keep > 0)
		keep--;
	for (i = 0; i < nvalid; i++) {
		if (live != NULL && strcmp(valid[i], live) == 0)
			continue;
		if (kept < keep)
			kept++;
		else
			del[ndel++] = valid[i];
	}
	free(valid);
	return ndel;
}

static int same_parent(const char *a, const char *b)
{
	char x[PATH_MAX], y[PATH_MAX];

	snprintf(x, sizeof(x), "%s", a);
	snprintf(y, sizeof(y), "%s", b);
	return strcmp(dirname(x), dirname(y)) == 0;
}

int release_link_text(char *out, size_t outsz, const char *target, const char *releases,
                      const char *name)
{
	const char *base = strrchr(releases, '/');
	int n;

	if (same_parent(target, releases) && base != NULL)
		n = snprintf(out, outsz, "%s/%s", base + 1, name);
	else
		n = snprintf(out, outsz, "%s/%s", releases, name);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

void release_live(const char *target, const char *releases, char *out, size_t outsz)
{
	char link[PATH_MAX];
	const char *base = strrchr(releases, '/');
	ssize_t n = readlink(target, link, sizeof(link) - 1);
	const char *name;

	out[0] = '\0';
	if (n <= 0 || base == NULL)
		return;
	link[n] = '\0';
	name = strrchr(link, '/');
	if (name == NULL)
		return;
	/* Only a link into our own releases directory names a release of ours. */
	if ((size_t)(name - link) == strlen(releases) &&
	    strncmp(link, releases, strlen(releases)) == 0)
		snprintf(out, outsz, "%s", name + 1);
	else if ((size_t)(name - link) == strlen(base + 1) &&
	         strncmp(link, base + 1, strlen(base + 1)) == 0)
		snprintf(out, outsz, "%s", name + 1);
	if (!release_name_valid(out))
		out[0] = '\0';
}

static int fsync_parent(const char *path)
{
	char copy[PATH_MAX];
	int fd, rc;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

static int complain(const char *what, const char *path)
{
	fprintf(stderr, "tailhook: %s %s: %s\n", what, path, strerror(errno));
	return -1;
}

/* The target was a plain directory: exchange it with the link, keep it. */
static int switch_from_dir(const char *tmp, const char *target, const char *releases)
{
	char keep[PATH_MAX], name[64];
	struct timespec ts;

	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, target, RENAME_EXCHANGE) < 0)
		return complain("cannot exchange the symlink with the directory", target);
	clock_gettime(CLOCK_REALTIME, &ts);
	release_name(name, sizeof(name), (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
	             "legacy");
	/* release_name took 12 characters of "legacy": exactly "legacy". */
	snprintf(keep, sizeof(keep), "%s/%s", releases, name);
	if (rename(tmp, keep) < 0)
		return complain("cannot move the old directory to", keep);
	return 0;
}

int release_switch(const char *target, const char *releases, const char *name)
{
	char tmp[PATH_MAX], text[PATH_MAX], dir[PATH_MAX];
	const char *base = strrchr(target, '/');
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", target);
	if (base == NULL || release_link_text(text, sizeof(text), target, releases, name) < 0 ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.tailhook-new", dirname(dir), base + 1) >=
	        (int)sizeof(tmp)) {
		fprintf(stderr, "tailhook: path too long: %s\n", target);
		return -1;
	}
	/* Only one deploy of a site runs at a time: a leftover is from a crash. */
	if (unlink(tmp) < 0 && errno != ENOENT)
		return complain("cannot remove", tmp);
	if (symlink(text, tmp) < 0)
		return complain("cannot create the symlink", tmp);
	if (lstat(target, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (switch_from_dir(tmp, target, releases) < 0)
			return -1;
	} else if (rename(tmp, target) < 0) {
		unlink(tmp);
		return complain("cannot rename the symlink onto", target);
	}
	if (fsync_parent(target) < 0)
		return complain("cannot sync the directory of", target);
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 ? complain("cannot remove", path) : 0;
	return unlink(path) < 0 ? complain("cannot remove", path) : 0;
}

int release_remove_tree(const char *path)
{
	/* FTW_PHYS: a symlink in a build output is removed, never followed. */
	return nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) == 0 ? 0 : -1;
}

static size_t list_dir(DIR *dh, char ***out)
{
	const struct dirent *de;
	char **names = NULL, **grown;
	size_t n = 0, cap = 0;

	while ((de = readdir(dh)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(names, cap * sizeof(*names));
			if (grown == NULL)
				break;
			names = grown;
		}
		names[n] = strdup(de->d_name);
		if (names[n] != NULL)
			n++;
	}
	*out = names;
	return n;
}

int release_prune(const char *releases, const char *live, unsigned keep)
{
	DIR *dh = opendir(releases);
	char **names = NULL, path[PATH_MAX];
	const char **del;
	size_t n, ndel, i;
	int rc = 0;

	if (dh == NULL)
		return complain("cannot read", releases);
	n = list_dir(dh, &names);
	closedir(dh);
	del = calloc(n ? n : 1, sizeof(*del));
	ndel = del != NULL ? release_prune_plan((const char *const *)names, n, live, keep, del) : 0;
	for (i = 0; i < ndel; i++) {
		snprintf(path, sizeof(path), "%s/%s", releases, del[i]);
		if (release_remove_tree(path) < 0)
			rc = -1;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(del);
	return rc;
}
