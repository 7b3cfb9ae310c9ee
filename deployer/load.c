/*
 * load.c - config, certificate, key and users, as one fallible step.
 */
#include "load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"
#include "state.h"
#include "tls_keys.h"

static void wipe_free(char *p, size_t n)
{
	if (p != NULL)
		explicit_bzero(p, n);
	free(p);
}

static int load_tls(struct deployer *d, char *err, size_t errlen)
{
	struct tls_keys k;
	char why[200];

	d->cert_pem = paths_read_file(d->cfg.certificate, &d->cert_len, err, errlen);
	if (d->cert_pem == NULL)
		return -1;
	d->key_pem = paths_read_file(d->cfg.key, &d->key_len, err, errlen);
	if (d->key_pem == NULL)
		return -1;
	if (tls_keys_load(&k, d->cert_pem, d->cert_len, d->key_pem, d->key_len, why, sizeof(why)) <
	    0) {
		snprintf(err, errlen, "%s, %s: %s", d->cfg.certificate, d->cfg.key, why);
		return -1;
	}
	tls_keys_free(&k);
	return 0;
}

static int lookup_user(const struct deployer *d, const char *name, const char *what, int line,
                       struct th_user *u, char *err, size_t errlen)
{
	const char *why = NULL;

	if (user_lookup(name, u) < 0)
		why = "does not exist";
	else if (u->uid == 0)
		why = "must not be root";
	if (why == NULL)
		return 0;
	if (line > 0)
		snprintf(err, errlen, "%s:%d: %s user '%s' %s", d->cfg.file, line, what, name, why);
	else
		snprintf(err, errlen, "%s: %s user '%s' %s", d->cfg.file, what, name, why);
	return -1;
}

static int load_users(struct deployer *d, char *err, size_t errlen)
{
	size_t i;

	d->site_users = calloc(d->cfg.nsites, sizeof(*d->site_users));
	d->sites = calloc(d->cfg.nsites, sizeof(*d->sites));
	if (d->site_users == NULL || d->sites == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!d->privileged)
		return 0;
	if (lookup_user(d, d->cfg.user, "receiver", 0, &d->rx_user, err, errlen) < 0)
		return -1;
	for (i = 0; i < d->cfg.nsites; i++)
		if (lookup_user(d, d->cfg.sites[i].user, "site", d->cfg.sites[i].line,
		                &d->site_users[i], err, errlen) < 0)
			return -1;
	return 0;
}

int load_config(struct deployer *d, const char *file, char *err, size_t errlen)
{
	if (config_load(&d->cfg, file, 1, geteuid(), err, errlen) < 0)
		return -1;
	if (load_tls(d, err, errlen) < 0 || load_users(d, err, errlen) < 0) {
		load_free(d);
		return -1;
	}
	return 0;
}

void load_free(struct deployer *d)
{
	config_free(&d->cfg);
	wipe_free(d->cert_pem, d->cert_len);
	wipe_free(d->key_pem, d->key_len);
	d->cert_pem = d->key_pem = NULL;
	d->cert_len = d->key_len = 0;
	free(d->site_users);
	free(d->sites);
	d->site_users = NULL;
	d->sites = NULL;
}

int load_check_paths(const struct deployer *d, int create, char *err, size_t errlen)
{
	if (paths_check(d, create, err, errlen) < 0)
		return -1;
	return create ? state_dirs_check(&d->cfg, err, errlen) : 0;
}
