/*
 * json_walk.h - the strict JSON core shared by json_push.c and
 * json_changes.c (internal to the receiver's JSON extractors).
 *
 * A document is tokenized once with jsmn; the extractors then walk only
 * the objects and arrays on the paths they need.  Every object or array
 * walked gets the checks jsmn leaves out (punctuation between members,
 * one value per key, no stray tokens); subtrees off the path are skipped.
 */
#ifndef TH_JSON_WALK_H
#define TH_JSON_WALK_H

#include <stddef.h>

#include "json_push.h"

struct json_doc; /* opaque: tokens of one body */

/* Called for each member of a walked object; name is decoded (see json_walk_object). */
typedef enum json_result (*json_member_fn)(const struct json_doc *d, int value, const char *name,
                                           size_t name_len, void *ctx);
/* Called for each element of a walked array. */
typedef enum json_result (*json_elem_fn)(const struct json_doc *d, int value, void *ctx);

/*
 * Tokenizes body and checks that it is one object spanning it (trailing
 * whitespace allowed), then calls fn for each top-level member.
 */
enum json_result json_walk_body(const char *body, size_t len, json_member_fn fn, void *ctx);

/*
 * Walks the object at token `obj` (JSON_BAD_FIELD if it is not one).  Keys
 * are escape-decoded into a 16-byte buffer; name_len is the full decoded
 * length, so a longer key never compares equal to a short name.
 */
enum json_result json_walk_object(const struct json_doc *d, int obj, json_member_fn fn, void *ctx);

/* Walks the array at token `arr` (JSON_BAD_FIELD if it is not one). */
enum json_result json_walk_array(const struct json_doc *d, int arr, json_elem_fn fn, void *ctx);

/* 1 if token v is the literal null / is an object. */
int json_is_null(const struct json_doc *d, int v);
int json_is_object(const struct json_doc *d, int v);

/*
 * Decodes the string at token v into buf (cap bytes, NUL-terminated, so
 * buf holds cap + 1) after `prefix`; JSON_BAD_FIELD if v is not a string,
 * holds \u0000, or does not fit.
 */
enum json_result json_take_string(const struct json_doc *d, int v, const char *prefix, char *buf,
                                  size_t cap, size_t *len);

/* The string at v must be 40 hex digits; stored lowercase in out[41]. */
enum json_result json_take_hex40(const struct json_doc *d, int v, char out[41]);

/* The primitive at v must be exactly true or false. */
enum json_result json_take_bool(const struct json_doc *d, int v, int *out);

#endif
