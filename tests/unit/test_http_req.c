/*
 * test_http_req.c - the strict HTTP/1.x request parser.
 *
 * Every request goes through parse_every_way(): fed whole, one byte at a
 * time and in seeded random pieces, the three results must be identical,
 * so each test also checks that the parser does not depend on how TCP or
 * TLS happened to cut the stream.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http_req.h"

#define FIXTURES    "tests/fixtures/http/"
#define RANDOM_RUNS 25

/* The out-of-memory test needs malloc to return NULL, not ASan to abort. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

/* ---- helpers ---- */

struct split {
	int mode; /* 0 whole, 1 byte by byte, 2 random pieces */
	uint32_t rng;
};

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static size_t next_piece(struct split *sp, size_t left)
{
	if (sp->mode == 0)
		return left;
	if (sp->mode == 1)
		return 1;
	/* Mostly small pieces, so that CRLF CRLF often straddles two of them. */
	size_t max = (xorshift(&sp->rng) % 4 == 0) ? 512 : 8;
	size_t n = 1 + xorshift(&sp->rng) % max;
	return n < left ? n : left;
}

/*
 * Plays the caller's part: feeds until the request is complete, starts
 * the body when the head is done, and stops at an error.  Returns how
 * many bytes of data the parser consumed.
 */
static size_t drive(struct http_req *r, const void *data, size_t n, struct split *sp,
                    int stop_at_head)
{
	const unsigned char *p = data;
	size_t pos = 0;

	for (;;) {
		if (r->state == HTTP_HEAD_DONE && !stop_at_head) {
			assert_int_equal(http_req_begin_body(r), 0);
			continue;
		}
		if (r->state != HTTP_HEAD && r->state != HTTP_BODY)
			break;
		if (pos == n)
			break;
		size_t piece = next_piece(sp, n - pos);
		size_t used = http_req_feed(r, p + pos, piece);
		assert_true(used > 0);
		assert_true(used <= piece);
		pos += used;
	}
	return pos;
}

static ptrdiff_t offset_in_head(const struct http_req *r, const char *s)
{
	return s ? s - r->head : -1;
}

static void assert_same_result(const struct http_req *a, size_t ca, const struct http_req *b,
                               size_t cb)
{
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->error_status, b->error_status);
	assert_ptr_equal(a->error_reason, b->error_reason);
	assert_int_equal(ca, cb);
	assert_int_equal(a->head_len, b->head_len);
	assert_memory_equal(a->head, b->head, a->head_len);
	assert_int_equal(offset_in_head(a, a->method), offset_in_head(b, b->method));
	assert_int_equal(offset_in_head(a, a->target), offset_in_head(b, b->target));
	assert_int_equal(a->path_len, b->path_len);
	assert_int_equal(a->version_minor, b->version_minor);
	assert_int_equal(a->nheaders, b->nheaders);
	for (size_t i = 0; i < a->nheaders; i++) {
		const struct http_header *x = &a->headers[i], *y = &b->headers[i];
		assert_int_equal(offset_in_head(a, x->name), offset_in_head(b, y->name));
		assert_int_equal(x->name_len, y->name_len);
		assert_int_equal(offset_in_head(a, x->value), offset_in_head(b, y->value));
		assert_int_equal(x->value_len, y->value_len);
	}
	assert_int_equal(a->has_content_length, b->has_content_length);
	assert_int_equal(a->content_length, b->content_length);
	assert_int_equal(a->expect_continue, b->expect_continue);
	assert_int_equal(a->keep_alive, b->keep_alive);
	assert_int_equal(a->body_len, b->body_len);
	if (a->body_len)
		assert_memory_equal(a->body, b->body, a->body_len);
}

/* Parses data whole (the result, in *out) and checks the other splits agree. */
static size_t parse_every_way(struct http_req *out, const void *data, size_t n, int stop_at_head)
{
	struct split whole = {0, 0};
	struct http_req *other = malloc(sizeof *other);

	assert_non_null(other);
	http_req_init(out);
	size_t consumed = drive(out, data, n, &whole, stop_at_head);
	for (int run = 0; run < RANDOM_RUNS + 1; run++) {
		struct split sp = {run == 0 ? 1 : 2, 0x9e3779b9u + (uint32_t)run};
		http_req_init(other);
		size_t c = drive(other, data, n, &sp, stop_at_head);
		assert_same_result(out, consumed, other, c);
		http_req_free(other);
	}
	free(other);
	return consumed;
}

static struct http_req *new_req(void)
{
	struct http_req *r = malloc(sizeof *r);
	assert_non_null(r);
	return r;
}

static void drop_req(struct http_req *r)
{
	http_req_free(r);
	free(r);
}

static unsigned char *read_fixture(const char *name, size_t *len)
{
	char path[256];
	snprintf(path, sizeof path, FIXTURES "%s", name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	unsigned char *buf = malloc(65536);
	assert_non_null(buf);
	*len = fread(buf, 1, 65536, f);
	assert_true(*len > 0 && *len < 65536);
	fclose(f);
	return buf;
}

static size_t head_end_of(const unsigned char *data, size_t n)
{
	for (size_t i = 0; i + 4 <= n; i++)
		if (memcmp(data + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	fail_msg("no CRLF CRLF in test data");
	return 0;
}

static void assert_header(const struct http_req *r, const char *name, const char *want,
                          size_t want_count)
{
	size_t len = 0, count = 99;
	const char *v = http_req_header(r, name, &len, &count);
	assert_int_equal(count, want_count);
	assert_non_null(v);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(v, want, len);
}

/* Parses a head-only request and checks that it fails with `status`. */
static void expect_error_mem(const char *req, size_t len, int status)
{
	struct http_req *r = new_req();
	parse_every_way(r, req, len, 1);
	assert_int_equal(r->state, HTTP_ERROR);
	assert_int_equal(r->error_status, status);
	assert_non_null(r->error_reason);
	/* Nothing more is taken once the request is refused. */
	assert_int_equal(http_req_feed(r, (const unsigned char *)"x", 1), 0);
	drop_req(r);
}

static void expect_error(const char *req, int status)
{
	expect_error_mem(req, strlen(req), status);
}

static void expect_error_fixture(const char *name, int status)
{
	size_t n;
	unsigned char *data = read_fixture(name, &n);
	expect_error_mem((const char *)data, n, status);
	free(data);
}

/* Parses a request that must reach HTTP_HEAD_DONE; the caller drops it. */
static struct http_req *expect_head(const char *req)
{
	struct http_req *r = new_req();
	size_t n = strlen(req);
	assert_int_equal(parse_every_way(r, req, n, 1), n);
	assert_int_equal(r->state, HTTP_HEAD_DONE);
	return r;
}

/* A head of exactly `total` bytes whose padding header makes up the size. */
static char *padded_head(size_t total)
{
	static const char pre[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
	static const char post[] = "\r\n\r\n";
	char *s = malloc(total + 1);
	assert_non_null(s);
	assert_true(total > sizeof pre + sizeof post);
	memcpy(s, pre, sizeof pre - 1);
	memset(s + sizeof pre - 1, 'p', total - (sizeof pre - 1) - (sizeof post - 1));
	memcpy(s + total - (sizeof post - 1), post, sizeof post);
	return s;
}

static char *head_with_headers(size_t nheaders)
{
	size_t cap = 64 + nheaders * 32;
	char *s = malloc(cap);
	assert_non_null(s);
	size_t len = (size_t)snprintf(s, cap, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (size_t i = 1; i < nheaders; i++)
		len += (size_t)snprintf(s + len, cap - len, "X-H%zu: v\r\n", i);
	snprintf(s + len, cap - len, "\r\n");
	return s;
}

static char *head_with_target(size_t target_len)
{
	char *s = malloc(target_len + 64);
	assert_non_null(s);
	memcpy(s, "GET /", 5);
	memset(s + 5, 'a', target_len - 1);
	strcpy(s + 4 + target_len, " HTTP/1.1\r\nHost: a\r\n\r\n");
	return s;
}

/* ---- well-formed requests ---- */

static void github_push_any_split(void **state)
{
	(void)state;
	static const char body[] = "{\"ref\":\"refs\\/heads\\/"
	                           "main\",\"after\":\"8b7a3e6f0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f\","
	                           "\"deleted\":false}";
	size_t n;
	unsigned char *data = read_fixture("C01-escaped-slash-ref.http", &n);
	struct http_req *r = new_req();

	assert_int_equal(parse_every_way(r, data, n, 0), n);
	assert_int_equal(r->state, HTTP_BODY_DONE);
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->target, "/hook");
	assert_int_equal(r->path_len, 5);
	assert_int_equal(r->version_minor, 1);
	assert_int_equal(r->nheaders, 7);
	assert_true(r->has_content_length);
	assert_int_equal(r->content_length, 94);
	assert_int_equal(r->keep_alive, 1);
	assert_int_equal(r->expect_continue, 0);
	assert_int_equal(r->head_len, head_end_of(data, n));
	assert_header(r, "X-Hub-Signature-256",
	              "sha256=14dc7859e690aa05f486d8cc4bac4dacaecc1cea92265d55eeda6f75a8c0deeb", 1);
	assert_header(r, "User-Agent", "GitHub-Hookshot/044aadd", 1);
	assert_int_equal(r->body_len, sizeof body - 1);
	assert_memory_equal(r->body, body, sizeof body - 1);
	drop_req(r);
	free(data);
}

static void head_stops_at_crlfcrlf(void **state)
{
	(void)state;
	size_t n;
	unsigned char *data = read_fixture("C01-escaped-slash-ref.http", &n);
	struct http_req *r = new_req();

	size_t head = head_end_of(data, n);
	assert_int_equal(parse_every_way(r, data, n, 1), head);
	assert_int_equal(r->state, HTTP_HEAD_DONE);
	/* The caller has not accepted the body yet: nothing more is taken. */
	assert_int_equal(http_req_feed(r, data + head, n - head), 0);
	assert_int_equal(r->state, HTTP_HEAD_DONE);
	drop_req(r);
	free(data);
}

static void pipelined_second_request_left_unconsumed(void **state)
{
	(void)state;
	static const char ping[] = "{\"zen\": \"Design for failure.\", \"hook_id\": 2}";
	size_t n;
	unsigned char *data = read_fixture("C20-pipelined-ping-then-push.http", &n);
	struct http_req *r = new_req();

	size_t first = parse_every_way(r, data, n, 0);
	assert_int_equal(r->state, HTTP_BODY_DONE);
	assert_int_equal(first, head_end_of(data, n) + sizeof ping - 1);
	assert_memory_equal(r->body, ping, sizeof ping - 1);
	assert_header(r, "X-GitHub-Event", "ping", 1);
	assert_memory_equal(data + first, "POST /hook HTTP/1.1\r\n", 21);
	assert_int_equal(http_req_feed(r, data + first, n - first), 0);

	http_req_reset(r);
	assert_int_equal(r->state, HTTP_HEAD);
	assert_null(r->body);
	struct split whole = {0, 0};
	assert_int_equal(drive(r, data + first, n - first, &whole, 0), n - first);
	assert_int_equal(r->state, HTTP_BODY_DONE);
	assert_int_equal(r->content_length, 288);
	assert_int_equal(r->body_len, 288);
	assert_header(r, "X-GitHub-Event", "push", 1);
	assert_memory_equal(r->body, data + n - 288, 288);
	drop_req(r);

	/* The second request on its own, in any split, gives the same. */
	r = new_req();
	assert_int_equal(parse_every_way(r, data + first, n - first, 0), n - first);
	assert_int_equal(r->state, HTTP_BODY_DONE);
	drop_req(r);
	free(data);
}

static void keep_alive_reset_then_next_request(void **state)
{
	(void)state;
	static const char two[] = "POST /a?x=1 HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
	                          "Content-Length: 3\r\n\r\nabc"
	                          "GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	struct http_req *r = new_req();
	struct split bytes = {1, 0};

	http_req_init(r);
	size_t first = drive(r, two, sizeof two - 1, &bytes, 0);
	assert_int_equal(r->state, HTTP_BODY_DONE);
	assert_int_equal(r->expect_continue, 1);
	assert_int_equal(r->keep_alive, 1);
	assert_memory_equal(r->body, "abc", 3);

	http_req_reset(r);
	size_t second = drive(r, two + first, sizeof two - 1 - first, &bytes, 0);
	assert_int_equal(first + second, sizeof two - 1);
	assert_int_equal(r->state, HTTP_BODY_DONE);
	assert_string_equal(r->method, "GET");
	assert_string_equal(r->target, "/b");
	assert_int_equal(r->nheaders, 2);
	/* Nothing of the first request survives the reset. */
	assert_int_equal(r->expect_continue, 0);
	assert_int_equal(r->has_content_length, 0);
	assert_int_equal(r->content_length, 0);
	assert_int_equal(r->body_len, 0);
	assert_int_equal(r->keep_alive, 0);
	drop_req(r);
}

static void target_nul_terminated_with_query(void **state)
{
	(void)state;
	struct http_req *r = expect_head("DELETE /hook/x?a=1&b=/? HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_string_equal(r->method, "DELETE");
	assert_string_equal(r->target, "/hook/x?a=1&b=/?");
	assert_int_equal(r->path_len, 7);
	drop_req(r);
}

static void get_without_body(void **state)
{
	(void)state;
	size_t n;
	unsigned char *data = read_fixture("C23-get-on-hook-path.http", &n);
	struct http_req *r = new_req();

	assert_int_equal(parse_every_way(r, data, n, 1), n);
	assert_int_equal(r->state, HTTP_HEAD_DONE);
	assert_string_equal(r->method, "GET");
	assert_int_equal(r->has_content_length, 0);
	assert_int_equal(r->content_length, 0);
	assert_int_equal(http_req_begin_body(r), 0);
	assert_int_equal(r->state, HTTP_BODY_DONE);
	assert_non_null(r->body);
	assert_int_equal(r->body_len, 0);
	drop_req(r);
	free(data);
}

static void post_with_zero_length(void **state)
{
	(void)state;
	static const char req[] = "POST /hook HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\nGET";
	struct http_req *r = new_req();

	assert_int_equal(parse_every_way(r, req, sizeof req - 1, 0), sizeof req - 4);
	assert_int_equal(r->state, HTTP_BODY_DONE);
	assert_true(r->has_content_length);
	assert_int_equal(r->body_len, 0);
	drop_req(r);
}

static void expect_continue_sets_flag(void **state)
{
	(void)state;
	size_t n;
	unsigned char *data = read_fixture("C16-expect-100-continue.http", &n);
	struct http_req *r = new_req();

	assert_int_equal(parse_every_way(r, data, n, 1), n);
	assert_int_equal(r->state, HTTP_HEAD_DONE);
	assert_int_equal(r->expect_continue, 1);
	assert_int_equal(r->content_length, 288);
	drop_req(r);
	free(data);

	r = expect_head("PUT /x HTTP/1.1\r\nHost: h\r\nExpect:  100-CONTINUE \r\n"
	                "Content-Length: 1\r\n\r\n");
	assert_int_equal(r->expect_continue, 1);
	drop_req(r);

	/* RFC 7231 5.1.1: an HTTP/1.0 client must not be sent a 100. */
	r = expect_head("PUT /x HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
	assert_int_equal(r->expect_continue, 0);
	drop_req(r);
}

static void http10_keep_alive_default_off(void **state)
{
	(void)state;
	size_t n;
	unsigned char *data = read_fixture("C21-http-1.0-request.http", &n);
	struct http_req *r = new_req();

	assert_int_equal(parse_every_way(r, data, n, 0), n);
	assert_int_equal(r->state, HTTP_BODY_DONE);
	assert_int_equal(r->version_minor, 0);
	assert_int_equal(r->keep_alive, 0);
	drop_req(r);
	free(data);

	r = expect_head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
	assert_int_equal(r->keep_alive, 1);
	drop_req(r);
	r = expect_head("GET / HTTP/1.0\r\nConnection: keep-alive,close\r\n\r\n");
	assert_int_equal(r->keep_alive, 0);
	drop_req(r);
}

static void connection_tokens(void **state)
{
	(void)state;
	struct http_req *r = expect_head("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_int_equal(r->keep_alive, 1);
	drop_req(r);
	r = expect_head("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, , CLOSE\t\r\n\r\n");
	assert_int_equal(r->keep_alive, 0);
	drop_req(r);
	r = expect_head("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n"
	                "connection: Close\r\n\r\n");
	assert_int_equal(r->keep_alive, 0);
	drop_req(r);
	/* A token that merely contains "close" is not "close". */
	r = expect_head("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed, xclose\r\n\r\n");
	assert_int_equal(r->keep_alive, 1);
	drop_req(r);
}

static void header_lookup_ignores_case(void **state)
{
	(void)state;
	struct http_req *r =
	    expect_head("GET / HTTP/1.1\r\nHost: h\r\nX-Dup: one\r\n"
	                "X-GitHub-Event: \t push \t\r\nx-dUP: two\r\nX-Empty:\r\n\r\n");
	size_t len = 99, count = 99;

	assert_header(r, "x-github-event", "push", 1);
	assert_header(r, "X-GITHUB-EVENT", "push", 1);
	assert_header(r, "x-dup", "one", 2);
	assert_header(r, "X-Empty", "", 1);
	assert_null(http_req_header(r, "X-Missing", &len, &count));
	assert_int_equal(count, 0);
	assert_null(http_req_header(r, "X-Du", &len, NULL));
	assert_non_null(http_req_header(r, "HOST", &len, NULL));
	assert_int_equal(len, 1);
	drop_req(r);
}

static void value_may_hold_tab_and_obs_text(void **state)
{
	(void)state;
	struct http_req *r = expect_head("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\tb \xc3\xa9\r\n\r\n");
	assert_header(r, "X-A", "a\tb \xc3\xa9", 1);
	drop_req(r);
}

static void few_leading_empty_lines_skipped(void **state)
{
	(void)state;
	struct http_req *r = expect_head("\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_string_equal(r->method, "GET");
	assert_string_equal(r->target, "/x");
	drop_req(r);
}

static void content_length_bounds(void **state)
{
	(void)state;
	struct http_req *r = expect_head(
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551615\r\n\r\n");
	assert_true(r->content_length == 18446744073709551615ULL);
	/* Larger than any object: refused without trying malloc. */
	assert_int_equal(http_req_begin_body(r), -1);
	assert_int_equal(r->state, HTTP_HEAD_DONE);
	drop_req(r);

	r = expect_head("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:  007 \r\n\r\n");
	assert_int_equal(r->content_length, 7);
	drop_req(r);
}

static void begin_body_out_of_memory(void **state)
{
	(void)state;
	/* 2^62 bytes: a valid size that no allocator can satisfy. */
	struct http_req *r = expect_head(
	    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4611686018427387904\r\n\r\n");
	assert_int_equal(http_req_begin_body(r), -1);
	assert_int_equal(r->state, HTTP_HEAD_DONE);
	assert_null(r->body);
	drop_req(r);
}

static void begin_body_only_after_head(void **state)
{
	(void)state;
	struct http_req *r = new_req();
	http_req_init(r);
	assert_int_equal(http_req_begin_body(r), -1);
	assert_int_equal(r->state, HTTP_HEAD);
	drop_req(r);
}

static void head_of_exactly_max_size(void **state)
{
	(void)state;
	char *s = padded_head(HTTP_HEAD_MAX);
	drop_req(expect_head(s));
	free(s);
}

static void sixty_four_headers_fit(void **state)
{
	(void)state;
	char *s = head_with_headers(HTTP_HEADERS_MAX);
	struct http_req *r = expect_head(s);
	assert_int_equal(r->nheaders, HTTP_HEADERS_MAX);
	drop_req(r);
	free(s);
}

static void target_of_max_length(void **state)
{
	(void)state;
	char *s = head_with_target(HTTP_TARGET_MAX);
	struct http_req *r = expect_head(s);
	assert_int_equal(strlen(r->target), HTTP_TARGET_MAX);
	drop_req(r);
	free(s);
}

/* ---- refused requests ---- */

static void head_over_max_431(void **state)
{
	(void)state;
	char *s = padded_head(17 * 1024);
	expect_error(s, 431);
	free(s);
	/* One byte over: the final LF no longer fits. */
	s = padded_head(HTTP_HEAD_MAX + 1);
	expect_error(s, 431);
	free(s);
}

static void head_never_ending_431(void **state)
{
	(void)state;
	char *s = padded_head(20000);
	/* Cut before the final CRLF CRLF: refused as soon as the buffer is full. */
	expect_error_mem(s, 20000 - 4, 431);
	free(s);
}

static void sixty_five_headers_431(void **state)
{
	(void)state;
	char *s = head_with_headers(HTTP_HEADERS_MAX + 1);
	expect_error(s, 431);
	free(s);
}

static void target_too_long_400(void **state)
{
	(void)state;
	char *s = head_with_target(HTTP_TARGET_MAX + 1);
	expect_error(s, 400);
	free(s);
}

static void bare_lf_refused_before_head_end(void **state)
{
	(void)state;
	/* No CRLF CRLF ever comes: the first bare LF is enough. */
	expect_error("GET / HTTP/1.1\nHost: h\n", 400);
	expect_error("\n", 400);
}

static void nul_in_header_400(void **state)
{
	(void)state;
	static const char val[] = "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n";
	static const char name[] = "GET / HTTP/1.1\r\nHost: h\r\nX\0A: ab\r\n\r\n";
	expect_error_mem(val, sizeof val - 1, 400);
	expect_error_mem(name, sizeof name - 1, 400);
}

static void duplicate_content_length_C18(void **state)
{
	(void)state;
	expect_error_fixture("C18-duplicate-content-length.http", 400);
}

static void length_and_transfer_encoding_C17(void **state)
{
	(void)state;
	expect_error_fixture("C17-content-length-and-transfer-encoding.http", 400);
}

static void chunked_without_length_C19(void **state)
{
	(void)state;
	expect_error_fixture("C19-chunked-without-length.http", 411);
}

#define POST_H "POST /hook HTTP/1.1\r\nHost: h\r\n"
#define GET_H  "GET / HTTP/1.1\r\nHost: h\r\n"

/* One test per refused shape: the name says what is wrong. */
#define REFUSED(fn, status, req)                                                                   \
	static void fn(void **state)                                                               \
	{                                                                                          \
		(void)state;                                                                       \
		expect_error(req, status);                                                         \
	}

REFUSED(te_gzip_501, 501, POST_H "Transfer-Encoding: gzip\r\n\r\n")
REFUSED(te_chunked_then_gzip_501, 501, POST_H "Transfer-Encoding: chunked, gzip\r\n\r\n")
REFUSED(te_gzip_then_chunked_411, 411, POST_H "Transfer-Encoding: gzip, CHUNKED\r\n\r\n")
REFUSED(te_before_length_400, 400, POST_H "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n")
REFUSED(duplicate_equal_lengths_400, 400, POST_H "Content-Length: 3\r\ncontent-length: 3\r\n\r\n")
REFUSED(length_list_400, 400, POST_H "Content-Length: 3, 3\r\n\r\n")
REFUSED(length_signed_400, 400, POST_H "Content-Length: +3\r\n\r\n")
REFUSED(length_negative_400, 400, POST_H "Content-Length: -1\r\n\r\n")
REFUSED(length_inner_space_400, 400, POST_H "Content-Length: 1 2\r\n\r\n")
REFUSED(length_hex_400, 400, POST_H "Content-Length: 0x10\r\n\r\n")
REFUSED(length_empty_400, 400, POST_H "Content-Length:\r\n\r\n")
REFUSED(length_overflow_400, 400, POST_H "Content-Length: 99999999999999999999999\r\n\r\n")
REFUSED(length_overflow_by_one_400, 400, POST_H "Content-Length: 18446744073709551616\r\n\r\n")
REFUSED(post_without_length_411, 411, POST_H "\r\n")
REFUSED(put_without_length_411, 411, "PUT /x HTTP/1.0\r\n\r\n")
REFUSED(obs_fold_400, 400, POST_H "X-A: b\r\n c\r\nContent-Length: 0\r\n\r\n")
REFUSED(obs_fold_tab_400, 400, POST_H "X-A: b\r\n\tc\r\nContent-Length: 0\r\n\r\n")
REFUSED(space_before_first_header_400, 400, "GET / HTTP/1.1\r\n Host: h\r\n\r\n")
REFUSED(bare_lf_in_request_line_400, 400, "GET / HTTP/1.1\nHost: h\r\n\r\n")
REFUSED(bare_lf_as_last_line_400, 400, GET_H "\n")
REFUSED(bare_lf_mid_value_400, 400, GET_H "X-A: a\nb\r\n\r\n")
REFUSED(bare_cr_400, 400, GET_H "X-A: a\rb\r\n\r\n")
REFUSED(space_before_colon_400, 400, "GET / HTTP/1.1\r\nHost : h\r\n\r\n")
REFUSED(tab_before_colon_400, 400, GET_H "X-A\t: a\r\n\r\n")
REFUSED(no_colon_400, 400, GET_H "X-A\r\n\r\n")
REFUSED(empty_name_400, 400, GET_H ": a\r\n\r\n")
REFUSED(bad_name_char_400, 400, GET_H "X(A): a\r\n\r\n")
REFUSED(ctl_in_value_400, 400, GET_H "X-A: a\001b\r\n\r\n")
REFUSED(del_in_value_400, 400, GET_H "X-A: a\x7f\r\n\r\n")
REFUSED(ctl_in_target_400, 400, "GET /a\001b HTTP/1.1\r\nHost: h\r\n\r\n")
REFUSED(tab_in_target_400, 400, "GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n")
REFUSED(non_ascii_target_400, 400, "GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n")
REFUSED(absolute_form_400, 400, "GET http://h/ HTTP/1.1\r\nHost: h\r\n\r\n")
REFUSED(asterisk_form_400, 400, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")
REFUSED(bad_method_char_400, 400, "GE(T / HTTP/1.1\r\nHost: h\r\n\r\n")
REFUSED(empty_method_400, 400, " / HTTP/1.1\r\nHost: h\r\n\r\n")
REFUSED(double_space_400, 400, "GET  / HTTP/1.1\r\nHost: h\r\n\r\n")
REFUSED(space_in_target_400, 400, "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n")
REFUSED(http09_400, 400, "GET /\r\nHost: h\r\n\r\n")
REFUSED(http2_505, 505, "GET / HTTP/2.0\r\nHost: h\r\n\r\n")
REFUSED(http12_505, 505, "GET / HTTP/1.2\r\nHost: h\r\n\r\n")
REFUSED(http09_version_505, 505, "GET / HTTP/0.9\r\nHost: h\r\n\r\n")
REFUSED(version_trailing_x_400, 400, "GET / HTTP/1.1x\r\nHost: h\r\n\r\n")
REFUSED(version_trailing_space_400, 400, "GET / HTTP/1.1 \r\nHost: h\r\n\r\n")
REFUSED(version_no_minor_400, 400, "GET / HTTP/2\r\nHost: h\r\n\r\n")
REFUSED(version_lowercase_400, 400, "GET / http/1.1\r\nHost: h\r\n\r\n")
REFUSED(version_two_digits_400, 400, "GET / HTTP/10.0\r\nHost: h\r\n\r\n")
REFUSED(missing_host_400, 400, "POST /hook HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
REFUSED(two_hosts_400, 400, GET_H "host: h\r\n\r\n")
REFUSED(two_hosts_http10_400, 400, "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n")
REFUSED(expect_other_417, 417, POST_H "Expect: something-else\r\nContent-Length: 1\r\n\r\n")
REFUSED(expect_list_417, 417, POST_H "Expect: 100-continue, x\r\nContent-Length: 1\r\n\r\n")
REFUSED(too_many_empty_lines_400, 400, "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n")
REFUSED(only_empty_lines_400, 400, "\r\n\r\n\r\n\r\n\r\n\r\n")

#define T(fn) cmocka_unit_test(fn)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(github_push_any_split),
	    T(head_stops_at_crlfcrlf),
	    T(pipelined_second_request_left_unconsumed),
	    T(keep_alive_reset_then_next_request),
	    T(target_nul_terminated_with_query),
	    T(get_without_body),
	    T(post_with_zero_length),
	    T(expect_continue_sets_flag),
	    T(http10_keep_alive_default_off),
	    T(connection_tokens),
	    T(header_lookup_ignores_case),
	    T(value_may_hold_tab_and_obs_text),
	    T(few_leading_empty_lines_skipped),
	    T(content_length_bounds),
	    T(begin_body_out_of_memory),
	    T(begin_body_only_after_head),
	    T(head_of_exactly_max_size),
	    T(sixty_four_headers_fit),
	    T(target_of_max_length),
	    T(head_over_max_431),
	    T(head_never_ending_431),
	    T(sixty_five_headers_431),
	    T(target_too_long_400),
	    T(bare_lf_refused_before_head_end),
	    T(nul_in_header_400),
	    T(duplicate_content_length_C18),
	    T(length_and_transfer_encoding_C17),
	    T(chunked_without_length_C19),
	    T(te_gzip_501),
	    T(te_chunked_then_gzip_501),
	    T(te_gzip_then_chunked_411),
	    T(te_before_length_400),
	    T(duplicate_equal_lengths_400),
	    T(length_list_400),
	    T(length_signed_400),
	    T(length_negative_400),
	    T(length_inner_space_400),
	    T(length_hex_400),
	    T(length_empty_400),
	    T(length_overflow_400),
	    T(length_overflow_by_one_400),
	    T(post_without_length_411),
	    T(put_without_length_411),
	    T(obs_fold_400),
	    T(obs_fold_tab_400),
	    T(space_before_first_header_400),
	    T(bare_lf_in_request_line_400),
	    T(bare_lf_as_last_line_400),
	    T(bare_lf_mid_value_400),
	    T(bare_cr_400),
	    T(space_before_colon_400),
	    T(tab_before_colon_400),
	    T(no_colon_400),
	    T(empty_name_400),
	    T(bad_name_char_400),
	    T(ctl_in_value_400),
	    T(del_in_value_400),
	    T(ctl_in_target_400),
	    T(tab_in_target_400),
	    T(non_ascii_target_400),
	    T(absolute_form_400),
	    T(asterisk_form_400),
	    T(bad_method_char_400),
	    T(empty_method_400),
	    T(double_space_400),
	    T(space_in_target_400),
	    T(http09_400),
	    T(http2_505),
	    T(http12_505),
	    T(http09_version_505),
	    T(version_trailing_x_400),
	    T(version_trailing_space_400),
	    T(version_no_minor_400),
	    T(version_lowercase_400),
	    T(version_two_digits_400),
	    T(missing_host_400),
	    T(two_hosts_400),
	    T(two_hosts_http10_400),
	    T(expect_other_417),
	    T(expect_list_417),
	    T(too_many_empty_lines_400),
	    T(only_empty_lines_400),
	};
	return cmocka_run_group_tests_name("http_req", tests, NULL, NULL);
}
