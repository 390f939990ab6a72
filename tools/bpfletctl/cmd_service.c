/* bpfletctl service list: frontends → slots → backends, straight from the maps. */
#include "tools/bpfletctl/ctl.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct svc_walk {
	int slot_fd, be_fd, name_fd;
	json_t *out;
};

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

static json_t *sorted(json_t *arr)
{
	size_t n = json_array_size(arr);
	json_t **items = calloc(n ? n : 1, sizeof(*items)), *out = json_array();

	for (size_t i = 0; i < n; i++)
		items[i] = json_array_get(arr, i);
	qsort(items, n, sizeof(*items), by_name);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, items[i]);
	free(items);
	json_decref(arr);
	return out;
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

int cmd_service(const struct ctl *c, int argc, char **argv)
{
	struct svc_walk w = {.out = json_array()};
	int fe_fd, rc = 1;

	if (argc < 1 || strcmp(argv[0], "list")) {
		fprintf(stderr, "bpfletctl: usage: service list\n");
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
		w.out = sorted(w.out);
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
