/*
 * provider.c - the dialect table.  Sources for every entry are in
 * docs/providers.md.
 */
#include "provider.h"

#include "provider_id.h"

static const struct dialect dialects[TH_PROVIDER_COUNT] = {
    [TH_PROVIDER_GITHUB] =
        {
            .name = "github",
            .auth = AUTH_HMAC_SHA256,
            .auth_header = "X-Hub-Signature-256",
            .auth_prefix = "sha256=",
            .legacy_header = "X-Hub-Signature",
            .event_header = "X-GitHub-Event",
            .push_event = "push",
            .ping_event = "ping",
            .delivery_header = {"X-GitHub-Delivery", NULL},
            .shape = BODY_TOP,
            .form = FORM_SIGNS_RAW,
        },
    [TH_PROVIDER_GITEA] =
        {
            .name = "gitea",
            .auth = AUTH_HMAC_SHA256,
            .auth_header = "X-Gitea-Signature",
            .auth_prefix = "",
            .event_header = "X-Gitea-Event",
            .push_event = "push",
            .delivery_header = {"X-Gitea-Delivery", NULL},
            .shape = BODY_TOP,
            .form = FORM_SIGNS_PAYLOAD,
            .test_when_before_is_after = 1,
        },
    [TH_PROVIDER_FORGEJO] =
        {
            .name = "forgejo",
            .auth = AUTH_HMAC_SHA256,
            .auth_header = "X-Forgejo-Signature",
            .auth_prefix = "",
            .event_header = "X-Forgejo-Event",
            .push_event = "push",
            .delivery_header = {"X-Forgejo-Delivery", NULL},
            .shape = BODY_TOP,
            .form = FORM_SIGNS_PAYLOAD,
            .test_when_before_is_after = 1,
        },
    [TH_PROVIDER_GITLAB] =
        {
            .name = "gitlab",
            .auth = AUTH_TOKEN,
            .auth_header = "X-Gitlab-Token",
            .event_header = "X-Gitlab-Event",
            .push_event = "Push Hook",
            /* Idempotency-Key survives retries and resends; the event UUID may not */
            .delivery_header = {"Idempotency-Key", "X-Gitlab-Event-UUID"},
            .shape = BODY_TOP,
            .form = FORM_REFUSED,
        },
    [TH_PROVIDER_BITBUCKET_CLOUD] =
        {
            .name = "bitbucket-cloud",
            .auth = AUTH_HMAC_SHA256,
            /* GitHub's SHA-1 header name, carrying SHA-256 */
            .auth_header = "X-Hub-Signature",
            .auth_prefix = "sha256=",
            .event_header = "X-Event-Key",
            .push_event = "repo:push",
            .delivery_header = {"X-Request-UUID", NULL},
            .shape = BODY_BITBUCKET_CLOUD,
            .form = FORM_REFUSED,
        },
    [TH_PROVIDER_BITBUCKET_SERVER] =
        {
            .name = "bitbucket-server",
            .auth = AUTH_HMAC_SHA256,
            .auth_header = "X-Hub-Signature",
            .auth_prefix = "sha256=",
            .event_header = "X-Event-Key",
            .push_event = "repo:refs_changed",
            .ping_event = "diagnostics:ping",
            .delivery_header = {"X-Request-Id", NULL},
            .shape = BODY_BITBUCKET_SERVER,
            .form = FORM_REFUSED,
        },
};

const struct dialect *dialect_of(unsigned p)
{
	return &dialects[p < TH_PROVIDER_COUNT ? p : TH_PROVIDER_GITHUB];
}

enum json_shape dialect_json_shape(enum body_shape shape)
{
	return shape == BODY_BITBUCKET_SERVER ? SHAPE_BITBUCKET_SERVER : SHAPE_BITBUCKET_CLOUD;
}
