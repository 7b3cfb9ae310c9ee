/*
 * form.h - the `payload` field of an application/x-www-form-urlencoded body.
 *
 * GitHub, Gitea and Forgejo can send a delivery as a form with one field,
 * `payload`, holding the JSON.  This decodes that field and nothing else.
 */
#ifndef TH_FORM_H
#define TH_FORM_H

#include <stddef.h>

enum form_result {
	FORM_OK = 0,
	FORM_MALFORMED,  /* a '%' not followed by two hex digits, or an empty field */
	FORM_NO_PAYLOAD, /* no field called payload */
	FORM_DUPLICATE,  /* payload given twice */
	FORM_EXTRA,      /* a field other than payload */
	FORM_NOMEM,
};

/*
 * Decodes body (len bytes, not NUL-terminated) as `name=value` fields
 * joined by '&', with '+' for a space and %XX escapes (either case), and
 * returns the decoded value of the single `payload` field in a malloc'd
 * buffer (*out, *out_len bytes plus a NUL that is not counted).  Any
 * other byte stands for itself: real senders leave JSON punctuation and
 * even spaces unescaped.  On error *out is NULL.
 */
enum form_result form_payload(const unsigned char *body, size_t len, unsigned char **out,
                              size_t *out_len);

const char *form_strerror(enum form_result r);

#endif
