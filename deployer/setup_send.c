/*
 * setup_send.c - serialise what the receiver needs into a sealed memfd.
 */
#include "setup_send.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "setup_blob.h"

static int fill(const struct deployer *d, struct th_setup *s)
{
	const struct th_config *c = &d->cfg;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->handshake_timeout = c->handshake_timeout;
	s->head_timeout = c->head_timeout;
	s->request_timeout = c->request_timeout;
	s->idle_timeout = c->idle_timeout;
	s->max_connections = c->max_connections;
	/* The sockets actually open: from the config or from systemd. */
	s->nlisten = (uint32_t)d->nlisten;
	for (i = 0; i < d->nlisten && i < TH_SETUP_MAX_LISTEN; i++)
		s->listen_plain[i] = d->listen_plain[i];
	s->privileged = (uint32_t)d->privileged;
	s->uid = (uint32_t)d->rx_user.uid;
	s->gid = (uint32_t)d->rx_user.gid;
	s->chroot = c->chroot;
	s->cert_pem = d->cert_pem;
	s->cert_len = d->cert_len;
	s->key_pem = d->key_pem;
	s->key_len = d->key_len;
	s->nsites = c->nsites;
	s->sites = calloc(c->nsites, sizeof(*s->sites));
	if (s->sites == NULL)
		return -1;
	for (i = 0; i < c->nsites; i++) {
		s->sites[i].name = c->sites[i].name;
		s->sites[i].path = c->sites[i].path;
		s->sites[i].branch = c->sites[i].branch;
		s->sites[i].provider = (uint32_t)c->sites[i].provider;
		s->sites[i].max_body = c->sites[i].max_body;
		s->sites[i].secret = c->sites[i].secret;
		s->sites[i].secret_len = c->sites[i].secret_len;
		s->sites[i].secret2 = c->sites[i].secret2;
		s->sites[i].secret2_len = c->sites[i].secret2_len;
		s->sites[i].flags = c->sites[i].legacy_sha1 ? TH_SITE_LEGACY_SHA1 : 0;
	}
	return 0;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int setup_send_memfd(const struct deployer *d)
{
	struct th_setup s;
	unsigned char *blob = NULL;
	size_t len = 0;
	int fd = -1, ok = 0;

	if (fill(d, &s) == 0)
		blob = setup_encode(&s, &len);
	free(s.sites); /* the fields point into the config; don't free them */
	if (blob != NULL)
		fd = memfd_create("tailhook-setup", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd >= 0)
		ok = write_all(fd, blob, len) == 0 &&
		     fcntl(fd, F_ADD_SEALS,
		           F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == 0;
	if (blob != NULL)
		explicit_bzero(blob, len);
	free(blob);
	if (!ok && fd >= 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}
