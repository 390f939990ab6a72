/* The EndpointSlice controller's decisions, as pure functions over JSON objects: which
 * endpoints a Service's pods give, and which slices to create, update and delete so the
 * stored slices say exactly that while touching as few of them as possible. */
#ifndef BPFLET_CTL_EPS_PLAN_H
#define BPFLET_CTL_EPS_PLAN_H

#include <jansson.h>
#include <stdbool.h>

#define BL_EPS_MANAGED_BY    "endpointslice-controller.k8s.io"
#define BL_EPS_MAX_ENDPOINTS 100

/* The controller looks after this Service at all: a selector, not ExternalName. */
bool bl_eps_service_managed(json_t *svc);
/* Every selector label of svc is on pod. */
bool bl_eps_selects(json_t *svc, json_t *pod);
/* The slice is one of ours for the Service named svc_name. */
bool bl_eps_slice_of(json_t *slice, const char *svc_name);

/* pod as an endpoint of svc (new reference), or NULL when it is not one (no IPv4
 * podIP, finished, not selected). nodes: object name → Node (zone label). *ports gets
 * the slice ports the pod's containers resolve svc's ports to (new reference). */
json_t *bl_eps_endpoint(json_t *svc, json_t *pod, json_t *nodes, json_t **ports);

/* What to do for svc given all pods and slices of its namespace (arrays) and nodes:
 * {"create":[slice...], "update":[slice...], "delete":[slice...]} (new reference).
 * Updated slices keep their name and resourceVersion; created ones have generateName.
 * max is the endpoints limit per slice. */
json_t *bl_eps_plan(json_t *svc, json_t *pods, json_t *nodes, json_t *slices, size_t max);

#endif
