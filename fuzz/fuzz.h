/*
 * fuzz.h - the fuzz harnesses' entry points and the helpers they share.
 *
 * Each harness fuzz/fuzz_NAME.c defines `int fuzz_NAME_one(data, size)`,
 * which runs one input through the project's real functions and checks
 * their documented invariants.  libFuzzer reaches it through
 * LLVMFuzzerTestOneInput (compiled unless FUZZ_NO_MAIN is defined);
 * tests/unit/test_fuzz_regressions.c calls it directly for every file of
 * fuzz/corpus/NAME/ and fuzz/crashes/NAME/, without clang.
 *
 * Every function returns 0.  A broken invariant is reported on stderr and
 * ends the process with abort(), which libFuzzer records as a crash.
 */
#ifndef TH_FUZZ_H
#define TH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int fuzz_json_push_one(const uint8_t *data, size_t size);
int fuzz_form_one(const uint8_t *data, size_t size);
int fuzz_http_req_one(const uint8_t *data, size_t size);
int fuzz_signature_one(const uint8_t *data, size_t size);
int fuzz_msg_one(const uint8_t *data, size_t size);
int fuzz_config_one(const uint8_t *data, size_t size);
int fuzz_tls_one(const uint8_t *data, size_t size);

/*
 * The config and TLS harnesses build their read-only setup on first use
 * (a temp file; keys, an event base).  These release it; a later call to
 * the harness builds it again.
 */
void fuzz_config_teardown(void);
void fuzz_tls_teardown(void);

/* Where fuzz_config_one expects every file a config names (see docs/fuzzing.md). */
#define FUZZ_SECRET_PATH "/tmp/tailhook-fuzz-secret"

__attribute__((noreturn)) static inline void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", file, line, what);
	abort();
}

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fuzz_fail(__FILE__, __LINE__, #cond);                                      \
	} while (0)

/*
 * Stream splitting for the harnesses that feed bytes in pieces (http_req,
 * tls).  The input starts with a control byte:
 *   bits 0-2  n, the number of chunk-size bytes that follow (0-7)
 *   bits 3-7  flags, meaning defined by each harness
 * then n bytes, each giving a chunk size of (byte + 1), used in turn and
 * cycled; with n == 0 the whole stream is one chunk.  Everything after is
 * the stream.  An empty input is an empty stream with no flags.
 */
struct fuzz_split {
	const uint8_t *sizes;
	size_t nsizes;
	size_t next;
	unsigned flags;
};

static inline void fuzz_split_init(struct fuzz_split *s, const uint8_t **data, size_t *size)
{
	size_t n = 0;

	s->flags = 0;
	if (*size > 0) {
		n = (*data)[0] & 7u;
		s->flags = (*data)[0] & ~7u;
		(*data)++;
		(*size)--;
	}
	if (n > *size)
		n = *size;
	s->sizes = *data;
	s->nsizes = n;
	s->next = 0;
	*data += n;
	*size -= n;
}

/* The length of the next chunk, at most `left` (which must be > 0). */
static inline size_t fuzz_split_next(struct fuzz_split *s, size_t left)
{
	size_t want;

	if (s->nsizes == 0)
		return left;
	want = (size_t)s->sizes[s->next] + 1;
	s->next = (s->next + 1) % s->nsizes;
	return want < left ? want : left;
}

#endif
