/*
 * dedupe.h - answer a redelivered push without deploying it again.
 *
 * Hosts resend a delivery with the same id (GitHub's and GitLab's
 * "redeliver", Bitbucket's retries).  A deploy request is remembered by
 * site, delivery id and commit for an hour, in a fixed table in the
 * receiver's memory: a restart forgets it, and when the table is full
 * the oldest entry makes room.  Requests without a delivery id ("-")
 * are never remembered.
 */
#ifndef TH_DEDUPE_H
#define TH_DEDUPE_H

#include "msg.h"

#define DEDUPE_SLOTS  1024
#define DEDUPE_TTL_MS (3600 * 1000LL)

/* 1 if a request for the same site, delivery and commit was sent in the last hour. */
int dedupe_seen(const struct th_msg *m, long long now_ms);

/* Remembers a request that reached the deployer. */
void dedupe_note(const struct th_msg *m, long long now_ms);

/* Forgets everything (tests). */
void dedupe_reset(void);

#endif
