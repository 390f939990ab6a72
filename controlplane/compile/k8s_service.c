#include "controlplane/compile/k8s_service.h"

#include "controlplane/compile/k8s_json.h"
#include "controlplane/compile/k8s_object.h"

#include "agent/common/netaddr.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One string enum field: absent → def, else its index in `names`. */
static int parse_enum(const json_t *parent, const char *key, const char *ppath,
		      const char *const *names, int def, int *out, char *err, size_t errlen)
{
	char s[32], path[BL_PATH_LEN], allowed[96] = "";
	bool present;
	int e = bl_kj_string(parent, key, ppath, s, sizeof(s), &present, NULL, 0);

	*out = def;
	if (!e && !present)
		return 0;
	for (int i = 0; names[i]; i++) {
		if (!e && !strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
		snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed), "%s%s",
			 i ? ", " : "", names[i]);
	}
	return bl_kj_fail(err, errlen, bl_kj_key(path, ppath, key), "must be one of %s", allowed);
}

static int parse_ip_list(const json_t *arr, const char *path, struct bl_k8s_ip **out, size_t *n,
			 char *err, size_t errlen)
{
	char p[BL_PATH_LEN];
	const json_t *v;
	size_t i;

	*out = NULL;
	*n = 0;
	if (!arr || !json_array_size(arr))
		return 0;
	*out = calloc(json_array_size(arr), sizeof(**out));
	if (!*out)
		return -ENOMEM;
	json_array_foreach(arr, i, v)
	{
		bl_kj_idx(p, path, i);
		if (!json_is_string(v))
			return bl_kj_fail(err, errlen, p, "must be a string");
		if (bl_kj_ip_text(json_string_value(v), p, &(*out)[i].addr, &(*out)[i].family, err,
				  errlen))
			return -EINVAL;
	}
	*n = i;
	return 0;
}

static int parse_cluster_ips(const json_t *spec, struct bl_k8s_service *svc, char *err,
			     size_t errlen)
{
	char ip[64] = "", p[BL_PATH_LEN];
	const json_t *ips, *v;
	bool present;
	size_t i;
	int e;

	e = bl_kj_string(spec, "clusterIP", "spec", ip, sizeof(ip), &present, err, errlen);
	if (!e)
		e = bl_kj_array(spec, "clusterIPs", "spec", &ips, err, errlen);
	if (e)
		return e;
	if (json_array_size(ips) > 2)
		return bl_kj_fail(err, errlen, "spec.clusterIPs",
				  "at most 2 addresses (dual stack)");
	json_array_foreach(ips, i, v)
	{
		const char *s = json_string_value(v);

		bl_kj_idx(p, "spec.clusterIPs", i);
		if (!s)
			return bl_kj_fail(err, errlen, p, "must be a string");
		if (i == 0 && *ip && strcmp(ip, s))
			return bl_kj_fail(err, errlen, p, "must match spec.clusterIP (%s)", ip);
		if (i == 0 && !*ip)
			snprintf(ip, sizeof(ip), "%.63s", s);
		if (i == 1 && (!strcmp(s, "None") || !strcmp(ip, "None")))
			return bl_kj_fail(err, errlen, p, "a headless service has one clusterIP");
	}
	if (!strcmp(ip, "None")) {
		svc->headless = true;
		return 0;
	}
	if (!*ip)
		return 0; /* not allocated: nothing to serve */
	if (bl_kj_ip_text(ip, "spec.clusterIP", &svc->cluster_ips[0].addr,
			  &svc->cluster_ips[0].family, err, errlen))
		return -EINVAL;
	svc->n_cluster_ips = 1;
	if (json_array_size(ips) == 2) {
		struct bl_k8s_ip *b = &svc->cluster_ips[1];

		if (bl_kj_ip_text(json_string_value(json_array_get(ips, 1)), "spec.clusterIPs[1]",
				  &b->addr, &b->family, err, errlen))
			return -EINVAL;
		if (b->family == svc->cluster_ips[0].family)
			return bl_kj_fail(err, errlen, "spec.clusterIPs[1]",
					  "must be of the other IP family than clusterIPs[0]");
		svc->n_cluster_ips = 2;
	}
	return 0;
}

static int parse_target_port(const json_t *jp, const char *path, struct bl_k8s_svc_port *p,
			     char *err, size_t errlen)
{
	const json_t *t = json_object_get(jp, "targetPort");
	char tp[BL_PATH_LEN];

	bl_kj_key(tp, path, "targetPort");
	if (!t || json_is_null(t) || (json_is_integer(t) && json_integer_value(t) == 0) ||
	    (json_is_string(t) && !*json_string_value(t))) {
		p->target_port = p->port; /* the API server defaults targetPort to port */
		return 0;
	}
	if (json_is_integer(t)) {
		if (json_integer_value(t) < 1 || json_integer_value(t) > 65535)
			return bl_kj_fail(err, errlen, tp, "must be an integer 1-65535");
		p->target_port = (uint16_t)json_integer_value(t);
		return 0;
	}
	if (json_is_string(t)) {
		if (!bl_k8s_port_name(json_string_value(t)))
			return bl_kj_fail(err, errlen, tp,
					  "\"%.32s\" is not a valid port name (1-15 of a-z, 0-9, "
					  "'-', with a letter)",
					  json_string_value(t));
		snprintf(p->target_port_name, sizeof(p->target_port_name), "%s",
			 json_string_value(t));
		return 0;
	}
	return bl_kj_fail(err, errlen, tp, "must be a port number or a port name");
}

static int parse_port(const json_t *jp, const char *path, struct bl_k8s_svc_port *p, char *err,
		      size_t errlen)
{
	char fp[BL_PATH_LEN];
	long long v;
	bool present;
	int e;

	if (!json_is_object(jp))
		return bl_kj_fail(err, errlen, path, "must be an object");
	e = bl_kj_string(jp, "name", path, p->name, sizeof(p->name), NULL, err, errlen);
	if (e)
		return e;
	if (*p->name && !bl_k8s_dns_label(p->name))
		return bl_kj_fail(err, errlen, bl_kj_key(fp, path, "name"),
				  "\"%s\" must be a DNS label (lower case alphanumerics and '-')",
				  p->name);
	e = bl_kj_protocol(jp, "protocol", path, &p->proto, err, errlen);
	if (e)
		return e;
	e = bl_kj_int(jp, "port", path, 1, 65535, &v, &present, err, errlen);
	if (e)
		return e;
	if (!present)
		return bl_kj_fail(err, errlen, bl_kj_key(fp, path, "port"), "required");
	p->port = (uint16_t)v;
	v = 0;
	e = bl_kj_int(jp, "nodePort", path, 0, 65535, &v, NULL, err, errlen);
	if (e)
		return e;
	p->node_port = (uint16_t)v;
	return parse_target_port(jp, path, p, err, errlen);
}

static int parse_ports(const json_t *spec, struct bl_k8s_service *svc, char *err, size_t errlen)
{
	char path[BL_PATH_LEN], np[BL_PATH_LEN];
	const json_t *ports, *jp;
	size_t i;
	int e;

	e = bl_kj_array(spec, "ports", "spec", &ports, err, errlen);
	if (e || !json_array_size(ports))
		return e;
	svc->ports = calloc(json_array_size(ports), sizeof(*svc->ports));
	if (!svc->ports)
		return -ENOMEM;
	json_array_foreach(ports, i, jp)
	{
		struct bl_k8s_svc_port *p = &svc->ports[i];

		bl_kj_idx(path, "spec.ports", i);
		e = parse_port(jp, path, p, err, errlen);
		if (e)
			return e;
		/* names tie service ports to EndpointSlice ports: they must be unambiguous */
		if (json_array_size(ports) > 1 && !*p->name)
			return bl_kj_fail(err, errlen, bl_kj_key(np, path, "name"),
					  "required when the service has more than one port");
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(svc->ports[j].name, p->name))
				return bl_kj_fail(err, errlen, bl_kj_key(np, path, "name"),
						  "duplicate port name \"%s\"", p->name);
			if (svc->ports[j].port == p->port && svc->ports[j].proto == p->proto)
				return bl_kj_fail(err, errlen, path, "duplicate port %u/%s",
						  p->port, bl_proto_name(p->proto));
		}
	}
	svc->n_ports = i;
	return 0;
}

static int parse_affinity(const json_t *spec, struct bl_k8s_service *svc, char *err, size_t errlen)
{
	static const char *const names[] = {"None", "ClientIP", NULL};
	const json_t *cfg, *cip;
	long long t = BL_AFFINITY_DEFAULT_TIMEOUT;
	int v, e;

	e = parse_enum(spec, "sessionAffinity", "spec", names, 0, &v, err, errlen);
	if (!e)
		e = bl_kj_object(spec, "sessionAffinityConfig", "spec", &cfg, err, errlen);
	if (!e)
		e = bl_kj_object(cfg, "clientIP", "spec.sessionAffinityConfig", &cip, err, errlen);
	if (!e)
		e = bl_kj_int(cip, "timeoutSeconds", "spec.sessionAffinityConfig.clientIP", 1,
			      BL_AFFINITY_MAX_TIMEOUT, &t, NULL, err, errlen);
	if (e)
		return e;
	svc->affinity_client_ip = v == 1;
	svc->affinity_timeout = svc->affinity_client_ip ? (uint32_t)t : 0;
	return 0;
}

static int parse_lb_status(const json_t *obj, struct bl_k8s_service *svc, char *err, size_t errlen)
{
	static const char *const modes[] = {"VIP", "Proxy", NULL};
	const char *ipath = "status.loadBalancer.ingress";
	const json_t *st, *lb, *ing, *v;
	char path[BL_PATH_LEN], ippath[BL_PATH_LEN], ip[64];
	bool present;
	size_t i;
	int mode, e;

	e = bl_kj_object(obj, "status", "", &st, err, errlen);
	if (!e)
		e = bl_kj_object(st, "loadBalancer", "status", &lb, err, errlen);
	if (!e)
		e = bl_kj_array(lb, "ingress", "status.loadBalancer", &ing, err, errlen);
	if (e || !json_array_size(ing))
		return e;
	svc->lb_ips = calloc(json_array_size(ing), sizeof(*svc->lb_ips));
	if (!svc->lb_ips)
		return -ENOMEM;
	json_array_foreach(ing, i, v)
	{
		bl_kj_idx(path, ipath, i);
		if (!json_is_object(v))
			return bl_kj_fail(err, errlen, path, "must be an object");
		e = bl_kj_string(v, "ip", path, ip, sizeof(ip), &present, err, errlen);
		if (!e)
			e = parse_enum(v, "ipMode", path, modes, 0, &mode, err, errlen);
		if (e)
			return e;
		/* hostname-only ingress and ipMode Proxy are not ours to bind (kube-proxy too) */
		if (!present || mode == 1)
			continue;
		if (bl_kj_ip_text(ip, bl_kj_key(ippath, path, "ip"),
				  &svc->lb_ips[svc->n_lb_ips].addr,
				  &svc->lb_ips[svc->n_lb_ips].family, err, errlen))
			return -EINVAL;
		svc->n_lb_ips++;
	}
	return 0;
}

/* kube-proxy accepts "10.0.0.0/8" and " 10.0.0.0/8 " (it trims); IPv6 ones are
 * skipped until the dataplane has IPv6. */
static int parse_src_ranges(const json_t *spec, struct bl_k8s_service *svc, char *err,
			    size_t errlen)
{
	const char *path = "spec.loadBalancerSourceRanges";
	const json_t *arr, *v;
	char p[BL_PATH_LEN];
	size_t i;
	int e = bl_kj_array(spec, "loadBalancerSourceRanges", "spec", &arr, err, errlen);

	if (e || !json_array_size(arr))
		return e;
	svc->src_ranges = calloc(json_array_size(arr), sizeof(*svc->src_ranges));
	if (!svc->src_ranges)
		return -ENOMEM;
	json_array_foreach(arr, i, v)
	{
		char text[64], *t = text, *end;
		struct bl_cidr4 c;

		bl_kj_idx(p, path, i);
		if (!json_is_string(v) || json_string_length(v) >= sizeof(text))
			return bl_kj_fail(err, errlen, p, "must be a CIDR string");
		snprintf(text, sizeof(text), "%s", json_string_value(v));
		while (*t == ' ')
			t++;
		end = t + strlen(t);
		while (end > t && end[-1] == ' ')
			*--end = '\0';
		if (strchr(t, ':'))
			continue;
		if (bl_cidr4_parse(t, &c))
			return bl_kj_fail(err, errlen, p, "'%s' is not an IPv4 CIDR", t);
		svc->src_ranges[svc->n_src_ranges].net = htonl(c.net);
		svc->src_ranges[svc->n_src_ranges++].plen = c.plen;
	}
	return 0;
}

static int parse_spec(const json_t *obj, struct bl_k8s_service *svc, char *err, size_t errlen)
{
	static const char *const types[] = {"ClusterIP", "NodePort", "LoadBalancer", "ExternalName",
					    NULL};
	static const char *const policies[] = {"Cluster", "Local", NULL};
	const json_t *spec, *eips;
	long long hc = 0;
	bool present;
	int v, e;

	e = bl_kj_object(obj, "spec", "", &spec, err, errlen);
	if (!e)
		e = parse_enum(spec, "type", "spec", types, BL_SVC_CLUSTER_IP, &v, err, errlen);
	if (e)
		return e;
	svc->type = v;
	e = parse_cluster_ips(spec, svc, err, errlen);
	if (!e)
		e = parse_ports(spec, svc, err, errlen);
	if (!e)
		e = parse_affinity(spec, svc, err, errlen);
	if (!e)
		e = parse_enum(spec, "externalTrafficPolicy", "spec", policies, 0, &v, err, errlen);
	if (e)
		return e;
	svc->external_policy = v;
	e = parse_enum(spec, "internalTrafficPolicy", "spec", policies, 0, &v, err, errlen);
	if (e)
		return e;
	svc->internal_policy = v;
	e = bl_kj_int(spec, "healthCheckNodePort", "spec", 0, 65535, &hc, &present, err, errlen);
	if (e)
		return e;
	svc->health_check_node_port = (uint16_t)hc;
	e = parse_src_ranges(spec, svc, err, errlen);
	if (e)
		return e;
	e = bl_kj_array(spec, "externalIPs", "spec", &eips, err, errlen);
	if (!e)
		e = parse_ip_list(eips, "spec.externalIPs", &svc->external_ips,
				  &svc->n_external_ips, err, errlen);
	return e;
}

static int parse_lb_annotation(const json_t *obj, struct bl_k8s_service *svc, char *err,
			       size_t errlen)
{
	const json_t *ann = json_object_get(json_object_get(obj, "metadata"), "annotations");
	const json_t *v = json_object_get(ann, BL_ANNOTATION_LB_ALGORITHM);
	const char *s = json_string_value(v);

	if (!v)
		return 0;
	if (s && !strcmp(s, "random"))
		svc->lb_algorithm = BL_LB_RANDOM;
	else if (s && !strcmp(s, "maglev"))
		svc->lb_algorithm = BL_LB_MAGLEV;
	else
		return bl_kj_fail(err, errlen, "metadata.annotations." BL_ANNOTATION_LB_ALGORITHM,
				  "must be \"random\" or \"maglev\"");
	return 0;
}

int bl_k8s_service_parse(const json_t *obj, struct bl_k8s_service *svc, char *err, size_t errlen)
{
	struct bl_k8s_meta m;
	const json_t *labels;
	int e;

	memset(svc, 0, sizeof(*svc));
	e = bl_k8s_meta_parse(obj, true, &m, &labels, err, errlen);
	if (e)
		return e;
	/* Service names are DNS-1035 labels: they become DNS names under the namespace */
	if (!isalpha((unsigned char)m.name[0]))
		return bl_kj_fail(err, errlen, "metadata.name", "\"%s\" must start with a letter",
				  m.name);
	memcpy(svc->ns, m.ns, sizeof(svc->ns));
	memcpy(svc->name, m.name, sizeof(svc->name));
	svc->proxy_name_label = bl_k8s_label(labels, BL_LABEL_PROXY_NAME) != NULL;
	e = parse_lb_annotation(obj, svc, err, errlen);
	if (!e)
		e = parse_spec(obj, svc, err, errlen);
	if (!e)
		e = parse_lb_status(obj, svc, err, errlen);
	if (e) {
		if (e == -ENOMEM)
			snprintf(err, errlen, "out of memory");
		bl_k8s_service_free(svc);
	}
	return e;
}

void bl_k8s_service_free(struct bl_k8s_service *svc)
{
	if (!svc)
		return;
	free(svc->ports);
	free(svc->external_ips);
	free(svc->lb_ips);
	free(svc->src_ranges);
	svc->src_ranges = NULL;
	svc->n_src_ranges = 0;
	svc->ports = NULL;
	svc->external_ips = svc->lb_ips = NULL;
	svc->n_ports = svc->n_external_ips = svc->n_lb_ips = 0;
}
