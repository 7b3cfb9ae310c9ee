/*
 * route.c - the receiver's request policy, in the order the checks run.
 *
 * Head: path (404), method (405), declared size (413, before any body
 * byte is read), content type (415).  Body: authentication first (401),
 * and only then the event header, the JSON (400), the ref (200 ignored),
 * a redelivery (200 duplicate) and finally a deploy request (202).
 *
 * Which headers authenticate and name the event and the delivery, and
 * how the body is shaped, come from the site's dialect (provider.c),
 * chosen by the config.  The rule for errors: anything refused before the
 * request is authenticated is a 401, anything after it a 400.
 */
#include "route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "dedupe.h"
#include "form.h"
#include "json_changes.h"
#include "json_push.h"
#include "log.h"
#include "provider.h"
#include "provider_id.h"
#include "signature.h"

static void set(struct route_result *o, int status, const char *reason)
{
	o->status = status;
	o->reason = reason;
}

static int find_site(const struct th_setup *s, const struct http_req *r)
{
	size_t i;

	for (i = 0; i < s->nsites; i++) {
		const char *p = s->sites[i].path;
		if (strlen(p) == r->path_len && memcmp(p, r->target, r->path_len) == 0)
			return (int)i;
	}
	return -1;
}

/* The media type `want`, optionally followed by parameters such as charset. */
static int is_type(const char *v, size_t len, const char *want)
{
	size_t n = 0;

	while (n < len && v[n] != ';' && v[n] != ' ' && v[n] != '\t')
		n++;
	return n == strlen(want) && strncasecmp(v, want, n) == 0;
}

static const char form_type[] = "application/x-www-form-urlencoded";

/* 1 for JSON, 2 for a form, 0 for anything else (or no single Content-Type). */
static int body_type(const struct http_req *r)
{
	size_t len, count;
	const char *ct = http_req_header(r, "Content-Type", &len, &count);

	if (ct == NULL || count != 1)
		return 0;
	if (is_type(ct, len, "application/json"))
		return 1;
	return is_type(ct, len, form_type) ? 2 : 0;
}

void route_head(const struct th_setup *s, const struct http_req *r, struct route_result *out)
{
	const struct dialect *dl;
	int type;

	memset(out, 0, sizeof(*out));
	out->site = find_site(s, r);
	if (out->site < 0)
		return set(out, 404, "unknown path");
	if (strcmp(r->method, "POST") != 0)
		return set(out, 405, "method not allowed");
	if (r->content_length > s->sites[out->site].max_body)
		return set(out, 413, "body larger than max-body");
	dl = dialect_of(s->sites[out->site].provider);
	type = body_type(r);
	if (type == 2 && dl->form == FORM_REFUSED)
		return set(out, 415, "this provider sends application/json only");
	if (type == 0)
		return set(out, 415,
		           dl->form == FORM_REFUSED ? "content type is not application/json"
		                                    : "content type is not application/json or "
		                                      "application/x-www-form-urlencoded");
	set(out, 0, "read body");
}

/* The request's bytes: what the host signed, and the JSON to read after. */
struct body {
	const unsigned char *signed_bytes;
	size_t signed_len;
	const char *json;
	size_t json_len;
	unsigned char *decoded; /* the form's payload field, malloc'd */
};

static int decode_form(const struct http_req *r, struct body *b, struct route_result *out,
                       int status)
{
	size_t n;
	enum form_result fr = form_payload(r->body, r->body_len, &b->decoded, &n);

	if (fr != FORM_OK) {
		set(out, fr == FORM_NOMEM ? 503 : status, form_strerror(fr));
		return -1;
	}
	b->json = (const char *)b->decoded;
	b->json_len = n;
	return 0;
}

/*
 * Gitea and Forgejo sign the payload field, not the form around it, so
 * their forms are decoded before authentication (URL decoding only; a
 * form that does not decode cannot be authenticated: 401).
 */
static int open_body(const struct dialect *dl, const struct http_req *r, struct body *b,
                     struct route_result *out)
{
	memset(b, 0, sizeof(*b));
	b->signed_bytes = r->body;
	b->signed_len = r->body_len;
	b->json = (const char *)r->body;
	b->json_len = r->body_len;
	if (body_type(r) != 2 || dl->form != FORM_SIGNS_PAYLOAD)
		return 0;
	if (decode_form(r, b, out, 401) < 0)
		return -1;
	b->signed_bytes = b->decoded;
	b->signed_len = b->json_len;
	return 0;
}

static struct sig_keys site_keys(const struct th_setup_site *site)
{
	struct sig_keys k = {{site->secret, site->secret2},
	                     {site->secret_len, site->secret2_len},
	                     site->secret2 != NULL ? 2 : 1};
	return k;
}

/* GitHub's SHA-1 header counts only for an opted-in site, and only without the SHA-256 one. */
static int use_legacy(const struct dialect *dl, const struct th_setup_site *site,
                      const struct http_req *r)
{
	return dl->legacy_header != NULL && (site->flags & TH_SITE_LEGACY_SHA1) &&
	       http_req_header(r, dl->auth_header, NULL, NULL) == NULL &&
	       http_req_header(r, dl->legacy_header, NULL, NULL) != NULL;
}

static int authenticate(const struct dialect *dl, const struct th_setup_site *site,
                        const struct http_req *r, const struct body *b, struct route_result *out)
{
	struct sig_keys keys = site_keys(site);
	int legacy = use_legacy(dl, site, r);
	const char *name = legacy ? dl->legacy_header : dl->auth_header;
	size_t len, count;
	const char *v = http_req_header(r, name, &len, &count);
	enum sig_result sr;

	/* Two authentication headers are ambiguous; treat them as forged. */
	if (count > 1)
		sr = SIG_MALFORMED;
	else if (dl->auth == AUTH_TOKEN)
		sr = sig_verify_token(v, len, &keys);
	else if (legacy)
		sr = sig_verify_hmac(SIG_SHA1, v, len, "sha1=", &keys, b->signed_bytes,
		                     b->signed_len);
	else
		sr = sig_verify_hmac(SIG_SHA256, v, len, dl->auth_prefix, &keys, b->signed_bytes,
		                     b->signed_len);
	if (sr == SIG_OK)
		return 0;
	set(out, 401, sig_strerror(sr));
	return -1;
}

enum event_kind { EV_PUSH, EV_PING, EV_OTHER };

static int event_is(const char *v, size_t len, const char *want)
{
	return want != NULL && len == strlen(want) && memcmp(v, want, len) == 0;
}

static int read_event(const struct dialect *dl, const struct http_req *r, enum event_kind *kind,
                      struct route_result *out)
{
	size_t len, count;
	const char *v = http_req_header(r, dl->event_header, &len, &count);

	if (v == NULL || len == 0) {
		set(out, 400, "missing event header");
		return -1;
	}
	if (count > 1) {
		set(out, 400, "more than one event header");
		return -1;
	}
	if (event_is(v, len, dl->push_event))
		*kind = EV_PUSH;
	else if (event_is(v, len, dl->ping_event))
		*kind = EV_PING;
	else
		*kind = EV_OTHER;
	return 0;
}

enum ref_verdict { REF_DEPLOY, REF_TAG, REF_OTHER, REF_DELETED };

static int is_zero_commit(const char *hex)
{
	return strspn(hex, "0") == 40;
}

/* Deploy only an update of exactly refs/heads/<branch>: no prefix or pattern matching. */
static enum ref_verdict judge_ref(const char *branch, const char *ref, size_t ref_len, int deleted,
                                  const char *after)
{
	static const char heads[] = "refs/heads/";
	size_t hlen = sizeof(heads) - 1, blen = strlen(branch);

	if (ref_len >= 10 && memcmp(ref, "refs/tags/", 10) == 0)
		return REF_TAG;
	if (ref_len != hlen + blen || memcmp(ref, heads, hlen) != 0 ||
	    memcmp(ref + hlen, branch, blen) != 0)
		return REF_OTHER;
	return deleted || is_zero_commit(after) ? REF_DELETED : REF_DEPLOY;
}

static void set_verdict(struct route_result *out, enum ref_verdict v)
{
	switch (v) {
	case REF_DEPLOY:
		set(out, 202, "deploy requested");
		return;
	case REF_TAG:
		return set(out, 200, "tag push ignored");
	case REF_OTHER:
		return set(out, 200, "push to another ref ignored");
	case REF_DELETED:
		return set(out, 200, "branch deletion ignored");
	}
}

/* GitHub, Gitea, Forgejo, GitLab: one ref per push, at the top level. */
static int decide_top(const struct dialect *dl, const struct th_setup_site *site,
                      const struct body *b, struct route_result *out, char after[41])
{
	struct push_info pi;
	enum json_result jr = json_push_extract(b->json, b->json_len, &pi);
	enum ref_verdict v;

	if (jr != JSON_OK) {
		set(out, 400, json_strerror(jr));
		return -1;
	}
	if (!pi.has_ref || !pi.has_after) {
		set(out, 400, "push without ref or after");
		return -1;
	}
	log_sanitize(out->detail, sizeof(out->detail), pi.ref, pi.ref_len);
	/* a real push always moves the ref; the test button does not */
	if (dl->test_when_before_is_after && pi.has_before && strcmp(pi.before, pi.after) == 0) {
		set(out, 200, "test delivery ignored");
		return -1;
	}
	v = judge_ref(site->branch, pi.ref, pi.ref_len, pi.has_deleted && pi.deleted, pi.after);
	set_verdict(out, v);
	memcpy(after, pi.after, 41);
	return v == REF_DEPLOY ? 0 : -1;
}

/* What a Bitbucket push's changes add up to for one branch. */
struct pick {
	const char *branch;
	enum ref_verdict best; /* REF_DEPLOY beats DELETED beats OTHER beats TAG */
	int any;
	char after[41];
	char detail[160];
};

static int rank(enum ref_verdict v)
{
	static const int r[] = {
	    [REF_DEPLOY] = 3, [REF_DELETED] = 2, [REF_OTHER] = 1, [REF_TAG] = 0};
	return r[v];
}

static void on_change(const struct ref_change *c, void *ctx)
{
	struct pick *p = ctx;
	enum ref_verdict v = judge_ref(p->branch, c->ref, c->ref_len, c->deleted, c->after);

	/* the first change of the best kind is the one reported and deployed */
	if (p->any && rank(v) <= rank(p->best))
		return;
	p->any = 1;
	p->best = v;
	memcpy(p->after, c->after, 41);
	log_sanitize(p->detail, sizeof(p->detail), c->ref, c->ref_len);
}

/* Bitbucket: deploy when any change updates the branch. */
static int decide_changes(const struct dialect *dl, const struct th_setup_site *site,
                          const struct body *b, struct route_result *out, char after[41])
{
	struct pick p;
	size_t count;
	enum json_result jr;

	memset(&p, 0, sizeof(p));
	p.branch = site->branch;
	jr = json_changes_extract(b->json, b->json_len, dialect_json_shape(dl->shape), on_change,
	                          &p, &count);
	if (jr != JSON_OK) {
		set(out, 400, json_strerror(jr));
		return -1;
	}
	if (count == 0) {
		set(out, 400, "push without changes");
		return -1;
	}
	memcpy(out->detail, p.detail, sizeof(out->detail));
	set_verdict(out, p.best);
	memcpy(after, p.after, 41);
	return p.best == REF_DEPLOY ? 0 : -1;
}

/* The id the site's host gives this delivery, sanitized, or "-". */
static void site_delivery(const struct dialect *dl, const struct http_req *r, char *out)
{
	size_t i, len = 0;
	const char *v = NULL;

	for (i = 0; i < 2 && v == NULL && dl->delivery_header[i] != NULL; i++)
		v = http_req_header(r, dl->delivery_header[i], &len, NULL);
	th_delivery_clean(out, v, v == NULL ? 0 : len);
}

static void request_deploy(const struct dialect *dl, const struct http_req *r, const char *after,
                           struct route_result *out)
{
	char delivery[TH_DELIVERY_MAX + 1];

	site_delivery(dl, r, delivery);
	if (th_msg_encode(&out->msg, (unsigned)out->site, after, delivery, strlen(delivery)) !=
	    TH_MSG_OK)
		return set(out, 400, "bad commit id");
	/* to_deployer.c remembers what it sent; this asks whether it already did */
	if (dedupe_seen(&out->msg, mono_ms()))
		return set(out, 200, "duplicate delivery ignored");
	out->detail[0] = '\0';
	out->deploy = 1;
}

static void route_authenticated(const struct dialect *dl, const struct th_setup_site *site,
                                const struct http_req *r, struct body *b, struct route_result *out)
{
	enum event_kind kind;
	char after[41];
	int rc;

	if (read_event(dl, r, &kind, out) < 0)
		return;
	if (kind == EV_PING)
		return set(out, 200, "ping");
	if (kind == EV_OTHER)
		return set(out, 200, "event ignored");
	if (body_type(r) == 2 && dl->form == FORM_SIGNS_RAW && decode_form(r, b, out, 400) < 0)
		return;
	if (dl->shape == BODY_TOP)
		rc = decide_top(dl, site, b, out, after);
	else
		rc = decide_changes(dl, site, b, out, after);
	if (rc == 0)
		request_deploy(dl, r, after, out);
}

void route_body(const struct th_setup *s, const struct http_req *r, struct route_result *out)
{
	const struct th_setup_site *site = &s->sites[out->site];
	const struct dialect *dl = dialect_of(site->provider);
	struct body b;

	if (open_body(dl, r, &b, out) == 0 && authenticate(dl, site, r, &b, out) == 0)
		route_authenticated(dl, site, r, &b, out);
	free(b.decoded);
}

/*
 * For the log line, before or without a site: the first delivery header
 * any provider uses.  The message to the deployer uses only the site's own.
 */
void route_delivery(const struct http_req *r, char *out, size_t outsz)
{
	static const char *const names[] = {
	    "X-GitHub-Delivery",   "X-Gitea-Delivery", "X-Forgejo-Delivery", "Idempotency-Key",
	    "X-Gitlab-Event-UUID", "X-Request-UUID",   "X-Request-Id",
	};
	char clean[TH_DELIVERY_MAX + 1];
	const char *v = NULL;
	size_t i, len = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]) && v == NULL; i++)
		v = http_req_header(r, names[i], &len, NULL);
	th_delivery_clean(clean, v, v == NULL ? 0 : len);
	snprintf(out, outsz, "%s", clean);
}
