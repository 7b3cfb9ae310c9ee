/*
 * form.c - decode the payload field of a form-encoded webhook body.
 *
 * Strict where ambiguity could matter (bad escapes, a second payload, an
 * unexpected field) and permissive about bytes that need no escaping,
 * because senders differ in what they escape.
 */
#include "form.h"
#include "hex.h"

#include <stdlib.h>
#include <string.h>

/* Decodes in[0, n) into out (room for n bytes); returns the length or -1. */
static long decode(const unsigned char *in, size_t n, unsigned char *out)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int hi, lo;

		if (in[i] != '%') {
			out[o++] = in[i] == '+' ? ' ' : in[i];
			continue;
		}
		if (i + 2 >= n)
			return -1;
		hi = hex_value((unsigned char)in[i + 1]);
		lo = hex_value((unsigned char)in[i + 2]);
		if (hi < 0 || lo < 0)
			return -1;
		out[o++] = (unsigned char)(hi << 4 | lo);
		i += 2;
	}
	return (long)o;
}

/*
 * 1 if the field name in[0, n) decodes to "payload", 0 if not, -1 if it
 * does not decode.  Seven bytes take at most 21 encoded ones.
 */
static int is_payload_name(const unsigned char *in, size_t n)
{
	unsigned char name[21];
	long len;

	if (n > sizeof(name))
		return 0;
	len = decode(in, n, name);
	if (len < 0)
		return -1;
	return len == 7 && memcmp(name, "payload", 7) == 0;
}

enum form_result form_payload(const unsigned char *body, size_t len, unsigned char **out,
                              size_t *out_len)
{
	const unsigned char *value = NULL;
	size_t value_len = 0, pos = 0;
	long n;

	*out = NULL;
	*out_len = 0;
	while (pos <= len) {
		const unsigned char *f = body + pos;
		const unsigned char *amp = memchr(f, '&', len - pos);
		size_t flen = amp != NULL ? (size_t)(amp - f) : len - pos;
		const unsigned char *eq = memchr(f, '=', flen);
		size_t nlen = eq != NULL ? (size_t)(eq - f) : flen;
		int is_payload;

		if (flen == 0)
			return FORM_MALFORMED;
		is_payload = is_payload_name(f, nlen);
		if (is_payload < 0)
			return FORM_MALFORMED;
		if (!is_payload)
			return FORM_EXTRA;
		if (value != NULL)
			return FORM_DUPLICATE;
		value = eq != NULL ? eq + 1 : f + flen;
		value_len = eq != NULL ? flen - nlen - 1 : 0;
		pos += flen + 1;
	}
	if (value == NULL)
		return FORM_NO_PAYLOAD;
	*out = malloc(value_len + 1);
	if (*out == NULL)
		return FORM_NOMEM;
	n = decode(value, value_len, *out);
	if (n < 0) {
		free(*out);
		*out = NULL;
		return FORM_MALFORMED;
	}
	(*out)[n] = '\0';
	*out_len = (size_t)n;
	return FORM_OK;
}

const char *form_strerror(enum form_result r)
{
	switch (r) {
	case FORM_OK:
		return "form ok";
	case FORM_MALFORMED:
		return "form malformed";
	case FORM_NO_PAYLOAD:
		return "form without payload field";
	case FORM_DUPLICATE:
		return "form payload field given twice";
	case FORM_EXTRA:
		return "form field other than payload";
	case FORM_NOMEM:
		return "out of memory";
	}
	return "form: unknown result";
}
