/*
 * fuzz_config.c - the deployer's config loader on arbitrary files.
 *
 * Input: the config file's bytes.  They are written to a temp file that
 * is created once per process and rewritten for each input, then loaded
 * with config_load(check_owner = 0) and freed; a config that loads is
 * loaded again with the owner checks on, for our uid (must load) and for
 * another (must not).  Corpus configs name FUZZ_SECRET_PATH for
 * secret-file, certificate and key: the harness creates that file (mode
 * 0600, a short secret) on first use, so that valid configs load all the
 * way, and next to it FUZZ_SECRET_PATH-empty, FUZZ_SECRET_PATH-big (one
 * byte over TH_SECRET_MAX), FUZZ_SECRET_PATH-crlf (ends in CR LF) and
 * FUZZ_SECRET_PATH-blank (blanks at its ends: no GitLab token).
 *
 * Checked: a failure leaves the config empty and writes exactly one line
 * starting with the file name; a success is fully validated (every field
 * config.h promises is there).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

static char conf_path[] = "/tmp/tailhook-fuzz-config-XXXXXX";
static int conf_fd = -1;

void fuzz_config_teardown(void)
{
	if (conf_fd < 0)
		return;
	close(conf_fd);
	unlink(conf_path);
	conf_fd = -1;
	memcpy(conf_path + strlen(conf_path) - 6, "XXXXXX", 6);
}

/*
 * Writes len bytes of `fill` (or of text) next to path and renames the file
 * into place: atomic, so that parallel fuzzers never see a half-written one.
 */
static void make_file(const char *path, const char *text, char fill, size_t len)
{
	char tmp[64];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s-tmpXXXXXX", path);
	fd = mkstemp(tmp);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(fchmod(fd, 0600) == 0);
	for (size_t i = 0; i < len; i++) {
		char c = text != NULL ? text[i] : fill;
		FUZZ_CHECK(write(fd, &c, 1) == 1);
	}
	close(fd);
	FUZZ_CHECK(rename(tmp, path) == 0);
}

static void setup(void)
{
	static const char secret[] = "fuzz-secret-0123456789\n";

	make_file(FUZZ_SECRET_PATH, secret, 0, sizeof(secret) - 1);
	make_file(FUZZ_SECRET_PATH "-empty", NULL, 0, 0);
	make_file(FUZZ_SECRET_PATH "-big", NULL, 's', TH_SECRET_MAX + 1);
	make_file(FUZZ_SECRET_PATH "-crlf", "crlf-secret\r\n", 0, 13);
	make_file(FUZZ_SECRET_PATH "-blank", " token with blanks \n", 0, 20);
	conf_fd = mkstemp(conf_path);
	FUZZ_CHECK(conf_fd >= 0);
	atexit(fuzz_config_teardown);
}

static void write_conf(const uint8_t *data, size_t size)
{
	size_t off = 0;

	FUZZ_CHECK(ftruncate(conf_fd, 0) == 0);
	while (off < size) {
		ssize_t n = pwrite(conf_fd, data + off, size - off, (off_t)off);
		FUZZ_CHECK(n > 0);
		off += (size_t)n;
	}
}

static void check_loaded(const struct th_config *c)
{
	/* listen is optional: systemd may pass the sockets instead */
	FUZZ_CHECK(c->nlisten <= TH_MAX_LISTEN);
	FUZZ_CHECK(c->certificate != NULL && c->key != NULL && c->user != NULL);
	FUZZ_CHECK(c->chroot != NULL && c->state_dir != NULL);
	FUZZ_CHECK(c->nsites >= 1 && c->nsites <= TH_MAX_SITES);
	for (size_t i = 0; i < c->nsites; i++) {
		const struct th_site *s = &c->sites[i];
		FUZZ_CHECK(s->name != NULL && s->path != NULL && s->path[0] == '/');
		FUZZ_CHECK(s->secret != NULL && s->secret_len > 0 &&
		           s->secret_len <= TH_SECRET_MAX);
		FUZZ_CHECK(s->branch != NULL && s->remote != NULL && s->user != NULL);
		FUZZ_CHECK(s->checkout != NULL && s->checkout[0] == '/');
		FUZZ_CHECK(s->target != NULL && s->target[0] == '/');
		FUZZ_CHECK(s->output != NULL && s->output[0] != '/');
		FUZZ_CHECK(s->build != NULL && s->build[0] != NULL);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(c->sites[j].path, s->path) != 0 &&
			           strcmp(c->sites[j].name, s->name) != 0);
	}
}

int fuzz_config_one(const uint8_t *data, size_t size)
{
	struct th_config cfg;
	char err[512];
	int rc;

	if (conf_fd < 0)
		setup();
	write_conf(data, size);
	memset(err, 'x', sizeof(err));
	rc = config_load(&cfg, conf_path, 0, 0, err, sizeof(err));
	if (rc == 0) {
		check_loaded(&cfg);
		config_free(&cfg);
		/*
		 * Every file here is ours and mode 0600, so the deployer's owner
		 * checks must pass for us and fail for anyone else.
		 */
		FUZZ_CHECK(config_load(&cfg, conf_path, 1, geteuid(), err, sizeof(err)) == 0);
		config_free(&cfg);
		FUZZ_CHECK(config_load(&cfg, conf_path, 1, geteuid() + 1, err, sizeof(err)) == -1);
		return 0;
	}
	FUZZ_CHECK(rc == -1);
	FUZZ_CHECK(cfg.nsites == 0 && cfg.sites == NULL && cfg.nlisten == 0 && cfg.file == NULL);
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	FUZZ_CHECK(strncmp(err, conf_path, strlen(conf_path)) == 0);
	FUZZ_CHECK(strchr(err, '\n') == NULL && strchr(err, '\r') == NULL);
	return 0;
}

#ifndef FUZZ_NO_MAIN
/* Setting up before the first input keeps its allocations out of leak checks. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_config_one(data, size);
}
#endif
