/* bpfletctl backend list: every backend with the services whose slots point at it,
 * so a backend nobody uses (or a service slot pointing nowhere) stands out. */
#include "tools/bpfletctl/ctl.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct be_walk {
	int name_fd;
	json_t *by_id; /* "id" → backend object */
};

static int add_backend(void *arg, const void *k, const void *v)
{
	const struct bpflet_backend *be = v;
	struct be_walk *w = arg;
	char ip[80], id[16];

	ctl_endpoint(&be->addr, be->family, 0, ip, sizeof(ip));
	*strrchr(ip, ':') = '\0';
	snprintf(id, sizeof(id), "%u", *(const __u32 *)k);
	json_object_set_new(w->by_id, id,
			    json_pack("{s:i, s:s, s:i, s:s, s:s, s:b, s:i, s:[]}", "id",
				      *(const __u32 *)k, "ip", ip, "port", ntohs(be->port),
				      "protocol", bl_proto_name(be->proto), "state",
				      be->state == BPFLET_BE_TERMINATING ? "terminating" : "active",
				      "local", !!(be->flags & BPFLET_BE_F_LOCAL), "zone", be->zone,
				      "services"));
	return 0;
}

/* Each slot names one service; a backend lists each service once. */
static int add_slot(void *arg, const void *k, const void *v)
{
	const struct bpflet_slot_key *sk = k;
	struct be_walk *w = arg;
	struct bpflet_svc_name nm = {0};
	char id[16];
	json_t *be, *svcs, *s;
	size_t i;

	snprintf(id, sizeof(id), "%u", *(const __u32 *)v);
	be = json_object_get(w->by_id, id);
	if (!be)
		return 0;
	bpf_map_lookup_elem(w->name_fd, &sk->svc_id, &nm);
	nm.name[sizeof(nm.name) - 1] = '\0';
	svcs = json_object_get(be, "services");
	json_array_foreach(svcs, i, s) if (!strcmp(json_string_value(s), nm.name)) return 0;
	json_array_append_new(svcs, json_string(nm.name));
	return 0;
}

static void print_table(json_t *arr)
{
	size_t i, j;
	json_t *b, *s;

	printf("%-6s %-22s %-5s %-11s %-5s %s\n", "ID", "BACKEND", "PROTO", "STATE", "LOCAL",
	       "SERVICES");
	json_array_foreach(arr, i, b)
	{
		char ep[64];

		snprintf(ep, sizeof(ep), "%s:%lld", json_string_value(json_object_get(b, "ip")),
			 json_integer_value(json_object_get(b, "port")));
		printf("%-6lld %-22s %-5s %-11s %-5s ",
		       json_integer_value(json_object_get(b, "id")), ep,
		       json_string_value(json_object_get(b, "protocol")),
		       json_string_value(json_object_get(b, "state")),
		       json_is_true(json_object_get(b, "local")) ? "yes" : "no");
		json_array_foreach(json_object_get(b, "services"), j, s)
			printf("%s%s", j ? ", " : "", json_string_value(s));
		printf("\n");
	}
}

int cmd_backend(const struct ctl *c, int argc, char **argv)
{
	struct be_walk w = {.name_fd = -1, .by_id = json_object()};
	int be_fd, slot_fd = -1, rc = 1;

	if (argc < 1 || strcmp(argv[0], "list")) {
		fprintf(stderr, "bpfletctl: usage: backend list\n");
		json_decref(w.by_id);
		return 2;
	}
	be_fd = ctl_map_open(c, BPFLET_MAP_BACKENDS);
	if (be_fd >= 0)
		slot_fd = ctl_map_open(c, BPFLET_MAP_SLOTS);
	if (slot_fd >= 0)
		w.name_fd = ctl_map_open(c, BPFLET_MAP_SVC_NAMES);
	if (be_fd >= 0 && slot_fd >= 0 && w.name_fd >= 0) {
		const char *key;
		json_t *arr = json_array(), *b;

		bl_map_walk(be_fd, sizeof(__u32), sizeof(struct bpflet_backend), add_backend, &w);
		bl_map_walk(slot_fd, sizeof(struct bpflet_slot_key), sizeof(__u32), add_slot, &w);
		json_object_foreach(w.by_id, key, b) json_array_append(arr, b);
		ctl_sort(arr, ctl_by_id);
		if (c->json)
			ctl_print_json(arr);
		else {
			print_table(arr);
			json_decref(arr);
		}
		rc = 0;
	}
	json_decref(w.by_id);
	ctl_close_all((int[]){be_fd, slot_fd, w.name_fd}, 3);
	return rc;
}
