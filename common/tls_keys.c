/*
 * tls_keys.c - PEM -> BearSSL certificate chain and private key.
 */
#include "tls_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct der {
	unsigned char *p;
	size_t len, cap;
	int failed;
};

static void der_append(void *ctx, const void *src, size_t len)
{
	struct der *d = ctx;
	if (d->failed)
		return;
	if (d->len + len > d->cap) {
		size_t cap = (d->len + len) * 2 + 256;
		unsigned char *np = realloc(d->p, cap);
		if (np == NULL) {
			d->failed = 1;
			return;
		}
		d->p = np;
		d->cap = cap;
	}
	memcpy(d->p + d->len, src, len);
	d->len += len;
}

/* Called for every PEM object with its name and DER bytes; returns -1 to stop. */
typedef int (*pem_obj_fn)(void *ctx, const char *name, struct der *d);

static int pem_feed(br_pem_decoder_context *pc, const unsigned char *p, size_t n, char *name,
                    size_t namesz, struct der *d, pem_obj_fn fn, void *ctx)
{
	while (n > 0) {
		size_t used = br_pem_decoder_push(pc, p, n);
		p += used;
		n -= used;
		switch (br_pem_decoder_event(pc)) {
		case BR_PEM_BEGIN_OBJ:
			snprintf(name, namesz, "%s", br_pem_decoder_name(pc));
			d->len = 0;
			br_pem_decoder_setdest(pc, der_append, d);
			break;
		case BR_PEM_END_OBJ:
			if (d->failed || fn(ctx, name, d) < 0)
				return -1;
			break;
		case BR_PEM_ERROR:
			return -1;
		}
	}
	return 0;
}

static int pem_each(const char *pem, size_t len, pem_obj_fn fn, void *ctx)
{
	br_pem_decoder_context pc;
	struct der d = {0};
	char name[128] = "";
	int rc;

	br_pem_decoder_init(&pc);
	rc = pem_feed(&pc, (const unsigned char *)pem, len, name, sizeof(name), &d, fn, ctx);
	/* A final newline lets the decoder see an END line at end of file. */
	if (rc == 0)
		rc = pem_feed(&pc, (const unsigned char *)"\n", 1, name, sizeof(name), &d, fn, ctx);
	if (d.p != NULL)
		explicit_bzero(d.p, d.cap);
	free(d.p);
	return rc;
}

static int add_cert(void *ctx, const char *name, struct der *d)
{
	struct tls_keys *k = ctx;
	br_x509_certificate *nc;

	if (strcmp(name, "CERTIFICATE") != 0 && strcmp(name, "X509 CERTIFICATE") != 0)
		return 0;
	nc = realloc(k->chain, (k->chain_len + 1) * sizeof(*nc));
	if (nc == NULL)
		return -1;
	k->chain = nc;
	nc[k->chain_len].data = malloc(d->len);
	if (nc[k->chain_len].data == NULL)
		return -1;
	memcpy(nc[k->chain_len].data, d->p, d->len);
	nc[k->chain_len].data_len = d->len;
	k->chain_len++;
	return 0;
}

struct key_found {
	br_skey_decoder_context dc;
	int seen;
};

static int add_key(void *ctx, const char *name, struct der *d)
{
	struct key_found *kf = ctx;

	if (strcmp(name, "EC PRIVATE KEY") != 0 && strcmp(name, "RSA PRIVATE KEY") != 0 &&
	    strcmp(name, "PRIVATE KEY") != 0)
		return 0;
	if (kf->seen++)
		return -1;
	br_skey_decoder_init(&kf->dc);
	br_skey_decoder_push(&kf->dc, d->p, d->len);
	return br_skey_decoder_last_error(&kf->dc) == 0 ? 0 : -1;
}

static unsigned char *copy_into(unsigned char **dst, const unsigned char *src, size_t len)
{
	unsigned char *at = *dst;
	memcpy(at, src, len);
	*dst += len;
	return at;
}

/* The decoder's key points into the decoder: copy it into memory we own. */
static int keep_key(struct tls_keys *k, const br_skey_decoder_context *dc)
{
	unsigned char *w;

	k->key_type = br_skey_decoder_key_type(dc);
	if (k->key_type == BR_KEYTYPE_EC) {
		const br_ec_private_key *ec = br_skey_decoder_get_ec(dc);
		k->key_buf_len = ec->xlen;
		if ((k->key_buf = w = malloc(k->key_buf_len)) == NULL)
			return -1;
		k->ec = *ec;
		k->ec.x = copy_into(&w, ec->x, ec->xlen);
		return 0;
	}
	if (k->key_type == BR_KEYTYPE_RSA) {
		const br_rsa_private_key *rsa = br_skey_decoder_get_rsa(dc);
		k->key_buf_len = rsa->plen + rsa->qlen + rsa->dplen + rsa->dqlen + rsa->iqlen;
		if ((k->key_buf = w = malloc(k->key_buf_len)) == NULL)
			return -1;
		k->rsa = *rsa;
		k->rsa.p = copy_into(&w, rsa->p, rsa->plen);
		k->rsa.q = copy_into(&w, rsa->q, rsa->qlen);
		k->rsa.dp = copy_into(&w, rsa->dp, rsa->dplen);
		k->rsa.dq = copy_into(&w, rsa->dq, rsa->dqlen);
		k->rsa.iq = copy_into(&w, rsa->iq, rsa->iqlen);
		return 0;
	}
	return -1;
}

/* Reads the leaf's key type and its signer's, and checks them against the key. */
static int check_leaf(struct tls_keys *k, char *err, size_t errlen)
{
	br_x509_decoder_context xc;
	const br_x509_pkey *pk;

	br_x509_decoder_init(&xc, NULL, NULL);
	br_x509_decoder_push(&xc, k->chain[0].data, k->chain[0].data_len);
	pk = br_x509_decoder_get_pkey(&xc);
	if (pk == NULL || br_x509_decoder_last_error(&xc) != 0) {
		snprintf(err, errlen, "cannot decode the first certificate");
		return -1;
	}
	if (pk->key_type != k->key_type) {
		snprintf(err, errlen, "the key type does not match the certificate");
		return -1;
	}
	if (k->key_type == BR_KEYTYPE_EC && pk->key.ec.curve != k->ec.curve) {
		snprintf(err, errlen, "the key's curve does not match the certificate");
		return -1;
	}
	k->issuer_key_type = (unsigned)br_x509_decoder_get_signer_key_type(&xc);
	return 0;
}

int tls_keys_load(struct tls_keys *k, const char *cert_pem, size_t cert_len, const char *key_pem,
                  size_t key_len, char *err, size_t errlen)
{
	struct key_found *kf;
	int rc = -1;

	memset(k, 0, sizeof(*k));
	if (pem_each(cert_pem, cert_len, add_cert, k) < 0 || k->chain_len == 0) {
		snprintf(err, errlen, "certificate: no valid PEM CERTIFICATE found");
		goto out;
	}
	/* The skey decoder context is large; keep it off the stack. */
	if ((kf = calloc(1, sizeof(*kf))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (pem_each(key_pem, key_len, add_key, kf) < 0 || kf->seen != 1 ||
	    keep_key(k, &kf->dc) < 0)
		snprintf(err, errlen, "key: expected one EC or RSA private key in PEM");
	else
		rc = check_leaf(k, err, errlen);
	explicit_bzero(kf, sizeof(*kf));
	free(kf);
out:
	if (rc < 0)
		tls_keys_free(k);
	return rc;
}

void tls_keys_free(struct tls_keys *k)
{
	size_t i;

	for (i = 0; i < k->chain_len; i++)
		free(k->chain[i].data);
	free(k->chain);
	if (k->key_buf != NULL)
		explicit_bzero(k->key_buf, k->key_buf_len);
	free(k->key_buf);
	memset(k, 0, sizeof(*k));
}
