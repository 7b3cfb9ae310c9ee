/*
 * state.h - what tailhook remembers about each site, under state-dir.
 *
 * Layout (state-dir is owned by the deployer and closed to others):
 *   STATE/sites/NAME/state              key=value lines, replaced atomically
 *   STATE/sites/NAME/lock               flock(2)ed while a deploy of NAME runs
 *   STATE/sites/NAME/deploys/N.log      the log lines of each of the last
 *                                       TH_KEEP_LOGS deploys (N counts up)
 *   STATE/control.sock                  the running daemon's control socket
 *
 * The state file names the live commit (what catch-up compares with the
 * remote tip) and describes the last attempt, failed or not.  Every value
 * is one line of printable ASCII; a file that does not parse is treated as
 * missing, which at worst causes one redundant deploy.
 */
#ifndef TH_STATE_H
#define TH_STATE_H

#include <stddef.h>

#include "config.h"
#include "msg.h"

#define TH_KEEP_LOGS   10
#define TH_STATE_MAX   4096 /* bytes of a state file */
#define TH_RELEASE_MAX 64   /* characters of a release directory name */

struct th_state {
	/* The live release: what a visitor gets now. */
	char commit[TH_COMMIT_HEX + 1]; /* "" if nothing was ever deployed */
	char release[TH_RELEASE_MAX];   /* directory under the releases dir; "" for rsync */
	long long deployed_at;          /* unix seconds; 0 if never */
	/* The last attempt, which may have failed. */
	char result[8];                      /* "ok", "failed" or "" */
	char last_commit[TH_COMMIT_HEX + 1]; /* the tip it fetched; "" if none */
	char delivery[TH_DELIVERY_MAX + 1];
	char step[16];    /* the step that failed; "" when ok */
	char status[64];  /* "exit 1", "timeout after 30s", ... */
	char output[512]; /* last lines of the failed step's output, sanitised */
	long long finished_at;
	long long duration_ms;
	unsigned long long deploys; /* attempts so far; numbers the log files */
};

/* Zeroes s: nothing deployed, no attempt. */
void state_init(struct th_state *s);

/* Writes s as text into buf; returns its length, or -1 if it does not fit. */
int state_format(const struct th_state *s, char *buf, size_t len);

/*
 * Parses a state file's text.  Unknown keys are ignored (a newer version
 * may add some); a malformed line or value makes it fail.  Returns 0 and
 * fills *s, or -1 with *s reset by state_init.
 */
int state_parse(struct th_state *s, const char *buf, size_t len);

/* "2024-05-01T12:00:00Z"; out must hold 21 bytes. */
void state_fmt_time(char *out, size_t outsz, long long t);
/* The reverse; returns 0, or -1 if s is not exactly that shape. */
int state_parse_time(const char *s, long long *t);

/*
 * Path helpers: STATE/sites/NAME and files in it.  Return 0, or -1 if the
 * result would not fit.
 */
int state_site_path(char *out, size_t outsz, const char *state_dir, const char *site,
                    const char *file);

/* Reads STATE/sites/NAME/state; returns 0, 1 if absent, -1 if unreadable or corrupt. */
int state_load(const char *state_dir, const char *site, struct th_state *s);

/*
 * Writes buf to DIR/NAME atomically: DIR/.NAME.tmp, fsync, rename, fsync of
 * DIR.  Returns 0, or -1 with errno set.
 */
int state_write_atomic(const char *dir, const char *name, const void *buf, size_t len);

/* Saves s as STATE/sites/NAME/state (atomically); 0 or -1 with errno set. */
int state_save(const char *state_dir, const char *site, const struct th_state *s);

/*
 * Creates STATE and STATE/sites/NAME/deploys for every site (mode 0700) as needed and
 * checks that STATE belongs to us and is closed to others.  Returns 0, or
 * -1 with "PATH: message" in err.
 */
int state_dirs_check(const struct th_config *cfg, char *err, size_t errlen);

#endif
