/*
 * config.h - the deployer's configuration, read with inih.
 *
 * Only the deployer parses the config file.  Every error is reported as
 * "FILE:LINE: message" (or "PATH: message" for files the config names),
 * unknown sections and keys are errors, and a config that loads is fully
 * validated: callers never need to re-check a field.
 */
#ifndef TH_CONFIG_H
#define TH_CONFIG_H

#include <stddef.h>
#include <sys/types.h>

#include "provider_id.h"

#define TH_MAX_SITES  256
#define TH_MAX_LISTEN 16
#define TH_SECRET_MAX 4096

/* How a build reaches `target`: a new release and a symlink switch, or rsync in place. */
enum th_publish { TH_PUBLISH_SYMLINK = 0, TH_PUBLISH_RSYNC };

struct th_site {
	char *name; /* from [site NAME] */
	int line;   /* line of the [site NAME] header */
	char *path; /* URL path, starts with '/', unique among sites */
	enum th_provider provider;
	char *secret_file;     /* absolute path */
	unsigned char *secret; /* file content minus one trailing newline; never logged */
	size_t secret_len;
	/* A second secret-file (rotation): either secret authenticates.  NULL if none. */
	char *secret_file2;
	unsigned char *secret2;
	size_t secret2_len;
	int legacy_sha1;         /* github only: accept X-Hub-Signature sha1= when -256 is absent */
	char *branch;            /* e.g. "main" or "release/v1" (no "refs/heads/") */
	char *remote;            /* anything git fetch accepts */
	char *checkout;          /* absolute path */
	char **build;            /* NULL-terminated argv, split like a shell word list */
	char *output;            /* relative to checkout, no "..", may be "." */
	char *target;            /* absolute path */
	char *user;              /* site user name */
	unsigned timeout;        /* seconds per step, default 900 */
	enum th_publish publish; /* default TH_PUBLISH_SYMLINK */
	unsigned keep;           /* releases kept with publish = symlink, default 3 */
	char *releases;          /* absolute; NULL: "TARGET.releases" */
	size_t max_body;         /* bytes, default 25 MiB */
};

struct th_config {
	char *file;
	/* "host:port", "[v6]:port" or "unix:/path" as written; none when systemd
	 * passes the sockets (LISTEN_FDS) */
	char *listen[TH_MAX_LISTEN];
	size_t nlisten;
	char *certificate; /* absolute paths */
	char *key;
	char *user;                 /* receiver user, default "nobody" */
	char *chroot;               /* default "/var/lib/tailhook/empty" */
	char *state_dir;            /* default "/var/lib/tailhook" */
	unsigned handshake_timeout; /* seconds, default 10 */
	unsigned head_timeout;      /* default 10 */
	unsigned request_timeout;   /* default 60 */
	unsigned idle_timeout;      /* default 30 */
	unsigned max_connections;   /* default 1024 */
	struct th_site *sites;
	size_t nsites;
};

/*
 * Loads and validates `file`.  On success returns 0 and fills *cfg.  On
 * error returns -1, leaves *cfg empty and writes one line such as
 * "/etc/tailhook.conf:12: unknown key 'foo' in [site blog]" into err.
 *
 * When check_owner is non-zero, the config file and every secret file
 * must be owned by `owner` (root when running as root) and must not be
 * accessible by others (config: no group/other write, no other read;
 * secret files: no group or other access at all).
 * Secrets are read here; an empty secret is an error.
 */
int config_load(struct th_config *cfg, const char *file, int check_owner, uid_t owner, char *err,
                size_t errlen);

/* Index of the [site NAME] called name, or -1. */
int config_site_index(const struct th_config *cfg, const char *name);

/* Frees everything config_load allocated; wipes the secrets first. */
void config_free(struct th_config *cfg);

/*
 * Splits a build command into a NULL-terminated argv (malloc'd, free with
 * argv_free).  Words are separated by blanks; '...' quotes literally,
 * "..." quotes with \" and \\ escapes, a backslash outside quotes escapes
 * the next character.  No expansion of any kind.  Returns NULL and sets
 * *why on unbalanced quotes, a trailing backslash, or no words.
 */
char **argv_split(const char *s, const char **why);
void argv_free(char **argv);

#endif
