#include "controlplane/compile/select.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cand {
	struct bl_svc_backend be;
	bool ready, serving, terminating;
	size_t seq; /* position in slice-name order, for kube-proxy's "first wins" */
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int c = bl_svc_backend_cmp(&x->be, &y->be);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* kube-proxy's eligibility: ready ones; if there are none, serving && terminating ones. */
static bool eligible(const struct cand *c, bool fallback, bool local_only)
{
	if (local_only && !c->be.local)
		return false;
	return fallback ? c->serving && c->terminating : c->ready;
}

/* Every endpoint of the slices' port matching name+protocol, in slice order. */
static int collect(const struct bl_k8s_endpointslice *const *slices, size_t n_slices,
		   const struct bl_k8s_svc_port *port, const char *node, struct cand **out,
		   size_t *n)
{
	size_t total = 0, k = 0;

	for (size_t i = 0; i < n_slices; i++)
		total += slices[i]->n_endpoints;
	*out = NULL;
	*n = 0;
	if (!total)
		return 0;
	*out = calloc(total, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < n_slices; i++) {
		const struct bl_k8s_endpointslice *s = slices[i];
		const struct bl_k8s_slice_port *sp = NULL;

		for (size_t j = 0; j < s->n_ports && !sp; j++)
			if (s->ports[j].has_port && s->ports[j].proto == port->proto &&
			    !strcmp(s->ports[j].name, port->name))
				sp = &s->ports[j];
		for (size_t j = 0; sp && j < s->n_endpoints; j++) {
			const struct bl_k8s_endpoint *ep = &s->endpoints[j];
			struct cand *c = &(*out)[k];

			c->be.addr = ep->addr;
			c->be.family = ep->family;
			c->be.port = htons(sp->port);
			c->be.proto = sp->proto;
			c->be.terminating = ep->terminating;
			c->be.local = node && *node && !strcmp(ep->node_name, node);
			c->be.zone = bl_zone_id(ep->zone);
			c->ready = ep->ready;
			c->serving = ep->serving;
			c->terminating = ep->terminating;
			c->seq = k++;
		}
	}
	*n = k;
	return 0;
}

/* The same address:port in several slices: the first (by slice name) wins, unless a
 * later one is local, which then replaces it (kube-proxy's endpointslicecache). */
static size_t dedup(struct cand *c, size_t n)
{
	size_t w = 0;

	qsort(c, n, sizeof(*c), cand_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i, pick = i;

		for (; j < n && !bl_svc_backend_cmp(&c[i].be, &c[j].be); j++)
			if (c[j].be.local)
				pick = j;
		c[w++] = c[pick];
		i = j;
	}
	return w;
}

int bl_select_backends(const struct bl_k8s_endpointslice *const *slices, size_t n_slices,
		       const struct bl_k8s_svc_port *port, const char *node_name, bool local_only,
		       struct bl_svc_backend **out, size_t *n)
{
	struct cand *c;
	size_t nc, k = 0;
	bool fallback = false;
	int e;

	*out = NULL;
	*n = 0;
	e = collect(slices, n_slices, port, node_name, &c, &nc);
	if (e || !nc) {
		free(c); /* allocated when the slices had endpoints but none on this port */
		return e;
	}
	nc = dedup(c, nc);
	for (size_t i = 0; i < nc; i++)
		k += eligible(&c[i], false, local_only);
	if (!k) {
		fallback = true;
		for (size_t i = 0; i < nc; i++)
			k += eligible(&c[i], true, local_only);
	}
	if (k) {
		*out = calloc(k, sizeof(**out));
		if (!*out) {
			free(c);
			return -ENOMEM;
		}
		/* still sorted by identity after dedup */
		for (size_t i = 0; i < nc; i++)
			if (eligible(&c[i], fallback, local_only))
				(*out)[(*n)++] = c[i].be;
	}
	free(c);
	return 0;
}
