/* bpfletctl nat list: every translated flow once, as client → frontend ⇒ backend
 * (from the forward conntrack entries); conntrack flush [--service SVC]: delete flows,
 * all or those of one Service, so their next packet picks a backend afresh. */
#include "tools/bpfletctl/ctl.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nat_walk {
	int name_fd;
	json_t *out;
};

static int add_nat(void *arg, const void *k, const void *v)
{
	const struct bpflet_ct_key *key = k;
	const struct bpflet_ct_val *val = v;
	struct nat_walk *w = arg;
	char client[80], fe[80], be[80], name[BPFLET_SVC_NAME_LEN];
	json_t *e;

	if (val->dir != BPFLET_CT_FORWARD || val->svc_id == 0) /* 0: a policy pass entry */
		return 0;
	ctl_endpoint(&key->saddr, key->family, key->sport, client, sizeof(client));
	ctl_endpoint(&key->daddr, key->family, key->dport, fe, sizeof(fe));
	ctl_endpoint(&val->nat_addr, key->family, val->nat_port, be, sizeof(be));
	ctl_svc_name(w->name_fd, val->svc_id, name, sizeof(name));
	e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i}", "protocol", bl_proto_name(key->proto),
		      "service", name, "client", client, "frontend", fe, "backend", be, "svc_id",
		      val->svc_id, "backend_id", val->backend_id);
	if (val->flags & BPFLET_CT_F_HAIRPIN) {
		char hp[80];

		ctl_endpoint(&val->hairpin_addr, key->family, 0, hp, sizeof(hp));
		*strrchr(hp, ':') = '\0';
		json_object_set_new(e, "snat", json_string(hp));
	}
	json_array_append_new(w->out, e);
	return 0;
}

int cmd_nat(const struct ctl *c, int argc, char **argv)
{
	struct nat_walk w = {.out = json_array(), .name_fd = -1};
	int fds[2] = {-1, -1};
	size_t i;
	json_t *e;

	if (argc != 1 || strcmp(argv[0], "list")) {
		fprintf(stderr, "bpfletctl: usage: nat list\n");
		json_decref(w.out);
		return 2;
	}
	fds[0] = ctl_map_open(c, BPFLET_MAP_CT_TCP);
	if (fds[0] >= 0)
		fds[1] = ctl_map_open(c, BPFLET_MAP_CT_ANY);
	if (fds[1] >= 0)
		w.name_fd = ctl_map_open(c, BPFLET_MAP_SVC_NAMES);
	if (w.name_fd < 0) {
		ctl_close_all(fds, 2);
		json_decref(w.out);
		return 1;
	}
	for (int m = 0; m < 2; m++)
		bl_map_walk(fds[m], sizeof(struct bpflet_ct_key), sizeof(struct bpflet_ct_val),
			    add_nat, &w);
	ctl_close_all((int[]){fds[0], fds[1], w.name_fd}, 3);
	if (c->json) {
		ctl_print_json(w.out);
		return 0;
	}
	printf("%-5s %-30s %-22s %-22s %s\n", "PROTO", "SERVICE", "CLIENT", "FRONTEND", "BACKEND");
	json_array_foreach(w.out, i, e) printf("%-5s %-30s %-22s %-22s %s\n",
					       json_string_value(json_object_get(e, "protocol")),
					       json_string_value(json_object_get(e, "service")),
					       json_string_value(json_object_get(e, "client")),
					       json_string_value(json_object_get(e, "frontend")),
					       json_string_value(json_object_get(e, "backend")));
	json_decref(w.out);
	return 0;
}

struct flush_walk {
	const char *want; /* NULL: every entry */
	int name_fd;
	struct bpflet_ct_key *keys;
	size_t n, cap;
	int err;
};

static int pick(void *arg, const void *k, const void *v)
{
	const struct bpflet_ct_val *val = v;
	struct flush_walk *w = arg;

	if (w->want) {
		char name[BPFLET_SVC_NAME_LEN];

		ctl_svc_name(w->name_fd, val->svc_id, name, sizeof(name));
		if (!ctl_name_matches(name, w->want))
			return 0;
	}
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		void *p = realloc(w->keys, cap * sizeof(*w->keys));

		if (!p)
			return -ENOMEM;
		w->keys = p;
		w->cap = cap;
	}
	memcpy(&w->keys[w->n++], k, sizeof(*w->keys));
	return 0;
}

int ct_flush(const struct ctl *c, int argc, char **argv)
{
	struct flush_walk w = {.name_fd = -1};
	unsigned long deleted = 0, failed = 0;
	int fds[2] = {-1, -1}, rc = 1;

	if (argc == 3 && !strcmp(argv[1], "--service"))
		w.want = argv[2];
	else if (argc != 1) {
		fprintf(stderr,
			"bpfletctl: usage: conntrack flush [--service NAMESPACE/NAME[:PORT]]\n");
		return 2;
	}
	fds[0] = ctl_map_open_rw(c, BPFLET_MAP_CT_TCP);
	if (fds[0] >= 0)
		fds[1] = ctl_map_open_rw(c, BPFLET_MAP_CT_ANY);
	if (fds[1] >= 0)
		w.name_fd = ctl_map_open(c, BPFLET_MAP_SVC_NAMES);
	if (w.name_fd < 0 || (w.want && !ctl_service_known(c, w.name_fd, w.want)))
		goto out;
	/* collect, then delete: deleting while walking restarts a hash walk */
	for (int m = 0; m < 2; m++) {
		w.n = 0;
		if (bl_map_walk(fds[m], sizeof(struct bpflet_ct_key), sizeof(struct bpflet_ct_val),
				pick, &w)) {
			fprintf(stderr, "bpfletctl: out of memory while walking conntrack\n");
			goto out;
		}
		for (size_t i = 0; i < w.n; i++) {
			if (bpf_map_delete_elem(fds[m], &w.keys[i]) == 0)
				deleted++;
			else if (errno != ENOENT)
				failed++;
		}
	}
	rc = failed ? 1 : 0;
	if (c->json)
		ctl_print_json(json_pack("{s:I, s:I}", "deleted", (json_int_t)deleted, "failed",
					 (json_int_t)failed));
	else
		printf("%lu conntrack entries deleted%s\n", deleted,
		       failed ? " (some failed)" : "");
out:
	free(w.keys);
	ctl_close_all((int[]){fds[0], fds[1], w.name_fd}, 3);
	return rc;
}
