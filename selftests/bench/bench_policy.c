/*
 * bench_policy: what NetworkPolicy costs.
 *  1. Per packet under BPF_PROG_TEST_RUN: tc_pod_to's rule lookup on a policy-conntrack
 *     miss (a SYN is always judged by the rules) with 1, 100 and 10k rules on the
 *     endpoint, against the same packet to a pod no policy selects. The SYN comes
 *     straight to tc_pod_to, as from another node (no note from a local tc_pod).
 *  2. An established pod-to-pod flow through both hooks (tc_pod on the sender, tc_pod_to
 *     on the receiver, on one CPU as in the kernel: tc_pod_to takes tc_pod's hand-off),
 *     both pods isolated both ways vs no policy at all.
 *  3. Compile + map write of 1k NetworkPolicies over 10k pods in 100 namespaces, and
 *     of one pod label change afterwards (entries written).
 * Each per-packet figure is the median of REPS runs of REPEAT packets.
 */
#include "agent/common/maps_util.h"
#include "agent/dataplane/pol_sync.h"
#include "controlplane/compile/netpol.h"
#include "controlplane/compile/netpol_incr.h"
#include "selftests/bench/np_objects.h"
#include "selftests/bpf/packet.h"
#include "tc_pod.skel.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPEAT 1000000
#define REPS   5
#define POD    "10.244.0.50"
#define SENDER "10.244.0.60"

struct figure {
	double median, min, max;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int measure(struct bpf_program *prog, const uint8_t *pkt, size_t len, struct figure *f)
{
	struct __sk_buff ctx = {.ingress_ifindex = 1, .ifindex = 1};
	uint8_t out[PKT_MAX];
	double v[REPS];

	for (int i = 0; i < REPS; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
			    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = REPEAT);

		if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o))
			return -errno;
		if (o.retval != 0 /* TC_ACT_OK */) {
			fprintf(stderr, "bench_policy: the measured packet was not passed (%u)\n",
				o.retval);
			return -EPROTO;
		}
		v[i] = o.duration;
	}
	qsort(v, REPS, sizeof(v[0]), cmp_double);
	f->median = v[REPS / 2];
	f->min = v[0];
	f->max = v[REPS - 1];
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static __be32 peer_addr(unsigned i)
{
	return htonl(0x0a010000u + i); /* 10.1.0.0 + i */
}

/* n ingress rules on POD, one per peer identity, each with its own /32 in the ipcache;
 * isolated (or not) in both directions. */
static int setup_rules(struct tc_pod *s, unsigned n, bool isolated)
{
	int ipc = bpf_map__fd(s->maps.bl_ipch_v1), rules = bpf_map__fd(s->maps.bl_pol_v2);
	int eps = bpf_map__fd(s->maps.bl_polep_v2);
	/* the classes the compiler would list: one port per rule (ingress), and the
	 * allow-all row of bench_established (either way) */
	struct bpflet_pol_ep ep = {
		.flags = BPFLET_POL_EP_ISOLATED_INGRESS | BPFLET_POL_EP_ISOLATED_EGRESS,
		.classes = {1u << bpflet_pol_class(n ? BPFLET_POL_PLEN_FULL : BPFLET_POL_PLEN_DIR),
			    1u << bpflet_pol_class(BPFLET_POL_PLEN_DIR)}};
	__be32 pod = ip4(POD), sender = ip4(SENDER);

	bl_map_clear(bpf_map__fd(s->maps.bl_ipc_v2));
	bl_map_clear(ipc);
	bl_map_clear(rules);
	bl_map_clear(eps);
	bl_map_clear(bpf_map__fd(s->maps.bl_polct_v1));
	for (unsigned i = 0; i < n; i++) {
		__be32 ik = peer_addr(i);
		struct bpflet_ipcache_val iv = {.id = BPFLET_POL_PEER_MIN + i};
		struct bpflet_pol_key rk = {.prefixlen = BPFLET_POL_PLEN_FULL,
					    .ep_addr = pod,
					    .peer_id = iv.id,
					    .dir = BPFLET_POL_INGRESS,
					    .proto = IPPROTO_TCP,
					    .port = htons(80)};
		struct bpflet_pol_val rv = {.rule_id = 1 + i % (BPFLET_POL_RULES - 1)};

		if (bpf_map_update_elem(ipc, &ik, &iv, BPF_ANY) ||
		    bpf_map_update_elem(rules, &rk, &rv, BPF_ANY))
			return -errno;
	}
	if (!isolated)
		return 0;
	if (bpf_map_update_elem(eps, &pod, &ep, BPF_ANY) ||
	    bpf_map_update_elem(eps, &sender, &ep, BPF_ANY))
		return -errno;
	return 0;
}

struct miss_fig {
	unsigned rules;
	struct figure on, off;
};

static int bench_miss(struct tc_pod *s, struct miss_fig *f, size_t nf)
{
	for (size_t i = 0; i < nf; i++) {
		char src[INET_ADDRSTRLEN];
		__be32 a = peer_addr(f[i].rules / 2);
		uint8_t pkt[PKT_MAX];
		struct pkt_spec sp = {.src = inet_ntop(AF_INET, &a, src, sizeof(src)),
				      .dst = POD,
				      .sport = 40000,
				      .dport = 80,
				      .proto = IPPROTO_TCP,
				      .tcp_flags = 0x02,
				      .payload = 0};
		size_t len = pkt_build(pkt, &sp);
		int err = setup_rules(s, f[i].rules, false);

		if (!err)
			err = measure(s->progs.tc_pod_to, pkt, len, &f[i].off);
		if (!err)
			err = setup_rules(s, f[i].rules, true);
		if (!err)
			err = measure(s->progs.tc_pod_to, pkt, len, &f[i].on);
		if (err)
			return err;
	}
	return 0;
}

/* One packet through a program, its verdict only (TC_ACT_OK is 0). */
static int run_once(struct bpf_program *prog, const uint8_t *pkt, size_t len)
{
	struct __sk_buff ctx = {.ingress_ifindex = 1, .ifindex = 1};
	uint8_t out[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &o))
		return -errno;
	return o.retval ? -EPROTO : 0;
}

/* sender → POD, an ACK of an established connection, through both pods' hooks. The
 * connection's SYN went through both first, so the entries are the ones the
 * programs make; isolated, both pods have one allow-all rule each way. */
static int bench_established(struct tc_pod *s, struct figure *on, struct figure *off,
			     struct figure hooks[2][2])
{
	uint8_t syn[PKT_MAX], ack[PKT_MAX];
	struct pkt_spec sp = {.src = SENDER,
			      .dst = POD,
			      .sport = 40000,
			      .dport = 80,
			      .proto = IPPROTO_TCP,
			      .tcp_flags = 0x02,
			      .payload = 0};
	size_t slen = pkt_build(syn, &sp), len;
	int err;

	sp.tcp_flags = 0x10;
	sp.payload = 64;
	len = pkt_build(ack, &sp);
	for (int pass = 0; pass < 2; pass++) {
		bool isolated = pass == 1;
		struct figure *out = isolated ? on : off, *a = &hooks[pass][0],
			      *b = &hooks[pass][1];
		int rules = bpf_map__fd(s->maps.bl_pol_v2);
		struct bpflet_pol_val rv = {.rule_id = 1};

		err = setup_rules(s, 0, isolated);
		bl_map_clear(bpf_map__fd(s->maps.bl_ct_tcp_v2));
		for (int d = 0; !err && isolated && d < 2; d++) {
			struct bpflet_pol_key rk = {.prefixlen = BPFLET_POL_PLEN_DIR,
						    .ep_addr = ip4(d ? SENDER : POD),
						    .peer_id = BPFLET_POL_PEER_ANY,
						    .dir = d ? BPFLET_POL_EGRESS
							     : BPFLET_POL_INGRESS};

			if (bpf_map_update_elem(rules, &rk, &rv, BPF_ANY))
				err = -errno;
		}
		if (!err)
			err = run_once(s->progs.tc_pod, syn, slen);
		if (!err)
			err = run_once(s->progs.tc_pod_to, syn, slen);
		if (!err)
			err = measure(s->progs.tc_pod, ack, len, a);
		if (!err)
			err = measure(s->progs.tc_pod_to, ack, len, b);
		if (err)
			return err;
		out->median = a->median + b->median;
		out->min = a->min + b->min;
		out->max = a->max + b->max;
	}
	return 0;
}

/* ---- compile + write at scale ---- */

#define NS_N	 NP_NS
#define PODS_N	 NP_PODS
#define POLICY_N NP_POLICIES

struct scale_fig {
	double compile_s, write_s, change_compile_s, change_write_s;
	size_t rules, ipcache, endpoints;
	unsigned writes, change_writes, change_removes;
};

static int compile_write(json_t **objs, size_t n, const struct bl_pol_fds *fds,
			 struct bl_pol_table *applied, double *compile_s, double *write_s,
			 struct bl_pol_sync_stats *st)
{
	struct bl_pol_table next;
	struct bl_errlist errs;
	double t0 = now_s();
	int err;

	bl_errlist_init(&errs);
	err = bl_netpol_compile(objs, n, &next, &errs);
	*compile_s = now_s() - t0;
	for (size_t i = 0; i < errs.n && i < 3; i++)
		fprintf(stderr, "bench_policy: %s\n", errs.msgs[i]);
	bl_errlist_free(&errs);
	if (err)
		return err;
	t0 = now_s();
	err = bl_pol_sync(fds, applied, &next, st);
	*write_s = now_s() - t0;
	bl_pol_table_free(applied);
	*applied = next;
	return err;
}

static int bench_scale(struct tc_pod *s, struct scale_fig *f)
{
	size_t n = NS_N + PODS_N + POLICY_N, k = 0;
	json_t **objs = calloc(n, sizeof(*objs));
	struct bl_pol_fds fds = {.ipcache = bpf_map__fd(s->maps.bl_ipc_v2),
				 .ipcache_host = bpf_map__fd(s->maps.bl_ipch_v1),
				 .rules = bpf_map__fd(s->maps.bl_pol_v2),
				 .endpoints = bpf_map__fd(s->maps.bl_polep_v2),
				 .names = bpf_map__fd(s->maps.bl_polname_v1)};
	struct bl_pol_table applied = {0};
	struct bl_pol_sync_stats st = {0};
	json_t *changed;
	int err;

	if (!objs)
		return -ENOMEM;
	setup_rules(s, 0, false);
	for (unsigned i = 0; i < NS_N; i++)
		objs[k++] = np_namespace(i);
	for (unsigned i = 0; i < PODS_N; i++) {
		char app[16];

		snprintf(app, sizeof(app), "app-%u", (i / NS_N) % 10);
		objs[k++] = np_pod(i, app);
	}
	for (unsigned i = 0; i < POLICY_N; i++)
		objs[k++] = np_policy(i);
	err = compile_write(objs, n, &fds, &applied, &f->compile_s, &f->write_s, &st);
	f->writes = st.writes;
	f->rules = applied.n_rules;
	f->ipcache = applied.n_ipcache;
	f->endpoints = applied.n_endpoints;
	if (!err) {
		/* one client pod becomes a server: its identity and the rules naming it move */
		changed = np_pod(PODS_N / 2 + 3, "app-7");
		json_object_set_new(json_object_get(json_object_get(changed, "metadata"), "labels"),
				    "role", json_string("server"));
		json_decref(objs[NS_N + PODS_N / 2 + 3]);
		objs[NS_N + PODS_N / 2 + 3] = changed;
		memset(&st, 0, sizeof(st));
		err = compile_write(objs, n, &fds, &applied, &f->change_compile_s,
				    &f->change_write_s, &st);
		f->change_writes = st.writes;
		f->change_removes = st.removes;
	}
	bl_pol_table_free(&applied);
	for (size_t i = 0; i < n; i++)
		json_decref(objs[i]);
	free(objs);
	return err;
}

/* ---- the same cluster through the incremental compiler: object change -> maps ---- */

#define CHANGES 21

struct change_fig {
	const char *what;
	unsigned n;
	double median_ms, max_ms;
	unsigned written, removed; /* of the median change */
};

struct incr_fig {
	double build_s;
	unsigned build_writes;
	unsigned long rebuilds;
	struct change_fig ch[8];
	size_t n_ch;
};

static int cmp_pair(const void *a, const void *b)
{
	return cmp_double(a, b);
}

/* Applies obj (or removes kind ns/name when obj is NULL), commits, writes: seconds. */
static int incr_change(struct bl_netpol_incr *c, const struct bl_pol_fds *fds, json_t *obj,
		       const char *kind, const char *ns, const char *name, double *secs,
		       struct bl_pol_sync_stats *st)
{
	struct bl_errlist errs;
	struct bl_pol_delta d;
	double t0 = now_s();
	int err;

	bl_errlist_init(&errs);
	err = obj ? bl_netpol_incr_set(c, obj, &errs) : bl_netpol_incr_remove(c, kind, ns, name);
	if (!err)
		err = bl_netpol_incr_commit(c, &d);
	if (!err) {
		err = bl_pol_sync_delta(fds, c, &d, st);
		bl_pol_delta_free(&d);
	}
	*secs = now_s() - t0;
	for (size_t i = 0; i < errs.n && i < 3; i++)
		fprintf(stderr, "bench_policy: %s\n", errs.msgs[i]);
	bl_errlist_free(&errs);
	return err;
}

/* n (at most CHANGES) changes of one kind (maker(i) builds the i-th), median and max */
static int incr_series(struct bl_netpol_incr *c, const struct bl_pol_fds *fds, const char *what,
		       json_t *(*maker)(unsigned i), unsigned n, struct change_fig *f)
{
	double t[CHANGES][3];

	f->what = what;
	f->n = n;
	for (unsigned i = 0; i < n; i++) {
		struct bl_pol_sync_stats st = {0};
		json_t *o = maker(i);
		int err = o ? incr_change(c, fds, o, NULL, NULL, NULL, &t[i][0], &st) : -ENOMEM;

		json_decref(o);
		if (err)
			return err;
		t[i][1] = st.writes;
		t[i][2] = st.removes;
	}
	qsort(t, n, sizeof(t[0]), cmp_pair);
	f->median_ms = t[n / 2][0] * 1e3;
	f->max_ms = t[n - 1][0] * 1e3;
	f->written = (unsigned)t[n / 2][1];
	f->removed = (unsigned)t[n / 2][2];
	return 0;
}

/* a client pod becomes an app-7 server (the whole compiler's change above); odd i put
 * the previous one back */
static json_t *relabel(unsigned i)
{
	unsigned pod = PODS_N / 2 + 1 + 21 * (i / 2); /* a multiple of 3: a client */
	char app[16];
	json_t *o;

	snprintf(app, sizeof(app), "app-%u", (pod / NS_N) % 10);
	o = np_pod(pod, i % 2 ? app : "app-7");
	if (i % 2 == 0)
		json_object_set_new(json_object_get(json_object_get(o, "metadata"), "labels"),
				    "role", json_string("server"));
	return o;
}

/* a pod comes back with another address */
static json_t *readdress(unsigned i)
{
	unsigned pod = 77 + 100 * i;
	json_t *o = np_pod(pod, "app-0");
	char ip[24];

	snprintf(ip, sizeof(ip), "10.200.%u.%u", i / 256, i % 256);
	json_object_set_new(json_object_get(o, "status"), "podIP", json_string(ip));
	return o;
}

/* a policy's second peer now asks for another team */
static json_t *edit_policy(unsigned i)
{
	json_t *o = np_policy(10 + 37 * i);
	json_t *from = json_object_get(
		json_array_get(json_object_get(json_object_get(o, "spec"), "ingress"), 0), "from");

	json_object_set_new(
		json_object_get(json_object_get(json_array_get(from, 1), "namespaceSelector"),
				"matchLabels"),
		"team", json_string("team-x"));
	return o;
}

/* a new policy (another name in an existing namespace) */
static json_t *new_policy(unsigned i)
{
	json_t *o = np_policy(POLICY_N + i);

	return o;
}

/* a policy with an ipBlock: every identity's signature grows a bit */
static json_t *block_policy(unsigned i)
{
	char name[32], cidr[32];

	snprintf(name, sizeof(name), "block-%u", i);
	snprintf(cidr, sizeof(cidr), "192.168.%u.0/24", i);
	return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:{}, s:[{s:[{s:{s:s}}]}]}}", "apiVersion",
			 "networking.k8s.io/v1", "kind", "NetworkPolicy", "metadata", "name", name,
			 "namespace", "ns-1", "spec", "podSelector", "ingress", "from", "ipBlock",
			 "cidr", cidr);
}

static json_t *ns_relabel(unsigned i)
{
	char ns[16];

	snprintf(ns, sizeof(ns), "ns-%u", 3 + i);
	return json_pack("{s:s, s:s, s:{s:s, s:{s:s}}}", "apiVersion", "v1", "kind", "Namespace",
			 "metadata", "name", ns, "labels", "team", "team-y");
}

static int bench_incr(struct tc_pod *s, struct incr_fig *f)
{
	struct bl_pol_fds fds = {.ipcache = bpf_map__fd(s->maps.bl_ipc_v2),
				 .ipcache_host = bpf_map__fd(s->maps.bl_ipch_v1),
				 .rules = bpf_map__fd(s->maps.bl_pol_v2),
				 .endpoints = bpf_map__fd(s->maps.bl_polep_v2),
				 .names = bpf_map__fd(s->maps.bl_polname_v1)};
	struct bl_netpol_incr *c = bl_netpol_incr_new();
	struct bl_pol_sync_stats st = {0};
	struct bl_errlist errs;
	struct bl_pol_delta d;
	double t0;
	int err = 0;

	if (!c)
		return -ENOMEM;
	setup_rules(s, 0, false);
	bl_map_clear(fds.names);
	bl_errlist_init(&errs);
	t0 = now_s();
	for (unsigned i = 0; i < NS_N && !err; i++) {
		json_t *o = np_namespace(i);

		err = bl_netpol_incr_set(c, o, &errs);
		json_decref(o);
	}
	for (unsigned i = 0; i < PODS_N && !err; i++) {
		char app[16];
		json_t *o;

		snprintf(app, sizeof(app), "app-%u", (i / NS_N) % 10);
		o = np_pod(i, app);
		err = bl_netpol_incr_set(c, o, &errs);
		json_decref(o);
	}
	for (unsigned i = 0; i < POLICY_N && !err; i++) {
		json_t *o = np_policy(i);

		err = bl_netpol_incr_set(c, o, &errs);
		json_decref(o);
	}
	if (!err)
		err = bl_netpol_incr_commit(c, &d);
	if (!err) {
		err = bl_pol_sync_delta(&fds, c, &d, &st);
		bl_pol_delta_free(&d);
	}
	f->build_s = now_s() - t0;
	f->build_writes = st.writes;
	if (!err)
		err = incr_series(c, &fds, "a pod's labels (client -> app-7 server, back)", relabel,
				  CHANGES, &f->ch[f->n_ch++]);
	if (!err)
		err = incr_series(c, &fds, "a pod's address", readdress, CHANGES,
				  &f->ch[f->n_ch++]);
	if (!err)
		err = incr_series(c, &fds, "a policy's peer edited", edit_policy, CHANGES,
				  &f->ch[f->n_ch++]);
	if (!err)
		err = incr_series(c, &fds, "a policy added", new_policy, CHANGES,
				  &f->ch[f->n_ch++]);
	if (!err)
		err = incr_series(c, &fds, "a namespace's labels", ns_relabel, CHANGES,
				  &f->ch[f->n_ch++]);
	if (!err)
		err = incr_series(c, &fds, "a policy with a new ipBlock (whole rebuild)",
				  block_policy, 3, &f->ch[f->n_ch++]);
	f->rebuilds = bl_netpol_incr_rebuilds(c);
	bl_errlist_free(&errs);
	bl_netpol_incr_free(c);
	return err;
}

/* One CPU for every run: a packet between two local pods passes tc_pod and tc_pod_to
 * on one CPU (the per-CPU hand-off between them, lib/policy.h), and the figures of
 * one CPU compare better. */
static void pin_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

int main(int argc, char **argv)
{
	struct miss_fig miss[] = {{.rules = 1}, {.rules = 100}, {.rules = 10000}};
	const char *json_out = argc > 2 && !strcmp(argv[1], "--json") ? argv[2] : NULL;
	struct figure est_on, est_off, hooks[2][2];
	struct scale_fig sc = {0};
	struct incr_fig inc = {0};
	struct tc_pod *s;
	int err;

	libbpf_set_print(NULL);
	pin_cpu();
	s = tc_pod__open_and_load();
	if (!s) {
		fprintf(stderr, "bench_policy: loading tc_pod failed: %s (needs root)\n",
			strerror(errno));
		return 1;
	}
	err = bench_miss(s, miss, sizeof(miss) / sizeof(miss[0]));
	if (!err)
		err = bench_established(s, &est_on, &est_off, hooks);
	if (!err)
		err = bench_scale(s, &sc);
	if (!err)
		err = bench_incr(s, &inc);
	tc_pod__destroy(s);
	if (err) {
		fprintf(stderr, "bench_policy: %s\n", strerror(-err));
		return 1;
	}
	printf("%-52s %10s %18s %8s\n", "policy check (BPF_PROG_TEST_RUN, 1e6 runs x 5)", "ns/pkt",
	       "min..max", "ratio");
	for (size_t i = 0; i < sizeof(miss) / sizeof(miss[0]); i++) {
		char label[80];

		snprintf(label, sizeof(label), "SYN to a pod no policy selects (%u rules loaded)",
			 miss[i].rules);
		printf("%-52s %10.1f %8.1f..%-8.1f %8.3f\n", label, miss[i].off.median,
		       miss[i].off.min, miss[i].off.max, 1.0);
		snprintf(label, sizeof(label), "SYN judged by %u rules on the endpoint",
			 miss[i].rules);
		printf("%-52s %10.1f %8.1f..%-8.1f %8.3f\n", label, miss[i].on.median,
		       miss[i].on.min, miss[i].on.max, miss[i].on.median / miss[i].off.median);
	}
	printf("rule lookup 10k rules vs 1 rule: %.3f (flat is 1.0)\n",
	       miss[2].on.median / miss[0].on.median);
	for (int h = 0; h < 2; h++)
		printf("%-52s %10.1f %8.1f..%-8.1f %8.3f\n",
		       h ? "  of which tc_pod_to (receiver), isolated"
			 : "  of which tc_pod (sender), isolated",
		       hooks[1][h].median, hooks[1][h].min, hooks[1][h].max,
		       hooks[1][h].median / hooks[0][h].median);
	printf("%-52s %10.1f %8.1f..%-8.1f %8.3f\n", "established flow, both hooks, no policy",
	       est_off.median, est_off.min, est_off.max, 1.0);
	printf("%-52s %10.1f %8.1f..%-8.1f %8.3f\n", "established flow, both pods isolated",
	       est_on.median, est_on.min, est_on.max, est_on.median / est_off.median);
	printf("compile 1k policies over 10k pods: %.3f s, write %.3f s (%u entries: %zu rules, "
	       "%zu identities' CIDRs, %zu isolated pods)\n",
	       sc.compile_s, sc.write_s, sc.writes, sc.rules, sc.ipcache, sc.endpoints);
	printf("one pod label change: compile %.3f s, write %.4f s (%u written, %u removed)\n",
	       sc.change_compile_s, sc.change_write_s, sc.change_writes, sc.change_removes);
	printf("incremental compiler, same cluster: set all + commit + write %.3f s (%u entries)\n",
	       inc.build_s, inc.build_writes);
	printf("%-44s %12s %10s %8s %8s\n", "object change -> maps written (21, 3)", "median ms",
	       "max ms", "written", "removed");
	for (size_t i = 0; i < inc.n_ch; i++)
		printf("%-44s %12.2f %10.2f %8u %8u\n", inc.ch[i].what, inc.ch[i].median_ms,
		       inc.ch[i].max_ms, inc.ch[i].written, inc.ch[i].removed);
	if (json_out) {
		FILE *f = fopen(json_out, "w");

		if (!f)
			return 1;
		fprintf(f, "{\"miss\": [");
		for (size_t i = 0; i < sizeof(miss) / sizeof(miss[0]); i++)
			fprintf(f, "%s{\"rules\": %u, \"on_ns\": %.1f, \"off_ns\": %.1f}",
				i ? ", " : "", miss[i].rules, miss[i].on.median,
				miss[i].off.median);
		fprintf(f,
			"], \"established\": {\"on_ns\": %.1f, \"off_ns\": %.1f, \"ratio\": %.3f}, "
			"\"scale\": {\"policies\": %d, \"pods\": %d, \"compile_s\": %.4f, "
			"\"write_s\": %.4f, \"entries\": %u, \"change_compile_s\": %.4f, "
			"\"change_write_s\": %.5f, \"change_written\": %u, \"change_removed\": "
			"%u}, ",
			est_on.median, est_off.median, est_on.median / est_off.median, POLICY_N,
			PODS_N, sc.compile_s, sc.write_s, sc.writes, sc.change_compile_s,
			sc.change_write_s, sc.change_writes, sc.change_removes);
		fprintf(f, "\"incremental\": {\"build_s\": %.4f, \"changes\": [", inc.build_s);
		for (size_t i = 0; i < inc.n_ch; i++)
			fprintf(f, "%s{\"what\": \"%s\", \"median_ms\": %.3f, \"max_ms\": %.3f}",
				i ? ", " : "", inc.ch[i].what, inc.ch[i].median_ms,
				inc.ch[i].max_ms);
		fprintf(f, "]}}\n");
		fclose(f);
	}
	return 0;
}
