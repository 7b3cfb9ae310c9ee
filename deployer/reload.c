/*
 * reload.c - SIGHUP, all or nothing.
 */
#include "reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "deploy_queue.h"
#include "listeners.h"
#include "load.h"
#include "log.h"
#include "receiver_proc.h"

/* The listeners the new config asks for: kept where unchanged, else opened. */
struct new_listeners {
	int fds[TH_MAX_LISTEN];
	unsigned char plain[TH_MAX_LISTEN];
	int reused[TH_MAX_LISTEN];
	size_t n;
};

static int old_index(const struct deployer *d, const char *spec)
{
	size_t i;

	for (i = 0; i < d->nlisten; i++)
		if (d->listen_spec[i] != NULL && strcmp(d->listen_spec[i], spec) == 0)
			return (int)i;
	return -1;
}

static void close_new(struct new_listeners *nl)
{
	size_t i;

	for (i = 0; i < nl->n; i++)
		if (!nl->reused[i])
			close(nl->fds[i]);
}

static int open_listeners(const struct deployer *d, const struct th_config *cfg,
                          struct new_listeners *nl, char *err, size_t errlen)
{
	size_t i;
	int j, plain;

	memset(nl, 0, sizeof(*nl));
	if (cfg->nlisten == 0) {
		snprintf(err, errlen, "%s: no 'listen' in [server]", cfg->file);
		return -1;
	}
	for (i = 0; i < cfg->nlisten; i++, nl->n++) {
		j = old_index(d, cfg->listen[i]);
		if (j >= 0) {
			nl->fds[i] = d->listen_fds[j];
			nl->plain[i] = d->listen_plain[j];
			nl->reused[i] = 1;
			continue;
		}
		nl->fds[i] = listener_open(cfg->listen[i], &plain, err, errlen);
		if (nl->fds[i] < 0) {
			close_new(nl);
			return -1;
		}
		nl->plain[i] = (unsigned char)plain;
	}
	return 0;
}

/* Old listeners the new config dropped: the draining receiver has its own copies. */
static void install_listeners(struct deployer *d, const struct th_config *cfg,
                              const struct new_listeners *nl)
{
	size_t i, k;
	int kept;

	for (i = 0; i < d->nlisten; i++) {
		for (k = 0, kept = 0; k < nl->n; k++)
			kept |= nl->reused[k] && nl->fds[k] == d->listen_fds[i];
		if (!kept)
			close(d->listen_fds[i]);
		free(d->listen_spec[i]);
		d->listen_spec[i] = NULL;
	}
	for (i = 0; i < nl->n; i++) {
		d->listen_fds[i] = nl->fds[i];
		d->listen_plain[i] = nl->plain[i];
		d->listen_spec[i] = strdup(cfg->listen[i]);
	}
	d->nlisten = nl->n;
}

static void failed(const char *err)
{
	char clean[700];

	log_sanitize(clean, sizeof(clean), err, strlen(err));
	log_warnx("event=reload result=failed error=\"%s\" note=\"the old configuration stays "
	          "in force\"",
	          clean);
}

/* Moves the loaded config of n into d, freeing d's old one. */
static void swap_in(struct deployer *d, struct deployer *n, struct site_state *sites)
{
	free(n->sites);
	n->sites = NULL;
	load_free(d); /* d's config, certificate, key, users and site table */
	d->cfg = n->cfg;
	d->cert_pem = n->cert_pem;
	d->key_pem = n->key_pem;
	d->cert_len = n->cert_len;
	d->key_len = n->key_len;
	d->rx_user = n->rx_user;
	d->site_users = n->site_users;
	d->sites = sites;
	memset(n, 0, sizeof(*n));
}

void reload(struct deployer *d)
{
	static struct deployer n;
	struct new_listeners nl;
	struct site_state *sites;
	char err[600], file[PATH_MAX];
	int moved_state;

	memset(&n, 0, sizeof(n));
	n.privileged = d->privileged;
	snprintf(file, sizeof(file), "%s", d->cfg.file);
	log_info("event=reload file=%s", file);
	if (load_config(&n, file, err, sizeof(err)) < 0)
		return failed(err);
	if (load_check_paths(&n, 1, err, sizeof(err)) < 0 ||
	    (!d->activated && open_listeners(d, &n.cfg, &nl, err, sizeof(err)) < 0)) {
		load_free(&n);
		return failed(err);
	}
	sites = deploy_queue_remap(d, &n.cfg);
	if (sites == NULL) {
		if (!d->activated)
			close_new(&nl);
		load_free(&n);
		return failed("out of memory");
	}
	if (d->activated && n.cfg.nlisten > 0)
		log_warnx(
		    "event=reload note=\"listen lines ignored: the sockets come from systemd\"");
	moved_state = strcmp(d->cfg.state_dir, n.cfg.state_dir) != 0;
	if (moved_state)
		control_close(d);
	if (!d->activated)
		install_listeners(d, &n.cfg, &nl);
	swap_in(d, &n, sites);
	if (moved_state && control_open(d, err, sizeof(err)) < 0)
		log_warnx("event=reload note=\"no control socket: %s\"", err);
	log_info("event=reload result=ok sites=%zu", d->cfg.nsites);
	receiver_replace(d);
}
