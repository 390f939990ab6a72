/* The API's Services and EndpointSlices by Service ("namespace/name"): which slices
 * name each Service, and which Services were touched since the last take, so the
 * agent recompiles only those. Pure bookkeeping, fed by the informers' change hooks. */
#ifndef BPFLET_SVC_INDEX_H
#define BPFLET_SVC_INDEX_H

#include <jansson.h>
#include <stdbool.h>

struct bl_svc_index {
	json_t *slices; /* group → {slice key → slice} */
	json_t *dirty;	/* group → true */
	bool all;	/* a relist replaced a cache: every group may have changed */
};

void bl_svc_index_init(struct bl_svc_index *x);
void bl_svc_index_free(struct bl_svc_index *x);
/* A Service changed (key "namespace/name"); NULL: the Services were relisted. */
void bl_svc_index_service(struct bl_svc_index *x, const char *key);
/* A slice changed: old and/or new (NULL for an add or a delete). */
void bl_svc_index_slice(struct bl_svc_index *x, const char *key, json_t *old, json_t *new_obj);
/* The slices were relisted: the index is rebuilt from the informer's cache. */
void bl_svc_index_slices_reset(struct bl_svc_index *x, json_t *cache);
/* The slices naming group (borrowed {key → slice}), or NULL. */
json_t *bl_svc_index_slices(const struct bl_svc_index *x, const char *group);
/* The groups touched since the last take (a new reference; *all: every group). */
json_t *bl_svc_index_take(struct bl_svc_index *x, bool *all);

#endif
