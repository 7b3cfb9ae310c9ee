/*
 * setup_blob.h - what the deployer hands the receiver when it starts it.
 *
 * The receiver is a fresh exec of its own image, so it gets its settings
 * from the deployer through a sealed memfd read once before the sandbox is
 * locked.  This travels in the trusted direction (privileged -> unprivileged)
 * and is not the socketpair: the socketpair only ever carries struct th_msg
 * from the receiver to the deployer.
 *
 * Encoding: a sequence of records (u16 type, u32 length, bytes), host byte
 * order.  The decoder checks every length against what is left.
 */
#ifndef TH_SETUP_BLOB_H
#define TH_SETUP_BLOB_H

#include <stddef.h>
#include <stdint.h>

struct th_setup_site {
	char *name;
	char *path;
	char *branch;
	uint32_t provider; /* enum th_provider (provider_id.h) */
	uint64_t max_body;
	unsigned char *secret;
	size_t secret_len;
	unsigned char *secret2; /* optional second secret (rotation), NULL if none */
	size_t secret2_len;
	uint32_t flags; /* TH_SITE_* (provider_id.h) */
};

struct th_setup {
	uint32_t handshake_timeout, head_timeout, request_timeout, idle_timeout;
	uint32_t max_connections;
	uint32_t nlisten;               /* listeners are fds TH_FD_LISTEN0 .. +nlisten-1 */
	unsigned char listen_plain[16]; /* 1: a Unix socket behind a local proxy, plain HTTP */
	uint32_t privileged;            /* 1: started as root, drop to uid/gid and chroot */
	uint32_t uid, gid;              /* the receiver's own user */
	char *chroot;                   /* an empty root-owned directory */
	char *cert_pem;
	size_t cert_len;
	char *key_pem;
	size_t key_len;
	struct th_setup_site *sites;
	size_t nsites;
};

/* Fixed fd numbers in the receiver image, set up by the deployer before exec. */
#define TH_FD_SOCKPAIR      3
#define TH_FD_SETUP         4
#define TH_FD_LISTEN0       5
#define TH_SETUP_MAX_LISTEN 16

/* Serialises s; returns a malloc'd buffer and its length, or NULL. */
unsigned char *setup_encode(const struct th_setup *s, size_t *len);

/* Parses a blob; returns 0 and fills *s (malloc'd fields), or -1. */
int setup_decode(struct th_setup *s, const unsigned char *buf, size_t len);

/* Wipes the secrets and key, then frees every field. */
void setup_free(struct th_setup *s);

#endif
