/* Feeding the per-Service compiler (compile_incr): every Service (the manifests' and
 * the API's, a Service's definitions from both compiled together, manifests first),
 * or only the Services the API touched. */
#ifndef BPFLET_SERVICE_GROUPS_H
#define BPFLET_SERVICE_GROUPS_H

#include "controlplane/compile/compile_incr.h"

#include <jansson.h>

struct bl_kube_source;
/* The manifests' Services and slices, parsed and sorted by group: what a rebuild
 * read, kept for the updates after it. */
struct bl_manifest_groups;

/* A full rebuild: the manifests' objects (objs, other kinds ignored) and every
 * Service of the API (k may be NULL), a Service at a time so that only one is
 * parsed at once. On success *m is the manifests' groups as read now (the previous
 * ones freed). 0 or -ENOMEM. */
int bl_service_groups_rebuild(struct bl_compile_incr *ci, json_t *const *objs, size_t n,
			      const struct bl_kube_source *k, const struct bl_compile_opts *o,
			      struct bl_errlist *errs, struct bl_manifest_groups **m);
/* The groups in touched ({"namespace/name" → any}) again: the API's objects read
 * anew, the manifests' from m (the last rebuild's; NULL: none). 0 or -ENOMEM (the
 * groups not redone keep their previous result). */
int bl_service_groups_update(struct bl_compile_incr *ci, const struct bl_kube_source *k,
			     json_t *touched, const struct bl_manifest_groups *m,
			     const struct bl_compile_opts *o, struct bl_errlist *errs);
void bl_manifest_groups_free(struct bl_manifest_groups *m);

#endif
