/*
 * fuzz_form.c - form_payload, the decoder of application/x-www-form-urlencoded
 * deliveries (GitHub, Gitea, Forgejo), on arbitrary bodies; and the JSON
 * extractor on whatever it decodes, as route.c does.
 *
 * The input is the body.  Checked: an error leaves *out NULL; a success
 * gives a malloc'd, NUL-terminated value shorter than the body ("payload="
 * is gone and URL decoding only shrinks).  %00 can put NUL bytes inside
 * the value; the JSON extractor behind must refuse them, not stop there.
 */
#include <string.h>

#include "form.h"
#include "fuzz.h"
#include "json_push.h"

int fuzz_form_one(const uint8_t *data, size_t size)
{
	unsigned char *out = (unsigned char *)"poison";
	size_t out_len = (size_t)-1;
	struct push_info pi;
	enum form_result r;

	r = form_payload(data, size, &out, &out_len);
	FUZZ_CHECK(r >= FORM_OK && r <= FORM_NOMEM);
	FUZZ_CHECK(form_strerror(r) != NULL);
	if (r != FORM_OK) {
		FUZZ_CHECK(out == NULL);
		return 0;
	}
	FUZZ_CHECK(out != NULL && out_len < size && out[out_len] == '\0');
	json_push_extract((const char *)out, out_len, &pi);
	free(out);
	return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_form_one(data, size);
}
#endif
