/* The API's Services and EndpointSlices by Service ("namespace/name"): which slices
 * name each Service, and which Services were touched since the last take, so the
 * agent recompiles only those. Pure bookkeeping, fed by the informers' change hooks. */
#ifndef BPFLET_SVC_INDEX_H
#define BPFLET_SVC_INDEX_H

#include <jansson.h>
#include <stdbool.h>

struct bl_svc_index {
	json_t *slices; /* group → {slice key → slice as the cache holds it} */
	json_t *group;	/* slice key → its group */
	json_t *dirty;	/* group → true */
	bool all;	/* a relist replaced a cache: every group may have changed */
	/* slices and group for the list in progress, built as its items arrive */
	json_t *next_slices, *next_group;
};

void bl_svc_index_init(struct bl_svc_index *x);
void bl_svc_index_free(struct bl_svc_index *x);
/* A Service changed (key "namespace/name"); NULL: the Services were relisted. */
void bl_svc_index_service(struct bl_svc_index *x, const char *key);
/* A slice changed: obj the new object, stored what the cache holds for it (both NULL:
 * deleted). */
void bl_svc_index_slice(struct bl_svc_index *x, const char *key, json_t *obj, json_t *stored);
/* The slices were relisted: the index is rebuilt from the informer's cache (values
 * objects or their compact text). */
void bl_svc_index_slices_reset(struct bl_svc_index *x, json_t *cache);
/* An item of a slice list in progress (key NULL: a list starts over); obj parsed,
 * stored what the new cache holds. */
void bl_svc_index_slice_listed(struct bl_svc_index *x, const char *key, json_t *obj,
			       json_t *stored);
/* The list whose items were told is whole and replaced the cache: its index takes
 * over (with no items told, the cache is read as bl_svc_index_slices_reset does). */
void bl_svc_index_slices_relisted(struct bl_svc_index *x, json_t *cache);
/* The slices naming group (borrowed {key → slice as cached}), or NULL. */
json_t *bl_svc_index_slices(const struct bl_svc_index *x, const char *group);
/* The groups touched since the last take (a new reference; *all: every group). */
json_t *bl_svc_index_take(struct bl_svc_index *x, bool *all);

#endif
