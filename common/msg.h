/*
 * msg.h - the only message that crosses the trust boundary.
 *
 * The receiver (unprivileged, faces the network) sends exactly this
 * fixed-size record to the deployer (privileged) over a SOCK_SEQPACKET
 * socketpair, one record per packet.  It carries names, never actions:
 * a site index into the deployer's own config, the commit the sender
 * claimed (logged and compared, never deployed by itself) and a delivery
 * id for the logs.  Nothing variable-length ever crosses.
 *
 * Wire layout (TH_MSG_SIZE = 136 bytes, no padding, host byte order since
 * both ends are the same binary build on the same machine):
 *   0   u32  magic      TH_MSG_MAGIC
 *   4   u16  version    TH_MSG_VERSION
 *   6   u16  site       index into [site] sections, in config order
 *   8   char commit[41] 40 lowercase hex digits + NUL
 *   49  char delivery[87] printable ASCII, NUL-terminated within the array
 */
#ifndef TH_MSG_H
#define TH_MSG_H

#include <stddef.h>
#include <stdint.h>

#define TH_MSG_MAGIC    0x74686b31u /* "thk1" */
#define TH_MSG_VERSION  1
#define TH_COMMIT_HEX   40
#define TH_DELIVERY_MAX 86 /* characters, excluding the NUL */

struct th_msg {
	uint32_t magic;
	uint16_t version;
	uint16_t site;
	char commit[TH_COMMIT_HEX + 1];
	char delivery[TH_DELIVERY_MAX + 1];
};

#define TH_MSG_SIZE 136
_Static_assert(sizeof(struct th_msg) == TH_MSG_SIZE, "th_msg must have no padding");

enum th_msg_err {
	TH_MSG_OK = 0,
	TH_MSG_ESIZE,     /* not exactly TH_MSG_SIZE bytes */
	TH_MSG_EMAGIC,    /* wrong magic */
	TH_MSG_EVERSION,  /* wrong version */
	TH_MSG_ESITE,     /* site index out of range */
	TH_MSG_ECOMMIT,   /* commit not 40 lowercase hex + NUL */
	TH_MSG_EDELIVERY, /* delivery not printable or not NUL-terminated */
};

/*
 * Fills *m for site index `site`.  commit MUST be 40 hex digits (either
 * case; stored lowercase).  delivery is copied, with every byte outside
 * [A-Za-z0-9._:-] replaced by '_', truncated to TH_DELIVERY_MAX; NULL or
 * empty becomes "-".  Returns TH_MSG_OK, or TH_MSG_ECOMMIT for a bad commit.
 */
enum th_msg_err th_msg_encode(struct th_msg *m, unsigned site, const char *commit,
                              const char *delivery, size_t delivery_len);

/*
 * Validates `len` bytes at buf as a message for a deployer with nsites
 * sites and copies it into *out.  Every field is checked; on any error
 * *out is zeroed.  This is the deployer's whole parser of receiver input.
 */
enum th_msg_err th_msg_decode(struct th_msg *out, const void *buf, size_t len, unsigned nsites);

/*
 * Copies a delivery id as it will appear in a message and in the logs:
 * bytes outside [A-Za-z0-9._:-] become '_', at most TH_DELIVERY_MAX kept,
 * NULL or empty becomes "-".  out MUST hold TH_DELIVERY_MAX + 1 bytes.
 */
void th_delivery_clean(char *out, const char *in, size_t len);

/* A short constant description of an error, for log lines. */
const char *th_msg_strerror(enum th_msg_err e);

#endif
