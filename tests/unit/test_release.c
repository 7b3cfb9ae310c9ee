/*
 * test_release.c - release names, what pruning deletes (and never
 * deletes), the link text, and a real switch and prune in a temp dir.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "release.h"

#define R1 "20240101T000000.000Z-aaaaaaaaaaaa"
#define R2 "20240102T000000.000Z-bbbbbbbbbbbb"
#define R3 "20240103T000000.000Z-cccccccccccc"
#define R4 "20240104T000000.000Z-dddddddddddd"
#define R5 "20240105T000000.000Z-eeeeeeeeeeee"

static void test_name(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(release_name(out, sizeof(out), 1714564800123LL,
	                              "0123456789abcdef0123456789abcdef01234567"),
	                 0);
	assert_string_equal(out, "20240501T120000.123Z-0123456789ab");
	assert_true(release_name_valid(out));
	assert_int_equal(release_name(out, 10, 1714564800123LL, "0123456789ab"), -1);
}

static void test_valid_names(void **state)
{
	(void)state;
	assert_true(release_name_valid(R1));
	assert_true(release_name_valid("20240101T000000.000Z-legacy"));
	assert_false(release_name_valid("20240101T000000.000Z-AAAAAAAAAAAA"));
	assert_false(release_name_valid("20240101T000000.000Z-aaaaaaaaaaa"));
	assert_false(release_name_valid("20240101T000000.000Z-aaaaaaaaaaaaa"));
	assert_false(release_name_valid("2024010xT000000.000Z-aaaaaaaaaaaa"));
	assert_false(release_name_valid("20240101-000000.000Z-aaaaaaaaaaaa"));
	assert_false(release_name_valid("uploads"));
	assert_false(release_name_valid(".."));
	assert_false(release_name_valid(""));
}

/* Runs the plan and returns the deleted names joined by spaces, sorted. */
static const char *plan(const char *const *names, size_t n, const char *live, unsigned keep)
{
	static char out[1024];
	const char *del[16];
	size_t i, k;

	k = release_prune_plan(names, n, live, keep, del);
	out[0] = '\0';
	for (i = 0; i < k; i++) {
		strcat(out, i ? " " : "");
		strcat(out, del[i]);
	}
	return out;
}

static void test_prune_keeps_newest(void **state)
{
	const char *names[] = {R3, R1, R5, R2, R4};

	(void)state;
	assert_string_equal(plan(names, 5, R5, 3), R2 " " R1);
	assert_string_equal(plan(names, 5, R5, 1), R4 " " R3 " " R2 " " R1);
	assert_string_equal(plan(names, 5, R5, 5), "");
	assert_string_equal(plan(names, 5, R5, 100), "");
}

static void test_prune_never_deletes_live(void **state)
{
	const char *names[] = {R1, R2, R3, R4, R5};

	(void)state;
	/* An operator rolled back to R1: it stays, and takes one place. */
	assert_string_equal(plan(names, 5, R1, 3), R3 " " R2);
	assert_string_equal(plan(names, 5, R1, 1), R5 " " R4 " " R3 " " R2);
	/* No live release (rsync before, or the link points elsewhere). */
	assert_string_equal(plan(names, 5, NULL, 2), R3 " " R2 " " R1);
	assert_string_equal(plan(names, 5, "", 2), R3 " " R2 " " R1);
}

static void test_prune_leaves_foreign_entries(void **state)
{
	const char *names[] = {"uploads", R1, ".well-known", R2, "README", R3};

	(void)state;
	assert_string_equal(plan(names, 6, R3, 1), R2 " " R1);
}

static void test_prune_removes_tmp_leftovers(void **state)
{
	const char *names[] = {R1, TH_RELEASE_TMP R2, R3};

	(void)state;
	assert_string_equal(plan(names, 3, R3, 3), TH_RELEASE_TMP R2);
}

static void test_prune_empty(void **state)
{
	(void)state;
	assert_string_equal(plan(NULL, 0, NULL, 3), "");
}

static void test_link_text(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(
	    release_link_text(out, sizeof(out), "/srv/blog/live", "/srv/blog/live.releases", R1),
	    0);
	assert_string_equal(out, "live.releases/" R1);
	assert_int_equal(
	    release_link_text(out, sizeof(out), "/var/www/blog", "/srv/releases/blog", R1), 0);
	assert_string_equal(out, "/srv/releases/blog/" R1);
}

static void make_release(const char *dir, const char *name)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s/index.html", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%s\n", name);
	fclose(f);
}

static void test_switch_and_prune_on_disk(void **state)
{
	char base[] = "/tmp/th-release-XXXXXX", target[256], rel[256];
	char live[64], cmd[PATH_MAX + 16], link[PATH_MAX];
	struct stat st;
	ssize_t n;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(target, sizeof(target), "%s/live", base);
	snprintf(rel, sizeof(rel), "%s/live.releases", base);
	assert_int_equal(mkdir(rel, 0755), 0);
	/* A plain directory as target: taken over, kept as a legacy release. */
	assert_int_equal(mkdir(target, 0755), 0);
	make_release(rel, R1);
	assert_int_equal(release_switch(target, rel, R1), 0);
	n = readlink(target, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	assert_string_equal(link, "live.releases/" R1);
	release_live(target, rel, live, sizeof(live));
	assert_string_equal(live, R1);
	make_release(rel, R2);
	assert_int_equal(release_switch(target, rel, R2), 0);
	release_live(target, rel, live, sizeof(live));
	assert_string_equal(live, R2);
	make_release(rel, R3);
	assert_int_equal(release_switch(target, rel, R3), 0);
	/* Kept: R3 (live), the legacy directory (named with today's time, so
	 * the newest) and R2. */
	assert_int_equal(release_prune(rel, R3, 3), 0);
	snprintf(link, sizeof(link), "%s/%s", rel, R2);
	assert_int_equal(stat(link, &st), 0);
	snprintf(link, sizeof(link), "%s/%s", rel, R1);
	assert_int_equal(stat(link, &st), -1);
	/* No temporary link is left next to the target. */
	snprintf(link, sizeof(link), "%s/.live.tailhook-new", base);
	assert_int_equal(lstat(link, &st), -1);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name),
	    cmocka_unit_test(test_valid_names),
	    cmocka_unit_test(test_prune_keeps_newest),
	    cmocka_unit_test(test_prune_never_deletes_live),
	    cmocka_unit_test(test_prune_leaves_foreign_entries),
	    cmocka_unit_test(test_prune_removes_tmp_leftovers),
	    cmocka_unit_test(test_prune_empty),
	    cmocka_unit_test(test_link_text),
	    cmocka_unit_test(test_switch_and_prune_on_disk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
