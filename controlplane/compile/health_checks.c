#include "controlplane/compile/health_checks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool seen(const struct bpflet_addr *addrs, size_t n, const struct bpflet_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(&addrs[i], a, sizeof(*a)))
			return true;
	return false;
}

/* Distinct addresses of ready endpoints on `node` (an endpoint may appear in the
 * slices of several ports). Terminating ones never count: kube-proxy answers 503
 * while only those remain, so load balancers drain the node. */
static int count_local_ready(const struct bl_k8s_endpointslice *const *sl, size_t n_sl,
			     const char *node, uint32_t *out)
{
	struct bpflet_addr *addrs = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < n_sl; i++) {
		for (size_t j = 0; j < sl[i]->n_endpoints; j++) {
			const struct bl_k8s_endpoint *ep = &sl[i]->endpoints[j];

			if (!ep->ready || ep->terminating || strcmp(ep->node_name, node) ||
			    seen(addrs, n, &ep->addr))
				continue;
			if (n == cap) {
				size_t ncap = cap ? 2 * cap : 8;
				struct bpflet_addr *na = realloc(addrs, ncap * sizeof(*na));

				if (!na) {
					free(addrs);
					return -ENOMEM;
				}
				addrs = na;
				cap = ncap;
			}
			addrs[n++] = ep->addr;
		}
	}
	free(addrs);
	*out = (uint32_t)n;
	return 0;
}

int bl_hc_add(struct bl_hc_vec *v, const struct bl_k8s_service *svc,
	      const struct bl_k8s_endpointslice *const *sl, size_t n_sl, const char *node)
{
	struct bl_svc_health_check *h;

	if (svc->type != BL_SVC_LOAD_BALANCER || svc->external_policy != BL_TP_LOCAL ||
	    !svc->health_check_node_port)
		return 0;
	if (v->n == v->cap) {
		size_t ncap = v->cap ? 2 * v->cap : 8;
		struct bl_svc_health_check *nh = realloc(v->hc, ncap * sizeof(*nh));

		if (!nh)
			return -ENOMEM;
		v->hc = nh;
		v->cap = ncap;
	}
	h = &v->hc[v->n];
	memset(h, 0, sizeof(*h));
	h->port = svc->health_check_node_port;
	memcpy(h->ns, svc->ns, sizeof(h->ns));
	memcpy(h->name, svc->name, sizeof(h->name));
	if (node && *node && count_local_ready(sl, n_sl, node, &h->local_endpoints))
		return -ENOMEM;
	v->n++;
	return 0;
}

static int hc_cmp(const void *a, const void *b)
{
	const struct bl_svc_health_check *x = a, *y = b;
	int c;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	c = strcmp(x->ns, y->ns);
	return c ? c : strcmp(x->name, y->name);
}

void bl_hc_finish(struct bl_hc_vec *v, struct bl_svc_table *out, struct bl_errlist *errs)
{
	size_t n = 0;

	if (v->n)
		qsort(v->hc, v->n, sizeof(*v->hc), hc_cmp);
	for (size_t i = 0; i < v->n; i++) {
		if (n && v->hc[n - 1].port == v->hc[i].port) {
			bl_errlist_add(errs,
				       "healthCheckNodePort %u: claimed by %s/%s and %s/%s; kept "
				       "for %s/%s",
				       v->hc[i].port, v->hc[n - 1].ns, v->hc[n - 1].name,
				       v->hc[i].ns, v->hc[i].name, v->hc[n - 1].ns,
				       v->hc[n - 1].name);
			continue;
		}
		v->hc[n++] = v->hc[i];
	}
	out->hc = v->hc;
	out->n_hc = n;
	v->hc = NULL;
	v->n = v->cap = 0;
}
