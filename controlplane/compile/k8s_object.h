/* Which Kubernetes object a json_t is, how to name it in messages, and its metadata. */
#ifndef BPFLET_K8S_OBJECT_H
#define BPFLET_K8S_OBJECT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum bl_k8s_kind {
	BL_K8S_OTHER = 0,     /* a kind the compiler does not read (kept, not validated) */
	BL_K8S_SERVICE,	      /* v1 Service */
	BL_K8S_ENDPOINTSLICE, /* discovery.k8s.io/v1 EndpointSlice */
};

/* Returns the kind, or -EINVAL with the reason in err (not an object, no kind or
 * apiVersion, or a version of Service/EndpointSlice we do not read). */
int bl_k8s_kind_of(const json_t *obj, char *err, size_t errlen);

/* "Service default/web" from kind and metadata, best effort, never fails. */
const char *bl_k8s_describe(const json_t *obj, char *buf, size_t len);

struct bl_k8s_meta {
	char ns[64]; /* "default" when absent */
	char name[254];
};

/* metadata.name (required; a DNS label when `label_name`, else a DNS subdomain),
 * metadata.namespace, and metadata.labels (all values strings; *labels may be NULL). */
int bl_k8s_meta_parse(const json_t *obj, bool label_name, struct bl_k8s_meta *m,
		      const json_t **labels, char *err, size_t errlen);
/* A label's value, NULL when not set. */
const char *bl_k8s_label(const json_t *labels, const char *key);

#endif
