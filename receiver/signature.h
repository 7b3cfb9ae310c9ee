/*
 * signature.h - webhook authentication: an HMAC over the signed bytes
 * (SHA-256, or SHA-1 for GitHub's legacy header), or a shared token
 * (GitLab).  A site may have two secrets while one is being rotated;
 * either authenticates.
 *
 * This runs before any other parsing of the body: an unauthenticated
 * request never reaches the JSON parser.
 */
#ifndef TH_SIGNATURE_H
#define TH_SIGNATURE_H

#include <stddef.h>

enum sig_result {
	SIG_OK = 0,
	SIG_MISSING,   /* no header, or an empty value */
	SIG_MALFORMED, /* wrong prefix, wrong length, or a non-hex digit */
	SIG_MISMATCH,  /* well-formed, but not the MAC of this body */
};

/* The secrets of one site: one, or two during a rotation. */
struct sig_keys {
	const unsigned char *key[2];
	size_t len[2];
	size_t n;
};

enum sig_alg { SIG_SHA256, SIG_SHA1 };

/*
 * Like sig_verify_sha256, for either algorithm (SHA-1: 40 hex digits) and
 * every key in *keys.  All keys are always tried, so the time taken does
 * not tell which one matched.
 */
enum sig_result sig_verify_hmac(enum sig_alg alg, const char *hdr, size_t hdr_len,
                                const char *prefix, const struct sig_keys *keys,
                                const unsigned char *body, size_t body_len);

/*
 * Checks a token header (GitLab's X-Gitlab-Token): the value must equal
 * one of the keys.  SHA-256 digests of both sides are compared in
 * constant time, so neither the content nor the length of a secret
 * shows in the timing.  Empty or absent: SIG_MISSING; longer than
 * SIG_TOKEN_MAX: SIG_MALFORMED; otherwise SIG_OK or SIG_MISMATCH.
 */
#define SIG_TOKEN_MAX 4096
enum sig_result sig_verify_token(const char *hdr, size_t hdr_len, const struct sig_keys *keys);

/*
 * Checks a signature header value (hdr, hdr_len bytes, not NUL-terminated,
 * surrounding whitespace already trimmed by the HTTP parser; hdr may be
 * NULL when the header is absent).  The value MUST be `prefix` (e.g.
 * "sha256=", compared case-sensitively; "" for bare hex) followed by
 * exactly 64 hex digits of either case.  The MAC is HMAC-SHA256(secret,
 * body) computed with BearSSL and compared in constant time.
 */
enum sig_result sig_verify_sha256(const char *hdr, size_t hdr_len, const char *prefix,
                                  const unsigned char *secret, size_t secret_len,
                                  const unsigned char *body, size_t body_len);

/* Constant-time comparison: returns 1 if equal, 0 otherwise. Time depends on n only. */
int ct_memeq(const void *a, const void *b, size_t n);

/* A short constant description for log lines. */
const char *sig_strerror(enum sig_result r);

#endif
