/*
 * test_signature.c - HMAC-SHA256 header verification against published
 * vectors (tests/fixtures/payloads/MANIFEST.md) and malformed headers.
 * Run from the repository root: fixtures are opened by relative path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signature.h"

#define FIXTURES "tests/fixtures/payloads/"

static const char GH_SECRET[] = "It's a Secret to Everybody";
static const char GH_BODY[] = "Hello, World!";
static const char GH_SIG[] =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

static unsigned char *read_fixture(const char *rel, size_t *len)
{
	char path[256];
	unsigned char *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), FIXTURES "%s", rel);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (run from the repository root)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Verifies a NUL-terminated header over a NUL-terminated body. */
static enum sig_result verify_str(const char *hdr, const char *prefix, const char *secret,
                                  const char *body)
{
	return sig_verify_sha256(hdr, strlen(hdr), prefix, (const unsigned char *)secret,
	                         strlen(secret), (const unsigned char *)body, strlen(body));
}

static enum sig_result verify_gh(const char *hdr)
{
	return verify_str(hdr, "sha256=", GH_SECRET, GH_BODY);
}

static void test_github_doc_vector(void **state)
{
	(void)state;
	assert_int_equal(verify_gh(GH_SIG), SIG_OK);
}

static void test_uppercase_hex_accepted(void **state)
{
	char hdr[sizeof(GH_SIG)];
	size_t i;

	(void)state;
	memcpy(hdr, GH_SIG, sizeof(GH_SIG));
	for (i = strlen("sha256="); hdr[i] != '\0'; i++)
		if (hdr[i] >= 'a' && hdr[i] <= 'f')
			hdr[i] = (char)(hdr[i] - 'a' + 'A');
	assert_int_equal(verify_gh(hdr), SIG_OK);
}

static void test_mixed_case_hex_accepted(void **state)
{
	char hdr[sizeof(GH_SIG)];
	size_t i;
	int flip = 0;

	(void)state;
	memcpy(hdr, GH_SIG, sizeof(GH_SIG));
	for (i = strlen("sha256="); hdr[i] != '\0'; i++) {
		if (hdr[i] < 'a' || hdr[i] > 'f')
			continue;
		if (flip)
			hdr[i] = (char)(hdr[i] - 'a' + 'A');
		flip = !flip;
	}
	assert_string_not_equal(hdr, GH_SIG);
	assert_int_equal(verify_gh(hdr), SIG_OK);
}

static void test_wrong_prefix(void **state)
{
	(void)state;
	assert_int_equal(verify_gh("sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b"
	                           "043e17"),
	                 SIG_MALFORMED);
	/* the prefix is case-sensitive */
	assert_int_equal(verify_gh("SHA256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c"
	                           "8b043e17"),
	                 SIG_MALFORMED);
	/* bare hex where a prefix is configured */
	assert_int_equal(verify_gh(GH_SIG + strlen("sha256=")), SIG_MALFORMED);
	/* prefix given where bare hex is configured */
	assert_int_equal(verify_str(GH_SIG, "", GH_SECRET, GH_BODY), SIG_MALFORMED);
}

static void test_wrong_length(void **state)
{
	char hdr[sizeof(GH_SIG) + 2];
	size_t n = strlen(GH_SIG);

	(void)state;
	memcpy(hdr, GH_SIG, n + 1);
	hdr[n - 1] = '\0';
	assert_int_equal(verify_gh(hdr), SIG_MALFORMED);
	memcpy(hdr, GH_SIG, n);
	hdr[n] = '0';
	hdr[n + 1] = '\0';
	assert_int_equal(verify_gh(hdr), SIG_MALFORMED);
	assert_int_equal(verify_gh("sha256="), SIG_MALFORMED);
	assert_int_equal(verify_gh("sha256=111"), SIG_MALFORMED);
	assert_int_equal(verify_gh("111"), SIG_MALFORMED);
}

static void test_empty_header(void **state)
{
	(void)state;
	assert_int_equal(verify_gh(""), SIG_MISSING);
	/* a non-NULL pointer with length 0 is just as absent */
	assert_int_equal(sig_verify_sha256(GH_SIG, 0, "sha256=", (const unsigned char *)GH_SECRET,
	                                   strlen(GH_SECRET), (const unsigned char *)GH_BODY,
	                                   strlen(GH_BODY)),
	                 SIG_MISSING);
}

static void test_null_header(void **state)
{
	(void)state;
	assert_int_equal(sig_verify_sha256(NULL, 0, "sha256=", (const unsigned char *)GH_SECRET,
	                                   strlen(GH_SECRET), (const unsigned char *)GH_BODY,
	                                   strlen(GH_BODY)),
	                 SIG_MISSING);
	assert_int_equal(sig_verify_sha256(NULL, 71, "sha256=", (const unsigned char *)GH_SECRET,
	                                   strlen(GH_SECRET), (const unsigned char *)GH_BODY,
	                                   strlen(GH_BODY)),
	                 SIG_MISSING);
}

/* Every single-bit change of the MAC must be caught, in every byte. */
static void test_flipped_mac_bit(void **state)
{
	static const char hexd[] = "0123456789abcdef";
	char hdr[sizeof(GH_SIG)];
	size_t off = strlen("sha256=");
	size_t pos;
	int bit;

	(void)state;
	for (pos = off; pos < sizeof(GH_SIG) - 1; pos++) {
		for (bit = 0; bit < 4; bit++) {
			const char *d = strchr(hexd, GH_SIG[pos]);

			assert_non_null(d);
			memcpy(hdr, GH_SIG, sizeof(GH_SIG));
			hdr[pos] = hexd[(d - hexd) ^ (1 << bit)];
			assert_int_equal(verify_gh(hdr), SIG_MISMATCH);
		}
	}
}

static void test_flipped_body_bit(void **state)
{
	char body[sizeof(GH_BODY)];

	(void)state;
	memcpy(body, GH_BODY, sizeof(GH_BODY));
	body[5] ^= 0x01;
	assert_int_equal(verify_str(GH_SIG, "sha256=", GH_SECRET, body), SIG_MISMATCH);
	assert_int_equal(verify_str(GH_SIG, "sha256=", "It's a Secret to Everybodz", GH_BODY),
	                 SIG_MISMATCH);
}

static void test_non_hex_char(void **state)
{
	static const char bad[] = {'g', 'G', 'x', ' ', '-', '+', ':', '\0', (char)0xc3};
	char hdr[sizeof(GH_SIG)];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad); i++) {
		memcpy(hdr, GH_SIG, sizeof(GH_SIG));
		hdr[strlen("sha256=") + 20] = bad[i];
		assert_int_equal(sig_verify_sha256(hdr, strlen(GH_SIG),
		                                   "sha256=", (const unsigned char *)GH_SECRET,
		                                   strlen(GH_SECRET),
		                                   (const unsigned char *)GH_BODY, strlen(GH_BODY)),
		                 SIG_MALFORMED);
	}
	memcpy(hdr, GH_SIG, sizeof(GH_SIG));
	hdr[sizeof(GH_SIG) - 2] = 'z';
	assert_int_equal(verify_gh(hdr), SIG_MALFORMED);
}

static void test_octokit_vectors(void **state)
{
	(void)state;
	assert_int_equal(verify_str("sha256=4864d2759938a15468b5df9ade20bf161da9b4f737ea61794142f"
	                            "3484236bda3",
	                            "sha256=", "mysecret", "{\"foo\":\"bar\"}"),
	                 SIG_OK);
	assert_int_equal(verify_str("sha256=1b2c16b75bd2a870c114153ccda5bcfca63314bc722fa160d690d"
	                            "e133ccbb9db",
	                            "sha256=", "secret", "data"),
	                 SIG_OK);
	/* swapped secrets must not verify */
	assert_int_equal(verify_str("sha256=1b2c16b75bd2a870c114153ccda5bcfca63314bc722fa160d690d"
	                            "e133ccbb9db",
	                            "sha256=", "mysecret", "data"),
	                 SIG_MISMATCH);
}

static enum sig_result verify_file(const char *rel, const char *hdr, const char *prefix,
                                   const char *secret, size_t expect_len)
{
	size_t len;
	unsigned char *body = read_fixture(rel, &len);
	enum sig_result r;

	assert_int_equal(len, expect_len);
	r = sig_verify_sha256(hdr, strlen(hdr), prefix, (const unsigned char *)secret,
	                      strlen(secret), body, len);
	free(body);
	return r;
}

static void test_github_push9_sha256(void **state)
{
	(void)state;
	assert_int_equal(
	    verify_file("github/push-9.json",
	                "sha256=307fc0ceaccb5889d2f2e1a50c94acbc88a35b484c708fcbcc8de42e"
	                "c10beff4",
	                "sha256=", "mysecret", 3486),
	    SIG_OK);
	/* the published SHA-1 value is not a SHA-256 signature */
	assert_int_equal(verify_file("github/push-9.json",
	                             "sha1=f68df0375d7b03e3eb29b4cf9f9ec12e08f42ff8",
	                             "sha256=", "mysecret", 3486),
	                 SIG_MALFORMED);
}

static void test_gitea_bare_hex(void **state)
{
	static const char sig[] =
	    "60fe446c74fa0cb9474f98cc557db79e10c7aaf22cf324ad65239600b9e4d915";

	(void)state;
	assert_int_equal(verify_file("gitea/push-1.json", sig, "",
	                             "IsWishesWereHorsesWedAllBeEatingSteak!", 4791),
	                 SIG_OK);
	assert_int_equal(verify_file("gitea/push-1.json", sig, "", "IsWishesWereHorses", 4791),
	                 SIG_MISMATCH);
}

static void test_bitbucket_server(void **state)
{
	static const char sig[] =
	    "sha256=8a60f7487d167f55886df87d4077192035d76f76a8e0b3a48fd8ae8cad25f391";

	(void)state;
	assert_int_equal(
	    verify_file("bitbucket-server/refs_changed-1.json", sig, "sha256=", "secret", 2019),
	    SIG_OK);
	/* same MAC over a different body */
	assert_int_equal(
	    verify_file("bitbucket-server/refs_changed-2.json", sig, "sha256=", "secret", 928),
	    SIG_MISMATCH);
}

/* The trailing newline is part of the signed bytes. */
static void test_bitbucket_server_trailing_newline(void **state)
{
	static const char sig[] =
	    "sha256=8a60f7487d167f55886df87d4077192035d76f76a8e0b3a48fd8ae8cad25f391";
	size_t len;
	unsigned char *body = read_fixture("bitbucket-server/refs_changed-1.json", &len);

	(void)state;
	assert_int_equal(body[len - 1], '\n');
	assert_int_equal(sig_verify_sha256(sig, strlen(sig), "sha256=",
	                                   (const unsigned char *)"secret", 6, body, len - 1),
	                 SIG_MISMATCH);
	free(body);
}

static void test_empty_body_and_secret(void **state)
{
	/* HMAC-SHA256 with empty key and empty message (RFC 4231 style check by OpenSSL) */
	static const char sig[] =
	    "sha256=b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad";

	(void)state;
	assert_int_equal(
	    sig_verify_sha256(sig, strlen(sig), "sha256=", (const unsigned char *)"", 0, NULL, 0),
	    SIG_OK);
}

static void test_ct_memeq(void **state)
{
	unsigned char a[64];
	unsigned char b[64];
	size_t i;
	int bit;

	(void)state;
	for (i = 0; i < sizeof(a); i++)
		a[i] = b[i] = (unsigned char)(i * 37 + 11);
	assert_int_equal(ct_memeq(a, b, sizeof(a)), 1);
	assert_int_equal(ct_memeq(a, b, 0), 1);
	for (i = 0; i < sizeof(a); i++) {
		for (bit = 0; bit < 8; bit++) {
			b[i] ^= (unsigned char)(1u << bit);
			assert_int_equal(ct_memeq(a, b, sizeof(a)), 0);
			b[i] ^= (unsigned char)(1u << bit);
		}
	}
	/* a difference only past n is not seen */
	b[63] ^= 0xff;
	assert_int_equal(ct_memeq(a, b, 63), 1);
	assert_int_equal(ct_memeq(a, b, 64), 0);
}

static void test_strerror(void **state)
{
	const char *s[4];
	int i;
	int j;

	(void)state;
	s[0] = sig_strerror(SIG_OK);
	s[1] = sig_strerror(SIG_MISSING);
	s[2] = sig_strerror(SIG_MALFORMED);
	s[3] = sig_strerror(SIG_MISMATCH);
	for (i = 0; i < 4; i++) {
		assert_non_null(s[i]);
		for (j = 0; j < i; j++)
			assert_string_not_equal(s[i], s[j]);
	}
	assert_non_null(sig_strerror((enum sig_result)99));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_github_doc_vector),
	    cmocka_unit_test(test_uppercase_hex_accepted),
	    cmocka_unit_test(test_mixed_case_hex_accepted),
	    cmocka_unit_test(test_wrong_prefix),
	    cmocka_unit_test(test_wrong_length),
	    cmocka_unit_test(test_empty_header),
	    cmocka_unit_test(test_null_header),
	    cmocka_unit_test(test_flipped_mac_bit),
	    cmocka_unit_test(test_flipped_body_bit),
	    cmocka_unit_test(test_non_hex_char),
	    cmocka_unit_test(test_octokit_vectors),
	    cmocka_unit_test(test_github_push9_sha256),
	    cmocka_unit_test(test_gitea_bare_hex),
	    cmocka_unit_test(test_bitbucket_server),
	    cmocka_unit_test(test_bitbucket_server_trailing_newline),
	    cmocka_unit_test(test_empty_body_and_secret),
	    cmocka_unit_test(test_ct_memeq),
	    cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
