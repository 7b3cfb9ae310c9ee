/*
 * signature.h - webhook authentication: HMAC-SHA256 over the raw body.
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
