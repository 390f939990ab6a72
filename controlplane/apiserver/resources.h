/* Every resource the server knows, described once: discovery, routing, storage keys and
 * behaviour flags all come from this table. */
#ifndef BPFLET_CP_RESOURCES_H
#define BPFLET_CP_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>

enum {
	RES_STATUS = 1 << 0,	 /* has a /status subresource; the main resource keeps status */
	RES_GENERATION = 1 << 1, /* metadata.generation follows spec changes */
	RES_GRACEFUL = 1 << 2,	 /* bound pods: delete marks, the kubelet removes */
	RES_BINDING = 1 << 3,	 /* has a /binding subresource (POST of a v1 Binding) */
};

struct bl_resource {
	const char *group; /* "" for core */
	const char *version;
	const char *name; /* plural, as in URLs */
	const char *singular;
	const char *kind;
	const char *short_names; /* comma-separated, or NULL */
	const char *categories;	 /* comma-separated, or NULL */
	const char *fields;	 /* field selectors beyond metadata.name/namespace */
	bool namespaced;
	unsigned flags;
};

extern const struct bl_resource bl_resources[];
extern const size_t bl_nresources;

const struct bl_resource *bl_resource_find(const char *group, const char *version,
					   const char *name);
/* "v1" or "group/version" */
void bl_resource_api_version(const struct bl_resource *r, char *buf, size_t len);
/* "services" or "endpointslices.discovery.k8s.io", as Status messages name them */
void bl_resource_qualified(const struct bl_resource *r, char *buf, size_t len);
/* /registry/<resource>/[<namespace>/][<name>]: ns or name NULL gives the prefix */
void bl_resource_key(const struct bl_resource *r, const char *ns, const char *name, char *buf,
		     size_t len);

#endif
