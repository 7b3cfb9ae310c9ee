/*
 * route.c - the receiver's request policy, in the order the checks run.
 *
 * Head: path (404), method (405), declared size (413, before any body
 * byte is read), content type (415).  Body: signature first (401), and
 * only then the event header and the JSON (400), the ref (200 ignored)
 * and finally a deploy request (202).
 */
#include "route.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "json_push.h"
#include "log.h"
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

/* "application/json", optionally followed by parameters such as charset. */
static int is_json_type(const char *v, size_t len)
{
	static const char want[] = "application/json";
	size_t n = 0;

	while (n < len && v[n] != ';' && v[n] != ' ' && v[n] != '\t')
		n++;
	return n == sizeof(want) - 1 && strncasecmp(v, want, n) == 0;
}

void route_head(const struct th_setup *s, const struct http_req *r, struct route_result *out)
{
	const char *ct;
	size_t ctlen, count;

	memset(out, 0, sizeof(*out));
	out->site = find_site(s, r);
	if (out->site < 0)
		return set(out, 404, "unknown path");
	if (strcmp(r->method, "POST") != 0)
		return set(out, 405, "method not allowed");
	if (r->content_length > s->sites[out->site].max_body)
		return set(out, 413, "body larger than max-body");
	ct = http_req_header(r, "Content-Type", &ctlen, &count);
	if (ct == NULL || count != 1 || !is_json_type(ct, ctlen))
		return set(out, 415, "content type is not application/json");
	set(out, 0, "read body");
}

static int header_is(const struct http_req *r, const char *name, const char *value)
{
	size_t len;
	const char *v = http_req_header(r, name, &len, NULL);
	return v != NULL && len == strlen(value) && memcmp(v, value, len) == 0;
}

static int check_signature(const struct th_setup_site *site, const struct http_req *r,
                           struct route_result *out)
{
	size_t len, count;
	const char *v = http_req_header(r, "X-Hub-Signature-256", &len, &count);
	enum sig_result sr;

	/* Two signature headers are ambiguous; treat them as forged. */
	if (count > 1)
		sr = SIG_MALFORMED;
	else
		sr = sig_verify_sha256(v, len, "sha256=", site->secret, site->secret_len, r->body,
		                       r->body_len);
	if (sr == SIG_OK)
		return 0;
	set(out, 401, sig_strerror(sr));
	return -1;
}

static int is_zero_commit(const char *hex)
{
	return strspn(hex, "0") == 40;
}

/* The ref decision: deploy only an update of exactly refs/heads/<branch>. */
static void decide_ref(const struct th_setup_site *site, const struct push_info *pi,
                       struct route_result *out)
{
	static const char heads[] = "refs/heads/";
	size_t blen = strlen(site->branch);

	log_sanitize(out->detail, sizeof(out->detail), pi->ref, pi->ref_len);
	if (strncmp(pi->ref, "refs/tags/", 10) == 0)
		return set(out, 200, "tag push ignored");
	if (pi->ref_len != sizeof(heads) - 1 + blen || memcmp(pi->ref, heads, sizeof(heads) - 1) ||
	    memcmp(pi->ref + sizeof(heads) - 1, site->branch, blen) != 0)
		return set(out, 200, "push to another ref ignored");
	if ((pi->has_deleted && pi->deleted) || is_zero_commit(pi->after))
		return set(out, 200, "branch deletion ignored");
	out->detail[0] = '\0';
	set(out, 202, "deploy requested");
	out->deploy = 1;
}

void route_body(const struct th_setup *s, const struct http_req *r, struct route_result *out)
{
	const struct th_setup_site *site = &s->sites[out->site];
	struct push_info pi;
	enum json_result jr;
	char delivery[TH_DELIVERY_MAX + 1];

	if (check_signature(site, r, out) < 0)
		return;
	if (header_is(r, "X-GitHub-Event", "ping"))
		return set(out, 200, "ping");
	if (http_req_header(r, "X-GitHub-Event", NULL, NULL) == NULL)
		return set(out, 400, "missing X-GitHub-Event");
	if (!header_is(r, "X-GitHub-Event", "push"))
		return set(out, 200, "event ignored");
	jr = json_push_extract((const char *)r->body, r->body_len, &pi);
	if (jr != JSON_OK)
		return set(out, 400, json_strerror(jr));
	if (!pi.has_ref || !pi.has_after)
		return set(out, 400, "push without ref or after");
	decide_ref(site, &pi, out);
	if (!out->deploy)
		return;
	route_delivery(r, delivery, sizeof(delivery));
	if (th_msg_encode(&out->msg, (unsigned)out->site, pi.after, delivery, strlen(delivery)) !=
	    TH_MSG_OK) {
		out->deploy = 0;
		set(out, 400, "bad commit id");
	}
}

void route_delivery(const struct http_req *r, char *out, size_t outsz)
{
	size_t len;
	const char *v = http_req_header(r, "X-GitHub-Delivery", &len, NULL);
	char clean[TH_DELIVERY_MAX + 1];

	th_delivery_clean(clean, v, v == NULL ? 0 : len);
	snprintf(out, outsz, "%s", clean);
}
