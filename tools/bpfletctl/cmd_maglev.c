/* bpfletctl maglev show SERVICE: a frontend's Maglev table as each backend's share,
 * read from the pinned table (optionally every entry). */
#include "tools/bpfletctl/ctl.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mg_walk {
	const char *want; /* "ns/name" or "ns/name:port" */
	bool entries;
	int mg_fd, be_fd, name_fd;
	json_t *out;
	int err;
};

struct share {
	uint32_t id;
	unsigned slots;
};

static int share_cmp(const void *a, const void *b)
{
	const struct share *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static json_t *table_json(struct mg_walk *w, const struct bpflet_fe_val *val, uint32_t m)
{
	struct share *sh = calloc(val->count ? val->count + 1u : 1u, sizeof(*sh));
	json_t *entries = w->entries ? json_array() : NULL, *bes = json_array();
	size_t n = 0, cap = val->count + 1u;

	for (uint32_t i = 0; sh && i < m; i++) {
		uint32_t key = val->maglev_base + i, id = 0;
		size_t j;

		if (bpf_map_lookup_elem(w->mg_fd, &key, &id)) {
			w->err = 1;
			break;
		}
		if (entries)
			json_array_append_new(entries, json_integer(id));
		for (j = 0; j < n && sh[j].id != id; j++)
			;
		if (j == n) {
			if (n == cap)
				continue; /* more ids than backends: counted as an error below */
			sh[n++].id = id;
		}
		sh[j].slots++;
	}
	if (sh)
		qsort(sh, n, sizeof(*sh), share_cmp);
	for (size_t j = 0; sh && j < n; j++) {
		struct bpflet_backend be;
		char ep[80] = "?";

		if (!bpf_map_lookup_elem(w->be_fd, &sh[j].id, &be))
			ctl_endpoint(&be.addr, be.family, be.port, ep, sizeof(ep));
		json_array_append_new(bes, json_pack("{s:i, s:s, s:i, s:f}", "id", sh[j].id,
						     "endpoint", ep, "slots", sh[j].slots, "share",
						     (double)sh[j].slots / m));
	}
	free(sh);
	json_t *o =
		json_pack("{s:i, s:i, s:o}", "size", m, "base", val->maglev_base, "backends", bes);
	if (entries)
		json_object_set_new(o, "entries", entries);
	return o;
}

static int add_frontend(void *arg, const void *k, const void *v)
{
	const struct bpflet_fe_key *key = k;
	const struct bpflet_fe_val *val = v;
	struct mg_walk *w = arg;
	struct bpflet_svc_name nm = {0};
	char fe[80];
	json_t *o;

	bpf_map_lookup_elem(w->name_fd, &val->svc_id, &nm);
	nm.name[sizeof(nm.name) - 1] = '\0';
	if (!ctl_name_matches(nm.name, w->want))
		return 0;
	ctl_endpoint(&key->addr, key->family, key->port, fe, sizeof(fe));
	o = json_pack("{s:s, s:s, s:s, s:i}", "name", nm.name, "frontend", fe, "protocol",
		      bl_proto_name(key->proto), "svc_id", val->svc_id);
	if (val->flags & BPFLET_FE_F_MAGLEV) {
		uint32_t m = val->flags & BPFLET_FE_F_MAGLEV_LARGE ? BPFLET_MAGLEV_M_LARGE
								   : BPFLET_MAGLEV_M;

		json_object_set_new(o, "algorithm", json_string("maglev"));
		json_object_set_new(o, "table", table_json(w, val, m));
	} else {
		json_object_set_new(o, "algorithm", json_string("random"));
	}
	json_array_append_new(w->out, o);
	return 0;
}

static void print_table(json_t *arr)
{
	size_t i, j;
	json_t *f, *b;

	json_array_foreach(arr, i, f)
	{
		json_t *t = json_object_get(f, "table");

		printf("%s %s/%s: %s", json_string_value(json_object_get(f, "name")),
		       json_string_value(json_object_get(f, "frontend")),
		       json_string_value(json_object_get(f, "protocol")),
		       json_string_value(json_object_get(f, "algorithm")));
		if (!t) {
			printf(" (no table)\n");
			continue;
		}
		printf(", M=%lld at entry %lld\n", json_integer_value(json_object_get(t, "size")),
		       json_integer_value(json_object_get(t, "base")));
		printf("  %-10s %-24s %8s %7s\n", "ID", "BACKEND", "SLOTS", "SHARE");
		json_array_foreach(json_object_get(t, "backends"), j, b)
			printf("  %-10lld %-24s %8lld %6.2f%%\n",
			       json_integer_value(json_object_get(b, "id")),
			       json_string_value(json_object_get(b, "endpoint")),
			       json_integer_value(json_object_get(b, "slots")),
			       100 * json_real_value(json_object_get(b, "share")));
	}
}

int cmd_maglev(const struct ctl *c, int argc, char **argv)
{
	struct mg_walk w = {.out = json_array(), .mg_fd = -1, .be_fd = -1, .name_fd = -1};
	int fe_fd, rc = 1;

	if (argc < 2 || strcmp(argv[0], "show") ||
	    (argc > 2 && (argc != 3 || strcmp(argv[2], "--entries")))) {
		fprintf(stderr,
			"bpfletctl: usage: maglev show NAMESPACE/NAME[:PORT] [--entries]\n");
		json_decref(w.out);
		return 2;
	}
	w.want = argv[1];
	w.entries = argc == 3;
	fe_fd = ctl_map_open(c, BPFLET_MAP_FRONTENDS);
	if (fe_fd >= 0)
		w.mg_fd = ctl_map_open(c, BPFLET_MAP_MAGLEV);
	if (w.mg_fd >= 0)
		w.be_fd = ctl_map_open(c, BPFLET_MAP_BACKENDS);
	if (w.be_fd >= 0)
		w.name_fd = ctl_map_open(c, BPFLET_MAP_SVC_NAMES);
	if (w.name_fd >= 0) {
		bl_map_walk(fe_fd, sizeof(struct bpflet_fe_key), sizeof(struct bpflet_fe_val),
			    add_frontend, &w);
		if (!json_array_size(w.out)) {
			fprintf(stderr, "bpfletctl: no frontend of service %s\n", w.want);
		} else if (c->json) {
			ctl_print_json(w.out);
			w.out = NULL;
			rc = w.err;
		} else {
			print_table(w.out);
			rc = w.err;
		}
	}
	json_decref(w.out);
	ctl_close_all((int[]){fe_fd, w.mg_fd, w.be_fd, w.name_fd}, 4);
	return rc;
}
