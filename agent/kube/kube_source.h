/* The agent's API source: Services, EndpointSlices, Nodes, Pods, Namespaces and
 * NetworkPolicies from the Kubernetes API (--kubeconfig FILE [--context C], or
 * in-cluster), beside or instead of --manifests. */
#ifndef BPFLET_KUBE_SOURCE_H
#define BPFLET_KUBE_SOURCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct bl_agent;
struct evbuffer;
struct bl_kube_source;

/* NULL kubeconfig: in-cluster. changed(a) runs after any cache changed. Returns NULL
 * after logging why. */
struct bl_kube_source *bl_kube_source_new(struct bl_agent *a, const char *kubeconfig,
					  const char *context, void (*changed)(struct bl_agent *));
void bl_kube_source_free(struct bl_kube_source *k);
/* Every informer has completed its first list (before that, syncing would remove
 * the Services not listed yet from the re-adopted maps). */
bool bl_kube_source_synced(const struct bl_kube_source *k);
/* Sum of the generations of the kinds other than Services and EndpointSlices (Nodes,
 * Pods, Namespaces, NetworkPolicies): changes when one of them changed. Services
 * and slices are followed by group (take_touched). */
unsigned long bl_kube_source_other_generation(const struct bl_kube_source *k);
/* The Services ("namespace/name") whose Service or slices changed since the last
 * call: a new reference to {group → true}; *all: a relist, every group may have;
 * *since: when the first of those changes arrived (unix time, 0 if none). */
json_t *bl_kube_source_take_touched(struct bl_kube_source *k, bool *all, double *since);
/* The last-change-trigger-time annotations (unix time) of the slices changed since
 * the last call, at most max. */
size_t bl_kube_source_take_triggers(struct bl_kube_source *k, double *out, size_t max);
/* One Service from the cache (borrowed) or NULL; the slices naming it (borrowed
 * {key → slice}) or NULL. Both as the cache holds them: bl_inf_object parses. */
json_t *bl_kube_source_service(const struct bl_kube_source *k, const char *key);
json_t *bl_kube_source_slices_of(const struct bl_kube_source *k, const char *key);
/* Every Service there is by group ("namespace/name" of a Service or named by a
 * slice): a new reference to {group → true}. */
json_t *bl_kube_source_groups(const struct bl_kube_source *k);
/* Appends the cached objects (borrowed) of the kinds other than Services and
 * EndpointSlices (those are reached by group) to *objs (realloc'd). */
int bl_kube_source_objects(const struct bl_kube_source *k, json_t ***objs, size_t *n);
void bl_kube_source_metrics(const struct bl_kube_source *k, struct evbuffer *b);
/* The source's client, shared with the node duties. */
struct bl_kube_client *bl_kube_source_client(const struct bl_kube_source *k);

#endif
