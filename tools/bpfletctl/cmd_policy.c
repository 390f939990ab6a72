/*
 * bpfletctl policy list|get|trace: NetworkPolicy as the kernel holds it. Pod names come
 * from the agent's CNI registrations (/run/bpflet/<instance>/endpoints), rule names
 * from bl_polname_v1; trace asks the same maps the same questions the pod programs do.
 */
#include "tools/bpfletctl/policy_maps.h"
#include "tools/bpfletctl/ctl.h"
#include "agent/common/endpoint_msg.h"
#include "agent/common/paths.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpflet/policy_abi.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void load_pods(const struct ctl *c, json_t *pods)
{
	char run[128], dir[192], path[512], line[2048], err[128];
	struct dirent *de;
	DIR *d;

	bl_run_dir(run, sizeof(run), c->instance);
	snprintf(dir, sizeof(dir), "%s/endpoints", run);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		struct bl_endpoint_msg m;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f) &&
		    !bl_endpoint_msg_decode(line, &m, err, sizeof(err)) && m.pod_name[0]) {
			char name[330];

			snprintf(name, sizeof(name), "%s/%s",
				 m.pod_namespace[0] ? m.pod_namespace : "default", m.pod_name);
			json_object_set_new(pods, m.ip, json_string(name));
		}
		fclose(f);
	}
	if (d)
		closedir(d);
}

int pol_maps_open(const struct ctl *c, struct pol_maps *m)
{
	m->ipc = ctl_map_open(c, BPFLET_MAP_IPCACHE);
	m->ipch = m->ipc < 0 ? -1 : ctl_map_open(c, BPFLET_MAP_IPCACHE_HOST);
	m->rules = m->ipch < 0 ? -1 : ctl_map_open(c, BPFLET_MAP_POLICY);
	m->eps = m->rules < 0 ? -1 : ctl_map_open(c, BPFLET_MAP_POL_EP);
	m->names = m->eps < 0 ? -1 : ctl_map_open(c, BPFLET_MAP_POL_NAME);
	m->cnt = m->names < 0 ? -1 : ctl_map_open(c, BPFLET_MAP_POL_CNT);
	m->pods = json_object();
	if (m->cnt < 0)
		return -1;
	load_pods(c, m->pods);
	return 0;
}

void pol_maps_close(struct pol_maps *m)
{
	ctl_close_all((int[]){m->ipc, m->ipch, m->rules, m->eps, m->names, m->cnt}, 6);
	json_decref(m->pods);
}

__u32 pol_peer_id(const struct pol_maps *m, __be32 addr)
{
	struct bpflet_ipcache_key ik = {.prefixlen = 32, .addr = addr};
	struct bpflet_ipcache_val iv = {0};

	if (bpf_map_lookup_elem(m->ipch, &addr, &iv) && bpf_map_lookup_elem(m->ipc, &ik, &iv))
		return BPFLET_POL_PEER_ANY;
	return iv.id;
}

int pol_match(const struct pol_maps *m, const struct bpflet_pol_ep *e, __be32 ep, __u32 peer,
	      __u8 dir, __u8 proto, __be16 port, struct bpflet_pol_val *out)
{
	struct bpflet_pol_key k = {.ep_addr = ep, .peer_id = peer, .dir = dir};

	for (int c = BPFLET_POL_CLASSES - 1; c >= 0; c--) {
		if (!(e->classes[dir & 1] & (1u << c)))
			continue;
		k.prefixlen = bpflet_pol_class_plen((__u32)c);
		k.proto = c ? proto : 0;
		k.port = c > 1 ? port & htons((uint16_t)(0xffff0000u >> (c - 1))) : 0;
		if (!bpf_map_lookup_elem(m->rules, &k, out))
			return 0;
	}
	return -1;
}

const char *pol_ip_str(__be32 a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

json_t *pol_pod_of(const struct pol_maps *m, __be32 a)
{
	char ip[INET_ADDRSTRLEN];

	return json_object_get(m->pods, pol_ip_str(a, ip));
}

const char *pol_rule_name(const struct pol_maps *m, __u32 id, char *buf, size_t len)
{
	struct bpflet_pol_name n = {0};

	if (bpf_map_lookup_elem(m->names, &id, &n))
		snprintf(buf, len, "rule %u", id);
	else
		snprintf(buf, len, "%.*s", (int)sizeof(n.name), n.name);
	return buf;
}

/* "ns/name" of a registered pod or a dotted quad → address (network order). */
int pol_resolve(const struct pol_maps *m, const char *what, __be32 *out)
{
	const char *k;
	json_t *v;

	if (inet_pton(AF_INET, what, out) == 1)
		return 0;
	json_object_foreach(m->pods, k, v) if (!strcmp(json_string_value(v), what))
	{
		return inet_pton(AF_INET, k, out) == 1 ? 0 : -1;
	}
	fprintf(stderr,
		"bpfletctl: '%s' is neither an IPv4 address nor a pod registered on this node "
		"(see `bpfletctl policy list`)\n",
		what);
	return -1;
}

/* ---- policy list ---- */

struct list_walk {
	const struct pol_maps *m;
	json_t *out;
	int ncpu;
	struct bpflet_counter_val *v;
};

static int add_rule_name(void *arg, const void *k, const void *val)
{
	struct list_walk *w = arg;
	__u32 id = *(const __u32 *)k;
	const struct bpflet_pol_name *n = val;
	unsigned long long p = 0, b = 0;

	if (!bpf_map_lookup_elem(w->m->cnt, &id, w->v))
		for (int cpu = 0; cpu < w->ncpu; cpu++) {
			p += w->v[cpu].packets;
			b += w->v[cpu].bytes;
		}
	json_array_append_new(w->out, json_pack("{s:i, s:s%, s:I, s:I}", "id", id, "rule", n->name,
						strnlen(n->name, sizeof(n->name)), "packets",
						(json_int_t)p, "bytes", (json_int_t)b));
	return 0;
}

static int add_endpoint(void *arg, const void *k, const void *val)
{
	struct list_walk *w = arg;
	__be32 a = *(const __be32 *)k;
	const struct bpflet_pol_ep *e = val;
	char ip[INET_ADDRSTRLEN];
	json_t *pod = pol_pod_of(w->m, a);

	json_array_append_new(
		w->out, json_pack("{s:s, s:O?, s:b, s:b}", "ip", pol_ip_str(a, ip), "pod", pod,
				  "ingress_isolated", !!(e->flags & BPFLET_POL_EP_ISOLATED_INGRESS),
				  "egress_isolated", !!(e->flags & BPFLET_POL_EP_ISOLATED_EGRESS)));
	return 0;
}

static int by_int(const void *a, const void *b, const char *field)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, field));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, field));

	return (x > y) - (x < y);
}

static int by_id(const void *a, const void *b)
{
	return by_int(a, b, "id");
}

static int by_ip(const void *a, const void *b)
{
	struct in_addr x = {0}, y = {0};

	inet_pton(AF_INET, json_string_value(json_object_get(*(json_t *const *)a, "ip")), &x);
	inet_pton(AF_INET, json_string_value(json_object_get(*(json_t *const *)b, "ip")), &y);
	return (ntohl(x.s_addr) > ntohl(y.s_addr)) - (ntohl(x.s_addr) < ntohl(y.s_addr));
}

static int policy_list(const struct ctl *c, struct pol_maps *m)
{
	int ncpu = libbpf_num_possible_cpus();
	struct list_walk w = {.m = m, .ncpu = ncpu > 0 ? ncpu : 1};
	json_t *rules = json_array(), *eps = json_array(), *e;
	size_t i;

	w.v = calloc((size_t)w.ncpu, sizeof(*w.v));
	if (!w.v)
		return 1;
	w.out = rules;
	bl_map_walk(m->names, sizeof(__u32), sizeof(struct bpflet_pol_name), add_rule_name, &w);
	w.out = eps;
	bl_map_walk(m->eps, sizeof(__be32), sizeof(struct bpflet_pol_ep), add_endpoint, &w);
	free(w.v);
	ctl_sort(rules, by_id);
	ctl_sort(eps, by_ip);
	if (c->json) {
		ctl_print_json(json_pack("{s:o, s:o}", "rules", rules, "endpoints", eps));
		return 0;
	}
	printf("%-6s %-50s %12s %14s\n", "ID", "RULE", "PACKETS", "BYTES");
	json_array_foreach(rules, i, e)
		printf("%-6lld %-50s %12lld %14lld\n", json_integer_value(json_object_get(e, "id")),
		       json_string_value(json_object_get(e, "rule")),
		       json_integer_value(json_object_get(e, "packets")),
		       json_integer_value(json_object_get(e, "bytes")));
	printf("\n%-16s %-40s %-8s %s\n", "ENDPOINT", "POD", "INGRESS", "EGRESS");
	json_array_foreach(eps, i, e)
	{
		const char *pod = json_string_value(json_object_get(e, "pod"));

		printf("%-16s %-40s %-8s %s\n", json_string_value(json_object_get(e, "ip")),
		       pod ? pod : "-",
		       json_is_true(json_object_get(e, "ingress_isolated")) ? "isolated" : "open",
		       json_is_true(json_object_get(e, "egress_isolated")) ? "isolated" : "open");
	}
	json_decref(rules);
	json_decref(eps);
	return 0;
}

/* ---- policy get ---- */

struct get_walk {
	const struct pol_maps *m;
	__be32 ep;
	json_t *dirs[2];
	json_t *peers; /* "id" → [cidr...] */
};

static int add_peer_cidr(void *arg, const void *k, const void *val)
{
	struct get_walk *w = arg;
	const struct bpflet_ipcache_key *ik = k;
	const struct bpflet_ipcache_val *iv = val;
	char id[16], ip[INET_ADDRSTRLEN], cidr[24];
	json_t *list, *pod = ik->prefixlen == 32 ? pol_pod_of(w->m, ik->addr) : NULL;

	snprintf(id, sizeof(id), "%u", iv->id);
	list = json_object_get(w->peers, id);
	if (!list) {
		list = json_array();
		json_object_set_new(w->peers, id, list);
	}
	snprintf(cidr, sizeof(cidr), "%s/%u", pol_ip_str(ik->addr, ip), ik->prefixlen);
	json_array_append_new(list, json_string(pod ? json_string_value(pod) : cidr));
	return 0;
}

static int add_peer_host(void *arg, const void *k, const void *val)
{
	struct bpflet_ipcache_key ik = {.prefixlen = 32, .addr = *(const __be32 *)k};

	return add_peer_cidr(arg, &ik, val);
}

static int add_get_rule(void *arg, const void *k, const void *val)
{
	struct get_walk *w = arg;
	const struct bpflet_pol_key *rk = k;
	const struct bpflet_pol_val *rv = val;
	char id[16], name[BPFLET_POL_NAME_LEN + 16], ports[32];
	json_t *peer;

	if (rk->ep_addr != w->ep || rk->dir > BPFLET_POL_EGRESS)
		return 0;
	if (rk->prefixlen <= BPFLET_POL_PLEN_DIR)
		snprintf(ports, sizeof(ports), "any");
	else if (rk->prefixlen <= BPFLET_POL_PLEN_PROTO)
		snprintf(ports, sizeof(ports), "%s/any", bl_proto_name(rk->proto));
	else {
		unsigned bits = rk->prefixlen - BPFLET_POL_PLEN_PROTO;
		unsigned lo = ntohs(rk->port), hi = lo + (1u << (16 - bits)) - 1;

		if (lo == hi)
			snprintf(ports, sizeof(ports), "%s/%u", bl_proto_name(rk->proto), lo);
		else
			snprintf(ports, sizeof(ports), "%s/%u-%u", bl_proto_name(rk->proto), lo,
				 hi);
	}
	snprintf(id, sizeof(id), "%u", rk->peer_id);
	peer = rk->peer_id == BPFLET_POL_PEER_ANY ? json_pack("[s]", "any")
						  : json_deep_copy(json_object_get(w->peers, id));
	json_array_append_new(w->dirs[rk->dir],
			      json_pack("{s:i, s:o, s:s, s:i, s:s}", "peer_id", rk->peer_id, "peer",
					peer ? peer : json_array(), "ports", ports, "rule_id",
					rv->rule_id, "rule",
					pol_rule_name(w->m, rv->rule_id, name, sizeof(name))));
	return 0;
}

static void print_dir(const char *dir, json_t *d)
{
	json_t *r, *p;
	size_t i, j;

	printf("%s: %s\n", dir,
	       json_is_true(json_object_get(d, "isolated")) ? "isolated" : "not isolated");
	json_array_foreach(json_object_get(d, "allow"), i, r)
	{
		printf("  allow %-14s %s ", json_string_value(json_object_get(r, "ports")),
		       !strcmp(dir, "ingress") ? "from" : "to");
		json_array_foreach(json_object_get(r, "peer"), j, p)
			printf("%s%s", j ? "," : "", json_string_value(p));
		printf("  (%s)\n", json_string_value(json_object_get(r, "rule")));
	}
}

static int policy_get(const struct ctl *c, struct pol_maps *m, const char *what)
{
	struct get_walk w = {.m = m, .peers = json_object()};
	struct bpflet_pol_ep e = {0};
	char ip[INET_ADDRSTRLEN];
	json_t *out;

	if (pol_resolve(m, what, &w.ep)) {
		json_decref(w.peers);
		return 1;
	}
	bpf_map_lookup_elem(m->eps, &w.ep, &e);
	w.dirs[0] = json_array();
	w.dirs[1] = json_array();
	bl_map_walk(m->ipc, sizeof(struct bpflet_ipcache_key), sizeof(struct bpflet_ipcache_val),
		    add_peer_cidr, &w);
	bl_map_walk(m->ipch, sizeof(__be32), sizeof(struct bpflet_ipcache_val), add_peer_host, &w);
	bl_map_walk(m->rules, sizeof(struct bpflet_pol_key), sizeof(struct bpflet_pol_val),
		    add_get_rule, &w);
	json_decref(w.peers);
	out = json_pack("{s:s, s:O?, s:{s:b, s:o}, s:{s:b, s:o}}", "ip", pol_ip_str(w.ep, ip),
			"pod", pol_pod_of(m, w.ep), "ingress", "isolated",
			!!(e.flags & BPFLET_POL_EP_ISOLATED_INGRESS), "allow", w.dirs[0], "egress",
			"isolated", !!(e.flags & BPFLET_POL_EP_ISOLATED_EGRESS), "allow",
			w.dirs[1]);
	if (c->json) {
		ctl_print_json(out);
		return 0;
	}
	printf("endpoint %s%s%s\n", ip, json_object_get(out, "pod") ? " " : "",
	       json_object_get(out, "pod") ? json_string_value(json_object_get(out, "pod")) : "");
	print_dir("ingress", json_object_get(out, "ingress"));
	print_dir("egress", json_object_get(out, "egress"));
	json_decref(out);
	return 0;
}

int cmd_policy(const struct ctl *c, int argc, char **argv)
{
	struct pol_maps m;
	int rc = 2;

	if (argc < 1 ||
	    (strcmp(argv[0], "list") && strcmp(argv[0], "get") && strcmp(argv[0], "trace")) ||
	    (!strcmp(argv[0], "get") && argc != 2)) {
		fprintf(stderr,
			"bpfletctl: usage: policy list | policy get NS/POD|IP | policy trace "
			"--from NS/POD|IP --to NS/POD|IP|CLUSTERIP[:PORT[/PROTO]] [--backend "
			"IP|NS/POD]\n");
		return 2;
	}
	if (pol_maps_open(c, &m)) {
		pol_maps_close(&m);
		return 1;
	}
	if (!strcmp(argv[0], "list"))
		rc = policy_list(c, &m);
	else if (!strcmp(argv[0], "get"))
		rc = policy_get(c, &m, argv[1]);
	else
		rc = pol_trace(c, &m, argc, argv);
	pol_maps_close(&m);
	return rc;
}
