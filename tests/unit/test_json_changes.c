/*
 * test_json_changes.c - Bitbucket's change lists: the fixture corpus
 * (expected values read from the files with Python's json module), full
 * ref names built from type + name, multi-change bodies, and the same
 * strictness as the top level on every object and array walked.
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

#include "json_changes.h"

#define ZERO40 "0000000000000000000000000000000000000000"
#define H1     "141977fedf5cf35aa290ac87d4b5177ac4cd9de1"
#define H2     "823b2230a56056231c9425d63758fa87078a66b4"

struct seen {
	struct ref_change c[8];
	size_t n;
};

static void collect(const struct ref_change *c, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 8)
		s->c[s->n] = *c;
	s->n++;
}

static char *read_fixture(const char *rel, size_t *len)
{
	char path[256];
	char *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "tests/fixtures/payloads/%s", rel);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (run from the repository root)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static enum json_result run(const char *body, size_t len, enum json_shape shape, struct seen *s)
{
	size_t count = 99;
	enum json_result r;

	memset(s, 0, sizeof(*s));
	r = json_changes_extract(body, len, shape, collect, s, &count);
	if (r == JSON_OK)
		assert_int_equal(count, s->n);
	else
		assert_int_equal(count, 0);
	return r;
}

static void expect_one(const char *rel, enum json_shape shape, const char *ref, const char *after,
                       int deleted)
{
	size_t len;
	char *body = read_fixture(rel, &len);
	struct seen s;

	assert_int_equal(run(body, len, shape, &s), JSON_OK);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.c[0].ref, ref);
	assert_int_equal(s.c[0].ref_len, strlen(ref));
	assert_string_equal(s.c[0].after, after);
	assert_int_equal(s.c[0].deleted, deleted);
	free(body);
}

static void test_cloud_fixtures(void **state)
{
	(void)state;
	expect_one("bitbucket-cloud/repo_push-1.json", SHAPE_BITBUCKET_CLOUD,
	           "refs/heads/name-of-branch", "709d658dc5b6d6afcd46049c2f332ee3f515a67d", 0);
	expect_one("bitbucket-cloud/repo_push-2.json", SHAPE_BITBUCKET_CLOUD, "refs/heads/master",
	           H1, 0);
	expect_one("bitbucket-cloud/repo_push-3.json", SHAPE_BITBUCKET_CLOUD, "refs/heads/develop",
	           H1, 0);
	expect_one("bitbucket-cloud/repo_push-4.json", SHAPE_BITBUCKET_CLOUD, "refs/heads/develop",
	           ZERO40, 1);
	expect_one("bitbucket-cloud/repo_push-5.json", SHAPE_BITBUCKET_CLOUD, "refs/tags/feature/x",
	           H1, 0);
}

static void test_server_fixtures(void **state)
{
	(void)state;
	expect_one("bitbucket-server/refs_changed-1.json", SHAPE_BITBUCKET_SERVER,
	           "refs/heads/feature/wip", ZERO40, 1);
	expect_one("bitbucket-server/refs_changed-2.json", SHAPE_BITBUCKET_SERVER,
	           "refs/heads/master", H2, 0);
	expect_one("bitbucket-server/refs_changed-3.json", SHAPE_BITBUCKET_SERVER,
	           "refs/heads/trangineni/devtfvars-1685475548410",
	           "51a33664b6d7fb5aa15063064eb230362cd02e9e", 0);
	expect_one("bitbucket-server/refs_changed-4.json", SHAPE_BITBUCKET_SERVER,
	           "refs/heads/develop", ZERO40, 1);
	expect_one("bitbucket-server/refs_changed-5.json", SHAPE_BITBUCKET_SERVER,
	           "refs/tags/v1.1.0", H2, 0);
}

static enum json_result str(const char *body, enum json_shape shape, struct seen *s)
{
	return run(body, strlen(body), shape, s);
}

#define CLOUD_BRANCH(name, hash)                                                                   \
	"{\"new\": {\"type\": \"branch\", \"name\": \"" name "\", \"target\": {\"hash\": \"" hash  \
	"\"}}, \"old\": null}"

static void test_multi_change(void **state)
{
	struct seen s;

	(void)state;
	assert_int_equal(
	    str("{\"push\": {\"changes\": [" CLOUD_BRANCH(
	            "a", H1) ", "
	                     "{\"new\": null, \"old\": {\"type\": \"branch\", \"name\": \"b\"}}, "
	                     "{\"new\": {\"type\": \"tag\", \"name\": \"v1\", \"target\": "
	                     "{\"hash\": \"" H2
	                     "\"}}, \"old\": null}, " CLOUD_BRANCH("main", H2) "]}}",
	        SHAPE_BITBUCKET_CLOUD, &s),
	    JSON_OK);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.c[0].ref, "refs/heads/a");
	assert_string_equal(s.c[1].ref, "refs/heads/b");
	assert_int_equal(s.c[1].deleted, 1);
	assert_string_equal(s.c[2].ref, "refs/tags/v1");
	assert_string_equal(s.c[3].ref, "refs/heads/main");
	assert_string_equal(s.c[3].after, H2);
	assert_int_equal(str("{\"changes\": [{\"refId\": \"refs/heads/x\", \"toHash\": \"" H1
	                     "\", \"type\": \"UPDATE\"}, {\"refId\": \"refs/heads/main\", "
	                     "\"toHash\": \"" ZERO40 "\", \"type\": \"DELETE\"}]}",
	                     SHAPE_BITBUCKET_SERVER, &s),
	                 JSON_OK);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.c[1].deleted, 1);
}

static void test_names(void **state)
{
	struct seen s;

	(void)state;
	/* escapes decoded, '/' and non-ASCII kept exactly, uppercase hex lowered */
	assert_int_equal(
	    str("{\"push\": {\"changes\": [" CLOUD_BRANCH(
	            "r\\u00e9lease\\/v1", "141977FEDF5CF35AA290AC87D4B5177AC4CD9DE1") "]}}",
	        SHAPE_BITBUCKET_CLOUD, &s),
	    JSON_OK);
	assert_string_equal(s.c[0].ref, "refs/heads/r\xc3\xa9lease/v1");
	assert_string_equal(s.c[0].after, H1);
	/* an unknown type gives the bare name, which never equals refs/heads/... */
	assert_int_equal(str("{\"push\": {\"changes\": [{\"new\": {\"type\": \"named_branch\", "
	                     "\"name\": \"default\", \"target\": {\"hash\": \"" H1 "\"}}}]}}",
	                     SHAPE_BITBUCKET_CLOUD, &s),
	                 JSON_OK);
	assert_string_equal(s.c[0].ref, "default");
}

static void test_absent_or_empty(void **state)
{
	struct seen s;

	(void)state;
	assert_int_equal(str("{\"repository\": {}}", SHAPE_BITBUCKET_CLOUD, &s), JSON_OK);
	assert_int_equal(s.n, 0);
	assert_int_equal(str("{\"push\": {\"changes\": []}}", SHAPE_BITBUCKET_CLOUD, &s), JSON_OK);
	assert_int_equal(s.n, 0);
	/* a nested "changes" is not the server's list */
	assert_int_equal(str("{\"x\": {\"changes\": [1]}}", SHAPE_BITBUCKET_SERVER, &s), JSON_OK);
	assert_int_equal(s.n, 0);
}

static void expect(const char *body, enum json_shape shape, enum json_result want)
{
	struct seen s;
	enum json_result r = str(body, shape, &s);

	if (r != want)
		fail_msg("%s: got %s, want %s", body, json_strerror(r), json_strerror(want));
}

static void test_strict(void **state)
{
	const enum json_shape C = SHAPE_BITBUCKET_CLOUD, S = SHAPE_BITBUCKET_SERVER;

	(void)state;
	/* duplicates at every level read */
	expect("{\"push\": {\"changes\": []}, \"push\": {}}", C, JSON_DUPLICATE);
	expect("{\"push\": {\"changes\": [], \"changes\": []}}", C, JSON_DUPLICATE);
	expect("{\"push\": {\"changes\": [{\"new\": null, \"new\": null}]}}", C, JSON_DUPLICATE);
	expect("{\"push\": {\"changes\": [{\"new\": {\"name\": \"a\", \"name\": \"b\"}}]}}", C,
	       JSON_DUPLICATE);
	expect("{\"changes\": [{\"refId\": \"a\", \"refId\": \"b\"}]}", S, JSON_DUPLICATE);
	expect("{\"changes\": [], \"changes\": []}", S, JSON_DUPLICATE);
	/* punctuation jsmn lets through */
	expect("{\"changes\": [{\"refId\": \"refs/heads/a\", \"toHash\": \"" H1 "\"},]}", S,
	       JSON_INVALID);
	expect("{\"changes\": [{\"refId\": \"refs/heads/a\" \"toHash\": \"" H1 "\"}]}", S,
	       JSON_INVALID);
	expect("{\"changes\": [{\"refId\": \"refs/heads/a\", \"toHash\": \"" H1 "\",}]}", S,
	       JSON_INVALID);
	expect("{\"changes\": [\"a\": 1]}", S, JSON_INVALID);
	expect("{\"changes\": [{}] {}}", S, JSON_INVALID);
	expect("{\"changes\": [{}]}{}", S, JSON_INVALID);
	/* wrong types and values */
	expect("{\"changes\": {}}", S, JSON_BAD_FIELD);
	expect("{\"changes\": [1]}", S, JSON_BAD_FIELD);
	expect("{\"changes\": [{\"refId\": \"refs/heads/a\"}]}", S, JSON_BAD_FIELD);
	expect("{\"changes\": [{\"refId\": \"refs/heads/a\", \"toHash\": \"abc\"}]}", S,
	       JSON_BAD_FIELD);
	expect("{\"changes\": [{\"refId\": 5, \"toHash\": \"" H1 "\"}]}", S, JSON_BAD_FIELD);
	expect("{\"push\": []}", C, JSON_BAD_FIELD);
	expect("{\"push\": {\"changes\": [{\"old\": null}]}}", C, JSON_BAD_FIELD);
	expect("{\"push\": {\"changes\": [{\"new\": null, \"old\": null}]}}", C, JSON_BAD_FIELD);
	expect("{\"push\": {\"changes\": [{\"new\": nul}]}}", C, JSON_BAD_FIELD);
	expect("{\"push\": {\"changes\": [{\"new\": {\"type\": \"branch\", \"name\": \"a\"}}]}}", C,
	       JSON_BAD_FIELD);
	expect("{\"push\": {\"changes\": [{\"new\": {\"name\": \"a\\u0000\", \"target\": "
	       "{\"hash\": \"" H1 "\"}}}]}}",
	       C, JSON_BAD_FIELD);
	expect(
	    "{\"push\": {\"changes\": [{\"new\": {\"type\": \"a-type-name-longer-than-31-bytes\", "
	    "\"name\": \"a\", \"target\": {\"hash\": \"" H1 "\"}}}]}}",
	    C, JSON_BAD_FIELD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cloud_fixtures),  cmocka_unit_test(test_server_fixtures),
	    cmocka_unit_test(test_multi_change),    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_absent_or_empty), cmocka_unit_test(test_strict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
