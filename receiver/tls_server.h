/*
 * tls_server.h - BearSSL server profile: TLS 1.2, ECDHE with AEAD only.
 */
#ifndef TH_TLS_SERVER_H
#define TH_TLS_SERVER_H

#include <bearssl.h>

#include "tls_keys.h"

/*
 * Initialises sc for one new connection with keys, the given I/O buffer
 * (BR_SSL_BUFSIZE_BIDI bytes) and fresh entropy from the master DRBG.
 * Returns 0, or -1 if the engine refused to start.
 */
int tls_server_start(br_ssl_server_context *sc, const struct tls_keys *keys, unsigned char *iobuf,
                     size_t iobuf_len);

#endif
