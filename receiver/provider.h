/*
 * provider.h - how each git host signs, names and shapes its webhooks.
 *
 * One table row per provider (provider_id.h).  A site's row is chosen by
 * its config alone; route.c reads only the headers its row names, so a
 * request cannot switch dialects by sending another host's headers.
 */
#ifndef TH_PROVIDER_H
#define TH_PROVIDER_H

#include "json_changes.h"

enum auth_kind {
	AUTH_HMAC_SHA256, /* header = prefix + hex HMAC-SHA256 of the signed bytes */
	AUTH_TOKEN,       /* header = the secret itself (GitLab) */
};

enum body_shape {
	BODY_TOP,              /* GitHub, Gitea, GitLab: top-level ref/before/after */
	BODY_BITBUCKET_CLOUD,  /* push.changes[] */
	BODY_BITBUCKET_SERVER, /* changes[] */
};

/* What an application/x-www-form-urlencoded delivery signs, if the host sends one. */
enum form_mode {
	FORM_REFUSED,      /* JSON only: a form is 415 */
	FORM_SIGNS_RAW,    /* GitHub: the HMAC covers the form bytes as sent */
	FORM_SIGNS_PAYLOAD /* Gitea, Forgejo: the HMAC covers the decoded payload field */
};

struct dialect {
	const char *name;
	enum auth_kind auth;
	const char *auth_header;
	const char *auth_prefix;   /* AUTH_HMAC_SHA256: "sha256=" or "" (bare hex) */
	const char *legacy_header; /* sha1= fallback for sites with legacy-sha1, or NULL */
	const char *event_header;
	const char *push_event;
	const char *ping_event;         /* NULL: the host has no ping */
	const char *delivery_header[2]; /* the first one present names the delivery */
	enum body_shape shape;
	enum form_mode form;
	int test_when_before_is_after; /* Gitea's "Test delivery" is a push with before == after */
};

/* The dialect of provider p; p MUST be < TH_PROVIDER_COUNT (setup_decode checks it). */
const struct dialect *dialect_of(unsigned p);

/* The JSON shape of a Bitbucket body (shape MUST NOT be BODY_TOP). */
enum json_shape dialect_json_shape(enum body_shape shape);

#endif
