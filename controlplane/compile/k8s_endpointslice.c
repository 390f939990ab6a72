#include "controlplane/compile/k8s_endpointslice.h"

#include "controlplane/compile/k8s_json.h"
#include "controlplane/compile/k8s_object.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_addr_type(const json_t *obj, struct bl_k8s_endpointslice *s, char *err,
			   size_t errlen)
{
	char t[8];
	bool present;
	int e = bl_kj_string(obj, "addressType", "", t, sizeof(t), &present, NULL, 0);

	if (!e && !present)
		return bl_kj_fail(err, errlen, "addressType", "required");
	if (!e && !strcmp(t, "IPv4"))
		s->addr_type = BL_ADDR_IPV4;
	else if (!e && !strcmp(t, "IPv6"))
		s->addr_type = BL_ADDR_IPV6;
	else if (!e && !strcmp(t, "FQDN"))
		s->addr_type = BL_ADDR_FQDN;
	else
		return bl_kj_fail(err, errlen, "addressType", "must be one of IPv4, IPv6, FQDN");
	return 0;
}

static int parse_ports(const json_t *obj, struct bl_k8s_endpointslice *s, char *err, size_t errlen)
{
	char path[BL_PATH_LEN], np[BL_PATH_LEN];
	const json_t *ports, *jp;
	long long v;
	size_t i;
	int e;

	e = bl_kj_array(obj, "ports", "", &ports, err, errlen);
	if (e || !json_array_size(ports))
		return e;
	s->ports = calloc(json_array_size(ports), sizeof(*s->ports));
	if (!s->ports)
		return -ENOMEM;
	json_array_foreach(ports, i, jp)
	{
		struct bl_k8s_slice_port *p = &s->ports[i];

		bl_kj_idx(path, "ports", i);
		if (!json_is_object(jp))
			return bl_kj_fail(err, errlen, path, "must be an object");
		e = bl_kj_string(jp, "name", path, p->name, sizeof(p->name), NULL, err, errlen);
		if (!e && *p->name && !bl_k8s_dns_label(p->name))
			e = bl_kj_fail(err, errlen, bl_kj_key(np, path, "name"),
				       "\"%s\" must be a DNS label", p->name);
		if (!e)
			e = bl_kj_protocol(jp, "protocol", path, &p->proto, err, errlen);
		if (!e)
			e = bl_kj_int(jp, "port", path, 1, 65535, &v, &p->has_port, err, errlen);
		if (e)
			return e;
		p->port = p->has_port ? (uint16_t)v : 0;
		/* the port name is the join key with the Service: it must be unique */
		for (size_t j = 0; j < i; j++)
			if (!strcmp(s->ports[j].name, p->name))
				return bl_kj_fail(err, errlen, bl_kj_key(np, path, "name"),
						  "duplicate port name \"%s\"", p->name);
	}
	s->n_ports = i;
	return 0;
}

static int parse_conditions(const json_t *ep, const char *path, struct bl_k8s_endpoint *out,
			    char *err, size_t errlen)
{
	char cp[BL_PATH_LEN];
	const json_t *c;
	int e;

	/* Upstream nil semantics (kube-proxy's endpointslicecache): ready and serving
	 * nil mean true, terminating nil means false. */
	out->ready = out->serving = true;
	out->terminating = false;
	bl_kj_key(cp, path, "conditions");
	e = bl_kj_object(ep, "conditions", path, &c, err, errlen);
	if (!e)
		e = bl_kj_bool(c, "ready", cp, &out->ready, NULL, err, errlen);
	if (!e)
		e = bl_kj_bool(c, "serving", cp, &out->serving, NULL, err, errlen);
	if (!e)
		e = bl_kj_bool(c, "terminating", cp, &out->terminating, NULL, err, errlen);
	return e;
}

static int parse_endpoint(const json_t *ep, const char *path, struct bl_k8s_endpoint *out,
			  char *err, size_t errlen)
{
	char ap[BL_PATH_LEN], ip[BL_PATH_LEN];
	const json_t *addrs, *a;
	size_t i;
	int e;

	if (!json_is_object(ep))
		return bl_kj_fail(err, errlen, path, "must be an object");
	bl_kj_key(ap, path, "addresses");
	e = bl_kj_array(ep, "addresses", path, &addrs, err, errlen);
	if (e)
		return e;
	if (!json_array_size(addrs))
		return bl_kj_fail(err, errlen, ap, "required (at least one address)");
	json_array_foreach(addrs, i, a)
	{
		struct bl_k8s_endpoint tmp;

		bl_kj_idx(ip, ap, i);
		if (!json_is_string(a))
			return bl_kj_fail(err, errlen, ip, "must be a string");
		if (bl_kj_ip_text(json_string_value(a), ip, &tmp.addr, &tmp.family, err, errlen))
			return -EINVAL;
		if (tmp.family != BPFLET_AF_INET)
			return bl_kj_fail(err, errlen, ip,
					  "must be an IPv4 address (addressType "
					  "IPv4)");
		if (i == 0) {
			out->addr = tmp.addr;
			out->family = tmp.family;
		}
	}
	e = parse_conditions(ep, path, out, err, errlen);
	if (!e)
		e = bl_kj_string(ep, "nodeName", path, out->node_name, sizeof(out->node_name), NULL,
				 err, errlen);
	if (!e)
		e = bl_kj_string(ep, "zone", path, out->zone, sizeof(out->zone), NULL, err, errlen);
	return e;
}

static int parse_endpoints(const json_t *obj, struct bl_k8s_endpointslice *s, char *err,
			   size_t errlen)
{
	char path[BL_PATH_LEN];
	const json_t *eps, *ep;
	size_t i;
	int e;

	e = bl_kj_array(obj, "endpoints", "", &eps, err, errlen);
	if (e || !json_array_size(eps))
		return e;
	s->endpoints = calloc(json_array_size(eps), sizeof(*s->endpoints));
	if (!s->endpoints)
		return -ENOMEM;
	json_array_foreach(eps, i, ep)
	{
		e = parse_endpoint(ep, bl_kj_idx(path, "endpoints", i), &s->endpoints[i], err,
				   errlen);
		if (e)
			return e;
	}
	s->n_endpoints = i;
	return 0;
}

int bl_k8s_endpointslice_parse(const json_t *obj, struct bl_k8s_endpointslice *s, char *err,
			       size_t errlen)
{
	struct bl_k8s_meta m;
	const json_t *labels;
	const char *svc;
	int e;

	memset(s, 0, sizeof(*s));
	e = bl_k8s_meta_parse(obj, false, &m, &labels, err, errlen);
	if (e)
		return e;
	memcpy(s->ns, m.ns, sizeof(s->ns));
	memcpy(s->name, m.name, sizeof(s->name));
	svc = bl_k8s_label(labels, BL_LABEL_SERVICE_NAME);
	if (svc && strlen(svc) >= sizeof(s->service_name))
		return bl_kj_fail(err, errlen, "metadata.labels",
				  "\"" BL_LABEL_SERVICE_NAME "\" must be a service name (at most "
				  "63 characters)");
	snprintf(s->service_name, sizeof(s->service_name), "%s", svc ? svc : "");
	e = parse_addr_type(obj, s, err, errlen);
	if (!e)
		e = parse_ports(obj, s, err, errlen);
	/* IPv6 and FQDN slices are valid objects we do not serve: skip their endpoints */
	if (!e && s->addr_type == BL_ADDR_IPV4)
		e = parse_endpoints(obj, s, err, errlen);
	if (e) {
		if (e == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		bl_k8s_endpointslice_free(s);
	}
	return e;
}

void bl_k8s_endpointslice_free(struct bl_k8s_endpointslice *s)
{
	if (!s)
		return;
	free(s->ports);
	free(s->endpoints);
	s->ports = NULL;
	s->endpoints = NULL;
	s->n_ports = s->n_endpoints = 0;
}
