/*
 * route.h - decide what a request gets, from its head and then its body.
 *
 * Pure decisions: no sockets, no logging.  The caller sends the response,
 * logs the decision and, for a 202, the message to the deployer.
 */
#ifndef TH_ROUTE_H
#define TH_ROUTE_H

#include "http_req.h"
#include "msg.h"
#include "setup_blob.h"

struct route_result {
	int status;         /* HTTP status, 0 = go on reading the body */
	const char *reason; /* constant text for the log and the response body */
	char detail[160];   /* optional sanitized detail (e.g. the ignored ref) */
	int site;           /* index, or -1 when no site matched */
	int deploy;         /* 1: msg is valid and must be sent before answering 202 */
	struct th_msg msg;
};

/* Decides on a complete head.  Sets status 0 when the body must be read. */
void route_head(const struct th_setup *s, const struct http_req *r, struct route_result *out);

/* Decides on a complete request whose head route_head accepted. */
void route_body(const struct th_setup *s, const struct http_req *r, struct route_result *out);

/* The delivery id header of the request (sanitized into out), or "-". */
void route_delivery(const struct http_req *r, char *out, size_t outsz);

#endif
