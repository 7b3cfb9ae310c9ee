/*
 * fuzz_json_push.c - the JSON extractors on arbitrary bodies:
 * json_push_extract (GitHub, Gitea, Forgejo, GitLab) and
 * json_changes_extract in both Bitbucket shapes.
 *
 * The input is the body, byte for byte (seeds: tests/fixtures/payloads).
 * Checks what json_push.h promises: a failure leaves *out all zero, a
 * success has a NUL-terminated ref no longer than JSON_REF_MAX, an `after`
 * of 40 lowercase hex digits and a `deleted` of 0 or 1; and the same of
 * every change json_changes.h reports, whose count must match the calls.
 */
#include <string.h>

#include "fuzz.h"
#include "json_changes.h"
#include "json_push.h"

static int all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static void check_ok(const struct push_info *pi)
{
	if (pi->has_ref) {
		FUZZ_CHECK(pi->ref_len <= JSON_REF_MAX);
		FUZZ_CHECK(pi->ref[pi->ref_len] == '\0');
	} else {
		FUZZ_CHECK(pi->ref_len == 0 && pi->ref[0] == '\0');
	}
	if (pi->has_after) {
		FUZZ_CHECK(strlen(pi->after) == 40);
		FUZZ_CHECK(strspn(pi->after, "0123456789abcdef") == 40);
	} else {
		FUZZ_CHECK(pi->after[0] == '\0');
	}
	FUZZ_CHECK(pi->deleted == 0 || pi->deleted == 1);
	FUZZ_CHECK(pi->has_deleted || pi->deleted == 0);
}

static void on_change(const struct ref_change *c, void *ctx)
{
	size_t *calls = ctx;

	FUZZ_CHECK(c->ref_len <= JSON_REF_MAX && c->ref[c->ref_len] == '\0');
	FUZZ_CHECK(strlen(c->after) == 40 && strspn(c->after, "0123456789abcdef") == 40);
	FUZZ_CHECK(c->deleted == 0 || c->deleted == 1);
	(*calls)++;
}

static void check_changes(const uint8_t *data, size_t size, enum json_shape shape)
{
	size_t calls = 0, count = 0;
	enum json_result r;

	r = json_changes_extract((const char *)data, size, shape, on_change, &calls, &count);
	FUZZ_CHECK(r >= JSON_OK && r <= JSON_BAD_FIELD);
	if (r == JSON_OK)
		FUZZ_CHECK(count == calls);
}

int fuzz_json_push_one(const uint8_t *data, size_t size)
{
	struct push_info pi;
	enum json_result r;

	/* Poison *out so that the "fills or zeroes" promise is really checked. */
	memset(&pi, 0xA5, sizeof(pi));
	r = json_push_extract((const char *)data, size, &pi);
	FUZZ_CHECK(r >= JSON_OK && r <= JSON_BAD_FIELD);
	FUZZ_CHECK(json_strerror(r) != NULL);
	if (r == JSON_OK)
		check_ok(&pi);
	else
		FUZZ_CHECK(all_zero(&pi, sizeof(pi)));
	check_changes(data, size, SHAPE_BITBUCKET_CLOUD);
	check_changes(data, size, SHAPE_BITBUCKET_SERVER);
	return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_json_push_one(data, size);
}
#endif
