#include "controlplane/compile/netpol_validate.h"

#include "agent/common/netaddr.h"
#include "controlplane/compile/k8s_json.h"
#include "controlplane/compile/label_selector.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static int check_ipblock(const json_t *b, const char *path, char *err, size_t errlen)
{
	char p[BL_PATH_LEN], q[BL_PATH_LEN], cidr[64], *slash;
	const json_t *ex, *v;
	struct bl_cidr4 c, x;
	bool present, v6;
	size_t i;
	int e;

	e = bl_kj_string(b, "cidr", path, cidr, sizeof(cidr), &present, err, errlen);
	if (e)
		return e;
	if (!present)
		return bl_kj_fail(err, errlen, bl_kj_key(p, path, "cidr"), "required");
	v6 = strchr(cidr, ':') != NULL;
	slash = strchr(cidr, '/');
	if (!v6 && bl_cidr4_parse(cidr, &c))
		return bl_kj_fail(err, errlen, bl_kj_key(p, path, "cidr"),
				  "\"%.50s\" is not a CIDR (a.b.c.d/n)", cidr);
	if (v6 && !slash)
		return bl_kj_fail(err, errlen, bl_kj_key(p, path, "cidr"),
				  "\"%.50s\" is not a CIDR", cidr);
	e = bl_kj_array(b, "except", path, &ex, err, errlen);
	if (e)
		return e;
	bl_kj_key(p, path, "except");
	if (json_array_size(ex) > 64) /* the compiler's per-block bound */
		return bl_kj_fail(err, errlen, p, "at most 64 entries");
	json_array_foreach(ex, i, v)
	{
		const char *s = json_string_value(v);

		bl_kj_idx(q, p, i);
		if (!s)
			return bl_kj_fail(err, errlen, q, "must be a string");
		if (v6 != (strchr(s, ':') != NULL))
			return bl_kj_fail(err, errlen, q, "must be the same family as cidr");
		if (v6)
			continue; /* IPv6 blocks never match IPv4 traffic */
		if (bl_cidr4_parse(s, &x))
			return bl_kj_fail(err, errlen, q, "\"%.50s\" is not a CIDR", s);
		if (x.plen <= c.plen || !bl_cidr4_contains(&c, x.net))
			return bl_kj_fail(err, errlen, q, "\"%.50s\" must be strictly inside %.50s",
					  s, cidr);
	}
	return 0;
}

static int check_peer(const json_t *peer, const char *path, char *err, size_t errlen)
{
	const json_t *ps, *ns, *ib;
	char p[BL_PATH_LEN];
	int e;

	if (!json_is_object(peer))
		return bl_kj_fail(err, errlen, path, "must be an object");
	e = bl_kj_object(peer, "podSelector", path, &ps, err, errlen);
	if (!e)
		e = bl_kj_object(peer, "namespaceSelector", path, &ns, err, errlen);
	if (!e)
		e = bl_kj_object(peer, "ipBlock", path, &ib, err, errlen);
	if (e)
		return e;
	if (!ps && !ns && !ib)
		return bl_kj_fail(err, errlen, path,
				  "needs podSelector, namespaceSelector or ipBlock");
	if (ib && (ps || ns))
		return bl_kj_fail(
			err, errlen, path,
			"ipBlock cannot be combined with podSelector or namespaceSelector");
	if (ps && (e = bl_selector_validate(ps, bl_kj_key(p, path, "podSelector"), err, errlen)))
		return e;
	if (ns &&
	    (e = bl_selector_validate(ns, bl_kj_key(p, path, "namespaceSelector"), err, errlen)))
		return e;
	return ib ? check_ipblock(ib, bl_kj_key(p, path, "ipBlock"), err, errlen) : 0;
}

static int check_port(const json_t *pt, const char *path, char *err, size_t errlen)
{
	const json_t *port = json_object_get(pt, "port");
	char p[BL_PATH_LEN];
	long long end, num = 0;
	bool has_end;
	uint8_t proto;
	int e;

	if (!json_is_object(pt))
		return bl_kj_fail(err, errlen, path, "must be an object");
	e = bl_kj_protocol(pt, "protocol", path, &proto, err, errlen);
	if (e)
		return e;
	if (json_is_string(port)) {
		if (!bl_k8s_port_name(json_string_value(port)))
			return bl_kj_fail(err, errlen, bl_kj_key(p, path, "port"),
					  "\"%.32s\" is not a port name (IANA_SVC_NAME)",
					  json_string_value(port));
	} else if (port && !json_is_null(port)) {
		e = bl_kj_int(pt, "port", path, 1, 65535, &num, NULL, err, errlen);
		if (e)
			return e;
	}
	e = bl_kj_int(pt, "endPort", path, 1, 65535, &end, &has_end, err, errlen);
	if (e)
		return e;
	if (has_end && !num)
		return bl_kj_fail(err, errlen, bl_kj_key(p, path, "endPort"),
				  "needs a numeric port");
	if (has_end && end < num)
		return bl_kj_fail(err, errlen, bl_kj_key(p, path, "endPort"),
				  "%lld is below port %lld", end, num);
	return 0;
}

static int check_rules(const json_t *spec, const char *key, const char *peers_key, char *err,
		       size_t errlen)
{
	char p[BL_PATH_LEN], r[BL_PATH_LEN], q[BL_PATH_LEN], s[BL_PATH_LEN];
	const json_t *rules, *rule, *list, *v;
	size_t i, j;
	int e;

	e = bl_kj_array(spec, key, "spec", &rules, err, errlen);
	if (e)
		return e;
	bl_kj_key(p, "spec", key);
	json_array_foreach(rules, i, rule)
	{
		bl_kj_idx(r, p, i);
		if (!json_is_object(rule))
			return bl_kj_fail(err, errlen, r, "must be an object");
		e = bl_kj_array(rule, peers_key, r, &list, err, errlen);
		if (e)
			return e;
		bl_kj_key(q, r, peers_key);
		json_array_foreach(list, j, v)
		{
			if ((e = check_peer(v, bl_kj_idx(s, q, j), err, errlen)))
				return e;
		}
		e = bl_kj_array(rule, "ports", r, &list, err, errlen);
		if (e)
			return e;
		bl_kj_key(q, r, "ports");
		json_array_foreach(list, j, v)
		{
			if ((e = check_port(v, bl_kj_idx(s, q, j), err, errlen)))
				return e;
		}
	}
	return 0;
}

int bl_netpol_validate(const json_t *np, char *err, size_t errlen)
{
	const char *api = json_string_value(json_object_get(np, "apiVersion"));
	const json_t *spec, *sel, *types, *v;
	size_t i;
	int e;

	if (!api || strcmp(api, "networking.k8s.io/v1"))
		return bl_kj_fail(err, errlen, "apiVersion",
				  "NetworkPolicy must be networking.k8s.io/v1");
	e = bl_kj_object(np, "spec", "", &spec, err, errlen);
	if (e)
		return e;
	if (!spec)
		return bl_kj_fail(err, errlen, "spec", "required");
	e = bl_kj_object(spec, "podSelector", "spec", &sel, err, errlen);
	if (e)
		return e;
	if (!sel)
		return bl_kj_fail(err, errlen, "spec.podSelector",
				  "required (use {} for all pods)");
	if ((e = bl_selector_validate(sel, "spec.podSelector", err, errlen)))
		return e;
	e = bl_kj_array(spec, "policyTypes", "spec", &types, err, errlen);
	if (e)
		return e;
	json_array_foreach(types, i, v)
	{
		const char *t = json_string_value(v);
		char p[BL_PATH_LEN];

		if (!t || (strcmp(t, "Ingress") && strcmp(t, "Egress")))
			return bl_kj_fail(err, errlen, bl_kj_idx(p, "spec.policyTypes", i),
					  "must be Ingress or Egress");
	}
	e = check_rules(spec, "ingress", "from", err, errlen);
	return e ? e : check_rules(spec, "egress", "to", err, errlen);
}

int bl_pod_validate(const json_t *pod, char *err, size_t errlen)
{
	char p[BL_PATH_LEN], q[BL_PATH_LEN], ip[64];
	const json_t *spec, *status, *ctrs, *c, *ports, *pt;
	struct bpflet_addr a;
	uint8_t fam, proto;
	bool present;
	size_t i, j;
	int e;

	e = bl_kj_object(pod, "spec", "", &spec, err, errlen);
	if (!e)
		e = bl_kj_object(pod, "status", "", &status, err, errlen);
	if (!e)
		e = bl_kj_array(spec, "containers", "spec", &ctrs, err, errlen);
	if (e)
		return e;
	json_array_foreach(ctrs, i, c)
	{
		bl_kj_idx(p, "spec.containers", i);
		if (!json_is_object(c))
			return bl_kj_fail(err, errlen, p, "must be an object");
		if ((e = bl_kj_array(c, "ports", p, &ports, err, errlen)))
			return e;
		bl_kj_key(q, p, "ports");
		json_array_foreach(ports, j, pt)
		{
			char r[BL_PATH_LEN], name[64];
			long long num;

			bl_kj_idx(r, q, j);
			e = bl_kj_int(pt, "containerPort", r, 1, 65535, &num, &present, err,
				      errlen);
			if (!e && !present)
				e = bl_kj_fail(err, errlen, r, "containerPort: required");
			if (!e)
				e = bl_kj_protocol(pt, "protocol", r, &proto, err, errlen);
			if (!e)
				e = bl_kj_string(pt, "name", r, name, sizeof(name), &present, err,
						 errlen);
			if (e)
				return e;
		}
	}
	e = bl_kj_string(status, "podIP", "status", ip, sizeof(ip), &present, err, errlen);
	if (!e && present && *ip)
		e = bl_kj_ip_text(ip, "status.podIP", &a, &fam, err, errlen);
	return e;
}
