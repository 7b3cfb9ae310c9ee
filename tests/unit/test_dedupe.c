/*
 * test_dedupe.c - the receiver's memory of recent deploy requests: the
 * key (site, delivery, commit), the hour, deliveries without an id, and
 * the bound on its size.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dedupe.h"

#define C1 "8b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f"
#define C2 "fd489864e7642b48eaad6e3f155c10e46810ec72"

static struct th_msg msg(unsigned site, const char *commit, const char *delivery)
{
	struct th_msg m;

	assert_int_equal(th_msg_encode(&m, site, commit, delivery, strlen(delivery)), TH_MSG_OK);
	return m;
}

static int reset(void **state)
{
	(void)state;
	dedupe_reset();
	return 0;
}

static void test_key(void **state)
{
	struct th_msg m = msg(0, C1, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
	struct th_msg other;

	(void)state;
	assert_false(dedupe_seen(&m, 1000));
	dedupe_note(&m, 1000);
	assert_true(dedupe_seen(&m, 1001));
	other = msg(1, C1, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
	assert_false(dedupe_seen(&other, 1001));
	other = msg(0, C2, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
	assert_false(dedupe_seen(&other, 1001));
	other = msg(0, C1, "72d3162e-cc78-11e3-81ab-4c9367dc0959");
	assert_false(dedupe_seen(&other, 1001));
}

static void test_an_hour(void **state)
{
	struct th_msg m = msg(3, C1, "d-1");

	(void)state;
	dedupe_note(&m, 5000);
	assert_true(dedupe_seen(&m, 5000 + DEDUPE_TTL_MS - 1));
	assert_false(dedupe_seen(&m, 5000 + DEDUPE_TTL_MS));
	/* noting again starts the hour again */
	dedupe_note(&m, 5000 + DEDUPE_TTL_MS);
	assert_true(dedupe_seen(&m, 5000 + 2 * DEDUPE_TTL_MS - 1));
}

static void test_no_delivery_id(void **state)
{
	struct th_msg m = msg(0, C1, "");

	(void)state;
	assert_string_equal(m.delivery, "-");
	dedupe_note(&m, 1000);
	assert_false(dedupe_seen(&m, 1001));
}

/* A full table drops its oldest entry; the memory never grows. */
static void test_bounded(void **state)
{
	char id[32];
	struct th_msg m;
	long long t;

	(void)state;
	for (t = 0; t <= DEDUPE_SLOTS; t++) {
		snprintf(id, sizeof(id), "id-%lld", t);
		m = msg(0, C1, id);
		dedupe_note(&m, 1000 + t);
	}
	m = msg(0, C1, "id-0");
	assert_false(dedupe_seen(&m, 2000 + DEDUPE_SLOTS));
	for (t = 1; t <= DEDUPE_SLOTS; t++) {
		snprintf(id, sizeof(id), "id-%lld", t);
		m = msg(0, C1, id);
		assert_true(dedupe_seen(&m, 2000 + DEDUPE_SLOTS));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_key, reset),
	    cmocka_unit_test_setup(test_an_hour, reset),
	    cmocka_unit_test_setup(test_no_delivery_id, reset),
	    cmocka_unit_test_setup(test_bounded, reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
