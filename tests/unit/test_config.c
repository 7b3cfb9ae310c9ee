/*
 * test_config.c - config_load: a full config, defaults, and every kind of
 * error with its exact "FILE:LINE: message".
 *
 * Each test gets a fresh directory under /tmp holding a config, a
 * certificate, a key and a secret, all 0600 and owned by the test's uid,
 * so that check_owner with owner = getuid() passes unless a test breaks it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

/* Lines 1-4. */
#define SERVER                                                                                     \
	"[server]\n"                                                                               \
	"listen = 127.0.0.1:8443\n"                                                                \
	"certificate = @D/cert.pem\n"                                                              \
	"key = @D/key.pem\n"

/* Nine lines; after SERVER and a header at line 5, lines 6-14. */
#define SITE_BODY                                                                                  \
	"path = /hooks/blog\n"                                                                     \
	"secret-file = @D/secret\n"                                                                \
	"branch = main\n"                                                                          \
	"remote = https://example.org/blog.git\n"                                                  \
	"checkout = /srv/src/blog\n"                                                               \
	"build = jekyll build\n"                                                                   \
	"output = _site\n"                                                                         \
	"target = /srv/www/blog\n"                                                                 \
	"user = blog\n"

#define BASE SERVER "[site blog]\n" SITE_BODY

#define SECRET "s3cret-value"

struct fx {
	char dir[64];
	char conf[128];
	char text[8192];
	char err[512];
	struct th_config cfg;
};

/* Replaces every "@D" with the fixture's directory. */
static void subst(const struct fx *f, const char *in, char *out, size_t outsz)
{
	size_t o = 0, dl = strlen(f->dir);

	while (*in != '\0') {
		if (in[0] == '@' && in[1] == 'D') {
			assert_true(o + dl < outsz);
			memcpy(out + o, f->dir, dl);
			o += dl;
			in += 2;
		} else {
			assert_true(o + 1 < outsz);
			out[o++] = *in++;
		}
	}
	out[o] = '\0';
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* Writes a file named relative to the fixture directory. */
static void put(const struct fx *f, const char *name, const void *data, size_t len, mode_t mode)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	write_file(path, data, len, mode);
}

static void put_secret(const struct fx *f, const char *data, size_t len)
{
	put(f, "secret", data, len, 0600);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/th_cfg_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf, sizeof(f->conf), "%s/th.conf", f->dir);
	put(f, "cert.pem", "cert\n", 5, 0600);
	put(f, "key.pem", "key\n", 4, 0600);
	put_secret(f, SECRET "\n", strlen(SECRET) + 1);
	*state = f;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	config_free(&f->cfg);
	nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Returns BASE with `from` (which must occur) replaced by `to`. */
static const char *edit(struct fx *f, const char *base, const char *from, const char *to)
{
	const char *at = strstr(base, from);

	assert_non_null(at);
	assert_true(strlen(base) - strlen(from) + strlen(to) < sizeof(f->text));
	snprintf(f->text, sizeof(f->text), "%.*s%s%s", (int)(at - base), base, to,
	         at + strlen(from));
	return f->text;
}

static int load_as(struct fx *f, const char *text, int check_owner, uid_t owner)
{
	char conf[8192];

	subst(f, text, conf, sizeof(conf));
	write_file(f->conf, conf, strlen(conf), 0600);
	memset(f->err, 'x', sizeof(f->err));
	f->err[sizeof(f->err) - 1] = '\0';
	return config_load(&f->cfg, f->conf, check_owner, owner, f->err, sizeof(f->err));
}

static int load(struct fx *f, const char *text, int check_owner)
{
	return load_as(f, text, check_owner, getuid());
}

static void assert_empty(const struct th_config *cfg)
{
	assert_null(cfg->file);
	assert_null(cfg->sites);
	assert_int_equal(cfg->nsites, 0);
	assert_int_equal(cfg->nlisten, 0);
	assert_null(cfg->user);
}

static void assert_err(struct fx *f, int rc, const char *expected)
{
	char want[1024];

	subst(f, expected, want, sizeof(want));
	assert_int_equal(rc, -1);
	assert_string_equal(f->err, want);
	assert_null(strstr(f->err, SECRET));
	assert_empty(&f->cfg);
}

static void expect_error(struct fx *f, const char *text, const char *expected)
{
	assert_err(f, load(f, text, 1), expected);
}

static void expect_ok(struct fx *f, const char *text, int check_owner)
{
	int rc = load(f, text, check_owner);

	if (rc != 0)
		fail_msg("unexpected error: %s", f->err);
	config_free(&f->cfg);
	assert_empty(&f->cfg);
}

/* "must be owned by uid N ..." with the uid of this run. */
static const char *owner_msg(char *out, size_t outsz, const char *prefix, const char *rule)
{
	snprintf(out, outsz, "%s must be owned by uid %lu and %s", prefix, (unsigned long)getuid(),
	         rule);
	return out;
}

#define PRIVATE   "not accessible by group or others"
#define CONF_RULE "not writable by group or readable/writable by others"

static const char full_conf[] = "# a comment\n"                                /* 1 */
                                "[server]\n"                                   /* 2 */
                                "listen = 127.0.0.1:8443\n"                    /* 3 */
                                "listen = [::1]:0\n"                           /* 4 */
                                "  certificate = @D/cert.pem ; c\n"            /* 5 */
                                "key: @D/key.pem\n"                            /* 6 */
                                "user = th-recv\n"                             /* 7 */
                                "chroot = /var/empty\n"                        /* 8 */
                                "state-dir = /var/lib/th\n"                    /* 9 */
                                "handshake-timeout = 5\n"                      /* 10 */
                                "head-timeout = 6\n"                           /* 11 */
                                "request-timeout = 120\n"                      /* 12 */
                                "idle-timeout = 45\n"                          /* 13 */
                                "max-connections = 1000000\n"                  /* 14 */
                                "\n"                                           /* 15 */
                                "  [site blog] ; first\n"                      /* 16 */
                                "path = /hooks/blog\n"                         /* 17 */
                                "provider = github\n"                          /* 18 */
                                "secret-file = @D/secret\n"                    /* 19 */
                                "branch = release/v1\n"                        /* 20 */
                                "remote = git@example.org:me/blog.git\n"       /* 21 */
                                "checkout = /srv/src/blog\n"                   /* 22 */
                                "build = bundle exec 'jekyll build' --trace\n" /* 23 */
                                "output = .\n"                                 /* 24 */
                                "target = /srv/www/blog\n"                     /* 25 */
                                "user = blog\n"                                /* 26 */
                                "timeout = 86400\n"                            /* 27 */
                                "max-body = 1073741824\n"                      /* 28 */
                                "; another comment\n"                          /* 29 */
                                "[site docs.v2_x-y]\n"                         /* 30 */
                                "\tpath = /hooks/docs\n"                       /* 31 */
                                "secret-file = @D/secret2\n"                   /* 32 */
                                "branch = main\n"                              /* 33 */
                                "remote = /srv/git/docs.git\n"                 /* 34 */
                                "checkout = /srv/src/docs\n"                   /* 35 */
                                "build = make\n"                               /* 36 */
                                "output = public/html\n"                       /* 37 */
                                "target = /srv/www/docs\n"                     /* 38 */
                                "user = docs\n";                               /* 39 */

static void check_blog(const struct fx *f, const struct th_site *s)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/secret", f->dir);
	assert_string_equal(s->name, "blog");
	assert_int_equal(s->line, 16);
	assert_string_equal(s->path, "/hooks/blog");
	assert_int_equal(s->provider, TH_PROVIDER_GITHUB);
	assert_string_equal(s->secret_file, path);
	assert_int_equal(s->secret_len, strlen(SECRET));
	assert_memory_equal(s->secret, SECRET, strlen(SECRET));
	assert_string_equal(s->branch, "release/v1");
	assert_string_equal(s->remote, "git@example.org:me/blog.git");
	assert_string_equal(s->checkout, "/srv/src/blog");
	assert_string_equal(s->build[0], "bundle");
	assert_string_equal(s->build[1], "exec");
	assert_string_equal(s->build[2], "jekyll build");
	assert_string_equal(s->build[3], "--trace");
	assert_null(s->build[4]);
	assert_string_equal(s->output, ".");
	assert_string_equal(s->target, "/srv/www/blog");
	assert_string_equal(s->user, "blog");
	assert_int_equal(s->timeout, 86400);
	assert_int_equal(s->max_body, 1073741824);
}

static void check_docs(const struct th_site *s)
{
	assert_string_equal(s->name, "docs.v2_x-y");
	assert_int_equal(s->line, 30);
	assert_string_equal(s->path, "/hooks/docs");
	assert_int_equal(s->secret_len, 5);
	assert_memory_equal(s->secret, "other", 5);
	assert_string_equal(s->branch, "main");
	assert_string_equal(s->remote, "/srv/git/docs.git");
	assert_string_equal(s->checkout, "/srv/src/docs");
	assert_string_equal(s->build[0], "make");
	assert_null(s->build[1]);
	assert_string_equal(s->output, "public/html");
	assert_string_equal(s->target, "/srv/www/docs");
	assert_string_equal(s->user, "docs");
	assert_int_equal(s->timeout, 900);
	assert_int_equal(s->max_body, 26214400);
}

static void test_full_config(void **state)
{
	struct fx *f = *state;
	const struct th_config *c = &f->cfg;
	char path[256];

	put(f, "secret2", "other", 5, 0600);
	assert_int_equal(load(f, full_conf, 1), 0);
	assert_string_equal(c->file, f->conf);
	assert_int_equal(c->nlisten, 2);
	assert_string_equal(c->listen[0], "127.0.0.1:8443");
	assert_string_equal(c->listen[1], "[::1]:0");
	snprintf(path, sizeof(path), "%s/cert.pem", f->dir);
	assert_string_equal(c->certificate, path);
	snprintf(path, sizeof(path), "%s/key.pem", f->dir);
	assert_string_equal(c->key, path);
	assert_string_equal(c->user, "th-recv");
	assert_string_equal(c->chroot, "/var/empty");
	assert_string_equal(c->state_dir, "/var/lib/th");
	assert_int_equal(c->handshake_timeout, 5);
	assert_int_equal(c->head_timeout, 6);
	assert_int_equal(c->request_timeout, 120);
	assert_int_equal(c->idle_timeout, 45);
	assert_int_equal(c->max_connections, 1000000);
	assert_int_equal(c->nsites, 2);
	check_blog(f, &c->sites[0]);
	check_docs(&c->sites[1]);
}

static void test_defaults(void **state)
{
	struct fx *f = *state;
	const struct th_config *c = &f->cfg;

	assert_int_equal(load(f, BASE, 1), 0);
	assert_int_equal(c->nlisten, 1);
	assert_string_equal(c->user, "nobody");
	assert_string_equal(c->chroot, "/var/lib/tailhook/empty");
	assert_string_equal(c->state_dir, "/var/lib/tailhook");
	assert_int_equal(c->handshake_timeout, 10);
	assert_int_equal(c->head_timeout, 10);
	assert_int_equal(c->request_timeout, 60);
	assert_int_equal(c->idle_timeout, 30);
	assert_int_equal(c->max_connections, 1024);
	assert_int_equal(c->nsites, 1);
	assert_int_equal(c->sites[0].line, 5);
	assert_int_equal(c->sites[0].provider, TH_PROVIDER_GITHUB);
	assert_int_equal(c->sites[0].timeout, 900);
	assert_int_equal(c->sites[0].max_body, 26214400);
}

static void test_many_sites_keep_file_order(void **state)
{
	struct fx *f = *state;
	static char big[65536];
	char path[256];
	size_t i, o;

	o = (size_t)snprintf(big, sizeof(big), "%s", SERVER);
	for (i = 0; i < 40; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o,
		                      "[site s%zu]\npath = /h/%zu\nsecret-file = @D/secret\n"
		                      "branch = main\nremote = r\ncheckout = /c\nbuild = b\n"
		                      "output = o\ntarget = /t\nuser = u\n",
		                      i, i);
	assert_true(o < sizeof(big));
	assert_int_equal(load(f, big, 1), 0);
	assert_int_equal(f->cfg.nsites, 40);
	for (i = 0; i < 40; i++) {
		snprintf(path, sizeof(path), "/h/%zu", i);
		assert_string_equal(f->cfg.sites[i].path, path);
		assert_int_equal(f->cfg.sites[i].line, 5 + 10 * (int)i);
	}
}

static void test_unknown_key(void **state)
{
	struct fx *f = *state;

	expect_error(f, BASE "colour = blue\n",
	             "@D/th.conf:15: unknown key 'colour' in [site blog]");
	expect_error(f, edit(f, BASE, "key =", "tls-key ="),
	             "@D/th.conf:4: unknown key 'tls-key' in [server]");
}

static void test_unknown_section(void **state)
{
	struct fx *f = *state;

	expect_error(f, BASE "[client]\nx = 1\n", "@D/th.conf:15: unknown section [client]");
	expect_error(f, BASE "[Server]\n", "@D/th.conf:15: unknown section [Server]");
	expect_error(f, BASE "[server\n", "@D/th.conf:15: section header without ']'");
	expect_error(f, BASE "[site x] y\n", "@D/th.conf:15: text after section header");
}

static void test_key_outside_section(void **state)
{
	struct fx *f = *state;

	expect_error(f, "\ndebug = 1\n" BASE, "@D/th.conf:2: key 'debug' outside of any section");
}

static void test_bad_numbers(void **state)
{
	static const char *const bad[] = {"1x",    "-5",  "+5",   "0",
	                                  "86401", "1 2", "0x10", "99999999999999999999999999"};
	struct fx *f = *state;
	char text[1024], want[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%stimeout = %s\n", BASE, bad[i]);
		snprintf(want, sizeof(want),
		         "@D/th.conf:15: timeout '%s': must be a whole number from 1 to 86400",
		         bad[i]);
		expect_error(f, text, want);
	}
	expect_error(f, BASE "max-body = 25M\n",
	             "@D/th.conf:15: max-body '25M': must be a whole number from 1 to 1073741824");
	expect_error(f, BASE "max-body = 1073741825\n",
	             "@D/th.conf:15: max-body '1073741825': must be a whole number from 1 to "
	             "1073741824");
	expect_error(f, edit(f, BASE, "[site", "max-connections = 1000001\n[site"),
	             "@D/th.conf:5: max-connections '1000001': must be a whole number from 1 to "
	             "1000000");
	expect_error(f, edit(f, BASE, "[site", "idle-timeout = 0\n[site"),
	             "@D/th.conf:5: idle-timeout '0': must be a whole number from 1 to 86400");
	expect_error(f, BASE "timeout =\n",
	             "@D/th.conf:15: empty value for 'timeout' in [site blog]");
	expect_ok(f, BASE "timeout = 0001\n", 1);
}

static void test_missing_required_at_header(void **state)
{
	struct fx *f = *state;

	expect_error(f, edit(f, BASE, "build = jekyll build\n", ""),
	             "@D/th.conf:5: missing required key 'build' in [site blog]");
	expect_error(f, edit(f, BASE, "user = blog\n", ""),
	             "@D/th.conf:5: missing required key 'user' in [site blog]");
	expect_error(f, edit(f, BASE, "certificate = @D/cert.pem\n", ""),
	             "@D/th.conf:1: missing required key 'certificate' in [server]");
	/* listen is optional: systemd may pass the sockets (socket activation). */
	expect_ok(f, edit(f, BASE, "listen = 127.0.0.1:8443\n", ""), 1);
	expect_error(f, edit(f, BASE "[site", "path = /hooks/blog\n", ""),
	             "@D/th.conf:5: missing required key 'path' in [site blog]");
	/* A later site does not hide what the first one lacks. */
	expect_error(f, edit(f, BASE "[site b]\n" SITE_BODY, "path = /hooks/blog\n", ""),
	             "@D/th.conf:5: missing required key 'path' in [site blog]");
}

static void test_empty_sections(void **state)
{
	struct fx *f = *state;

	expect_error(f, SERVER "[site blog]\n", "@D/th.conf:5: empty section [site blog]");
	expect_error(f, SERVER "[site a]\n\n; nothing\n[site blog]\n" SITE_BODY,
	             "@D/th.conf:5: empty section [site a]");
	expect_error(f, SERVER, "@D/th.conf:4: no [site NAME] section");
	expect_error(f, "[site blog]\n" SITE_BODY, "@D/th.conf:10: missing [server] section");
	expect_error(f, "", "@D/th.conf:1: missing [server] section");
	expect_error(f, BASE "[server]\n",
	             "@D/th.conf:15: duplicate [server] section (first at line 1)");
}

static void test_site_names(void **state)
{
	struct fx *f = *state;

	expect_error(
	    f, edit(f, BASE, "[site blog]", "[site  blog]"),
	    "@D/th.conf:5: invalid site name ' blog': expected [site NAME], NAME of A-Z a-z "
	    "0-9 . _ -");
	expect_error(f, edit(f, BASE, "[site blog]", "[site b/x]"),
	             "@D/th.conf:5: invalid site name 'b/x': expected [site NAME], NAME of A-Z a-z "
	             "0-9 . _ -");
	expect_error(
	    f, edit(f, BASE, "[site blog]", "[site]"),
	    "@D/th.conf:5: invalid site name '': expected [site NAME], NAME of A-Z a-z 0-9 "
	    ". _ -");
	expect_error(
	    f, edit(f, BASE, "[site blog]", "[site\tblog]"),
	    "@D/th.conf:5: invalid site name '\\x09blog': expected [site NAME], NAME of A-Z "
	    "a-z 0-9 . _ -");
	expect_error(f, edit(f, BASE, "[site blog]", "[site ..]"),
	             "@D/th.conf:5: invalid site name '..': expected [site NAME], NAME of A-Z a-z "
	             "0-9 . _ -");
}

static void test_duplicate_site(void **state)
{
	struct fx *f = *state;

	expect_error(f, BASE "\n[site blog]\n" SITE_BODY,
	             "@D/th.conf:16: duplicate [site blog] (first at line 5)");
}

static void test_duplicate_path(void **state)
{
	struct fx *f = *state;

	expect_error(f, BASE "[site docs]\n" SITE_BODY,
	             "@D/th.conf:16: path '/hooks/blog': already used by [site blog]");
}

static void test_duplicate_key(void **state)
{
	struct fx *f = *state;

	expect_error(f, BASE "branch = dev\n",
	             "@D/th.conf:15: duplicate key 'branch' in [site blog]");
	expect_error(f, edit(f, BASE, "[site", "user = a\nuser = b\n[site"),
	             "@D/th.conf:6: duplicate key 'user' in [server]");
}

static void test_hook_path(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {"hooks", "/a b", "/a?b", "/a#b"};
	char want[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[64];
		snprintf(line, sizeof(line), "path = %s\n", bad[i]);
		snprintf(want, sizeof(want),
		         "@D/th.conf:6: path '%s': must start with '/' and contain no blanks, '?' "
		         "or '#'",
		         bad[i]);
		expect_error(f, edit(f, BASE, "path = /hooks/blog\n", line), want);
	}
}

static void test_relative_checkout(void **state)
{
	struct fx *f = *state;

	expect_error(f, edit(f, BASE, "checkout = /srv/src/blog", "checkout = srv/blog"),
	             "@D/th.conf:10: checkout 'srv/blog': must be an absolute path");
	expect_error(f, edit(f, BASE, "target = /srv/www/blog", "target = www"),
	             "@D/th.conf:13: target 'www': must be an absolute path");
	expect_error(f, edit(f, BASE, "target = /srv/www/blog", "target = //"),
	             "@D/th.conf:13: target '//': must not be the root directory");
	expect_error(f, edit(f, BASE, "target = /srv/www/blog", "target = /srv/../etc"),
	             "@D/th.conf:13: target '/srv/../etc': must not contain '..'");
	expect_error(f, edit(f, BASE, "[site", "state-dir = var\n[site"),
	             "@D/th.conf:5: state-dir 'var': must be an absolute path");
}

static void test_output(void **state)
{
	static const char *const bad[] = {"..", "../www", "a/../../b", "a/..", "/srv/www"};
	static const char *const good[] = {".", "a/..b", "..b/c", "./_site"};
	struct fx *f = *state;
	char line[64], want[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "output = %s\n", bad[i]);
		snprintf(want, sizeof(want),
		         "@D/th.conf:12: output '%s': must be a relative path without '..'",
		         bad[i]);
		expect_error(f, edit(f, BASE, "output = _site\n", line), want);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(line, sizeof(line), "output = %s\n", good[i]);
		expect_ok(f, edit(f, BASE, "output = _site\n", line), 1);
	}
}

/* 107 bytes of path after "unix:/" make 108 with the slash: one too many. */
#define LONG_108                                                                                   \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aa"                                                                                       \
	"aaaaaaaaaaaaaaaaa"

static void test_listen(void **state)
{
	static const char *const bad[] = {"localhost:80",
	                                  "127.0.0.1",
	                                  "127.0.0.1:65536",
	                                  "127.0.0.1:",
	                                  "[::1]80",
	                                  "::1:80",
	                                  "1.2.3:80",
	                                  "[127.0.0.1]:80",
	                                  "127.0.0.1:-1",
	                                  "127.0.0.1:0080000",
	                                  "*:443",
	                                  "[::1]:",
	                                  "[fe80::1%eth0]:1",
	                                  "01.2.3.4:80",
	                                  "[::1]:8a",
	                                  "unix:",
	                                  "unix:run/th.sock",
	                                  "unix:/run/../th.sock",
	                                  "unix:/run/th/",
	                                  "unix:/" LONG_108};
	static const char *const good[] = {"0.0.0.0:0", "[::]:65535", "10.0.0.1:00443",
	                                   "unix:/run/tailhook/http.sock"};
	struct fx *f = *state;
	char line[256], want[512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "listen = %s\n", bad[i]);
		snprintf(want, sizeof(want),
		         "@D/th.conf:2: listen '%s': expected IPV4:PORT, [IPV6]:PORT (PORT from 0 "
		         "to 65535) or unix:/ABSOLUTE/PATH (at most 107 bytes)",
		         bad[i]);
		expect_error(f, edit(f, BASE, "listen = 127.0.0.1:8443\n", line), want);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(line, sizeof(line), "listen = %s\n", good[i]);
		expect_ok(f, edit(f, BASE, "listen = 127.0.0.1:8443\n", line), 1);
	}
}

static void test_publish_keys(void **state)
{
	struct fx *f = *state;

	expect_ok(f, BASE "publish = symlink\nkeep = 1\nreleases = /srv/releases/blog\n", 1);
	expect_ok(f, BASE "publish = rsync\n", 1);
	assert_int_equal(load(f, BASE, 1), 0);
	assert_int_equal(f->cfg.sites[0].publish, TH_PUBLISH_SYMLINK);
	assert_int_equal(f->cfg.sites[0].keep, 3);
	assert_null(f->cfg.sites[0].releases);
	config_free(&f->cfg);
	expect_error(f, BASE "publish = copy\n",
	             "@D/th.conf:15: publish 'copy': must be symlink or rsync");
	expect_error(f, BASE "keep = 0\n",
	             "@D/th.conf:15: keep '0': must be a whole number from 1 to 100");
	expect_error(f, BASE "releases = relative\n",
	             "@D/th.conf:15: releases 'relative': must be an absolute path");
	expect_error(f, BASE "releases = /srv/../etc\n",
	             "@D/th.conf:15: releases '/srv/../etc': must not contain '..'");
}

static void test_too_many_listen(void **state)
{
	struct fx *f = *state;
	char lines[1024] = "";
	int i;

	for (i = 0; i < TH_MAX_LISTEN; i++)
		strcat(lines, "listen = 127.0.0.1:0\n");
	expect_ok(f, edit(f, BASE, "listen = 127.0.0.1:8443\n", lines), 1);
	strcat(lines, "listen = 127.0.0.1:0\n");
	expect_error(f, edit(f, BASE, "listen = 127.0.0.1:8443\n", lines),
	             "@D/th.conf:18: too many listen addresses (at most 16)");
}

static void test_empty_secret(void **state)
{
	struct fx *f = *state;

	put_secret(f, "", 0);
	expect_error(f, BASE, "@D/th.conf:7: secret-file @D/secret: empty");
	put_secret(f, "\n", 1);
	expect_error(f, BASE, "@D/th.conf:7: secret-file @D/secret: empty");
	put_secret(f, "\r\n", 2);
	expect_error(f, BASE, "@D/th.conf:7: secret-file @D/secret: empty");
}

static void check_secret(struct fx *f, const char *file, size_t flen, const char *want, size_t wlen)
{
	put_secret(f, file, flen);
	assert_int_equal(load(f, BASE, 1), 0);
	assert_int_equal(f->cfg.sites[0].secret_len, wlen);
	assert_memory_equal(f->cfg.sites[0].secret, want, wlen);
	config_free(&f->cfg);
}

static void test_secret_newline(void **state)
{
	struct fx *f = *state;

	check_secret(f, "abc\n", 4, "abc", 3);
	check_secret(f, "abc\n\n", 5, "abc\n", 4);
	check_secret(f, "abc\r\n", 5, "abc", 3);
	check_secret(f, "abc", 3, "abc", 3);
	check_secret(f, "abc\r", 4, "abc\r", 4);
	check_secret(f, "a\0b\n", 4, "a\0b", 3);
}

static void test_secret_size(void **state)
{
	struct fx *f = *state;
	char *big = malloc(TH_SECRET_MAX + 2);

	assert_non_null(big);
	memset(big, 'k', TH_SECRET_MAX + 1);
	big[TH_SECRET_MAX] = '\n';
	check_secret(f, big, TH_SECRET_MAX + 1, big, TH_SECRET_MAX);
	big[TH_SECRET_MAX] = 'k';
	put_secret(f, big, TH_SECRET_MAX + 1);
	expect_error(f, BASE, "@D/th.conf:7: secret-file @D/secret: larger than 4096 bytes");
	free(big);
}

static void test_secret_mode(void **state)
{
	struct fx *f = *state;
	char want[256];

	put(f, "secret", SECRET, strlen(SECRET), 0644);
	expect_ok(f, BASE, 0);
	expect_error(
	    f, BASE,
	    owner_msg(want, sizeof(want), "@D/th.conf:7: secret-file @D/secret:", PRIVATE));
	put(f, "secret", SECRET, strlen(SECRET), 0640);
	expect_error(
	    f, BASE,
	    owner_msg(want, sizeof(want), "@D/th.conf:7: secret-file @D/secret:", PRIVATE));
	put(f, "secret", SECRET, strlen(SECRET), 0400);
	expect_ok(f, BASE, 1);
}

static void test_secret_missing(void **state)
{
	struct fx *f = *state;

	expect_error(f, edit(f, BASE, "@D/secret", "@D/nope"),
	             "@D/th.conf:7: secret-file @D/nope: No such file or directory");
	expect_error(f, edit(f, BASE, "@D/secret", "@D"),
	             "@D/th.conf:7: secret-file @D: not a regular file");
	expect_error(f, edit(f, BASE, "@D/secret", "secret"),
	             "@D/th.conf:7: secret-file 'secret': must be an absolute path");
}

static void test_key_and_certificate(void **state)
{
	struct fx *f = *state;
	char want[256];

	put(f, "key.pem", "key\n", 4, 0604);
	expect_ok(f, BASE, 0);
	expect_error(f, BASE,
	             owner_msg(want, sizeof(want), "@D/th.conf:4: key @D/key.pem:", PRIVATE));
	put(f, "key.pem", "key\n", 4, 0600);
	expect_error(f, edit(f, BASE, "@D/cert.pem", "@D/nope.pem"),
	             "@D/th.conf:3: certificate @D/nope.pem: No such file or directory");
	expect_error(f, edit(f, BASE, "@D/cert.pem", "@D"),
	             "@D/th.conf:3: certificate @D: not a regular file");
	expect_error(f, edit(f, BASE, "@D/key.pem", "@D/nope.pem"),
	             "@D/th.conf:4: key @D/nope.pem: No such file or directory");
	/* The certificate is public: its mode is not checked. */
	put(f, "cert.pem", "cert\n", 5, 0644);
	expect_ok(f, BASE, 1);
}

static void test_config_mode(void **state)
{
	struct fx *f = *state;
	char want[256];

	assert_int_equal(load(f, BASE, 1), 0);
	config_free(&f->cfg);
	owner_msg(want, sizeof(want), "@D/th.conf:", CONF_RULE);
	assert_int_equal(chmod(f->conf, 0644), 0);
	assert_err(f, config_load(&f->cfg, f->conf, 1, getuid(), f->err, sizeof(f->err)), want);
	assert_int_equal(chmod(f->conf, 0620), 0);
	assert_err(f, config_load(&f->cfg, f->conf, 1, getuid(), f->err, sizeof(f->err)), want);
	/* Group read is fine: an admin group may read the config. */
	assert_int_equal(chmod(f->conf, 0640), 0);
	assert_int_equal(config_load(&f->cfg, f->conf, 1, getuid(), f->err, sizeof(f->err)), 0);
	config_free(&f->cfg);
	assert_int_equal(chmod(f->conf, 0644), 0);
	assert_int_equal(config_load(&f->cfg, f->conf, 0, getuid(), f->err, sizeof(f->err)), 0);
	config_free(&f->cfg);
}

static void test_config_owner(void **state)
{
	struct fx *f = *state;
	char want[256];

	snprintf(want, sizeof(want), "@D/th.conf: must be owned by uid %lu and %s",
	         (unsigned long)getuid() + 1, CONF_RULE);
	assert_err(f, load_as(f, BASE, 1, getuid() + 1), want);
}

static void test_config_missing(void **state)
{
	struct fx *f = *state;
	char want[256];

	snprintf(f->conf, sizeof(f->conf), "%s/absent.conf", f->dir);
	assert_int_equal(config_load(&f->cfg, f->conf, 1, getuid(), f->err, sizeof(f->err)), -1);
	snprintf(want, sizeof(want), "%s/absent.conf: No such file or directory", f->dir);
	assert_string_equal(f->err, want);
	assert_empty(&f->cfg);
	snprintf(f->conf, sizeof(f->conf), "%s", f->dir);
	assert_int_equal(config_load(&f->cfg, f->conf, 0, getuid(), f->err, sizeof(f->err)), -1);
	snprintf(want, sizeof(want), "%s: not a regular file", f->dir);
	assert_string_equal(f->err, want);
}

static void test_branch(void **state)
{
	static const char *const bad[] = {"my branch", "-x", "a..b", "a~1", "a:b",   "x.lock",
	                                  "a/",        "/a", "a//b", "@",   "a@{1}", "a\tb"};
	struct fx *f = *state;
	char line[64], want[256];
	size_t i;

	expect_error(f, edit(f, BASE, "branch = main", "branch = refs/heads/main"),
	             "@D/th.conf:8: branch 'refs/heads/main': must be a branch name without "
	             "'refs/'");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "branch = %s", bad[i]);
		snprintf(want, sizeof(want), "@D/th.conf:8: branch '%s': not a valid branch name",
		         strcmp(bad[i], "a\tb") == 0 ? "a\\x09b" : bad[i]);
		expect_error(f, edit(f, BASE, "branch = main", line), want);
	}
	expect_ok(f, edit(f, BASE, "branch = main", "branch = release/v1.2"), 1);
}

static void test_build_and_misc(void **state)
{
	struct fx *f = *state;

	expect_error(f, edit(f, BASE, "build = jekyll build", "build = sh -c 'make"),
	             "@D/th.conf:11: build: unbalanced quote");
	expect_error(f, edit(f, BASE, "build = jekyll build", "build = make \\"),
	             "@D/th.conf:11: build: trailing backslash");
	expect_error(
	    f, BASE "provider = gitbucket\n",
	    "@D/th.conf:15: unknown provider 'gitbucket': expected github, gitea, forgejo, "
	    "gitlab, bitbucket-cloud or bitbucket-server");
	expect_error(f, edit(f, BASE, "remote = https", "remote = --upload-pack=x https"),
	             "@D/th.conf:9: remote '--upload-pack=x https://example.org/blog.git': must "
	             "not start with '-'");
	expect_error(f, edit(f, BASE, "user = blog", "user = b:g"),
	             "@D/th.conf:14: user 'b:g': not a valid user name");
	expect_error(f, BASE "timeout = 1\x01\n",
	             "@D/th.conf:15: control character in value of 'timeout'");
}

static void test_providers(void **state)
{
	static const char *const names[] = {"github", "gitea",           "forgejo",
	                                    "gitlab", "bitbucket-cloud", "bitbucket-server"};
	struct fx *f = *state;
	char text[4096];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(text, sizeof(text), "%sprovider = %s\n", BASE, names[i]);
		assert_int_equal(load(f, text, 1), 0);
		assert_int_equal(f->cfg.sites[0].provider, (int)i);
		assert_string_equal(th_provider_name(f->cfg.sites[0].provider), names[i]);
		config_free(&f->cfg);
	}
	/* the default */
	assert_int_equal(load(f, BASE, 1), 0);
	assert_int_equal(f->cfg.sites[0].provider, TH_PROVIDER_GITHUB);
	assert_null(f->cfg.sites[0].secret2);
	assert_int_equal(f->cfg.sites[0].legacy_sha1, 0);
	config_free(&f->cfg);
	expect_error(f, BASE "provider = GitHub\n",
	             "@D/th.conf:15: unknown provider 'GitHub': expected github, gitea, forgejo, "
	             "gitlab, bitbucket-cloud or bitbucket-server");
}

static void test_secret_rotation(void **state)
{
	struct fx *f = *state;
	char want[256];

	put(f, "next", "n3xt\n", 5, 0600);
	put(f, "third", "3\n", 2, 0600);
	assert_int_equal(load(f, BASE "secret-file = @D/next\n", 1), 0);
	assert_int_equal(f->cfg.sites[0].secret_len, strlen(SECRET));
	assert_memory_equal(f->cfg.sites[0].secret, SECRET, strlen(SECRET));
	assert_int_equal(f->cfg.sites[0].secret2_len, 4);
	assert_memory_equal(f->cfg.sites[0].secret2, "n3xt", 4);
	assert_non_null(strstr(f->cfg.sites[0].secret_file2, "/next"));
	config_free(&f->cfg);
	expect_error(f, BASE "secret-file = @D/next\nsecret-file = @D/third\n",
	             "@D/th.conf:16: secret-file given more than twice (two allow rotation)");
	expect_error(f, BASE "secret-file = @D/secret\n",
	             "@D/th.conf:15: secret-file @D/secret: given twice");
	put(f, "next", "\n", 1, 0600);
	expect_error(f, BASE "secret-file = @D/next\n",
	             "@D/th.conf:15: secret-file @D/next: empty");
	put(f, "next", "n3xt\n", 5, 0644);
	expect_error(f, BASE "secret-file = @D/next\n",
	             owner_msg(want, sizeof(want), "@D/th.conf:15: secret-file @D/next:", PRIVATE));
}

static void test_legacy_sha1(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, BASE "legacy-sha1 = yes\n", 1), 0);
	assert_int_equal(f->cfg.sites[0].legacy_sha1, 1);
	config_free(&f->cfg);
	assert_int_equal(load(f, BASE "provider = github\nlegacy-sha1 = no\n", 1), 0);
	assert_int_equal(f->cfg.sites[0].legacy_sha1, 0);
	config_free(&f->cfg);
	expect_error(f, BASE "legacy-sha1 = true\n",
	             "@D/th.conf:15: legacy-sha1 'true': must be yes or no");
	expect_error(f, BASE "provider = gitea\nlegacy-sha1 = yes\n",
	             "@D/th.conf:16: legacy-sha1 is only for provider github, not gitea");
	expect_error(f, BASE "legacy-sha1 = no\nprovider = bitbucket-cloud\n",
	             "@D/th.conf:16: provider bitbucket-cloud: legacy-sha1 (line 15) is only for "
	             "github");
	/* a later site starts afresh */
	expect_ok(f,
	          BASE "legacy-sha1 = yes\n[site b]\nprovider = gitlab\npath = /b\n"
	               "secret-file = @D/secret\nbranch = main\nremote = /r\ncheckout = /c\n"
	               "build = make\noutput = .\ntarget = /t\nuser = b\n",
	          1);
}

static void test_gitlab_token(void **state)
{
	struct fx *f = *state;

	put_secret(f, "tok en\n", 7);
	expect_ok(f, BASE "provider = gitlab\n", 1);
	put_secret(f, "token \n", 7);
	expect_error(
	    f, BASE "provider = gitlab\n",
	    "@D/th.conf:5: secret-file @D/secret: a gitlab token must be printable, without "
	    "blanks at its ends");
	put_secret(f, "to\x01ken\n", 7);
	expect_error(
	    f, BASE "provider = gitlab\n",
	    "@D/th.conf:5: secret-file @D/secret: a gitlab token must be printable, without "
	    "blanks at its ends");
	/* an HMAC secret may hold any bytes */
	expect_ok(f, BASE "provider = gitea\n", 1);
}

static void test_syntax(void **state)
{
	struct fx *f = *state;
	char text[1024];
	char pad[256];

	expect_error(
	    f, BASE "just words\n",
	    "@D/th.conf:15: syntax error: expected 'key = value', '[section]' or a comment");
	expect_error(
	    f, BASE "a ; = b\n",
	    "@D/th.conf:15: syntax error: expected 'key = value', '[section]' or a comment");
	/* 197 characters fit in inih's line buffer, 198 do not. */
	memset(pad, 'x', sizeof(pad));
	snprintf(text, sizeof(text), "%s# %.*s\n", BASE, 195, pad);
	expect_ok(f, text, 1);
	snprintf(text, sizeof(text), "%s# %.*s\n", BASE, 196, pad);
	expect_error(f, text, "@D/th.conf:15: line too long (at most 197 characters)");
	/* Indented lines are not continuations of the previous value. */
	expect_error(f, BASE "  more words = x\n",
	             "@D/th.conf:15: unknown key 'more words' in [site blog]");
	expect_ok(f, "\xef\xbb\xbf" BASE "\r\n", 1);
}

static void test_free_zeroed(void **state)
{
	struct th_config cfg;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	config_free(&cfg);
	assert_empty(&cfg);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_full_config),
	    T(test_defaults),
	    T(test_many_sites_keep_file_order),
	    T(test_unknown_key),
	    T(test_unknown_section),
	    T(test_key_outside_section),
	    T(test_bad_numbers),
	    T(test_missing_required_at_header),
	    T(test_empty_sections),
	    T(test_site_names),
	    T(test_duplicate_site),
	    T(test_duplicate_path),
	    T(test_duplicate_key),
	    T(test_hook_path),
	    T(test_relative_checkout),
	    T(test_output),
	    T(test_listen),
	    T(test_publish_keys),
	    T(test_too_many_listen),
	    T(test_empty_secret),
	    T(test_secret_newline),
	    T(test_secret_size),
	    T(test_secret_mode),
	    T(test_secret_missing),
	    T(test_key_and_certificate),
	    T(test_config_mode),
	    T(test_config_owner),
	    T(test_config_missing),
	    T(test_branch),
	    T(test_build_and_misc),
	    T(test_providers),
	    T(test_secret_rotation),
	    T(test_legacy_sha1),
	    T(test_gitlab_token),
	    T(test_syntax),
	    cmocka_unit_test(test_free_zeroed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
