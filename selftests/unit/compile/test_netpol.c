/* NetworkPolicy compiler: records checked through an LPM model of the BPF lookup
 * (ipcache longest match, then the policy trie for the real peer, then ANY). */
#include "controlplane/compile/netpol.h"
#include "selftests/unit/compile/helpers.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#define NS(name, labels)                                                                           \
	"{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" name             \
	"\",\"labels\":" labels "}}"
#define POD(ns, name, ip, labels, ports)                                                           \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"namespace\":\"" ns                \
	"\",\"name\":\"" name "\",\"labels\":" labels "},\"spec\":{\"containers\":[{\"name\":"     \
	"\"c\",\"ports\":" ports "}]},\"status\":{\"podIP\":\"" ip "\"}}"
#define NP(ns, name, spec)                                                                         \
	"{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\",\"metadata\":{"       \
	"\"namespace\":\"" ns "\",\"name\":\"" name "\"},\"spec\":" spec "}"

/* a: web (80 "http", 8080-8090 range testing), db; b: client; c: other */
#define WORLD                                                                                      \
	NS("a", "{\"team\":\"x\"}"), NS("b", "{\"team\":\"x\"}"), NS("c", "{\"team\":\"y\"}"),     \
		POD("a", "web", "10.0.0.1", "{\"app\":\"web\"}",                                   \
		    "[{\"name\":\"http\",\"containerPort\":80},"                                   \
		    "{\"name\":\"dns\",\"containerPort\":53,\"protocol\":\"UDP\"}]"),              \
		POD("a", "db", "10.0.0.2", "{\"app\":\"db\"}",                                     \
		    "[{\"name\":\"http\",\"containerPort\":8080}]"),                               \
		POD("b", "client", "10.0.1.1", "{\"app\":\"client\"}", "[]"),                      \
		POD("c", "other", "10.0.2.1", "{\"app\":\"client\"}", "[]")

static struct bl_pol_table T;
static struct bl_errlist E;

static int compile_list(const char **docs, size_t n)
{
	json_t *objs[32];
	int rc;

	cr_assert(n <= 32);
	for (size_t i = 0; i < n; i++) {
		json_error_t je;

		objs[i] = json_loads(docs[i], 0, &je);
		cr_assert_not_null(objs[i], "doc %zu: %s", i, je.text);
	}
	bl_pol_table_free(&T);
	bl_errlist_free(&E);
	bl_errlist_init(&E);
	rc = bl_netpol_compile(objs, n, &T, &E);
	for (size_t i = 0; i < n; i++)
		json_decref(objs[i]);
	return rc;
}
#define COMPILE(...)                                                                               \
	({                                                                                         \
		const char *d_[] = {__VA_ARGS__};                                                  \
		compile_list(d_, sizeof(d_) / sizeof(d_[0]));                                      \
	})

static uint32_t ip(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static uint32_t ipcache_id(uint32_t addr)
{
	uint32_t best = 0;
	int plen = -1;

	for (size_t i = 0; i < T.n_ipcache; i++) {
		const struct bl_pol_ipcache *c = &T.ipcache[i];

		if ((int)c->key.prefixlen > plen &&
		    lpm_prefix_eq(&c->key.addr, &addr, c->key.prefixlen)) {
			plen = (int)c->key.prefixlen;
			best = c->val.id;
		}
	}
	cr_assert(plen >= 0, "ipcache has no 0.0.0.0/0");
	return best;
}

/* An entry matches, of a class the endpoint lists (the program asks no other). */
static bool trie_has(uint32_t ep, uint32_t peer, uint8_t dir, uint8_t proto, uint16_t port)
{
	struct bpflet_pol_key k = {BPFLET_POL_PLEN_FULL, ep, peer, dir, proto, htons(port)};
	uint32_t classes = 0;

	for (size_t i = 0; i < T.n_endpoints; i++)
		if (T.endpoints[i].addr == ep)
			classes = T.endpoints[i].val.classes[dir];
	for (size_t i = 0; i < T.n_rules; i++)
		if (lpm_prefix_eq(&T.rules[i].key.ep_addr, &k.ep_addr, T.rules[i].key.prefixlen) &&
		    (classes & (1u << bpflet_pol_class(T.rules[i].key.prefixlen))))
			return true;
	return false;
}

/* Would a packet src → dst:port/proto pass both the egress check of src and the
 * ingress check of dst? */
static bool allowed(const char *src, const char *dst, uint8_t proto, uint16_t port)
{
	uint32_t s = ip(src), d = ip(dst);

	for (int dir = 0; dir < 2; dir++) {
		uint32_t ep = dir == BPFLET_POL_INGRESS ? d : s;
		uint32_t peer = ipcache_id(dir == BPFLET_POL_INGRESS ? s : d);
		uint32_t flag = dir == BPFLET_POL_INGRESS ? BPFLET_POL_EP_ISOLATED_INGRESS
							  : BPFLET_POL_EP_ISOLATED_EGRESS;
		bool isolated = false;

		for (size_t i = 0; i < T.n_endpoints; i++)
			if (T.endpoints[i].addr == ep && (T.endpoints[i].val.flags & flag))
				isolated = true;
		if (isolated && !trie_has(ep, peer, (uint8_t)dir, proto, port) &&
		    !trie_has(ep, BPFLET_POL_PEER_ANY, (uint8_t)dir, proto, port))
			return false;
	}
	return true;
}
#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP

static void fini(void)
{
	bl_pol_table_free(&T);
	bl_errlist_free(&E);
}
static void init(void)
{
	memset(&T, 0, sizeof(T));
	bl_errlist_init(&E);
}
TestSuite(netpol, .init = init, .fini = fini);

Test(netpol, no_policy_allows_everything)
{
	cr_assert_eq(COMPILE(WORLD), 0);
	cr_assert_eq(T.n_endpoints, 0);
	cr_assert(allowed("10.0.2.1", "10.0.0.1", TCP, 80));
	cr_assert(allowed("192.0.2.1", "10.0.0.2", UDP, 9));
}

Test(netpol, empty_ingress_denies_only_selected_pods)
{
	cr_assert_eq(COMPILE(WORLD, NP("a", "deny",
				       "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}}}")),
		     0);
	cr_assert_eq(T.n_endpoints, 1);
	cr_assert_eq(T.endpoints[0].val.flags, BPFLET_POL_EP_ISOLATED_INGRESS);
	cr_assert_not(allowed("10.0.0.2", "10.0.0.1", TCP, 80));
	cr_assert(allowed("10.0.0.1", "10.0.0.2", TCP, 80)); /* egress not isolated */
	cr_assert(allowed("10.0.1.1", "10.0.0.2", TCP, 80)); /* db not selected */
}

Test(netpol, allow_all_rule_and_egress_default_type)
{
	cr_assert_eq(COMPILE(WORLD,
			     NP("a", "all", "{\"podSelector\":{},\"ingress\":[{}],\"egress\":[]}")),
		     0);
	cr_assert_eq(T.n_endpoints, 2);
	cr_assert_eq(T.endpoints[0].val.flags,
		     BPFLET_POL_EP_ISOLATED_INGRESS | BPFLET_POL_EP_ISOLATED_EGRESS);
	cr_assert(allowed("10.0.2.1", "10.0.0.1", UDP, 53));
	cr_assert_not(allowed("10.0.0.1", "10.0.2.1", TCP, 80)); /* egress: [] denies */
}

Test(netpol, explicit_egress_only_type)
{
	cr_assert_eq(
		COMPILE(WORLD, NP("a", "eg", "{\"podSelector\":{},\"policyTypes\":[\"Egress\"]}")),
		0);
	cr_assert_eq(T.endpoints[0].val.flags, BPFLET_POL_EP_ISOLATED_EGRESS);
	cr_assert(allowed("10.0.2.1", "10.0.0.1", TCP, 80));
	cr_assert_not(allowed("10.0.0.1", "10.0.2.1", TCP, 80));
}

Test(netpol, pod_selector_is_same_namespace)
{
	cr_assert_eq(COMPILE(WORLD, NP("a", "p",
				       "{\"podSelector\":{},\"ingress\":[{\"from\":[{"
				       "\"podSelector\":{\"matchLabels\":{\"app\":\"db\"}}}]}]}")),
		     0);
	cr_assert(allowed("10.0.0.2", "10.0.0.1", TCP, 80));
	cr_assert_not(allowed("10.0.1.1", "10.0.0.1", TCP, 80));
	cr_assert_not(allowed("192.0.2.9", "10.0.0.1", TCP, 80));
}

Test(netpol, namespace_selector_alone_and_combined)
{
	cr_assert_eq(
		COMPILE(WORLD, NP("a", "n",
				  "{\"podSelector\":{},\"ingress\":[{\"from\":[{"
				  "\"namespaceSelector\":{\"matchLabels\":{\"team\":\"x\"}}}]}]}")),
		0);
	cr_assert(allowed("10.0.1.1", "10.0.0.1", TCP, 80));
	cr_assert(allowed("10.0.0.2", "10.0.0.1", TCP, 80));
	cr_assert_not(allowed("10.0.2.1", "10.0.0.1", TCP, 80));
	/* both in one peer: AND; the metadata.name label is implicit */
	cr_assert_eq(
		COMPILE(WORLD,
			NP("a", "n",
			   "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"namespaceSelector\":{"
			   "\"matchLabels\":{\"kubernetes.io/"
			   "metadata.name\":\"c\"}},\"podSelector\":{\"matchExpressions\":[{"
			   "\"key\":\"app\",\"operator\":\"In\",\"values\":[\"client\"]}]}}]}]}")),
		0);
	cr_assert(allowed("10.0.2.1", "10.0.0.1", TCP, 80));
	cr_assert_not(allowed("10.0.1.1", "10.0.0.1", TCP, 80));
	/* two peers: OR */
	cr_assert_eq(COMPILE(WORLD, NP("a", "n",
				       "{\"podSelector\":{},\"ingress\":[{\"from\":[{"
				       "\"namespaceSelector\":{\"matchLabels\":{\"kubernetes.io/"
				       "metadata.name\":\"c\"}}},{\"podSelector\":{\"matchLabels\":"
				       "{\"app\":\"db\"}}}]}]}")),
		     0);
	cr_assert(allowed("10.0.2.1", "10.0.0.1", TCP, 80));
	cr_assert(allowed("10.0.0.2", "10.0.0.1", TCP, 80));
	cr_assert_not(allowed("10.0.1.1", "10.0.0.1", TCP, 80));
}

Test(netpol, ipblock_with_except_includes_pods)
{
	cr_assert_eq(COMPILE(WORLD, NP("a", "b",
				       "{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},"
				       "\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/"
				       "16\",\"except\":[\"10.0.2.0/24\"]}}]}]}")),
		     0);
	cr_assert(allowed("10.0.1.1", "10.0.0.1", TCP, 80));
	cr_assert(allowed("10.0.9.9", "10.0.0.1", TCP, 80));
	cr_assert_not(allowed("10.0.2.1", "10.0.0.1", TCP, 80)); /* pod inside except */
	cr_assert_not(allowed("10.0.2.7", "10.0.0.1", TCP, 80));
	cr_assert_not(allowed("10.1.0.1", "10.0.0.1", TCP, 80));
}

Test(netpol, pods_same_labels_split_by_ipblock)
{
	/* client (b) and other (c) differ by namespace anyway; db and a twin with the
	 * same labels but outside the block must get different identities */
	cr_assert_eq(COMPILE(WORLD,
			     POD("a", "db2", "10.9.0.2", "{\"app\":\"db\"}",
				 "[{\"name\":\"http\",\"containerPort\":8080}]"),
			     NP("a", "b",
				"{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":["
				"{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.2/32\"}}]}]}")),
		     0);
	cr_assert(allowed("10.0.0.2", "10.0.0.1", TCP, 80));
	cr_assert_not(allowed("10.9.0.2", "10.0.0.1", TCP, 80));
}

Test(netpol, ports_protocol_and_endport_range)
{
	cr_assert_eq(COMPILE(WORLD, NP("a", "p",
				       "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":80},"
				       "{\"protocol\":\"UDP\",\"port\":1000,\"endPort\":1030},{"
				       "\"protocol\":\"SCTP\"}]}]}")),
		     0);
	cr_assert(allowed("10.0.2.1", "10.0.0.1", TCP, 80));
	cr_assert_not(allowed("10.0.2.1", "10.0.0.1", UDP, 80));
	cr_assert_not(allowed("10.0.2.1", "10.0.0.1", TCP, 81));
	cr_assert_not(allowed("10.0.2.1", "10.0.0.1", UDP, 999));
	for (int p = 1000; p <= 1030; p++)
		cr_assert(allowed("10.0.2.1", "10.0.0.1", UDP, (uint16_t)p), "%d", p);
	cr_assert_not(allowed("10.0.2.1", "10.0.0.1", UDP, 1031));
	cr_assert(allowed("10.0.2.1", "10.0.0.1", IPPROTO_SCTP, 5));
}

Test(netpol, port_range_prefixes)
{
	uint16_t b[32];
	uint8_t l[32];
	size_t n = bl_port_range_prefixes(1000, 1030, b, l);

	/* 1000/13 (1000-1007) 1008/12 (1008-1023) 1024/14 (1024-1027) 1028/15 1030/16 */
	cr_assert_eq(n, 5);
	cr_assert_eq(b[0], 1000);
	cr_assert_eq(l[0], 13);
	cr_assert_eq(b[4], 1030);
	cr_assert_eq(l[4], 16);
	cr_assert_eq(bl_port_range_prefixes(0, 65535, b, l), 1);
	cr_assert_eq(l[0], 0);
	cr_assert_eq(bl_port_range_prefixes(1, 65535, b, l), 16);
}

Test(netpol, named_ports_resolve_on_destination)
{
	/* ingress: "http" is 80 on web, 8080 on db */
	cr_assert_eq(
		COMPILE(WORLD,
			NP("a", "n",
			   "{\"podSelector\":{},\"ingress\":[{\"ports\":[{\"port\":\"http\"}]}]}")),
		0);
	cr_assert(allowed("10.0.2.1", "10.0.0.1", TCP, 80));
	cr_assert_not(allowed("10.0.2.1", "10.0.0.1", TCP, 8080));
	cr_assert(allowed("10.0.2.1", "10.0.0.2", TCP, 8080));
	cr_assert_not(allowed("10.0.2.1", "10.0.0.2", TCP, 80));
	/* egress from client: "http" resolved per destination pod, "dns" is UDP only */
	cr_assert_eq(COMPILE(WORLD, NP("b", "e",
				       "{\"podSelector\":{},\"egress\":[{\"ports\":[{\"port\":"
				       "\"http\"},{\"port\":\"dns\",\"protocol\":\"UDP\"}]}]}")),
		     0);
	cr_assert(allowed("10.0.1.1", "10.0.0.1", TCP, 80));
	cr_assert(allowed("10.0.1.1", "10.0.0.2", TCP, 8080));
	cr_assert_not(allowed("10.0.1.1", "10.0.0.2", TCP, 80));
	cr_assert(allowed("10.0.1.1", "10.0.0.1", UDP, 53));
	cr_assert_not(allowed("10.0.1.1", "10.0.0.1", TCP, 53));
	cr_assert_not(allowed("10.0.1.1", "192.0.2.1", TCP, 80)); /* no pod, no name */
}

Test(netpol, union_of_policies)
{
	cr_assert_eq(COMPILE(WORLD,
			     NP("a", "one",
				"{\"podSelector\":{},\"ingress\":[{\"from\":[{\"podSelector\":{"
				"\"matchLabels\":{\"app\":\"db\"}}}]}]}"),
			     NP("a", "two",
				"{\"podSelector\":{\"matchLabels\":{\"app\":\"web\"}},\"ingress\":["
				"{\"ports\":[{\"port\":81}]}]}")),
		     0);
	cr_assert(allowed("10.0.0.2", "10.0.0.1", TCP, 80));
	cr_assert(allowed("10.0.2.1", "10.0.0.1", TCP, 81));
	cr_assert_not(allowed("10.0.2.1", "10.0.0.1", TCP, 80));
	cr_assert_not(allowed("10.0.2.1", "10.0.0.2", TCP, 81));
	cr_assert_eq(T.n_rule_names, 2);
	cr_assert_str_eq(T.rule_names[1], "a/two ingress[0]");
}

Test(netpol, identities_are_stable)
{
	uint32_t id;

	cr_assert_eq(COMPILE(WORLD, NP("a", "p", "{\"podSelector\":{},\"ingress\":[]}")), 0);
	id = ipcache_id(ip("10.0.1.1"));
	cr_assert_geq(id, BPFLET_POL_PEER_MIN);
	cr_assert_eq(COMPILE(WORLD, POD("c", "new", "10.0.2.9", "{\"x\":\"y\"}", "[]"),
			     NP("a", "p", "{\"podSelector\":{},\"ingress\":[]}")),
		     0);
	cr_assert_eq(ipcache_id(ip("10.0.1.1")), id);
	cr_assert_neq(ipcache_id(ip("10.0.2.9")), id);
}

/* The bad policy is reported by name and left out; a/good (deny all ingress to a's
 * two pods) compiles as if it were alone. */
static void bad(const char *np, const char *needle)
{
	cr_assert_eq(COMPILE(WORLD, NP("a", "good", "{\"podSelector\":{}}"), np), 0, "%s", needle);
	cr_assert(bl_errlist_contains(&E, needle), "want '%s', got '%s'", needle,
		  E.n ? E.msgs[0] : "(none)");
	cr_assert(bl_errlist_contains(&E, "NetworkPolicy a/bad"));
	cr_assert_eq(E.n, 1, "%zu messages", E.n);
	cr_assert_eq(T.n_endpoints, 2);
	cr_assert_eq(T.n_rules, 0);
	cr_assert_eq(T.n_rule_names, 0);
	cr_assert_not(allowed("10.0.1.1", "10.0.0.1", TCP, 80));
	cr_assert(allowed("10.0.0.1", "10.0.1.1", TCP, 80));
}

Test(netpol, bad_policy_is_left_out_alone)
{
	bad(NP("a", "bad", "{}"), "spec.podSelector: required");
	bad(NP("a", "bad", "{\"podSelector\":{},\"policyTypes\":[\"Both\"]}"),
	    "spec.policyTypes[0]: must be Ingress or Egress");
	bad(NP("a", "bad", "{\"podSelector\":{},\"ingress\":[{\"from\":[{}]}]}"),
	    "spec.ingress[0].from[0]: needs podSelector");
	bad(NP("a", "bad",
	       "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/"
	       "33\"}}]}]}"),
	    "spec.ingress[0].from[0].ipBlock.cidr");
	bad(NP("a", "bad",
	       "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/"
	       "16\",\"except\":[\"10.1.0.0/24\"]}}]}]}"),
	    "except[0]: \"10.1.0.0/24\" must be strictly inside");
	bad(NP("a", "bad",
	       "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/"
	       "16\"},\"podSelector\":{}}]}]}"),
	    "ipBlock cannot be combined");
	bad(NP("a", "bad",
	       "{\"podSelector\":{},\"egress\":[{\"ports\":[{\"port\":90,\"endPort\":80}]}]}"),
	    "spec.egress[0].ports[0].endPort: 80 is below port 90");
	bad(NP("a", "bad",
	       "{\"podSelector\":{},\"egress\":[{\"ports\":[{\"port\":\"http\",\"endPort\":80}]}]"
	       "}"),
	    "endPort: needs a numeric port");
	bad(NP("a", "bad", "{\"podSelector\":{},\"egress\":[{\"ports\":[{\"port\":70000}]}]}"),
	    "spec.egress[0].ports[0].port");
	bad(NP("a", "bad",
	       "{\"podSelector\":{},\"egress\":[{\"ports\":[{\"protocol\":\"ICMP\"}]}]}"),
	    "spec.egress[0].ports[0].protocol");
	bad(NP("a", "bad",
	       "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}}"),
	    "spec.podSelector.matchExpressions[0].values: must be non-empty");
	bad(NP("a", "bad",
	       "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Near\"}]}}"),
	    "operator: \"Near\" is not In");
}

Test(netpol, bad_pod_is_left_out_alone)
{
	cr_assert_eq(COMPILE(WORLD, POD("a", "bad", "10.0.0.300", "{}", "[]")), 0);
	cr_assert(bl_errlist_contains(&E, "Pod a/bad: status.podIP"), "%s", E.n ? E.msgs[0] : "");
	cr_assert_eq(E.n, 1);
	cr_assert_neq(ipcache_id(ip("10.0.0.1")), ipcache_id(ip("0.0.0.0")));
	cr_assert_neq(ipcache_id(ip("10.0.2.1")), ipcache_id(ip("0.0.0.0")));
}

Test(netpol, egress_ipblock_and_types_override_rules)
{
	/* the second policy's block is numbered after the first one's */
	cr_assert_eq(COMPILE(WORLD,
			     NP("b", "x",
				"{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{"
				"\"cidr\":\"172.16.0.0/12\"}}]}]}"),
			     NP("b", "e",
				"{\"podSelector\":{},\"egress\":[{\"to\":[{\"ipBlock\":{\"cidr\":"
				"\"10.0.0.1/32\"}}],\"ports\":[{\"port\":80}]}]}")),
		     0);
	cr_assert(allowed("10.0.1.1", "10.0.0.1", TCP, 80));
	cr_assert_not(allowed("10.0.1.1", "10.0.0.2", TCP, 80));
	cr_assert_not(allowed("10.0.1.1", "10.0.0.1", TCP, 81));
	cr_assert(allowed("172.20.0.1", "10.0.1.1", UDP, 7));
	cr_assert_not(allowed("10.0.0.1", "10.0.1.1", UDP, 7));
	/* policyTypes [Ingress] with egress rules: egress is not isolated */
	cr_assert_eq(
		COMPILE(WORLD,
			NP("b", "i",
			   "{\"podSelector\":{},\"policyTypes\":[\"Ingress\"],\"egress\":[]}")),
		0);
	cr_assert_eq(T.endpoints[0].val.flags, BPFLET_POL_EP_ISOLATED_INGRESS);
	cr_assert(allowed("10.0.1.1", "192.0.2.1", TCP, 443));
}

Test(netpol, too_many_excepts_is_an_error_not_a_silent_cut)
{
	char list[2048] = "", np[4096];

	for (int k = 0; k < 65; k++)
		sprintf(list + strlen(list), "%s\"10.%d.0.0/16\"", k ? "," : "", k);
	snprintf(np, sizeof(np),
		 NP("a", "bad",
		    "{\"podSelector\":{},\"ingress\":[{\"from\":[{\"ipBlock\":{"
		    "\"cidr\":\"10.0.0.0/8\",\"except\":[%s]}}]}]}"),
		 list);
	bad(np, "spec.ingress[0].from[0].ipBlock.except: at most 64 entries");
}
