/*
 * site_user.h - the accounts steps run as.
 */
#ifndef TH_SITE_USER_H
#define TH_SITE_USER_H

#include <sys/types.h>

struct th_user {
	uid_t uid;
	gid_t gid;
	char name[64];
	char home[256];
};

/* Looks up a user by name; returns 0, or -1 if there is no such user. */
int user_lookup(const char *name, struct th_user *u);

/*
 * In a child about to exec: setgid, initgroups, setuid to u, then checks
 * that root cannot be regained.  Returns 0, or -1 (the child must exit).
 */
int user_become(const struct th_user *u);

#endif
