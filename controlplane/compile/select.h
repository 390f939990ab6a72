/* Endpoint selection for one service port: join, de-duplicate, filter (internal). */
#ifndef BPFLET_SELECT_H
#define BPFLET_SELECT_H

#include "controlplane/compile/k8s_endpointslice.h"
#include "controlplane/compile/k8s_service.h"
#include "controlplane/compile/svc_records.h"

/* slices: the service's IPv4 slices, sorted by name. local_only: traffic policy Local.
 * On success *out is malloc'd (NULL when *n == 0). Returns 0 or -ENOMEM. */
int bl_select_backends(const struct bl_k8s_endpointslice *const *slices, size_t n_slices,
		       const struct bl_k8s_svc_port *port, const char *node_name, bool local_only,
		       struct bl_svc_backend **out, size_t *n);

#endif
