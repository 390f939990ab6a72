/* The compiler's Kubernetes rules, checked on real values (network order, counts). */
#include "helpers.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <string.h>

static struct bl_svc_table T;
static struct bl_errlist E;

static void setup(void)
{
	bl_errlist_init(&E);
}

static void teardown(void)
{
	bl_svc_table_free(&T);
	bl_errlist_free(&E);
}

TestSuite(compile, .init = setup, .fini = teardown);

static void assert_backend(const struct bl_svc_backend *b, const char *ip, uint16_t port,
			   uint8_t proto)
{
	char buf[48];

	cr_assert_str_eq(be_ip(b, buf), ip);
	cr_assert_eq(b->addr.addr[0], inet_addr(ip));
	cr_assert_eq(b->port, htons(port), "%s: port %u", ip, ntohs(b->port));
	cr_assert_eq(b->proto, proto);
	cr_assert_eq(b->family, BPFLET_AF_INET);
}

Test(compile, named_target_port_resolves_per_slice_and_merges_slices)
{
	const struct bl_svc_frontend *fe;

	compile_fixtures(NULL, &T, &E, "web.yaml", NULL);
	cr_assert_eq(E.n, 0, "%s", E.n ? E.msgs[0] : "");
	cr_assert_eq(T.n, 2);
	fe = fe_get(&T, "10.96.0.10", 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);
	cr_assert(fe);
	cr_assert_eq(fe->key.addr.addr[0], inet_addr("10.96.0.10"));
	cr_assert_eq(fe->key.port, htons(80));
	cr_assert_eq(fe->key.family, BPFLET_AF_INET);
	cr_assert_eq(fe->key.scope, BPFLET_SCOPE_INTERNAL);
	cr_assert_str_eq(fe->name, "shop/web:http");
	cr_assert_eq(fe->flags, 0);
	/* web-a1 says http=8080, web-b2 says http=8081; the duplicate 10.244.1.3 (twice in
	 * web-a1) and 10.244.1.7 (in web-a1 and web-c3) appear once; sorted by address */
	cr_assert_eq(fe->n_backends, 3);
	assert_backend(&fe->backends[0], "10.244.1.3", 8080, IPPROTO_TCP);
	assert_backend(&fe->backends[1], "10.244.1.7", 8080, IPPROTO_TCP);
	assert_backend(&fe->backends[2], "10.244.2.5", 8081, IPPROTO_TCP);
	cr_assert_str_eq(bl_zone_name(fe->backends[1].zone), "zone-a");
	cr_assert_str_eq(bl_zone_name(fe->backends[2].zone), "zone-b");
	cr_assert_str_eq(bl_zone_name(fe->backends[0].zone), "");

	/* the metrics port is only in web-a1 */
	fe = fe_get(&T, "10.96.0.10", 9090, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);
	cr_assert(fe);
	cr_assert_str_eq(fe->name, "shop/web:metrics");
	cr_assert_eq(fe->n_backends, 2);
	assert_backend(&fe->backends[0], "10.244.1.3", 9090, IPPROTO_TCP);
	assert_backend(&fe->backends[1], "10.244.1.7", 9090, IPPROTO_TCP);
}

Test(compile, node_local_flag_follows_node_name)
{
	struct bl_compile_opts o = {.node_name = "node-b"};
	const struct bl_svc_frontend *fe;

	compile_fixtures(&o, &T, &E, "web.yaml", NULL);
	fe = fe_get(&T, "10.96.0.10", 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);
	cr_assert_eq(fe->n_backends, 3);
	cr_assert_not(fe->backends[0].local);
	cr_assert_not(fe->backends[1].local);
	cr_assert(fe->backends[2].local);
	cr_assert_not(fe->local_only);
}

Test(compile, skip_rules)
{
	compile_fixtures(NULL, &T, &E, "skips.yaml", NULL);
	cr_assert_eq(E.n, 0, "%s", E.n ? E.msgs[0] : "");
	/* headless, ExternalName, service-proxy-name (empty value) and unallocated: none */
	cr_assert_eq(T.n, 1);
	cr_assert_str_eq(T.fe[0].name, "default/kept");
	cr_assert_eq(T.fe[0].key.addr.addr[0], inet_addr("10.96.1.5"));
	cr_assert_eq(T.fe[0].n_backends, 1);
	assert_backend(&T.fe[0].backends[0], "10.244.0.5", 8080, IPPROTO_TCP);
	cr_assert_null(fe_get(&T, "10.96.1.3", 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL));
}

Test(compile, ready_then_serving_terminating_then_nothing)
{
	const struct bl_svc_frontend *fe;

	compile_fixtures(NULL, &T, &E, "conditions.yaml", NULL);
	cr_assert_eq(T.n, 4);

	/* mixed: only the ready one (nil conditions), no terminating fallback needed */
	fe = fe_get(&T, "10.96.2.1", 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);
	cr_assert_eq(fe->n_backends, 1);
	assert_backend(&fe->backends[0], "10.244.3.1", 8080, IPPROTO_TCP);
	cr_assert_not(fe->backends[0].terminating);

	/* draining: no ready endpoint → serving && terminating ones (serving nil = true) */
	fe = fe_get(&T, "10.96.2.2", 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);
	cr_assert_eq(fe->n_backends, 2);
	assert_backend(&fe->backends[0], "10.244.4.1", 8080, IPPROTO_TCP);
	assert_backend(&fe->backends[1], "10.244.4.3", 8080, IPPROTO_TCP);
	cr_assert(fe->backends[0].terminating && fe->backends[1].terminating);

	/* down: nothing usable → a frontend with zero backends (the dataplane rejects) */
	fe = fe_get(&T, "10.96.2.3", 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);
	cr_assert(fe);
	cr_assert_eq(fe->n_backends, 0);
	cr_assert_null(fe->backends);

	/* empty: no slice at all */
	fe = fe_get(&T, "10.96.2.4", 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);
	cr_assert(fe);
	cr_assert_eq(fe->n_backends, 0);
}

Test(compile, tcp_and_udp_on_one_port_are_separate_frontends)
{
	const struct bl_svc_frontend *udp, *tcp, *sticky;

	compile_fixtures(NULL, &T, &E, "protocols.yaml", NULL);
	cr_assert_eq(T.n, 3);
	udp = fe_get(&T, "10.96.0.53", 53, IPPROTO_UDP, BPFLET_SCOPE_INTERNAL);
	tcp = fe_get(&T, "10.96.0.53", 53, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);
	cr_assert(udp && tcp && udp != tcp);
	cr_assert_str_eq(udp->name, "kube-system/dns:dns");
	cr_assert_str_eq(tcp->name, "kube-system/dns:dns-tcp");
	cr_assert_eq(udp->n_backends, 2);
	assert_backend(&udp->backends[0], "10.244.0.10", 5353, IPPROTO_UDP);
	assert_backend(&udp->backends[1], "10.244.0.11", 5353, IPPROTO_UDP);
	cr_assert_eq(tcp->n_backends, 2);
	assert_backend(&tcp->backends[1], "10.244.0.11", 5354, IPPROTO_TCP);
	/* sessionAffinity ClientIP: flag and the default timeout */
	cr_assert_eq(udp->flags, BPFLET_FE_F_AFFINITY);
	cr_assert_eq(udp->affinity_timeout, 10800);
	sticky = fe_get(&T, "10.96.0.60", 443, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);
	cr_assert_str_eq(sticky->name, "default/sticky");
	cr_assert_eq(sticky->flags, BPFLET_FE_F_AFFINITY);
	cr_assert_eq(sticky->affinity_timeout, 600);
	cr_assert_eq(sticky->n_backends, 0);
}

Test(compile, unmatched_slices_are_ignored)
{
	const struct bl_svc_frontend *fe;

	compile_fixtures(NULL, &T, &E, "unmatched.yaml", NULL);
	cr_assert_eq(E.n, 0, "%s", E.n ? E.msgs[0] : "");
	cr_assert_eq(T.n, 1);
	fe = fe_get(&T, "10.96.3.1", 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);
	/* no label, missing service, other namespace, IPv6, FQDN, other port name or
	 * protocol: only app-1 counts */
	cr_assert_eq(fe->n_backends, 1);
	assert_backend(&fe->backends[0], "10.244.6.5", 8080, IPPROTO_TCP);
}

Test(compile, json_manifests_compile_too)
{
	const struct bl_svc_frontend *fe;

	compile_fixtures(NULL, &T, &E, "objects.json", NULL);
	fe = fe_get(&T, "10.96.6.1", 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);
	cr_assert_str_eq(fe->name, "prod/json-svc:http");
	cr_assert_eq(fe->n_backends, 1);
	assert_backend(&fe->backends[0], "10.244.7.1", 8080, IPPROTO_TCP);
}

Test(compile, internal_traffic_policy_local)
{
	struct bl_compile_opts a = {.node_name = "node-a"}, b = {.node_name = "node-b"};
	const struct bl_svc_frontend *fe;

	compile_fixtures(&a, &T, &E, "policy.yaml", NULL);
	/* node-a's only local endpoint is terminating but serving: local fallback */
	fe = fe_get(&T, "10.96.4.2", 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);
	cr_assert(fe->local_only);
	cr_assert_eq(fe->n_backends, 1);
	assert_backend(&fe->backends[0], "10.244.1.2", 8080, IPPROTO_TCP);
	cr_assert(fe->backends[0].terminating && fe->backends[0].local);
	cr_assert_not(fe->no_local_endpoints);
	bl_svc_table_free(&T);

	compile_fixtures(&b, &T, &E, "policy.yaml", NULL);
	fe = fe_get(&T, "10.96.4.2", 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);
	cr_assert_eq(fe->n_backends, 1);
	assert_backend(&fe->backends[0], "10.244.2.2", 8080, IPPROTO_TCP);
	bl_svc_table_free(&T);

	/* no node name: nothing is local, so nothing is eligible; kube-proxy drops (not
	 * rejects) because endpoints exist on other nodes */
	compile_fixtures(NULL, &T, &E, "policy.yaml", NULL);
	fe = fe_get(&T, "10.96.4.2", 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);
	cr_assert_eq(fe->n_backends, 0);
	cr_assert(fe->no_local_endpoints);
	fe = fe_get(&T, "10.96.4.1", 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);
	cr_assert_not(fe->no_local_endpoints);
}

Test(compile, external_frontends_are_off_by_default)
{
	compile_fixtures(NULL, &T, &E, "policy.yaml", NULL);
	/* IPv4 ClusterIPs only: the IPv6 clusterIPs[1] waits for the dataplane */
	cr_assert_eq(T.n, 2);
	for (size_t i = 0; i < T.n; i++)
		cr_assert_eq(T.fe[i].key.scope, BPFLET_SCOPE_INTERNAL);
}

Test(compile, external_frontends_with_traffic_policy_local)
{
	struct bpflet_addr node_ip = {.addr = {inet_addr("172.18.0.2")}};
	struct bl_compile_opts o = {
		.node_name = "node-a", .external = true, .n_node_ips = 1, .node_ips = &node_ip};
	const struct bl_svc_frontend *fe;

	compile_fixtures(&o, &T, &E, "policy.yaml", NULL);
	/* lb: clusterIP + externalIP + LB ingress (the Proxy-mode and hostname ones are
	 * skipped) + NodePort; node-only: clusterIP */
	cr_assert_eq(T.n, 5);
	fe = fe_get(&T, "10.96.4.1", 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);
	cr_assert_eq(fe->n_backends, 2, "internal policy Cluster: every endpoint");
	cr_assert_not(fe->local_only);
	fe = fe_get(&T, "192.0.2.10", 80, IPPROTO_TCP, BPFLET_SCOPE_EXTERNAL);
	cr_assert(fe);
	cr_assert_str_eq(fe->name, "default/lb:web");
	cr_assert(fe->local_only);
	cr_assert_eq(fe->n_backends, 1, "external policy Local: this node's endpoint");
	assert_backend(&fe->backends[0], "10.244.1.1", 8080, IPPROTO_TCP);
	cr_assert_str_eq(bl_zone_name(fe->backends[0].zone), "z1");
	fe = fe_get(&T, "198.51.100.7", 80, IPPROTO_TCP, BPFLET_SCOPE_EXTERNAL);
	cr_assert(fe);
	cr_assert_eq(fe->n_backends, 1);
	cr_assert_null(fe_get(&T, "198.51.100.8", 80, IPPROTO_TCP, BPFLET_SCOPE_EXTERNAL));
	fe = fe_get(&T, "172.18.0.2", 30080, IPPROTO_TCP, BPFLET_SCOPE_EXTERNAL);
	cr_assert(fe);
	cr_assert_eq(fe->key.port, htons(30080));
	cr_assert_eq(fe->n_backends, 1);
}

Test(compile, output_is_sorted_and_independent_of_input_order)
{
	struct bl_svc_table again;
	json_t *objs, *rev;
	json_t **v;
	size_t n;

	compile_fixtures(NULL, &T, &E, "web.yaml", "conditions.yaml", "protocols.yaml",
			 "skips.yaml", "unmatched.yaml", NULL);
	cr_assert_eq(T.n, 11);
	for (size_t i = 1; i < T.n; i++)
		cr_assert_lt(bl_svc_fe_key_cmp(&T.fe[i - 1].key, &T.fe[i].key), 0);
	for (size_t i = 0; i < T.n; i++)
		for (size_t j = 1; j < T.fe[i].n_backends; j++)
			cr_assert_lt(
				bl_svc_backend_cmp(&T.fe[i].backends[j - 1], &T.fe[i].backends[j]),
				0);
	cr_assert_eq(T.fe[0].key.addr.addr[0], inet_addr("10.96.0.10"));
	cr_assert_eq(T.fe[0].key.port, htons(80));
	cr_assert_eq(T.fe[1].key.port, htons(9090), "ports compare numerically, not bytewise");

	/* the same objects backwards give a byte-identical table */
	cr_assert_eq(fixture_parse("web.yaml", &objs, &E), 0);
	rev = json_array();
	n = json_array_size(objs);
	v = calloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(objs, n - 1 - i);
	cr_assert_eq(bl_compile_objects(v, n, NULL, &again, &E), 0);
	cr_assert_eq(again.n, 2);
	for (size_t i = 0; i < again.n; i++) {
		const struct bl_svc_frontend *a = &again.fe[i], *b = &T.fe[i];

		cr_assert_eq(memcmp(&a->key, &b->key, sizeof(a->key)), 0);
		cr_assert_str_eq(a->name, b->name);
		cr_assert_eq(a->n_backends, b->n_backends);
		for (size_t j = 0; j < a->n_backends; j++)
			cr_assert(bl_svc_backend_equal(&a->backends[j], &b->backends[j]));
	}
	bl_svc_table_free(&again);
	free(v);
	json_decref(rev);
	json_decref(objs);
}

Test(compile, conflicts_are_reported_and_resolved_deterministically)
{
	const char *a = "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":"
			"\"a\"},\"spec\":{\"clusterIP\":\"10.96.9.9\",\"ports\":[{\"port\":80}]}}";
	const char *b = "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":"
			"\"b\"},\"spec\":{\"clusterIP\":\"10.96.9.9\",\"ports\":[{\"port\":80}]}}";
	const char *a2 = "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":"
			 "\"a\"},\"spec\":{\"clusterIP\":\"10.96.9.8\",\"ports\":[{\"port\":80}]}}";
	json_t *o[3] = {json_loads(b, 0, NULL), json_loads(a, 0, NULL), json_loads(a2, 0, NULL)};

	cr_assert_eq(bl_compile_objects(o, 3, NULL, &T, &E), 0);
	/* a (first definition) keeps 10.96.9.9 and wins over b; the second "a" is dropped */
	cr_assert_eq(T.n, 1);
	cr_assert_str_eq(T.fe[0].name, "default/a");
	cr_assert_eq(T.fe[0].key.addr.addr[0], inet_addr("10.96.9.9"));
	cr_assert_eq(E.n, 2);
	cr_assert(bl_errlist_contains(&E, "Service default/a: defined more than once"));
	cr_assert(bl_errlist_contains(&E, "frontend 10.96.9.9:80/TCP: claimed by default/a and "
					  "default/b; kept for default/a"));
	for (int i = 0; i < 3; i++)
		json_decref(o[i]);
}

Test(compile, long_names_fit_the_map)
{
	char json[1024], ns[64], name[64], port[64];
	struct bl_svc_table t;
	json_t *o;

	memset(ns, 'n', 63);
	memset(name, 's', 63);
	memset(port, 'p', 63);
	ns[63] = name[63] = port[63] = 0;
	snprintf(json, sizeof(json),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"%s\","
		 "\"namespace\":\"%s\"},\"spec\":{\"clusterIP\":\"10.96.9.1\",\"ports\":[{"
		 "\"name\":\"%s\",\"port\":80}]}}",
		 name, ns, port);
	o = json_loads(json, 0, NULL);
	cr_assert_eq(bl_compile_objects(&o, 1, NULL, &t, &E), 0, "%s", E.n ? E.msgs[0] : "");
	cr_assert_eq(t.n, 1);
	cr_assert_eq(strlen(t.fe[0].name), BPFLET_SVC_NAME_LEN - 1);
	cr_assert_eq(strncmp(t.fe[0].name, ns, 63), 0);
	bl_svc_table_free(&t);
	json_decref(o);
}

Test(compile, records_helpers)
{
	struct bl_svc_backend b = {.port = htons(8080),
				   .proto = IPPROTO_TCP,
				   .family = BPFLET_AF_INET,
				   .terminating = true,
				   .local = true};
	struct bl_svc_backend c;
	struct bpflet_backend abi;
	struct bpflet_fe_key k = {.port = htons(53),
				  .proto = IPPROTO_UDP,
				  .family = BPFLET_AF_INET,
				  .scope = BPFLET_SCOPE_EXTERNAL};
	char buf[80];

	b.addr.addr[0] = inet_addr("10.0.0.1");
	c = b;
	cr_assert(bl_svc_backend_equal(&b, &c));
	c.local = false;
	cr_assert_eq(bl_svc_backend_cmp(&b, &c), 0, "state is not identity");
	cr_assert_not(bl_svc_backend_equal(&b, &c));
	c.addr.addr[0] = inet_addr("10.0.0.2");
	cr_assert_lt(bl_svc_backend_cmp(&b, &c), 0);
	bl_svc_backend_to_abi(&b, 7, &abi);
	cr_assert_eq(abi.addr.addr[0], inet_addr("10.0.0.1"));
	cr_assert_eq(abi.port, htons(8080));
	cr_assert_eq(abi.state, BPFLET_BE_TERMINATING);
	cr_assert_eq(abi.flags, BPFLET_BE_F_LOCAL);
	cr_assert_eq(abi.zone, 7);
	k.addr.addr[0] = inet_addr("10.96.0.10");
	cr_assert_str_eq(bl_svc_fe_key_format(&k, buf, sizeof(buf)), "10.96.0.10:53/UDP external");
	cr_assert_null(bl_svc_table_find(&T, &k), "empty table");
}
