/*
 * bpfletctl policy trace: the verdict the pod programs would reach for a new connection,
 * asked of the same maps in the same order (lib/policy.h). A destination that is a
 * Service frontend (ClusterIP, or a NodePort/LoadBalancer/external address) is first
 * translated the way tc_pod does, through the frontend, slot and backend maps, and
 * answered per backend: egress of the client against the backend, then the backend
 * pod's ingress.
 */
#include "tools/bpfletctl/policy_maps.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One endpoint's verdict for its direction, as pol_rules_allow decides it. */
static json_t *trace_side(const struct pol_maps *m, __be32 ep, __be32 peer, __u8 dir, __u8 proto,
			  __be16 port)
{
	__u32 flag = dir == BPFLET_POL_INGRESS ? BPFLET_POL_EP_ISOLATED_INGRESS
					       : BPFLET_POL_EP_ISOLATED_EGRESS;
	struct bpflet_pol_val rv = {0};
	struct bpflet_pol_ep e = {0};
	char ip[INET_ADDRSTRLEN], name[BPFLET_POL_NAME_LEN + 16];
	json_t *pod = pol_pod_of(m, ep);
	__u32 peer_id;
	bool found;

	if (bpf_map_lookup_elem(m->eps, &ep, &e) || !(e.flags & flag))
		return json_pack("{s:s, s:O?, s:s, s:s}", "endpoint", pol_ip_str(ep, ip), "pod",
				 pod, "verdict", "allow", "reason", "not isolated");
	peer_id = pol_peer_id(m, peer);
	found = !pol_match(m, &e, ep, peer_id, dir, proto, port, &rv);
	if (!found && peer_id != BPFLET_POL_PEER_ANY)
		found = !pol_match(m, &e, ep, BPFLET_POL_PEER_ANY, dir, proto, port, &rv);
	if (!found)
		return json_pack("{s:s, s:O?, s:s, s:s, s:i}", "endpoint", pol_ip_str(ep, ip),
				 "pod", pod, "verdict", "deny", "reason", "default deny", "peer_id",
				 peer_id);
	return json_pack("{s:s, s:O?, s:s, s:s, s:i, s:i}", "endpoint", pol_ip_str(ep, ip), "pod",
			 pod, "verdict", "allow", "reason",
			 pol_rule_name(m, rv.rule_id, name, sizeof(name)), "rule_id", rv.rule_id,
			 "peer_id", peer_id);
}

static bool allows(const json_t *side)
{
	return !strcmp(json_string_value(json_object_get(side, "verdict")), "allow");
}

/* Both ends of src → dst:port: {"verdict", "egress", "ingress"}. */
static json_t *trace_pair(const struct pol_maps *m, __be32 src, __be32 dst, __u8 proto, __be16 port)
{
	json_t *eg = trace_side(m, src, dst, BPFLET_POL_EGRESS, proto, port);
	json_t *in = trace_side(m, dst, src, BPFLET_POL_INGRESS, proto, port);

	return json_pack("{s:s, s:o, s:o}", "verdict", allows(eg) && allows(in) ? "allow" : "deny",
			 "egress", eg, "ingress", in);
}

/* "HOST[:PORT[/tcp|udp|sctp]]" → host (in buf), protocol (tcp by default), port. */
static int parse_to(const char *arg, char *buf, size_t len, __u8 *proto, __be16 *port)
{
	char *colon, *slash, *end;
	unsigned long p;

	snprintf(buf, len, "%s", arg);
	*proto = IPPROTO_TCP;
	*port = 0;
	colon = strrchr(buf, ':');
	if (!colon)
		return 0;
	*colon++ = '\0';
	slash = strchr(colon, '/');
	if (slash) {
		*slash++ = '\0';
		if (!strcasecmp(slash, "tcp"))
			*proto = IPPROTO_TCP;
		else if (!strcasecmp(slash, "udp"))
			*proto = IPPROTO_UDP;
		else if (!strcasecmp(slash, "sctp"))
			*proto = IPPROTO_SCTP;
		else {
			fprintf(stderr, "bpfletctl: protocol '%s': use tcp, udp or sctp\n", slash);
			return -1;
		}
	}
	p = strtoul(colon, &end, 10);
	if (!*colon || *end || p < 1 || p > 65535) {
		fprintf(stderr, "bpfletctl: port '%s': use 1-65535\n", colon);
		return -1;
	}
	*port = htons((__u16)p);
	return 0;
}

/* ---- Service translation, as tc_pod looks it up ---- */

struct svc_maps {
	int fe, slot, be, name;
};

static int svc_maps_open(const struct ctl *c, struct svc_maps *s)
{
	s->fe = ctl_map_open(c, BPFLET_MAP_FRONTENDS);
	s->slot = s->fe < 0 ? -1 : ctl_map_open(c, BPFLET_MAP_SLOTS);
	s->be = s->slot < 0 ? -1 : ctl_map_open(c, BPFLET_MAP_BACKENDS);
	s->name = s->be < 0 ? -1 : ctl_map_open(c, BPFLET_MAP_SVC_NAMES);
	return s->name < 0 ? -1 : 0;
}

/* The frontend a pod reaching addr:port/proto meets: internal scope, else external. */
static bool frontend_of(const struct svc_maps *s, __be32 addr, __be16 port, __u8 proto,
			struct bpflet_fe_val *fv)
{
	struct bpflet_fe_key k = {.port = port,
				  .proto = proto,
				  .family = BPFLET_AF_INET,
				  .scope = BPFLET_SCOPE_INTERNAL};

	k.addr.addr[0] = addr;
	if (!bpf_map_lookup_elem(s->fe, &k, fv))
		return true;
	k.scope = BPFLET_SCOPE_EXTERNAL;
	return !bpf_map_lookup_elem(s->fe, &k, fv);
}

struct any_fe {
	__be32 addr;
	bool found;
};

static int fe_has_addr(void *arg, const void *k, const void *v)
{
	struct any_fe *a = arg;

	(void)v;
	if (((const struct bpflet_fe_key *)k)->addr.addr[0] == a->addr)
		a->found = true;
	return 0;
}

/* The usable backends of a frontend (slots 0..count-1), one answer each. */
static json_t *trace_backends(const struct pol_maps *m, const struct svc_maps *s,
			      const struct bpflet_fe_val *fv, __be32 src, __u8 proto, bool only,
			      __be32 only_addr)
{
	json_t *out = json_array(), *seen = json_object();

	for (__u32 i = 0; i < fv->count; i++) {
		struct bpflet_slot_key sk = {.svc_id = fv->svc_id, .slot = i};
		struct bpflet_backend b;
		char id[16], be[80];
		__u32 bid;
		json_t *pair, *pod;

		if (bpf_map_lookup_elem(s->slot, &sk, &bid) || bpf_map_lookup_elem(s->be, &bid, &b))
			continue; /* the agent mid-update: the program would drop it too */
		snprintf(id, sizeof(id), "%u", bid);
		if (json_object_get(seen, id) || (only && b.addr.addr[0] != only_addr))
			continue;
		json_object_set_new(seen, id, json_true());
		/* the backend's own port is what both sides' rules are asked about */
		pair = trace_pair(m, src, b.addr.addr[0], proto, b.port);
		ctl_endpoint(&b.addr, BPFLET_AF_INET, b.port, be, sizeof(be));
		pod = pol_pod_of(m, b.addr.addr[0]);
		json_object_set_new(pair, "backend", json_string(be));
		json_object_set_new(pair, "backend_id", json_integer(bid));
		if (pod)
			json_object_set(pair, "pod", pod);
		json_array_append_new(out, pair);
	}
	json_decref(seen);
	return out;
}

static void print_sides(const json_t *t, const char *indent)
{
	const json_t *eg = json_object_get(t, "egress"), *in = json_object_get(t, "ingress");

	printf("%segress of %-16s %-6s %s\n", indent,
	       json_string_value(json_object_get(eg, "endpoint")),
	       json_string_value(json_object_get(eg, "verdict")),
	       json_string_value(json_object_get(eg, "reason")));
	printf("%singress of %-15s %-6s %s\n", indent,
	       json_string_value(json_object_get(in, "endpoint")),
	       json_string_value(json_object_get(in, "verdict")),
	       json_string_value(json_object_get(in, "reason")));
}

static int print_service(const struct ctl *c, json_t *out)
{
	const json_t *svc = json_object_get(out, "service"), *b;
	size_t i;

	if (c->json) {
		ctl_print_json(out);
		return 0;
	}
	printf("%s  (Service %s at %s/%s, %zu backend%s)\n",
	       json_string_value(json_object_get(out, "verdict")),
	       json_string_value(json_object_get(svc, "name")),
	       json_string_value(json_object_get(svc, "frontend")),
	       json_string_value(json_object_get(out, "protocol")),
	       json_array_size(json_object_get(out, "backends")),
	       json_array_size(json_object_get(out, "backends")) == 1 ? "" : "s");
	json_array_foreach(json_object_get(out, "backends"), i, b)
	{
		const char *pod = json_string_value(json_object_get(b, "pod"));

		printf("  backend %s%s%s%s: %s\n", json_string_value(json_object_get(b, "backend")),
		       pod ? " (" : "", pod ? pod : "", pod ? ")" : "",
		       json_string_value(json_object_get(b, "verdict")));
		print_sides(b, "    ");
	}
	json_decref(out);
	return 0;
}

/* src → a Service frontend: every backend (or the one asked for). */
static int trace_service(const struct ctl *c, const struct pol_maps *m, const struct svc_maps *s,
			 const struct bpflet_fe_val *fv, __be32 src, __be32 vip, __u8 proto,
			 __be16 port, const char *backend)
{
	struct bpflet_svc_name nm = {0};
	__be32 only = 0;
	char fe[80];
	struct bpflet_addr va = {.addr = {vip}};
	json_t *bes, *out;
	size_t n_allow = 0, i;
	json_t *b;

	if (backend && pol_resolve(m, backend, &only))
		return 1;
	if (fv->count == 0) {
		fprintf(stderr,
			"bpfletctl: the Service has no usable endpoints: tc_pod rejects the "
			"connection before any policy is asked\n");
		return 1;
	}
	bes = trace_backends(m, s, fv, src, proto, backend != NULL, only);
	if (json_array_size(bes) == 0) {
		fprintf(stderr, "bpfletctl: %s is not a backend of that Service\n",
			backend ? backend : "(none)");
		json_decref(bes);
		return 1;
	}
	json_array_foreach(bes, i, b) n_allow +=
		!strcmp(json_string_value(json_object_get(b, "verdict")), "allow");
	bpf_map_lookup_elem(s->name, &fv->svc_id, &nm);
	ctl_endpoint(&va, BPFLET_AF_INET, port, fe, sizeof(fe));
	out = json_pack("{s:s, s:s, s:i, s:{s:s, s:s%, s:i}, s:o}", "verdict",
			n_allow == json_array_size(bes) ? "allow"
			: n_allow			? "mixed"
							: "deny",
			"protocol", bl_proto_name(proto), "port", ntohs(port), "service",
			"frontend", fe, "name", nm.name, strnlen(nm.name, sizeof(nm.name)),
			"svc_id", fv->svc_id, "backends", bes);
	if (json_array_size(bes) == 1) { /* one answer: also where a pod's answer would be */
		json_object_set(out, "egress", json_object_get(json_array_get(bes, 0), "egress"));
		json_object_set(out, "ingress", json_object_get(json_array_get(bes, 0), "ingress"));
	}
	return print_service(c, out);
}

int pol_trace(const struct ctl *c, struct pol_maps *m, int argc, char **argv)
{
	const char *from = NULL, *to = NULL, *backend = NULL;
	struct svc_maps s = {-1, -1, -1, -1};
	struct bpflet_fe_val fv;
	char host[400];
	__be32 src, dst;
	__be16 port;
	__u8 proto;
	json_t *out;
	int rc = 1;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--from"))
			from = argv[i + 1];
		else if (!strcmp(argv[i], "--to"))
			to = argv[i + 1];
		else if (!strcmp(argv[i], "--backend"))
			backend = argv[i + 1];
	}
	if (!from || !to) {
		fprintf(stderr,
			"bpfletctl: usage: policy trace --from NS/POD|IP "
			"--to NS/POD|IP|CLUSTERIP[:PORT[/tcp|udp|sctp]] [--backend IP|NS/POD]\n");
		return 2;
	}
	if (pol_resolve(m, from, &src) || parse_to(to, host, sizeof(host), &proto, &port))
		return 1;
	if (svc_maps_open(c, &s))
		goto out;
	if (inet_pton(AF_INET, host, &dst) == 1) {
		struct any_fe a = {.addr = dst};

		if (port && frontend_of(&s, dst, port, proto, &fv)) {
			rc = trace_service(c, m, &s, &fv, src, dst, proto, port, backend);
			goto out;
		}
		bl_map_walk(s.fe, sizeof(struct bpflet_fe_key), sizeof(struct bpflet_fe_val),
			    fe_has_addr, &a);
		if (a.found && !port) {
			fprintf(stderr,
				"bpfletctl: %s is a Service address: give the port "
				"(%s:PORT[/PROTO])\n",
				host, host);
			goto out;
		}
	} else if (pol_resolve(m, host, &dst)) {
		goto out;
	}
	if (backend)
		fprintf(stderr, "bpfletctl: --backend ignored: %s is no Service frontend\n", to);
	out = trace_pair(m, src, dst, proto, port);
	json_object_set_new(out, "protocol", json_string(bl_proto_name(proto)));
	json_object_set_new(out, "port", json_integer(ntohs(port)));
	json_object_set_new(
		out, "port_note",
		json_string(port ? "" : "no port given: only rules allowing every port count"));
	rc = 0;
	if (c->json) {
		ctl_print_json(out);
		goto out;
	}
	printf("%s\n",
	       allows(json_object_get(out, "egress")) && allows(json_object_get(out, "ingress"))
		       ? "ALLOW"
		       : "DENY");
	print_sides(out, "  ");
	if (!port)
		printf("  (no port given: only rules allowing every port count)\n");
	json_decref(out);
out:
	ctl_close_all((int[]){s.fe, s.slot, s.be, s.name}, 4);
	return rc;
}
