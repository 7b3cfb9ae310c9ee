/*
 * http_req.c - see http_req.h.
 *
 * The head is copied into r->head until CRLF CRLF shows up, then parsed in
 * one pass.  Framing errors (a bare CR or LF) are caught while copying so
 * that a sender that never produces CRLF CRLF is refused at once instead
 * of holding the connection until the head fills up.
 */
#include "http_req.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * RFC 7230 3.5 asks servers to skip at least one empty line before a
 * request line (some clients add CRLF after a POST body).  More than a
 * few is not a confused client.
 */
#define LEADING_EMPTY_MAX 4

static int is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* obs-text (0x80-0xff) is kept as opaque bytes, as RFC 7230 3.2 allows. */
static int is_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static unsigned char ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static int ascii_ieq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++)
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

static int ieq_lit(const char *a, size_t alen, const char *lit)
{
	return ascii_ieq(a, alen, lit, strlen(lit));
}

static void fail(struct http_req *r, int status, const char *reason)
{
	r->state = HTTP_ERROR;
	r->error_status = status;
	r->error_reason = reason;
}

static void trim_ows(const char **s, size_t *len)
{
	while (*len > 0 && is_ows((unsigned char)(*s)[0])) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && is_ows((unsigned char)(*s)[*len - 1]))
		(*len)--;
}

/* ---- finding the end of the head ---- */

static int only_empty_lines(const char *h, size_t len)
{
	if (len % 2 != 0)
		return 0;
	for (size_t i = 0; i < len; i += 2)
		if (h[i] != '\r' || h[i + 1] != '\n')
			return 0;
	return 1;
}

/*
 * Looks at head[from..head_len) for the CRLF CRLF that ends the head,
 * checking each byte against the one before it (which may come from an
 * earlier call).  Returns the length up to and including the byte that
 * ended the head or was refused (state HTTP_ERROR), or 0 if neither yet.
 */
static size_t find_head_end(struct http_req *r, size_t from)
{
	const char *h = r->head;

	for (size_t i = from; i < r->head_len; i++) {
		if (i > 0 && h[i - 1] == '\r' && h[i] != '\n') {
			fail(r, 400, "bare CR in head");
			return i + 1;
		}
		if (h[i] != '\n')
			continue;
		if (i == 0 || h[i - 1] != '\r') {
			fail(r, 400, "bare LF in head");
			return i + 1;
		}
		if (i + 1 <= 2 * (LEADING_EMPTY_MAX + 1) && only_empty_lines(h, i + 1)) {
			if ((i + 1) / 2 > LEADING_EMPTY_MAX) {
				fail(r, 400, "too many empty lines before request");
				return i + 1;
			}
			continue;
		}
		if (i >= 3 && memcmp(h + i - 3, "\r\n\r\n", 4) == 0)
			return i + 1;
	}
	return 0;
}

/* ---- request line ---- */

static int parse_method(struct http_req *r, char *line, size_t len, size_t *pos)
{
	size_t i = 0;

	while (i < len && is_tchar((unsigned char)line[i]))
		i++;
	if (i == 0 || i == len || line[i] != ' ') {
		fail(r, 400, "malformed method");
		return -1;
	}
	line[i] = '\0';
	r->method = line;
	*pos = i + 1;
	return 0;
}

static int parse_target(struct http_req *r, char *line, size_t len, size_t *pos)
{
	size_t start = *pos, i = start;

	while (i < len && line[i] != ' ') {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x21 || c > 0x7e) {
			fail(r, 400, "invalid character in request-target");
			return -1;
		}
		i++;
	}
	if (i == len || i == start || line[start] != '/') {
		fail(r, 400, "request-target not in origin-form");
		return -1;
	}
	if (i - start > HTTP_TARGET_MAX) {
		fail(r, 400, "request-target too long");
		return -1;
	}
	line[i] = '\0';
	r->target = line + start;
	const char *q = memchr(r->target, '?', i - start);
	r->path_len = q ? (size_t)(q - r->target) : i - start;
	*pos = i + 1;
	return 0;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Only the exact RFC 7230 shape "HTTP/" DIGIT "." DIGIT can be a version
 * we do not support (505); anything else is not HTTP at all (400).
 */
static int parse_version(struct http_req *r, const char *v, size_t len)
{
	if (len != 8 || memcmp(v, "HTTP/", 5) != 0 || !is_digit(v[5]) || v[6] != '.' ||
	    !is_digit(v[7])) {
		fail(r, 400, "malformed HTTP version");
		return -1;
	}
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1')) {
		fail(r, 505, "unsupported HTTP version");
		return -1;
	}
	r->version_minor = v[7] - '0';
	return 0;
}

static int parse_request_line(struct http_req *r, char *line, size_t len)
{
	size_t pos;

	if (parse_method(r, line, len, &pos) < 0 || parse_target(r, line, len, &pos) < 0)
		return -1;
	return parse_version(r, line + pos, len - pos);
}

/* ---- header lines ---- */

static int parse_header_line(struct http_req *r, char *line, size_t len)
{
	size_t i = 0;

	if (is_ows((unsigned char)line[0])) {
		fail(r, 400, "obsolete line folding");
		return -1;
	}
	while (i < len && is_tchar((unsigned char)line[i]))
		i++;
	if (i < len && is_ows((unsigned char)line[i])) {
		fail(r, 400, "whitespace before colon");
		return -1;
	}
	if (i == 0 || i == len || line[i] != ':') {
		fail(r, 400, "malformed header name");
		return -1;
	}
	for (size_t k = i + 1; k < len; k++) {
		if (!is_value_char((unsigned char)line[k])) {
			fail(r, 400, "control character in header value");
			return -1;
		}
	}
	if (r->nheaders == HTTP_HEADERS_MAX) {
		fail(r, 431, "too many header fields");
		return -1;
	}
	struct http_header *hd = &r->headers[r->nheaders++];
	hd->name = line;
	hd->name_len = i;
	hd->value = line + i + 1;
	hd->value_len = len - i - 1;
	trim_ows(&hd->value, &hd->value_len);
	return 0;
}

/* ---- header semantics ---- */

/* What the framing and connection rules need, gathered in one pass. */
struct head_summary {
	size_t hosts;
	size_t content_lengths;
	const struct http_header *content_length;
	const struct http_header *transfer_encoding; /* the last one */
	int expect_bad;
	int expect_continue;
	int conn_close;
	int conn_keep_alive;
};

static int parse_content_length(const char *s, size_t len, unsigned long long *out)
{
	unsigned long long v = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (ULLONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/*
 * Calls fn on each element of a comma-separated list, OWS trimmed; empty
 * elements are skipped as RFC 7230 7 asks of recipients.
 */
static void for_each_element(const char *s, size_t len,
                             void (*fn)(const char *el, size_t el_len, void *arg), void *arg)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != ',')
			continue;
		const char *el = s + start;
		size_t el_len = i - start;
		trim_ows(&el, &el_len);
		if (el_len > 0)
			fn(el, el_len, arg);
		start = i + 1;
	}
}

static void connection_token(const char *el, size_t el_len, void *arg)
{
	struct head_summary *s = arg;

	if (ieq_lit(el, el_len, "close"))
		s->conn_close = 1;
	else if (ieq_lit(el, el_len, "keep-alive"))
		s->conn_keep_alive = 1;
}

static void last_element(const char *el, size_t el_len, void *arg)
{
	const char **last = arg;

	last[0] = el;
	last[1] = el + el_len;
}

/* A chunked body is what 411 is for; any other coding we cannot decode. */
static int ends_with_chunked(const struct http_header *te)
{
	const char *last[2] = {NULL, NULL};

	for_each_element(te->value, te->value_len, last_element, last);
	return last[0] && ieq_lit(last[0], (size_t)(last[1] - last[0]), "chunked");
}

static void note_header(struct head_summary *s, const struct http_header *h)
{
	if (ieq_lit(h->name, h->name_len, "host")) {
		s->hosts++;
	} else if (ieq_lit(h->name, h->name_len, "content-length")) {
		s->content_lengths++;
		s->content_length = h;
	} else if (ieq_lit(h->name, h->name_len, "transfer-encoding")) {
		s->transfer_encoding = h;
	} else if (ieq_lit(h->name, h->name_len, "expect")) {
		if (ieq_lit(h->value, h->value_len, "100-continue"))
			s->expect_continue = 1;
		else
			s->expect_bad = 1;
	} else if (ieq_lit(h->name, h->name_len, "connection")) {
		for_each_element(h->value, h->value_len, connection_token, s);
	}
}

static int check_framing(struct http_req *r, const struct head_summary *s)
{
	if (s->content_lengths > 1) {
		fail(r, 400, "more than one Content-Length");
		return -1;
	}
	if (s->content_length && s->transfer_encoding) {
		fail(r, 400, "Content-Length with Transfer-Encoding");
		return -1;
	}
	if (s->transfer_encoding) {
		if (ends_with_chunked(s->transfer_encoding))
			fail(r, 411, "chunked body without Content-Length");
		else
			fail(r, 501, "unsupported Transfer-Encoding");
		return -1;
	}
	if (s->content_length) {
		if (parse_content_length(s->content_length->value, s->content_length->value_len,
		                         &r->content_length) < 0) {
			fail(r, 400, "invalid Content-Length");
			return -1;
		}
		r->has_content_length = 1;
	}
	return 0;
}

static int check_headers(struct http_req *r)
{
	struct head_summary s;

	memset(&s, 0, sizeof s);
	for (size_t i = 0; i < r->nheaders; i++)
		note_header(&s, &r->headers[i]);

	if (s.hosts > 1 || (s.hosts == 0 && r->version_minor == 1)) {
		fail(r, 400, s.hosts ? "more than one Host" : "missing Host");
		return -1;
	}
	if (check_framing(r, &s) < 0)
		return -1;
	if (s.expect_bad) {
		fail(r, 417, "unsupported Expect");
		return -1;
	}
	if (!r->has_content_length &&
	    (strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0)) {
		fail(r, 411, "body without Content-Length");
		return -1;
	}
	/* RFC 7231 5.1.1: an HTTP/1.0 client cannot handle an interim 100. */
	r->expect_continue = s.expect_continue && r->version_minor == 1;
	if (s.conn_close)
		r->keep_alive = 0;
	else
		r->keep_alive = r->version_minor == 1 || s.conn_keep_alive;
	return 0;
}

/* ---- the whole head ---- */

/* Returns the length of the line at p (up to its CR), known to end in CRLF. */
static size_t line_length(const char *p, const char *end)
{
	const char *cr = memchr(p, '\r', (size_t)(end - p));
	return (size_t)(cr - p);
}

static void parse_head(struct http_req *r)
{
	char *p = r->head;
	char *end = r->head + r->head_len;

	while (p[0] == '\r')
		p += 2; /* the empty lines find_head_end allowed */

	size_t len = line_length(p, end);
	if (parse_request_line(r, p, len) < 0)
		return;
	for (p += len + 2;; p += len + 2) {
		len = line_length(p, end);
		if (len == 0)
			break;
		if (parse_header_line(r, p, len) < 0)
			return;
	}
	if (check_headers(r) < 0)
		return;
	r->state = HTTP_HEAD_DONE;
}

static size_t feed_head(struct http_req *r, const unsigned char *p, size_t n)
{
	size_t old = r->head_len;
	size_t take = HTTP_HEAD_MAX - old;

	if (take > n)
		take = n;
	memcpy(r->head + old, p, take);
	r->head_len = old + take;

	size_t end = find_head_end(r, old);
	if (end == 0) {
		if (r->head_len == HTTP_HEAD_MAX)
			fail(r, 431, "head too large");
		return take;
	}
	/* Whatever follows the head (or the refused byte) is not ours. */
	r->head_len = end;
	if (r->state != HTTP_ERROR)
		parse_head(r);
	return end - old;
}

static size_t feed_body(struct http_req *r, const unsigned char *p, size_t n)
{
	size_t want = (size_t)r->content_length - r->body_len;

	if (n > want)
		n = want;
	memcpy(r->body + r->body_len, p, n);
	r->body_len += n;
	if (r->body_len == r->content_length)
		r->state = HTTP_BODY_DONE;
	return n;
}

void http_req_init(struct http_req *r)
{
	memset(r, 0, sizeof *r);
}

size_t http_req_feed(struct http_req *r, const unsigned char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (r->state == HTTP_HEAD)
		return feed_head(r, p, n);
	if (r->state == HTTP_BODY)
		return feed_body(r, p, n);
	return 0;
}

int http_req_begin_body(struct http_req *r)
{
	if (r->state != HTTP_HEAD_DONE || r->content_length > SIZE_MAX ||
	    r->content_length > PTRDIFF_MAX)
		return -1;
	/* One byte for an empty body so that r->body is never NULL afterwards. */
	size_t size = r->content_length ? (size_t)r->content_length : 1;
	unsigned char *b = malloc(size);
	if (!b)
		return -1;
	r->body = b;
	r->body_len = 0;
	r->state = r->content_length ? HTTP_BODY : HTTP_BODY_DONE;
	return 0;
}

const char *http_req_header(const struct http_req *r, const char *name, size_t *len, size_t *count)
{
	const struct http_header *first = NULL;
	size_t found = 0;

	for (size_t i = 0; i < r->nheaders; i++) {
		const struct http_header *h = &r->headers[i];
		if (!ieq_lit(h->name, h->name_len, name))
			continue;
		if (!first)
			first = h;
		found++;
	}
	if (count)
		*count = found;
	if (!first)
		return NULL;
	if (len)
		*len = first->value_len;
	return first->value;
}

void http_req_reset(struct http_req *r)
{
	free(r->body);
	http_req_init(r);
}

void http_req_free(struct http_req *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
}
