/*
 * Services + EndpointSlices → frontend records, with kube-proxy's rules: one frontend
 * per (ClusterIP, port, protocol); headless, ExternalName and service-proxy-name
 * services skipped; endpoints joined to service ports by port name and protocol;
 * ready endpoints, else serving+terminating ones, else none (reject).
 * Pure: no I/O, no kernel; the same input always gives the same table.
 */
#ifndef BPFLET_COMPILE_H
#define BPFLET_COMPILE_H

#include "controlplane/compile/errlist.h"
#include "controlplane/compile/k8s_endpointslice.h"
#include "controlplane/compile/k8s_service.h"
#include "controlplane/compile/svc_records.h"

#include <jansson.h>

struct bl_compile_opts {
	/* This node's name: marks local backends and applies traffic policy Local.
	 * NULL or "": no endpoint is local. */
	const char *node_name;
	/* Also emit scope EXTERNAL frontends for externalIPs, LoadBalancer ingress IPs
	 * and (with node_ips) NodePorts, backends chosen by externalTrafficPolicy. */
	bool external;
	/* IPv4 addresses this node answers NodePorts on (used when `external`). */
	size_t n_node_ips;
	const struct bpflet_addr *node_ips;
	/* NodePorts served only inside [nodeport_min, nodeport_max] (--nodeport-range);
	 * others are reported and skipped. Both 0: no range check. */
	uint16_t nodeport_min, nodeport_max;
	/* Maglev for Services without the lb-algorithm annotation (else random). */
	bool maglev;
};

/* Builds *out (freed with bl_svc_table_free) from the given objects. Conflicts
 * (duplicate Services or slices, two services claiming one frontend) are reported in
 * errs (may be NULL) and resolved deterministically; they do not fail the call.
 * Returns 0 or -ENOMEM (then *out is empty). */
int bl_compile_services(const struct bl_k8s_service *svcs, size_t n_svcs,
			const struct bl_k8s_endpointslice *slices, size_t n_slices,
			const struct bl_compile_opts *opts, struct bl_svc_table *out,
			struct bl_errlist *errs);

/* Convenience for callers holding raw objects (manifests, informer caches): parses
 * every Service and EndpointSlice in objs (other kinds ignored; invalid ones reported
 * in errs with their name and field, then skipped) and compiles them. */
int bl_compile_objects(json_t *const *objs, size_t n, const struct bl_compile_opts *opts,
		       struct bl_svc_table *out, struct bl_errlist *errs);

/* Its first half: the Services and EndpointSlices among objs, parsed (invalid ones
 * reported in errs and left out). 0 or -ENOMEM (then *p holds nothing). */
struct bl_parsed_objects {
	struct bl_k8s_service *svcs;
	size_t n_svcs;
	struct bl_k8s_endpointslice *slices;
	size_t n_slices;
};
int bl_parse_objects(json_t *const *objs, size_t n, struct bl_parsed_objects *p,
		     struct bl_errlist *errs);
void bl_parsed_objects_free(struct bl_parsed_objects *p);

#endif
