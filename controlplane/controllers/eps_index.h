/* What the EndpointSlice controller remembers between events so that one change makes it
 * look again at the Services it concerns and no others (pure: no store, no loop):
 * managed Services by a pair of their selector, pods by label, our slices by their
 * Service, node zones. Services are named "ns/name" throughout; the Services a change
 * concerns are added to a set given by the caller ({"ns/name": true}). */
#ifndef BPFLET_CTL_EPS_INDEX_H
#define BPFLET_CTL_EPS_INDEX_H

#include <jansson.h>
#include <stdbool.h>

struct bl_eps_index {
	json_t *sel;	 /* "ns/svc" → selector of a Service the controller manages */
	json_t *by_pair; /* "ns/k=v" → {"ns/svc"}: Services by their selector's least pair */
	json_t *pods;	 /* "ns/k=v" → {"ns/pod"}: pods by each of their labels */
	json_t *owner;	 /* "ns/slice" → "ns/svc": slices of ours */
	json_t *owned;	 /* "ns/svc" → {"ns/slice"} */
	json_t *nodes;	 /* node name → {"metadata":{"labels":{zone label: zone}}} */
};

int bl_eps_index_init(struct bl_eps_index *x);
void bl_eps_index_free(struct bl_eps_index *x);

/* A Service now (NULL: deleted): itself is concerned. */
void bl_eps_index_service(struct bl_eps_index *x, const char *ns, const char *name, json_t *now,
			  json_t *dirty);
/* A pod before and now (either NULL): the Services selecting either are concerned. */
void bl_eps_index_pod(struct bl_eps_index *x, const char *ns, const char *name, json_t *before,
		      json_t *now, json_t *dirty);
/* A slice before and now (either NULL): when ours, the Services named by either are
 * concerned (dirty may be NULL: the index follows, nobody is concerned). */
void bl_eps_index_slice(struct bl_eps_index *x, const char *ns, const char *name, json_t *before,
			json_t *now, json_t *dirty);
/* A Node now (NULL: deleted). True when its zone changed: every Service is concerned
 * (endpoints carry their node's zone). */
bool bl_eps_index_node(struct bl_eps_index *x, const char *name, json_t *now);
/* Every Service with a selector or a slice of ours. */
void bl_eps_index_all(struct bl_eps_index *x, json_t *dirty);

/* Pods ("ns/pod", a borrowed set) that may be selected by the Service svc ("ns/name")
 * with selector sel: those carrying its least pair; NULL when none. */
json_t *bl_eps_index_candidates(struct bl_eps_index *x, const char *svc, json_t *sel);
/* The slices of ours ("ns/slice", a borrowed set) of svc, or NULL. */
json_t *bl_eps_index_slices(struct bl_eps_index *x, const char *svc);

#endif
