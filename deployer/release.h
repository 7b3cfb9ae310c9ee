/*
 * release.h - atomic publishing: one directory per release, one symlink.
 *
 * With `publish = symlink` (the default) every deploy copies the build
 * output into a new directory RELEASES/NAME (first as RELEASES/.tmp-NAME,
 * renamed when complete), then points `target` at it by renaming a fresh
 * symlink over it: rename(2) is atomic, so a reader resolves `target`
 * either to the old release or to the new one, each complete.  The newest
 * `keep` releases stay for a quick rollback; older ones are removed.
 *
 * NAME is "YYYYmmddTHHMMSS.mmmZ-" followed by the first 12 hex digits of
 * the commit (or "legacy" for a directory that was the target before
 * tailhook managed it), so names sort by time.  Only names of exactly that
 * shape are ever deleted: anything else in RELEASES is left alone.
 *
 * The filesystem calls here run in a child that has become the site user
 * (see step_call), never as root in a directory the site user controls.
 */
#ifndef TH_RELEASE_H
#define TH_RELEASE_H

#include <stddef.h>

#define TH_RELEASE_TMP ".tmp-"

/* Writes the name for a release of `commit` made at `ms` (unix milliseconds). */
int release_name(char *out, size_t outsz, long long ms, const char *commit);

/* 1 if name has exactly the shape release_name makes (or the legacy one). */
int release_name_valid(const char *name);

/*
 * Chooses what to delete from the `n` entries of a releases directory:
 * every TH_RELEASE_TMP leftover, and every valid release except the live
 * one and the `keep` newest (the live one counts towards keep).  Entries
 * of any other shape are never chosen.  Fills del with pointers into names
 * and returns how many; del must have room for n.
 */
size_t release_prune_plan(const char *const *names, size_t n, const char *live, unsigned keep,
                          const char **del);

/*
 * What `target` should contain to point at RELEASES/NAME: a relative link
 * when both share a parent directory (so the pair can be moved or mounted
 * elsewhere together), else the absolute path.
 */
int release_link_text(char *out, size_t outsz, const char *target, const char *releases,
                      const char *name);

/* The live release's name if target is a symlink into releases, else "". */
void release_live(const char *target, const char *releases, char *out, size_t outsz);

/*
 * In the site user's child: switch `target` to RELEASES/NAME atomically.
 * A target that is still a plain directory (from `publish = rsync` or
 * before tailhook) is swapped with the symlink in one renameat2
 * RENAME_EXCHANGE and kept as RELEASES/<time>-legacy.  Returns 0, or -1
 * after printing why on stderr.
 */
int release_switch(const char *target, const char *releases, const char *name);

/* In the site user's child: delete what release_prune_plan chooses. 0 or -1. */
int release_prune(const char *releases, const char *live, unsigned keep);

/* Removes a directory tree without following symlinks; 0 or -1. */
int release_remove_tree(const char *path);

#endif
