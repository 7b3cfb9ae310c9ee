/*
 * json_push.h - read `ref`, `before`, `after` and `deleted` from a push payload.
 *
 * Called only on a body whose signature has been verified.  Uses jsmn in
 * strict mode and walks the top-level object only: a "ref" nested inside
 * "repository" is never mistaken for the push's ref.
 */
#ifndef TH_JSON_PUSH_H
#define TH_JSON_PUSH_H

#include <stddef.h>

#define JSON_REF_MAX    1024       /* bytes of the decoded ref */
#define JSON_MAX_TOKENS (1u << 20) /* more than this is refused as too complex */

struct push_info {
	char ref[JSON_REF_MAX + 1]; /* decoded (escapes resolved, UTF-8), NUL-terminated */
	size_t ref_len;
	int has_ref;
	char after[41]; /* 40 lowercase hex + NUL */
	int has_after;
	char before[41]; /* the same, for the ref's previous commit */
	int has_before;
	int deleted; /* 1 for JSON true */
	int has_deleted;
};

enum json_result {
	JSON_OK = 0,
	JSON_INVALID,   /* not one strict JSON object spanning the whole body
	                   (trailing whitespace allowed), NUL byte, bad syntax */
	JSON_DUPLICATE, /* a key the extractor reads appears twice in its object */
	JSON_TOO_BIG,   /* more than JSON_MAX_TOKENS tokens or nested deeper than 64
	                   (jsmn's time grows with the square of the depth) */
	JSON_BAD_FIELD, /* ref not a string, bad escape, \u0000, ref too long;
	                   after or before not a string of 40 hex digits;
	                   deleted not true/false; a walked object or array of
	                   the wrong type */
};

/*
 * Parses body (len bytes, not NUL-terminated, may contain anything) and
 * fills *out.  Keys are compared after escape decoding, so "r\u0065f" is
 * "ref".  Missing keys are reported through has_* and are not errors here.
 */
enum json_result json_push_extract(const char *body, size_t len, struct push_info *out);

const char *json_strerror(enum json_result r);

#endif
