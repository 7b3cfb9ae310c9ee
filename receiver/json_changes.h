/*
 * json_changes.h - the ref changes of a Bitbucket push payload.
 *
 * Bitbucket reports one push as a list of ref changes instead of GitHub's
 * single top-level ref:
 *   Cloud   repo:push          push.changes[].new|old.{type,name,target.hash}
 *   Server  repo:refs_changed  changes[].{refId,toHash,type}
 * Only those paths are walked, with the same strictness as json_push.h;
 * each change is handed to the caller as a full ref name.
 */
#ifndef TH_JSON_CHANGES_H
#define TH_JSON_CHANGES_H

#include <stddef.h>

#include "json_push.h"

enum json_shape {
	SHAPE_BITBUCKET_CLOUD,
	SHAPE_BITBUCKET_SERVER,
};

struct ref_change {
	char ref[JSON_REF_MAX + 1]; /* "refs/heads/NAME" or "refs/tags/NAME" (Cloud: built
	                               from type and name; an unknown type gives NAME alone) */
	size_t ref_len;
	char after[41]; /* the new commit, 40 lowercase hex; zeros when deleted */
	int deleted;    /* Cloud: new is null; Server: type DELETE */
};

/*
 * Called once per change, in order, as soon as the change is read.  The
 * body may still turn out invalid later: keep nothing unless the extract
 * returns JSON_OK.
 */
typedef void (*ref_change_fn)(const struct ref_change *c, void *ctx);

/*
 * Parses body and reports its changes.  *count receives the number of
 * changes.  A body without the changes array is JSON_OK with *count 0.
 */
enum json_result json_changes_extract(const char *body, size_t len, enum json_shape shape,
                                      ref_change_fn fn, void *ctx, size_t *count);

#endif
