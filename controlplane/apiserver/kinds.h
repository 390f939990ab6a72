/* Per-kind behaviour on writes: defaults, allocations, fields that may not change. The
 * prepare hooks return 0, or answer the exchange with a Status and return -1. */
#ifndef BPFLET_CP_KINDS_H
#define BPFLET_CP_KINDS_H

#include "controlplane/apiserver/exchange.h"
#include "controlplane/apiserver/resources.h"

#include <jansson.h>

int bl_kind_prepare_create(struct hx *x, const struct bl_resource *r, json_t *obj);
/* The store refused the object: give back what prepare_create allocated. */
void bl_kind_create_failed(struct bl_apiserver *srv, const struct bl_resource *r, json_t *obj);
int bl_kind_prepare_update(struct hx *x, const struct bl_resource *r, json_t *old, json_t *obj);
/* committed: release what old held and obj does not; else what obj took and old did not. */
void bl_kind_update_done(struct bl_apiserver *srv, const struct bl_resource *r, json_t *old,
			 json_t *obj, bool committed);
void bl_kind_deleted(struct bl_apiserver *srv, const struct bl_resource *r, json_t *old);
/* At start: mark what a stored object holds as allocated. */
void bl_kind_restore(struct bl_apiserver *srv, const struct bl_resource *r, json_t *obj);

/* services.c */
int bl_svc_prepare_create(struct hx *x, const struct bl_resource *r, json_t *svc);
int bl_svc_prepare_update(struct hx *x, const struct bl_resource *r, json_t *old, json_t *svc);
void bl_svc_release_diff(struct bl_apiserver *srv, json_t *keep, json_t *drop);
void bl_svc_restore(struct bl_apiserver *srv, json_t *svc);

#endif
