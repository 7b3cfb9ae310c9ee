/*
 * signature.c - HMAC and token webhook authentication with BearSSL.
 *
 * The expected MAC only ever lives in a local buffer that is wiped before
 * returning: it is never logged, returned or compared with a short-circuit.
 */
#include "signature.h"
#include "hex.h"

#include <bearssl.h>
#include <string.h>

#define MAC_MAX 32 /* SHA-256; SHA-1 uses the first 20 bytes */

int ct_memeq(const void *a, const void *b, size_t n)
{
	/* volatile keeps the compiler from turning the loop into an early exit */
	const volatile unsigned char *pa = a;
	const volatile unsigned char *pb = b;
	unsigned int diff = 0;
	size_t i;

	for (i = 0; i < n; i++)
		diff |= (unsigned int)(pa[i] ^ pb[i]);
	/* diff is 0..255: diff - 1 borrows into bit 8 only when diff == 0 */
	return (int)(((diff - 1u) >> 8) & 1u);
}

static int hex_decode(const char *hex, unsigned char *out, size_t out_len)
{
	size_t i;

	for (i = 0; i < out_len; i++) {
		int hi = hex_value((unsigned char)hex[2 * i]);
		int lo = hex_value((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)((hi << 4) | lo);
	}
	return 0;
}

static void hmac(const br_hash_class *h, unsigned char mac[MAC_MAX], const unsigned char *key,
                 size_t key_len, const unsigned char *data, size_t data_len)
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	br_hmac_key_init(&kc, h, key, key_len);
	br_hmac_init(&hc, &kc, 0);
	if (data_len > 0)
		br_hmac_update(&hc, data, data_len);
	br_hmac_out(&hc, mac);
	/* both contexts hold hash states derived from the secret */
	explicit_bzero(&kc, sizeof(kc));
	explicit_bzero(&hc, sizeof(hc));
}

enum sig_result sig_verify_hmac(enum sig_alg alg, const char *hdr, size_t hdr_len,
                                const char *prefix, const struct sig_keys *keys,
                                const unsigned char *body, size_t body_len)
{
	const br_hash_class *h = alg == SIG_SHA1 ? &br_sha1_vtable : &br_sha256_vtable;
	size_t mac_len = alg == SIG_SHA1 ? br_sha1_SIZE : br_sha256_SIZE;
	unsigned char given[MAC_MAX];
	unsigned char expected[MAC_MAX];
	size_t plen, i;
	int equal = 0;

	if (prefix == NULL)
		prefix = "";
	plen = strlen(prefix);
	if (hdr == NULL || hdr_len == 0)
		return SIG_MISSING;
	if (hdr_len != plen + 2 * mac_len || memcmp(hdr, prefix, plen) != 0)
		return SIG_MALFORMED;
	if (hex_decode(hdr + plen, given, mac_len) != 0)
		return SIG_MALFORMED;
	for (i = 0; i < keys->n && i < 2; i++) {
		hmac(h, expected, keys->key[i], keys->len[i], body, body_len);
		/* no early exit: the second key is checked even after a match */
		equal |= ct_memeq(given, expected, mac_len);
	}
	explicit_bzero(expected, sizeof(expected));
	return equal ? SIG_OK : SIG_MISMATCH;
}

enum sig_result sig_verify_sha256(const char *hdr, size_t hdr_len, const char *prefix,
                                  const unsigned char *secret, size_t secret_len,
                                  const unsigned char *body, size_t body_len)
{
	struct sig_keys k = {{secret, NULL}, {secret_len, 0}, 1};

	return sig_verify_hmac(SIG_SHA256, hdr, hdr_len, prefix, &k, body, body_len);
}

static void sha256(unsigned char out[br_sha256_SIZE], const void *data, size_t len)
{
	br_sha256_context c;

	br_sha256_init(&c);
	br_sha256_update(&c, data, len);
	br_sha256_out(&c, out);
	explicit_bzero(&c, sizeof(c));
}

enum sig_result sig_verify_token(const char *hdr, size_t hdr_len, const struct sig_keys *keys)
{
	unsigned char given[br_sha256_SIZE];
	unsigned char expected[br_sha256_SIZE];
	size_t i;
	int equal = 0;

	if (hdr == NULL || hdr_len == 0)
		return SIG_MISSING;
	if (hdr_len > SIG_TOKEN_MAX)
		return SIG_MALFORMED;
	/* fixed-size digests: the compare takes the same time whatever the lengths */
	sha256(given, hdr, hdr_len);
	for (i = 0; i < keys->n && i < 2; i++) {
		sha256(expected, keys->key[i], keys->len[i]);
		equal |= ct_memeq(given, expected, sizeof(given));
	}
	explicit_bzero(expected, sizeof(expected));
	explicit_bzero(given, sizeof(given));
	return equal ? SIG_OK : SIG_MISMATCH;
}

const char *sig_strerror(enum sig_result r)
{
	switch (r) {
	case SIG_OK:
		return "signature ok";
	case SIG_MISSING:
		return "signature missing";
	case SIG_MALFORMED:
		return "signature malformed";
	case SIG_MISMATCH:
		return "signature mismatch";
	}
	return "signature: unknown result";
}
