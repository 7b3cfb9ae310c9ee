/*
 * test_form.c - the payload field of form-encoded deliveries: escapes,
 * the one-field rule, and the bodies real senders produce (GitHub's
 * fully escaped form, Bitbucket's legacy unescaped one).
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

#include "form.h"
#include "json_push.h"

static enum form_result dec(const char *body, char **out, size_t *len)
{
	return form_payload((const unsigned char *)body, strlen(body), (unsigned char **)out, len);
}

static void expect_payload(const char *body, const char *want, size_t want_len)
{
	char *out;
	size_t len;
	enum form_result r = dec(body, &out, &len);

	if (r != FORM_OK)
		fail_msg("%s: %s", body, form_strerror(r));
	assert_int_equal(len, want_len);
	assert_memory_equal(out, want, want_len);
	assert_int_equal(out[len], '\0');
	free(out);
}

static void expect_error(const char *body, enum form_result want)
{
	char *out = (char *)1;
	size_t len = 99;
	enum form_result r = dec(body, &out, &len);

	if (r != want)
		fail_msg("%s: got %s, want %s", body, form_strerror(r), form_strerror(want));
	assert_null(out);
	assert_int_equal(len, 0);
}

static void test_escapes(void **state)
{
	(void)state;
	expect_payload("payload=%7B%22a%22%3A+1%7D", "{\"a\": 1}", 8);
	expect_payload("payload=%7b%7D", "{}", 2);
	expect_payload("payload=a+b%2Bc", "a b+c", 5);
	expect_payload("payload=%00", "\0", 1);
	expect_payload("payload=", "", 0);
	expect_payload("payload", "", 0);
	/* the field name is decoded too */
	expect_payload("p%61yload=x", "x", 1);
	/* '=' inside the value is data */
	expect_payload("payload=a=b", "a=b", 3);
	/* bytes that need no escaping stand for themselves */
	expect_payload("payload={\"k\": \"v w\"}", "{\"k\": \"v w\"}", 12);
	expect_payload("payload=\xc3\xa9", "\xc3\xa9", 2);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_error("payload=%", FORM_MALFORMED);
	expect_error("payload=%4", FORM_MALFORMED);
	expect_error("payload=%zz", FORM_MALFORMED);
	expect_error("payload=%4g", FORM_MALFORMED);
	expect_error("payload=ok%", FORM_MALFORMED);
	expect_error("", FORM_MALFORMED);
	expect_error("payload=x&", FORM_MALFORMED);
	expect_error("&payload=x", FORM_MALFORMED);
	expect_error("payload=x&&a=b", FORM_MALFORMED);
	expect_error("p%6=x", FORM_MALFORMED);
}

static void test_fields(void **state)
{
	(void)state;
	expect_error("data=x", FORM_EXTRA);
	expect_error("payload=x&other=y", FORM_EXTRA);
	expect_error("other=y&payload=x", FORM_EXTRA);
	expect_error("Payload=x", FORM_EXTRA);
	expect_error("payload =x", FORM_EXTRA);
	expect_error("payload=x&payload=y", FORM_DUPLICATE);
	expect_error("payload=x&p%61yload=x", FORM_DUPLICATE);
}

/* GitHub-style: the JSON escaped with '+' for spaces, as Python's urlencode does. */
static void test_github_form_round_trip(void **state)
{
	static const char body[] =
	    "payload=%7B%22ref%22%3A+%22refs%2Fheads%2Fmain%22%2C+%22after%22%3A+%22"
	    "8b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f%22%7D";
	struct push_info pi;
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(dec(body, &out, &len), FORM_OK);
	assert_int_equal(json_push_extract(out, len, &pi), JSON_OK);
	assert_string_equal(pi.ref, "refs/heads/main");
	assert_string_equal(pi.after, "8b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f");
	free(out);
}

/* Bitbucket's retired POST service left the JSON unescaped; it still decodes. */
static void test_legacy_bitbucket_form(void **state)
{
	FILE *f = fopen("tests/fixtures/payloads/bitbucket-cloud/legacy_post_service-1.form", "rb");
	unsigned char buf[2048];
	struct push_info pi;
	unsigned char *out;
	size_t n, len;

	(void)state;
	if (f == NULL)
		fail_msg("cannot open the fixture (run from the repository root)");
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(n, 684);
	assert_int_equal(form_payload(buf, n, &out, &len), FORM_OK);
	assert_int_equal(len, n - strlen("payload="));
	assert_int_equal(json_push_extract((const char *)out, len, &pi), JSON_OK);
	assert_int_equal(pi.has_ref, 0);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_github_form_round_trip),
	    cmocka_unit_test(test_legacy_bitbucket_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
