/*
 * config.c - loads and validates the deployer's configuration.
 *
 * The file is read into memory through one descriptor, so that the owner
 * and mode checked are those of the bytes parsed.  inih tokenises the
 * key = value lines, but it is fed by our own reader, one line per call:
 * Debian's inih gives the handler no line number, and it never tells the
 * handler about a section header, so empty or repeated sections and the
 * line of a header would otherwise be invisible.  The reader therefore
 * numbers lines and handles "[section]" headers itself.
 */
#include "config.h"
#include "log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONF_MAX_SIZE (1024 * 1024)
/* Room for printing a value from the file; longer ones end in "...". */
#define QUOTE_MAX  256
#define TH_STR_(x) #x
#define TH_STR(x)  TH_STR_(x)

enum section_kind { SEC_NONE, SEC_SERVER, SEC_SITE };

struct parser {
	struct th_config *cfg;
	const char *file;
	char *err;
	size_t errlen;
	int failed;
	int check_owner;
	uid_t owner;
	const char *buf; /* the whole file */
	size_t len, pos;
	int line; /* of the line last handed to inih */
	enum section_kind sec;
	int sec_line;
	unsigned seen; /* bit i set: key i of the section's table was given */
	int server_line;
	size_t sites_cap;
	int legacy_line; /* line of legacy-sha1 in the current [site], 0 if not given */
};

struct key;
typedef int (*setter_fn)(struct parser *p, const struct key *k, void *obj, const char *v);

#define K_REQUIRED 1u
#define K_MULTI    2u

struct key {
	const char *name;
	setter_fn set;
	size_t off; /* of the field in struct th_config or struct th_site */
	unsigned long long min, max;
	unsigned flags;
};

static int fail_at(struct parser *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Only the first error is kept: later ones are usually its consequences. */
static int fail_at(struct parser *p, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed || p->errlen == 0) {
		p->failed = 1;
		return -1;
	}
	p->failed = 1;
	if (line > 0)
		n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, line);
	else
		n = snprintf(p->err, p->errlen, "%s: ", p->file);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Values come from a file an admin may have mangled; keep messages one line. */
static const char *quote(char out[QUOTE_MAX], const char *s)
{
	log_sanitize(out, QUOTE_MAX, s, strlen(s));
	return out;
}

static int fail_value(struct parser *p, const struct key *k, const char *v, const char *why)
{
	char q[QUOTE_MAX];

	return fail_at(p, p->line, "%s '%s': %s", k->name, quote(q, v), why);
}

/* Errors about a file the config names: "KEY PATH: problem". */
static int fail_file(struct parser *p, const char *key, const char *path, const char *why)
{
	char q[QUOTE_MAX];

	return fail_at(p, p->line, "%s %s: %s", key, quote(q, path), why);
}

static int oom(struct parser *p)
{
	return fail_at(p, p->line, "out of memory");
}

/* The tables hold offsets of fields whose type matches the setter. */
static void *field(void *obj, const struct key *k)
{
	return (char *)obj + k->off;
}

static char **str_field(void *obj, const struct key *k)
{
	return field(obj, k);
}

static int store_str(struct parser *p, char **slot, const char *v)
{
	char *dup = strdup(v);

	if (dup == NULL)
		return oom(p);
	free(*slot);
	*slot = dup;
	return 0;
}

/* Digits only: a sign, blanks or a suffix would hide typos. */
static int parse_number(const char *s, unsigned long long min, unsigned long long max,
                        unsigned long long *out)
{
	unsigned long long n = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (*s < '0' || *s > '9' || n > (ULLONG_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	if (n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

static int fail_number(struct parser *p, const struct key *k, const char *v)
{
	char why[80];

	snprintf(why, sizeof(why), "must be a whole number from %llu to %llu", k->min, k->max);
	return fail_value(p, k, v, why);
}

static int set_unsigned(struct parser *p, const struct key *k, void *obj, const char *v)
{
	unsigned long long n;

	if (parse_number(v, k->min, k->max, &n) < 0)
		return fail_number(p, k, v);
	*(unsigned *)field(obj, k) = (unsigned)n;
	return 0;
}

static int set_size(struct parser *p, const struct key *k, void *obj, const char *v)
{
	unsigned long long n;

	if (parse_number(v, k->min, k->max, &n) < 0)
		return fail_number(p, k, v);
	*(size_t *)field(obj, k) = (size_t)n;
	return 0;
}

static int set_abs(struct parser *p, const struct key *k, void *obj, const char *v)
{
	if (v[0] != '/')
		return fail_value(p, k, v, "must be an absolute path");
	return store_str(p, str_field(obj, k), v);
}

static int has_dotdot(const char *path)
{
	const char *s = path;

	while (*s != '\0') {
		size_t n = strcspn(s, "/");
		if (n == 2 && s[0] == '.' && s[1] == '.')
			return 1;
		s += n;
		s += strspn(s, "/");
	}
	return 0;
}

/*
 * Build trees and deployed sites are replaced wholesale, so a path that
 * resolves somewhere unexpected ("/", or through "..") must never load.
 */
static int set_tree(struct parser *p, const struct key *k, void *obj, const char *v)
{
	if (v[0] != '/')
		return fail_value(p, k, v, "must be an absolute path");
	if (v[strspn(v, "/")] == '\0')
		return fail_value(p, k, v, "must not be the root directory");
	if (has_dotdot(v))
		return fail_value(p, k, v, "must not contain '..'");
	return store_str(p, str_field(obj, k), v);
}

static int set_output(struct parser *p, const struct key *k, void *obj, const char *v)
{
	const char *c = v;

	if (v[0] == '/' || has_dotdot(v))
		return fail_value(p, k, v, "must be a relative path without '..'");
	while (c[0] == '.' && c[1] == '/')
		c += 2;
	/* The repository itself must never be published. */
	if (strncmp(c, ".git", 4) == 0 && (c[4] == '\0' || c[4] == '/'))
		return fail_value(p, k, v, "must not be inside .git");
	return store_str(p, str_field(obj, k), v);
}

/* Portable user names only; a leading '-' would read as an option. */
static int set_user(struct parser *p, const struct key *k, void *obj, const char *v)
{
	const char *c;

	for (c = v; *c != '\0'; c++)
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '.' && *c != '-')
			break;
	if (*c != '\0' || v[0] == '-')
		return fail_value(p, k, v, "not a valid user name");
	return store_str(p, str_field(obj, k), v);
}

static int valid_port(const char *s)
{
	unsigned long long n;

	return strlen(s) <= 5 && parse_number(s, 0, 65535, &n) == 0;
}

static int valid_listen(const char *v)
{
	char host[INET6_ADDRSTRLEN + 1];
	unsigned char addr[sizeof(struct in6_addr)];
	const char *h = v, *end;
	int af = AF_INET;

	if (v[0] == '[') {
		h = v + 1;
		end = strchr(h, ']');
		if (end == NULL || end[1] != ':')
			return 0;
		af = AF_INET6;
	} else {
		end = strrchr(v, ':');
		if (end == NULL)
			return 0;
	}
	if ((size_t)(end - h) >= sizeof(host))
		return 0;
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	return inet_pton(af, host, addr) == 1 && valid_port(end + (af == AF_INET6 ? 2 : 1));
}

/* A Unix socket path must fit sockaddr_un.sun_path with its NUL. */
static int valid_unix_listen(const char *v)
{
	const char *path = v + 5;

	return path[0] == '/' && strlen(path) < 108 && !has_dotdot(path) &&
	       path[strlen(path) - 1] != '/';
}

static int set_listen(struct parser *p, const struct key *k, void *obj, const char *v)
{
	struct th_config *cfg = obj;
	int is_unix = strncmp(v, "unix:", 5) == 0;

	if (cfg->nlisten == TH_MAX_LISTEN)
		return fail_at(p, p->line, "too many listen addresses (at most %d)", TH_MAX_LISTEN);
	if (is_unix ? !valid_unix_listen(v) : !valid_listen(v))
		return fail_value(p, k, v,
		                  "expected IPV4:PORT, [IPV6]:PORT (PORT from 0 to 65535) or "
		                  "unix:/ABSOLUTE/PATH (at most 107 bytes)");
	if (store_str(p, &cfg->listen[cfg->nlisten], v) < 0)
		return -1;
	cfg->nlisten++;
	return 0;
}

/*
 * Files holding key material must belong to the deployer's owner and be
 * closed to everyone else, or another local user could read or swap them.
 */
static int check_private(struct parser *p, const char *key, const char *path, const struct stat *st)
{
	char why[120];

	if (!S_ISREG(st->st_mode))
		return fail_file(p, key, path, "not a regular file");
	if (p->check_owner && (st->st_uid != p->owner || (st->st_mode & 077) != 0)) {
		snprintf(why, sizeof(why),
		         "must be owned by uid %lu and not accessible by group or others",
		         (unsigned long)p->owner);
		return fail_file(p, key, path, why);
	}
	return 0;
}

static int set_file(struct parser *p, const struct key *k, void *obj, const char *v, int private)
{
	struct stat st;

	if (v[0] != '/')
		return fail_value(p, k, v, "must be an absolute path");
	if (stat(v, &st) < 0)
		return fail_file(p, k->name, v, strerror(errno));
	if (private && check_private(p, k->name, v, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode))
		return fail_file(p, k->name, v, "not a regular file");
	return store_str(p, str_field(obj, k), v);
}

static int set_cert(struct parser *p, const struct key *k, void *obj, const char *v)
{
	return set_file(p, k, obj, v, 0);
}

static int set_tls_key(struct parser *p, const struct key *k, void *obj, const char *v)
{
	return set_file(p, k, obj, v, 1);
}

static int set_hook_path(struct parser *p, const struct key *k, void *obj, const char *v)
{
	const struct th_config *cfg = p->cfg;
	size_t i;

	if (v[0] != '/' || strpbrk(v, " \t?#") != NULL)
		return fail_value(p, k, v, "must start with '/' and contain no blanks, '?' or '#'");
	/* The current site is the last one and has no path yet. */
	for (i = 0; i + 1 < cfg->nsites; i++)
		if (strcmp(cfg->sites[i].path, v) == 0) {
			char why[QUOTE_MAX + 40];
			snprintf(why, sizeof(why), "already used by [site %s]", cfg->sites[i].name);
			return fail_value(p, k, v, why);
		}
	return store_str(p, str_field(obj, k), v);
}

static int set_provider(struct parser *p, const struct key *k, void *obj, const char *v)
{
	char q[QUOTE_MAX];
	int id = th_provider_parse(v);

	if (id < 0)
		return fail_at(p, p->line,
		               "unknown provider '%s': expected github, gitea, forgejo, gitlab, "
		               "bitbucket-cloud or bitbucket-server",
		               quote(q, v));
	/* legacy-sha1 may come first; whichever comes second reports the clash */
	if (id != TH_PROVIDER_GITHUB && p->legacy_line != 0)
		return fail_at(p, p->line, "provider %s: legacy-sha1 (line %d) is only for github",
		               v, p->legacy_line);
	*(enum th_provider *)field(obj, k) = (enum th_provider)id;
	return 0;
}

/* GitHub's SHA-1 header is weaker than its SHA-256 one: opt-in only, github only. */
static int set_legacy_sha1(struct parser *p, const struct key *k, void *obj, const char *v)
{
	struct th_site *site = obj;

	if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
		return fail_value(p, k, v, "must be yes or no");
	if (site->provider != TH_PROVIDER_GITHUB)
		return fail_at(p, p->line, "legacy-sha1 is only for provider github, not %s",
		               th_provider_name(site->provider));
	site->legacy_sha1 = strcmp(v, "yes") == 0;
	p->legacy_line = p->line;
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * The rules of git check-ref-format that matter here: the name is compared
 * with the pushed ref and passed to git, so nothing may read as an option,
 * a revision expression or a different ref.
 */
static int valid_branch(const char *v)
{
	const char *c;

	for (c = v; *c != '\0'; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f || strchr("~^:?*[\\", *c) != NULL)
			return 0;
	return v[0] != '-' && v[0] != '/' && v[0] != '.' && !ends_with(v, "/") &&
	       !ends_with(v, ".") && !ends_with(v, ".lock") && strstr(v, "..") == NULL &&
	       strstr(v, "//") == NULL && strstr(v, "/.") == NULL && strstr(v, "@{") == NULL &&
	       strcmp(v, "@") != 0;
}

static int set_branch(struct parser *p, const struct key *k, void *obj, const char *v)
{
	if (strncmp(v, "refs/", 5) == 0)
		return fail_value(p, k, v, "must be a branch name without 'refs/'");
	if (!valid_branch(v))
		return fail_value(p, k, v, "not a valid branch name");
	return store_str(p, str_field(obj, k), v);
}

static int set_remote(struct parser *p, const struct key *k, void *obj, const char *v)
{
	/* git would take "--upload-pack=..." as an option, not a remote. */
	if (v[0] == '-')
		return fail_value(p, k, v, "must not start with '-'");
	return store_str(p, str_field(obj, k), v);
}

static int set_build(struct parser *p, const struct key *k, void *obj, const char *v)
{
	const char *why = "invalid";
	char **argv = argv_split(v, &why);

	if (argv == NULL)
		return fail_at(p, p->line, "%s: %s", k->name, why);
	*(char ***)field(obj, k) = argv;
	return 0;
}

/* Reads until EOF or until buf is full; -1 with errno on a read error. */
static int read_fd(int fd, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;

	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return 0;
}

/* Strips one "\n" or "\r\n": editors add it, a webhook secret never has it. */
static size_t strip_newline(const unsigned char *s, size_t n)
{
	if (n > 0 && s[n - 1] == '\n') {
		n--;
		if (n > 0 && s[n - 1] == '\r')
			n--;
	}
	return n;
}

static int load_secret(struct parser *p, unsigned char **secret, size_t *secret_len,
                       const char *path, int fd)
{
	/* Two bytes for the newline, one to notice an oversized file. */
	size_t cap = TH_SECRET_MAX + 3, n = 0;
	unsigned char *buf = malloc(cap);
	int rc;

	if (buf == NULL)
		return oom(p);
	rc = read_fd(fd, (char *)buf, cap, &n);
	if (rc < 0) {
		rc = fail_file(p, "secret-file", path, strerror(errno));
	} else {
		n = strip_newline(buf, n);
		if (n == 0)
			rc = fail_file(p, "secret-file", path, "empty");
		else if (n > TH_SECRET_MAX)
			rc = fail_file(p, "secret-file", path,
			               "larger than " TH_STR(TH_SECRET_MAX) " bytes");
	}
	if (rc < 0) {
		explicit_bzero(buf, cap);
		free(buf);
		return -1;
	}
	*secret = buf;
	*secret_len = n;
	return 0;
}

/*
 * secret-file may be given twice so that a secret can be rotated: both
 * authenticate until the old one is removed from the config.
 */
static int set_secret(struct parser *p, const struct key *k, void *obj, const char *v)
{
	struct th_site *site = obj;
	int second = site->secret != NULL;
	struct stat st;
	int fd, rc;

	if (v[0] != '/')
		return fail_value(p, k, v, "must be an absolute path");
	if (second && site->secret2 != NULL)
		return fail_at(p, p->line,
		               "secret-file given more than twice (two allow rotation)");
	if (second && strcmp(site->secret_file, v) == 0)
		return fail_file(p, k->name, v, "given twice");
	/* O_NONBLOCK: a FIFO planted here must not hang the deployer. */
	fd = open(v, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fail_file(p, k->name, v, strerror(errno));
	if (fstat(fd, &st) < 0)
		rc = fail_file(p, k->name, v, strerror(errno));
	else
		rc = check_private(p, k->name, v, &st);
	if (rc == 0 && second)
		rc = load_secret(p, &site->secret2, &site->secret2_len, v, fd);
	else if (rc == 0)
		rc = load_secret(p, &site->secret, &site->secret_len, v, fd);
	close(fd);
	if (rc == 0)
		rc = store_str(p, second ? &site->secret_file2 : str_field(obj, k), v);
	return rc;
}

static int set_publish(struct parser *p, const struct key *k, void *obj, const char *v)
{
	if (strcmp(v, "symlink") != 0 && strcmp(v, "rsync") != 0)
		return fail_value(p, k, v, "must be symlink or rsync");
	*(enum th_publish *)field(obj, k) =
	    strcmp(v, "rsync") == 0 ? TH_PUBLISH_RSYNC : TH_PUBLISH_SYMLINK;
	return 0;
}

#define CFG(f)  offsetof(struct th_config, f)
#define SITE(f) offsetof(struct th_site, f)

static const struct key server_keys[] = {
    /* Optional: systemd may pass the sockets instead (listeners_from_systemd). */
    {"listen", set_listen, 0, 0, 0, K_MULTI},
    {"certificate", set_cert, CFG(certificate), 0, 0, K_REQUIRED},
    {"key", set_tls_key, CFG(key), 0, 0, K_REQUIRED},
    {"user", set_user, CFG(user), 0, 0, 0},
    {"chroot", set_abs, CFG(chroot), 0, 0, 0},
    {"state-dir", set_abs, CFG(state_dir), 0, 0, 0},
    {"handshake-timeout", set_unsigned, CFG(handshake_timeout), 1, 86400, 0},
    {"head-timeout", set_unsigned, CFG(head_timeout), 1, 86400, 0},
    {"request-timeout", set_unsigned, CFG(request_timeout), 1, 86400, 0},
    {"idle-timeout", set_unsigned, CFG(idle_timeout), 1, 86400, 0},
    {"max-connections", set_unsigned, CFG(max_connections), 1, 1000000, 0},
    {NULL, NULL, 0, 0, 0, 0},
};

static const struct key site_keys[] = {
    {"path", set_hook_path, SITE(path), 0, 0, K_REQUIRED},
    {"provider", set_provider, SITE(provider), 0, 0, 0},
    {"secret-file", set_secret, SITE(secret_file), 0, 0, K_REQUIRED | K_MULTI},
    {"legacy-sha1", set_legacy_sha1, SITE(legacy_sha1), 0, 0, 0},
    {"branch", set_branch, SITE(branch), 0, 0, K_REQUIRED},
    {"remote", set_remote, SITE(remote), 0, 0, K_REQUIRED},
    {"checkout", set_tree, SITE(checkout), 0, 0, K_REQUIRED},
    {"build", set_build, SITE(build), 0, 0, K_REQUIRED},
    {"output", set_output, SITE(output), 0, 0, K_REQUIRED},
    {"target", set_tree, SITE(target), 0, 0, K_REQUIRED},
    {"user", set_user, SITE(user), 0, 0, K_REQUIRED},
    {"timeout", set_unsigned, SITE(timeout), 1, 86400, 0},
    {"max-body", set_size, SITE(max_body), 1, 1073741824, 0},
    {"publish", set_publish, SITE(publish), 0, 0, 0},
    {"keep", set_unsigned, SITE(keep), 1, 100, 0},
    {"releases", set_tree, SITE(releases), 0, 0, 0},
    {NULL, NULL, 0, 0, 0, 0},
};

static const struct key *section_keys(const struct parser *p)
{
	return p->sec == SEC_SERVER ? server_keys : site_keys;
}

static void *section_obj(const struct parser *p)
{
	if (p->sec == SEC_SERVER)
		return p->cfg;
	return &p->cfg->sites[p->cfg->nsites - 1];
}

static const char *section_label(const struct parser *p, char *out, size_t outsz)
{
	if (p->sec == SEC_SERVER)
		snprintf(out, outsz, "[server]");
	else
		snprintf(out, outsz, "[site %s]", p->cfg->sites[p->cfg->nsites - 1].name);
	return out;
}

/* Tabs are blanks; any other control character is a mangled file. */
static int has_control(const char *v)
{
	for (; *v != '\0'; v++)
		if (((unsigned char)*v < ' ' && *v != '\t') || *v == 0x7f)
			return 1;
	return 0;
}

static int set_key(struct parser *p, const char *name, const char *v)
{
	char q[QUOTE_MAX], label[QUOTE_MAX + 8];
	const struct key *keys, *k;
	unsigned bit;

	if (p->sec == SEC_NONE)
		return fail_at(p, p->line, "key '%s' outside of any section", quote(q, name));
	keys = section_keys(p);
	section_label(p, label, sizeof(label));
	for (k = keys; k->name != NULL && strcmp(k->name, name) != 0; k++)
		;
	if (k->name == NULL)
		return fail_at(p, p->line, "unknown key '%s' in %s", quote(q, name), label);
	bit = 1u << (unsigned)(k - keys);
	if ((p->seen & bit) && !(k->flags & K_MULTI))
		return fail_at(p, p->line, "duplicate key '%s' in %s", k->name, label);
	if (*v == '\0')
		return fail_at(p, p->line, "empty value for '%s' in %s", k->name, label);
	if (has_control(v))
		return fail_at(p, p->line, "control character in value of '%s'", k->name);
	if (k->set(p, k, section_obj(p), v) < 0)
		return -1;
	p->seen |= bit;
	return 0;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	/* inih's idea of the section is ignored: read_line tracks headers. */
	(void)section;
	return set_key(user, name, value) == 0;
}

/*
 * GitLab sends the secret itself as a header value, and a header cannot
 * carry control bytes or keep blanks at its ends: such a token would
 * never match, so it is refused here rather than failing every delivery.
 */
static int header_safe(const unsigned char *s, size_t n)
{
	size_t i;

	if (n == 0 || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int check_site(struct parser *p, const struct th_site *site)
{
	if (site->provider != TH_PROVIDER_GITLAB)
		return 0;
	if (!header_safe(site->secret, site->secret_len))
		return fail_file(p, "secret-file", site->secret_file,
		                 "a gitlab token must be printable, without blanks at its ends");
	if (site->secret2 != NULL && !header_safe(site->secret2, site->secret2_len))
		return fail_file(p, "secret-file", site->secret_file2,
		                 "a gitlab token must be printable, without blanks at its ends");
	return 0;
}

/* Checks the section being left: required keys are reported at its header. */
static int close_section(struct parser *p)
{
	char label[QUOTE_MAX + 8];
	const struct key *k;
	unsigned i;

	if (p->sec == SEC_NONE)
		return 0;
	section_label(p, label, sizeof(label));
	if (p->seen == 0)
		return fail_at(p, p->sec_line, "empty section %s", label);
	for (k = section_keys(p), i = 0; k->name != NULL; k++, i++)
		if ((k->flags & K_REQUIRED) && !(p->seen & (1u << i)))
			return fail_at(p, p->sec_line, "missing required key '%s' in %s", k->name,
			               label);
	if (p->sec == SEC_SITE) {
		/* fail_file reports p->line: point at the header, as above */
		int line = p->line, rc;

		p->line = p->sec_line;
		rc = check_site(p, &p->cfg->sites[p->cfg->nsites - 1]);
		p->line = line;
		return rc;
	}
	return 0;
}

static void enter_section(struct parser *p, enum section_kind kind)
{
	p->sec = kind;
	p->sec_line = p->line;
	p->seen = 0;
	p->legacy_line = 0;
}

static int open_server(struct parser *p)
{
	struct th_config *cfg = p->cfg;

	if (p->server_line != 0)
		return fail_at(p, p->line, "duplicate [server] section (first at line %d)",
		               p->server_line);
	p->server_line = p->line;
	enter_section(p, SEC_SERVER);
	cfg->handshake_timeout = 10;
	cfg->head_timeout = 10;
	cfg->request_timeout = 60;
	cfg->idle_timeout = 30;
	cfg->max_connections = 1024;
	if (store_str(p, &cfg->user, "nobody") < 0 ||
	    store_str(p, &cfg->chroot, "/var/lib/tailhook/empty") < 0 ||
	    store_str(p, &cfg->state_dir, "/var/lib/tailhook") < 0)
		return -1;
	return 0;
}

/*
 * name is what follows "[site": exactly one space, then the name.  "." and
 * ".." match the character set but name directories, not sites.
 */
static int valid_site_name(const char *name, size_t n)
{
	size_t i;

	if (n < 2 || name[0] != ' ' || (n == 2 && name[1] == '.') ||
	    (n == 3 && name[1] == '.' && name[2] == '.'))
		return 0;
	for (i = 1; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && strchr("._-", name[i]) == NULL)
			return 0;
	return 1;
}

static int grow_sites(struct parser *p)
{
	struct th_config *cfg = p->cfg;
	size_t cap = p->sites_cap ? p->sites_cap * 2 : 8;
	struct th_site *n;

	if (cfg->nsites < p->sites_cap)
		return 0;
	n = realloc(cfg->sites, cap * sizeof(*n));
	if (n == NULL)
		return oom(p);
	cfg->sites = n;
	p->sites_cap = cap;
	return 0;
}

static int open_site(struct parser *p, const char *name, size_t n)
{
	struct th_config *cfg = p->cfg;
	struct th_site *site;
	char q[QUOTE_MAX];
	size_t i;

	if (!valid_site_name(name, n)) {
		if (n > 0 && name[0] == ' ') {
			name++;
			n--;
		}
		log_sanitize(q, sizeof(q), name, n);
		return fail_at(
		    p, p->line,
		    "invalid site name '%s': expected [site NAME], NAME of A-Z a-z 0-9 . _ -", q);
	}
	name++;
	n--;
	for (i = 0; i < cfg->nsites; i++)
		if (strlen(cfg->sites[i].name) == n && memcmp(cfg->sites[i].name, name, n) == 0)
			return fail_at(p, p->line, "duplicate [site %s] (first at line %d)",
			               cfg->sites[i].name, cfg->sites[i].line);
	if (cfg->nsites == TH_MAX_SITES)
		return fail_at(p, p->line, "too many sites (at most %d)", TH_MAX_SITES);
	if (grow_sites(p) < 0)
		return -1;
	site = &cfg->sites[cfg->nsites];
	memset(site, 0, sizeof(*site));
	cfg->nsites++;
	site->name = strndup(name, n);
	if (site->name == NULL)
		return oom(p);
	site->line = p->line;
	site->provider = TH_PROVIDER_GITHUB;
	site->timeout = 900;
	site->max_body = 26214400;
	site->publish = TH_PUBLISH_SYMLINK;
	site->keep = 3;
	enter_section(p, SEC_SITE);
	return 0;
}

/* s is a header line from '[' to its end, trailing blanks removed. */
static int open_section(struct parser *p, const char *s, size_t n)
{
	const char *end = memchr(s, ']', n);
	const char *rest;
	char q[QUOTE_MAX];
	size_t len;

	/* Any header ends the section before it, even a malformed one. */
	if (close_section(p) < 0)
		return -1;
	if (end == NULL)
		return fail_at(p, p->line, "section header without ']'");
	for (rest = end + 1; rest < s + n && isspace((unsigned char)*rest); rest++)
		;
	if (rest < s + n && *rest != ';' && *rest != '#')
		return fail_at(p, p->line, "text after section header");
	s++;
	len = (size_t)(end - s);
	if (len == 6 && memcmp(s, "server", 6) == 0)
		return open_server(p);
	if (len >= 4 && memcmp(s, "site", 4) == 0 && (len == 4 || isspace((unsigned char)s[4])))
		return open_site(p, s + 4, len - 4);
	log_sanitize(q, sizeof(q), s, len);
	return fail_at(p, p->line, "unknown section [%s]", q);
}

/*
 * Mirrors inih's own test for "name = value" (or "name: value"), so that
 * a line inih would reject is reported here, in order, with its line.
 */
static int has_separator(const char *s, size_t n)
{
	int was_space = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '=' || s[i] == ':')
			return 1;
		if (s[i] == ';' && was_space)
			return 0;
		was_space = isspace((unsigned char)s[i]);
	}
	return 0;
}

/*
 * Vets one line and leaves in *s, *n the text to hand to inih.  Leading
 * blanks are removed so that inih never sees a continuation line: an
 * indented "[site x]" or key would otherwise be glued onto the previous
 * value.
 */
static int vet_line(struct parser *p, int max, const char **s, size_t *n)
{
	if (*n > 0 && (*s)[*n - 1] == '\r')
		(*n)--;
	if (p->line == 1 && *n >= 3 && memcmp(*s, "\xef\xbb\xbf", 3) == 0) {
		*s += 3;
		*n -= 3;
	}
	if (memchr(*s, '\0', *n) != NULL)
		return fail_at(p, p->line, "NUL byte in line");
	/* inih's buffer must also hold "\r\n" and the terminating NUL. */
	if (*n > (size_t)max - 3)
		return fail_at(p, p->line, "line too long (at most %d characters)", max - 3);
	while (*n > 0 && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
	if (*n == 0 || **s == ';' || **s == '#')
		return 0;
	if (**s == '[')
		return open_section(p, *s, *n);
	if (!has_separator(*s, *n))
		return fail_at(p, p->line,
		               "syntax error: expected 'key = value', '[section]' or a comment");
	return 0;
}

static char *read_line(char *str, int num, void *stream)
{
	struct parser *p = stream;
	const char *s = p->buf + p->pos, *nl;
	size_t n;

	if (p->failed || p->pos >= p->len || num < 4)
		return NULL;
	nl = memchr(s, '\n', p->len - p->pos);
	n = nl != NULL ? (size_t)(nl - s) : p->len - p->pos;
	p->pos += n + (nl != NULL);
	p->line++;
	if (vet_line(p, num, &s, &n) < 0)
		return NULL;
	memcpy(str, s, n);
	str[n] = '\0';
	return str;
}

static int read_config(struct parser *p, char **buf, size_t *len)
{
	struct stat st;
	int fd, rc = -1;

	fd = open(p->file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fail_at(p, 0, "%s", strerror(errno));
	if (fstat(fd, &st) < 0)
		fail_at(p, 0, "%s", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		fail_at(p, 0, "not a regular file");
	else if (p->check_owner && (st.st_uid != p->owner || (st.st_mode & 027) != 0))
		fail_at(
		    p, 0,
		    "must be owned by uid %lu and not writable by group or readable/writable by "
		    "others",
		    (unsigned long)p->owner);
	else if (st.st_size > CONF_MAX_SIZE)
		fail_at(p, 0, "larger than %d bytes", CONF_MAX_SIZE);
	else if ((*buf = malloc((size_t)st.st_size + 1)) == NULL)
		fail_at(p, 0, "out of memory");
	else if (read_fd(fd, *buf, (size_t)st.st_size + 1, len) < 0)
		fail_at(p, 0, "%s", strerror(errno));
	else if (*len > (size_t)st.st_size)
		fail_at(p, 0, "changed while being read");
	else
		rc = 0;
	close(fd);
	return rc;
}

/* 1 if a and b are the same directory or one holds the other. */
static int nested(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n;

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	n = la < lb ? la : lb;
	return strncmp(a, b, n) == 0 && (la == lb || (la < lb ? b[n] : a[n]) == '/');
}

/*
 * Layouts that would break a site or the sandbox: a target inside the
 * checkout is wiped by git clean (or blocks the clone), and a site user
 * that is also the receiver's user could signal the receiver.
 */
static int check_layout(struct parser *p)
{
	const char *rx_user = p->cfg->user != NULL ? p->cfg->user : "nobody";
	size_t i;

	for (i = 0; i < p->cfg->nsites; i++) {
		const struct th_site *s = &p->cfg->sites[i];
		if (nested(s->target, s->checkout))
			return fail_at(
			    p, s->line,
			    "[site %s]: target and checkout must not be inside each other",
			    s->name);
		/* Users are switched only by a root daemon; otherwise both are ours. */
		if (p->check_owner && p->owner == 0 && strcmp(s->user, rx_user) == 0)
			return fail_at(
			    p, s->line,
			    "[site %s]: user '%s' is the receiver's user too; give the site "
			    "its own user",
			    s->name, s->user);
	}
	return 0;
}

static int parse(struct parser *p)
{
	int rc = ini_parse_stream(read_line, p, on_key, p);
	int last = p->line > 0 ? p->line : 1;

	if (p->failed)
		return -1;
	if (rc > 0)
		return fail_at(p, rc, "syntax error");
	if (rc < 0)
		return fail_at(p, 0, "cannot parse (inih error %d)", rc);
	if (close_section(p) < 0)
		return -1;
	/* Nothing to point at: the end of the file is where it would go. */
	if (p->server_line == 0)
		return fail_at(p, last, "missing [server] section");
	if (p->cfg->nsites == 0)
		return fail_at(p, last, "no [site NAME] section");
	return check_layout(p);
}

int config_site_index(const struct th_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->nsites; i++)
		if (strcmp(cfg->sites[i].name, name) == 0)
			return (int)i;
	return -1;
}

int config_load(struct th_config *cfg, const char *file, int check_owner, uid_t owner, char *err,
                size_t errlen)
{
	struct parser p;
	char *buf = NULL;
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.file = file;
	p.err = err;
	p.errlen = errlen;
	p.check_owner = check_owner;
	p.owner = owner;
	if (errlen > 0)
		err[0] = '\0';
	cfg->file = strdup(file);
	if (cfg->file == NULL)
		fail_at(&p, 0, "out of memory");
	else if (read_config(&p, &buf, &p.len) == 0) {
		p.buf = buf;
		rc = parse(&p);
	}
	free(buf);
	if (rc < 0)
		config_free(cfg);
	return rc;
}

static void site_free(struct th_site *s)
{
	if (s->secret != NULL)
		explicit_bzero(s->secret, s->secret_len);
	free(s->secret);
	if (s->secret2 != NULL)
		explicit_bzero(s->secret2, s->secret2_len);
	free(s->secret2);
	free(s->secret_file2);
	free(s->name);
	free(s->path);
	free(s->secret_file);
	free(s->branch);
	free(s->remote);
	free(s->checkout);
	argv_free(s->build);
	free(s->output);
	free(s->target);
	free(s->releases);
	free(s->user);
}

void config_free(struct th_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nsites; i++)
		site_free(&cfg->sites[i]);
	free(cfg->sites);
	for (i = 0; i < cfg->nlisten; i++)
		free(cfg->listen[i]);
	free(cfg->file);
	free(cfg->certificate);
	free(cfg->key);
	free(cfg->user);
	free(cfg->chroot);
	free(cfg->state_dir);
	memset(cfg, 0, sizeof(*cfg));
}
