/*
 * fuzz_signature.c - sig_verify_sha256 on arbitrary header values and
 * bodies against a fixed secret, with the harness's own HMAC as oracle.
 *
 * Input: the header value, a NUL byte, then the body.  Without a NUL the
 * whole input is the header value and the body is empty.  Checked:
 *   - the result is exactly what the oracle predicts for both prefixes
 *     the receiver can use ("sha256=" and bare hex; NULL means bare);
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

static void oracle_mac(unsigned char mac[32], const uint8_t *body, size_t len)
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	br_hmac_key_init(&kc, &br_sha256_vtable, secret, sizeof(secret) - 1);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, body, len);
	br_hmac_out(&hc, mac);
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

/* What sig_verify_sha256 must answer, computed the slow, obvious way. */
static enum sig_result predict(const char *hdr, size_t len, const char *prefix,
                               const unsigned char mac[32])
{
	size_t plen = strlen(prefix);
	int equal = 1;

	if (len == 0)
		return SIG_MISSING;
	if (len != plen + 64 || memcmp(hdr, prefix, plen) != 0)
		return SIG_MALFORMED;
	for (size_t i = 0; i < 64; i++) {
		int v = nibble(hdr[plen + i]);
		if (v < 0)
			return SIG_MALFORMED;
		if (v != ((mac[i / 2] >> (i % 2 ? 0 : 4)) & 0xf))
			equal = 0;
	}
	return equal ? SIG_OK : SIG_MISMATCH;
}

static enum sig_result verify(const char *hdr, size_t len, const char *prefix, const uint8_t *body,
                              size_t blen)
{
	return sig_verify_sha256(hdr, len, prefix, (const unsigned char *)secret,
	                         sizeof(secret) - 1, body, blen);
}

/* The correct header for the body must verify, in either case, and a changed digit not. */
static void check_correct(const unsigned char mac[32], const uint8_t *body, size_t blen)
{
	static const char lower[] = "0123456789abcdef", upper[] = "0123456789ABCDEF";
	char hdr[7 + 64 + 1] = "sha256=";

	for (size_t i = 0; i < 32; i++) {
		hdr[7 + 2 * i] = lower[mac[i] >> 4];
		hdr[7 + 2 * i + 1] = lower[mac[i] & 0xf];
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

int fuzz_signature_one(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	const char *hdr = (const char *)data;
	size_t hlen = nul != NULL ? (size_t)(nul - data) : size;
	const uint8_t *body = nul != NULL ? nul + 1 : data + size;
	size_t blen = size - (size_t)(body - data);
	unsigned char mac[32];
	enum sig_result r;

	oracle_mac(mac, body, blen);
	r = verify(hdr, hlen, "sha256=", body, blen);
	FUZZ_CHECK(r == predict(hdr, hlen, "sha256=", mac));
	FUZZ_CHECK(sig_strerror(r) != NULL);
	r = verify(hdr, hlen, "", body, blen);
	FUZZ_CHECK(r == predict(hdr, hlen, "", mac));
	FUZZ_CHECK(verify(hdr, hlen, NULL, body, blen) == r);
	FUZZ_CHECK(verify(NULL, 0, "sha256=", body, blen) == SIG_MISSING);
	check_correct(mac, body, blen);
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
