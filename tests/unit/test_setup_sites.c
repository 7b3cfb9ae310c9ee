/*
 * test_setup_sites.c - the per-site dialect settings in the start-up
 * blob: provider, a second secret and the flags round-trip, and the
 * decoder refuses what the receiver must never see (an unknown provider,
 * unknown flags, legacy SHA-1 outside github, an empty second secret).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "provider_id.h"
#include "setup_blob.h"

static unsigned char one[] = "first secret";
static unsigned char two[] = "second secret";

static void sample(struct th_setup *s, struct th_setup_site *site)
{
	memset(s, 0, sizeof(*s));
	memset(site, 0, sizeof(*site));
	s->nlisten = 1;
	s->chroot = "/var/lib/tailhook/empty";
	s->cert_pem = "cert";
	s->cert_len = 4;
	s->key_pem = "key";
	s->key_len = 3;
	site->name = "blog";
	site->path = "/hook";
	site->branch = "main";
	site->max_body = 1024;
	site->secret = one;
	site->secret_len = sizeof(one) - 1;
	s->sites = site;
	s->nsites = 1;
}

static int round_trip(const struct th_setup *in, struct th_setup *out)
{
	size_t len;
	unsigned char *blob = setup_encode(in, &len);
	int rc;

	assert_non_null(blob);
	rc = setup_decode(out, blob, len);
	free(blob);
	return rc;
}

static void test_dialect_settings_round_trip(void **state)
{
	struct th_setup in, out;
	struct th_setup_site site;
	unsigned p;

	(void)state;
	for (p = 0; p < TH_PROVIDER_COUNT; p++) {
		sample(&in, &site);
		site.provider = p;
		site.secret2 = two;
		site.secret2_len = sizeof(two) - 1;
		site.flags = p == TH_PROVIDER_GITHUB ? TH_SITE_LEGACY_SHA1 : 0;
		assert_int_equal(round_trip(&in, &out), 0);
		assert_int_equal(out.sites[0].provider, p);
		assert_int_equal(out.sites[0].flags, site.flags);
		assert_int_equal(out.sites[0].secret2_len, sizeof(two) - 1);
		assert_memory_equal(out.sites[0].secret2, two, sizeof(two) - 1);
		setup_free(&out);
	}
	/* one secret: no second one appears */
	sample(&in, &site);
	assert_int_equal(round_trip(&in, &out), 0);
	assert_null(out.sites[0].secret2);
	assert_int_equal(out.sites[0].secret2_len, 0);
	setup_free(&out);
}

static void test_refused(void **state)
{
	struct th_setup in, out;
	struct th_setup_site site;

	(void)state;
	sample(&in, &site);
	site.provider = TH_PROVIDER_COUNT;
	assert_int_equal(round_trip(&in, &out), -1);
	sample(&in, &site);
	site.flags = 0x2;
	assert_int_equal(round_trip(&in, &out), -1);
	sample(&in, &site);
	site.provider = TH_PROVIDER_GITLAB;
	site.flags = TH_SITE_LEGACY_SHA1;
	assert_int_equal(round_trip(&in, &out), -1);
	sample(&in, &site);
	site.secret2 = two;
	site.secret2_len = 0;
	assert_int_equal(round_trip(&in, &out), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dialect_settings_round_trip),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
