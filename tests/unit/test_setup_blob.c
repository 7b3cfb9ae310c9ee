/*
 * test_setup_blob.c - the deployer->receiver start-up blob round-trips,
 * and the decoder refuses anything cut short or altered.
 *
 * Regression: encoding the empty END record once passed NULL to memcpy
 * (UBSan, found by the sanitizer run of the integration tests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "setup_blob.h"

static unsigned char secret0[] = "s3cret";
static unsigned char secret1[] = "another secret";

static void sample(struct th_setup *s, struct th_setup_site *sites)
{
	memset(s, 0, sizeof(*s));
	memset(sites, 0, 2 * sizeof(*sites));
	s->handshake_timeout = 10;
	s->head_timeout = 11;
	s->request_timeout = 60;
	s->idle_timeout = 30;
	s->max_connections = 1024;
	s->nlisten = 2;
	s->listen_plain[1] = 1;
	s->privileged = 1;
	s->uid = 101;
	s->gid = 102;
	s->chroot = "/var/lib/tailhook/empty";
	s->cert_pem = "-----BEGIN CERTIFICATE-----\n";
	s->cert_len = strlen(s->cert_pem);
	s->key_pem = "-----BEGIN EC PRIVATE KEY-----\n";
	s->key_len = strlen(s->key_pem);
	sites[0].name = "blog";
	sites[0].path = "/hook";
	sites[0].branch = "main";
	sites[0].max_body = 1024;
	sites[0].secret = secret0;
	sites[0].secret_len = sizeof(secret0) - 1;
	sites[1].name = "docs";
	sites[1].path = "/docs";
	sites[1].branch = "release/v1";
	sites[1].max_body = 26214400;
	sites[1].secret = secret1;
	sites[1].secret_len = sizeof(secret1) - 1;
	s->sites = sites;
	s->nsites = 2;
}

static void test_roundtrip(void **state)
{
	struct th_setup in, out;
	struct th_setup_site sites[2];
	unsigned char *blob;
	size_t len = 0;

	(void)state;
	sample(&in, sites);
	blob = setup_encode(&in, &len);
	assert_non_null(blob);
	assert_int_equal(setup_decode(&out, blob, len), 0);
	assert_int_equal(out.head_timeout, 11);
	assert_int_equal(out.max_connections, 1024);
	assert_int_equal(out.nlisten, 2);
	assert_int_equal(out.listen_plain[0], 0);
	assert_int_equal(out.listen_plain[1], 1);
	assert_int_equal(out.uid, 101);
	assert_string_equal(out.chroot, "/var/lib/tailhook/empty");
	assert_int_equal(out.nsites, 2);
	assert_string_equal(out.sites[1].branch, "release/v1");
	assert_int_equal(out.sites[1].max_body, 26214400);
	assert_int_equal(out.sites[0].secret_len, 6);
	assert_memory_equal(out.sites[0].secret, "s3cret", 6);
	setup_free(&out);
	free(blob);
}

static void test_every_truncation_refused(void **state)
{
	struct th_setup in, out;
	struct th_setup_site sites[2];
	unsigned char *blob;
	size_t len = 0, cut;

	(void)state;
	sample(&in, sites);
	blob = setup_encode(&in, &len);
	assert_non_null(blob);
	for (cut = 0; cut < len; cut++)
		assert_int_equal(setup_decode(&out, blob, cut), -1);
	free(blob);
}

static void test_trailing_bytes_refused(void **state)
{
	struct th_setup in, out;
	struct th_setup_site sites[2];
	unsigned char *blob, *longer;
	size_t len = 0;

	(void)state;
	sample(&in, sites);
	blob = setup_encode(&in, &len);
	longer = calloc(1, len + 1);
	assert_non_null(longer);
	memcpy(longer, blob, len);
	assert_int_equal(setup_decode(&out, longer, len + 1), -1);
	free(longer);
	free(blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_every_truncation_refused),
	    cmocka_unit_test(test_trailing_bytes_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
