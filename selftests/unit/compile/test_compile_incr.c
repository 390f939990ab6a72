/* The compiler one Service at a time must say what the whole compiler says: random
 * edits to Services and slices (with clashing externalIPs, health-check ports and
 * source ranges), the frontends taken after each round folded into a model, and the
 * model compared with bl_compile_services on everything. */
#include "controlplane/compile/compile_incr.h"
#include "controlplane/compile/k8s_endpointslice.h"
#include "controlplane/compile/k8s_service.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#define N_SVC 40
#define N_SL  2

static json_t *svc_json(int i, int v)
{
	char name[32], ns[8], ip[32], ext[32], lb[32];
	json_t *o, *spec;

	snprintf(name, sizeof(name), "svc-%d", i);
	snprintf(ns, sizeof(ns), "ns%d", i % 3);
	snprintf(ip, sizeof(ip), "10.96.0.%d", i + 1);
	snprintf(ext, sizeof(ext), "203.0.113.%d", v % 4);
	snprintf(lb, sizeof(lb), "198.51.100.%d", i % 4);
	o = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:[s], s:[{s:s, s:i, s:i}]}}", "apiVersion",
		      "v1", "kind", "Service", "metadata", "name", name, "namespace", ns, "spec",
		      "clusterIP", ip, "clusterIPs", ip, "ports", "name", "http", "port", 80,
		      "targetPort", 8080);
	spec = json_object_get(o, "spec");
	if (v % 3 == 0) /* shared with other Services: conflicts */
		json_object_set_new(spec, "externalIPs", json_pack("[s]", ext));
	if (v % 4 == 1)
		json_object_set_new(spec, "sessionAffinity", json_string("ClientIP"));
	if (v % 5 == 0) {
		json_object_set_new(spec, "type", json_string("LoadBalancer"));
		json_object_set_new(spec, "externalTrafficPolicy", json_string("Local"));
		json_object_set_new(spec, "healthCheckNodePort", json_integer(32000 + v % 3));
		json_object_set_new(json_array_get(json_object_get(spec, "ports"), 0), "nodePort",
				    json_integer(30000 + i));
		if (v % 2)
			json_object_set_new(spec, "loadBalancerSourceRanges",
					    json_pack("[s]", "10.0.0.0/8"));
		json_object_set_new(
			o, "status",
			json_pack("{s:{s:[{s:s}]}}", "loadBalancer", "ingress", "ip", lb));
	}
	return o;
}

static json_t *slice_json(int i, int k, int v)
{
	char name[40], svc[32], ns[8];
	json_t *eps = json_array();

	snprintf(name, sizeof(name), "svc-%d-%d", i, k);
	snprintf(svc, sizeof(svc), "svc-%d", i);
	snprintf(ns, sizeof(ns), "ns%d", i % 3);
	for (int e = 0; e < v % 4; e++) {
		char a[32];

		snprintf(a, sizeof(a), "10.244.%d.%d", i, k * 10 + e);
		json_array_append_new(eps,
				      json_pack("{s:[s], s:{s:b}, s:s}", "addresses", a,
						"conditions", "ready", (v + e) % 3 != 0, "nodeName",
						(e + v) % 2 ? "node-a" : "node-b"));
	}
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:s, s:[{s:s, s:i}], s:o}",
			 "apiVersion", "discovery.k8s.io/v1", "kind", "EndpointSlice", "metadata",
			 "name", name, "namespace", ns, "labels", "kubernetes.io/service-name", svc,
			 "addressType", "IPv4", "ports", "name", "http", "port", 8080, "endpoints",
			 eps);
}

/* The world: per Service its variant (-1: absent) and its slices' variants. */
static int svc_v[N_SVC], sl_v[N_SVC][N_SL];
static struct bl_k8s_service svcs[N_SVC];
static struct bl_k8s_endpointslice slices[N_SVC][N_SL];

static void parse_service(int i)
{
	json_t *o = svc_json(i, svc_v[i]);
	char err[256];

	cr_assert_eq(bl_k8s_service_parse(o, &svcs[i], err, sizeof(err)), 0, "%s", err);
	json_decref(o);
}

static void parse_slice(int i, int k)
{
	json_t *o = slice_json(i, k, sl_v[i][k]);
	char err[256];

	cr_assert_eq(bl_k8s_endpointslice_parse(o, &slices[i][k], err, sizeof(err)), 0, "%s", err);
	json_decref(o);
}

static const struct bpflet_addr node_ip = {{0x0a000001}};
static const struct bl_compile_opts opts = {
	.node_name = "node-a", .external = true, .n_node_ips = 1, .node_ips = &node_ip};

static void set_group(struct bl_compile_incr *ci, int i)
{
	struct bl_k8s_endpointslice sl[N_SL];
	size_t n_sl = 0;
	char key[40];
	struct bl_errlist e;

	bl_errlist_init(&e);
	for (int k = 0; k < N_SL; k++)
		if (sl_v[i][k] >= 0)
			sl[n_sl++] = slices[i][k];
	snprintf(key, sizeof(key), "ns%d/svc-%d", i % 3, i);
	cr_assert_eq(
		bl_compile_incr_set(ci, key, &svcs[i], svc_v[i] >= 0 ? 1 : 0, sl, n_sl, &opts, &e),
		0);
	bl_errlist_free(&e);
}

struct model_fe {
	struct bpflet_fe_key key;
	struct bl_svc_frontend fe; /* backends owned */
	UT_hash_handle hh;
};

static void model_put(struct model_fe **m, const struct bl_svc_frontend *f)
{
	struct model_fe *x;

	HASH_FIND(hh, *m, &f->key, sizeof(f->key), x);
	if (!x) {
		x = calloc(1, sizeof(*x));
		x->key = f->key;
		HASH_ADD(hh, *m, key, sizeof(x->key), x);
	}
	free(x->fe.backends);
	x->fe = *f;
	x->fe.backends = calloc(f->n_backends + 1, sizeof(*f->backends));
	if (f->n_backends)
		memcpy(x->fe.backends, f->backends, f->n_backends * sizeof(*f->backends));
}

static void model_del(struct model_fe **m, const struct bpflet_fe_key *k)
{
	struct model_fe *x;

	HASH_FIND(hh, *m, k, sizeof(*k), x);
	cr_assert_not_null(x, "a key reported gone was never handed out");
	HASH_DEL(*m, x);
	free(x->fe.backends);
	free(x);
}

static void same_fe(const struct bl_svc_frontend *a, const struct bl_svc_frontend *b)
{
	char k[80];

	bl_svc_fe_key_format(&a->key, k, sizeof(k));
	cr_assert_str_eq(a->name, b->name, "%s", k);
	cr_assert_eq(a->flags, b->flags, "%s", k);
	cr_assert_eq(a->affinity_timeout, b->affinity_timeout, "%s", k);
	cr_assert_eq(a->local_only, b->local_only, "%s", k);
	cr_assert_eq(a->no_local_endpoints, b->no_local_endpoints, "%s", k);
	cr_assert_eq(a->n_backends, b->n_backends, "%s", k);
	for (size_t j = 0; j < a->n_backends; j++)
		cr_assert(bl_svc_backend_equal(&a->backends[j], &b->backends[j]), "%s #%zu", k, j);
}

static void check(struct bl_compile_incr *ci, struct model_fe **m)
{
	struct bl_k8s_service all_svcs[N_SVC];
	struct bl_k8s_endpointslice all_sl[N_SVC * N_SL];
	size_t ns = 0, nsl = 0, n, n_gone;
	const struct bl_svc_frontend **fe;
	const struct bl_svc_table *extras;
	struct bpflet_fe_key *gone;
	struct bl_svc_table full;
	struct model_fe *x, *xt;
	struct bl_errlist e;
	bool changed;

	bl_errlist_init(&e);
	cr_assert_eq(bl_compile_incr_take(ci, &fe, &n, &gone, &n_gone, &e), 0);
	for (size_t i = 0; i < n_gone; i++)
		model_del(m, &gone[i]);
	for (size_t i = 0; i < n; i++)
		model_put(m, fe[i]);
	free(fe);
	free(gone);
	for (int i = 0; i < N_SVC; i++) {
		if (svc_v[i] >= 0)
			all_svcs[ns++] = svcs[i];
		for (int k = 0; k < N_SL; k++)
			if (sl_v[i][k] >= 0)
				all_sl[nsl++] = slices[i][k];
	}
	cr_assert_eq(bl_compile_services(all_svcs, ns, all_sl, nsl, &opts, &full, &e), 0);
	cr_assert_eq(HASH_COUNT(*m), full.n);
	for (size_t i = 0; i < full.n; i++) {
		HASH_FIND(hh, *m, &full.fe[i].key, sizeof(full.fe[i].key), x);
		cr_assert_not_null(x, "frontend %zu of the full compile not handed out", i);
		same_fe(&full.fe[i], &x->fe);
	}
	cr_assert_eq(bl_compile_incr_all(ci, &fe, &n), 0);
	cr_assert_eq(n, full.n);
	free(fe);
	cr_assert_eq(bl_compile_incr_extras(ci, &extras, &changed, &e), 0);
	cr_assert_eq(extras->n_hc, full.n_hc);
	for (size_t i = 0; i < full.n_hc; i++) {
		cr_assert_eq(extras->hc[i].port, full.hc[i].port);
		cr_assert_str_eq(extras->hc[i].name, full.hc[i].name);
		cr_assert_eq(extras->hc[i].local_endpoints, full.hc[i].local_endpoints);
	}
	cr_assert_eq(extras->n_src, full.n_src);
	cr_assert(!full.n_src || !memcmp(extras->src, full.src, full.n_src * sizeof(*full.src)));
	bl_svc_table_free(&full);
	bl_errlist_free(&e);
	(void)xt;
}

static void model_free(struct model_fe **m)
{
	struct model_fe *x, *xt;

	HASH_ITER(hh, *m, x, xt)
	{
		HASH_DEL(*m, x);
		free(x->fe.backends);
		free(x);
	}
}

Test(compile_incr, random_edits_match_the_full_compile)
{
	struct bl_compile_incr *ci = bl_compile_incr_new();
	struct model_fe *m = NULL;
	int conflicts_seen = 0, hc_seen = 0;

	srandom(7);
	for (int i = 0; i < N_SVC; i++) {
		svc_v[i] = i % 7 == 6 ? -1 : (int)(random() % 30);
		if (svc_v[i] >= 0)
			parse_service(i);
		for (int k = 0; k < N_SL; k++) {
			sl_v[i][k] = (int)(random() % 8);
			parse_slice(i, k);
		}
	}
	bl_compile_incr_begin(ci);
	for (int i = 0; i < N_SVC; i++)
		set_group(ci, i);
	bl_compile_incr_end(ci);
	check(ci, &m);
	for (int round = 0; round < 300; round++) {
		for (int edits = 1 + (int)(random() % 3); edits > 0; edits--) {
			int i = (int)(random() % N_SVC), k = (int)(random() % N_SL);

			switch (random() % 3) {
			case 0: /* a Service comes, changes or goes */
				if (svc_v[i] >= 0)
					bl_k8s_service_free(&svcs[i]);
				svc_v[i] = random() % 5 ? (int)(random() % 30) : -1;
				if (svc_v[i] >= 0)
					parse_service(i);
				break;
			default: /* a slice changes or goes */
				if (sl_v[i][k] >= 0)
					bl_k8s_endpointslice_free(&slices[i][k]);
				sl_v[i][k] = random() % 6 ? (int)(random() % 8) : -1;
				if (sl_v[i][k] >= 0)
					parse_slice(i, k);
			}
			set_group(ci, i);
		}
		if (round % 50 == 49) { /* now and then a full rebuild, one Service missing */
			int skip = (int)(random() % N_SVC);

			if (svc_v[skip] >= 0)
				bl_k8s_service_free(&svcs[skip]);
			svc_v[skip] = -1;
			for (int k = 0; k < N_SL; k++) {
				if (sl_v[skip][k] >= 0)
					bl_k8s_endpointslice_free(&slices[skip][k]);
				sl_v[skip][k] = -1;
			}
			bl_compile_incr_begin(ci);
			for (int i = 0; i < N_SVC; i++)
				if (i != skip)
					set_group(ci, i);
			bl_compile_incr_end(ci);
		}
		check(ci, &m);
		for (int i = 0; i < N_SVC; i++) {
			conflicts_seen += svc_v[i] >= 0 && svc_v[i] % 3 == 0;
			hc_seen += svc_v[i] >= 0 && svc_v[i] % 5 == 0;
		}
	}
	/* the rounds did exercise clashes and health checks */
	cr_assert_gt(conflicts_seen, 300);
	cr_assert_gt(hc_seen, 300);
	cr_assert_eq(bl_compile_incr_services(ci) > 0, true);
	for (int i = 0; i < N_SVC; i++) {
		if (svc_v[i] >= 0)
			bl_k8s_service_free(&svcs[i]);
		for (int k = 0; k < N_SL; k++)
			if (sl_v[i][k] >= 0)
				bl_k8s_endpointslice_free(&slices[i][k]);
	}
	model_free(&m);
	bl_compile_incr_free(ci);
}

Test(compile_incr, a_service_that_goes_reports_its_frontends_gone)
{
	struct bl_compile_incr *ci = bl_compile_incr_new();
	const struct bl_svc_frontend **fe;
	struct bpflet_fe_key *gone;
	size_t n, n_gone;

	svc_v[0] = 1; /* ClusterIP with affinity: one frontend */
	sl_v[0][0] = 3;
	sl_v[0][1] = -1;
	parse_service(0);
	parse_slice(0, 0);
	set_group(ci, 0);
	cr_assert_eq(bl_compile_incr_take(ci, &fe, &n, &gone, &n_gone, NULL), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(n_gone, 0);
	cr_assert_eq(fe[0]->n_backends, 2, "3 endpoints, one not ready");
	free(fe);
	free(gone);
	/* nothing changed: nothing to take */
	cr_assert_eq(bl_compile_incr_take(ci, &fe, &n, &gone, &n_gone, NULL), 0);
	cr_assert_eq(n + n_gone, 0);
	free(fe);
	free(gone);
	cr_assert_eq(bl_compile_incr_set(ci, "ns0/svc-0", NULL, 0, NULL, 0, &opts, NULL), 0);
	cr_assert_eq(bl_compile_incr_take(ci, &fe, &n, &gone, &n_gone, NULL), 0);
	cr_assert_eq(n, 0);
	cr_assert_eq(n_gone, 1);
	cr_assert_eq(gone[0].addr.addr[0], htonl(0x0a600001));
	free(fe);
	free(gone);
	bl_k8s_service_free(&svcs[0]);
	bl_k8s_endpointslice_free(&slices[0][0]);
	bl_compile_incr_free(ci);
}
