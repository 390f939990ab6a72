/* etcd v3's JSON gateway as plain functions: request bodies in, bl_kv out. Keys and
 * values travel base64-encoded, int64 fields as strings. No I/O here, so it is
 * unit-tested on its own. */
#ifndef BPFLET_ETCD_JSON_H
#define BPFLET_ETCD_JSON_H

#include "controlplane/store/store.h"

#include <jansson.h>

/* base64 of len bytes (OpenSSL EVP); NULL on allocation failure. */
char *bl_b64_encode(const void *buf, size_t len);
/* Decoded bytes, NUL-terminated (*len excludes the NUL); NULL when s is not base64. */
char *bl_b64_decode(const char *s, size_t *len);

/* The first key after every key that starts with prefix ("" when there is none). */
char *bl_etcd_prefix_end(const char *prefix);

/* An int64 field that the gateway may send as a string or a number; 0 when absent. */
int64_t bl_etcd_int(const json_t *obj, const char *field);

/* mvccpb.KeyValue → bl_kv. */
int bl_etcd_kv_decode(const json_t *kv, struct bl_kv *out);

/* An error body ({"error": ..., "code": ...}) or a failed HTTP status → BL_STORE_*. */
int bl_etcd_error(int http_status, const json_t *body);

/* Range request: key .. range_end ("" = the single key), at rev (0 = now), limit (0 =
 * all). */
json_t *bl_etcd_range_req(const char *key, const char *range_end, int64_t rev, int64_t limit);

/* A page of keys under prefix that come after start_after (NULL: from the start). */
json_t *bl_etcd_list_req(const char *prefix, const char *start_after, int64_t rev, int64_t limit);

enum bl_etcd_txn_kind { BL_ETCD_CREATE, BL_ETCD_UPDATE, BL_ETCD_DELETE };

/* The txn behind create / update / delete: compares the key's create revision (must be
 * 0 for a create, not 0 otherwise) or, when expect_rev is set, its mod revision; on
 * success puts (or deletes, returning the previous value); on failure reads the key so
 * the caller can tell NOT_FOUND / EXISTS / CONFLICT apart in one round trip. */
json_t *bl_etcd_txn_req(enum bl_etcd_txn_kind kind, const char *key, const char *val, size_t len,
			int64_t lease, int64_t expect_rev);

/* Outcome of such a txn: 0 and *rev = the write's revision, prev (may be NULL) = the
 * deleted version; or EXISTS / NOT_FOUND / CONFLICT. */
int bl_etcd_txn_result(enum bl_etcd_txn_kind kind, const json_t *resp, int64_t expect_rev,
		       int64_t *rev, struct bl_kv *prev);

/* The watch create request: everything under prefix from start_rev on, with prev_kv. */
json_t *bl_etcd_watch_req(const char *prefix, int64_t start_rev);

/* One watch response line. For each event calls cb with a bl_event in the store's
 * terms (a DELETE carries the deleted value). Returns 0, or COMPACTED when etcd
 * cancelled the watch because start_rev was compacted (*compact_rev says to what),
 * or IO for a malformed line. *rev receives the header revision. */
int bl_etcd_watch_decode(const json_t *line, bl_watch_cb cb, void *arg, int64_t *rev,
			 int64_t *compact_rev);
/* True when line cancels the watch for a reason other than compaction (etcd keeps the
 * stream open but sends nothing more on it); *reason gets etcd's cancel_reason or "". */
bool bl_etcd_watch_canceled(const json_t *line, const char **reason);

#endif
