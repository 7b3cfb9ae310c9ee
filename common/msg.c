/*
 * msg.c - encode and strictly decode the fixed receiver->deployer message.
 */
#include "msg.h"

#include <string.h>

static int is_hex_lower(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int is_delivery_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '-';
}

enum th_msg_err th_msg_encode(struct th_msg *m, unsigned site, const char *commit,
                              const char *delivery, size_t delivery_len)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	m->magic = TH_MSG_MAGIC;
	m->version = TH_MSG_VERSION;
	m->site = (uint16_t)site;
	if (site > UINT16_MAX || commit == NULL || strlen(commit) != TH_COMMIT_HEX)
		return TH_MSG_ECOMMIT;
	for (i = 0; i < TH_COMMIT_HEX; i++) {
		char c = commit[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!is_hex_lower(c))
			return TH_MSG_ECOMMIT;
		m->commit[i] = c;
	}
	th_delivery_clean(m->delivery, delivery, delivery_len);
	return TH_MSG_OK;
}

void th_delivery_clean(char *out, const char *in, size_t len)
{
	size_t i;

	if (in == NULL || len == 0) {
		out[0] = '-';
		out[1] = '\0';
		return;
	}
	if (len > TH_DELIVERY_MAX)
		len = TH_DELIVERY_MAX;
	for (i = 0; i < len; i++)
		out[i] = is_delivery_char(in[i]) ? in[i] : '_';
	out[len] = '\0';
}

static enum th_msg_err check_fields(const struct th_msg *m, unsigned nsites)
{
	size_t i;

	if (m->magic != TH_MSG_MAGIC)
		return TH_MSG_EMAGIC;
	if (m->version != TH_MSG_VERSION)
		return TH_MSG_EVERSION;
	if (m->site >= nsites)
		return TH_MSG_ESITE;
	for (i = 0; i < TH_COMMIT_HEX; i++)
		if (!is_hex_lower(m->commit[i]))
			return TH_MSG_ECOMMIT;
	if (m->commit[TH_COMMIT_HEX] != '\0')
		return TH_MSG_ECOMMIT;
	/* The delivery must be a non-empty C string, NUL inside its array. */
	if (memchr(m->delivery, '\0', sizeof(m->delivery)) == NULL || m->delivery[0] == '\0')
		return TH_MSG_EDELIVERY;
	for (i = 0; m->delivery[i] != '\0'; i++)
		if (!is_delivery_char(m->delivery[i]))
			return TH_MSG_EDELIVERY;
	return TH_MSG_OK;
}

enum th_msg_err th_msg_decode(struct th_msg *out, const void *buf, size_t len, unsigned nsites)
{
	enum th_msg_err e;

	memset(out, 0, sizeof(*out));
	if (len != TH_MSG_SIZE)
		return TH_MSG_ESIZE;
	memcpy(out, buf, TH_MSG_SIZE);
	e = check_fields(out, nsites);
	if (e != TH_MSG_OK)
		memset(out, 0, sizeof(*out));
	return e;
}

const char *th_msg_strerror(enum th_msg_err e)
{
	switch (e) {
	case TH_MSG_OK:
		return "ok";
	case TH_MSG_ESIZE:
		return "wrong message size";
	case TH_MSG_EMAGIC:
		return "wrong magic";
	case TH_MSG_EVERSION:
		return "wrong version";
	case TH_MSG_ESITE:
		return "site index out of range";
	case TH_MSG_ECOMMIT:
		return "commit is not 40 lowercase hex digits";
	case TH_MSG_EDELIVERY:
		return "delivery id not printable or not terminated";
	}
	return "unknown error";
}
