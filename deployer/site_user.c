/*
 * site_user.c - look up accounts and switch to them in a child.
 */
#include "site_user.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int user_lookup(const char *name, struct th_user *u)
{
	const struct passwd *pw = getpwnam(name);

	if (pw == NULL)
		return -1;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	snprintf(u->home, sizeof(u->home), "%s", pw->pw_dir != NULL ? pw->pw_dir : "/");
	return 0;
}

int user_become(const struct th_user *u)
{
	if (setgid(u->gid) < 0 || initgroups(u->name, u->gid) < 0 || setuid(u->uid) < 0)
		return -1;
	if (u->uid != 0 && (setuid(0) == 0 || geteuid() == 0))
		return -1;
	return 0;
}
