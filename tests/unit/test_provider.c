/*
 * test_provider.c - the dialect rules through route_head/route_body, as
 * the receiver applies them to a parsed request: which header
 * authenticates each provider (and that no other header can), form
 * bodies, the published signature vectors, ping/test/tag/deletion
 * deliveries, multi-change bodies, two secrets, legacy SHA-1 and
 * redeliveries.  Run from the repository root: fixtures are opened by
 * relative path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <bearssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dedupe.h"
#include "http_req.h"
#include "provider.h"
#include "provider_id.h"
#include "route.h"

#define FIXTURES "tests/fixtures/payloads/"
#define SECRET   "s3cret"

static unsigned char secret[] = SECRET;
static unsigned char secret_b[] = "next-secret";

static struct th_setup_site site;
static struct th_setup setup = {.sites = &site, .nsites = 1};

static void use(unsigned provider, const char *branch)
{
	memset(&site, 0, sizeof(site));
	site.name = "s";
	site.path = "/hook";
	site.branch = (char *)branch;
	site.provider = provider;
	site.max_body = 1 << 20;
	site.secret = secret;
	site.secret_len = sizeof(secret) - 1;
	dedupe_reset();
}

static char *fixture(const char *rel, size_t *len)
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
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void hmac_hex(const br_hash_class *h, const void *key, size_t klen, const void *data,
                     size_t dlen, char *out)
{
	br_hmac_key_context kc;
	br_hmac_context hc;
	unsigned char mac[32];
	size_t i, n;

	br_hmac_key_init(&kc, h, key, klen);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, data, dlen);
	n = br_hmac_out(&hc, mac);
	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", mac[i]);
}

/* "sha256=" + HMAC-SHA256(key, data) with the default secret unless key is given. */
static const char *sig(const char *prefix, const char *key, const void *data, size_t len)
{
	static char buf[128];
	size_t p = strlen(prefix);

	memcpy(buf, prefix, p);
	hmac_hex(&br_sha256_vtable, key ? key : SECRET, strlen(key ? key : SECRET), data, len,
	         buf + p);
	return buf;
}

/*
 * Parses "headers" (CRLF-separated lines, without Host and
 * Content-Length) and the body through the real HTTP parser and routes
 * the request.  Returns the final status (the head's, if it refused).
 */
static int route(const char *headers, const char *ctype, const void *body, size_t len,
                 struct route_result *rr)
{
	static struct http_req r;
	char head[HTTP_HEAD_MAX];
	int n;

	n = snprintf(head, sizeof(head),
	             "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n%sContent-Length: "
	             "%zu\r\n\r\n",
	             ctype, headers, len);
	assert_true(n > 0 && (size_t)n < sizeof(head));
	http_req_init(&r);
	assert_int_equal(http_req_feed(&r, (const unsigned char *)head, (size_t)n), (size_t)n);
	assert_int_equal(r.state, HTTP_HEAD_DONE);
	route_head(&setup, &r, rr);
	if (rr->status != 0) {
		http_req_free(&r);
		return rr->status;
	}
	assert_int_equal(http_req_begin_body(&r), 0);
	if (len > 0)
		assert_int_equal(http_req_feed(&r, body, len), len);
	assert_int_equal(r.state, HTTP_BODY_DONE);
	route_body(&setup, &r, rr);
	http_req_free(&r);
	return rr->status;
}

static int json(const char *headers, const void *body, size_t len, struct route_result *rr)
{
	return route(headers, "application/json", body, len, rr);
}

/* A deploy was requested for `commit` with delivery id `delivery`. */
static void assert_deploy(const struct route_result *rr, const char *commit, const char *delivery)
{
	assert_int_equal(rr->status, 202);
	assert_int_equal(rr->deploy, 1);
	assert_string_equal(rr->msg.commit, commit);
	assert_string_equal(rr->msg.delivery, delivery);
}

static void assert_answer(const struct route_result *rr, int status, const char *reason)
{
	assert_int_equal(rr->status, status);
	assert_int_equal(rr->deploy, 0);
	if (reason != NULL)
		assert_string_equal(rr->reason, reason);
}

static void test_github(void **state)
{
	struct route_result rr;
	char hdr[512];
	size_t len;
	char *body = fixture("github/push-1.json", &len);

	(void)state;
	use(TH_PROVIDER_GITHUB, "master");
	snprintf(hdr, sizeof(hdr),
	         "X-GitHub-Event: push\r\nX-GitHub-Delivery: d-1\r\n"
	         "X-Hub-Signature-256: %s\r\n",
	         sig("sha256=", NULL, body, len));
	json(hdr, body, len, &rr);
	assert_deploy(&rr, "fd489864e7642b48eaad6e3f155c10e46810ec72", "d-1");
	/* another host's headers, even carrying a valid MAC, do not authenticate */
	snprintf(hdr, sizeof(hdr),
	         "X-GitHub-Event: push\r\nX-Gitea-Signature: %s\r\n"
	         "X-Hub-Signature: %s\r\nX-Gitlab-Token: " SECRET "\r\n",
	         sig("", NULL, body, len), sig("sha256=", NULL, body, len));
	json(hdr, body, len, &rr);
	assert_answer(&rr, 401, "signature missing");
	free(body);
	body = fixture("github/pull_request-2.json", &len);
	snprintf(hdr, sizeof(hdr), "X-GitHub-Event: pull_request\r\nX-Hub-Signature-256: %s\r\n",
	         sig("sha256=", NULL, body, len));
	json(hdr, body, len, &rr);
	assert_answer(&rr, 200, "event ignored");
	free(body);
}

/* GitHub signs the form as sent; Gitea and Forgejo sign the payload inside it. */
static void test_forms(void **state)
{
	static const char form[] =
	    "payload=%7B%22ref%22%3A%22refs%2Fheads%2Fmain%22%2C%22after%22%3A"
	    "%228b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f%22%7D";
	static const char inner[] = "{\"ref\":\"refs/heads/main\",\"after\":"
	                            "\"8b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f\"}";
	static const char *const ct = "application/x-www-form-urlencoded; charset=utf-8";
	struct route_result rr;
	char hdr[512];

	(void)state;
	use(TH_PROVIDER_GITHUB, "main");
	snprintf(hdr, sizeof(hdr), "X-GitHub-Event: push\r\nX-Hub-Signature-256: %s\r\n",
	         sig("sha256=", NULL, form, strlen(form)));
	route(hdr, ct, form, strlen(form), &rr);
	assert_deploy(&rr, "8b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f", "-");
	snprintf(hdr, sizeof(hdr), "X-GitHub-Event: push\r\nX-Hub-Signature-256: %s\r\n",
	         sig("sha256=", NULL, inner, strlen(inner)));
	route(hdr, ct, form, strlen(form), &rr);
	assert_answer(&rr, 401, "signature mismatch");
	/* signed, but no payload field: refused after authentication */
	snprintf(hdr, sizeof(hdr), "X-GitHub-Event: push\r\nX-Hub-Signature-256: %s\r\n",
	         sig("sha256=", NULL, "data=x", 6));
	route(hdr, ct, "data=x", 6, &rr);
	assert_answer(&rr, 400, "form field other than payload");

	use(TH_PROVIDER_GITEA, "main");
	snprintf(hdr, sizeof(hdr), "X-Gitea-Event: push\r\nX-Gitea-Signature: %s\r\n",
	         sig("", NULL, inner, strlen(inner)));
	route(hdr, ct, form, strlen(form), &rr);
	assert_deploy(&rr, "8b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f", "-");
	snprintf(hdr, sizeof(hdr), "X-Gitea-Event: push\r\nX-Gitea-Signature: %s\r\n",
	         sig("", NULL, form, strlen(form)));
	route(hdr, ct, form, strlen(form), &rr);
	assert_answer(&rr, 401, "signature mismatch");
	/* a form that does not decode cannot be authenticated */
	route(hdr, ct, "payload=%zz", 11, &rr);
	assert_answer(&rr, 401, "form malformed");

	use(TH_PROVIDER_GITLAB, "main");
	assert_int_equal(route("X-Gitlab-Event: Push Hook\r\nX-Gitlab-Token: " SECRET "\r\n", ct,
	                       form, strlen(form), &rr),
	                 415);
	use(TH_PROVIDER_BITBUCKET_CLOUD, "main");
	assert_int_equal(route("", ct, form, strlen(form), &rr), 415);
	assert_int_equal(route("", "text/plain", form, strlen(form), &rr), 415);
}

/* Vector C (MANIFEST.md): Gitea's bare hex, from go-playground/webhooks' test. */
static void test_gitea(void **state)
{
	static unsigned char vec_secret[] = "IsWishesWereHorsesWedAllBeEatingSteak!";
	struct route_result rr;
	size_t len;
	char *body = fixture("gitea/push-1.json", &len);
	char hdr[512];

	(void)state;
	use(TH_PROVIDER_GITEA, "master");
	site.secret = vec_secret;
	site.secret_len = sizeof(vec_secret) - 1;
	json("X-Gitea-Event: push\r\nX-Gitea-Delivery: g-1\r\nX-Gitea-Signature: "
	     "60fe446c74fa0cb9474f98cc557db79e10c7aaf22cf324ad65239600b9e4d915\r\n",
	     body, len, &rr);
	assert_deploy(&rr, "67b56589a45103f891bdee7c0546e5d40bc02001", "g-1");
	/* uppercase hex is the same MAC */
	json("X-Gitea-Event: push\r\nX-Gitea-Signature: "
	     "60FE446C74FA0CB9474F98CC557DB79E10C7AAF22CF324AD65239600B9E4D915\r\n",
	     body, len, &rr);
	assert_int_equal(rr.status, 202);
	/* unsigned Gitea hooks send the header empty */
	json("X-Gitea-Event: push\r\nX-Gitea-Signature: \r\n", body, len, &rr);
	assert_answer(&rr, 401, "signature missing");
	json("X-Gitea-Event: push\r\nX-Gitea-Signature: 111\r\n", body, len, &rr);
	assert_answer(&rr, 401, "signature malformed");
	json("X-Gitea-Event: push\r\nX-Gitea-Signature: sha256="
	     "60fe446c74fa0cb9474f98cc557db79e10c7aaf22cf324ad65239600b9e4d915\r\n",
	     body, len, &rr);
	assert_answer(&rr, 401, "signature malformed");
	/* the GitHub-compatible headers Gitea also sends are not what a gitea site checks */
	snprintf(hdr, sizeof(hdr), "X-Gitea-Event: push\r\nX-Hub-Signature-256: %s\r\n",
	         sig("sha256=", (const char *)vec_secret, body, len));
	json(hdr, body, len, &rr);
	assert_answer(&rr, 401, "signature missing");
	free(body);
}

static void test_gitea_test_delivery(void **state)
{
	static const char fake[] = "{\"ref\":\"refs/heads/main\",\"before\":"
	                           "\"0000000000000000000000000000000000000000\",\"after\":"
	                           "\"0000000000000000000000000000000000000000\"}";
	static const char older[] = "{\"ref\":\"refs/heads/main\",\"before\":"
	                            "\"8b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f\",\"after\":"
	                            "\"8b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f\"}";
	struct route_result rr;
	char hdr[512];
	unsigned p;

	(void)state;
	for (p = TH_PROVIDER_GITEA; p <= TH_PROVIDER_FORGEJO; p++) {
		const struct dialect *dl = dialect_of(p);

		use(p, "main");
		snprintf(hdr, sizeof(hdr), "%s: push\r\n%s: %s\r\n", dl->event_header,
		         dl->auth_header, sig("", NULL, fake, strlen(fake)));
		json(hdr, fake, strlen(fake), &rr);
		assert_answer(&rr, 200, "test delivery ignored");
		snprintf(hdr, sizeof(hdr), "%s: push\r\n%s: %s\r\n", dl->event_header,
		         dl->auth_header, sig("", NULL, older, strlen(older)));
		json(hdr, older, strlen(older), &rr);
		assert_answer(&rr, 200, "test delivery ignored");
	}
	/* on GitHub the same body is an ordinary push */
	use(TH_PROVIDER_GITHUB, "main");
	snprintf(hdr, sizeof(hdr), "X-GitHub-Event: push\r\nX-Hub-Signature-256: %s\r\n",
	         sig("sha256=", NULL, older, strlen(older)));
	json(hdr, older, strlen(older), &rr);
	assert_int_equal(rr.status, 202);
}

static void test_forgejo(void **state)
{
	static const char push[] = "{\"ref\":\"refs/heads/main\",\"before\":"
	                           "\"0000000000000000000000000000000000000001\",\"after\":"
	                           "\"8b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f\"}";
	struct route_result rr;
	char hdr[512];

	(void)state;
	use(TH_PROVIDER_FORGEJO, "main");
	snprintf(hdr, sizeof(hdr),
	         "X-Forgejo-Event: push\r\nX-Forgejo-Delivery: f-1\r\nX-Forgejo-Signature: %s\r\n",
	         sig("", NULL, push, strlen(push)));
	json(hdr, push, strlen(push), &rr);
	assert_deploy(&rr, "8b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f", "f-1");
	snprintf(hdr, sizeof(hdr), "X-Gitea-Event: push\r\nX-Gitea-Signature: %s\r\n",
	         sig("", NULL, push, strlen(push)));
	json(hdr, push, strlen(push), &rr);
	assert_answer(&rr, 401, "signature missing");
}

static void test_gitlab(void **state)
{
	struct route_result rr;
	size_t len;
	char *body = fixture("gitlab/push-1.json", &len);

	(void)state;
	use(TH_PROVIDER_GITLAB, "master");
	json("X-Gitlab-Event: Push Hook\r\nX-Gitlab-Token: " SECRET "\r\n"
	     "X-Gitlab-Event-UUID: e-1\r\nIdempotency-Key: i-1\r\n",
	     body, len, &rr);
	assert_deploy(&rr, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "i-1");
	dedupe_reset();
	json("X-Gitlab-Event: Push Hook\r\nX-Gitlab-Token: " SECRET
	     "\r\nX-Gitlab-Event-UUID: e-1\r\n",
	     body, len, &rr);
	assert_deploy(&rr, "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", "e-1");
	/* go-playground/webhooks' negative case, a prefix, a longer token, none */
	json("X-Gitlab-Event: Push Hook\r\nX-Gitlab-Token: badsampleToken!!\r\n", body, len, &rr);
	assert_answer(&rr, 401, "signature mismatch");
	json("X-Gitlab-Event: Push Hook\r\nX-Gitlab-Token: s3cre\r\n", body, len, &rr);
	assert_answer(&rr, 401, "signature mismatch");
	json("X-Gitlab-Event: Push Hook\r\nX-Gitlab-Token: " SECRET "t\r\n", body, len, &rr);
	assert_answer(&rr, 401, "signature mismatch");
	json("X-Gitlab-Event: Push Hook\r\nX-Gitlab-Token:\r\n", body, len, &rr);
	assert_answer(&rr, 401, "signature missing");
	json("X-Gitlab-Event: Push Hook\r\n", body, len, &rr);
	assert_answer(&rr, 401, "signature missing");
	json("X-Gitlab-Event: Push Hook\r\nX-Gitlab-Token: " SECRET "\r\nX-Gitlab-Token: " SECRET
	     "\r\n",
	     body, len, &rr);
	assert_answer(&rr, 401, "signature malformed");
	free(body);
	body = fixture("gitlab/tag_push-1.json", &len);
	json("X-Gitlab-Event: Tag Push Hook\r\nX-Gitlab-Token: " SECRET "\r\n", body, len, &rr);
	assert_answer(&rr, 200, "event ignored");
	free(body);
	body = fixture("gitlab/push-3.json", &len);
	use(TH_PROVIDER_GITLAB, "feature");
	json("X-Gitlab-Event: Push Hook\r\nX-Gitlab-Token: " SECRET "\r\n", body, len, &rr);
	assert_answer(&rr, 200, "branch deletion ignored");
	free(body);
}

static void bitbucket(unsigned provider, const char *event, const char *rel, const char *branch,
                      struct route_result *rr)
{
	char hdr[512];
	size_t len;
	char *body = fixture(rel, &len);

	use(provider, branch);
	snprintf(hdr, sizeof(hdr),
	         "X-Event-Key: %s\r\nX-Request-UUID: u-1\r\nX-Request-Id: r-1\r\n"
	         "X-Hub-Signature: %s\r\n",
	         event, sig("sha256=", NULL, body, len));
	json(hdr, body, len, rr);
	free(body);
}

static void test_bitbucket_cloud(void **state)
{
	struct route_result rr;

	(void)state;
	bitbucket(TH_PROVIDER_BITBUCKET_CLOUD, "repo:push", "bitbucket-cloud/repo_push-2.json",
	          "master", &rr);
	assert_deploy(&rr, "141977fedf5cf35aa290ac87d4b5177ac4cd9de1", "u-1");
	bitbucket(TH_PROVIDER_BITBUCKET_CLOUD, "repo:push", "bitbucket-cloud/repo_push-4.json",
	          "develop", &rr);
	assert_answer(&rr, 200, "branch deletion ignored");
	assert_string_equal(rr.detail, "refs/heads/develop");
	bitbucket(TH_PROVIDER_BITBUCKET_CLOUD, "repo:push", "bitbucket-cloud/repo_push-5.json",
	          "feature/x", &rr);
	assert_answer(&rr, 200, "tag push ignored");
	bitbucket(TH_PROVIDER_BITBUCKET_CLOUD, "pullrequest:created",
	          "bitbucket-cloud/repo_push-2.json", "master", &rr);
	assert_answer(&rr, 200, "event ignored");
	/* the name is GitHub's SHA-1 header, but only sha256= is accepted */
	use(TH_PROVIDER_BITBUCKET_CLOUD, "master");
	json("X-Event-Key: repo:push\r\nX-Hub-Signature: "
	     "sha1=f68df0375d7b03e3eb29b4cf9f9ec12e08f42ff8"
	     "\r\n",
	     "{}", 2, &rr);
	assert_answer(&rr, 401, "signature malformed");
}

/* Vector D (MANIFEST.md) and Bitbucket Server's ping. */
static void test_bitbucket_server(void **state)
{
	static unsigned char vec_secret[] = "secret";
	struct route_result rr;
	size_t len;
	char *body = fixture("bitbucket-server/refs_changed-1.json", &len);
	char hdr[256];

	(void)state;
	use(TH_PROVIDER_BITBUCKET_SERVER, "feature/wip");
	site.secret = vec_secret;
	site.secret_len = 6;
	json("X-Event-Key: repo:refs_changed\r\nX-Hub-Signature: "
	     "sha256=8a60f7487d167f55886df87d4077192035d76f76a8e0b3a48fd8ae8cad25f391\r\n",
	     body, len, &rr);
	assert_answer(&rr, 200, "branch deletion ignored");
	json("X-Event-Key: repo:refs_changed\r\nX-Hub-Signature: sha256=111\r\n", body, len, &rr);
	assert_answer(&rr, 401, "signature malformed");
	free(body);
	bitbucket(TH_PROVIDER_BITBUCKET_SERVER, "repo:refs_changed",
	          "bitbucket-server/refs_changed-2.json", "master", &rr);
	assert_deploy(&rr, "823b2230a56056231c9425d63758fa87078a66b4", "r-1");
	/* the ping must be signed like everything else */
	use(TH_PROVIDER_BITBUCKET_SERVER, "master");
	snprintf(hdr, sizeof(hdr), "X-Event-Key: diagnostics:ping\r\nX-Hub-Signature: %s\r\n",
	         sig("sha256=", NULL, "{\"test\": true}", 14));
	json(hdr, "{\"test\": true}", 14, &rr);
	assert_answer(&rr, 200, "ping");
	json("X-Event-Key: diagnostics:ping\r\n", "{\"test\": true}", 14, &rr);
	assert_answer(&rr, 401, "signature missing");
}

/* Any change updating the branch deploys; otherwise the most telling reason is given. */
static void test_multi_change(void **state)
{
	static const char cloud[] =
	    "{\"push\":{\"changes\":["
	    "{\"new\":{\"type\":\"tag\",\"name\":\"main\",\"target\":{\"hash\":"
	    "\"1111111111111111111111111111111111111111\"}},\"old\":null},"
	    "{\"new\":{\"type\":\"branch\",\"name\":\"other\",\"target\":{\"hash\":"
	    "\"2222222222222222222222222222222222222222\"}},\"old\":null},"
	    "{\"new\":{\"type\":\"branch\",\"name\":\"main\",\"target\":{\"hash\":"
	    "\"3333333333333333333333333333333333333333\"}},\"old\":null}]}}";
	static const char server[] =
	    "{\"changes\":[{\"refId\":\"refs/heads/main\",\"toHash\":"
	    "\"0000000000000000000000000000000000000000\",\"type\":\"DELETE\"},"
	    "{\"refId\":\"refs/tags/v1\",\"toHash\":\"4444444444444444444444444444444444444444\","
	    "\"type\":\"ADD\"}]}";
	struct route_result rr;
	char hdr[256];

	(void)state;
	use(TH_PROVIDER_BITBUCKET_CLOUD, "main");
	snprintf(hdr, sizeof(hdr), "X-Event-Key: repo:push\r\nX-Hub-Signature: %s\r\n",
	         sig("sha256=", NULL, cloud, strlen(cloud)));
	json(hdr, cloud, strlen(cloud), &rr);
	assert_deploy(&rr, "3333333333333333333333333333333333333333", "-");
	use(TH_PROVIDER_BITBUCKET_SERVER, "main");
	snprintf(hdr, sizeof(hdr), "X-Event-Key: repo:refs_changed\r\nX-Hub-Signature: %s\r\n",
	         sig("sha256=", NULL, server, strlen(server)));
	json(hdr, server, strlen(server), &rr);
	assert_answer(&rr, 200, "branch deletion ignored");
	snprintf(hdr, sizeof(hdr), "X-Event-Key: repo:refs_changed\r\nX-Hub-Signature: %s\r\n",
	         sig("sha256=", NULL, "{\"changes\":[]}", 14));
	json(hdr, "{\"changes\":[]}", 14, &rr);
	assert_answer(&rr, 400, "push without changes");
}

static void test_two_secrets(void **state)
{
	static const char push[] = "{\"ref\":\"refs/heads/main\",\"after\":"
	                           "\"8b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f\"}";
	struct route_result rr;
	char hdr[256];

	(void)state;
	use(TH_PROVIDER_GITHUB, "main");
	site.secret2 = secret_b;
	site.secret2_len = sizeof(secret_b) - 1;
	snprintf(hdr, sizeof(hdr), "X-GitHub-Event: push\r\nX-Hub-Signature-256: %s\r\n",
	         sig("sha256=", "next-secret", push, strlen(push)));
	json(hdr, push, strlen(push), &rr);
	assert_int_equal(rr.status, 202);
	snprintf(hdr, sizeof(hdr), "X-GitHub-Event: push\r\nX-Hub-Signature-256: %s\r\n",
	         sig("sha256=", NULL, push, strlen(push)));
	json(hdr, push, strlen(push), &rr);
	assert_int_equal(rr.status, 202);
	snprintf(hdr, sizeof(hdr), "X-GitHub-Event: push\r\nX-Hub-Signature-256: %s\r\n",
	         sig("sha256=", "old-secret", push, strlen(push)));
	json(hdr, push, strlen(push), &rr);
	assert_answer(&rr, 401, "signature mismatch");
	/* tokens too */
	use(TH_PROVIDER_GITLAB, "main");
	site.secret2 = secret_b;
	site.secret2_len = sizeof(secret_b) - 1;
	json("X-Gitlab-Event: Push Hook\r\nX-Gitlab-Token: next-secret\r\n", push, strlen(push),
	     &rr);
	assert_int_equal(rr.status, 202);
}

/* Vector B (MANIFEST.md): the legacy SHA-1 header, only for a site that opts in. */
static void test_legacy_sha1(void **state)
{
	static unsigned char vec_secret[] = "mysecret";
	static const char sha1[] =
	    "X-GitHub-Event: push\r\n"
	    "X-Hub-Signature: sha1=f68df0375d7b03e3eb29b4cf9f9ec12e08f42ff8\r\n";
	struct route_result rr;
	size_t len;
	char *body = fixture("github/push-9.json", &len);

	(void)state;
	use(TH_PROVIDER_GITHUB, "master");
	site.secret = vec_secret;
	site.secret_len = 8;
	json(sha1, body, len, &rr);
	assert_answer(&rr, 401, "signature missing");
	site.flags = TH_SITE_LEGACY_SHA1;
	json(sha1, body, len, &rr);
	assert_deploy(&rr, "1481a2de7b2a7d02428ad93446ab166be7793fbb", "-");
	/* the SHA-256 header, when present, is the one checked: no downgrade */
	json("X-GitHub-Event: push\r\nX-Hub-Signature-256: sha256="
	     "0000000000000000000000000000000000000000000000000000000000000000\r\n"
	     "X-Hub-Signature: sha1=f68df0375d7b03e3eb29b4cf9f9ec12e08f42ff8\r\n",
	     body, len, &rr);
	assert_answer(&rr, 401, "signature mismatch");
	json("X-GitHub-Event: push\r\nX-Hub-Signature-256: sha256="
	     "307fc0ceaccb5889d2f2e1a50c94acbc88a35b484c708fcbcc8de42ec10beff4\r\n",
	     body, len, &rr);
	assert_int_equal(rr.status, 202);
	/* the published test sends it without the prefix GitHub uses */
	json(
	    "X-GitHub-Event: push\r\nX-Hub-Signature: f68df0375d7b03e3eb29b4cf9f9ec12e08f42ff8\r\n",
	    body, len, &rr);
	assert_answer(&rr, 401, "signature malformed");
	free(body);
}

static void test_redelivery(void **state)
{
	static const char push[] = "{\"ref\":\"refs/heads/main\",\"after\":"
	                           "\"8b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f\"}";
	struct route_result rr;
	char hdr[256];

	(void)state;
	use(TH_PROVIDER_GITHUB, "main");
	snprintf(hdr, sizeof(hdr),
	         "X-GitHub-Event: push\r\nX-GitHub-Delivery: dup-1\r\n"
	         "X-Hub-Signature-256: %s\r\n",
	         sig("sha256=", NULL, push, strlen(push)));
	json(hdr, push, strlen(push), &rr);
	assert_int_equal(rr.status, 202);
	/* what to_deployer.c records once the message is sent */
	dedupe_note(&rr.msg, mono_ms());
	json(hdr, push, strlen(push), &rr);
	assert_answer(&rr, 200, "duplicate delivery ignored");
	/* a wrong signature is still a 401, not a duplicate */
	json("X-GitHub-Event: push\r\nX-GitHub-Delivery: dup-1\r\nX-Hub-Signature-256: sha256="
	     "0000000000000000000000000000000000000000000000000000000000000000\r\n",
	     push, strlen(push), &rr);
	assert_answer(&rr, 401, NULL);
}

static void test_event_header(void **state)
{
	static const char push[] = "{\"ref\":\"refs/heads/main\",\"after\":"
	                           "\"8b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f\"}";
	struct route_result rr;
	char hdr[256];
	const char *s = sig("sha256=", NULL, push, strlen(push));

	(void)state;
	use(TH_PROVIDER_GITHUB, "main");
	snprintf(hdr, sizeof(hdr), "X-Hub-Signature-256: %s\r\n", s);
	json(hdr, push, strlen(push), &rr);
	assert_answer(&rr, 400, "missing event header");
	snprintf(hdr, sizeof(hdr),
	         "X-GitHub-Event: push\r\nx-github-event: push\r\n"
	         "X-Hub-Signature-256: %s\r\n",
	         s);
	json(hdr, push, strlen(push), &rr);
	assert_answer(&rr, 400, "more than one event header");
	/* header names differ only in case: still the same header */
	snprintf(hdr, sizeof(hdr), "x-github-event: push\r\nx-hub-signature-256: %s\r\n", s);
	json(hdr, push, strlen(push), &rr);
	assert_int_equal(rr.status, 202);
	/* event values are case-sensitive, as the hosts send them */
	snprintf(hdr, sizeof(hdr), "X-GitHub-Event: Push\r\nX-Hub-Signature-256: %s\r\n", s);
	json(hdr, push, strlen(push), &rr);
	assert_answer(&rr, 200, "event ignored");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_github),          cmocka_unit_test(test_forms),
	    cmocka_unit_test(test_gitea),           cmocka_unit_test(test_gitea_test_delivery),
	    cmocka_unit_test(test_forgejo),         cmocka_unit_test(test_gitlab),
	    cmocka_unit_test(test_bitbucket_cloud), cmocka_unit_test(test_bitbucket_server),
	    cmocka_unit_test(test_multi_change),    cmocka_unit_test(test_two_secrets),
	    cmocka_unit_test(test_legacy_sha1),     cmocka_unit_test(test_redelivery),
	    cmocka_unit_test(test_event_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
