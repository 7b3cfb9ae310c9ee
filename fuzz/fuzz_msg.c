/*
 * fuzz_msg.c - the deployer's decoder of receiver messages, th_msg_decode,
 * on arbitrary bytes of any length; and th_msg_encode on arbitrary fields.
 *
 * Decode: the whole input is one received packet, for a deployer with
 * NSITES sites.  Any error must leave the output zeroed; an OK message
 * must re-encode (th_msg_encode of its own fields) to the same fields.
 * Encode: when the input is long enough, byte 0 picks a site, the next 40
 * bytes are the commit and the rest the delivery id; whatever the encoder
 * accepts, the decoder must accept and read back unchanged.
 */
#include <string.h>

#include "fuzz.h"
#include "msg.h"

#define NSITES 4u

static int all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static int same_fields(const struct th_msg *a, const struct th_msg *b)
{
	return a->magic == b->magic && a->version == b->version && a->site == b->site &&
	       strcmp(a->commit, b->commit) == 0 && strcmp(a->delivery, b->delivery) == 0;
}

static void check_decode(const uint8_t *data, size_t size)
{
	struct th_msg m, again;
	enum th_msg_err e;

	memset(&m, 0xA5, sizeof(m));
	e = th_msg_decode(&m, data, size, NSITES);
	FUZZ_CHECK(e >= TH_MSG_OK && e <= TH_MSG_EDELIVERY);
	FUZZ_CHECK(th_msg_strerror(e) != NULL);
	if (e != TH_MSG_OK) {
		FUZZ_CHECK(all_zero(&m, sizeof(m)));
		return;
	}
	FUZZ_CHECK(size == TH_MSG_SIZE && m.site < NSITES);
	/* No deployer has zero sites, but if one had, nothing could be valid. */
	FUZZ_CHECK(th_msg_decode(&again, data, size, 0) == TH_MSG_ESITE);
	FUZZ_CHECK(th_msg_encode(&again, m.site, m.commit, m.delivery, strlen(m.delivery)) ==
	           TH_MSG_OK);
	FUZZ_CHECK(same_fields(&m, &again));
}

static void check_encode(const uint8_t *data, size_t size)
{
	char commit[TH_COMMIT_HEX + 1];
	struct th_msg m, out;
	unsigned site;

	if (size < 1 + TH_COMMIT_HEX)
		return;
	site = data[0] % NSITES;
	memcpy(commit, data + 1, TH_COMMIT_HEX);
	commit[TH_COMMIT_HEX] = '\0';
	if (th_msg_encode(&m, site, commit, (const char *)data + 1 + TH_COMMIT_HEX,
	                  size - 1 - TH_COMMIT_HEX) != TH_MSG_OK)
		return;
	FUZZ_CHECK(th_msg_decode(&out, &m, sizeof(m), NSITES) == TH_MSG_OK);
	FUZZ_CHECK(same_fields(&m, &out) && out.site == site);
}

/* The encoder's own refusals, for any delivery. */
static void check_encode_refusals(const uint8_t *data, size_t size)
{
	static const char commit[] = "0123456789abcdef0123456789abcdef01234567";
	struct th_msg m;

	FUZZ_CHECK(th_msg_encode(&m, 0, NULL, (const char *)data, size) == TH_MSG_ECOMMIT);
	FUZZ_CHECK(th_msg_encode(&m, 0x10000, commit, (const char *)data, size) == TH_MSG_ECOMMIT);
}

int fuzz_msg_one(const uint8_t *data, size_t size)
{
	check_decode(data, size);
	check_encode(data, size);
	check_encode_refusals(data, size);
	return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_msg_one(data, size);
}
#endif
