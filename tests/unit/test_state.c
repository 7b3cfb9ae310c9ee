/*
 * test_state.c - the per-site state file: round trip, tolerance of newer
 * keys, and refusal of torn or tampered files; the atomic writer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"

#define C1 "0123456789abcdef0123456789abcdef01234567"
#define C2 "89abcdef0123456789abcdef0123456789abcdef"

static void full_state(struct th_state *s)
{
	state_init(s);
	snprintf(s->commit, sizeof(s->commit), C1);
	snprintf(s->release, sizeof(s->release), "20240501T120000.123Z-0123456789ab");
	s->deployed_at = 1714564800; /* 2024-05-01T12:00:00Z */
	snprintf(s->result, sizeof(s->result), "failed");
	snprintf(s->last_commit, sizeof(s->last_commit), C2);
	snprintf(s->delivery, sizeof(s->delivery), "72d3162e-cc78-11e3-81ab-4c9367dc0958");
	snprintf(s->step, sizeof(s->step), "build");
	snprintf(s->status, sizeof(s->status), "exit 1");
	snprintf(s->output, sizeof(s->output), "error: bad \"quote\" | line two");
	s->finished_at = 1714564900;
	s->duration_ms = 1234;
	s->deploys = 17;
}

static void test_round_trip(void **state)
{
	struct th_state a, b;
	char buf[TH_STATE_MAX];
	int n;

	(void)state;
	full_state(&a);
	n = state_format(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_non_null(strstr(buf, "commit=" C1 "\n"));
	assert_non_null(strstr(buf, "deployed-at=2024-05-01T12:00:00Z\n"));
	assert_non_null(strstr(buf, "last-step=build\n"));
	assert_int_equal(state_parse(&b, buf, (size_t)n), 0);
	assert_string_equal(b.commit, a.commit);
	assert_string_equal(b.release, a.release);
	assert_int_equal(b.deployed_at, a.deployed_at);
	assert_string_equal(b.result, "failed");
	assert_string_equal(b.last_commit, C2);
	assert_string_equal(b.delivery, a.delivery);
	assert_string_equal(b.status, "exit 1");
	/* The output is stored sanitised: quotes escaped, still one line. */
	assert_string_equal(b.output, "error: bad \\x22quote\\x22 | line two");
	assert_int_equal(b.finished_at, a.finished_at);
	assert_int_equal(b.duration_ms, 1234);
	assert_int_equal(b.deploys, 17);
}

static void test_never_deployed(void **state)
{
	struct th_state a, b;
	char buf[TH_STATE_MAX];
	int n;

	(void)state;
	state_init(&a);
	n = state_format(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_non_null(strstr(buf, "commit=\n"));
	assert_non_null(strstr(buf, "deployed-at=-\n"));
	assert_int_equal(state_parse(&b, buf, (size_t)n), 0);
	assert_string_equal(b.commit, "");
	assert_int_equal(b.deployed_at, 0);
}

static void test_output_newlines_stay_on_one_line(void **state)
{
	struct th_state a, b;
	char buf[TH_STATE_MAX];
	int n;

	(void)state;
	full_state(&a);
	snprintf(a.output, sizeof(a.output), "one\ncommit=" C2 "\ntwo");
	n = state_format(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(state_parse(&b, buf, (size_t)n), 0);
	/* A build cannot forge the live commit through its output. */
	assert_string_equal(b.commit, C1);
}

static void test_unknown_keys_are_ignored(void **state)
{
	const char text[] = "commit=" C1 "\nfuture-key=whatever\ndeploys=3\n";
	struct th_state s;

	(void)state;
	assert_int_equal(state_parse(&s, text, strlen(text)), 0);
	assert_string_equal(s.commit, C1);
	assert_int_equal(s.deploys, 3);
}

static void expect_refused(const char *text)
{
	struct th_state s;

	assert_int_equal(state_parse(&s, text, strlen(text)), -1);
	/* A refused file reads as "never deployed": catch-up deploys. */
	assert_string_equal(s.commit, "");
}

static void test_malformed_is_refused(void **state)
{
	(void)state;
	expect_refused("commit=" C1);    /* torn: no final newline */
	expect_refused("commit=0123\n"); /* not 40 hex */
	expect_refused("commit="
	               "0123456789ABCDEF0123456789ABCDEF01234567"
	               "\n");
	expect_refused("no equals sign\n");
	expect_refused("=value\n");
	expect_refused("deployed-at=yesterday\n");
	expect_refused("deployed-at=2024-05-01T12:00:00\n"); /* no Z */
	expect_refused("deploys=-1\n");
	expect_refused("deploys=12x\n");
	expect_refused("last-duration-ms=\n");
	expect_refused("release=../../etc\n");
	expect_refused("last-step=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"); /* too long */
}

static void test_nul_is_refused(void **state)
{
	const char text[] = "commit=\0" C1 "\n";
	struct th_state s;

	(void)state;
	assert_int_equal(state_parse(&s, text, sizeof(text) - 1), -1);
}

static void test_too_small_buffer(void **state)
{
	struct th_state a;
	char buf[64];

	(void)state;
	full_state(&a);
	assert_int_equal(state_format(&a, buf, sizeof(buf)), -1);
}

static void test_time_format(void **state)
{
	char out[32];
	long long t;

	(void)state;
	state_fmt_time(out, sizeof(out), 0);
	assert_string_equal(out, "-");
	state_fmt_time(out, sizeof(out), 86400);
	assert_string_equal(out, "1970-01-02T00:00:00Z");
	assert_int_equal(state_parse_time("1970-01-02T00:00:00Z", &t), 0);
	assert_int_equal(t, 86400);
	assert_int_equal(state_parse_time("1970-01-02T00:00:00Zjunk", &t), -1);
}

static void test_save_and_load(void **state)
{
	char dir[] = "/tmp/th-state-XXXXXX", path[256];
	struct th_config cfg;
	struct th_site site;
	struct th_state a, b;
	char err[300];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	memset(&cfg, 0, sizeof(cfg));
	memset(&site, 0, sizeof(site));
	site.name = "blog";
	cfg.sites = &site;
	cfg.nsites = 1;
	snprintf(path, sizeof(path), "%s/state", dir);
	cfg.state_dir = path;
	assert_int_equal(state_dirs_check(&cfg, err, sizeof(err)), 0);
	assert_int_equal(state_load(path, "blog", &b), 1); /* nothing yet */
	full_state(&a);
	assert_int_equal(state_save(path, "blog", &a), 0);
	assert_int_equal(state_load(path, "blog", &b), 0);
	assert_string_equal(b.commit, C1);
	/* No temporary file is left behind, and the file is private. */
	snprintf(path, sizeof(path), "%s/state/sites/blog/.state.tmp", dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/state/sites/blog/state", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

static void test_state_dir_open_to_others_is_refused(void **state)
{
	char dir[] = "/tmp/th-state-XXXXXX", path[256];
	struct th_config cfg;
	char err[300];

	(void)state;
	assert_non_null(mkdtemp(dir));
	memset(&cfg, 0, sizeof(cfg));
	cfg.state_dir = dir;
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(state_dirs_check(&cfg, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not writable by group or others"));
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_never_deployed),
	    cmocka_unit_test(test_output_newlines_stay_on_one_line),
	    cmocka_unit_test(test_unknown_keys_are_ignored),
	    cmocka_unit_test(test_malformed_is_refused),
	    cmocka_unit_test(test_nul_is_refused),
	    cmocka_unit_test(test_too_small_buffer),
	    cmocka_unit_test(test_time_format),
	    cmocka_unit_test(test_save_and_load),
	    cmocka_unit_test(test_state_dir_open_to_others_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
