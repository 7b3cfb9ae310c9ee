/*
 * sandbox.c - privilege drop, rlimits and the seccomp allow-list.
 *
 * Everything the receiver needs from the filesystem, the time zone and the
 * system RNG is done before these run; after them, the process can only
 * accept, read, write, close, wait for events and allocate memory.
 */
#include "sandbox.h"

#include <errno.h>
#include <grp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"

#if !defined(__linux__)
#error "tailhook's receiver sandbox needs Linux seccomp; refusing to build without it"
#endif

void sandbox_drop_privileges(const struct th_setup *s)
{
	gid_t gid = (gid_t)s->gid;
	uid_t uid = (uid_t)s->uid;

	if (!s->privileged) {
		log_warnx("event=sandbox reason=\"not started as root: no chroot and no user "
		          "switch; no_new_privs, rlimits and seccomp still apply\"");
		return;
	}
	if (chroot(s->chroot) < 0)
		fatal("event=sandbox step=chroot path=%s", s->chroot);
	if (chdir("/") < 0)
		fatal("event=sandbox step=chdir");
	if (setgroups(0, NULL) < 0)
		fatal("event=sandbox step=setgroups");
	if (setresgid(gid, gid, gid) < 0)
		fatal("event=sandbox step=setresgid gid=%u", s->gid);
	if (setresuid(uid, uid, uid) < 0)
		fatal("event=sandbox step=setresuid uid=%u", s->uid);
	/* Belt and braces: a regained root would make everything above moot. */
	if (setuid(0) == 0 || geteuid() == 0)
		fatalx("event=sandbox step=verify reason=\"could regain root\"");
}

static void set_limit(int resource, rlim_t value, const char *name)
{
	struct rlimit rl = {value, value};

	if (setrlimit(resource, &rl) < 0)
		fatal("event=sandbox step=setrlimit limit=%s", name);
}

/* Enough for max-connections, but never above what we may have: raising
 * the hard limit would need a privilege the receiver no longer holds. */
static rlim_t nofile_limit(unsigned want)
{
	struct rlimit cur;

	if (getrlimit(RLIMIT_NOFILE, &cur) == 0 && cur.rlim_max != RLIM_INFINITY &&
	    cur.rlim_max < want) {
		log_warnx("event=sandbox reason=\"max-connections needs %u fds; the hard limit is "
		          "%llu\"",
		          want, (unsigned long long)cur.rlim_max);
		return cur.rlim_max;
	}
	return want;
}

void sandbox_limits(unsigned max_fds)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fatal("event=sandbox step=no_new_privs");
	set_limit(RLIMIT_NPROC, 0, "nproc");
	set_limit(RLIMIT_CORE, 0, "core");
	set_limit(RLIMIT_NOFILE, nofile_limit(max_fds), "nofile");
	/* RLIMIT_FSIZE stays: stderr may be a file, and a zero limit would kill
	 * the receiver with SIGXFSZ at its first log line. */
}

/*
 * The allow-list.  Each entry is one syscall the event loop needs after
 * the sandbox is locked, with the reason it is there.
 */
static const struct {
	const char *name;
	const char *why;
} allowed[] = {
    {"read", "read TLS records from client sockets"},
    {"recvfrom", "notice the deployer closing the socketpair"},
    {"sendto", "send TLS records (MSG_NOSIGNAL) and the deploy message"},
    {"write", "log lines to stderr"},
    {"accept4", "accept connections on the inherited listeners"},
    {"close", "close finished connections"},
    {"shutdown", "half-close before discarding an unread body (lingering close)"},
    {"epoll_wait", "libevent's event loop"},
    {"epoll_pwait", "libevent's event loop (some libcs route epoll_wait here)"},
    {"epoll_ctl", "libevent registers and removes connection fds"},
    {"clock_gettime", "timers and deadlines (vDSO fallback)"},
    {"gettimeofday", "libevent's cached time (vDSO fallback)"},
    {"brk", "malloc"},
    {"munmap", "free of large blocks"},
    {"mremap", "realloc of large blocks"},
    {"madvise", "malloc trimming"},
    {"rt_sigreturn", "return from the SIGSYS handler in debug mode"},
    {"exit_group", "exit when the deployer goes away"},
    {"exit", "thread exit paths in libc"},
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
    /* Sanitizer builds only: ASan's exit path queries its signal stack. */
    {"sigaltstack", "ASan runtime at exit (sanitizer builds only)"},
#endif
#endif
};

static void sigsys_debug(int sig, siginfo_t *si, void *uc)
{
	char line[160];
	char *name;
	int n;

	(void)sig;
	(void)uc;
	name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, si->si_syscall);
	n = snprintf(line, sizeof(line),
	             "tailhook[receiver]: level=fatal event=seccomp-violation syscall=%s nr=%d\n",
	             name != NULL ? name : "?", si->si_syscall);
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0)
		_exit(3);
	_exit(3);
}

static int add_rules(scmp_filter_ctx ctx)
{
	size_t i;
	int nr;

	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		nr = seccomp_syscall_resolve_name(allowed[i].name);
		if (nr == __NR_SCMP_ERROR || seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) < 0)
			return -1;
	}
	/* mmap for large buffers, but never executable memory. */
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	                        SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
}

int sandbox_seccomp(void)
{
	const char *dbg = getenv("TAILHOOK_SECCOMP_DEBUG");
	int debug = dbg != NULL && strcmp(dbg, "1") == 0;
	scmp_filter_ctx ctx;
	int rc = -1;

	if (debug) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = sigsys_debug;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGSYS, &sa, NULL);
		log_warnx("event=sandbox reason=\"TAILHOOK_SECCOMP_DEBUG=1: forbidden syscalls are "
		          "trapped and logged instead of killing\"");
	}
	ctx = seccomp_init(debug ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return -1;
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) == 0 &&
	    add_rules(ctx) == 0 && seccomp_load(ctx) == 0)
		rc = 0;
	seccomp_release(ctx);
	return rc;
}
