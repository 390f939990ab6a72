/* Node objects → pod CIDR routes (see k8s_node.h). */
#include "controlplane/compile/k8s_node.h"

#include "controlplane/compile/k8s_object.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *first_address(const json_t *addrs, const char *type)
{
	size_t i;
	json_t *a;

	json_array_foreach(addrs, i, a)
	{
		const char *t = json_string_value(json_object_get(a, "type"));
		const char *ip = json_string_value(json_object_get(a, "address"));

		if (t && ip && !strcmp(t, type) && strchr(ip, '.'))
			return ip;
	}
	return NULL;
}

static const char *pod_cidr_of(const json_t *spec)
{
	const char *c = json_string_value(json_object_get(spec, "podCIDR"));
	size_t i;
	json_t *e;

	if (c && strchr(c, '.'))
		return c;
	json_array_foreach(json_object_get(spec, "podCIDRs"), i, e)
	{
		c = json_string_value(e);
		if (c && strchr(c, '.'))
			return c;
	}
	return NULL;
}

static int by_cidr(const void *a, const void *b)
{
	const struct bl_node_route *x = a, *y = b;

	if (x->pod_cidr.net != y->pod_cidr.net)
		return x->pod_cidr.net < y->pod_cidr.net ? -1 : 1;
	return (int)x->pod_cidr.plen - (int)y->pod_cidr.plen;
}

int bl_node_routes_compile(json_t *const *objs, size_t n, const char *self,
			   struct bl_node_route **out, size_t *n_out, struct bl_errlist *errs)
{
	struct bl_node_route *r = calloc(n + 1, sizeof(*r));
	size_t k = 0;

	*out = NULL;
	*n_out = 0;
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *kind = json_string_value(json_object_get(objs[i], "kind"));
		const char *name, *cidr, *ip;
		const json_t *status;
		struct bpflet_addr a;
		uint8_t fam;

		if (!kind || strcmp(kind, "Node"))
			continue;
		name = json_string_value(
			json_object_get(json_object_get(objs[i], "metadata"), "name"));
		if (!name || !*name || strlen(name) >= sizeof(r[k].node)) {
			bl_errlist_add(errs, "Node: metadata.name: required; skipped");
			continue;
		}
		if (self && !strcmp(name, self))
			continue;
		cidr = pod_cidr_of(json_object_get(objs[i], "spec"));
		status = json_object_get(objs[i], "status");
		ip = first_address(json_object_get(status, "addresses"), "InternalIP");
		if (!ip)
			ip = first_address(json_object_get(status, "addresses"), "ExternalIP");
		if (!cidr || !ip)
			continue;
		if (bl_cidr4_parse(cidr, &r[k].pod_cidr)) {
			bl_errlist_add(errs,
				       "Node %s: spec.podCIDR: '%s' is not an IPv4 CIDR; skipped",
				       name, cidr);
			continue;
		}
		if (bl_addr_parse(ip, &a, &fam)) {
			bl_errlist_add(errs,
				       "Node %s: status.addresses: '%s' is not an IPv4 address; "
				       "skipped",
				       name, ip);
			continue;
		}
		r[k].gw = a.addr[0];
		strcpy(r[k].node, name);
		k++;
	}
	qsort(r, k, sizeof(*r), by_cidr);
	/* nodes claiming one CIDR: none wins, the operator must fix it */
	for (size_t i = 0; i < k;) {
		size_t j = i + 1;

		while (j < k && !by_cidr(&r[i], &r[j]))
			j++;
		if (j == i + 1) {
			i++;
			continue;
		}
		bl_errlist_add(errs, "Nodes %s and %s (and %zu more) share a pod CIDR; skipped",
			       r[i].node, r[i + 1].node, j - i - 2);
		memmove(&r[i], &r[j], (k - j) * sizeof(*r));
		k -= j - i;
	}
	*out = r;
	*n_out = k;
	return 0;
}
