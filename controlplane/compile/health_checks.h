/* The compiler's health-check part: which healthCheckNodePorts this node serves and
 * how many of the Service's endpoints are local and ready (kube-proxy's rule). */
#ifndef BPFLET_HEALTH_CHECKS_H
#define BPFLET_HEALTH_CHECKS_H

#include "controlplane/compile/errlist.h"
#include "controlplane/compile/k8s_endpointslice.h"
#include "controlplane/compile/k8s_service.h"
#include "controlplane/compile/svc_records.h"

struct bl_hc_vec {
	size_t n, cap;
	struct bl_svc_health_check *hc;
};

/* Records svc's health check when it has one (type LoadBalancer, traffic policy
 * Local, healthCheckNodePort set); sl holds the slices of svc only. 0 or -ENOMEM. */
int bl_hc_add(struct bl_hc_vec *v, const struct bl_k8s_service *svc,
	      const struct bl_k8s_endpointslice *const *sl, size_t n_sl, const char *node);

/* Moves v into out, sorted by port; a port claimed twice is reported and kept for
 * the first Service in (namespace, name) order. */
void bl_hc_finish(struct bl_hc_vec *v, struct bl_svc_table *out, struct bl_errlist *errs);

#endif
