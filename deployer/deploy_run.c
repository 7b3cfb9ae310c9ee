/*
 * deploy_run.c - the steps of a deploy, each as the site user.
 */
#include "deploy_run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "paths.h"
#include "release.h"
#include "state.h"
#include "step_exec.h"

struct deploy {
	const struct deployer *d;
	const struct th_site *site;
	struct step_ctx ctx;
	char env[7][PATH_MAX + 32];
	char *envp[8];
	char tip[TH_COMMIT_HEX + 1];
	long long t0;
	struct th_state st; /* as loaded; updated and saved at the end */
	char releases[PATH_MAX];
	char release[TH_RELEASE_MAX]; /* the new one (publish = symlink) */
	char live[TH_RELEASE_MAX];    /* the one live before */
	char log_dir[PATH_MAX];
	int log_fd;
};

static void make_env(struct deploy *dp, const struct th_user *u, const char *commit)
{
	int i = 0;

	snprintf(dp->env[i++], sizeof(dp->env[0]), "PATH=/usr/local/bin:/usr/bin:/bin");
	snprintf(dp->env[i++], sizeof(dp->env[0]), "HOME=%s", u != NULL ? u->home : "/");
	snprintf(dp->env[i++], sizeof(dp->env[0]), "LANG=C.UTF-8");
	snprintf(dp->env[i++], sizeof(dp->env[0]), "TAILHOOK_SITE=%s", dp->site->name);
	snprintf(dp->env[i++], sizeof(dp->env[0]), "TAILHOOK_COMMIT=%s", commit);
	snprintf(dp->env[i++], sizeof(dp->env[0]), "TAILHOOK_DELIVERY=%s", dp->ctx.delivery);
	for (int j = 0; j < i; j++)
		dp->envp[j] = dp->env[j];
	dp->envp[i] = NULL;
}

void deploy_releases_dir(const struct th_site *s, char *out, size_t outsz)
{
	if (s->releases != NULL)
		snprintf(out, outsz, "%s", s->releases);
	else
		snprintf(out, outsz, "%s.releases", s->target);
}

/* -- the record of an attempt ------------------------------------------ */

/* The log file of this attempt: deploys/.N.log while it runs, N.log after. */
static void open_deploy_log(struct deploy *dp)
{
	char path[PATH_MAX + 40];

	dp->log_fd = -1;
	if (state_site_path(dp->log_dir, sizeof(dp->log_dir), dp->d->cfg.state_dir, dp->site->name,
	                    "deploys") < 0)
		return;
	snprintf(path, sizeof(path), "%s/.%llu.log", dp->log_dir, dp->st.deploys);
	dp->log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (dp->log_fd < 0)
		log_warn("event=deploy-log site=%s path=%s", dp->site->name, path);
	log_copy_to(dp->log_fd);
}

static void close_deploy_log(struct deploy *dp)
{
	char from[PATH_MAX + 40], to[PATH_MAX + 40];

	log_copy_to(-1);
	if (dp->log_fd < 0)
		return;
	fsync(dp->log_fd);
	close(dp->log_fd);
	snprintf(from, sizeof(from), "%s/.%llu.log", dp->log_dir, dp->st.deploys);
	snprintf(to, sizeof(to), "%s/%llu.log", dp->log_dir, dp->st.deploys);
	if (rename(from, to) < 0)
		log_warn("event=deploy-log site=%s path=%s", dp->site->name, to);
	if (dp->st.deploys > TH_KEEP_LOGS) {
		snprintf(to, sizeof(to), "%s/%llu.log", dp->log_dir, dp->st.deploys - TH_KEEP_LOGS);
		unlink(to);
	}
}

static void save_state(struct deploy *dp)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	dp->st.finished_at = now.tv_sec;
	dp->st.duration_ms = mono_ms() - dp->t0;
	snprintf(dp->st.last_commit, sizeof(dp->st.last_commit), "%s", dp->tip);
	snprintf(dp->st.delivery, sizeof(dp->st.delivery), "%s", dp->ctx.delivery);
	if (state_save(dp->d->cfg.state_dir, dp->site->name, &dp->st) < 0)
		log_warn("event=state-save site=%s delivery=%s", dp->site->name, dp->ctx.delivery);
}

static int fail(struct deploy *dp, const char *step, const char *status, const char *tail)
{
	snprintf(dp->st.result, sizeof(dp->st.result), "failed");
	snprintf(dp->st.step, sizeof(dp->st.step), "%s", step);
	snprintf(dp->st.status, sizeof(dp->st.status), "%s", status);
	snprintf(dp->st.output, sizeof(dp->st.output), "%s", tail != NULL ? tail : "");
	log_warnx("event=deploy-failed site=%s delivery=%s commit=%s step=%s status=\"%s\" "
	          "duration_ms=%lld output=\"%s\"",
	          dp->site->name, dp->ctx.delivery, dp->tip[0] ? dp->tip : "-", step, status,
	          mono_ms() - dp->t0, dp->st.output);
	save_state(dp);
	close_deploy_log(dp);
	return DEPLOY_FAILED;
}

static int fail_res(struct deploy *dp, const char *step, const struct step_result *res)
{
	return fail(dp, step, res->status, res->tail);
}

static int run(struct deploy *dp, const char *step, char *const argv[], struct step_result *res,
               int capture)
{
	step_run(&dp->ctx, step, argv, capture, res);
	return res->ok ? 0 : -1;
}

static int is_hex40(const char *s)
{
	return strlen(s) == TH_COMMIT_HEX && strspn(s, "0123456789abcdef") == TH_COMMIT_HEX;
}

/* -- git ----------------------------------------------------------------- */

/*
 * A worker killed mid-step (kill -9, power loss) can leave git's lock files
 * behind, and git then refuses every later reset.  The site lock says no
 * other deploy of this site runs, so any lock left is stale.
 */
static int remove_stale_git_locks(void *arg)
{
	static const char *const locks[] = {".git/index.lock", ".git/HEAD.lock",
	                                    ".git/ORIG_HEAD.lock", ".git/shallow.lock"};
	size_t i;

	(void)arg;
	for (i = 0; i < sizeof(locks) / sizeof(locks[0]); i++)
		if (unlink(locks[i]) == 0)
			fprintf(stderr, "tailhook: removed the stale %s\n", locks[i]);
	return 0;
}

/* clone if needed, fetch the branch, reset hard to its tip, clean. */
static int sync_checkout(struct deploy *dp)
{
	const struct th_site *s = dp->site;
	struct step_result res;
	char gitdir[PATH_MAX + 8], refspec[600];
	struct stat st;

	snprintf(gitdir, sizeof(gitdir), "%s/.git", s->checkout);
	if (stat(gitdir, &st) < 0) {
		char *const clone[] = {"git", "clone",   "--quiet",   "--no-checkout",
		                       "--",  s->remote, s->checkout, NULL};
		dp->ctx.cwd = "/";
		if (run(dp, "git", clone, &res, 0) < 0)
			return fail_res(dp, "git", &res);
	}
	dp->ctx.cwd = s->checkout;
	step_call(&dp->ctx, "git", remove_stale_git_locks, NULL, &res);
	snprintf(refspec, sizeof(refspec), "refs/heads/%s", s->branch);
	char *const fetch[] = {"git", "fetch",   "--quiet", "--no-tags",
	                       "--",  s->remote, refspec,   NULL};
	char *const rev[] = {"git", "rev-parse", "--verify", "FETCH_HEAD^{commit}", NULL};
	if (run(dp, "git", fetch, &res, 0) < 0)
		return fail_res(dp, "git", &res);
	if (run(dp, "git", rev, &res, 1) < 0 || !is_hex40(res.capture))
		return fail(dp, "git", "cannot resolve the fetched tip", res.tail);
	snprintf(dp->tip, sizeof(dp->tip), "%s", res.capture);
	char *const reset[] = {"git", "reset", "--quiet", "--hard", dp->tip, NULL};
	char *const clean[] = {"git", "clean", "-ffdxq", NULL};
	if (run(dp, "git", reset, &res, 0) < 0 || run(dp, "git", clean, &res, 0) < 0)
		return fail_res(dp, "git", &res);
	return 0;
}

/*
 * Asks the remote for the branch tip (git ls-remote, as the site user).
 * Returns 0 with the tip in out, or -1 after logging why.
 */
static int remote_tip(struct deploy *dp, char *out, size_t outsz)
{
	const struct th_site *s = dp->site;
	struct step_result res;
	char ref[600];
	char *const argv[] = {"git", "ls-remote", "--", s->remote, ref, NULL};
	struct stat st;

	snprintf(ref, sizeof(ref), "refs/heads/%s", s->branch);
	dp->ctx.cwd = stat(s->checkout, &st) == 0 ? s->checkout : "/";
	if (run(dp, "git", argv, &res, 1) < 0 || strlen(res.capture) < TH_COMMIT_HEX + 1 ||
	    res.capture[TH_COMMIT_HEX] != '\t' ||
	    strcmp(res.capture + TH_COMMIT_HEX + 1, ref) != 0) {
		log_warnx("event=catch-up site=%s result=error status=\"%s\" output=\"%s\"",
		          s->name, res.ok ? "branch not found on the remote" : res.status,
		          res.tail);
		return -1;
	}
	snprintf(out, outsz, "%.*s", TH_COMMIT_HEX, res.capture);
	return is_hex40(out) ? 0 : -1;
}

/* 1: deploy; 0: the remote tip is live already; -1: could not tell. */
static int catch_up_needed(struct deploy *dp)
{
	char tip[TH_COMMIT_HEX + 1];

	if (remote_tip(dp, tip, sizeof(tip)) < 0)
		return -1;
	if (strcmp(tip, dp->st.commit) == 0) {
		log_info("event=catch-up site=%s deployed=%s remote=%s action=none", dp->site->name,
		         dp->st.commit, tip);
		return 0;
	}
	log_info("event=catch-up site=%s deployed=%s remote=%s action=deploy", dp->site->name,
	         dp->st.commit[0] ? dp->st.commit : "none", tip);
	log_info("event=deploy-start site=%s delivery=%s commit=%s", dp->site->name,
	         dp->ctx.delivery, tip);
	return 1;
}

/* -- build and publish ------------------------------------------------- */

static int publish_rsync(struct deploy *dp, char *out)
{
	struct step_result res;
	char target[PATH_MAX + 2];

	snprintf(target, sizeof(target), "%s/", dp->site->target);
	/* --delay-updates: changed files are renamed into place together at the
	 * end, which narrows (but cannot close) the window of a mixed site.
	 * --checksum: see publish_symlink. */
	char *const rsync[] = {"rsync",
	                       "-a",
	                       "--checksum",
	                       "--delete",
	                       "--delete-delay",
	                       "--delay-updates",
	                       "--exclude=/.git",
	                       "--",
	                       out,
	                       target,
	                       NULL};
	if (run(dp, "sync", rsync, &res, 0) < 0)
		return fail_res(dp, "sync", &res);
	dp->st.release[0] = '\0';
	return 0;
}

/* In the site user's child. */
static int make_releases_dir(void *arg)
{
	const struct deploy *dp = arg;

	if (mkdir(dp->releases, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "tailhook: cannot create %s: %s\n", dp->releases, strerror(errno));
		return -1;
	}
	return 0;
}

/* In the site user's child: make the finished copy a release and switch. */
static int switch_release(void *arg)
{
	const struct deploy *dp = arg;
	char tmp[PATH_MAX + 80], final[PATH_MAX + 80];

	snprintf(tmp, sizeof(tmp), "%s/" TH_RELEASE_TMP "%s", dp->releases, dp->release);
	snprintf(final, sizeof(final), "%s/%s", dp->releases, dp->release);
	if (rename(tmp, final) < 0) {
		fprintf(stderr, "tailhook: cannot rename %s: %s\n", tmp, strerror(errno));
		return -1;
	}
	return release_switch(dp->site->target, dp->releases, dp->release);
}

static int prune_releases(void *arg)
{
	const struct deploy *dp = arg;

	return release_prune(dp->releases, dp->release, dp->site->keep);
}

static int publish_symlink(struct deploy *dp, char *out)
{
	struct step_result res;
	struct timespec now;
	char dest[PATH_MAX + 80], link_dest[PATH_MAX + 100];

	clock_gettime(CLOCK_REALTIME, &now);
	release_name(dp->release, sizeof(dp->release),
	             (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000, dp->tip);
	release_live(dp->site->target, dp->releases, dp->live, sizeof(dp->live));
	snprintf(dest, sizeof(dest), "%s/" TH_RELEASE_TMP "%s/", dp->releases, dp->release);
	/* Files unchanged since the live release become hard links to it.
	 * --checksum: a rebuild within the same second can give a changed file
	 * the same size and mtime, which rsync's quick check would take as the
	 * same file. */
	snprintf(link_dest, sizeof(link_dest), "--link-dest=%s/%s", dp->releases, dp->live);
	char *const rsync[] = {"rsync", "-a", "--checksum", "--exclude=/.git", "--", out,
	                       dest,    NULL, NULL};
	char *const rsync_ld[] = {"rsync", "-a", "--checksum", "--exclude=/.git", link_dest, "--",
	                          out,     dest, NULL};
	dp->ctx.cwd = dp->site->checkout;
	step_call(&dp->ctx, "sync", make_releases_dir, dp, &res);
	if (!res.ok)
		return fail_res(dp, "sync", &res);
	if (run(dp, "sync", dp->live[0] ? rsync_ld : rsync, &res, 0) < 0)
		return fail_res(dp, "sync", &res);
	step_call(&dp->ctx, "publish", switch_release, dp, &res);
	if (!res.ok)
		return fail_res(dp, "publish", &res);
	snprintf(dp->st.release, sizeof(dp->st.release), "%s", dp->release);
	/* The new release is live: a failure to prune is worth a warning only. */
	step_call(&dp->ctx, "prune", prune_releases, dp, &res);
	if (!res.ok)
		log_warnx("event=prune-failed site=%s delivery=%s status=\"%s\" output=\"%s\"",
		          dp->site->name, dp->ctx.delivery, res.status, res.tail);
	return 0;
}

static int build_and_publish(struct deploy *dp)
{
	const struct th_site *s = dp->site;
	struct step_result res;
	char out[PATH_MAX + 2];

	if (run(dp, "build", s->build, &res, 0) < 0)
		return fail_res(dp, "build", &res);
	snprintf(out, sizeof(out), "%s/%s/", s->checkout, s->output);
	/* A missing or empty output must never replace the live site. */
	if (dir_has_entries(out) != 1)
		return fail(dp, "build", "output directory missing or empty", res.tail);
	if (s->publish == TH_PUBLISH_RSYNC)
		return publish_rsync(dp, out);
	return publish_symlink(dp, out);
}

/* -- the worker ---------------------------------------------------------- */

static void on_term(int sig)
{
	(void)sig;
	step_abort();
}

/*
 * The worker dies with the deployer (kill -9 included): a new deployer's
 * catch-up must never race a deploy it cannot see.  SIGTERM from the
 * deployer aborts the running step.
 */
static int worker_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a flock() waiting for the site lock must give up. */
	if (sigaction(SIGTERM, &sa, NULL) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return -1;
	return 0;
}

/* Only one deploy of a site at a time, across daemons and tailhook -t. */
static int lock_site(const struct deploy *dp)
{
	char path[PATH_MAX];
	int fd;

	if (state_site_path(path, sizeof(path), dp->d->cfg.state_dir, dp->site->name, "lock") < 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR || step_aborted()) {
			close(fd);
			return -1;
		}
	}
	return fd; /* held until the worker exits */
}

/* No other site and not the receiver runs as this site's user. */
static int user_is_dedicated(const struct deployer *d, size_t site)
{
	uid_t uid = d->site_users[site].uid;
	size_t i;

	if (uid == d->rx_user.uid)
		return 0;
	for (i = 0; i < d->cfg.nsites; i++)
		if (i != site && d->site_users[i].uid == uid)
			return 0;
	return 1;
}

static void init_deploy(struct deploy *dp, struct deployer *d, size_t site, const struct th_msg *m)
{
	const struct th_user *u = d->privileged ? &d->site_users[site] : NULL;

	memset(dp, 0, sizeof(*dp));
	dp->d = d;
	dp->site = &d->cfg.sites[site];
	dp->t0 = mono_ms();
	dp->log_fd = -1;
	dp->ctx.site = dp->site->name;
	dp->ctx.delivery = m->delivery;
	dp->ctx.user = u;
	dp->ctx.sweep = u != NULL && user_is_dedicated(d, site);
	dp->ctx.timeout = dp->site->timeout;
	dp->ctx.envp = dp->envp;
	deploy_releases_dir(dp->site, dp->releases, sizeof(dp->releases));
	make_env(dp, u, m->commit);
}

static int load_state(struct deploy *dp)
{
	int rc = state_load(dp->d->cfg.state_dir, dp->site->name, &dp->st);

	if (rc < 0)
		log_warnx("event=state-load site=%s reason=\"unreadable or corrupt: treated as "
		          "never deployed\"",
		          dp->site->name);
	return rc;
}

int deploy_run(struct deployer *d, size_t site, const struct th_msg *m, enum deploy_kind kind)
{
	static struct deploy dp;
	int rc;

	init_deploy(&dp, d, site, m);
	if (worker_init() < 0 || lock_site(&dp) < 0) {
		log_warn("event=deploy-failed site=%s delivery=%s step=lock", dp.site->name,
		         m->delivery);
		return kind == DEPLOY_CATCHUP ? DEPLOY_CHECK_FAIL : DEPLOY_FAILED;
	}
	load_state(&dp);
	if (kind == DEPLOY_CATCHUP && (rc = catch_up_needed(&dp)) <= 0)
		return rc == 0 ? DEPLOY_UP_TO_DATE : DEPLOY_CHECK_FAIL;
	dp.st.deploys++;
	open_deploy_log(&dp);
	if ((rc = sync_checkout(&dp)) != 0)
		return rc;
	if (kind == DEPLOY_PUSH && strcmp(dp.tip, m->commit) != 0)
		log_info("event=deploy-tip site=%s delivery=%s requested=%s fetched=%s "
		         "note=\"deploying the fetched tip\"",
		         dp.site->name, m->delivery, m->commit, dp.tip);
	make_env(&dp, dp.ctx.user, dp.tip);
	if ((rc = build_and_publish(&dp)) != 0)
		return rc;
	snprintf(dp.st.commit, sizeof(dp.st.commit), "%s", dp.tip);
	snprintf(dp.st.result, sizeof(dp.st.result), "ok");
	dp.st.step[0] = dp.st.status[0] = dp.st.output[0] = '\0';
	dp.st.deployed_at = time(NULL);
	save_state(&dp);
	log_info("event=deploy-done site=%s delivery=%s commit=%s result=ok release=%s "
	         "duration_ms=%lld",
	         dp.site->name, m->delivery, dp.tip, dp.st.release[0] ? dp.st.release : "-",
	         mono_ms() - dp.t0);
	close_deploy_log(&dp);
	return DEPLOY_OK;
}
