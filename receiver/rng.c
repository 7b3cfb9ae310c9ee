/*
 * rng.c - master DRBG for the receiver, seeded once with getrandom.
 */
#include "rng.h"

#include <bearssl.h>
#include <string.h>
#include <sys/random.h>

static br_hmac_drbg_context master;

/*
 * BearSSL looks for an OS seeder on every engine reset.  Returning none
 * here (this definition takes precedence over the library's) guarantees
 * that the receiver relies only on the entropy injected from `master`
 * and never opens /dev/urandom inside its chroot.
 */
br_prng_seeder br_prng_seeder_system(const char **name);
br_prng_seeder br_prng_seeder_system(const char **name)
{
	if (name != NULL)
		*name = "none";
	return 0;
}

int rng_init(void)
{
	unsigned char seed[48];
	size_t got = 0;

	while (got < sizeof(seed)) {
		ssize_t n = getrandom(seed + got, sizeof(seed) - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	br_hmac_drbg_init(&master, &br_sha256_vtable, seed, sizeof(seed));
	explicit_bzero(seed, sizeof(seed));
	return 0;
}

void rng_bytes(void *out, size_t n)
{
	br_hmac_drbg_generate(&master, out, n);
}
