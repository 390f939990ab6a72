/* bpfletctl counters: the per-CPU counters summed, per reason (bl_cnt_v1), per Service
 * frontend (bl_svcst_v1 by svc_id) and per backend (bl_best_v1 by backend id). */
#include "tools/bpfletctl/ctl.h"
#include "agent/common/maps_util.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpflet/monitor_abi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum by { BY_REASON = 1, BY_SERVICE = 2, BY_BACKEND = 4, BY_ALL = 7 };

static json_t *reasons(const struct ctl *c)
{
	int fd = ctl_map_open(c, BPFLET_MAP_COUNTERS);
	json_t *out;

	if (fd < 0)
		return NULL;
	out = json_array();
	for (__u32 i = 0; i < BPFLET_CNT_MAX; i++) {
		struct bpflet_counter_val v;

		if (ctl_percpu_sum(fd, i, &v))
			continue;
		json_array_append_new(
			out, json_pack("{s:s, s:I, s:I}", "reason", bl_counter_name(i), "packets",
				       (json_int_t)v.packets, "bytes", (json_int_t)v.bytes));
	}
	close(fd);
	return out;
}

struct svc_walk {
	int name_fd, st_fd;
	json_t *out;
};

/* one row per frontend: its svc_id names its counters */
static int add_frontend(void *arg, const void *k, const void *v)
{
	const struct bpflet_fe_key *key = k;
	const struct bpflet_fe_val *val = v;
	struct svc_walk *w = arg;
	struct bpflet_counter_val cnt = {0};
	char name[BPFLET_SVC_NAME_LEN], fe[80];

	ctl_svc_name(w->name_fd, val->svc_id, name, sizeof(name));
	ctl_endpoint(&key->addr, key->family, key->port, fe, sizeof(fe));
	ctl_percpu_sum(w->st_fd, val->svc_id, &cnt);
	json_array_append_new(
		w->out,
		json_pack("{s:s, s:i, s:s, s:s, s:s, s:I, s:I}", "service", name, "svc_id",
			  val->svc_id, "frontend", fe, "protocol", bl_proto_name(key->proto),
			  "scope", key->scope == BPFLET_SCOPE_INTERNAL ? "internal" : "external",
			  "packets", (json_int_t)cnt.packets, "bytes", (json_int_t)cnt.bytes));
	return 0;
}

static int by_service(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int r = strcmp(json_string_value(json_object_get(x, "service")),
		       json_string_value(json_object_get(y, "service")));

	return r ? r
		 : (int)(json_integer_value(json_object_get(x, "svc_id")) -
			 json_integer_value(json_object_get(y, "svc_id")));
}

static json_t *services(const struct ctl *c)
{
	struct svc_walk w = {.name_fd = -1, .st_fd = -1};
	int fe_fd = ctl_map_open(c, BPFLET_MAP_FRONTENDS);

	if (fe_fd >= 0)
		w.name_fd = ctl_map_open(c, BPFLET_MAP_SVC_NAMES);
	if (w.name_fd >= 0)
		w.st_fd = ctl_map_open(c, BPFLET_MAP_SVC_STATS);
	if (w.st_fd >= 0) {
		w.out = json_array();
		bl_map_walk(fe_fd, sizeof(struct bpflet_fe_key), sizeof(struct bpflet_fe_val),
			    add_frontend, &w);
		ctl_sort(w.out, by_service);
	}
	ctl_close_all((int[]){fe_fd, w.name_fd, w.st_fd}, 3);
	return w.out;
}

struct be_walk {
	int st_fd;
	json_t *out;
};

static int add_backend(void *arg, const void *k, const void *v)
{
	const struct bpflet_backend *be = v;
	struct be_walk *w = arg;
	struct bpflet_counter_val cnt = {0};
	__u32 id = *(const __u32 *)k;
	char ep[80];

	ctl_endpoint(&be->addr, be->family, be->port, ep, sizeof(ep));
	ctl_percpu_sum(w->st_fd, id, &cnt);
	json_array_append_new(w->out,
			      json_pack("{s:i, s:s, s:s, s:I, s:I}", "id", id, "backend", ep,
					"protocol", bl_proto_name(be->proto), "packets",
					(json_int_t)cnt.packets, "bytes", (json_int_t)cnt.bytes));
	return 0;
}

static json_t *backends(const struct ctl *c)
{
	struct be_walk w = {.st_fd = -1};
	int be_fd = ctl_map_open(c, BPFLET_MAP_BACKENDS);

	if (be_fd >= 0)
		w.st_fd = ctl_map_open(c, BPFLET_MAP_BE_STATS);
	if (w.st_fd >= 0) {
		w.out = json_array();
		bl_map_walk(be_fd, sizeof(__u32), sizeof(struct bpflet_backend), add_backend, &w);
		ctl_sort(w.out, ctl_by_id);
	}
	ctl_close_all((int[]){be_fd, w.st_fd}, 2);
	return w.out;
}

static void print_section(json_t *arr, const char *title, const char *key, bool id_col)
{
	size_t i;
	json_t *e;

	printf("%s%-40s %14s %16s\n", id_col ? "ID      " : "", title, "PACKETS", "BYTES");
	json_array_foreach(arr, i, e)
	{
		char label[192];

		if (!strcmp(key, "service"))
			snprintf(label, sizeof(label), "%s %s/%s",
				 json_string_value(json_object_get(e, "service")),
				 json_string_value(json_object_get(e, "frontend")),
				 json_string_value(json_object_get(e, "protocol")));
		else if (!strcmp(key, "backend"))
			snprintf(label, sizeof(label), "%s/%s",
				 json_string_value(json_object_get(e, key)),
				 json_string_value(json_object_get(e, "protocol")));
		else
			snprintf(label, sizeof(label), "%s",
				 json_string_value(json_object_get(e, key)));
		if (id_col)
			printf("%-7lld ", json_integer_value(json_object_get(e, "id")));
		printf("%-40s %14lld %16lld\n", label,
		       json_integer_value(json_object_get(e, "packets")),
		       json_integer_value(json_object_get(e, "bytes")));
	}
}

int cmd_counters(const struct ctl *c, int argc, char **argv)
{
	/* -o json without --by keeps its first form (the reasons array) for scripts */
	int by = c->json ? BY_REASON : BY_ALL, rc = 0;
	json_t *r = NULL, *s = NULL, *b = NULL;

	if (argc == 2 && !strcmp(argv[0], "--by")) {
		by = !strcmp(argv[1], "reason")	   ? BY_REASON
		     : !strcmp(argv[1], "service") ? BY_SERVICE
		     : !strcmp(argv[1], "backend") ? BY_BACKEND
		     : !strcmp(argv[1], "all")	   ? BY_ALL
						   : 0;
	} else if (argc != 0) {
		by = 0;
	}
	if (!by) {
		fprintf(stderr, "bpfletctl: usage: counters [--by reason|service|backend|all]\n");
		return 2;
	}
	if ((by & BY_REASON) && !(r = reasons(c)))
		rc = 1;
	if (!rc && (by & BY_SERVICE) && !(s = services(c)))
		rc = 1;
	if (!rc && (by & BY_BACKEND) && !(b = backends(c)))
		rc = 1;
	if (rc) {
		json_decref(r);
		json_decref(s);
		return rc;
	}
	if (c->json) {
		if (by == BY_ALL)
			ctl_print_json(json_pack("{s:o, s:o, s:o}", "reasons", r, "services", s,
						 "backends", b));
		else
			ctl_print_json(r ? r : s ? s : b);
		return 0;
	}
	if (r)
		print_section(r, "REASON", "reason", false);
	if (s) {
		if (r)
			putchar('\n');
		print_section(s, "SERVICE FRONTEND", "service", false);
	}
	if (b) {
		if (r || s)
			putchar('\n');
		print_section(b, "BACKEND", "backend", true);
	}
	json_decref(r);
	json_decref(s);
	json_decref(b);
	return 0;
}
