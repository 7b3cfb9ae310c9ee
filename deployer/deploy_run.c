/*
 * deploy_run.c - the steps of a deploy, each as the site user.
 */
#include "deploy_run.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "step_exec.h"

struct deploy {
	const struct th_site *site;
	struct step_ctx ctx;
	char env[7][PATH_MAX + 32];
	char *envp[8];
	char tip[TH_COMMIT_HEX + 1];
	long long t0;
};

static void make_env(struct deploy *dp, const struct th_user *u, const struct th_msg *m,
                     const char *commit)
{
	int i = 0;

	snprintf(dp->env[i++], sizeof(dp->env[0]), "PATH=/usr/local/bin:/usr/bin:/bin");
	snprintf(dp->env[i++], sizeof(dp->env[0]), "HOME=%s", u != NULL ? u->home : "/");
	snprintf(dp->env[i++], sizeof(dp->env[0]), "LANG=C.UTF-8");
	snprintf(dp->env[i++], sizeof(dp->env[0]), "TAILHOOK_SITE=%s", dp->site->name);
	snprintf(dp->env[i++], sizeof(dp->env[0]), "TAILHOOK_COMMIT=%s", commit);
	snprintf(dp->env[i++], sizeof(dp->env[0]), "TAILHOOK_DELIVERY=%s", m->delivery);
	for (int j = 0; j < i; j++)
		dp->envp[j] = dp->env[j];
	dp->envp[i] = NULL;
}

static int fail(struct deploy *dp, const char *step, const char *status)
{
	log_warnx("event=deploy-failed site=%s delivery=%s step=%s status=\"%s\" duration_ms=%lld",
	          dp->site->name, dp->ctx.delivery, step, status, mono_ms() - dp->t0);
	return 1;
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
			return fail(dp, "git", res.status);
	}
	dp->ctx.cwd = s->checkout;
	snprintf(refspec, sizeof(refspec), "refs/heads/%s", s->branch);
	char *const fetch[] = {"git", "fetch",   "--quiet", "--no-tags",
	                       "--",  s->remote, refspec,   NULL};
	char *const rev[] = {"git", "rev-parse", "--verify", "FETCH_HEAD^{commit}", NULL};
	if (run(dp, "git", fetch, &res, 0) < 0)
		return fail(dp, "git", res.status);
	if (run(dp, "git", rev, &res, 1) < 0 || !is_hex40(res.capture))
		return fail(dp, "git", "cannot resolve the fetched tip");
	snprintf(dp->tip, sizeof(dp->tip), "%s", res.capture);
	char *const reset[] = {"git", "reset", "--quiet", "--hard", dp->tip, NULL};
	char *const clean[] = {"git", "clean", "-ffdxq", NULL};
	if (run(dp, "git", reset, &res, 0) < 0 || run(dp, "git", clean, &res, 0) < 0)
		return fail(dp, "git", res.status);
	return 0;
}

/* A missing or empty output must never replace the live site. */
static int output_ready(const char *dir)
{
	DIR *dh = opendir(dir);
	const struct dirent *de;
	int found = 0;

	if (dh == NULL)
		return 0;
	while (!found && (de = readdir(dh)) != NULL)
		found = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(dh);
	return found;
}

static int build_and_sync(struct deploy *dp)
{
	const struct th_site *s = dp->site;
	struct step_result res;
	char out[PATH_MAX + 2], target[PATH_MAX + 2];

	if (run(dp, "build", s->build, &res, 0) < 0)
		return fail(dp, "build", res.status);
	snprintf(out, sizeof(out), "%s/%s/", s->checkout, s->output);
	if (!output_ready(out))
		return fail(dp, "build", "output directory missing or empty");
	snprintf(target, sizeof(target), "%s/", s->target);
	char *const rsync[] = {"rsync", "-a", "--delete", "--exclude=/.git",
	                       "--",    out,  target,     NULL};
	if (run(dp, "sync", rsync, &res, 0) < 0)
		return fail(dp, "sync", res.status);
	return 0;
}

int deploy_run(struct deployer *d, size_t site, const struct th_msg *m)
{
	static struct deploy dp;
	const struct th_user *u = d->privileged ? &d->site_users[site] : NULL;
	int rc;

	memset(&dp, 0, sizeof(dp));
	dp.site = &d->cfg.sites[site];
	dp.t0 = mono_ms();
	dp.ctx.site = dp.site->name;
	dp.ctx.delivery = m->delivery;
	dp.ctx.user = u;
	dp.ctx.timeout = dp.site->timeout;
	dp.ctx.envp = dp.envp;
	make_env(&dp, u, m, m->commit);
	if ((rc = sync_checkout(&dp)) != 0)
		return rc;
	if (strcmp(dp.tip, m->commit) != 0)
		log_info("event=deploy-tip site=%s delivery=%s requested=%s fetched=%s "
		         "note=\"deploying the fetched tip\"",
		         dp.site->name, m->delivery, m->commit, dp.tip);
	make_env(&dp, u, m, dp.tip);
	if ((rc = build_and_sync(&dp)) != 0)
		return rc;
	log_info("event=deploy-done site=%s delivery=%s commit=%s result=ok duration_ms=%lld",
	         dp.site->name, m->delivery, dp.tip, mono_ms() - dp.t0);
	return 0;
}
