/*
 * dedupe.c - a small table of recent deploy requests.
 *
 * A linear scan over a fixed array: 1024 entries cost well under a
 * millisecond per request, need no allocation after start-up, and bound
 * the memory whatever a sender does.
 */
#include "dedupe.h"

#include <string.h>

struct entry {
	long long at_ms; /* 0: free */
	uint16_t site;
	char commit[TH_COMMIT_HEX + 1];
	char delivery[TH_DELIVERY_MAX + 1];
};

static struct entry table[DEDUPE_SLOTS];

static int same(const struct entry *e, const struct th_msg *m)
{
	return e->site == m->site && strcmp(e->commit, m->commit) == 0 &&
	       strcmp(e->delivery, m->delivery) == 0;
}

static int fresh(const struct entry *e, long long now_ms)
{
	return e->at_ms != 0 && now_ms - e->at_ms < DEDUPE_TTL_MS;
}

static int has_delivery(const struct th_msg *m)
{
	return strcmp(m->delivery, "-") != 0 && m->delivery[0] != '\0';
}

int dedupe_seen(const struct th_msg *m, long long now_ms)
{
	size_t i;

	if (!has_delivery(m))
		return 0;
	for (i = 0; i < DEDUPE_SLOTS; i++)
		if (fresh(&table[i], now_ms) && same(&table[i], m))
			return 1;
	return 0;
}

void dedupe_note(const struct th_msg *m, long long now_ms)
{
	size_t i, victim = 0;

	if (!has_delivery(m))
		return;
	for (i = 0; i < DEDUPE_SLOTS; i++) {
		/* an existing entry is refreshed rather than duplicated */
		if (table[i].at_ms != 0 && same(&table[i], m)) {
			victim = i;
			break;
		}
		if (table[i].at_ms < table[victim].at_ms)
			victim = i;
	}
	table[victim].at_ms = now_ms > 0 ? now_ms : 1;
	table[victim].site = m->site;
	memcpy(table[victim].commit, m->commit, sizeof(table[victim].commit));
	memcpy(table[victim].delivery, m->delivery, sizeof(table[victim].delivery));
}

void dedupe_reset(void)
{
	memset(table, 0, sizeof(table));
}
