/*
 * sandbox.h - the receiver's confinement: privileges, limits, seccomp.
 *
 * The receiver's entry function calls these in one visible block before
 * its first accept.  See SECURITY.md for what each step guarantees and
 * which test proves it.
 */
#ifndef TH_SANDBOX_H
#define TH_SANDBOX_H

#include "setup_blob.h"

/*
 * chroot into s->chroot, chdir("/"), setgroups(0), setresgid, setresuid
 * to the receiver's user -- only when s->privileged.  Fatal on failure.
 */
void sandbox_drop_privileges(const struct th_setup *s);

/* PR_SET_NO_NEW_PRIVS and rlimits (no processes, no cores, bounded fds). */
void sandbox_limits(unsigned max_fds);

/*
 * Installs the receiver's seccomp allow-list; the default action kills
 * the process.  With TAILHOOK_SECCOMP_DEBUG=1 in the environment, a
 * forbidden syscall is trapped and logged by name instead.  Returns 0,
 * or -1 if the filter could not be loaded (the caller must not go on).
 */
int sandbox_seccomp(void);

#endif
