/*
 * fuzz_signature.c - the signature checks on arbitrary header values and
 * bodies against fixed secrets, with the harness's own HMACs as oracle.
 *
 * Input: the header value, a NUL byte, then the body.  Without a NUL the
 * whole input is the header value and the body is empty.  Checked:
 *   - sig_verify_sha256 answers exactly what the oracle predicts for both
 *     prefixes the receiver uses ("sha256=" and bare hex; NULL means bare);
 *   - sig_verify_hmac agrees with it for one key, and with the oracle for
 *     two keys (rotation) and for SHA-1 ("sha1=", GitHub's legacy header);
 *   - sig_verify_token (GitLab) is SIG_OK exactly when the value is one of
 *     the keys, SIG_MISSING when empty, SIG_MALFORMED past SIG_TOKEN_MAX;
 *   - the correct signature of this body, in lower and upper case, is
 *     SIG_OK, and with one digit changed it is SIG_MISMATCH;
 *   - ct_memeq agrees with memcmp.
 */
#include <bearssl.h>
#include <string.h>

#include "fuzz.h"
#include "signature.h"

/* GitHub's documented test secret (tests/fixtures/payloads/MANIFEST.md, vector A). */
static const char secret[] = "It's a Secret to Everybody";
/* The other key of a site whose secret is being rotated. */
static const char old_secret[] = "mysecret";

#define MAX_MAC 32

struct oracle {
	size_t mac_len;                /* 32 (SHA-256) or 20 (SHA-1) */
	unsigned char mac[2][MAX_MAC]; /* of secret, then of old_secret */
	size_t nkeys;
};

static void hmac(const br_hash_class *h, const char *key, const uint8_t *body, size_t len,
                 unsigned char *out)
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	br_hmac_key_init(&kc, h, key, strlen(key));
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, body, len);
	br_hmac_out(&hc, out);
}

static void oracle_init(struct oracle *o, const br_hash_class *h, size_t nkeys, const uint8_t *body,
                        size_t len)
{
	o->mac_len = h == &br_sha1_vtable ? 20 : 32;
	o->nkeys = nkeys;
	hmac(h, secret, body, len, o->mac[0]);
	hmac(h, old_secret, body, len, o->mac[1]);
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* What the HMAC checks must answer, computed the slow, obvious way. */
static enum sig_result predict(const char *hdr, size_t len, const char *prefix,
                               const struct oracle *o)
{
	size_t plen = strlen(prefix), hex = 2 * o->mac_len;
	int equal[2] = {1, 1};

	if (len == 0)
		return SIG_MISSING;
	if (len != plen + hex || memcmp(hdr, prefix, plen) != 0)
		return SIG_MALFORMED;
	for (size_t i = 0; i < hex; i++) {
		int v = nibble(hdr[plen + i]);
		if (v < 0)
			return SIG_MALFORMED;
		for (size_t k = 0; k < 2; k++)
			if (v != ((o->mac[k][i / 2] >> (i % 2 ? 0 : 4)) & 0xf))
				equal[k] = 0;
	}
	return equal[0] || (o->nkeys > 1 && equal[1]) ? SIG_OK : SIG_MISMATCH;
}

static enum sig_result predict_token(const char *hdr, size_t len)
{
	if (len == 0)
		return SIG_MISSING;
	if (len > SIG_TOKEN_MAX)
		return SIG_MALFORMED;
	if ((len == strlen(secret) && memcmp(hdr, secret, len) == 0) ||
	    (len == strlen(old_secret) && memcmp(hdr, old_secret, len) == 0))
		return SIG_OK;
	return SIG_MISMATCH;
}

static enum sig_result verify(const char *hdr, size_t len, const char *prefix, const uint8_t *body,
                              size_t blen)
{
	return sig_verify_sha256(hdr, len, prefix, (const unsigned char *)secret,
	                         sizeof(secret) - 1, body, blen);
}

static void keys_init(struct sig_keys *k, size_t n)
{
	memset(k, 0, sizeof(*k));
	k->key[0] = (const unsigned char *)secret;
	k->len[0] = strlen(secret);
	k->key[1] = (const unsigned char *)old_secret;
	k->len[1] = strlen(old_secret);
	k->n = n;
}

/* The correct header for the body must verify, in either case, and a changed digit not. */
static void check_correct(const struct oracle *o, const uint8_t *body, size_t blen)
{
	static const char lower[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
	char hdr[7 + 64 + 1] = "sha256=";

	for (size_t i = 0; i < 32; i++) {
		hdr[7 + 2 * i] = lower[o->mac[0][i] >> 4];
		hdr[7 + 2 * i + 1] = lower[o->mac[0][i] & 0xf];
	}
	FUZZ_CHECK(verify(hdr, 71, "sha256=", body, blen) == SIG_OK);
	FUZZ_CHECK(verify(hdr + 7, 64, "", body, blen) == SIG_OK);
	FUZZ_CHECK(verify(hdr + 7, 64, NULL, body, blen) == SIG_OK);
	FUZZ_CHECK(verify(hdr, 70, "sha256=", body, blen) == SIG_MALFORMED);
	for (size_t i = 0; i < 64; i++)
		hdr[7 + i] = upper[nibble(hdr[7 + i])];
	FUZZ_CHECK(verify(hdr, 71, "sha256=", body, blen) == SIG_OK);
	hdr[70] = hdr[70] == '0' ? '1' : '0';
	FUZZ_CHECK(verify(hdr, 71, "sha256=", body, blen) == SIG_MISMATCH);
}

/* The same for the second key of a rotation, with SHA-1 and its prefix. */
static void check_correct_sha1_rotated(const struct oracle *o, const struct sig_keys *keys,
                                       const uint8_t *body, size_t blen)
{
	static const char lower[] = "0123456789abcdef";
	char hdr[5 + 40 + 1] = "sha1=";

	for (size_t i = 0; i < 20; i++) {
		hdr[5 + 2 * i] = lower[o->mac[1][i] >> 4];
		hdr[5 + 2 * i + 1] = lower[o->mac[1][i] & 0xf];
	}
	FUZZ_CHECK(sig_verify_hmac(SIG_SHA1, hdr, 45, "sha1=", keys, body, blen) == SIG_OK);
	hdr[44] = hdr[44] == '0' ? '1' : '0';
	FUZZ_CHECK(sig_verify_hmac(SIG_SHA1, hdr, 45, "sha1=", keys, body, blen) == SIG_MISMATCH);
}

int fuzz_signature_one(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	const char *hdr = (const char *)data;
	size_t hlen = nul != NULL ? (size_t)(nul - data) : size;
	const uint8_t *body = nul != NULL ? nul + 1 : data + size;
	size_t blen = size - (size_t)(body - data);
	struct oracle one, two, sha1;
	struct sig_keys k1, k2;
	enum sig_result r;

	oracle_init(&one, &br_sha256_vtable, 1, body, blen);
	oracle_init(&two, &br_sha256_vtable, 2, body, blen);
	oracle_init(&sha1, &br_sha1_vtable, 2, body, blen);
	keys_init(&k1, 1);
	keys_init(&k2, 2);

	r = verify(hdr, hlen, "sha256=", body, blen);
	FUZZ_CHECK(r == predict(hdr, hlen, "sha256=", &one));
	FUZZ_CHECK(sig_strerror(r) != NULL);
	FUZZ_CHECK(sig_verify_hmac(SIG_SHA256, hdr, hlen, "sha256=", &k1, body, blen) == r);
	FUZZ_CHECK(sig_verify_hmac(SIG_SHA256, hdr, hlen, "sha256=", &k2, body, blen) ==
	           predict(hdr, hlen, "sha256=", &two));
	r = verify(hdr, hlen, "", body, blen);
	FUZZ_CHECK(r == predict(hdr, hlen, "", &one));
	FUZZ_CHECK(verify(hdr, hlen, NULL, body, blen) == r);
	FUZZ_CHECK(sig_verify_hmac(SIG_SHA1, hdr, hlen, "sha1=", &k2, body, blen) ==
	           predict(hdr, hlen, "sha1=", &sha1));
	FUZZ_CHECK(sig_verify_token(hdr, hlen, &k2) == predict_token(hdr, hlen));
	FUZZ_CHECK(verify(NULL, 0, "sha256=", body, blen) == SIG_MISSING);
	FUZZ_CHECK(sig_verify_hmac(SIG_SHA256, NULL, 0, "sha256=", &k2, body, blen) == SIG_MISSING);
	FUZZ_CHECK(sig_verify_token(NULL, 0, &k2) == SIG_MISSING);
	check_correct(&one, body, blen);
	check_correct_sha1_rotated(&sha1, &k2, body, blen);
	FUZZ_CHECK(ct_memeq(data, data + size / 2, size / 2) ==
	           (memcmp(data, data + size / 2, size / 2) == 0));
	return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_signature_one(data, size);
}
#endif
