/* Routes to the other nodes' pod CIDRs, kept equal to the Node objects (libnl). */
#ifndef BPFLET_NODE_ROUTES_H
#define BPFLET_NODE_ROUTES_H

#include "controlplane/compile/k8s_node.h"

/* Routes we own carry this rtnetlink protocol number ("ip route show proto 149"),
 * so a sync removes exactly the stale ones and never touches anyone else's. */
#define BL_RTPROT_NODES 149

/* Makes the main table's BL_RTPROT_NODES routes equal to r: replaces wanted ones,
 * deletes the rest. A route that cannot be installed (gateway unreachable) is logged
 * and the others still applied. Returns 0, or -errno of the first failure. */
int bl_node_routes_apply(const struct bl_node_route *r, size_t n);

#endif
