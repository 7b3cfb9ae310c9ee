/*
 * tls_keys.h - decode the certificate chain and private key PEM files.
 *
 * The deployer calls this to refuse a bad certificate or key at start
 * (and for `-n`); the receiver calls it before its sandbox is locked to
 * build its BearSSL server contexts.  Both use the same code so that what
 * `-n` accepts is exactly what the receiver serves.
 */
#ifndef TH_TLS_KEYS_H
#define TH_TLS_KEYS_H

#include <bearssl.h>
#include <stddef.h>

struct tls_keys {
	br_x509_certificate *chain; /* leaf first, as in fullchain.pem */
	size_t chain_len;
	int key_type; /* BR_KEYTYPE_EC or BR_KEYTYPE_RSA */
	br_ec_private_key ec;
	br_rsa_private_key rsa;
	unsigned char *key_buf; /* owns the key material the structs point into */
	size_t key_buf_len;
	unsigned issuer_key_type; /* key type of the leaf's signer (for ECDH_* suites) */
};

/*
 * Decodes cert_pem (one or more CERTIFICATE objects) and key_pem (one
 * "EC PRIVATE KEY", "RSA PRIVATE KEY" or "PRIVATE KEY" object) and checks
 * that the leaf's public key type matches the private key.  Returns 0, or
 * -1 with a message in err.
 */
int tls_keys_load(struct tls_keys *k, const char *cert_pem, size_t cert_len, const char *key_pem,
                  size_t key_len, char *err, size_t errlen);

/* Wipes the key material and frees everything. */
void tls_keys_free(struct tls_keys *k);

#endif
