/* Services: defaults, ClusterIP allocation from the service CIDR and NodePort allocation,
 * with kube-apiserver's error messages. The allocators hold what stored Services use. */
#include "controlplane/apiserver/kinds.h"
#include "controlplane/apiserver/objmeta.h"
#include "controlplane/apiserver/respond.h"
#include "controlplane/apiserver/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAX_PORTS 128

/* What one Service holds in the allocators. */
struct svc_hold {
	bool has_ip;
	uint32_t ip; /* host order */
	size_t nports;
	uint32_t ports[MAX_PORTS];
};

static const char *svc_type(json_t *spec)
{
	const char *t = json_string_value(json_object_get(spec, "type"));

	return t ? t : "ClusterIP";
}

static bool wants_node_ports(json_t *spec)
{
	const char *t = svc_type(spec);

	return !strcmp(t, "NodePort") || !strcmp(t, "LoadBalancer");
}

static bool parse_ip(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return false;
	*ip = ntohl(a.s_addr);
	return true;
}

static void format_ip(uint32_t ip, char buf[16])
{
	struct in_addr a = {htonl(ip)};

	inet_ntop(AF_INET, &a, buf, 16);
}

static void holdings(json_t *svc, struct svc_hold *h)
{
	json_t *spec = json_object_get(svc, "spec"), *p;
	size_t i;

	memset(h, 0, sizeof(*h));
	if (!svc)
		return;
	h->has_ip = parse_ip(json_string_value(json_object_get(spec, "clusterIP")), &h->ip);
	json_array_foreach(json_object_get(spec, "ports"), i, p)
	{
		json_int_t np = json_integer_value(json_object_get(p, "nodePort"));

		if (np > 0 && h->nports < MAX_PORTS)
			h->ports[h->nports++] = (uint32_t)np;
	}
}

static bool holds_port(const struct svc_hold *h, uint32_t port)
{
	for (size_t i = 0; i < h->nports; i++)
		if (h->ports[i] == port)
			return true;
	return false;
}

void bl_svc_release_diff(struct bl_apiserver *srv, json_t *keep, json_t *drop)
{
	struct svc_hold k, d;

	holdings(keep, &k);
	holdings(drop, &d);
	if (d.has_ip && !(k.has_ip && k.ip == d.ip))
		bl_alloc_release(&srv->cluster_ips, d.ip);
	for (size_t i = 0; i < d.nports; i++)
		if (!holds_port(&k, d.ports[i]))
			bl_alloc_release(&srv->node_ports, d.ports[i]);
}

void bl_svc_restore(struct bl_apiserver *srv, json_t *svc)
{
	struct svc_hold h;

	holdings(svc, &h);
	if (h.has_ip)
		bl_alloc_take(&srv->cluster_ips, h.ip);
	for (size_t i = 0; i < h.nports; i++)
		bl_alloc_take(&srv->node_ports, h.ports[i]);
}

static void set_default(json_t *obj, const char *key, json_t *v)
{
	if (!json_object_get(obj, key))
		json_object_set(obj, key, v);
	json_decref(v);
}

/* Field defaults and checks that need no allocator. */
static int spec_defaults(struct hx *x, const struct bl_resource *r, const char *name, json_t *svc)
{
	json_t *spec = json_object_get(svc, "spec"), *p;
	const char *type;
	char field[64], msg[256];
	size_t i;

	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(svc, "spec", spec);
	}
	set_default(spec, "type", json_string("ClusterIP"));
	type = svc_type(spec);
	if (strcmp(type, "ClusterIP") && strcmp(type, "NodePort") && strcmp(type, "LoadBalancer") &&
	    strcmp(type, "ExternalName")) {
		snprintf(msg, sizeof(msg),
			 "Unsupported value: \"%.64s\": supported values: \"ClusterIP\", "
			 "\"ExternalName\", \"LoadBalancer\", \"NodePort\"",
			 type);
		bl_reply_invalid(x, r, name, "spec.type", "FieldValueNotSupported", msg);
		return -1;
	}
	if (!strcmp(type, "ExternalName"))
		return 0;
	set_default(spec, "sessionAffinity", json_string("None"));
	if (!strcmp(json_string_value(json_object_get(spec, "sessionAffinity")) ?: "",
		    "ClientIP") &&
	    !json_object_get(
		    json_object_get(json_object_get(spec, "sessionAffinityConfig"), "clientIP"),
		    "timeoutSeconds")) {
		/* kube's default: three hours */
		json_t *cfg = json_object_get(spec, "sessionAffinityConfig");

		if (!json_is_object(cfg)) {
			cfg = json_object();
			json_object_set_new(spec, "sessionAffinityConfig", cfg);
		}
		if (!json_is_object(json_object_get(cfg, "clientIP")))
			json_object_set_new(cfg, "clientIP", json_object());
		json_object_set_new(json_object_get(cfg, "clientIP"), "timeoutSeconds",
				    json_integer(10800));
	}
	set_default(spec, "internalTrafficPolicy", json_string("Cluster"));
	set_default(spec, "ipFamilies", json_pack("[s]", "IPv4"));
	set_default(spec, "ipFamilyPolicy", json_string("SingleStack"));
	if (wants_node_ports(spec))
		set_default(spec, "externalTrafficPolicy", json_string("Cluster"));
	if (!json_array_size(json_object_get(spec, "ports")) &&
	    strcmp(json_string_value(json_object_get(spec, "clusterIP")) ?: "", "None")) {
		bl_reply_invalid(x, r, name, "spec.ports", "FieldValueRequired", "Required value");
		return -1;
	}
	json_array_foreach(json_object_get(spec, "ports"), i, p)
	{
		json_int_t port = json_integer_value(json_object_get(p, "port"));

		if (port < 1 || port > 65535) {
			snprintf(field, sizeof(field), "spec.ports[%zu].port", i);
			bl_reply_invalid(x, r, name, field, "FieldValueInvalid",
					 "Invalid value: must be between 1 and 65535, inclusive");
			return -1;
		}
		set_default(p, "protocol", json_string("TCP"));
		set_default(p, "targetPort", json_integer(port));
		if (!wants_node_ports(spec))
			json_object_del(p, "nodePort");
	}
	return 0;
}

static int take_ip(struct hx *x, const struct bl_resource *r, const char *name, json_t *spec)
{
	struct bl_apiserver *srv = x->srv;
	const char *want = json_string_value(json_object_get(spec, "clusterIP"));
	char msg[512], cidr[32], ipbuf[16];
	uint32_t ip;
	int rc;

	if (!strcmp(svc_type(spec), "ExternalName"))
		return 0;
	if (want && !strcmp(want, "None")) {
		json_object_set_new(spec, "clusterIPs", json_pack("[s]", "None"));
		return 0;
	}
	format_ip(srv->cfg.service_cidr.net, ipbuf);
	snprintf(cidr, sizeof(cidr), "%s/%u", ipbuf, srv->cfg.service_cidr.plen);
	if (want && want[0]) {
		if (!parse_ip(want, &ip)) {
			snprintf(
				msg, sizeof(msg),
				"Invalid value: \"%s\": must be a valid IP address, (e.g. 10.9.8.7 "
				"or 2001:db8::ffff) or None",
				want);
			bl_reply_invalid(x, r, name, "spec.clusterIPs[0]", "FieldValueInvalid",
					 msg);
			return -1;
		}
		rc = bl_alloc_take(&srv->cluster_ips, ip);
		if (rc == -ERANGE)
			snprintf(msg, sizeof(msg),
				 "Invalid value: []string{\"%s\"}: failed to allocate IP %s: the "
				 "provided IP (%s) is not in the valid range. The range of valid "
				 "IPs is %s",
				 want, want, want, cidr);
		else if (rc == -EEXIST)
			snprintf(msg, sizeof(msg),
				 "Invalid value: []string{\"%s\"}: failed to allocate IP %s: "
				 "provided IP is already allocated",
				 want, want);
		if (rc) {
			bl_reply_invalid(x, r, name, "spec.clusterIPs", "FieldValueInvalid", msg);
			return -1;
		}
	} else if (bl_alloc_any(&srv->cluster_ips, &ip)) {
		bl_reply_status(x, 500, "InternalError",
				"failed to allocate a serviceIP: range is full", r, name);
		return -1;
	}
	format_ip(ip, ipbuf);
	json_object_set_new(spec, "clusterIP", json_string(ipbuf));
	json_object_set_new(spec, "clusterIPs", json_pack("[s]", ipbuf));
	return 0;
}

/* Takes the node ports spec asks for, allocates the missing ones (reusing old's for the
 * same port and protocol). On failure releases what it took. */
static int take_node_ports(struct hx *x, const struct bl_resource *r, const char *name,
			   json_t *spec, json_t *old)
{
	struct bl_apiserver *srv = x->srv;
	struct svc_hold had;
	uint32_t taken[MAX_PORTS];
	size_t ntaken = 0, i, j;
	json_t *p, *op;
	char field[64], msg[256];

	if (!wants_node_ports(spec))
		return 0;
	holdings(old, &had);
	json_array_foreach(json_object_get(spec, "ports"), i, p)
	{
		json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
		uint32_t v;
		int rc;

		if (!np) {
			/* an update that leaves nodePort out keeps the one it had */
			json_array_foreach(json_object_get(json_object_get(old, "spec"), "ports"),
					   j, op)
			{
				if (json_equal(json_object_get(op, "port"),
					       json_object_get(p, "port")) &&
				    json_equal(json_object_get(op, "protocol"),
					       json_object_get(p, "protocol")))
					np = json_integer_value(json_object_get(op, "nodePort"));
			}
			if (np) {
				json_object_set_new(p, "nodePort", json_integer(np));
				continue;
			}
			if (bl_alloc_any(&srv->node_ports, &v)) {
				snprintf(msg, sizeof(msg),
					 "failed to allocate a nodePort: range is full");
				bl_reply_status(x, 500, "InternalError", msg, r, name);
				goto fail;
			}
			json_object_set_new(p, "nodePort", json_integer(v));
			taken[ntaken++] = v;
			continue;
		}
		if (holds_port(&had, (uint32_t)np))
			continue;
		snprintf(field, sizeof(field), "spec.ports[%zu].nodePort", i);
		rc = np < 0 || np > 65535 ? -ERANGE : bl_alloc_take(&srv->node_ports, (uint32_t)np);
		if (rc == -ERANGE)
			snprintf(
				msg, sizeof(msg),
				"Invalid value: %lld: provided port is not in the valid range. The "
				"range of valid ports is %d-%d",
				(long long)np, srv->cfg.nodeport_lo, srv->cfg.nodeport_hi);
		else if (rc)
			snprintf(msg, sizeof(msg),
				 "Invalid value: %lld: provided port is already allocated",
				 (long long)np);
		if (rc) {
			bl_reply_invalid(x, r, name, field, "FieldValueInvalid", msg);
			goto fail;
		}
		taken[ntaken++] = (uint32_t)np;
	}
	return 0;
fail:
	for (i = 0; i < ntaken; i++)
		bl_alloc_release(&srv->node_ports, taken[i]);
	return -1;
}

int bl_svc_prepare_create(struct hx *x, const struct bl_resource *r, json_t *svc)
{
	const char *name = bl_meta_str(svc, "name");
	json_t *spec;
	struct svc_hold h;

	if (spec_defaults(x, r, name, svc))
		return -1;
	spec = json_object_get(svc, "spec");
	if (take_ip(x, r, name, spec))
		return -1;
	if (take_node_ports(x, r, name, spec, NULL)) {
		holdings(svc, &h);
		if (h.has_ip)
			bl_alloc_release(&x->srv->cluster_ips, h.ip);
		return -1;
	}
	json_object_set_new(svc, "status", json_pack("{s:{}}", "loadBalancer"));
	return 0;
}

int bl_svc_prepare_update(struct hx *x, const struct bl_resource *r, json_t *old, json_t *svc)
{
	const char *name = bl_meta_str(svc, "name");
	json_t *spec, *ospec = json_object_get(old, "spec");
	const char *ip, *oip = json_string_value(json_object_get(ospec, "clusterIP"));
	bool took_ip = false;
	char msg[256];
	uint32_t v;

	if (spec_defaults(x, r, name, svc))
		return -1;
	spec = json_object_get(svc, "spec");
	ip = json_string_value(json_object_get(spec, "clusterIP"));
	if (!strcmp(svc_type(spec), "ExternalName")) {
		json_object_del(spec, "clusterIP");
		json_object_del(spec, "clusterIPs");
	} else if ((!ip || !ip[0]) && oip && oip[0]) {
		/* left out: keep the allocated one */
		json_object_set(spec, "clusterIP", json_object_get(ospec, "clusterIP"));
		json_object_set(spec, "clusterIPs", json_object_get(ospec, "clusterIPs"));
	} else if (oip && oip[0] && strcmp(ip, oip)) {
		snprintf(msg, sizeof(msg),
			 "Invalid value: []string{\"%s\"}: may not change once set", ip);
		bl_reply_invalid(x, r, name, "spec.clusterIPs[0]", "FieldValueInvalid", msg);
		return -1;
	} else if (!oip || !oip[0]) {
		if (take_ip(x, r, name, spec))
			return -1;
		took_ip = parse_ip(json_string_value(json_object_get(spec, "clusterIP")), &v);
	}
	if (take_node_ports(x, r, name, spec, old)) {
		if (took_ip)
			bl_alloc_release(&x->srv->cluster_ips, v);
		return -1;
	}
	return 0;
}
