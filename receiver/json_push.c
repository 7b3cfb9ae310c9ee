/*
 * json_push.c - extract ref/after/deleted from the top level of a push body.
 *
 * jsmn only tokenizes: it does not decode escapes, accepts malformed
 * primitives (`tru`, `1.2.3`), trailing commas, a missing colon and raw
 * control bytes in strings, and stops at a NUL byte.  Everything this
 * module relies on is therefore checked here again: NUL and control bytes,
 * nesting depth, the top-level object's punctuation, the key/value shape,
 * and the three values we read.  Values of other keys are only skipped.
 */
#include "json_push.h"
#include "hex.h"
#include "json_walk.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

/*
 * jsmn walks back through the closed ancestors on every closing bracket, so
 * its run time grows with depth squared (100000 balanced levels took 14 s).
 * Real payloads nest about 10 levels deep; anything past this is refused as
 * too complex before jsmn sees it.
 */
#define JSON_MAX_DEPTH 64

#define AFTER_HEX 40

struct json_doc {
	const char *js;
	size_t len; /* without trailing whitespace */
	jsmntok_t *t;
	int n;
};

/* Collects decoded bytes; keeps counting past cap so callers see overlong input. */
struct sink {
	char *buf;
	size_t cap;
	size_t len;
};

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_prim_start(char c)
{
	return c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n';
}

/*
 * Index of the closing quote of the string opening at i, lexed as jsmn
 * does; *ctl is set on a raw control byte, which jsmn lets through.
 */
static size_t skip_string(const char *js, size_t len, size_t i, int *ctl)
{
	for (i++; i < len && js[i] != '"'; i++) {
		if ((unsigned char)js[i] < 0x20)
			*ctl = 1;
		if (js[i] == '\\' && i + 1 < len)
			i++;
	}
	return i;
}

/* Index of the byte that ends the primitive at i, using jsmn's strict delimiters. */
static size_t skip_primitive(const char *js, size_t len, size_t i)
{
	while (i < len && !is_ws(js[i]) && js[i] != ',' && js[i] != ']' && js[i] != '}')
		i++;
	return i;
}

/*
 * One linear pass ahead of jsmn for what jsmn does not check.  It mirrors
 * jsmn's lexing so that every bracket jsmn would treat as structure is
 * counted: a quote inside a primitive (`1"`) belongs to the primitive for
 * jsmn, so it must not open a string here either.
 */
static enum json_result prescan(const char *js, size_t len)
{
	size_t depth = 0;
	int ctl = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = js[i];

		if (c == '{' || c == '[') {
			if (++depth > JSON_MAX_DEPTH)
				return JSON_TOO_BIG;
		} else if (c == '}' || c == ']') {
			if (depth > 0)
				depth--;
		} else if (c == '"') {
			i = skip_string(js, len, i, &ctl);
		} else if (is_prim_start(c)) {
			i = skip_primitive(js, len, i) - 1;
		}
	}
	return ctl ? JSON_INVALID : JSON_OK;
}

static enum json_result precheck(const char *body, size_t len)
{
	/* jsmn stops at NUL and would judge only the bytes before it */
	if (body == NULL || memchr(body, '\0', len) != NULL)
		return JSON_INVALID;
	/* jsmn keeps offsets in int */
	if (len > INT_MAX)
		return JSON_TOO_BIG;
	return prescan(body, len);
}

static enum json_result tokenize(struct json_doc *d, const char *body, size_t len)
{
	jsmn_parser p;
	int count;

	jsmn_init(&p);
	count = jsmn_parse(&p, body, len, NULL, 0);
	if (count <= 0)
		return JSON_INVALID;
	if ((unsigned int)count > JSON_MAX_TOKENS)
		return JSON_TOO_BIG;
	d->t = malloc((size_t)count * sizeof(*d->t));
	/* no result means "out of memory"; this body is what exhausted it */
	if (d->t == NULL)
		return JSON_TOO_BIG;
	jsmn_init(&p);
	d->n = jsmn_parse(&p, body, len, d->t, (unsigned int)count);
	if (d->n != count) {
		free(d->t);
		d->t = NULL;
		return JSON_INVALID;
	}
	d->js = body;
	d->len = len;
	while (d->len > 0 && is_ws(body[d->len - 1]))
		d->len--;
	return JSON_OK;
}

static void put(struct sink *k, unsigned char c)
{
	if (k->len < k->cap)
		k->buf[k->len] = (char)c;
	k->len++;
}

static void put_utf8(struct sink *k, unsigned long cp)
{
	if (cp < 0x80) {
		put(k, (unsigned char)cp);
	} else if (cp < 0x800) {
		put(k, (unsigned char)(0xC0 | (cp >> 6)));
		put(k, (unsigned char)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		put(k, (unsigned char)(0xE0 | (cp >> 12)));
		put(k, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
		put(k, (unsigned char)(0x80 | (cp & 0x3F)));
	} else {
		put(k, (unsigned char)(0xF0 | (cp >> 18)));
		put(k, (unsigned char)(0x80 | ((cp >> 12) & 0x3F)));
		put(k, (unsigned char)(0x80 | ((cp >> 6) & 0x3F)));
		put(k, (unsigned char)(0x80 | (cp & 0x3F)));
	}
}

/* Reads `\uXXXX` at s[*i]; -1 if it is not one. */
static long read_u16(const char *s, size_t n, size_t *i)
{
	long v = 0;
	size_t j;

	if (*i + 6 > n || s[*i] != '\\' || s[*i + 1] != 'u')
		return -1;
	for (j = 2; j < 6; j++) {
		int h = hex_value((unsigned char)s[*i + j]);

		if (h < 0)
			return -1;
		v = (v << 4) | h;
	}
	*i += 6;
	return v;
}

/* A \u escape, joining a surrogate pair; NUL and unpaired halves are refused. */
static enum json_result decode_u(const char *s, size_t n, size_t *i, struct sink *k)
{
	long hi = read_u16(s, n, i);
	long lo;

	if (hi < 0)
		return JSON_INVALID;
	if (hi == 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
		return JSON_BAD_FIELD;
	if (hi < 0xD800 || hi > 0xDBFF) {
		put_utf8(k, (unsigned long)hi);
		return JSON_OK;
	}
	lo = read_u16(s, n, i);
	if (lo < 0xDC00 || lo > 0xDFFF)
		return JSON_BAD_FIELD;
	put_utf8(k,
	         0x10000ul + ((unsigned long)(hi - 0xD800) << 10) + (unsigned long)(lo - 0xDC00));
	return JSON_OK;
}

static int simple_escape(char e)
{
	switch (e) {
	case '"':
	case '\\':
	case '/':
		return e;
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	}
	return -1;
}

/* Decodes a whole string token even past k->cap, so every escape is validated. */
static enum json_result decode_str(const char *s, size_t n, struct sink *k)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		int e;

		if (c < 0x20)
			return JSON_INVALID;
		if (c != '\\') {
			put(k, c);
			i++;
			continue;
		}
		if (i + 1 < n && s[i + 1] == 'u') {
			enum json_result r = decode_u(s, n, &i, k);

			if (r != JSON_OK)
				return r;
			continue;
		}
		e = i + 1 < n ? simple_escape(s[i + 1]) : -1;
		if (e < 0)
			return JSON_INVALID;
		put(k, (unsigned char)e);
		i += 2;
	}
	return JSON_OK;
}

static enum json_result decode_tok(const struct json_doc *d, int i, struct sink *k)
{
	const jsmntok_t *t = &d->t[i];

	return decode_str(d->js + t->start, (size_t)(t->end - t->start), k);
}

/* Byte offsets of a token including the quotes jsmn strips from strings. */
static int raw_start(const jsmntok_t *t)
{
	return t->start - (t->type == JSMN_STRING);
}

static int raw_end(const jsmntok_t *t)
{
	return t->end + (t->type == JSMN_STRING);
}

/*
 * js[from, to) must be whitespace around exactly one sep (or only whitespace
 * when sep is 0).  This is what rejects `{"a":1,}` and `{"a":1,,"b":2}`.
 */
static int gap_ok(const char *js, int from, int to, char sep)
{
	int seen = sep == 0;

	for (; from < to; from++) {
		if (js[from] == sep && !seen)
			seen = 1;
		else if (!is_ws(js[from]))
			return 0;
	}
	return seen;
}

/* A scalar owns no tokens; jsmn gives one a child after a stray ':'. */
static int value_shape_ok(const jsmntok_t *v)
{
	return v->type == JSMN_OBJECT || v->type == JSMN_ARRAY || v->size == 0;
}

/* A key must be a string of object obj owning exactly one value. */
static int pair_shape_ok(const struct json_doc *d, int obj, int key)
{
	const jsmntok_t *k = &d->t[key];
	const jsmntok_t *v = &d->t[key + 1];

	if (k->type != JSMN_STRING || k->size != 1 || k->parent != obj || v->parent != key)
		return 0;
	return value_shape_ok(v);
}

static int skip_subtree(const struct json_doc *d, int v)
{
	int j = v + 1;

	while (j < d->n && d->t[j].start < d->t[v].end)
		j++;
	return j;
}

/* Long enough for every key an extractor looks for. */
#define NAME_MAX_LEN 16

enum json_result json_walk_object(const struct json_doc *d, int o, json_member_fn fn, void *ctx)
{
	const jsmntok_t *obj = &d->t[o];
	int prev = obj->start + 1;
	int i = o + 1;
	int k;

	if (obj->type != JSMN_OBJECT)
		return JSON_BAD_FIELD;
	for (k = 0; k < obj->size; k++) {
		char name[NAME_MAX_LEN];
		struct sink ks = {name, sizeof(name), 0};
		enum json_result r;

		if (i + 1 >= d->n || !pair_shape_ok(d, o, i))
			return JSON_INVALID;
		if (!gap_ok(d->js, prev, raw_start(&d->t[i]), k > 0 ? ',' : 0) ||
		    !gap_ok(d->js, raw_end(&d->t[i]), raw_start(&d->t[i + 1]), ':'))
			return JSON_INVALID;
		/* the sink validates the whole key even past its buffer */
		r = decode_tok(d, i, &ks);
		if (r == JSON_OK)
			r = fn(d, i + 1, name, ks.len, ctx);
		if (r != JSON_OK)
			return r;
		prev = raw_end(&d->t[i + 1]);
		i = skip_subtree(d, i + 1);
	}
	return gap_ok(d->js, prev, obj->end - 1, 0) ? JSON_OK : JSON_INVALID;
}

enum json_result json_walk_array(const struct json_doc *d, int a, json_elem_fn fn, void *ctx)
{
	const jsmntok_t *arr = &d->t[a];
	int prev = arr->start + 1;
	int i = a + 1;
	int k;

	if (arr->type != JSMN_ARRAY)
		return JSON_BAD_FIELD;
	for (k = 0; k < arr->size; k++) {
		enum json_result r;

		if (i >= d->n || d->t[i].parent != a || !value_shape_ok(&d->t[i]))
			return JSON_INVALID;
		if (!gap_ok(d->js, prev, raw_start(&d->t[i]), k > 0 ? ',' : 0))
			return JSON_INVALID;
		r = fn(d, i, ctx);
		if (r != JSON_OK)
			return r;
		prev = raw_end(&d->t[i]);
		i = skip_subtree(d, i);
	}
	return gap_ok(d->js, prev, arr->end - 1, 0) ? JSON_OK : JSON_INVALID;
}

enum json_result json_walk_body(const char *body, size_t len, json_member_fn fn, void *ctx)
{
	struct json_doc d = {0};
	enum json_result r = precheck(body, len);

	if (r == JSON_OK)
		r = tokenize(&d, body, len);
	if (r != JSON_OK)
		return r;
	if (d.t[0].type != JSMN_OBJECT || (size_t)d.t[0].end != d.len)
		r = JSON_INVALID;
	if (r == JSON_OK)
		r = json_walk_object(&d, 0, fn, ctx);
	/* nothing may follow the object: `{}{}` tokenizes as two */
	if (r == JSON_OK && skip_subtree(&d, 0) != d.n)
		r = JSON_INVALID;
	free(d.t);
	return r;
}

static int tok_is(const struct json_doc *d, int i, const char *lit)
{
	const jsmntok_t *t = &d->t[i];
	size_t n = strlen(lit);

	return (size_t)(t->end - t->start) == n && memcmp(d->js + t->start, lit, n) == 0;
}

int json_is_null(const struct json_doc *d, int v)
{

	/* jsmn's PRIMITIVE also covers `nul` and `nullx`: compare exactly */
	return d->t[v].type == JSMN_PRIMITIVE && tok_is(d, v, "null");
}

int json_is_object(const struct json_doc *d, int v)
{
	return d->t[v].type == JSMN_OBJECT;
}

enum json_result json_take_string(const struct json_doc *d, int v, const char *prefix, char *buf,
                                  size_t cap, size_t *len)
{
	size_t plen = strlen(prefix);
	struct sink k = {buf, cap, plen};
	enum json_result r;

	if (d->t[v].type != JSMN_STRING || plen > cap)
		return JSON_BAD_FIELD;
	memcpy(buf, prefix, plen);
	r = decode_tok(d, v, &k);
	if (r != JSON_OK)
		return r;
	if (k.len > cap)
		return JSON_BAD_FIELD;
	buf[k.len] = '\0';
	*len = k.len;
	return JSON_OK;
}

enum json_result json_take_hex40(const struct json_doc *d, int v, char out[AFTER_HEX + 1])
{
	char buf[AFTER_HEX + 1];
	size_t len, i;
	enum json_result r = json_take_string(d, v, "", buf, AFTER_HEX, &len);

	if (r != JSON_OK)
		return r;
	if (len != AFTER_HEX)
		return JSON_BAD_FIELD;
	for (i = 0; i < AFTER_HEX; i++) {
		int h = hex_value((unsigned char)buf[i]);

		if (h < 0)
			return JSON_BAD_FIELD;
		out[i] = "0123456789abcdef"[h];
	}
	out[AFTER_HEX] = '\0';
	return JSON_OK;
}

enum json_result json_take_bool(const struct json_doc *d, int v, int *out)
{

	/* jsmn's PRIMITIVE also covers `tru` and `trueish`: compare exactly */
	if (d->t[v].type != JSMN_PRIMITIVE)
		return JSON_BAD_FIELD;
	if (tok_is(d, v, "true"))
		*out = 1;
	else if (tok_is(d, v, "false"))
		*out = 0;
	else
		return JSON_BAD_FIELD;
	return JSON_OK;
}

/* The top level of a push body: ref, before, after, deleted, each at most once. */
static enum json_result push_member(const struct json_doc *d, int v, const char *name, size_t n,
                                    void *ctx)
{
	struct push_info *out = ctx;

	if (n == 3 && memcmp(name, "ref", 3) == 0) {
		if (out->has_ref++)
			return JSON_DUPLICATE;
		return json_take_string(d, v, "", out->ref, JSON_REF_MAX, &out->ref_len);
	}
	if (n == 5 && memcmp(name, "after", 5) == 0) {
		if (out->has_after++)
			return JSON_DUPLICATE;
		return json_take_hex40(d, v, out->after);
	}
	if (n == 6 && memcmp(name, "before", 6) == 0) {
		if (out->has_before++)
			return JSON_DUPLICATE;
		return json_take_hex40(d, v, out->before);
	}
	if (n == 7 && memcmp(name, "deleted", 7) == 0) {
		if (out->has_deleted++)
			return JSON_DUPLICATE;
		return json_take_bool(d, v, &out->deleted);
	}
	return JSON_OK;
}

enum json_result json_push_extract(const char *body, size_t len, struct push_info *out)
{
	enum json_result r;

	memset(out, 0, sizeof(*out));
	r = json_walk_body(body, len, push_member, out);
	/* never hand back half a result */
	if (r != JSON_OK)
		memset(out, 0, sizeof(*out));
	return r;
}

const char *json_strerror(enum json_result r)
{
	switch (r) {
	case JSON_OK:
		return "json ok";
	case JSON_INVALID:
		return "json invalid";
	case JSON_DUPLICATE:
		return "json duplicate key";
	case JSON_TOO_BIG:
		return "json too complex";
	case JSON_BAD_FIELD:
		return "json bad field";
	}
	return "json: unknown result";
}
