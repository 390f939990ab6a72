/* One resource's list+watch over the shared client (informer_state.c decides, this
 * file does the HTTP, the line splitting and the timers). */
#ifndef BPFLET_INFORMER_H
#define BPFLET_INFORMER_H

#include "agent/kube/informer_state.h"

struct event_base;
struct bl_kube_client;
struct bl_informer;

/* path: the collection, e.g. /api/v1/services; changed(arg) is called after the cache
 * changed (one call per received batch). */
struct bl_informer *bl_informer_new(struct event_base *base, struct bl_kube_client *c,
				    const char *path, const char *kind, const char *api_version,
				    void (*changed)(void *arg), void *arg);
void bl_informer_free(struct bl_informer *inf);
const struct bl_inf_state *bl_informer_state(const struct bl_informer *inf);
/* Each item of a list in progress, as bl_inf_state.on_list_item describes (arg is
 * on_change's). */
void bl_informer_on_list_item(struct bl_informer *inf,
			      void (*fn)(void *arg, const char *key, json_t *obj, json_t *stored));
/* Every change to the cache, as bl_inf_state.on_change describes. */
void bl_informer_on_change(struct bl_informer *inf,
			   void (*fn)(void *arg, const char *key, json_t *obj, json_t *stored),
			   void *arg);
/* Keep the cache as compact text (bl_inf_state.compact); call before the loop runs. */
void bl_informer_compact(struct bl_informer *inf);
const char *bl_informer_path(const struct bl_informer *inf);

#endif
