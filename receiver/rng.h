/*
 * rng.h - randomness for BearSSL without touching the OS after start-up.
 *
 * A master HMAC-DRBG is seeded once from getrandom(2) before the sandbox
 * is locked; each TLS connection gets fresh bytes injected from it, so
 * BearSSL never needs /dev/urandom or a syscall the sandbox forbids.
 */
#ifndef TH_RNG_H
#define TH_RNG_H

#include <stddef.h>

/* Seeds the master generator; returns 0, or -1 if getrandom failed. */
int rng_init(void);

/* Fills out with n pseudo-random bytes from the master generator. */
void rng_bytes(void *out, size_t n);

#endif
