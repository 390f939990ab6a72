/*
 * NetworkPolicy compiled by change (netpol_incr.c) against the whole compiler
 * (netpol.c): random clusters changed one object at a time (pod labels, addresses,
 * pods and policies added, edited, removed, namespace labels); after each commit the
 * deltas, applied to a model of the maps, must equal the compiler's own table, and
 * every verdict (every address pair, protocol and port of interest, both directions)
 * must be the whole compiler's.
 */
#include "controlplane/compile/netpol.h"
#include "selftests/unit/compile/helpers.h"
#include "controlplane/compile/netpol_incr.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_NS   3
#define N_PODS 9
#define N_POLS 5
#define N_ADDR 12 /* pods take 10.0.0.1 .. 10.0.0.12 */

static unsigned seed;

static unsigned rnd(unsigned n)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 16) % n;
}

/* ---- random objects ---- */

static json_t *ns_obj(int i)
{
	char name[16];

	snprintf(name, sizeof(name), "n%d", i);
	return json_pack("{s:s, s:s, s:{s:s, s:{s:s}}}", "apiVersion", "v1", "kind", "Namespace",
			 "metadata", "name", name, "labels", "team", rnd(2) ? "red" : "blue");
}

static json_t *pod_obj(int i, unsigned addr)
{
	char name[16], ns[16], app[16], ip[16];
	json_t *labels, *ports = json_array();

	snprintf(name, sizeof(name), "p%d", i);
	snprintf(ns, sizeof(ns), "n%u", rnd(N_NS));
	snprintf(app, sizeof(app), "a%u", rnd(3));
	snprintf(ip, sizeof(ip), "10.0.0.%u", addr);
	labels = json_pack("{s:s}", "app", app);
	if (rnd(2))
		json_object_set_new(labels, "role", json_string(rnd(2) ? "client" : "server"));
	if (rnd(2))
		json_array_append_new(ports, json_pack("{s:s, s:i}", "name", "http",
						       "containerPort", rnd(2) ? 80 : 8080));
	if (rnd(3) == 0)
		json_array_append_new(ports, json_pack("{s:s, s:i, s:s}", "name", "dns",
						       "containerPort", 53, "protocol", "UDP"));
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:{s:[{s:s, s:o}]}, s:{s:s}}", "apiVersion",
			 "v1", "kind", "Pod", "metadata", "name", name, "namespace", ns, "labels",
			 labels, "spec", "containers", "name", "c", "ports", ports, "status",
			 "podIP", ip);
}

static json_t *selector(void)
{
	char v[8];

	switch (rnd(3)) {
	case 0:
		return json_object();
	case 1:
		snprintf(v, sizeof(v), "a%u", rnd(3));
		return json_pack("{s:{s:s}}", "matchLabels", "app", v);
	default:
		return json_pack("{s:[{s:s, s:s}]}", "matchExpressions", "key", "role", "operator",
				 rnd(2) ? "Exists" : "DoesNotExist");
	}
}

static json_t *peer(void)
{
	char cidr[24], ex[24];

	switch (rnd(5)) {
	case 0:
		return json_pack("{s:o}", "podSelector", selector());
	case 1:
		return json_pack("{s:{s:{s:s}}}", "namespaceSelector", "matchLabels", "team",
				 rnd(2) ? "red" : "blue");
	case 2:
		return json_pack("{s:o, s:o}", "namespaceSelector",
				 rnd(2) ? json_object()
					: json_pack("{s:{s:s}}", "matchLabels", "team", "red"),
				 "podSelector", selector());
	case 3:
		if (rnd(2)) { /* a /29, one /32 of it excepted */
			unsigned base = rnd(2) * 8;

			snprintf(cidr, sizeof(cidr), "10.0.0.%u/29", base);
			snprintf(ex, sizeof(ex), "10.0.0.%u/32", base + rnd(8));
		} else { /* a /28, one /31 of it excepted */
			snprintf(cidr, sizeof(cidr), "10.0.0.0/28");
			snprintf(ex, sizeof(ex), "10.0.0.%u/31", 2 * rnd(8));
		}
		return rnd(2) ? json_pack("{s:{s:s}}", "ipBlock", "cidr", cidr)
			      : json_pack("{s:{s:s, s:[s]}}", "ipBlock", "cidr", cidr, "except",
					  ex);
	default:
		return json_pack("{s:{s:s}}", "ipBlock", "cidr", "0.0.0.0/0");
	}
}

static json_t *ports(void)
{
	json_t *a = json_array();

	switch (rnd(6)) {
	case 0:
		break;
	case 1:
		json_array_append_new(a, json_pack("{s:i}", "port", 80));
		break;
	case 2:
		json_array_append_new(a,
				      json_pack("{s:s, s:s}", "port", "http", "protocol", "TCP"));
		break;
	case 3:
		json_array_append_new(a, json_pack("{s:s, s:s}", "port", "dns", "protocol", "UDP"));
		break;
	case 4:
		json_array_append_new(a, json_pack("{s:i, s:i}", "port", 8000, "endPort", 8100));
		break;
	default:
		json_array_append_new(a, json_pack("{s:s}", "protocol", "UDP"));
	}
	return a;
}

static json_t *rules(const char *peers_key)
{
	json_t *a = json_array();
	unsigned n = rnd(3);

	for (unsigned i = 0; i < n; i++) {
		json_t *r = json_object(), *ps = json_array();
		unsigned np = rnd(3);

		for (unsigned j = 0; j < np; j++)
			json_array_append_new(ps, peer());
		if (np || rnd(2))
			json_object_set_new(r, peers_key, ps);
		else
			json_decref(ps);
		json_object_set_new(r, "ports", ports());
		json_array_append_new(a, r);
	}
	return a;
}

static json_t *pol_obj(int i)
{
	char name[16], ns[16];
	json_t *spec = json_pack("{s:o}", "podSelector", selector());

	snprintf(name, sizeof(name), "np%d", i);
	snprintf(ns, sizeof(ns), "n%u", rnd(N_NS));
	if (rnd(4))
		json_object_set_new(spec, "ingress", rules("from"));
	if (rnd(2))
		json_object_set_new(spec, "egress", rules("to"));
	if (rnd(3) == 0)
		json_object_set_new(spec, "policyTypes",
				    rnd(2) ? json_pack("[s]", "Egress")
					   : json_pack("[s, s]", "Ingress", "Egress"));
	return json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", "networking.k8s.io/v1",
			 "kind", "NetworkPolicy", "metadata", "name", name, "namespace", ns, "spec",
			 spec);
}

/* ---- the maps, as the deltas leave them ---- */

static struct bl_pol_table M; /* unsorted; kept unique by key */

static void put(void *arr, size_t *n, size_t esz, size_t ksz, const void *it)
{
	char *a = *(char **)arr;

	for (size_t i = 0; i < *n; i++)
		if (!memcmp(a + i * esz, it, ksz)) {
			memcpy(a + i * esz, it, esz);
			return;
		}
	a = realloc(a, (*n + 1) * esz);
	cr_assert_not_null(a);
	memcpy(a + *n * esz, it, esz);
	*(char **)arr = a;
	(*n)++;
}

static void del(void *arr, size_t *n, size_t esz, size_t ksz, const void *key)
{
	char *a = *(char **)arr;

	for (size_t i = 0; i < *n; i++)
		if (!memcmp(a + i * esz, key, ksz)) {
			memmove(a + i * esz, a + (i + 1) * esz, (*n - i - 1) * esz);
			(*n)--;
			return;
		}
	cr_assert_fail("delta removes an entry the maps do not hold");
}

static void apply(const struct bl_pol_delta *d)
{
	for (size_t i = 0; i < d->n_rule_up; i++)
		put(&M.rules, &M.n_rules, sizeof(*M.rules), sizeof(M.rules->key), &d->rule_up[i]);
	for (size_t i = 0; i < d->n_ipc_up; i++)
		put(&M.ipcache, &M.n_ipcache, sizeof(*M.ipcache), sizeof(M.ipcache->key),
		    &d->ipc_up[i]);
	for (size_t i = 0; i < d->n_ep_up; i++)
		put(&M.endpoints, &M.n_endpoints, sizeof(*M.endpoints), 4, &d->ep_up[i]);
	for (size_t i = 0; i < d->n_rule_del; i++)
		del(&M.rules, &M.n_rules, sizeof(*M.rules), sizeof(M.rules->key), &d->rule_del[i]);
	for (size_t i = 0; i < d->n_ipc_del; i++)
		del(&M.ipcache, &M.n_ipcache, sizeof(*M.ipcache), sizeof(M.ipcache->key),
		    &d->ipc_del[i]);
	for (size_t i = 0; i < d->n_ep_del; i++)
		del(&M.endpoints, &M.n_endpoints, sizeof(*M.endpoints), 4, &d->ep_del[i]);
}

/* ---- verdicts, as the programs reach them ---- */

static uint32_t ipc_id(const struct bl_pol_table *t, uint32_t addr)
{
	uint32_t best = 0;
	int plen = -1;

	for (size_t i = 0; i < t->n_ipcache; i++)
		if ((int)t->ipcache[i].key.prefixlen > plen &&
		    lpm_prefix_eq(&t->ipcache[i].key.addr, &addr, t->ipcache[i].key.prefixlen)) {
			plen = (int)t->ipcache[i].key.prefixlen;
			best = t->ipcache[i].val.id;
		}
	return best;
}

static uint32_t ep_classes(const struct bl_pol_table *t, uint32_t ep, uint8_t dir)
{
	for (size_t i = 0; i < t->n_endpoints; i++)
		if (t->endpoints[i].addr == ep)
			return t->endpoints[i].val.classes[dir];
	return 0;
}

/* Does an entry match, of a class the endpoint lists (the program asks no other)? */
static bool lpm_has(const struct bl_pol_table *t, uint32_t ep, uint32_t peer, uint8_t dir,
		    uint8_t proto, uint16_t port)
{
	struct bpflet_pol_key k = {BPFLET_POL_PLEN_FULL, ep, peer, dir, proto, htons(port)};
	uint32_t classes = ep_classes(t, ep, dir);

	for (size_t i = 0; i < t->n_rules; i++)
		if (lpm_prefix_eq(&t->rules[i].key.ep_addr, &k.ep_addr,
				  t->rules[i].key.prefixlen) &&
		    (classes & (1u << bpflet_pol_class(t->rules[i].key.prefixlen))))
			return true;
	return false;
}

static uint32_t ep_flags(const struct bl_pol_table *t, uint32_t ep)
{
	for (size_t i = 0; i < t->n_endpoints; i++)
		if (t->endpoints[i].addr == ep)
			return t->endpoints[i].val.flags;
	return 0;
}

/* One side's verdict: endpoint ep, the other end other. */
static bool side(const struct bl_pol_table *t, uint32_t ep, uint32_t other, int dir, uint8_t proto,
		 uint16_t port)
{
	uint32_t flag = dir ? BPFLET_POL_EP_ISOLATED_EGRESS : BPFLET_POL_EP_ISOLATED_INGRESS;
	uint32_t peer = ipc_id(t, other);

	if (!(ep_flags(t, ep) & flag))
		return true;
	/* an address no entry names has no identity: only the wildcard row */
	return (peer && lpm_has(t, ep, peer, (uint8_t)dir, proto, port)) ||
	       lpm_has(t, ep, BPFLET_POL_PEER_ANY, (uint8_t)dir, proto, port);
}

static const struct {
	uint8_t proto;
	uint16_t port;
} PORTS[] = {{IPPROTO_TCP, 80},	  {IPPROTO_TCP, 81}, {IPPROTO_TCP, 8080},
	     {IPPROTO_TCP, 8050}, {IPPROTO_UDP, 53}, {IPPROTO_SCTP, 80}};

static void same_verdicts(const struct bl_pol_table *a, const struct bl_pol_table *b, int round,
			  int step)
{
	for (unsigned x = 1; x <= N_ADDR + 1; x++) {
		uint32_t ep = htonl(0x0a000000u + x); /* 10.0.0.13: no pod */

		cr_assert_eq(ep_flags(a, ep), ep_flags(b, ep), "round %d step %d: flags of .%u",
			     round, step, x);
		for (unsigned y = 1; y <= N_ADDR + 2; y++) {
			/* .14 stands for an address outside the pod range */
			uint32_t other =
				y == N_ADDR + 2 ? htonl(0xc0a80101u) : htonl(0x0a000000u + y);

			for (size_t p = 0; p < sizeof(PORTS) / sizeof(PORTS[0]); p++)
				for (int dir = 0; dir < 2; dir++)
					cr_assert_eq(side(a, ep, other, dir, PORTS[p].proto,
							  PORTS[p].port),
						     side(b, ep, other, dir, PORTS[p].proto,
							  PORTS[p].port),
						     "round %d step %d: .%u %s .%u proto %u port "
						     "%u: incremental %d, whole %d",
						     round, step, x, dir ? "to" : "from", y,
						     PORTS[p].proto, PORTS[p].port,
						     side(a, ep, other, dir, PORTS[p].proto,
							  PORTS[p].port),
						     side(b, ep, other, dir, PORTS[p].proto,
							  PORTS[p].port));
		}
	}
}

static int cmp_rule(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct bl_pol_rule));
}

/* The maps as the deltas left them hold exactly the compiler's table. */
static void same_table(struct bl_netpol_incr *c, int round, int step)
{
	struct bl_pol_table t;

	cr_assert_eq(bl_netpol_incr_table(c, &t), 0);
	cr_assert_eq(M.n_rules, t.n_rules, "round %d step %d: %zu rules in the maps, %zu compiled",
		     round, step, M.n_rules, t.n_rules);
	cr_assert_eq(M.n_ipcache, t.n_ipcache, "round %d step %d: ipcache", round, step);
	cr_assert_eq(M.n_endpoints, t.n_endpoints, "round %d step %d: endpoints", round, step);
	if (M.n_rules)
		qsort(M.rules, M.n_rules, sizeof(*M.rules), cmp_rule);
	cr_assert(!M.n_rules || !memcmp(M.rules, t.rules, M.n_rules * sizeof(*M.rules)),
		  "round %d step %d: rule entries differ", round, step);
	bl_pol_table_free(&t);
}

static void remove_obj(struct bl_netpol_incr *c, const json_t *o)
{
	const json_t *md = json_object_get(o, "metadata");

	cr_assert_eq(bl_netpol_incr_remove(c, json_string_value(json_object_get(o, "kind")),
					   json_string_value(json_object_get(md, "namespace")),
					   json_string_value(json_object_get(md, "name"))),
		     0);
}

Test(netpol_incr, equals_the_whole_compiler_under_random_changes)
{
	unsigned long rebuilds = 0, steps = 0;

	for (int round = 0; round < 60; round++) {
		struct bl_netpol_incr *c = bl_netpol_incr_new();
		json_t *world[N_NS + N_PODS + N_POLS] = {0};
		unsigned addr[N_PODS];

		seed = 7919u * (unsigned)round + 1;
		memset(&M, 0, sizeof(M));
		cr_assert_not_null(c);
		for (int i = 0; i < N_PODS; i++)
			addr[i] = (unsigned)i + 1;
		for (int i = 0; i < N_NS; i++)
			world[i] = rnd(3) ? ns_obj(i) : NULL;
		for (int i = 0; i < N_PODS; i++)
			world[N_NS + i] = rnd(5) ? pod_obj(i, addr[i]) : NULL;
		for (int i = 0; i < N_POLS; i++)
			world[N_NS + N_PODS + i] = rnd(3) ? pol_obj(i) : NULL;
		for (int step = 0; step < 25; step++) {
			struct bl_errlist errs;
			struct bl_pol_delta d;
			struct bl_pol_table whole;
			json_t *objs[N_NS + N_PODS + N_POLS];
			size_t n = 0;

			bl_errlist_init(&errs);
			if (step == 0) {
				for (size_t i = 0; i < N_NS + N_PODS + N_POLS; i++)
					if (world[i])
						cr_assert_eq(bl_netpol_incr_set(c, world[i], &errs),
							     0, "%s", errs.n ? errs.msgs[0] : "");
			} else {
				/* one change: mostly pods and policies, now and then a namespace */
				unsigned what = rnd(10), i;
				json_t *o;

				if (what == 0) {
					i = rnd(N_NS);
					o = rnd(4) ? ns_obj((int)i) : NULL;
				} else if (what < 6) {
					i = N_NS + rnd(N_PODS);
					if (rnd(3) == 0) /* a new address: from the free ones */
						addr[i - N_NS] = N_PODS + 1 + rnd(N_ADDR - N_PODS);
					o = rnd(6) ? pod_obj((int)(i - N_NS), addr[i - N_NS])
						   : NULL;
				} else {
					i = N_NS + N_PODS + rnd(N_POLS);
					o = rnd(5) ? pol_obj((int)(i - N_NS - N_PODS)) : NULL;
				}
				/* the same slot may come back in another namespace: another
				 * object, the old one goes */
				if (o && world[i] &&
				    strcmp(json_string_value(json_object_get(
						   json_object_get(o, "metadata"), "namespace"))
						   ?: "",
					   json_string_value(json_object_get(
						   json_object_get(world[i], "metadata"),
						   "namespace"))
						   ?: "")) {
					remove_obj(c, world[i]);
				}
				if (o) {
					cr_assert_eq(bl_netpol_incr_set(c, o, &errs), 0, "%s",
						     errs.n ? errs.msgs[0] : "");
				} else if (world[i]) {
					remove_obj(c, world[i]);
				}
				json_decref(world[i]);
				world[i] = o;
			}
			/* two pods may have drawn one address: the compilers may then differ
			 * on which wins; keep the worlds where each address is one pod's */
			cr_assert_eq(bl_netpol_incr_commit(c, &d), 0);
			apply(&d);
			bl_pol_delta_free(&d);
			same_table(c, round, step);
			for (size_t i = 0; i < N_NS + N_PODS + N_POLS; i++)
				if (world[i])
					objs[n++] = world[i];
			cr_assert_eq(bl_netpol_compile(objs, n, &whole, &errs), 0);
			if (!errs.n) {
				bool dup = false;

				for (int a = 0; a < N_PODS; a++)
					for (int b = a + 1; b < N_PODS; b++)
						dup |= world[N_NS + a] && world[N_NS + b] &&
						       addr[a] == addr[b];
				if (!dup)
					same_verdicts(&M, &whole, round, step);
			}
			bl_pol_table_free(&whole);
			bl_errlist_free(&errs);
			steps++;
		}
		rebuilds += bl_netpol_incr_rebuilds(c);
		for (size_t i = 0; i < N_NS + N_PODS + N_POLS; i++)
			json_decref(world[i]);
		bl_netpol_incr_free(c);
		bl_pol_table_free(&M);
	}
	/* most changes must be handled without a rebuild */
	cr_assert_lt(rebuilds * 2, steps, "%lu rebuilds in %lu steps", rebuilds, steps);
}

Test(netpol_incr, a_bad_edit_keeps_the_last_good_version)
{
	struct bl_netpol_incr *c = bl_netpol_incr_new();
	json_t *good = json_loads(
		"{\"kind\":\"NetworkPolicy\",\"apiVersion\":\"networking.k8s.io/v1\",\"metadata\":"
		"{\"name\":\"p\",\"namespace\":\"a\"},\"spec\":{\"podSelector\":{},\"ingress\":[]}"
		"}",
		0, NULL);
	json_t *bad = json_loads(
		"{\"kind\":\"NetworkPolicy\",\"apiVersion\":\"networking.k8s.io/v1\",\"metadata\":"
		"{\"name\":\"p\",\"namespace\":\"a\"},\"spec\":{\"podSelector\":{},\"ingress\":[{"
		"\"ports\":[{\"port\":0}]}]}}",
		0, NULL);
	json_t *pod = json_loads("{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"
				 "\"w\",\"namespace\":\"a\"},\"spec\":{\"containers\":[]},"
				 "\"status\":{\"podIP\":\"10.0.0.1\"}}",
				 0, NULL);
	struct bl_errlist errs;
	struct bl_pol_delta d;

	bl_errlist_init(&errs);
	cr_assert_eq(bl_netpol_incr_set(c, pod, &errs), 0);
	cr_assert_eq(bl_netpol_incr_set(c, good, &errs), 0);
	cr_assert_eq(bl_netpol_incr_commit(c, &d), 0);
	cr_assert_eq(d.n_ep_up, 1);
	bl_pol_delta_free(&d);
	cr_assert_eq(bl_netpol_incr_set(c, bad, &errs), -EINVAL);
	cr_assert(bl_errlist_contains(&errs, "NetworkPolicy a/p: spec.ingress[0].ports[0].port"),
		  "%s", errs.msgs[0]);
	cr_assert(bl_errlist_contains(&errs, "its last good version stays in force"));
	cr_assert_eq(bl_netpol_incr_commit(c, &d), 0);
	cr_assert_eq(d.n_ep_up + d.n_ep_del + d.n_rule_up + d.n_rule_del, 0,
		     "the bad edit changed the maps");
	bl_pol_delta_free(&d);
	cr_assert_eq(bl_netpol_incr_remove(c, "NetworkPolicy", "a", "p"), 0);
	bl_errlist_clear(&errs);
	cr_assert_eq(bl_netpol_incr_set(c, bad, &errs), -EINVAL);
	cr_assert(bl_errlist_contains(&errs, "left out (no earlier good version)"));
	cr_assert_eq(bl_netpol_incr_commit(c, &d), 0);
	cr_assert_eq(d.n_ep_del, 1, "deleting the policy did not lift the isolation");
	bl_pol_delta_free(&d);
	bl_errlist_free(&errs);
	json_decref(good);
	json_decref(bad);
	json_decref(pod);
	bl_netpol_incr_free(c);
}
