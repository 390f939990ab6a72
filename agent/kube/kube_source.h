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
/* Sum of the caches' generations: changes when any object changed. */
unsigned long bl_kube_source_generation(const struct bl_kube_source *k);
/* Appends the cached objects (borrowed) to *objs (realloc'd). */
int bl_kube_source_objects(const struct bl_kube_source *k, json_t ***objs, size_t *n);
void bl_kube_source_metrics(const struct bl_kube_source *k, struct evbuffer *b);
/* The source's client, shared with the node duties. */
struct bl_kube_client *bl_kube_source_client(const struct bl_kube_source *k);

#endif
