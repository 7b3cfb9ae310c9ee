/*
 * state.c - the per-site state file: format, parse, atomic replace.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

void state_init(struct th_state *s)
{
	memset(s, 0, sizeof(*s));
}

void state_fmt_time(char *out, size_t outsz, long long t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL) {
		snprintf(out, outsz, "-");
		return;
	}
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int state_parse_time(const char *s, long long *t)
{
	struct tm tm;
	const char *end;

	if (strcmp(s, "-") == 0) {
		*t = 0;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0' || strlen(s) != 20)
		return -1;
	*t = (long long)timegm(&tm);
	return 0;
}

struct writer {
	char *buf;
	size_t len, pos;
	int full;
};

static void put(struct writer *w, const char *key, const char *value)
{
	int n;

	if (w->full)
		return;
	n = snprintf(w->buf + w->pos, w->len - w->pos, "%s=%s\n", key, value);
	if (n < 0 || (size_t)n >= w->len - w->pos)
		w->full = 1;
	else
		w->pos += (size_t)n;
}

static void put_num(struct writer *w, const char *key, long long v)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", v);
	put(w, key, num);
}

static void put_time(struct writer *w, const char *key, long long t)
{
	char ts[32];

	state_fmt_time(ts, sizeof(ts), t);
	put(w, key, ts);
}

int state_format(const struct th_state *s, char *buf, size_t len)
{
	struct writer w = {buf, len, 0, 0};
	char clean[sizeof(s->output) * 4];

	put(&w, "# tailhook site state", "1");
	put(&w, "commit", s->commit);
	put(&w, "release", s->release);
	put_time(&w, "deployed-at", s->deployed_at);
	put(&w, "last-result", s->result);
	put(&w, "last-commit", s->last_commit);
	put(&w, "last-delivery", s->delivery);
	put(&w, "last-step", s->step);
	put(&w, "last-status", s->status);
	/* Build output is anything; one sanitised line keeps the file parseable. */
	log_sanitize(clean, sizeof(clean), s->output, strlen(s->output));
	put(&w, "last-output", clean);
	put_time(&w, "last-finished-at", s->finished_at);
	put_num(&w, "last-duration-ms", s->duration_ms);
	put_num(&w, "deploys", (long long)s->deploys);
	return w.full ? -1 : (int)w.pos;
}

static int is_hex40_or_empty(const char *v)
{
	size_t n = strlen(v);

	return n == 0 || (n == TH_COMMIT_HEX && strspn(v, "0123456789abcdef") == n);
}

static int copy(char *dst, size_t dstsz, const char *v)
{
	if (strlen(v) >= dstsz)
		return -1;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int parse_count(const char *v, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(v, &end, 10);
	return errno != 0 || end == v || *end != '\0' || *out < 0 ? -1 : 0;
}

static int set_field(struct th_state *s, const char *k, const char *v)
{
	long long n;

	if (strcmp(k, "commit") == 0)
		return is_hex40_or_empty(v) ? copy(s->commit, sizeof(s->commit), v) : -1;
	if (strcmp(k, "last-commit") == 0)
		return is_hex40_or_empty(v) ? copy(s->last_commit, sizeof(s->last_commit), v) : -1;
	if (strcmp(k, "release") == 0)
		return strchr(v, '/') == NULL ? copy(s->release, sizeof(s->release), v) : -1;
	if (strcmp(k, "deployed-at") == 0)
		return state_parse_time(v, &s->deployed_at);
	if (strcmp(k, "last-finished-at") == 0)
		return state_parse_time(v, &s->finished_at);
	if (strcmp(k, "last-result") == 0)
		return copy(s->result, sizeof(s->result), v);
	if (strcmp(k, "last-delivery") == 0)
		return copy(s->delivery, sizeof(s->delivery), v);
	if (strcmp(k, "last-step") == 0)
		return copy(s->step, sizeof(s->step), v);
	if (strcmp(k, "last-status") == 0)
		return copy(s->status, sizeof(s->status), v);
	if (strcmp(k, "last-output") == 0)
		return copy(s->output, sizeof(s->output), v);
	if (strcmp(k, "last-duration-ms") == 0)
		return parse_count(v, &s->duration_ms);
	if (strcmp(k, "deploys") == 0) {
		if (parse_count(v, &n) < 0)
			return -1;
		s->deploys = (unsigned long long)n;
	}
	return 0; /* unknown keys: a newer tailhook wrote them */
}

static int parse_line(struct th_state *s, char *line)
{
	char *eq;

	if (line[0] == '\0' || line[0] == '#')
		return 0;
	eq = strchr(line, '=');
	if (eq == NULL || eq == line)
		return -1;
	*eq = '\0';
	return set_field(s, line, eq + 1);
}

int state_parse(struct th_state *s, const char *buf, size_t len)
{
	char line[TH_STATE_MAX];
	size_t pos = 0;

	state_init(s);
	if (memchr(buf, '\0', len) != NULL)
		goto bad;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n;
		if (nl == NULL)
			goto bad; /* a torn write would end without a newline */
		n = (size_t)(nl - (buf + pos));
		if (n >= sizeof(line))
			goto bad;
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		if (parse_line(s, line) < 0)
			goto bad;
		pos += n + 1;
	}
	return 0;
bad:
	state_init(s);
	return -1;
}

int state_site_path(char *out, size_t outsz, const char *state_dir, const char *site,
                    const char *file)
{
	int n;

	if (file != NULL)
		n = snprintf(out, outsz, "%s/sites/%s/%s", state_dir, site, file);
	else
		n = snprintf(out, outsz, "%s/sites/%s", state_dir, site);
	return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

int state_load(const char *state_dir, const char *site, struct th_state *s)
{
	char path[4096], buf[TH_STATE_MAX];
	ssize_t n;
	int fd;

	state_init(s);
	if (state_site_path(path, sizeof(path), state_dir, site, "state") < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 1 : -1;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || (size_t)n == sizeof(buf))
		return -1;
	return state_parse(s, buf, (size_t)n);
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int state_write_atomic(const char *dir, const char *name, const void *buf, size_t len)
{
	char tmp[4096], dst[4096];
	int fd, rc = -1, saved;

	if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name) >= (int)sizeof(tmp) ||
	    snprintf(dst, sizeof(dst), "%s/%s", dir, name) >= (int)sizeof(dst)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, buf, len) == (ssize_t)len && fsync(fd) == 0)
		rc = 0;
	saved = errno;
	if (close(fd) < 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	if (rc == 0 && rename(tmp, dst) < 0) {
		rc = -1;
		saved = errno;
	}
	if (rc < 0) {
		unlink(tmp);
		errno = saved;
		return -1;
	}
	/* The rename itself must survive a power cut, or catch-up sees the old commit. */
	return fsync_dir(dir);
}

int state_save(const char *state_dir, const char *site, const struct th_state *s)
{
	char dir[4096], buf[TH_STATE_MAX];
	int n = state_format(s, buf, sizeof(buf));

	if (n < 0 || state_site_path(dir, sizeof(dir), state_dir, site, NULL) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return state_write_atomic(dir, "state", buf, (size_t)n);
}

static int make_dir(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		return -1;
	}
	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", path);
		return -1;
	}
	return 0;
}

/* Others must not be able to plant a symlink or fake a deployed commit. */
static int check_private_dir(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a directory", path);
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		snprintf(err, errlen,
		         "%s: must be owned by uid %lu and not writable by group or others", path,
		         (unsigned long)geteuid());
		return -1;
	}
	return 0;
}

int state_dirs_check(const struct th_config *cfg, char *err, size_t errlen)
{
	const char *state_dir = cfg->state_dir;
	char path[4096];
	size_t i;

	if (make_dir(state_dir, err, errlen) < 0 || check_private_dir(state_dir, err, errlen) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/sites", state_dir);
	if (make_dir(path, err, errlen) < 0 || check_private_dir(path, err, errlen) < 0)
		return -1;
	for (i = 0; i < cfg->nsites; i++) {
		const char *site = cfg->sites[i].name;
		if (state_site_path(path, sizeof(path), state_dir, site, NULL) < 0 ||
		    make_dir(path, err, errlen) < 0 || check_private_dir(path, err, errlen) < 0)
			return -1;
		if (state_site_path(path, sizeof(path), state_dir, site, "deploys") < 0 ||
		    make_dir(path, err, errlen) < 0)
			return -1;
	}
	return 0;
}
