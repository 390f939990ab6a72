/*
 * Node objects → routes to the other nodes' pod CIDRs. A Node contributes when it has
 * an IPv4 pod CIDR (spec.podCIDR, else the first IPv4 in spec.podCIDRs) and an IPv4
 * address (the first InternalIP in status.addresses, else the first ExternalIP).
 */
#ifndef BPFLET_K8S_NODE_H
#define BPFLET_K8S_NODE_H

#include "agent/common/netaddr.h"
#include "controlplane/compile/errlist.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct bl_node_route {
	char node[254];
	struct bl_cidr4 pod_cidr;
	uint32_t gw; /* the node's address, network order */
};

/* Routes for every Node in objs except the one named self, sorted by pod CIDR. Nodes
 * without a pod CIDR or address are left out silently (not yet assigned); malformed
 * ones and pod CIDRs claimed twice are reported in errs and left out. *out is
 * malloc'd (free() it). Returns 0 or -ENOMEM. */
int bl_node_routes_compile(json_t *const *objs, size_t n, const char *self,
			   struct bl_node_route **out, size_t *n_out, struct bl_errlist *errs);

#endif
