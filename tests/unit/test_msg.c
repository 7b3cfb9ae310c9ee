/*
 * test_msg.c - the fixed receiver->deployer message, both ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"

#define COMMIT "0123456789abcdef0123456789abcdef01234567"

static void good(struct th_msg *m)
{
	assert_int_equal(th_msg_encode(m, 2, COMMIT, "72d3162e-cc78-11e3", 18), TH_MSG_OK);
}

static void test_roundtrip(void **state)
{
	struct th_msg m, out;

	(void)state;
	good(&m);
	assert_int_equal(sizeof(m), TH_MSG_SIZE);
	assert_int_equal(th_msg_decode(&out, &m, sizeof(m), 3), TH_MSG_OK);
	assert_int_equal(out.site, 2);
	assert_string_equal(out.commit, COMMIT);
	assert_string_equal(out.delivery, "72d3162e-cc78-11e3");
}

static void test_uppercase_commit_lowered(void **state)
{
	struct th_msg m;

	(void)state;
	assert_int_equal(th_msg_encode(&m, 0, "0123456789ABCDEF0123456789ABCDEF01234567", "x", 1),
	                 TH_MSG_OK);
	assert_string_equal(m.commit, COMMIT);
}

static void test_encode_rejects_bad_commit(void **state)
{
	struct th_msg m;

	(void)state;
	assert_int_equal(th_msg_encode(&m, 0, "0123", "x", 1), TH_MSG_ECOMMIT);
	assert_int_equal(th_msg_encode(&m, 0, "g123456789abcdef0123456789abcdef01234567", "x", 1),
	                 TH_MSG_ECOMMIT);
	assert_int_equal(th_msg_encode(&m, 0, NULL, "x", 1), TH_MSG_ECOMMIT);
}

static void test_delivery_cleaned(void **state)
{
	struct th_msg m;
	char longid[200];

	(void)state;
	assert_int_equal(th_msg_encode(&m, 0, COMMIT, "a b\"c\n", 6), TH_MSG_OK);
	assert_string_equal(m.delivery, "a_b_c_");
	assert_int_equal(th_msg_encode(&m, 0, COMMIT, NULL, 0), TH_MSG_OK);
	assert_string_equal(m.delivery, "-");
	memset(longid, 'x', sizeof(longid));
	assert_int_equal(th_msg_encode(&m, 0, COMMIT, longid, sizeof(longid)), TH_MSG_OK);
	assert_int_equal(strlen(m.delivery), TH_DELIVERY_MAX);
}

static void test_wrong_sizes(void **state)
{
	unsigned char buf[TH_MSG_SIZE * 2];
	struct th_msg m, out;
	size_t sizes[] = {0, 1, TH_MSG_SIZE - 1, TH_MSG_SIZE + 1, sizeof(buf)};
	size_t i;

	(void)state;
	good(&m);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &m, sizeof(m));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(th_msg_decode(&out, buf, sizes[i], 3), TH_MSG_ESIZE);
		assert_int_equal(out.magic, 0);
	}
}

static void expect_err(struct th_msg *m, unsigned nsites, enum th_msg_err want)
{
	struct th_msg out;

	assert_int_equal(th_msg_decode(&out, m, sizeof(*m), nsites), want);
	assert_int_equal(out.magic, 0); /* nothing of a bad message survives */
}

static void test_bad_fields(void **state)
{
	struct th_msg m;

	(void)state;
	good(&m);
	m.magic ^= 1;
	expect_err(&m, 3, TH_MSG_EMAGIC);
	good(&m);
	m.version = 2;
	expect_err(&m, 3, TH_MSG_EVERSION);
	good(&m);
	expect_err(&m, 2, TH_MSG_ESITE); /* index 2 with only 2 sites */
	good(&m);
	m.site = 65535;
	expect_err(&m, 3, TH_MSG_ESITE);
	good(&m);
	m.commit[5] = 'G';
	expect_err(&m, 3, TH_MSG_ECOMMIT);
	good(&m);
	m.commit[5] = 'A'; /* uppercase is not what the receiver sends */
	expect_err(&m, 3, TH_MSG_ECOMMIT);
	good(&m);
	m.commit[40] = 'a';
	expect_err(&m, 3, TH_MSG_ECOMMIT);
	good(&m);
	m.commit[10] = '\0';
	expect_err(&m, 3, TH_MSG_ECOMMIT);
}

static void test_bad_delivery(void **state)
{
	struct th_msg m;

	(void)state;
	good(&m);
	memset(m.delivery, 'a', sizeof(m.delivery)); /* unterminated */
	expect_err(&m, 3, TH_MSG_EDELIVERY);
	good(&m);
	m.delivery[3] = '\n';
	expect_err(&m, 3, TH_MSG_EDELIVERY);
	good(&m);
	m.delivery[0] = '\0';
	expect_err(&m, 3, TH_MSG_EDELIVERY);
	good(&m);
	m.delivery[2] = (char)0xc3;
	expect_err(&m, 3, TH_MSG_EDELIVERY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_uppercase_commit_lowered),
	    cmocka_unit_test(test_encode_rejects_bad_commit),
	    cmocka_unit_test(test_delivery_cleaned),
	    cmocka_unit_test(test_wrong_sizes),
	    cmocka_unit_test(test_bad_fields),
	    cmocka_unit_test(test_bad_delivery),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
