/* bpfletctl service list: frontends → slots → backends, straight from the maps. */
#include "tools/bpfletctl/ctl.h"

#include <bpflet/monitor_abi.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct svc_walk {
	int slot_fd, be_fd, name_fd;
	json_t *out;
	/* service get */
	const char *want;
	int svcst_fd, best_fd;
	json_t *bes_by_id; /* "id" → backend object */
};

static json_t *counter_json(int fd, __u32 id)
{
	struct bpflet_counter_val v = {0};

	ctl_percpu_sum(fd, id, &v);
	return json_pack("{s:I, s:I}", "packets", (json_int_t)v.packets, "bytes",
			 (json_int_t)v.bytes);
}

/* service get: one frontend of the wanted Service with its counters; its backends
 * gathered once each across the Service's frontends */
static int add_get_frontend(void *arg, const void *k, const void *v)
{
	const struct bpflet_fe_key *key = k;
	const struct bpflet_fe_val *val = v;
	struct svc_walk *w = arg;
	char name[BPFLET_SVC_NAME_LEN], ip[80], fe[96];
	json_t *ids = json_array(), *o;

	ctl_svc_name(w->name_fd, val->svc_id, name, sizeof(name));
	if (!ctl_name_matches(name, w->want)) {
		json_decref(ids);
		return 0;
	}
	ctl_endpoint(&key->addr, key->family, 0, ip, sizeof(ip));
	*strrchr(ip, ':') = '\0';
	snprintf(fe, sizeof(fe), "%s:%u/%s", ip, ntohs(key->port), bl_proto_name(key->proto));
	for (unsigned i = 0; i < val->count; i++) {
		struct bpflet_slot_key sk = {.svc_id = val->svc_id, .slot = i};
		struct bpflet_backend be;
		char id_s[16], bip[80];
		__u32 id;
		json_t *b;

		if (bpf_map_lookup_elem(w->slot_fd, &sk, &id) ||
		    bpf_map_lookup_elem(w->be_fd, &id, &be)) {
			json_array_append_new(ids, json_null()); /* slot or backend missing */
			continue;
		}
		json_array_append_new(ids, json_integer(id));
		snprintf(id_s, sizeof(id_s), "%u", id);
		b = json_object_get(w->bes_by_id, id_s);
		if (!b) {
			ctl_endpoint(&be.addr, be.family, 0, bip, sizeof(bip));
			*strrchr(bip, ':') = '\0';
			b = json_pack("{s:i, s:s, s:i, s:s, s:s, s:b, s:i, s:o, s:[]}", "id", id,
				      "ip", bip, "port", ntohs(be.port), "protocol",
				      bl_proto_name(be.proto), "state",
				      be.state == BPFLET_BE_TERMINATING ? "terminating" : "active",
				      "local", !!(be.flags & BPFLET_BE_F_LOCAL), "zone", be.zone,
				      "counters", counter_json(w->best_fd, id), "frontends");
			json_object_set_new(w->bes_by_id, id_s, b);
		}
		json_array_append_new(json_object_get(b, "frontends"), json_string(fe));
	}
	o = json_pack("{s:s, s:i, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:b, s:o, s:o}",
		      "name", name, "svc_id", val->svc_id, "ip", ip, "port", ntohs(key->port),
		      "protocol", bl_proto_name(key->proto), "scope",
		      key->scope == BPFLET_SCOPE_INTERNAL ? "internal" : "external", "algorithm",
		      val->flags & BPFLET_FE_F_MAGLEV ? "maglev" : "random", "traffic_policy",
		      val->flags & BPFLET_FE_F_POLICY_LOCAL ? "Local" : "Cluster", "affinity",
		      val->flags & BPFLET_FE_F_AFFINITY ? "ClientIP" : "None", "affinity_timeout",
		      val->affinity_timeout, "no_local_endpoints",
		      !!(val->flags & BPFLET_FE_F_NO_LOCAL_DROP), "source_ranges",
		      !!(val->flags & BPFLET_FE_F_SRC_RANGES), "counters",
		      counter_json(w->svcst_fd, val->svc_id), "backend_ids", ids);
	json_object_set_new(o, "flags", json_integer(val->flags)); /* BPFLET_FE_F_*, raw */
	json_array_append_new(w->out, o);
	return 0;
}

static int add_service(void *arg, const void *k, const void *v)
{
	const struct bpflet_fe_key *key = k;
	const struct bpflet_fe_val *val = v;
	struct svc_walk *w = arg;
	struct bpflet_svc_name nm = {0};
	char ip[64], buf[80];
	json_t *bes = json_array();

	bpf_map_lookup_elem(w->name_fd, &val->svc_id, &nm);
	nm.name[sizeof(nm.name) - 1] = '\0';
	for (unsigned i = 0; i < val->count; i++) {
		struct bpflet_slot_key sk = {.svc_id = val->svc_id, .slot = i};
		struct bpflet_backend be;
		__u32 id;

		if (bpf_map_lookup_elem(w->slot_fd, &sk, &id) ||
		    bpf_map_lookup_elem(w->be_fd, &id, &be)) {
			json_array_append_new(bes, json_pack("{s:i, s:s}", "slot", i, "error",
							     "missing slot or backend"));
			continue;
		}
		ctl_endpoint(&be.addr, be.family, 0, ip, sizeof(ip));
		*strrchr(ip, ':') = '\0';
		json_array_append_new(
			bes, json_pack("{s:i, s:s, s:i, s:s, s:s, s:b}", "id", id, "ip", ip, "port",
				       ntohs(be.port), "protocol", bl_proto_name(be.proto), "state",
				       be.state == BPFLET_BE_TERMINATING ? "terminating" : "active",
				       "local", !!(be.flags & BPFLET_BE_F_LOCAL)));
	}
	ctl_endpoint(&key->addr, key->family, 0, buf, sizeof(buf));
	*strrchr(buf, ':') = '\0';
	json_array_append_new(
		w->out,
		json_pack("{s:s, s:i, s:{s:s, s:i, s:s, s:s}, s:s, s:s, s:s, s:i, s:b, s:o}",
			  "name", nm.name, "svc_id", val->svc_id, "frontend", "ip", buf, "port",
			  ntohs(key->port), "protocol", bl_proto_name(key->proto), "scope",
			  key->scope == BPFLET_SCOPE_INTERNAL ? "internal" : "external",
			  "algorithm", val->flags & BPFLET_FE_F_MAGLEV ? "maglev" : "random",
			  "traffic_policy",
			  val->flags & BPFLET_FE_F_POLICY_LOCAL ? "Local" : "Cluster", "affinity",
			  val->flags & BPFLET_FE_F_AFFINITY ? "ClientIP" : "None",
			  "affinity_timeout", val->affinity_timeout, "no_local_endpoints",
			  !!(val->flags & BPFLET_FE_F_NO_LOCAL_DROP), "backends", bes));
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(json_string_value(json_object_get(x, "name")),
		       json_string_value(json_object_get(y, "name")));

	return c ? c
		 : (int)json_integer_value(json_object_get(x, "svc_id")) -
			       (int)json_integer_value(json_object_get(y, "svc_id"));
}

static void print_table(json_t *svcs)
{
	size_t i;
	json_t *s;

	printf("%-36s %-22s %-5s %-8s %-6s %-8s %-7s %s\n", "SERVICE", "FRONTEND", "PROTO", "SCOPE",
	       "LB", "AFFINITY", "POLICY", "BACKENDS");
	json_array_foreach(svcs, i, s)
	{
		json_t *fe = json_object_get(s, "frontend"), *bes = json_object_get(s, "backends"),
		       *b;
		char front[64];
		size_t j;

		snprintf(front, sizeof(front), "%s:%lld",
			 json_string_value(json_object_get(fe, "ip")),
			 json_integer_value(json_object_get(fe, "port")));
		printf("%-36s %-22s %-5s %-8s %-6s %-8s %-7s ",
		       json_string_value(json_object_get(s, "name")), front,
		       json_string_value(json_object_get(fe, "protocol")),
		       json_string_value(json_object_get(fe, "scope")),
		       json_string_value(json_object_get(s, "algorithm")),
		       json_string_value(json_object_get(s, "affinity")),
		       json_string_value(json_object_get(s, "traffic_policy")));
		if (json_array_size(bes) == 0)
			printf("(none: rejected)");
		json_array_foreach(bes, j, b)
		{
			const char *st = json_string_value(json_object_get(b, "state"));

			printf("%s%s:%lld%s%s", j ? ", " : "",
			       json_string_value(json_object_get(b, "ip")),
			       json_integer_value(json_object_get(b, "port")),
			       st && !strcmp(st, "terminating") ? " (terminating)" : "",
			       json_is_true(json_object_get(b, "local")) ? " (local)" : "");
		}
		printf("\n");
	}
}

static int by_port(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(json_string_value(json_object_get(x, "name")),
		       json_string_value(json_object_get(y, "name")));

	if (!c)
		c = strcmp(json_string_value(json_object_get(x, "scope")),
			   json_string_value(json_object_get(y, "scope")));
	return c ? c
		 : (int)json_integer_value(json_object_get(x, "svc_id")) -
			       (int)json_integer_value(json_object_get(y, "svc_id"));
}

static void print_get(json_t *svc)
{
	json_t *f, *b;
	size_t i;

	printf("Service %s\n\n", json_string_value(json_object_get(svc, "service")));
	printf("%-28s %-24s %-8s %-6s %-8s %-7s %12s %14s\n", "PORT", "FRONTEND", "SCOPE", "LB",
	       "AFFINITY", "POLICY", "PACKETS", "BYTES");
	json_array_foreach(json_object_get(svc, "frontends"), i, f)
	{
		json_t *cnt = json_object_get(f, "counters");
		char front[64];

		snprintf(front, sizeof(front), "%s:%lld/%s",
			 json_string_value(json_object_get(f, "ip")),
			 json_integer_value(json_object_get(f, "port")),
			 json_string_value(json_object_get(f, "protocol")));
		printf("%-28s %-24s %-8s %-6s %-8s %-7s %12lld %14lld\n",
		       json_string_value(json_object_get(f, "name")), front,
		       json_string_value(json_object_get(f, "scope")),
		       json_string_value(json_object_get(f, "algorithm")),
		       json_string_value(json_object_get(f, "affinity")),
		       json_string_value(json_object_get(f, "traffic_policy")),
		       json_integer_value(json_object_get(cnt, "packets")),
		       json_integer_value(json_object_get(cnt, "bytes")));
	}
	printf("\n%-7s %-24s %-11s %-5s %-5s %12s %14s\n", "ID", "BACKEND", "STATE", "LOCAL",
	       "ZONE", "PACKETS", "BYTES");
	if (!json_array_size(json_object_get(svc, "backends")))
		printf("(none: new connections are rejected)\n");
	json_array_foreach(json_object_get(svc, "backends"), i, b)
	{
		json_t *cnt = json_object_get(b, "counters");
		char ep[64];

		snprintf(ep, sizeof(ep), "%s:%lld/%s", json_string_value(json_object_get(b, "ip")),
			 json_integer_value(json_object_get(b, "port")),
			 json_string_value(json_object_get(b, "protocol")));
		printf("%-7lld %-24s %-11s %-5s %-5lld %12lld %14lld\n",
		       json_integer_value(json_object_get(b, "id")), ep,
		       json_string_value(json_object_get(b, "state")),
		       json_is_true(json_object_get(b, "local")) ? "yes" : "no",
		       json_integer_value(json_object_get(b, "zone")),
		       json_integer_value(json_object_get(cnt, "packets")),
		       json_integer_value(json_object_get(cnt, "bytes")));
	}
}

/* service get NS/NAME[:PORT]: every frontend of the Service (ClusterIP, NodePort, ...)
 * with its settings and counters, and its backends with state, locality and counters */
static int service_get(const struct ctl *c, const char *want)
{
	struct svc_walk w = {.want = want,
			     .slot_fd = -1,
			     .be_fd = -1,
			     .name_fd = -1,
			     .svcst_fd = -1,
			     .best_fd = -1};
	int fds[6], rc = 1;
	const char *k;
	json_t *b;

	fds[0] = ctl_map_open(c, BPFLET_MAP_FRONTENDS);
	fds[1] = fds[0] >= 0 ? ctl_map_open(c, BPFLET_MAP_SLOTS) : -1;
	fds[2] = fds[1] >= 0 ? ctl_map_open(c, BPFLET_MAP_BACKENDS) : -1;
	fds[3] = fds[2] >= 0 ? ctl_map_open(c, BPFLET_MAP_SVC_NAMES) : -1;
	fds[4] = fds[3] >= 0 ? ctl_map_open(c, BPFLET_MAP_SVC_STATS) : -1;
	fds[5] = fds[4] >= 0 ? ctl_map_open(c, BPFLET_MAP_BE_STATS) : -1;
	if (fds[5] < 0 || !ctl_service_known(c, fds[3], want)) {
		ctl_close_all(fds, 6);
		return 1;
	}
	w.slot_fd = fds[1];
	w.be_fd = fds[2];
	w.name_fd = fds[3];
	w.svcst_fd = fds[4];
	w.best_fd = fds[5];
	w.out = json_array();
	w.bes_by_id = json_object();
	bl_map_walk(fds[0], sizeof(struct bpflet_fe_key), sizeof(struct bpflet_fe_val),
		    add_get_frontend, &w);
	ctl_close_all(fds, 6);
	if (json_array_size(w.out)) {
		json_t *bes = json_array(), *svc;

		json_object_foreach(w.bes_by_id, k, b) json_array_append(bes, b);
		ctl_sort(w.out, by_port);
		ctl_sort(bes, ctl_by_id);
		svc = json_pack("{s:s, s:o, s:o}", "service", want, "frontends", w.out, "backends",
				bes);
		if (c->json) {
			ctl_print_json(svc);
		} else {
			print_get(svc);
			json_decref(svc);
		}
		rc = 0;
	} else {
		json_decref(w.out);
		fprintf(stderr, "bpfletctl: service %s has no frontend in instance '%s'\n", want,
			c->instance);
	}
	json_decref(w.bes_by_id);
	return rc;
}

int cmd_service(const struct ctl *c, int argc, char **argv)
{
	struct svc_walk w = {.out = json_array()};
	int fe_fd, rc = 1;

	if (argc == 2 && !strcmp(argv[0], "get")) {
		json_decref(w.out);
		return service_get(c, argv[1]);
	}
	if (argc != 1 || strcmp(argv[0], "list")) {
		fprintf(stderr,
			"bpfletctl: usage: service list | service get NAMESPACE/NAME[:PORT]\n");
		json_decref(w.out);
		return 2;
	}
	/* stop at the first missing map: one clear error, not four */
	w.slot_fd = w.be_fd = w.name_fd = -1;
	fe_fd = ctl_map_open(c, BPFLET_MAP_FRONTENDS);
	if (fe_fd >= 0)
		w.slot_fd = ctl_map_open(c, BPFLET_MAP_SLOTS);
	if (w.slot_fd >= 0)
		w.be_fd = ctl_map_open(c, BPFLET_MAP_BACKENDS);
	if (w.be_fd >= 0)
		w.name_fd = ctl_map_open(c, BPFLET_MAP_SVC_NAMES);
	if (fe_fd >= 0 && w.slot_fd >= 0 && w.be_fd >= 0 && w.name_fd >= 0) {
		bl_map_walk(fe_fd, sizeof(struct bpflet_fe_key), sizeof(struct bpflet_fe_val),
			    add_service, &w);
		ctl_sort(w.out, by_name);
		if (c->json) {
			ctl_print_json(w.out);
			w.out = NULL;
		} else {
			print_table(w.out);
		}
		rc = 0;
	}
	json_decref(w.out);
	ctl_close_all((int[]){fe_fd, w.slot_fd, w.be_fd, w.name_fd}, 4);
	return rc;
}
