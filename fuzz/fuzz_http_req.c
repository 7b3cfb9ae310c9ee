/*
 * fuzz_http_req.c - the request state machine and the routing decisions,
 * driven the way receiver/conn.c drives them, minus the socket and TLS.
 *
 * Input: the split prefix of fuzz.h, then the decrypted byte stream of one
 * connection (one or several pipelined requests).  The flag bits choose
 * the setup: bits 3-5 the provider of the site at /hook (0 github, 1 gitea,
 * 2 forgejo, 3 gitlab, 4 bitbucket-cloud, 5 bitbucket-server, 6 github
 * with legacy-sha1 and a second secret, 7 gitea with a second secret; the
 * second secret is the one tests/cases/ sign with), bit 6 adds a github
 * site at /small/hook (max-body 1024) and moves /hook to release/v1.
 * Autosign: a signature header whose value is a placeholder of the right
 * shape -- "sha256=" or "" followed by 64 'x', or "sha1=" and 40 'x' --
 * gets the real HMAC of the body (with the secret of tests/cases/) written
 * over the x's before route_body runs, so that mutated bodies still pass
 * authentication and the fuzzer reaches the JSON and ref decisions behind
 * it (a Gitea form signs its decoded payload, so it stays unsigned).
 * A 202 is remembered as to_deployer.c would (dedupe_note), so a repeated
 * delivery in the same stream meets the redelivery check; the table is
 * emptied before and after each input.  The stream is fed to
 * http_req_feed in the chunks the prefix chooses; at HTTP_HEAD_DONE the
 * head goes to route_head and, if accepted, http_req_begin_body; at
 * HTTP_BODY_DONE to route_body, then http_req_reset for the next request
 * unless the connection would close.  Every documented invariant of
 * http_req.h and route.h is checked on the way, and a 202's message must
 * pass the deployer's own decoder.
 */
#include <bearssl.h>
#include <string.h>

#include "clock.h"
#include "dedupe.h"
#include "fuzz.h"
#include "http_req.h"
#include "msg.h"
#include "provider_id.h"
#include "route.h"

#define FLAG_PROVIDER_SHIFT 3
#define FLAG_TWO_SITES      0x40u

/* The secret of tests/cases/, so that their signed requests verify here too. */
static unsigned char secret[] = "case-secret-0123456789";
/* The other key during a rotation. */
static unsigned char old_secret[] = "rotated-out-secret";

/* The site at /hook for provider code p (see above). */
static void hook_site(struct th_setup_site *s, unsigned p, const char *branch)
{
	memset(s, 0, sizeof(*s));
	s->name = "blog";
	s->path = "/hook";
	s->branch = (char *)branch;
	s->max_body = 1048576;
	s->secret = secret;
	s->secret_len = sizeof(secret) - 1;
	s->provider = p < TH_PROVIDER_COUNT ? p : (p == 6 ? TH_PROVIDER_GITHUB : TH_PROVIDER_GITEA);
	if (p >= TH_PROVIDER_COUNT) {
		s->secret = old_secret;
		s->secret_len = sizeof(old_secret) - 1;
		s->secret2 = secret;
		s->secret2_len = sizeof(secret) - 1;
	}
	if (p == 6)
		s->flags = TH_SITE_LEGACY_SHA1;
}

static void make_setup(struct th_setup *setup, struct th_setup_site sites[2], unsigned flags)
{
	unsigned p = (flags >> FLAG_PROVIDER_SHIFT) & 7;

	memset(setup, 0, sizeof(*setup));
	setup->sites = sites;
	if (!(flags & FLAG_TWO_SITES)) {
		hook_site(&sites[0], p, "main");
		setup->nsites = 1;
		return;
	}
	hook_site(&sites[0], TH_PROVIDER_GITHUB, "main");
	sites[0].name = "small";
	sites[0].path = "/small/hook";
	sites[0].max_body = 1024;
	hook_site(&sites[1], p, "release/v1");
	sites[1].name = "docs";
	setup->nsites = 2;
}

static int all_x(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 'x')
			return 0;
	return 1;
}

/* Writes the hex HMAC of the body over the x's of a placeholder value. */
static void sign_into(char *hex, const br_hash_class *h, const struct http_req *r)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char mac[32];
	br_hmac_key_context kc;
	br_hmac_context hc;
	size_t n;

	br_hmac_key_init(&kc, h, secret, sizeof(secret) - 1);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, r->body, r->body_len);
	n = br_hmac_out(&hc, mac);
	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = digits[mac[i] >> 4];
		hex[2 * i + 1] = digits[mac[i] & 0xf];
	}
}

/* The headers live in r->head, which belongs to the harness's own request. */
static void autosign(struct http_req *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		char *v = r->head + (r->headers[i].value - r->head);
		size_t n = r->headers[i].value_len;

		if (n == 71 && memcmp(v, "sha256=", 7) == 0 && all_x(v + 7, 64))
			sign_into(v + 7, &br_sha256_vtable, r);
		else if (n == 64 && all_x(v, 64))
			sign_into(v, &br_sha256_vtable, r);
		else if (n == 45 && memcmp(v, "sha1=", 5) == 0 && all_x(v + 5, 40))
			sign_into(v + 5, &br_sha1_vtable, r);
	}
}

static int in_head(const struct http_req *r, const char *p, size_t n)
{
	return p >= r->head && n <= r->head_len && (size_t)(p - r->head) <= r->head_len - n;
}

static void check_head(const struct http_req *r)
{
	size_t i;

	FUZZ_CHECK(r->head_len > 0 && r->head_len <= HTTP_HEAD_MAX);
	FUZZ_CHECK(r->method != NULL && in_head(r, r->method, strlen(r->method) + 1));
	FUZZ_CHECK(r->method[0] != '\0');
	FUZZ_CHECK(r->target != NULL && in_head(r, r->target, strlen(r->target) + 1));
	FUZZ_CHECK(r->target[0] == '/' && strlen(r->target) <= HTTP_TARGET_MAX);
	FUZZ_CHECK(r->path_len <= strlen(r->target));
	FUZZ_CHECK(r->version_minor == 0 || r->version_minor == 1);
	FUZZ_CHECK(r->nheaders <= HTTP_HEADERS_MAX);
	for (i = 0; i < r->nheaders; i++) {
		const struct http_header *h = &r->headers[i];
		FUZZ_CHECK(h->name_len > 0 && in_head(r, h->name, h->name_len));
		FUZZ_CHECK(in_head(r, h->value, h->value_len));
		FUZZ_CHECK(memchr(h->value, '\r', h->value_len) == NULL);
		FUZZ_CHECK(memchr(h->value, '\n', h->value_len) == NULL);
		if (h->value_len > 0) {
			FUZZ_CHECK(h->value[0] != ' ' && h->value[0] != '\t');
			FUZZ_CHECK(h->value[h->value_len - 1] != ' ' &&
			           h->value[h->value_len - 1] != '\t');
		}
	}
	FUZZ_CHECK(r->keep_alive == 0 || r->keep_alive == 1);
	FUZZ_CHECK(r->expect_continue == 0 || r->expect_continue == 1);
	FUZZ_CHECK(!r->expect_continue || r->version_minor == 1);
	FUZZ_CHECK(r->has_content_length || r->content_length == 0);
}

static void check_error(const struct http_req *r)
{
	static const int allowed[] = {400, 411, 417, 431, 501, 505};
	size_t i;

	FUZZ_CHECK(r->error_reason != NULL);
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (r->error_status == allowed[i])
			return;
	FUZZ_CHECK(!"error_status outside the documented set");
}

static void check_delivery(const struct http_req *r)
{
	char d[TH_DELIVERY_MAX + 1];
	size_t n;

	route_delivery(r, d, sizeof(d));
	n = strlen(d);
	FUZZ_CHECK(n > 0 && n <= TH_DELIVERY_MAX);
	FUZZ_CHECK(
	    strspn(d, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == n);
}

static void check_route(const struct th_setup *s, const struct route_result *rr, int body)
{
	static const int allowed[] = {0, 200, 202, 400, 401, 404, 405, 413, 415, 503};
	struct th_msg m;
	size_t i;

	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (rr->status == allowed[i])
			break;
	FUZZ_CHECK(i < sizeof(allowed) / sizeof(allowed[0]));
	FUZZ_CHECK(rr->reason != NULL);
	FUZZ_CHECK(rr->site >= -1 && rr->site < (int)s->nsites);
	FUZZ_CHECK(memchr(rr->detail, '\0', sizeof(rr->detail)) != NULL);
	if (!body) {
		FUZZ_CHECK(rr->status != 0 || rr->site >= 0);
		FUZZ_CHECK(rr->status != 202 && !rr->deploy);
		return;
	}
	FUZZ_CHECK(rr->status != 0);
	FUZZ_CHECK(rr->deploy == (rr->status == 202));
	if (rr->deploy) {
		FUZZ_CHECK(th_msg_decode(&m, &rr->msg, sizeof(rr->msg), (unsigned)s->nsites) ==
		           TH_MSG_OK);
		FUZZ_CHECK(m.site == rr->site);
	}
}

/*
 * One step of conn.c's feed_app/on_head/on_body for the current state.
 * Returns 1 while the connection would stay open.
 */
static int decide(const struct th_setup *s, struct http_req *r, struct route_result *rr)
{
	switch (r->state) {
	case HTTP_HEAD:
	case HTTP_BODY:
		return 1;
	case HTTP_ERROR:
		check_error(r);
		return 0;
	case HTTP_HEAD_DONE:
		check_head(r);
		check_delivery(r);
		route_head(s, r, rr);
		check_route(s, rr, 0);
		if (rr->status != 0)
			return 0; /* the body is unread: the receiver closes */
		if (http_req_begin_body(r) < 0)
			return 0; /* 503 out of memory */
		FUZZ_CHECK(r->body != NULL && r->body_len == 0);
		FUZZ_CHECK(r->state == (r->content_length ? HTTP_BODY : HTTP_BODY_DONE));
		return r->state == HTTP_BODY ? 1 : decide(s, r, rr);
	case HTTP_BODY_DONE:
		FUZZ_CHECK(r->body_len == r->content_length);
		autosign(r);
		route_body(s, r, rr);
		check_route(s, rr, 1);
		if (rr->deploy)
			dedupe_note(&rr->msg, mono_ms());
		if (!r->keep_alive)
			return 0;
		http_req_reset(r);
		FUZZ_CHECK(r->state == HTTP_HEAD && r->body == NULL && r->head_len == 0);
		memset(rr, 0, sizeof(*rr));
		rr->site = -1;
		return 1;
	}
	FUZZ_CHECK(!"unknown state");
	return 0;
}

/* Feeds one chunk; returns 1 while the connection would stay open. */
static int feed_chunk(const struct th_setup *s, struct http_req *r, struct route_result *rr,
                      const uint8_t *p, size_t n, size_t *head_used)
{
	while (n > 0) {
		enum http_state before = r->state;
		size_t used = http_req_feed(r, p, n);

		FUZZ_CHECK(used <= n);
		if (before == HTTP_HEAD)
			*head_used += used;
		if (before == HTTP_BODY)
			FUZZ_CHECK(r->body_len <= r->content_length);
		/* In HEAD and BODY the parser always takes at least one byte. */
		FUZZ_CHECK(used > 0 || r->state != before);
		p += used;
		n -= used;
		if (r->state == HTTP_HEAD_DONE || r->state == HTTP_ERROR) {
			/* The head is exactly what was consumed: pipelined bytes stay with us. */
			FUZZ_CHECK(*head_used == r->head_len);
			*head_used = 0;
			if (r->state == HTTP_ERROR)
				FUZZ_CHECK(http_req_feed(r, p, n) == 0);
		}
		if (!decide(s, r, rr))
			return 0;
	}
	return 1;
}

int fuzz_http_req_one(const uint8_t *data, size_t size)
{
	struct th_setup setup;
	struct th_setup_site sites[2];
	struct fuzz_split sp;
	struct route_result rr;
	struct http_req *r;
	size_t head_used = 0;

	fuzz_split_init(&sp, &data, &size);
	memset(&setup, 0, sizeof(setup));
	make_setup(&setup, sites, sp.flags);
	dedupe_reset();
	/* Heap, as in conn.c: ASan then sees any overrun of head[]. */
	r = malloc(sizeof(*r));
	if (r == NULL)
		return 0;
	http_req_init(r);
	memset(&rr, 0, sizeof(rr));
	rr.site = -1;
	while (size > 0) {
		size_t n = fuzz_split_next(&sp, size);

		if (!feed_chunk(&setup, r, &rr, data, n, &head_used))
			break;
		data += n;
		size -= n;
	}
	http_req_free(r);
	free(r);
	dedupe_reset();
	return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_http_req_one(data, size);
}
#endif
