/*
 * http_req.h - a small, strict HTTP/1.x request parser and state machine.
 *
 * It is fed the decrypted byte stream in pieces of any size and never
 * reads past the end of one request, so pipelined requests stay in the
 * caller's buffer.  It only accepts what webhook senders send: a request
 * line, headers terminated by CRLF CRLF, and a body of Content-Length
 * bytes.  No socket, no TLS, no global state: the same code runs in the
 * receiver, the unit tests and the fuzzer.
 *
 * Life of a request:
 *   http_req_init -> http_req_feed ... until state == HTTP_HEAD_DONE
 *   caller checks path/method/size, then http_req_begin_body (or answers
 *   and closes) -> http_req_feed ... until state == HTTP_BODY_DONE
 *   caller answers -> http_req_reset for the next request on the connection.
 * state == HTTP_ERROR at any point: answer r->error_status and close.
 */
#ifndef TH_HTTP_REQ_H
#define TH_HTTP_REQ_H

#include <stddef.h>

#define HTTP_HEAD_MAX    16384 /* bytes of request line + headers + CRLFCRLF */
#define HTTP_HEADERS_MAX 64
#define HTTP_TARGET_MAX  2048

enum http_state {
	HTTP_HEAD = 0,  /* reading the head */
	HTTP_HEAD_DONE, /* head parsed; caller decides */
	HTTP_BODY,      /* reading Content-Length bytes */
	HTTP_BODY_DONE, /* whole request read */
	HTTP_ERROR,     /* see error_status and error_reason */
};

struct http_header {
	const char *name; /* points into head[]; not NUL-terminated */
	size_t name_len;
	const char *value; /* optional whitespace trimmed on both sides */
	size_t value_len;
};

struct http_req {
	enum http_state state;
	int error_status;         /* 400, 411, 417, 431, 501, 505 */
	const char *error_reason; /* constant string for the log */

	char head[HTTP_HEAD_MAX];
	size_t head_len;

	/* Valid from HTTP_HEAD_DONE on. */
	const char *method; /* points into head[], NUL-terminated */
	const char *target; /* request-target as sent, NUL-terminated */
	size_t path_len;    /* length of target before any '?' */
	int version_minor;  /* 0 or 1 (HTTP/1.0 or HTTP/1.1) */
	struct http_header headers[HTTP_HEADERS_MAX];
	size_t nheaders;
	int has_content_length;
	unsigned long long content_length;
	int expect_continue; /* "Expect: 100-continue" (case-insensitive) */
	int keep_alive;      /* 1.1 without "close", or 1.0 with "keep-alive" */

	/* Valid from HTTP_BODY on. */
	unsigned char *body; /* malloc'd, content_length bytes */
	size_t body_len;     /* bytes received so far */
};

void http_req_init(struct http_req *r);

/*
 * Consumes bytes from p (n bytes) and returns how many it used.  It stops
 * at the end of the head (state HTTP_HEAD_DONE) and at the end of the body
 * (HTTP_BODY_DONE), leaving the rest for the next call.  In HTTP_HEAD_DONE,
 * HTTP_BODY_DONE and HTTP_ERROR it consumes nothing.
 *
 * Head errors (state HTTP_ERROR):
 *   400 malformed request line, header line, obsolete line folding, bare
 *       LF, control characters, a Content-Length that is not digits or
 *       overflows, two Content-Length headers, Content-Length together
 *       with Transfer-Encoding, a missing Host in HTTP/1.1;
 *   411 Transfer-Encoding (chunked) without Content-Length, or a POST or
 *       PUT without Content-Length;
 *   417 an Expect other than 100-continue;
 *   431 head larger than HTTP_HEAD_MAX or more than HTTP_HEADERS_MAX headers;
 *   501 a Transfer-Encoding other than chunked;
 *   505 an HTTP version other than 1.0 and 1.1.
 */
size_t http_req_feed(struct http_req *r, const unsigned char *p, size_t n);

/*
 * Called in HTTP_HEAD_DONE once the caller accepts the declared length.
 * Allocates the body buffer and moves to HTTP_BODY (or directly to
 * HTTP_BODY_DONE for a zero length).  Returns 0, or -1 if out of memory.
 */
int http_req_begin_body(struct http_req *r);

/*
 * Returns the value of the first header called `name` (ASCII
 * case-insensitive) and stores its length in *len, or NULL if absent.
 * `count` (may be NULL) receives how many headers have that name.
 */
const char *http_req_header(const struct http_req *r, const char *name, size_t *len, size_t *count);

/* Frees the body and returns to HTTP_HEAD for the next request. */
void http_req_reset(struct http_req *r);

/* Frees the body (for a connection that closes). */
void http_req_free(struct http_req *r);

#endif
