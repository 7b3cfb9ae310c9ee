/*
 * provider_id.h - the git hosts a site can be configured for.
 *
 * Shared by both processes: the deployer maps the config's `provider`
 * value to a number, the setup blob carries the number, and the receiver
 * picks its dialect (receiver/provider.c) by it.  The number is fixed by
 * the config alone: nothing in a request can change it.
 */
#ifndef TH_PROVIDER_ID_H
#define TH_PROVIDER_ID_H

enum th_provider {
	TH_PROVIDER_GITHUB = 0,
	TH_PROVIDER_GITEA,
	TH_PROVIDER_FORGEJO,
	TH_PROVIDER_GITLAB,
	TH_PROVIDER_BITBUCKET_CLOUD,
	TH_PROVIDER_BITBUCKET_SERVER,
	TH_PROVIDER_COUNT, /* not a provider: the number of them */
};

/* Site flags carried in the setup blob. */
#define TH_SITE_LEGACY_SHA1 0x1u /* github: accept X-Hub-Signature (sha1=) without -256 */
#define TH_SITE_FLAGS_KNOWN TH_SITE_LEGACY_SHA1

/* The config spelling of p ("github", "bitbucket-cloud", ...), or "?" if out of range. */
const char *th_provider_name(unsigned p);

/* The provider spelled `name` exactly as in the config, or -1. */
int th_provider_parse(const char *name);

#endif
