#include "controlplane/compile/compile.h"

#include "controlplane/compile/health_checks.h"
#include "controlplane/compile/select.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fe_vec {
	size_t n, cap;
	struct bl_svc_frontend *fe;
	const char **owner; /* "ns/name" of the service, parallel to fe, for conflicts */
};

struct ctx {
	const struct bl_compile_opts *o;
	struct bl_errlist *errs;
	struct fe_vec v;
	struct bl_hc_vec hc;
	struct {
		size_t n, cap;
		struct bpflet_srcrange_key *k;
	} src;
	bool any_endpoints; /* the current port has usable endpoints on some node */
};

static int svc_cmp(const void *a, const void *b)
{
	const struct bl_k8s_service *x = *(const struct bl_k8s_service *const *)a;
	const struct bl_k8s_service *y = *(const struct bl_k8s_service *const *)b;
	int c = strcmp(x->ns, y->ns);

	if (!c)
		c = strcmp(x->name, y->name);
	/* equal names: input order decides, so the first definition wins */
	return c ? c : (x < y ? -1 : x > y);
}

/* Slices grouped by (namespace, service), then by slice name: kube-proxy's merge order. */
static int slice_cmp(const void *a, const void *b)
{
	const struct bl_k8s_endpointslice *x = *(const struct bl_k8s_endpointslice *const *)a;
	const struct bl_k8s_endpointslice *y = *(const struct bl_k8s_endpointslice *const *)b;
	int c = strcmp(x->ns, y->ns);

	if (!c)
		c = strcmp(x->service_name, y->service_name);
	if (!c)
		c = strcmp(x->name, y->name);
	return c ? c : (x < y ? -1 : x > y);
}

static void slice_range(const struct bl_k8s_endpointslice **s, size_t n,
			const struct bl_k8s_service *svc, size_t *first, size_t *count)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s[mid]->ns, svc->ns);

		if (!c)
			c = strcmp(s[mid]->service_name, svc->name);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	for (hi = lo;
	     hi < n && !strcmp(s[hi]->ns, svc->ns) && !strcmp(s[hi]->service_name, svc->name); hi++)
		;
	*count = hi - lo;
}

static struct bl_svc_frontend *fe_push(struct ctx *c, const char *owner)
{
	struct fe_vec *v = &c->v;

	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		struct bl_svc_frontend *fe = realloc(v->fe, cap * sizeof(*fe));
		const char **ow;

		if (!fe)
			return NULL;
		v->fe = fe;
		ow = realloc(v->owner, cap * sizeof(*ow));
		if (!ow)
			return NULL;
		v->owner = ow;
		v->cap = cap;
	}
	v->owner[v->n] = owner;
	memset(&v->fe[v->n], 0, sizeof(v->fe[0]));
	return &v->fe[v->n++];
}

/* "ns/name:port" (or "ns/name"), cut to the map's size: it is for inspection only. */
static void fe_name(char *out, const struct bl_k8s_service *svc, const struct bl_k8s_svc_port *p)
{
	char full[sizeof(svc->ns) + sizeof(svc->name) + sizeof(p->name) + 2];
	size_t n;

	snprintf(full, sizeof(full), "%s/%s%s%s", svc->ns, svc->name, *p->name ? ":" : "", p->name);
	n = strnlen(full, BPFLET_SVC_NAME_LEN - 1);
	memcpy(out, full, n);
	out[n] = 0;
}

/* One frontend with its own copy of the backends. */
static int emit(struct ctx *c, const struct bl_k8s_service *svc, const char *owner,
		const struct bl_k8s_svc_port *p, const struct bl_k8s_ip *ip, uint16_t port,
		uint8_t scope, bool local_only, const struct bl_svc_backend *be, size_t n_be)
{
	struct bl_svc_frontend *fe;

	if (ip->family != BPFLET_AF_INET)
		return 0; /* IPv6 frontends wait for the dataplane */
	fe = fe_push(c, owner);
	if (!fe)
		return -ENOMEM;
	fe->key.addr = ip->addr;
	fe->key.port = htons(port);
	fe->key.proto = p->proto;
	fe->key.family = ip->family;
	fe->key.scope = scope;
	fe_name(fe->name, svc, p);
	if (svc->lb_algorithm == BL_LB_MAGLEV ||
	    (svc->lb_algorithm == BL_LB_DEFAULT && c->o->maglev))
		fe->flags |= BPFLET_FE_F_MAGLEV;
	if (svc->affinity_client_ip) {
		fe->flags |= BPFLET_FE_F_AFFINITY;
		fe->affinity_timeout = svc->affinity_timeout;
	}
	fe->local_only = local_only;
	if (local_only)
		fe->flags |= BPFLET_FE_F_POLICY_LOCAL;
	fe->no_local_endpoints = local_only && !n_be && c->any_endpoints;
	if (fe->no_local_endpoints)
		fe->flags |= BPFLET_FE_F_NO_LOCAL_DROP;
	if (n_be) {
		fe->backends = malloc(n_be * sizeof(*be));
		if (!fe->backends) {
			c->v.n--;
			return -ENOMEM;
		}
		memcpy(fe->backends, be, n_be * sizeof(*be));
		fe->n_backends = n_be;
	}
	return 0;
}

/* The frontend just emitted admits only the Service's loadBalancerSourceRanges. */
static int restrict_sources(struct ctx *c, const struct bl_k8s_service *svc)
{
	struct bl_svc_frontend *fe = &c->v.fe[c->v.n - 1];

	if (!svc->n_src_ranges)
		return 0;
	fe->flags |= BPFLET_FE_F_SRC_RANGES;
	if (c->src.n + svc->n_src_ranges > c->src.cap) {
		size_t cap = (c->src.cap + svc->n_src_ranges) * 2;
		struct bpflet_srcrange_key *k = realloc(c->src.k, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		c->src.k = k;
		c->src.cap = cap;
	}
	for (size_t i = 0; i < svc->n_src_ranges; i++) {
		struct bpflet_srcrange_key *k = &c->src.k[c->src.n++];

		memset(k, 0, sizeof(*k));
		k->prefixlen = 64 + svc->src_ranges[i].plen;
		k->fe_addr = fe->key.addr.addr[0];
		k->fe_port = fe->key.port;
		k->proto = fe->key.proto;
		k->src = svc->src_ranges[i].net;
	}
	return 0;
}

static int src_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct bpflet_srcrange_key));
}

static void src_finish(struct ctx *c, struct bl_svc_table *out)
{
	size_t n = 0;

	if (c->src.n)
		qsort(c->src.k, c->src.n, sizeof(*c->src.k), src_cmp);
	for (size_t i = 0; i < c->src.n; i++)
		if (!n || src_cmp(&c->src.k[n - 1], &c->src.k[i]))
			c->src.k[n++] = c->src.k[i];
	out->src = c->src.k;
	out->n_src = n;
	c->src.k = NULL;
}

static int emit_external(struct ctx *c, const struct bl_k8s_service *svc, const char *owner,
			 const struct bl_k8s_svc_port *p, const struct bl_svc_backend *be,
			 size_t n_be)
{
	bool local = svc->external_policy == BL_TP_LOCAL;
	int e = 0;

	for (size_t i = 0; !e && i < svc->n_external_ips; i++)
		e = emit(c, svc, owner, p, &svc->external_ips[i], p->port, BPFLET_SCOPE_EXTERNAL,
			 local, be, n_be);
	if (svc->type != BL_SVC_LOAD_BALANCER)
		goto nodeports;
	for (size_t i = 0; !e && i < svc->n_lb_ips; i++) {
		size_t before = c->v.n;

		e = emit(c, svc, owner, p, &svc->lb_ips[i], p->port, BPFLET_SCOPE_EXTERNAL, local,
			 be, n_be);
		if (!e && c->v.n > before)
			e = restrict_sources(c, svc);
	}
nodeports:
	if (svc->type == BL_SVC_CLUSTER_IP || !p->node_port)
		return e;
	if (c->o->nodeport_max &&
	    (p->node_port < c->o->nodeport_min || p->node_port > c->o->nodeport_max)) {
		bl_errlist_add(c->errs,
			       "Service %s: nodePort %u is outside the node port range %u-%u; "
			       "not served",
			       owner, p->node_port, c->o->nodeport_min, c->o->nodeport_max);
		return e;
	}
	for (size_t i = 0; !e && i < c->o->n_node_ips; i++) {
		struct bl_k8s_ip ip = {.addr = c->o->node_ips[i], .family = BPFLET_AF_INET};

		e = emit(c, svc, owner, p, &ip, p->node_port, BPFLET_SCOPE_EXTERNAL, local, be,
			 n_be);
	}
	return e;
}

static int compile_port(struct ctx *c, const struct bl_k8s_service *svc, const char *owner,
			const struct bl_k8s_svc_port *p,
			const struct bl_k8s_endpointslice *const *sl, size_t n_sl)
{
	const char *node = c->o->node_name;
	bool ilocal = svc->internal_policy == BL_TP_LOCAL;
	bool elocal = svc->external_policy == BL_TP_LOCAL;
	struct bl_svc_backend *be;
	size_t n;
	int e;

	/* policy Local with nothing here: drop if usable endpoints exist elsewhere */
	e = bl_select_backends(sl, n_sl, p, node, false, &be, &n);
	c->any_endpoints = n > 0;
	if (!e && ilocal) {
		free(be);
		e = bl_select_backends(sl, n_sl, p, node, true, &be, &n);
	}
	for (size_t i = 0; !e && i < svc->n_cluster_ips; i++)
		e = emit(c, svc, owner, p, &svc->cluster_ips[i], p->port, BPFLET_SCOPE_INTERNAL,
			 ilocal, be, n);
	if (!e && c->o->external && elocal != ilocal) {
		free(be);
		e = bl_select_backends(sl, n_sl, p, node, elocal, &be, &n);
	}
	if (!e && c->o->external)
		e = emit_external(c, svc, owner, p, be, n);
	free(be);
	return e;
}

static bool skipped(const struct bl_k8s_service *svc)
{
	/* kube-proxy: no ClusterIP (headless or unallocated), ExternalName, or another
	 * proxy's service */
	return svc->type == BL_SVC_EXTERNAL_NAME || svc->headless || !svc->n_cluster_ips ||
	       svc->proxy_name_label;
}

static int fe_cmp_idx(const void *a, const void *b, void *arg)
{
	const struct fe_vec *v = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = bl_svc_fe_key_cmp(&v->fe[x].key, &v->fe[y].key);

	if (!c)
		c = strcmp(v->owner[x], v->owner[y]);
	return c ? c : (x < y ? -1 : x > y);
}

/* Sort by key; when two services claim one frontend the first by name keeps it. */
static int finish(struct ctx *c, struct bl_svc_table *out)
{
	struct fe_vec *v = &c->v;
	size_t *idx = malloc((v->n ? v->n : 1) * sizeof(*idx));
	char key[80];

	out->fe = calloc(v->n ? v->n : 1, sizeof(*out->fe));
	if (!idx || !out->fe) {
		free(idx);
		free(out->fe);
		out->fe = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < v->n; i++)
		idx[i] = i;
	qsort_r(idx, v->n, sizeof(*idx), fe_cmp_idx, v);
	out->n = 0;
	for (size_t i = 0; i < v->n; i++) {
		struct bl_svc_frontend *fe = &v->fe[idx[i]];

		if (out->n && !bl_svc_fe_key_cmp(&out->fe[out->n - 1].key, &fe->key)) {
			bl_errlist_add(c->errs, "frontend %s: claimed by %s and %s; kept for %s",
				       bl_svc_fe_key_format(&fe->key, key, sizeof(key)),
				       out->fe[out->n - 1].name, fe->name,
				       out->fe[out->n - 1].name);
			free(fe->backends);
			continue;
		}
		out->fe[out->n++] = *fe;
	}
	free(idx);
	return 0;
}

static void warn_duplicate_slices(const struct bl_k8s_endpointslice **s, size_t n,
				  struct bl_errlist *errs)
{
	for (size_t i = 1; i < n; i++)
		if (!strcmp(s[i]->ns, s[i - 1]->ns) && !strcmp(s[i]->name, s[i - 1]->name) &&
		    !strcmp(s[i]->service_name, s[i - 1]->service_name))
			bl_errlist_add(errs,
				       "EndpointSlice %s/%s: defined more than once; both "
				       "used, endpoints de-duplicated",
				       s[i]->ns, s[i]->name);
}

static int compile_all(struct ctx *c, const struct bl_k8s_service **sv, size_t n_sv,
		       const struct bl_k8s_endpointslice **sl, size_t n_sl, char (*owners)[128])
{
	for (size_t i = 0; i < n_sv; i++) {
		const struct bl_k8s_service *svc = sv[i];
		size_t first, count;

		if (i && !strcmp(svc->ns, sv[i - 1]->ns) && !strcmp(svc->name, sv[i - 1]->name)) {
			bl_errlist_add(c->errs,
				       "Service %s/%s: defined more than once; the first is used",
				       svc->ns, svc->name);
			continue;
		}
		if (skipped(svc))
			continue;
		snprintf(owners[i], sizeof(owners[i]), "%s/%s", svc->ns, svc->name);
		slice_range(sl, n_sl, svc, &first, &count);
		if (bl_hc_add(&c->hc, svc, sl + first, count, c->o->node_name))
			return -ENOMEM;
		for (size_t j = 0; j < svc->n_ports; j++) {
			int e = compile_port(c, svc, owners[i], &svc->ports[j], sl + first, count);

			if (e)
				return e;
		}
	}
	return 0;
}

int bl_compile_services(const struct bl_k8s_service *svcs, size_t n_svcs,
			const struct bl_k8s_endpointslice *slices, size_t n_slices,
			const struct bl_compile_opts *opts, struct bl_svc_table *out,
			struct bl_errlist *errs)
{
	static const struct bl_compile_opts defaults;
	struct ctx c = {.o = opts ? opts : &defaults, .errs = errs};
	const struct bl_k8s_service **sv = calloc(n_svcs + 1, sizeof(*sv));
	const struct bl_k8s_endpointslice **sl = calloc(n_slices + 1, sizeof(*sl));
	char(*owners)[128] = calloc(n_svcs + 1, sizeof(*owners));
	size_t n_sl = 0;
	int e = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (!sv || !sl || !owners)
		goto out;
	for (size_t i = 0; i < n_svcs; i++)
		sv[i] = &svcs[i];
	qsort(sv, n_svcs, sizeof(*sv), svc_cmp);
	/* only IPv4 slices that name their service take part */
	for (size_t i = 0; i < n_slices; i++)
		if (*slices[i].service_name && slices[i].addr_type == BL_ADDR_IPV4)
			sl[n_sl++] = &slices[i];
	qsort(sl, n_sl, sizeof(*sl), slice_cmp);
	warn_duplicate_slices(sl, n_sl, errs);
	e = compile_all(&c, sv, n_svcs, sl, n_sl, owners);
	if (!e)
		e = finish(&c, out);
	if (!e) {
		bl_hc_finish(&c.hc, out, errs);
		src_finish(&c, out);
	} else
		for (size_t i = 0; i < c.v.n; i++)
			free(c.v.fe[i].backends);
out:
	free(c.v.fe);
	free(c.v.owner);
	free(c.hc.hc);
	free(c.src.k);
	free(sv);
	free(sl);
	free(owners);
	return e;
}
