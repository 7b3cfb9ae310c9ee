/*
 * test_json_push.c - top-level ref/after/deleted extraction: the fixture
 * corpus (expected values taken from the files with Python's json module),
 * escapes, jsmn's lenient spots, and hostile shapes.
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
#include <time.h>

#include "json_push.h"

#define FIXTURES "tests/fixtures/payloads/"
#define ZERO40   "0000000000000000000000000000000000000000"
#define HEX40    "fd489864e7642b48eaad6e3f155c10e46810ec72"

static char *read_fixture(const char *rel, size_t *len)
{
	char path[256];
	char *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), FIXTURES "%s", rel);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (run from the repository root)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0'; /* for strstr only; the length passed on is still n */
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static enum json_result ex(const char *s, struct push_info *pi)
{
	return json_push_extract(s, strlen(s), pi);
}

/* Runs s and expects result want with no field reported. */
static void expect_fail(const char *s, enum json_result want)
{
	struct push_info pi;
	enum json_result r = ex(s, &pi);

	if (r != want)
		fail_msg("%s: got %s, want %s", s, json_strerror(r), json_strerror(want));
	assert_int_equal(pi.has_ref + pi.has_after + pi.has_deleted, 0);
}

static void expect_ref(const char *s, const char *ref, size_t ref_len)
{
	struct push_info pi;
	enum json_result r = ex(s, &pi);

	if (r != JSON_OK)
		fail_msg("%s: got %s", s, json_strerror(r));
	assert_int_equal(pi.has_ref, 1);
	assert_int_equal(pi.ref_len, ref_len);
	assert_memory_equal(pi.ref, ref, ref_len);
	assert_int_equal(pi.ref[ref_len], '\0');
}

struct fixture_case {
	const char *file;
	enum json_result result;
	const char *ref;   /* NULL: no top-level ref */
	const char *after; /* NULL: no top-level after */
	int deleted;       /* -1: no top-level deleted */
};

static const struct fixture_case fixtures[] = {
    {"github/ping-1.json", JSON_OK, NULL, NULL, -1},
    {"github/ping-2.json", JSON_OK, NULL, NULL, -1},
    {"github/ping-3.json", JSON_OK, NULL, NULL, -1},
    {"github/pull_request-1.json", JSON_OK, NULL, NULL, -1},
    /* synchronize carries a top-level after but no ref */
    {"github/pull_request-2.json", JSON_OK, NULL, "ec26c3e57ca3a959ca5aad62de7213c562f8c821", -1},
    {"github/pull_request-3.json", JSON_OK, NULL, NULL, -1},
    {"github/push-1.json", JSON_OK, "refs/heads/master", HEX40, 0},
    {"github/push-2.json", JSON_OK, "refs/heads/master", "199eddf46df50de8d02e99bf1c5fdb4101338224",
     0},
    {"github/push-3.json", JSON_OK, "refs/tags/v0.0.1", "d2b75aa7797ec26b088fa2dd527e9d2c052fcedd",
     0},
    {"github/push-4.json", JSON_OK, "refs/heads/feature-branch",
     "d2b75aa7797ec26b088fa2dd527e9d2c052fcedd", 0},
    {"github/push-5.json", JSON_OK, "refs/heads/feature-branch", ZERO40, 1},
    {"github/push-6.json", JSON_OK, "refs/tags/simple-tag", ZERO40, 1},
    {"github/push-7.json", JSON_OK, "refs/tags/simple-tag", ZERO40, 1},
    {"github/push-8.json", JSON_OK, "refs/heads/master", "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
     0},
    {"github/push-9.json", JSON_OK, "refs/heads/master", "1481a2de7b2a7d02428ad93446ab166be7793fbb",
     0},
    {"github/push-10.json", JSON_OK, "refs/heads/temp", "971d76ca309446a9c20381f6271cea8a59b4e40a",
     0},
    {"github/push-11.json", JSON_OK, "refs/heads/changes",
     "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c", 0},
    {"gitea/create-1.json", JSON_OK, "v1.0.0", NULL, -1},
    {"gitea/delete-1.json", JSON_OK, "feature", NULL, -1},
    {"gitea/push-1.json", JSON_OK, "refs/heads/master", "67b56589a45103f891bdee7c0546e5d40bc02001",
     -1},
    {"gitea/push-2.json", JSON_OK, "refs/heads/master", "4522cbcefc20728a5b72b3a86af35e608622c514",
     -1},
    {"gitlab/push-1.json", JSON_OK, "refs/heads/master", "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
     -1},
    {"gitlab/push-2.json", JSON_OK, "refs/heads/master", "2adc9465c4edfc33834e173fe89436a7cb899a1d",
     -1},
    {"gitlab/push-3.json", JSON_OK, "refs/heads/feature", ZERO40, -1},
    {"gitlab/tag_push-1.json", JSON_OK, "refs/tags/v1.0.0",
     "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7", -1},
    {"gitlab/tag_push-2.json", JSON_OK, "refs/tags/v1.0.0",
     "2adc9465c4edfc33834e173fe89436a7cb899a1d", -1},
    /* Bitbucket nests its refs (push.changes[], refChanges[]) */
    {"bitbucket-cloud/repo_push-1.json", JSON_OK, NULL, NULL, -1},
    {"bitbucket-cloud/repo_push-2.json", JSON_OK, NULL, NULL, -1},
    {"bitbucket-cloud/repo_push-3.json", JSON_OK, NULL, NULL, -1},
    {"bitbucket-cloud/repo_push-4.json", JSON_OK, NULL, NULL, -1},
    {"bitbucket-cloud/repo_push-5.json", JSON_OK, NULL, NULL, -1},
    {"bitbucket-cloud/legacy_post_service-1.form", JSON_INVALID, NULL, NULL, -1},
    {"bitbucket-server/refs_changed-1.json", JSON_OK, NULL, NULL, -1},
    {"bitbucket-server/refs_changed-2.json", JSON_OK, NULL, NULL, -1},
    {"bitbucket-server/refs_changed-3.json", JSON_OK, NULL, NULL, -1},
    {"bitbucket-server/refs_changed-4.json", JSON_OK, NULL, NULL, -1},
    {"bitbucket-server/refs_changed-5.json", JSON_OK, NULL, NULL, -1},
};

static void check_fixture(const struct fixture_case *fc)
{
	struct push_info pi;
	size_t len;
	char *body = read_fixture(fc->file, &len);
	enum json_result r = json_push_extract(body, len, &pi);

	free(body);
	if (r != fc->result)
		fail_msg("%s: got %s", fc->file, json_strerror(r));
	assert_int_equal(pi.has_ref, fc->ref != NULL);
	if (fc->ref != NULL) {
		assert_string_equal(pi.ref, fc->ref);
		assert_int_equal(pi.ref_len, strlen(fc->ref));
	}
	assert_int_equal(pi.has_after, fc->after != NULL);
	if (fc->after != NULL)
		assert_string_equal(pi.after, fc->after);
	assert_int_equal(pi.has_deleted, fc->deleted >= 0);
	if (fc->deleted >= 0)
		assert_int_equal(pi.deleted, fc->deleted);
}

static void test_fixture_corpus(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++)
		check_fixture(&fixtures[i]);
}

static void test_escaped_ref(void **state)
{
	(void)state;
	expect_ref("{\"ref\":\"refs\\/heads\\/main\"}", "refs/heads/main", 15);
	expect_ref("{\"ref\":\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\"}", "a\"b\\c/d\be\ff\ng\rh\ti",
	           17);
	expect_ref("{\"ref\":\"\"}", "", 0);
}

static void test_escaped_keys(void **state)
{
	struct push_info pi;

	(void)state;
	expect_ref("{\"r\\u0065f\":\"refs/heads/main\"}", "refs/heads/main", 15);
	expect_ref("{\"\\u0072\\u0045F\":\"x\",\"\\u0072\\u0065\\u0066\":\"y\"}", "y", 1);
	assert_int_equal(ex("{\"\\u0061fter\":\"" HEX40 "\",\"d\\u0065leted\":true}", &pi),
	                 JSON_OK);
	assert_int_equal(pi.has_after, 1);
	assert_string_equal(pi.after, HEX40);
	assert_int_equal(pi.has_deleted, 1);
	assert_int_equal(pi.deleted, 1);
	/* near misses are other keys */
	assert_int_equal(ex("{\"Ref\":\"a\",\"ref \":\"b\",\"refs\":\"c\",\"re\":\"d\"}", &pi),
	                 JSON_OK);
	assert_int_equal(pi.has_ref, 0);
}

static void test_nested_ref_before_top_level(void **state)
{
	struct push_info pi;

	(void)state;
	assert_int_equal(ex("{\"repository\":{\"ref\":\"refs/heads/evil\",\"after\":\"" ZERO40
	                    "\",\"deleted\":true},\"commits\":[{\"ref\":\"x\"},[\"ref\",\"y\"]],"
	                    "\"ref\":\"refs/heads/main\"}",
	                    &pi),
	                 JSON_OK);
	assert_int_equal(pi.has_ref, 1);
	assert_string_equal(pi.ref, "refs/heads/main");
	assert_int_equal(pi.has_after, 0);
	assert_int_equal(pi.has_deleted, 0);
	/* a nested ref alone is not a ref */
	assert_int_equal(ex("{\"repository\":{\"ref\":\"refs/heads/evil\"}}", &pi), JSON_OK);
	assert_int_equal(pi.has_ref, 0);
	/* a string value that looks like a key is not one */
	assert_int_equal(ex("{\"x\":\"ref\",\"y\":\"refs/heads/evil\"}", &pi), JSON_OK);
	assert_int_equal(pi.has_ref, 0);
}

static void test_duplicates(void **state)
{
	(void)state;
	expect_fail("{\"ref\":\"a\",\"ref\":\"a\"}", JSON_DUPLICATE);
	expect_fail("{\"ref\":\"a\",\"x\":1,\"r\\u0065f\":\"b\"}", JSON_DUPLICATE);
	expect_fail("{\"after\":\"" HEX40 "\",\"after\":\"" HEX40 "\"}", JSON_DUPLICATE);
	expect_fail("{\"deleted\":false,\"deleted\":false}", JSON_DUPLICATE);
	/* the same names nested are not duplicates */
	expect_ref("{\"ref\":\"a\",\"o\":{\"ref\":\"b\",\"ref\":\"c\"}}", "a", 1);
}

/* No proper prefix of a complete object is itself a complete object. */
static void test_truncated(void **state)
{
	static const char *const shorts[] = {
	    "{",
	    "{\"",
	    "{\"ref",
	    "{\"ref\"",
	    "{\"ref\":",
	    "{\"ref\":\"a",
	    "{\"ref\":\"a\"",
	    "{\"ref\":\"a\",",
	    "{\"deleted\":true",
	    "{\"ref\":\"a\\",
	    "{\"ref\":\"\\u00",
	};
	size_t len;
	size_t cut;
	size_t i;
	char *body = read_fixture("github/push-1.json", &len);

	(void)state;
	assert_int_equal(body[len - 1], '}');
	for (cut = 0; cut < len; cut++) {
		struct push_info pi;
		enum json_result r = json_push_extract(body, cut, &pi);

		if (r != JSON_INVALID)
			fail_msg("push-1.json cut at %zu: got %s", cut, json_strerror(r));
	}
	free(body);
	for (i = 0; i < sizeof(shorts) / sizeof(shorts[0]); i++)
		expect_fail(shorts[i], JSON_INVALID);
}

static void test_trailing_garbage(void **state)
{
	struct push_info pi;

	(void)state;
	expect_fail("{\"ref\":\"a\"} x", JSON_INVALID);
	expect_fail("{\"ref\":\"a\"}}", JSON_INVALID);
	expect_fail("{\"ref\":\"a\"}]", JSON_INVALID);
	expect_fail("{\"ref\":\"a\"},", JSON_INVALID);
	expect_fail("{\"ref\":\"a\"} 1", JSON_INVALID);
	expect_fail("{\"ref\":\"a\"}\"b\"", JSON_INVALID);
	expect_fail("{\"ref\":\"a\"}\f", JSON_INVALID);
	/* JSON whitespace around the object is fine */
	assert_int_equal(ex(" \r\n\t{ \"ref\" : \"a\" } \r\n\t\n", &pi), JSON_OK);
	assert_string_equal(pi.ref, "a");
}

static void test_concatenated_objects(void **state)
{
	size_t len;
	char *body = read_fixture("github/push-1.json", &len);
	char *two = malloc(2 * len);
	struct push_info pi;

	(void)state;
	assert_non_null(two);
	memcpy(two, body, len);
	memcpy(two + len, body, len);
	assert_int_equal(json_push_extract(two, 2 * len, &pi), JSON_INVALID);
	assert_int_equal(pi.has_ref, 0);
	free(two);
	free(body);
	expect_fail("{\"ref\":\"a\"}{\"ref\":\"b\"}", JSON_INVALID);
	expect_fail("{\"ref\":\"a\"}\n{\"x\":1}", JSON_INVALID);
	expect_fail("{}{}", JSON_INVALID);
}

static void test_nul_byte(void **state)
{
	static const char a[] = "{\"ref\":\"a\0b\"}";
	static const char b[] = "{\"ref\":\"a\"}\0";
	static const char c[] = "\0{\"ref\":\"a\"}";
	static const char d[] = "{\"x\":1,\0\"ref\":\"a\"}";
	struct push_info pi;
	size_t len;
	char *body = read_fixture("github/push-1.json", &len);

	(void)state;
	/* sizeof - 1 drops the literal's own terminator, keeping the embedded NUL */
	assert_int_equal(json_push_extract(a, sizeof(a) - 1, &pi), JSON_INVALID);
	assert_int_equal(json_push_extract(b, sizeof(b) - 1, &pi), JSON_INVALID);
	assert_int_equal(json_push_extract(c, sizeof(c) - 1, &pi), JSON_INVALID);
	assert_int_equal(json_push_extract(d, sizeof(d) - 1, &pi), JSON_INVALID);
	assert_int_equal(pi.has_ref, 0);
	/* a real payload with one byte of its ref replaced by NUL */
	body[strstr(body, "refs/heads/master") - body + 5] = '\0';
	assert_int_equal(json_push_extract(body, len, &pi), JSON_INVALID);
	free(body);
}

static void test_u0000(void **state)
{
	struct push_info pi;

	(void)state;
	expect_fail("{\"ref\":\"refs/heads/a\\u0000b\"}", JSON_BAD_FIELD);
	expect_fail("{\"ref\":\"\\u0000\"}", JSON_BAD_FIELD);
	expect_fail("{\"r\\u0000ef\":\"a\"}", JSON_BAD_FIELD);
	expect_fail("{\"after\":\"\\u0000" ZERO40 "\"}", JSON_BAD_FIELD);
	/* values of other keys are skipped, not decoded */
	assert_int_equal(ex("{\"message\":\"a\\u0000b\",\"ref\":\"x\"}", &pi), JSON_OK);
	assert_string_equal(pi.ref, "x");
}

static void test_after_uppercase(void **state)
{
	struct push_info pi;

	(void)state;
	assert_int_equal(ex("{\"after\":\"FD489864E7642B48EAAD6E3F155C10E46810EC72\"}", &pi),
	                 JSON_OK);
	assert_int_equal(pi.has_after, 1);
	assert_string_equal(pi.after, HEX40);
	assert_int_equal(ex("{\"after\":\"Fd489864e7642B48eaad6e3f155c10e46810eC72\"}", &pi),
	                 JSON_OK);
	assert_string_equal(pi.after, HEX40);
	/* escapes are decoded before the hex check */
	assert_int_equal(ex("{\"after\":\"\\u0046d489864e7642b48eaad6e3f155c10e46810ec72\"}", &pi),
	                 JSON_OK);
	assert_string_equal(pi.after, HEX40);
}

static void test_after_bad(void **state)
{
	(void)state;
	/* 39 and 41 digits */
	expect_fail("{\"after\":\"d489864e7642b48eaad6e3f155c10e46810ec72\"}", JSON_BAD_FIELD);
	expect_fail("{\"after\":\"0" HEX40 "\"}", JSON_BAD_FIELD);
	expect_fail("{\"after\":\"\"}", JSON_BAD_FIELD);
	expect_fail("{\"after\":\"gd489864e7642b48eaad6e3f155c10e46810ec72\"}", JSON_BAD_FIELD);
	expect_fail("{\"after\":\" d489864e7642b48eaad6e3f155c10e46810ec72\"}", JSON_BAD_FIELD);
	expect_fail("{\"after\":\"\\u00e4489864e7642b48eaad6e3f155c10e46810ec72\"}",
	            JSON_BAD_FIELD);
	expect_fail("{\"after\":1234}", JSON_BAD_FIELD);
	expect_fail("{\"after\":null}", JSON_BAD_FIELD);
	expect_fail("{\"after\":[\"" HEX40 "\"]}", JSON_BAD_FIELD);
	expect_fail("{\"after\":{\"sha\":\"" HEX40 "\"}}", JSON_BAD_FIELD);
}

static void test_deleted(void **state)
{
	struct push_info pi;

	(void)state;
	assert_int_equal(ex("{\"deleted\":false}", &pi), JSON_OK);
	assert_int_equal(pi.has_deleted, 1);
	assert_int_equal(pi.deleted, 0);
	assert_int_equal(ex("{\"deleted\":true}", &pi), JSON_OK);
	assert_int_equal(pi.deleted, 1);
	expect_fail("{\"deleted\":\"true\"}", JSON_BAD_FIELD);
	expect_fail("{\"deleted\":\"false\"}", JSON_BAD_FIELD);
	expect_fail("{\"deleted\":tru}", JSON_BAD_FIELD);
	expect_fail("{\"deleted\":truex}", JSON_BAD_FIELD);
	expect_fail("{\"deleted\":fals}", JSON_BAD_FIELD);
	expect_fail("{\"deleted\":1}", JSON_BAD_FIELD);
	expect_fail("{\"deleted\":0}", JSON_BAD_FIELD);
	expect_fail("{\"deleted\":null}", JSON_BAD_FIELD);
	expect_fail("{\"deleted\":[true]}", JSON_BAD_FIELD);
}

static char *brackets(const char *head, size_t open, size_t close, const char *tail)
{
	size_t hl = strlen(head);
	size_t tl = strlen(tail);
	char *s = malloc(hl + open + close + tl + 1);

	assert_non_null(s);
	memcpy(s, head, hl);
	memset(s + hl, '[', open);
	memset(s + hl + open, ']', close);
	memcpy(s + hl + open + close, tail, tl + 1);
	return s;
}

static void expect_deep(const char *head, size_t open, size_t close, const char *tail)
{
	char *s = brackets(head, open, close, tail);
	struct push_info pi;
	clock_t t0 = clock();
	enum json_result r = ex(s, &pi);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;

	free(s);
	if (r != JSON_INVALID && r != JSON_TOO_BIG)
		fail_msg("depth %zu: got %s", open, json_strerror(r));
	/* jsmn alone needs about 14 s for 100000 balanced levels */
	if (secs > 2.0)
		fail_msg("depth %zu took %.1f s", open, secs);
}

static void test_deep_nesting(void **state)
{
	char *s;
	struct push_info pi;

	(void)state;
	expect_deep("", 100000, 0, "");
	expect_deep("", 100000, 100000, "");
	expect_deep("{\"a\":", 100000, 0, "");
	expect_deep("{\"a\":", 100000, 100000, "}");
	/* a quote inside a primitive does not hide the brackets after it */
	expect_deep("{\"a\":[1\",", 100000, 100001, "}");
	expect_fail("{\"a\":{\"a\":{\"a\":{\"a\":{{{{{{{{{{{{", JSON_INVALID);
	/* 64 levels counting the top-level object are fine, 65 are not */
	s = brackets("{\"a\":", 63, 63, ",\"ref\":\"x\"}");
	assert_int_equal(ex(s, &pi), JSON_OK);
	assert_string_equal(pi.ref, "x");
	free(s);
	s = brackets("{\"a\":", 64, 64, ",\"ref\":\"x\"}");
	assert_int_equal(ex(s, &pi), JSON_TOO_BIG);
	free(s);
	/* brackets inside strings are text */
	s = brackets("{\"a\":\"\\\"", 1000, 0, "\",\"ref\":\"x\"}");
	expect_ref(s, "x", 1);
	free(s);
}

static void test_non_ascii(void **state)
{
	(void)state;
	expect_ref("{\"ref\":\"refs/heads/\\u00e4\"}", "refs/heads/\xc3\xa4", 13);
	expect_ref("{\"ref\":\"refs/heads/\\u00C4\"}", "refs/heads/\xc3\x84", 13);
	expect_ref("{\"ref\":\"refs/heads/\xc3\xa4\"}", "refs/heads/\xc3\xa4", 13);
	expect_ref("{\"ref\":\"\\u20ac\\u07ff\\u0080\\u007f\"}", "\xe2\x82\xac\xdf\xbf\xc2\x80\x7f",
	           8);
	expect_ref("{\"ref\":\"\\ud83d\\ude00\"}", "\xf0\x9f\x98\x80", 4);
	expect_ref("{\"ref\":\"\\udbff\\udfff\"}", "\xf4\x8f\xbf\xbf", 4);
	expect_ref("{\"ref\":\"\\ud800\\udc00\"}", "\xf0\x90\x80\x80", 4);
}

static void test_lone_surrogates(void **state)
{
	(void)state;
	expect_fail("{\"ref\":\"\\ud83d\"}", JSON_BAD_FIELD);
	expect_fail("{\"ref\":\"\\ud83dx\"}", JSON_BAD_FIELD);
	expect_fail("{\"ref\":\"\\ud83d\\u0041\"}", JSON_BAD_FIELD);
	expect_fail("{\"ref\":\"\\ud83d\\ud83d\"}", JSON_BAD_FIELD);
	expect_fail("{\"ref\":\"\\ud83d\\n\"}", JSON_BAD_FIELD);
	expect_fail("{\"ref\":\"\\ude00\"}", JSON_BAD_FIELD);
	expect_fail("{\"ref\":\"\\ude00\\ud83d\"}", JSON_BAD_FIELD);
	/* keys are decoded in full even when too long to be ours */
	expect_fail("{\"a long key that is not ours\\udc00\":1}", JSON_BAD_FIELD);
}

static void test_raw_control_chars(void **state)
{
	(void)state;
	expect_fail("{\"ref\":\"a\tb\"}", JSON_INVALID);
	expect_fail("{\"ref\":\"a\nb\"}", JSON_INVALID);
	expect_fail("{\"ref\":\"a\x01"
	            "b\"}",
	            JSON_INVALID);
	expect_fail("{\"re\x1f"
	            "f\":\"a\"}",
	            JSON_INVALID);
	expect_fail("{\"message\":\"line\nbreak\",\"ref\":\"a\"}", JSON_INVALID);
	/* escaped control characters are fine, DEL is not a control character */
	expect_ref("{\"ref\":\"a\\u0001\x7f\"}", "a\x01\x7f", 3);
}

/* Shapes jsmn's strict mode still accepts. */
static void test_jsmn_leniency(void **state)
{
	(void)state;
	expect_fail("{\"ref\" \"a\"}", JSON_INVALID);
	expect_fail("{\"ref\":\"a\",}", JSON_INVALID);
	expect_fail("{\"ref\":\"a\",,\"x\":1}", JSON_INVALID);
	expect_fail("{,\"ref\":\"a\"}", JSON_INVALID);
	expect_fail("{\"ref\"::\"a\"}", JSON_INVALID);
	expect_fail("{\"ref\":\"a\":\"b\"}", JSON_INVALID);
	expect_fail("{\"x\":1 \"ref\":\"a\"}", JSON_INVALID);
	expect_fail("{\"ref\":\"a\" \"x\":1}", JSON_INVALID);
	expect_fail("{\"x\":[1] \"ref\":\"a\"}", JSON_INVALID);
	expect_fail("{\"ref\"}", JSON_INVALID);
	expect_fail("{\"ref\":}", JSON_INVALID);
	expect_fail("{:\"a\"}", JSON_INVALID);
	expect_fail("{\"ref\",\"a\"}", JSON_INVALID);
	expect_fail("{\"deleted\":true,}", JSON_INVALID);
	expect_fail("{ref:\"a\"}", JSON_INVALID);
	expect_fail("{1:\"a\"}", JSON_INVALID);
	expect_fail("{\"ref\":'a'}", JSON_INVALID);
	expect_fail("{\"ref\":\"\\x41\"}", JSON_INVALID);
}

static void test_not_an_object(void **state)
{
	struct push_info pi;

	(void)state;
	expect_fail("", JSON_INVALID);
	expect_fail(" \n\t", JSON_INVALID);
	expect_fail("[]", JSON_INVALID);
	expect_fail("[{\"ref\":\"a\"}]", JSON_INVALID);
	expect_fail("\"ref\"", JSON_INVALID);
	expect_fail("1", JSON_INVALID);
	expect_fail("true", JSON_INVALID);
	expect_fail("null", JSON_INVALID);
	expect_fail("payload={\"ref\":\"a\"}", JSON_INVALID);
	assert_int_equal(json_push_extract(NULL, 0, &pi), JSON_INVALID);
	assert_int_equal(ex("{}", &pi), JSON_OK);
	assert_int_equal(pi.has_ref + pi.has_after + pi.has_deleted, 0);
	assert_int_equal(ex("{\"zen\":\"x\",\"n\":[1,{\"a\":null}]}", &pi), JSON_OK);
	assert_int_equal(pi.has_ref + pi.has_after + pi.has_deleted, 0);
}

static void test_ref_not_string(void **state)
{
	(void)state;
	expect_fail("{\"ref\":1}", JSON_BAD_FIELD);
	expect_fail("{\"ref\":null}", JSON_BAD_FIELD);
	expect_fail("{\"ref\":true}", JSON_BAD_FIELD);
	expect_fail("{\"ref\":[\"refs/heads/main\"]}", JSON_BAD_FIELD);
	expect_fail("{\"ref\":{\"name\":\"refs/heads/main\"}}", JSON_BAD_FIELD);
}

static char *ref_doc(const char *unit, size_t count)
{
	size_t ul = strlen(unit);
	char *s = malloc(ul * count + 16);
	size_t i;

	assert_non_null(s);
	strcpy(s, "{\"ref\":\"");
	for (i = 0; i < count; i++)
		memcpy(s + 8 + i * ul, unit, ul);
	strcpy(s + 8 + count * ul, "\"}");
	return s;
}

static void test_ref_length(void **state)
{
	struct push_info pi;
	char *s;

	(void)state;
	s = ref_doc("a", JSON_REF_MAX);
	assert_int_equal(ex(s, &pi), JSON_OK);
	assert_int_equal(pi.ref_len, JSON_REF_MAX);
	assert_int_equal(strlen(pi.ref), JSON_REF_MAX);
	free(s);
	s = ref_doc("a", JSON_REF_MAX + 1);
	expect_fail(s, JSON_BAD_FIELD);
	free(s);
	/* the limit applies to decoded bytes: each \u00e4 is two */
	s = ref_doc("\\u00e4", JSON_REF_MAX / 2);
	assert_int_equal(ex(s, &pi), JSON_OK);
	assert_int_equal(pi.ref_len, JSON_REF_MAX);
	free(s);
	s = ref_doc("\\u20ac", JSON_REF_MAX / 3 + 1);
	expect_fail(s, JSON_BAD_FIELD);
	free(s);
}

/* {"a":[0,0,...]} has 3 + zeros tokens. */
static char *token_doc(size_t zeros)
{
	char *s = malloc(2 * zeros + 8);
	size_t i;

	assert_non_null(s);
	memcpy(s, "{\"a\":[", 6);
	for (i = 0; i < zeros; i++) {
		s[6 + 2 * i] = '0';
		s[7 + 2 * i] = ',';
	}
	strcpy(s + 6 + 2 * zeros - 1, "]}");
	return s;
}

static void test_token_limit(void **state)
{
	struct push_info pi;
	char *s;

	(void)state;
	s = token_doc(JSON_MAX_TOKENS - 3);
	assert_int_equal(ex(s, &pi), JSON_OK);
	free(s);
	s = token_doc(JSON_MAX_TOKENS - 2);
	assert_int_equal(ex(s, &pi), JSON_TOO_BIG);
	free(s);
}

static void test_error_clears_output(void **state)
{
	struct push_info pi;

	(void)state;
	assert_int_equal(ex("{\"ref\":\"a\",\"deleted\":true,\"after\":\"zz\"}", &pi),
	                 JSON_BAD_FIELD);
	assert_int_equal(pi.has_ref, 0);
	assert_int_equal(pi.has_deleted, 0);
	assert_int_equal(pi.deleted, 0);
	assert_int_equal(pi.ref[0], '\0');
	assert_int_equal(pi.ref_len, 0);
}

static void test_strerror(void **state)
{
	const char *s[5];
	int i;
	int j;

	(void)state;
	for (i = 0; i < 5; i++) {
		s[i] = json_strerror((enum json_result)i);
		assert_non_null(s[i]);
		for (j = 0; j < i; j++)
			assert_string_not_equal(s[i], s[j]);
	}
	assert_int_equal(JSON_BAD_FIELD, 4);
	assert_non_null(json_strerror((enum json_result)42));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixture_corpus),
	    cmocka_unit_test(test_escaped_ref),
	    cmocka_unit_test(test_escaped_keys),
	    cmocka_unit_test(test_nested_ref_before_top_level),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_trailing_garbage),
	    cmocka_unit_test(test_concatenated_objects),
	    cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test(test_u0000),
	    cmocka_unit_test(test_after_uppercase),
	    cmocka_unit_test(test_after_bad),
	    cmocka_unit_test(test_deleted),
	    cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_non_ascii),
	    cmocka_unit_test(test_lone_surrogates),
	    cmocka_unit_test(test_raw_control_chars),
	    cmocka_unit_test(test_jsmn_leniency),
	    cmocka_unit_test(test_not_an_object),
	    cmocka_unit_test(test_ref_not_string),
	    cmocka_unit_test(test_ref_length),
	    cmocka_unit_test(test_token_limit),
	    cmocka_unit_test(test_error_clears_output),
	    cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
