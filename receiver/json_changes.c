/*
 * json_changes.c - walk Bitbucket's push.changes[] / changes[].
 *
 * One small walker per object on the path; each keeps its own "seen"
 * flags so that a key read twice is a JSON_DUPLICATE, as at the top level
 * of a GitHub push.
 */
#include "json_changes.h"

#include <string.h>

#include "json_walk.h"

struct walk {
	enum json_shape shape;
	ref_change_fn fn;
	void *ctx;
	size_t count;
	int seen_outer; /* "push" (Cloud) or "changes" (Server) at the top */
	int seen_changes;
};

static int is(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(name, want, n) == 0;
}

/* ---- Bitbucket Cloud: {"new": REF|null, "old": REF|null}, REF = {type, name, target.hash} */

/* Room for every ref type Bitbucket has had (branch, tag, named_branch, bookmark). */
#define TYPE_MAX 31

struct cloud_ref {
	char type[TYPE_MAX + 1];
	size_t type_len;
	char name[JSON_REF_MAX + 1];
	size_t name_len;
	char hash[41];
	int seen_type, seen_name, seen_target, seen_hash;
};

static enum json_result cloud_target(const struct json_doc *d, int v, const char *name, size_t n,
                                     void *ctx)
{
	struct cloud_ref *r = ctx;

	if (!is(name, n, "hash"))
		return JSON_OK;
	if (r->seen_hash++)
		return JSON_DUPLICATE;
	return json_take_hex40(d, v, r->hash);
}

static enum json_result cloud_ref_member(const struct json_doc *d, int v, const char *name,
                                         size_t n, void *ctx)
{
	struct cloud_ref *r = ctx;

	if (is(name, n, "type")) {
		if (r->seen_type++)
			return JSON_DUPLICATE;
		return json_take_string(d, v, "", r->type, TYPE_MAX, &r->type_len);
	}
	if (is(name, n, "name")) {
		if (r->seen_name++)
			return JSON_DUPLICATE;
		return json_take_string(d, v, "", r->name, JSON_REF_MAX, &r->name_len);
	}
	if (is(name, n, "target")) {
		if (r->seen_target++)
			return JSON_DUPLICATE;
		return json_walk_object(d, v, cloud_target, r);
	}
	return JSON_OK;
}

struct cloud_change {
	struct cloud_ref new_ref, old_ref;
	int seen_new, seen_old, new_null, old_null;
};

static enum json_result cloud_side(const struct json_doc *d, int v, struct cloud_ref *r,
                                   int *is_null)
{
	if (json_is_null(d, v)) {
		*is_null = 1;
		return JSON_OK;
	}
	return json_walk_object(d, v, cloud_ref_member, r);
}

static enum json_result cloud_change_member(const struct json_doc *d, int v, const char *name,
                                            size_t n, void *ctx)
{
	struct cloud_change *c = ctx;

	if (is(name, n, "new")) {
		if (c->seen_new++)
			return JSON_DUPLICATE;
		return cloud_side(d, v, &c->new_ref, &c->new_null);
	}
	if (is(name, n, "old")) {
		if (c->seen_old++)
			return JSON_DUPLICATE;
		return cloud_side(d, v, &c->old_ref, &c->old_null);
	}
	return JSON_OK;
}

/* Bitbucket names refs by type and short name; tailhook compares full refs. */
static enum json_result cloud_full_ref(const struct cloud_ref *r, struct ref_change *out)
{
	const char *prefix = "";
	size_t plen;

	if (r->seen_type && r->type_len == 6 && memcmp(r->type, "branch", 6) == 0)
		prefix = "refs/heads/";
	else if (r->seen_type && r->type_len == 3 && memcmp(r->type, "tag", 3) == 0)
		prefix = "refs/tags/";
	plen = strlen(prefix);
	if (plen + r->name_len > JSON_REF_MAX)
		return JSON_BAD_FIELD;
	memcpy(out->ref, prefix, plen);
	memcpy(out->ref + plen, r->name, r->name_len);
	out->ref_len = plen + r->name_len;
	out->ref[out->ref_len] = '\0';
	return JSON_OK;
}

static enum json_result cloud_change(const struct json_doc *d, int v, void *ctx)
{
	struct walk *w = ctx;
	struct cloud_change c;
	struct ref_change rc;
	const struct cloud_ref *side;
	enum json_result r;

	memset(&c, 0, sizeof(c));
	memset(&rc, 0, sizeof(rc));
	r = json_walk_object(d, v, cloud_change_member, &c);
	if (r != JSON_OK)
		return r;
	/* a created or updated ref is described by new; a deleted one only by old */
	if (!c.seen_new)
		return JSON_BAD_FIELD;
	rc.deleted = c.new_null;
	side = rc.deleted ? &c.old_ref : &c.new_ref;
	if (rc.deleted && (!c.seen_old || c.old_null))
		return JSON_BAD_FIELD; /* neither side: nothing changed */
	if (!side->seen_name || (!rc.deleted && !side->seen_hash))
		return JSON_BAD_FIELD;
	r = cloud_full_ref(side, &rc);
	if (r != JSON_OK)
		return r;
	memcpy(rc.after, rc.deleted ? "0000000000000000000000000000000000000000" : side->hash, 41);
	w->count++;
	w->fn(&rc, w->ctx);
	return JSON_OK;
}

/* ---- Bitbucket Server: {"refId": "refs/heads/x", "toHash": HEX, "type": "UPDATE"} */

struct server_change {
	struct ref_change rc;
	char type[TYPE_MAX + 1];
	size_t type_len;
	int seen_ref, seen_to, seen_type;
};

static enum json_result server_member(const struct json_doc *d, int v, const char *name, size_t n,
                                      void *ctx)
{
	struct server_change *c = ctx;

	if (is(name, n, "refId")) {
		if (c->seen_ref++)
			return JSON_DUPLICATE;
		return json_take_string(d, v, "", c->rc.ref, JSON_REF_MAX, &c->rc.ref_len);
	}
	if (is(name, n, "toHash")) {
		if (c->seen_to++)
			return JSON_DUPLICATE;
		return json_take_hex40(d, v, c->rc.after);
	}
	if (is(name, n, "type")) {
		if (c->seen_type++)
			return JSON_DUPLICATE;
		return json_take_string(d, v, "", c->type, TYPE_MAX, &c->type_len);
	}
	return JSON_OK;
}

static enum json_result server_change(const struct json_doc *d, int v, void *ctx)
{
	struct walk *w = ctx;
	struct server_change c;
	enum json_result r;

	memset(&c, 0, sizeof(c));
	r = json_walk_object(d, v, server_member, &c);
	if (r != JSON_OK)
		return r;
	if (!c.seen_ref || !c.seen_to)
		return JSON_BAD_FIELD;
	c.rc.deleted = c.seen_type && c.type_len == 6 && memcmp(c.type, "DELETE", 6) == 0;
	w->count++;
	w->fn(&c.rc, w->ctx);
	return JSON_OK;
}

/* ---- the outer levels */

static enum json_result changes_array(const struct json_doc *d, int v, struct walk *w)
{
	if (w->seen_changes++)
		return JSON_DUPLICATE;
	return json_walk_array(d, v,
	                       w->shape == SHAPE_BITBUCKET_CLOUD ? cloud_change : server_change, w);
}

static enum json_result cloud_push(const struct json_doc *d, int v, const char *name, size_t n,
                                   void *ctx)
{
	return is(name, n, "changes") ? changes_array(d, v, ctx) : JSON_OK;
}

static enum json_result top_member(const struct json_doc *d, int v, const char *name, size_t n,
                                   void *ctx)
{
	struct walk *w = ctx;

	if (w->shape == SHAPE_BITBUCKET_SERVER)
		return is(name, n, "changes") ? changes_array(d, v, w) : JSON_OK;
	if (!is(name, n, "push"))
		return JSON_OK;
	if (w->seen_outer++)
		return JSON_DUPLICATE;
	return json_walk_object(d, v, cloud_push, w);
}

enum json_result json_changes_extract(const char *body, size_t len, enum json_shape shape,
                                      ref_change_fn fn, void *ctx, size_t *count)
{
	struct walk w = {shape, fn, ctx, 0, 0, 0};
	enum json_result r = json_walk_body(body, len, top_member, &w);

	*count = r == JSON_OK ? w.count : 0;
	return r;
}
