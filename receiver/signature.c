/*
 * signature.c - HMAC-SHA256 webhook authentication with BearSSL.
 *
 * The expected MAC only ever lives in a local buffer that is wiped before
 * returning: it is never logged, returned or compared with a short-circuit.
 */
#include "signature.h"

#include <bearssl.h>
#include <string.h>

#define MAC_LEN 32
#define MAC_HEX (2 * MAC_LEN)

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

/* Returns 0..15, or -1.  Branching is fine: the header is not secret. */
static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int hex_decode(const char *hex, unsigned char *out, size_t out_len)
{
	size_t i;

	for (i = 0; i < out_len; i++) {
		int hi = hex_nibble(hex[2 * i]);
		int lo = hex_nibble(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)((hi << 4) | lo);
	}
	return 0;
}

static void hmac_sha256(unsigned char mac[MAC_LEN], const unsigned char *key, size_t key_len,
                        const unsigned char *data, size_t data_len)
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	br_hmac_key_init(&kc, &br_sha256_vtable, key, key_len);
	br_hmac_init(&hc, &kc, 0);
	if (data_len > 0)
		br_hmac_update(&hc, data, data_len);
	br_hmac_out(&hc, mac);
	/* both contexts hold hash states derived from the secret */
	explicit_bzero(&kc, sizeof(kc));
	explicit_bzero(&hc, sizeof(hc));
}

enum sig_result sig_verify_sha256(const char *hdr, size_t hdr_len, const char *prefix,
                                  const unsigned char *secret, size_t secret_len,
                                  const unsigned char *body, size_t body_len)
{
	unsigned char given[MAC_LEN];
	unsigned char expected[MAC_LEN];
	size_t plen;
	int equal;

	if (prefix == NULL)
		prefix = "";
	plen = strlen(prefix);
	if (hdr == NULL || hdr_len == 0)
		return SIG_MISSING;
	if (hdr_len != plen + MAC_HEX || memcmp(hdr, prefix, plen) != 0)
		return SIG_MALFORMED;
	if (hex_decode(hdr + plen, given, MAC_LEN) != 0)
		return SIG_MALFORMED;
	hmac_sha256(expected, secret, secret_len, body, body_len);
	equal = ct_memeq(given, expected, MAC_LEN);
	explicit_bzero(expected, sizeof(expected));
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
