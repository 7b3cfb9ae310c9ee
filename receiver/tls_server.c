/*
 * tls_server.c - the TLS profile the receiver offers.
 *
 * Only TLS 1.2 (the newest BearSSL 0.6 speaks) and only ECDHE key
 * exchange with AEAD ciphers: forward secrecy and no CBC or 3DES, which
 * br_ssl_server_init_full_* would otherwise enable.
 */
#include "tls_server.h"

#include "rng.h"

static const uint16_t suites_ec[] = {
    BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
};

static const uint16_t suites_rsa[] = {
    BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};

/*
 * One session cache for all connections: a client that resumes skips the
 * full ECDHE handshake.  Static storage: no allocation in the sandbox, and
 * only the pages actually used count towards the receiver's memory.
 */
static unsigned char cache_store[64 * 1024];
static br_ssl_session_cache_lru cache;
static int cache_ready;

int tls_server_start(br_ssl_server_context *sc, const struct tls_keys *keys, unsigned char *iobuf,
                     size_t iobuf_len)
{
	unsigned char seed[32];
	br_ssl_engine_context *eng = &sc->eng;

	if (keys->key_type == BR_KEYTYPE_EC) {
		br_ssl_server_init_full_ec(sc, keys->chain, keys->chain_len, keys->issuer_key_type,
		                           &keys->ec);
		br_ssl_engine_set_suites(eng, suites_ec, sizeof(suites_ec) / sizeof(suites_ec[0]));
	} else {
		br_ssl_server_init_full_rsa(sc, keys->chain, keys->chain_len, &keys->rsa);
		br_ssl_engine_set_suites(eng, suites_rsa,
		                         sizeof(suites_rsa) / sizeof(suites_rsa[0]));
	}
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	if (!cache_ready) {
		br_ssl_session_cache_lru_init(&cache, cache_store, sizeof(cache_store));
		cache_ready = 1;
	}
	br_ssl_server_set_cache(sc, &cache.vtable);
	br_ssl_engine_set_buffer(eng, iobuf, iobuf_len, 1);
	rng_bytes(seed, sizeof(seed));
	br_ssl_engine_inject_entropy(eng, seed, sizeof(seed));
	return br_ssl_server_reset(sc) ? 0 : -1;
}
