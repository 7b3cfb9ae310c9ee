/*
 * provider_id.c - provider names as written in the config.
 */
#include "provider_id.h"

#include <string.h>

static const char *const names[TH_PROVIDER_COUNT] = {
    [TH_PROVIDER_GITHUB] = "github",
    [TH_PROVIDER_GITEA] = "gitea",
    [TH_PROVIDER_FORGEJO] = "forgejo",
    [TH_PROVIDER_GITLAB] = "gitlab",
    [TH_PROVIDER_BITBUCKET_CLOUD] = "bitbucket-cloud",
    [TH_PROVIDER_BITBUCKET_SERVER] = "bitbucket-server",
};

const char *th_provider_name(unsigned p)
{
	return p < TH_PROVIDER_COUNT ? names[p] : "?";
}

int th_provider_parse(const char *name)
{
	int i;

	for (i = 0; i < TH_PROVIDER_COUNT; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}
