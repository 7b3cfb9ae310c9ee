/*
 * setup_blob.c - encode and decode the deployer->receiver start-up blob.
 */
#include "setup_blob.h"

#include <stdlib.h>
#include <string.h>

#include "provider_id.h"

enum rec_type {
	REC_LIMITS = 1,
	REC_CERT,
	REC_KEY,
	REC_SITE_NAME, /* starts a new site */
	REC_SITE_PATH,
	REC_SITE_BRANCH,
	REC_SITE_PROVIDER,
	REC_SITE_MAXBODY,
	REC_SITE_SECRET,
	REC_PRIV,
	REC_LISTEN_PLAIN,
	REC_CHROOT,
	REC_SITE_SECRET2, /* optional */
	REC_SITE_FLAGS,   /* optional */
	REC_END,
};

struct wbuf {
	unsigned char *p;
	size_t len, cap;
	int failed;
};

static void put(struct wbuf *w, const void *data, size_t n)
{
	/* n == 0 (the END record) may come with data == NULL: no memcpy then. */
	if (w->failed || n == 0)
		return;
	if (w->len + n > w->cap) {
		size_t cap = (w->cap + n) * 2;
		unsigned char *np = realloc(w->p, cap);
		if (np == NULL) {
			w->failed = 1;
			return;
		}
		w->p = np;
		w->cap = cap;
	}
	memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void put_rec(struct wbuf *w, uint16_t type, const void *data, size_t n)
{
	uint32_t len32 = (uint32_t)n;
	put(w, &type, sizeof(type));
	put(w, &len32, sizeof(len32));
	put(w, data, n);
}

static void put_str(struct wbuf *w, uint16_t type, const char *s)
{
	put_rec(w, type, s, strlen(s));
}

unsigned char *setup_encode(const struct th_setup *s, size_t *len)
{
	struct wbuf w = {0};
	uint32_t limits[6] = {s->handshake_timeout, s->head_timeout,    s->request_timeout,
	                      s->idle_timeout,      s->max_connections, s->nlisten};
	uint32_t priv[3] = {s->privileged, s->uid, s->gid};
	size_t i;

	put_rec(&w, REC_LIMITS, limits, sizeof(limits));
	put_rec(&w, REC_PRIV, priv, sizeof(priv));
	put_rec(&w, REC_LISTEN_PLAIN, s->listen_plain, sizeof(s->listen_plain));
	put_str(&w, REC_CHROOT, s->chroot);
	put_rec(&w, REC_CERT, s->cert_pem, s->cert_len);
	put_rec(&w, REC_KEY, s->key_pem, s->key_len);
	for (i = 0; i < s->nsites; i++) {
		const struct th_setup_site *st = &s->sites[i];
		put_str(&w, REC_SITE_NAME, st->name);
		put_str(&w, REC_SITE_PATH, st->path);
		put_str(&w, REC_SITE_BRANCH, st->branch);
		put_rec(&w, REC_SITE_PROVIDER, &st->provider, sizeof(st->provider));
		put_rec(&w, REC_SITE_MAXBODY, &st->max_body, sizeof(st->max_body));
		put_rec(&w, REC_SITE_SECRET, st->secret, st->secret_len);
		if (st->secret2 != NULL)
			put_rec(&w, REC_SITE_SECRET2, st->secret2, st->secret2_len);
		put_rec(&w, REC_SITE_FLAGS, &st->flags, sizeof(st->flags));
	}
	put_rec(&w, REC_END, NULL, 0);
	if (w.failed) {
		free(w.p);
		return NULL;
	}
	*len = w.len;
	return w.p;
}

/* A bounds-checked cursor over the blob. */
struct rbuf {
	const unsigned char *p;
	size_t left;
};

static int get(struct rbuf *r, void *out, size_t n)
{
	if (n > r->left)
		return -1;
	memcpy(out, r->p, n);
	r->p += n;
	r->left -= n;
	return 0;
}

static char *dup_bytes(const unsigned char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static int fixed(void *dst, size_t want, const unsigned char *p, size_t n)
{
	if (n != want)
		return -1;
	memcpy(dst, p, n);
	return 0;
}

static struct th_setup_site *new_site(struct th_setup *s)
{
	struct th_setup_site *ns = realloc(s->sites, (s->nsites + 1) * sizeof(*ns));
	if (ns == NULL)
		return NULL;
	s->sites = ns;
	memset(&ns[s->nsites], 0, sizeof(*ns));
	return &ns[s->nsites++];
}

static int take_site_rec(struct th_setup *s, uint16_t type, const unsigned char *p, size_t n)
{
	struct th_setup_site *st;

	if (type == REC_SITE_NAME) {
		st = new_site(s);
		return (st == NULL || (st->name = dup_bytes(p, n)) == NULL) ? -1 : 0;
	}
	if (s->nsites == 0)
		return -1;
	st = &s->sites[s->nsites - 1];
	switch (type) {
	case REC_SITE_PATH:
		return (st->path == NULL && (st->path = dup_bytes(p, n)) != NULL) ? 0 : -1;
	case REC_SITE_BRANCH:
		return (st->branch == NULL && (st->branch = dup_bytes(p, n)) != NULL) ? 0 : -1;
	case REC_SITE_PROVIDER:
		return fixed(&st->provider, sizeof(st->provider), p, n);
	case REC_SITE_MAXBODY:
		return fixed(&st->max_body, sizeof(st->max_body), p, n);
	case REC_SITE_SECRET:
		if (st->secret != NULL || n == 0)
			return -1;
		st->secret = (unsigned char *)dup_bytes(p, n);
		st->secret_len = n;
		return st->secret == NULL ? -1 : 0;
	case REC_SITE_SECRET2:
		if (st->secret2 != NULL || n == 0)
			return -1;
		st->secret2 = (unsigned char *)dup_bytes(p, n);
		st->secret2_len = n;
		return st->secret2 == NULL ? -1 : 0;
	case REC_SITE_FLAGS:
		if (fixed(&st->flags, sizeof(st->flags), p, n) < 0)
			return -1;
		return (st->flags & ~TH_SITE_FLAGS_KNOWN) == 0 ? 0 : -1;
	}
	return -1;
}

static int take_rec(struct th_setup *s, uint16_t type, const unsigned char *p, size_t n)
{
	uint32_t limits[6], priv[3];

	switch (type) {
	case REC_LIMITS:
		if (fixed(limits, sizeof(limits), p, n) < 0)
			return -1;
		s->handshake_timeout = limits[0];
		s->head_timeout = limits[1];
		s->request_timeout = limits[2];
		s->idle_timeout = limits[3];
		s->max_connections = limits[4];
		s->nlisten = limits[5];
		return 0;
	case REC_PRIV:
		if (fixed(priv, sizeof(priv), p, n) < 0)
			return -1;
		s->privileged = priv[0];
		s->uid = priv[1];
		s->gid = priv[2];
		return 0;
	case REC_LISTEN_PLAIN:
		return fixed(s->listen_plain, sizeof(s->listen_plain), p, n);
	case REC_CHROOT:
		return (s->chroot == NULL && (s->chroot = dup_bytes(p, n)) != NULL) ? 0 : -1;
	case REC_CERT:
		s->cert_len = n;
		return (s->cert_pem == NULL && (s->cert_pem = dup_bytes(p, n)) != NULL) ? 0 : -1;
	case REC_KEY:
		s->key_len = n;
		return (s->key_pem == NULL && (s->key_pem = dup_bytes(p, n)) != NULL) ? 0 : -1;
	}
	return take_site_rec(s, type, p, n);
}

static int complete(const struct th_setup *s)
{
	size_t i;

	if (s->cert_pem == NULL || s->key_pem == NULL || s->chroot == NULL || s->nsites == 0 ||
	    s->nlisten == 0 || s->nlisten > TH_SETUP_MAX_LISTEN)
		return -1;
	for (i = 0; i < s->nsites; i++) {
		const struct th_setup_site *st = &s->sites[i];
		if (st->path == NULL || st->branch == NULL || st->secret == NULL)
			return -1;
		/* the receiver indexes its dialect table with this */
		if (st->provider >= TH_PROVIDER_COUNT)
			return -1;
		if ((st->flags & TH_SITE_LEGACY_SHA1) && st->provider != TH_PROVIDER_GITHUB)
			return -1;
	}
	return 0;
}

int setup_decode(struct th_setup *s, const unsigned char *buf, size_t len)
{
	struct rbuf r = {buf, len};
	uint16_t type;
	uint32_t n;

	memset(s, 0, sizeof(*s));
	for (;;) {
		if (get(&r, &type, sizeof(type)) < 0 || get(&r, &n, sizeof(n)) < 0 || n > r.left)
			break;
		if (type == REC_END)
			return (n == 0 && r.left == n && complete(s) == 0) ? 0
			                                                   : (setup_free(s), -1);
		if (take_rec(s, type, r.p, n) < 0)
			break;
		r.p += n;
		r.left -= n;
	}
	setup_free(s);
	return -1;
}

static void wipe_free(void *p, size_t n)
{
	if (p != NULL)
		explicit_bzero(p, n);
	free(p);
}

void setup_free(struct th_setup *s)
{
	size_t i;

	for (i = 0; i < s->nsites; i++) {
		free(s->sites[i].name);
		free(s->sites[i].path);
		free(s->sites[i].branch);
		wipe_free(s->sites[i].secret, s->sites[i].secret_len);
		wipe_free(s->sites[i].secret2, s->sites[i].secret2_len);
	}
	free(s->sites);
	free(s->cert_pem);
	free(s->chroot);
	wipe_free(s->key_pem, s->key_len);
	memset(s, 0, sizeof(*s));
}
