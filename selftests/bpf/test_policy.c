/*
 * BPF_PROG_TEST_RUN cases for NetworkPolicy enforcement (bpf/lib/policy.h): the rule
 * lookup itself (a port block as a prefix class, the wildcard peer row, a wildcard
 * port, the peer's row before the wildcard row, the classes the endpoint lists, the
 * ipcache's /32s before its prefixes), the verdicts kept for established
 * flows (pass entries in the Service conntrack, the policy conntrack of tc_pod_to)
 * that let replies through, Service flows judged against the backend, and the deny
 * counter. tc_pod_to is the pod's ingress, tc_pod its egress.
 */
#include "agent/common/maps_util.h"
#include "agent/common/paths.h"
#include "agent/dataplane/pol_migrate.h"
#include "selftests/bpf/harness.h"
#include "selftests/bpf/packet.h"
#include "selftests/bpf/svc_lb_cases.h"
#include "tc_pod.skel.h"

#include <bpflet/abi.h>
#include <bpflet/policy_abi.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <sched.h>
#include <linux/pkt_cls.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define POD  "10.244.0.50" /* the isolated endpoint */
#define PEER "10.244.0.51"
#define FAR  "10.244.0.52" /* a pod no rule names */

#define VIP "10.96.0.77" /* a ClusterIP in front of PEER or FAR */

#define PEER_ID 1000u
#define FAR_ID	1001u
#define REST_ID 1002u /* 0.0.0.0/0 */

/* the device a packet came in on; 0: the node itself sent it */
static __u32 in_ifindex = 1;

static int run_prog(struct bpf_program *prog, uint8_t *in, size_t len)
{
	uint8_t out[PKT_MAX];
	struct __sk_buff ctx = {.ingress_ifindex = in_ifindex, .ifindex = 1};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = PKT_MAX, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &o);

	return err ? -errno : (int)o.retval;
}

static int send_pkt(bool to_pod, const char *src, const char *dst, uint16_t sport, uint16_t dport,
		    uint8_t proto, uint8_t flags)
{
	struct pkt_spec s = {.src = src,
			     .dst = dst,
			     .sport = sport,
			     .dport = dport,
			     .proto = proto,
			     .tcp_flags = flags,
			     .payload = 8};
	uint8_t in[PKT_MAX];
	size_t len = pkt_build(in, &s);

	return run_prog(to_pod ? svc_lb_skel->progs.tc_pod_to : svc_lb_skel->progs.tc_pod, in, len);
}

/* A /32 goes to the hash, a shorter prefix to the trie (as pol_sync writes them). */
static void ipc(const char *addr, uint32_t plen, uint32_t id)
{
	struct bpflet_ipcache_key k = {.prefixlen = plen, .addr = ip4(addr)};
	struct bpflet_ipcache_val v = {.id = id};

	if (plen == 32)
		bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_ipch_v1), &k.addr, &v,
				    BPF_ANY);
	else
		bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_ipc_v2), &k, &v, BPF_ANY);
}

/* The endpoint isolated for the given directions, the peers in the ipcache. */
static void setup_ep(uint32_t flags)
{
	struct bpflet_pol_ep v = {.flags = flags};
	__be32 a = ip4(POD);

	bl_map_clear(bpf_map__fd(svc_lb_skel->maps.bl_ipc_v2));
	bl_map_clear(bpf_map__fd(svc_lb_skel->maps.bl_ipch_v1));
	bl_map_clear(bpf_map__fd(svc_lb_skel->maps.bl_pol_v2));
	bl_map_clear(bpf_map__fd(svc_lb_skel->maps.bl_polep_v2));
	bl_map_clear(bpf_map__fd(svc_lb_skel->maps.bl_polct_v1));
	bl_map_clear(bpf_map__fd(svc_lb_skel->maps.bl_ct_tcp_v2));
	bl_map_clear(bpf_map__fd(svc_lb_skel->maps.bl_ct_any_v2));
	bl_map_clear(bpf_map__fd(svc_lb_skel->maps.bl_fe_v1));
	ipc(PEER, 32, PEER_ID);
	ipc(FAR, 32, FAR_ID);
	ipc(POD, 32, 999);
	ipc("0.0.0.0", 0, REST_ID);
	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_polep_v2), &a, &v, BPF_ANY);
}

/* The endpoint asks for entries of plen's class in dir (as the compiler lists them). */
static void ep_class(uint8_t dir, uint32_t plen, bool on)
{
	int fd = bpf_map__fd(svc_lb_skel->maps.bl_polep_v2);
	struct bpflet_pol_ep v = {0};
	__be32 a = ip4(POD);

	bpf_map_lookup_elem(fd, &a, &v);
	if (on)
		v.classes[dir] |= 1u << bpflet_pol_class(plen);
	else
		v.classes[dir] &= ~(1u << bpflet_pol_class(plen));
	bpf_map_update_elem(fd, &a, &v, BPF_ANY);
}

static void rule(uint32_t peer, uint8_t dir, uint8_t proto, uint16_t port, uint32_t plen,
		 uint32_t rule_id)
{
	struct bpflet_pol_key k = {.prefixlen = plen,
				   .ep_addr = ip4(POD),
				   .peer_id = peer,
				   .dir = dir,
				   .proto = plen > BPFLET_POL_PLEN_DIR ? proto : 0,
				   .port = plen > BPFLET_POL_PLEN_PROTO ? htons(port) : 0};
	struct bpflet_pol_val v = {.rule_id = rule_id};

	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_pol_v2), &k, &v, BPF_ANY);
	ep_class(dir, plen, true);
}

static unsigned long long cnt(enum bpflet_counter c)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpflet_counter_val v[ncpu];
	unsigned long long n = 0;
	__u32 k = c;

	if (bpf_map_lookup_elem(bpf_map__fd(svc_lb_skel->maps.bl_cnt_v1), &k, v))
		return ~0ull;
	for (int i = 0; i < ncpu; i++)
		n += v[i].packets;
	return n;
}

static unsigned long long rule_packets(uint32_t rule_id)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpflet_counter_val v[ncpu];
	unsigned long long n = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(svc_lb_skel->maps.bl_polcnt_v1), &rule_id, v))
		return ~0ull;
	for (int i = 0; i < ncpu; i++)
		n += v[i].packets;
	return n;
}

#define SYN 0x02
#define ACK 0x10

/* Ports 80-83 as one /14 block of the port field: 80..83 allowed, 79 and 84 not. */
static void test_port_prefix(void)
{
	setup_ep(BPFLET_POL_EP_ISOLATED_INGRESS);
	rule(PEER_ID, BPFLET_POL_INGRESS, IPPROTO_TCP, 80, BPFLET_POL_PLEN_PROTO + 14, 7);
	for (uint16_t port = 79; port <= 84; port++) {
		int want = port >= 80 && port <= 83 ? TC_ACT_OK : TC_ACT_SHOT;
		int rc = send_pkt(true, PEER, POD, 40000 + port, port, IPPROTO_TCP, SYN);

		EXPECT(rc == want, "port %u: verdict %d, want %d", port, rc, want);
	}
	EXPECT(cnt(BPFLET_CNT_DROP_POLICY) == 2, "drop_policy %llu, want 2",
	       cnt(BPFLET_CNT_DROP_POLICY));
	EXPECT(rule_packets(7) == 4, "rule 7 counted %llu packets, want 4", rule_packets(7));
	/* the same port over UDP is another protocol: denied */
	EXPECT(send_pkt(true, PEER, POD, 5000, 80, IPPROTO_UDP, 0) == TC_ACT_SHOT,
	       "UDP to a TCP-only rule passed");
}

/* The wildcard row (empty from) allows every peer; a wildcard port (prefix ends
 * after proto) every port of that protocol. */
static void test_wildcard_peer_and_port(void)
{
	setup_ep(BPFLET_POL_EP_ISOLATED_INGRESS);
	rule(BPFLET_POL_PEER_ANY, BPFLET_POL_INGRESS, IPPROTO_UDP, 53, BPFLET_POL_PLEN_FULL, 3);
	rule(FAR_ID, BPFLET_POL_INGRESS, IPPROTO_TCP, 0, BPFLET_POL_PLEN_PROTO, 4);
	EXPECT(send_pkt(true, PEER, POD, 5000, 53, IPPROTO_UDP, 0) == TC_ACT_OK,
	       "wildcard peer: UDP 53 from PEER denied");
	EXPECT(send_pkt(true, "192.0.2.9", POD, 5000, 53, IPPROTO_UDP, 0) == TC_ACT_OK,
	       "wildcard peer: UDP 53 from an outside address denied");
	EXPECT(send_pkt(true, PEER, POD, 5001, 54, IPPROTO_UDP, 0) == TC_ACT_SHOT,
	       "wildcard peer: UDP 54 allowed");
	EXPECT(send_pkt(true, FAR, POD, 5002, 12345, IPPROTO_TCP, SYN) == TC_ACT_OK,
	       "wildcard port: TCP 12345 from FAR denied");
	EXPECT(send_pkt(true, PEER, POD, 5003, 12345, IPPROTO_TCP, SYN) == TC_ACT_SHOT,
	       "wildcard port of FAR also allowed PEER");
	EXPECT(rule_packets(3) == 2 && rule_packets(4) == 1, "rule counters %llu/%llu, want 2/1",
	       rule_packets(3), rule_packets(4));
}

/* A rule covering every protocol and port (prefix ends after dir). */
static void test_any_proto(void)
{
	setup_ep(BPFLET_POL_EP_ISOLATED_INGRESS);
	rule(PEER_ID, BPFLET_POL_INGRESS, 0, 0, BPFLET_POL_PLEN_DIR, 5);
	EXPECT(send_pkt(true, PEER, POD, 1, 2, IPPROTO_TCP, SYN) == TC_ACT_OK, "TCP denied");
	EXPECT(send_pkt(true, PEER, POD, 1, 2, IPPROTO_UDP, 0) == TC_ACT_OK, "UDP denied");
	EXPECT(send_pkt(true, FAR, POD, 1, 2, IPPROTO_UDP, 0) == TC_ACT_SHOT,
	       "another peer allowed");
	/* egress is not isolated: anything the pod sends passes */
	EXPECT(send_pkt(false, POD, FAR, 1, 2, IPPROTO_UDP, 0) == TC_ACT_OK,
	       "egress of an ingress-only endpoint dropped");
}

/* Egress isolated: a pod's allowed connection gets its replies in although ingress is
 * isolated too and no ingress rule names the peer; a denied one leaves nothing. */
static void test_replies_pass(void)
{
	struct bpflet_polct_key k = {.saddr = ip4(PEER),
				     .daddr = ip4(POD),
				     .sport = htons(80),
				     .dport = htons(33000),
				     .proto = IPPROTO_TCP,
				     .hook = BPFLET_POL_HOOK_TO_POD};
	struct bpflet_polct_val v;

	setup_ep(BPFLET_POL_EP_ISOLATED_INGRESS | BPFLET_POL_EP_ISOLATED_EGRESS);
	rule(PEER_ID, BPFLET_POL_EGRESS, IPPROTO_TCP, 80, BPFLET_POL_PLEN_FULL, 9);
	REQUIRE(send_pkt(false, POD, PEER, 33000, 80, IPPROTO_TCP, SYN) == TC_ACT_OK,
		"allowed egress SYN dropped");
	EXPECT(bpf_map_lookup_elem(bpf_map__fd(svc_lb_skel->maps.bl_polct_v1), &k, &v) == 0 &&
		       v.rule_id == 9 && (v.flags & BPFLET_POLCT_F_REPLY),
	       "no reply entry for the allowed connection");
	EXPECT(send_pkt(true, PEER, POD, 80, 33000, IPPROTO_TCP, SYN | ACK) == TC_ACT_OK,
	       "SYN-ACK of an allowed connection dropped");
	EXPECT(send_pkt(false, POD, PEER, 33000, 80, IPPROTO_TCP, ACK) == TC_ACT_OK,
	       "established egress packet dropped");
	/* a new connection from the peer itself is judged by the ingress rules: none */
	EXPECT(send_pkt(true, PEER, POD, 80, 33000, IPPROTO_TCP, SYN) == TC_ACT_SHOT,
	       "a SYN reusing the reply tuple passed");
	EXPECT(send_pkt(false, POD, FAR, 33001, 80, IPPROTO_TCP, SYN) == TC_ACT_SHOT,
	       "egress to an unlisted peer passed");
	k.saddr = ip4(FAR);
	k.sport = htons(80);
	k.dport = htons(33001);
	EXPECT(bpf_map_lookup_elem(bpf_map__fd(svc_lb_skel->maps.bl_polct_v1), &k, &v) != 0,
	       "a denied connection left a reply entry");
	EXPECT(send_pkt(true, FAR, POD, 80, 33001, IPPROTO_TCP, SYN | ACK) == TC_ACT_SHOT,
	       "the reply of a denied connection passed");
}

/* The reply of a pod isolated for ingress only is judged as its own new flow, whose
 * entry for the replies has the connection's tuple: it must not replace the rule
 * that allowed the connection, so later packets still count to that rule. */
static void test_reply_keeps_rule(void)
{
	struct bpflet_polct_key k = {.saddr = ip4(PEER),
				     .daddr = ip4(POD),
				     .sport = htons(41000),
				     .dport = htons(80),
				     .proto = IPPROTO_TCP,
				     .hook = BPFLET_POL_HOOK_TO_POD};
	struct bpflet_polct_val v = {0};
	unsigned long long before;

	setup_ep(BPFLET_POL_EP_ISOLATED_INGRESS);
	rule(PEER_ID, BPFLET_POL_INGRESS, IPPROTO_TCP, 80, BPFLET_POL_PLEN_FULL, 7);
	REQUIRE(send_pkt(true, PEER, POD, 41000, 80, IPPROTO_TCP, SYN) == TC_ACT_OK,
		"allowed ingress SYN dropped");
	REQUIRE(send_pkt(false, POD, PEER, 80, 41000, IPPROTO_TCP, SYN | ACK) == TC_ACT_OK,
		"the SYN-ACK dropped at tc_pod");
	EXPECT(bpf_map_lookup_elem(bpf_map__fd(svc_lb_skel->maps.bl_polct_v1), &k, &v) == 0 &&
		       v.rule_id == 7 && !(v.flags & BPFLET_POLCT_F_REPLY),
	       "the connection's entry replaced by the reply's (rule %u, flags %u)", v.rule_id,
	       v.flags);
	before = rule_packets(7);
	EXPECT(send_pkt(true, PEER, POD, 41000, 80, IPPROTO_TCP, ACK) == TC_ACT_OK,
	       "established ingress packet dropped");
	EXPECT(rule_packets(7) == before + 1, "the established packet not counted to rule 7");

	/* a stale verdict of the tuple (UDP idle past 180 s) gives way to the replies' */
	setup_ep(BPFLET_POL_EP_ISOLATED_INGRESS | BPFLET_POL_EP_ISOLATED_EGRESS);
	rule(PEER_ID, BPFLET_POL_EGRESS, IPPROTO_UDP, 53, BPFLET_POL_PLEN_FULL, 8);
	k.sport = htons(53);
	k.dport = htons(5353);
	k.proto = IPPROTO_UDP;
	v = (struct bpflet_polct_val){.last_seen_ns = 1, .rule_id = 7};
	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_polct_v1), &k, &v, BPF_ANY);
	REQUIRE(send_pkt(false, POD, PEER, 5353, 53, IPPROTO_UDP, 0) == TC_ACT_OK,
		"allowed egress datagram dropped");
	EXPECT(bpf_map_lookup_elem(bpf_map__fd(svc_lb_skel->maps.bl_polct_v1), &k, &v) == 0 &&
		       v.rule_id == 8 && (v.flags & BPFLET_POLCT_F_REPLY),
	       "a stale entry kept over the replies' (rule %u, flags %u)", v.rule_id, v.flags);
	EXPECT(send_pkt(true, PEER, POD, 53, 5353, IPPROTO_UDP, 0) == TC_ACT_OK,
	       "the reply dropped by the stale entry");
}

/* A pod no policy selects is not looked at, in either direction. */
static void test_not_isolated(void)
{
	setup_ep(BPFLET_POL_EP_ISOLATED_INGRESS);
	EXPECT(send_pkt(true, POD, PEER, 1, 80, IPPROTO_TCP, SYN) == TC_ACT_OK,
	       "to an unlisted pod dropped");
	EXPECT(send_pkt(false, PEER, POD, 1, 80, IPPROTO_TCP, SYN) == TC_ACT_OK,
	       "from an unlisted pod dropped");
	EXPECT(cnt(BPFLET_CNT_DROP_POLICY) == 0, "drop_policy counted");
}

/* The node's own traffic (kubelet probes) reaches an isolated pod, and the pod's
 * answer passes its isolated egress; the same packets from a pod do not. */
static void test_node_allowed(void)
{
	setup_ep(BPFLET_POL_EP_ISOLATED_INGRESS | BPFLET_POL_EP_ISOLATED_EGRESS);
	in_ifindex = 0;
	EXPECT(send_pkt(true, FAR, POD, 40000, 8080, IPPROTO_TCP, SYN) == TC_ACT_OK,
	       "the node's SYN to an isolated pod dropped");
	in_ifindex = 1;
	EXPECT(send_pkt(false, POD, FAR, 8080, 40000, IPPROTO_TCP, SYN | ACK) == TC_ACT_OK,
	       "the pod's answer to the node dropped by its egress isolation");
	EXPECT(send_pkt(true, FAR, POD, 40001, 8080, IPPROTO_TCP, SYN) == TC_ACT_SHOT,
	       "the same SYN from a pod passed");
	EXPECT(send_pkt(false, POD, FAR, 8080, 40001, IPPROTO_TCP, SYN | ACK) == TC_ACT_SHOT,
	       "an answer to a connection nobody allowed passed");
}

static void unrule(uint32_t peer, uint8_t dir, uint8_t proto, uint16_t port, uint32_t plen)
{
	struct bpflet_pol_key k = {.prefixlen = plen,
				   .ep_addr = ip4(POD),
				   .peer_id = peer,
				   .dir = dir,
				   .proto = proto,
				   .port = htons(port)};

	bpf_map_delete_elem(bpf_map__fd(svc_lb_skel->maps.bl_pol_v2), &k);
}

static bool ct_entry(const char *s, uint16_t sp, const char *d, uint16_t dp,
		     struct bpflet_ct_val *out)
{
	struct bpflet_ct_key k = {.sport = htons(sp),
				  .dport = htons(dp),
				  .proto = IPPROTO_TCP,
				  .family = BPFLET_AF_INET};

	k.saddr.addr[0] = ip4(s);
	k.daddr.addr[0] = ip4(d);
	return bpf_map_lookup_elem(bpf_map__fd(svc_lb_skel->maps.bl_ct_tcp_v2), &k, out) == 0;
}

/* The peer's own row is asked first, the wildcard row after it: a port only the
 * wildcard row allows still passes for a peer that has rows of its own. */
static void test_peer_row_then_wildcard(void)
{
	setup_ep(BPFLET_POL_EP_ISOLATED_INGRESS);
	rule(PEER_ID, BPFLET_POL_INGRESS, IPPROTO_TCP, 80, BPFLET_POL_PLEN_FULL, 21);
	rule(BPFLET_POL_PEER_ANY, BPFLET_POL_INGRESS, IPPROTO_TCP, 443, BPFLET_POL_PLEN_FULL, 22);
	EXPECT(send_pkt(true, PEER, POD, 6000, 80, IPPROTO_TCP, SYN) == TC_ACT_OK,
	       "PEER's own row (80) denied");
	EXPECT(send_pkt(true, PEER, POD, 6001, 443, IPPROTO_TCP, SYN) == TC_ACT_OK,
	       "wildcard row (443) denied to a peer with rows of its own");
	EXPECT(send_pkt(true, FAR, POD, 6002, 443, IPPROTO_TCP, SYN) == TC_ACT_OK,
	       "wildcard row (443) denied to FAR");
	EXPECT(send_pkt(true, FAR, POD, 6003, 80, IPPROTO_TCP, SYN) == TC_ACT_SHOT,
	       "PEER's row allowed FAR");
	EXPECT(rule_packets(21) == 1 && rule_packets(22) == 2, "rule counters %llu/%llu, want 1/2",
	       rule_packets(21), rule_packets(22));
}

/* An allowed direct connection of an isolated pod keeps its verdict in the Service
 * conntrack as a pass entry (identity, svc_id 0, the rule in backend_id): its later
 * packets follow it, counted for the rule, even after the rule is gone; a SYN reusing
 * the tuple is judged again. */
static void test_pass_entry(void)
{
	struct bpflet_ct_val v;

	setup_ep(BPFLET_POL_EP_ISOLATED_EGRESS);
	rule(PEER_ID, BPFLET_POL_EGRESS, IPPROTO_TCP, 80, BPFLET_POL_PLEN_FULL, 31);
	REQUIRE(send_pkt(false, POD, PEER, 33100, 80, IPPROTO_TCP, SYN) == TC_ACT_OK,
		"allowed SYN dropped");
	REQUIRE(ct_entry(POD, 33100, PEER, 80, &v), "no pass entry for the allowed connection");
	EXPECT(v.svc_id == 0 && v.dir == BPFLET_CT_FORWARD && v.backend_id == 31 &&
		       v.nat_addr.addr[0] == ip4(PEER) && v.nat_port == htons(80) &&
		       (v.flags & BPFLET_CT_F_SYN_SEEN),
	       "pass entry: svc %u dir %u rule %u nat %08x:%u flags %x", v.svc_id, v.dir,
	       v.backend_id, ntohl(v.nat_addr.addr[0]), ntohs(v.nat_port), v.flags);
	EXPECT(!ct_entry(PEER, 80, POD, 33100, &v), "a reply entry although ingress is open");
	unrule(PEER_ID, BPFLET_POL_EGRESS, IPPROTO_TCP, 80, BPFLET_POL_PLEN_FULL);
	EXPECT(send_pkt(false, POD, PEER, 33100, 80, IPPROTO_TCP, ACK) == TC_ACT_OK,
	       "established packet dropped once its rule went");
	EXPECT(rule_packets(31) == 2, "rule 31 counted %llu packets, want 2", rule_packets(31));
	EXPECT(ct_entry(POD, 33100, PEER, 80, &v) && (v.flags & BPFLET_CT_F_SYNACK_SEEN),
	       "the first ACK did not mark the pass entry established (flags %x)", v.flags);
	EXPECT(send_pkt(false, POD, PEER, 33100, 80, IPPROTO_TCP, SYN) == TC_ACT_SHOT,
	       "a SYN reusing the tuple passed on the old verdict");
	EXPECT(!ct_entry(POD, 33100, PEER, 80, &v), "the pass entry outlived the new SYN");
	EXPECT(cnt(BPFLET_CNT_DROP_POLICY) == 1, "drop_policy %llu, want 1",
	       cnt(BPFLET_CNT_DROP_POLICY));
}

/* Ingress allowed, egress isolated: tc_pod_to leaves the pod's replies a pass entry,
 * but never over an entry a Service flow already has for that tuple. */
static void test_reply_pass_entry(void)
{
	struct bpflet_ct_key k = {.sport = htons(80),
				  .dport = htons(41000),
				  .proto = IPPROTO_TCP,
				  .family = BPFLET_AF_INET};
	struct bpflet_ct_val svc = {.dir = BPFLET_CT_REPLY, .svc_id = 3}, v;

	setup_ep(BPFLET_POL_EP_ISOLATED_INGRESS | BPFLET_POL_EP_ISOLATED_EGRESS);
	rule(BPFLET_POL_PEER_ANY, BPFLET_POL_INGRESS, IPPROTO_TCP, 80, BPFLET_POL_PLEN_FULL, 41);
	REQUIRE(send_pkt(true, PEER, POD, 40000, 80, IPPROTO_TCP, SYN) == TC_ACT_OK,
		"allowed ingress SYN dropped");
	REQUIRE(ct_entry(POD, 80, PEER, 40000, &v), "no pass entry for the replies");
	EXPECT(v.svc_id == 0 && v.backend_id == 41 && v.flags == 0,
	       "reply pass entry: svc %u rule %u flags %x", v.svc_id, v.backend_id, v.flags);
	EXPECT(send_pkt(false, POD, PEER, 80, 40000, IPPROTO_TCP, SYN | ACK) == TC_ACT_OK,
	       "SYN-ACK dropped by the isolated egress");
	EXPECT(ct_entry(POD, 80, PEER, 40000, &v) && (v.flags & BPFLET_CT_F_SYNACK_SEEN),
	       "the SYN-ACK did not mark the reply entry (flags %x)", v.flags);
	/* the backend's side of a translated flow: its Service entry stays */
	k.saddr.addr[0] = ip4(POD);
	k.daddr.addr[0] = ip4(FAR);
	svc.nat_addr.addr[0] = ip4(VIP);
	svc.nat_port = htons(80);
	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_ct_tcp_v2), &k, &svc, BPF_ANY);
	EXPECT(send_pkt(true, FAR, POD, 41000, 80, IPPROTO_TCP, SYN) == TC_ACT_OK,
	       "allowed ingress SYN from FAR dropped");
	EXPECT(ct_entry(POD, 80, FAR, 41000, &v) && v.svc_id == 3 && v.dir == BPFLET_CT_REPLY,
	       "the Service flow's reply entry was replaced (svc %u dir %u)", v.svc_id, v.dir);
}

/* A Service flow is judged against the backend the pod is sent to, not the ClusterIP. */
static void test_service_flow_against_backend(void)
{
	struct bpflet_fe_key fk = {
		.port = htons(80), .proto = IPPROTO_TCP, .family = BPFLET_AF_INET, .scope = 1};
	struct bpflet_fe_val fv = {.svc_id = 12, .count = 1};
	struct bpflet_slot_key sk = {.svc_id = 12, .slot = 0};
	struct bpflet_backend b = {
		.port = htons(8080), .proto = IPPROTO_TCP, .family = BPFLET_AF_INET};
	uint32_t id = 1201;
	struct bpflet_ct_val v;

	setup_ep(BPFLET_POL_EP_ISOLATED_EGRESS);
	rule(PEER_ID, BPFLET_POL_EGRESS, IPPROTO_TCP, 8080, BPFLET_POL_PLEN_FULL, 51);
	ipc(VIP, 32, FAR_ID); /* the ClusterIP's own identity must not matter */
	fk.addr.addr[0] = ip4(VIP);
	b.addr.addr[0] = ip4(PEER);
	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_be_v1), &id, &b, BPF_ANY);
	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_slot_v1), &sk, &id, BPF_ANY);
	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_fe_v1), &fk, &fv, BPF_ANY);
	EXPECT(send_pkt(false, POD, VIP, 34000, 80, IPPROTO_TCP, SYN) == TC_ACT_OK,
	       "SYN to the ClusterIP of an allowed backend dropped");
	EXPECT(ct_entry(POD, 34000, VIP, 80, &v) && v.svc_id == 12 &&
		       v.nat_addr.addr[0] == ip4(PEER),
	       "the Service flow was not translated to PEER");
	EXPECT(rule_packets(51) == 1, "rule 51 counted %llu, want 1", rule_packets(51));
	b.addr.addr[0] = ip4(FAR);
	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_be_v1), &id, &b, BPF_ANY);
	EXPECT(send_pkt(false, POD, VIP, 34001, 80, IPPROTO_TCP, SYN) == TC_ACT_SHOT,
	       "SYN to the ClusterIP of a backend no rule allows passed");
	EXPECT(!ct_entry(POD, 34001, VIP, 80, &v), "a denied Service flow left conntrack");
	bpf_map_delete_elem(bpf_map__fd(svc_lb_skel->maps.bl_fe_v1), &fk);
	bpf_map_delete_elem(bpf_map__fd(svc_lb_skel->maps.bl_slot_v1), &sk);
	bpf_map_delete_elem(bpf_map__fd(svc_lb_skel->maps.bl_be_v1), &id);
}

/* The endpoint lists the classes of its entries: only those are asked, longest
 * first (a port's own entry before its protocol's any-port entry). */
static void test_classes_listed(void)
{
	unsigned long long r21 = rule_packets(21), r22 = rule_packets(22);

	setup_ep(BPFLET_POL_EP_ISOLATED_INGRESS);
	rule(PEER_ID, BPFLET_POL_INGRESS, IPPROTO_TCP, 80, BPFLET_POL_PLEN_FULL, 21);
	ep_class(BPFLET_POL_INGRESS, BPFLET_POL_PLEN_FULL, false);
	EXPECT(send_pkt(true, PEER, POD, 41000, 80, IPPROTO_TCP, SYN) == TC_ACT_SHOT,
	       "an entry of a class the endpoint does not list was asked");
	ep_class(BPFLET_POL_INGRESS, BPFLET_POL_PLEN_FULL, true);
	EXPECT(send_pkt(true, PEER, POD, 41001, 80, IPPROTO_TCP, SYN) == TC_ACT_OK,
	       "the entry of a listed class was not found");
	rule(PEER_ID, BPFLET_POL_INGRESS, IPPROTO_TCP, 0, BPFLET_POL_PLEN_PROTO, 22);
	EXPECT(send_pkt(true, PEER, POD, 41002, 80, IPPROTO_TCP, SYN) == TC_ACT_OK &&
		       send_pkt(true, PEER, POD, 41003, 81, IPPROTO_TCP, SYN) == TC_ACT_OK,
	       "port 80 or 81 denied with both classes listed");
	EXPECT(rule_packets(21) - r21 == 2 && rule_packets(22) - r22 == 1,
	       "port 80 by its own entry, 81 by the any-port one: %llu/%llu, want 2/1",
	       rule_packets(21) - r21, rule_packets(22) - r22);
}

/* A pod's /32 (hash) names it even inside an ipBlock (trie); an address without a
 * /32 gets the longest prefix of the trie. */
static void test_ipcache_host_then_prefix(void)
{
	setup_ep(BPFLET_POL_EP_ISOLATED_INGRESS);
	ipc("10.244.0.0", 24, 1100);
	rule(1100, BPFLET_POL_INGRESS, IPPROTO_TCP, 80, BPFLET_POL_PLEN_FULL, 31);
	EXPECT(send_pkt(true, "10.244.0.77", POD, 42000, 80, IPPROTO_TCP, SYN) == TC_ACT_OK,
	       "an address of the /24 without a /32 did not get the /24's identity");
	EXPECT(send_pkt(true, PEER, POD, 42001, 80, IPPROTO_TCP, SYN) == TC_ACT_SHOT,
	       "PEER's own /32 lost to the /24 around it");
	EXPECT(send_pkt(true, "10.245.0.1", POD, 42002, 80, IPPROTO_TCP, SYN) == TC_ACT_SHOT,
	       "an address outside the /24 got its identity");
}

/* Packets between two pods of the node: tc_pod hands the destination's verdict to
 * tc_pod_to (one CPU), which then needs neither the endpoint nor its conntrack. */
static void test_handoff(void)
{
	struct bpflet_pol_ep pe = {.flags = BPFLET_POL_EP_ISOLATED_EGRESS,
				   .classes = {0, 1u << bpflet_pol_class(BPFLET_POL_PLEN_DIR)}};
	struct bpflet_pol_key pk = {.prefixlen = BPFLET_POL_PLEN_DIR,
				    .ep_addr = ip4(PEER),
				    .peer_id = BPFLET_POL_PEER_ANY,
				    .dir = BPFLET_POL_EGRESS};
	struct bpflet_pol_val pv = {.rule_id = 60};
	int polct = bpf_map__fd(svc_lb_skel->maps.bl_polct_v1);
	__be32 peer = ip4(PEER);
	unsigned long long before;
	struct bpflet_ct_val v;
	cpu_set_t set, was;

	sched_getaffinity(0, sizeof(was), &was);
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &set);
	sched_setaffinity(0, sizeof(set), &set);
	setup_ep(BPFLET_POL_EP_ISOLATED_INGRESS);
	rule(PEER_ID, BPFLET_POL_INGRESS, IPPROTO_TCP, 8080, BPFLET_POL_PLEN_FULL, 61);
	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_polep_v2), &peer, &pe, BPF_ANY);
	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_pol_v2), &pk, &pv, BPF_ANY);
	EXPECT(send_pkt(false, PEER, POD, 43000, 8080, IPPROTO_TCP, SYN) == TC_ACT_OK &&
		       send_pkt(true, PEER, POD, 43000, 8080, IPPROTO_TCP, SYN) == TC_ACT_OK,
	       "the SYN PEER -> POD:8080 dropped");
	EXPECT(ct_entry(PEER, 43000, POD, 8080, &v) && v.svc_id == 0 && v.backend_id == 60 &&
		       v.pol_to == 61,
	       "PEER's pass entry does not carry POD's verdict (rule %u, pol_to %u)", v.backend_id,
	       v.pol_to);
	/* from here neither POD's conntrack nor its rules allow anything: only the
	 * hand-off can let tc_pod_to pass */
	bl_map_clear(polct);
	unrule(PEER_ID, BPFLET_POL_INGRESS, IPPROTO_TCP, 8080, BPFLET_POL_PLEN_FULL);
	before = rule_packets(61);
	EXPECT(send_pkt(false, PEER, POD, 43000, 8080, IPPROTO_TCP, ACK) == TC_ACT_OK &&
		       send_pkt(true, PEER, POD, 43000, 8080, IPPROTO_TCP, ACK) == TC_ACT_OK,
	       "the handed-off ACK dropped at tc_pod_to");
	EXPECT(rule_packets(61) == before + 1, "rule 61 counted %llu, want %llu", rule_packets(61),
	       before + 1);
	EXPECT(send_pkt(true, PEER, POD, 43001, 8080, IPPROTO_TCP, ACK) == TC_ACT_SHOT,
	       "another tuple's ACK took the hand-off");
	EXPECT(send_pkt(true, PEER, POD, 43000, 8080, IPPROTO_TCP, SYN) == TC_ACT_SHOT,
	       "a SYN of the handed-off tuple was not judged by the rules");
	/* a new UDP flow: tc_pod's note for it is no verdict */
	EXPECT(send_pkt(false, PEER, POD, 43002, 8080, IPPROTO_UDP, 0) == TC_ACT_OK &&
		       send_pkt(true, PEER, POD, 43002, 8080, IPPROTO_UDP, 0) == TC_ACT_SHOT,
	       "a new flow's first packet passed tc_pod_to on tc_pod's note");
	bpf_map_delete_elem(bpf_map__fd(svc_lb_skel->maps.bl_polep_v2), &peer);
	bpf_map_delete_elem(bpf_map__fd(svc_lb_skel->maps.bl_pol_v2), &pk);
	sched_setaffinity(0, sizeof(was), &was);
}

/* The same hand-off for a Service flow between two pods of the node: the client's
 * forward entry carries the backend's verdict, its reply entry the client's. */
static void test_handoff_service(void)
{
	struct bpflet_fe_key fk = {
		.port = htons(80), .proto = IPPROTO_TCP, .family = BPFLET_AF_INET, .scope = 1};
	struct bpflet_fe_val fv = {.svc_id = 13, .count = 1};
	struct bpflet_slot_key sk = {.svc_id = 13, .slot = 0};
	struct bpflet_backend b = {
		.port = htons(8080), .proto = IPPROTO_TCP, .family = BPFLET_AF_INET};
	struct bpflet_pol_ep pe = {.flags = BPFLET_POL_EP_ISOLATED_INGRESS,
				   .classes = {1u << bpflet_pol_class(BPFLET_POL_PLEN_FULL), 0}};
	struct bpflet_pol_key pk = {BPFLET_POL_PLEN_FULL, ip4(PEER),   999,
				    BPFLET_POL_INGRESS,	  IPPROTO_TCP, htons(8080)};
	struct bpflet_pol_val pv = {.rule_id = 62};
	__be32 peer = ip4(PEER);
	struct bpflet_ct_val f = {0}, r = {0};
	uint32_t id = 1301;
	cpu_set_t set, was;

	sched_getaffinity(0, sizeof(was), &was);
	CPU_ZERO(&set);
	CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &set);
	sched_setaffinity(0, sizeof(set), &set);
	setup_ep(BPFLET_POL_EP_ISOLATED_INGRESS | BPFLET_POL_EP_ISOLATED_EGRESS);
	rule(PEER_ID, BPFLET_POL_EGRESS, IPPROTO_TCP, 8080, BPFLET_POL_PLEN_FULL, 52);
	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_polep_v2), &peer, &pe, BPF_ANY);
	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_pol_v2), &pk, &pv, BPF_ANY);
	fk.addr.addr[0] = ip4(VIP);
	b.addr.addr[0] = ip4(PEER);
	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_be_v1), &id, &b, BPF_ANY);
	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_slot_v1), &sk, &id, BPF_ANY);
	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_fe_v1), &fk, &fv, BPF_ANY);
	EXPECT(send_pkt(false, POD, VIP, 34100, 80, IPPROTO_TCP, SYN) == TC_ACT_OK &&
		       send_pkt(true, POD, PEER, 34100, 8080, IPPROTO_TCP, SYN) == TC_ACT_OK,
	       "the SYN POD -> VIP -> PEER:8080 dropped");
	EXPECT(ct_entry(POD, 34100, VIP, 80, &f) && f.svc_id == 13 && f.pol_to == 62,
	       "the forward entry does not carry PEER's verdict (pol_to %u)", f.pol_to);
	EXPECT(ct_entry(PEER, 8080, POD, 34100, &r) && r.svc_id == 13 && r.pol_to == 52,
	       "the reply entry does not carry POD's verdict for the replies (pol_to %u)",
	       r.pol_to);
	/* neither pod's conntrack nor rules allow anything now: only the hand-off */
	bl_map_clear(bpf_map__fd(svc_lb_skel->maps.bl_polct_v1));
	bpf_map_delete_elem(bpf_map__fd(svc_lb_skel->maps.bl_pol_v2), &pk);
	unrule(PEER_ID, BPFLET_POL_EGRESS, IPPROTO_TCP, 8080, BPFLET_POL_PLEN_FULL);
	EXPECT(send_pkt(false, PEER, POD, 8080, 34100, IPPROTO_TCP, SYN | ACK) == TC_ACT_OK &&
		       send_pkt(true, VIP, POD, 80, 34100, IPPROTO_TCP, SYN | ACK) == TC_ACT_OK,
	       "the handed-off reply dropped at POD's tc_pod_to");
	EXPECT(send_pkt(false, POD, VIP, 34100, 80, IPPROTO_TCP, ACK) == TC_ACT_OK &&
		       send_pkt(true, POD, PEER, 34100, 8080, IPPROTO_TCP, ACK) == TC_ACT_OK,
	       "the handed-off request dropped at PEER's tc_pod_to");
	EXPECT(send_pkt(true, POD, PEER, 34101, 8080, IPPROTO_TCP, ACK) == TC_ACT_SHOT,
	       "another tuple took the hand-off");
	bpf_map_delete_elem(bpf_map__fd(svc_lb_skel->maps.bl_fe_v1), &fk);
	bpf_map_delete_elem(bpf_map__fd(svc_lb_skel->maps.bl_slot_v1), &sk);
	bpf_map_delete_elem(bpf_map__fd(svc_lb_skel->maps.bl_be_v1), &id);
	bpf_map_delete_elem(bpf_map__fd(svc_lb_skel->maps.bl_polep_v2), &peer);
	sched_setaffinity(0, sizeof(was), &was);
}

/* Policy maps of layout 1 (LPM tries, endpoints without classes) pinned by an older
 * agent: copied into the new maps, where the programs reach the same verdicts; the
 * pins go on the last pass. */
static void test_migrate_layout1(void)
{
	struct {
		struct bpflet_ipcache_key k;
		uint32_t id;
	} ipcs[] = {{{32, ip4(PEER)}, PEER_ID}, {{24, ip4("10.244.1.0")}, 1100}, {{0, 0}, REST_ID}};
	struct bpflet_pol_key r1 = {BPFLET_POL_PLEN_FULL, ip4(POD),    PEER_ID,
				    BPFLET_POL_INGRESS,	  IPPROTO_TCP, htons(8080)},
			      r2 = {BPFLET_POL_PLEN_PROTO + 14, ip4(POD),    1100,
				    BPFLET_POL_INGRESS,		IPPROTO_TCP, htons(80)};
	struct bpflet_pol_val v71 = {.rule_id = 71}, v72 = {.rule_id = 72};
	struct bpflet_pol_ep_v1 ep1 = {.flags = BPFLET_POL_EP_ISOLATED_INGRESS};
	struct bpflet_pol_ep got = {0};
	const char *names[] = {BPFLET_MAP_IPCACHE_V1, BPFLET_MAP_POLICY_V1, BPFLET_MAP_POL_EP_V1};
	char instance[64], dir[160], path[3][256];
	LIBBPF_OPTS(bpf_map_create_opts, lpm, .map_flags = BPF_F_NO_PREALLOC);
	struct tc_pod *k = svc_lb_skel;
	struct bl_pol_fds fds = {.ipcache = bpf_map__fd(k->maps.bl_ipc_v2),
				 .ipcache_host = bpf_map__fd(k->maps.bl_ipch_v1),
				 .rules = bpf_map__fd(k->maps.bl_pol_v2),
				 .endpoints = bpf_map__fd(k->maps.bl_polep_v2),
				 .names = bpf_map__fd(k->maps.bl_polname_v1)};
	__be32 pod = ip4(POD);
	int old[3];
	long n;

	snprintf(instance, sizeof(instance), "polmig%d", (int)getpid());
	bl_pin_dir(dir, sizeof(dir), instance);
	mkdir("/sys/fs/bpf/bpflet", 0700);
	REQUIRE(mkdir(dir, 0700) == 0 || errno == EEXIST, "mkdir %s", dir);
	old[0] = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "bl_ipc_v1", sizeof(ipcs[0].k),
				sizeof(struct bpflet_ipcache_val), 16, &lpm);
	old[1] = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, "bl_pol_v1", sizeof(r1), sizeof(v71), 16,
				&lpm);
	old[2] = bpf_map_create(BPF_MAP_TYPE_HASH, "bl_polep_v1", sizeof(pod), sizeof(ep1), 16,
				NULL);
	REQUIRE(old[0] >= 0 && old[1] >= 0 && old[2] >= 0, "maps: %s", strerror(errno));
	for (size_t i = 0; i < 3; i++) {
		struct bpflet_ipcache_val iv = {.id = ipcs[i].id};

		bpf_map_update_elem(old[0], &ipcs[i].k, &iv, BPF_ANY);
	}
	bpf_map_update_elem(old[1], &r1, &v71, BPF_ANY);
	bpf_map_update_elem(old[1], &r2, &v72, BPF_ANY);
	bpf_map_update_elem(old[2], &pod, &ep1, BPF_ANY);
	for (int i = 0; i < 3; i++) {
		snprintf(path[i], sizeof(path[i]), "%s/%s", dir, names[i]);
		REQUIRE(!bpf_obj_pin(old[i], path[i]), "pin %s: %s", path[i], strerror(errno));
	}
	bl_map_clear(fds.ipcache);
	bl_map_clear(fds.ipcache_host);
	bl_map_clear(fds.rules);
	bl_map_clear(fds.endpoints);
	bl_map_clear(bpf_map__fd(k->maps.bl_polct_v1));
	n = bl_pol_migrate(instance, &fds, false);
	EXPECT(n == 6, "copied %ld entries, want 6 (3 prefixes, 2 rules, 1 endpoint)", n);
	EXPECT(bl_map_count(fds.ipcache_host) == 1 && bl_map_count(fds.ipcache) == 2,
	       "the /32 in the hash, the two prefixes in the trie: %ld/%ld",
	       bl_map_count(fds.ipcache_host), bl_map_count(fds.ipcache));
	EXPECT(!bpf_map_lookup_elem(fds.endpoints, &pod, &got) &&
		       got.flags == BPFLET_POL_EP_ISOLATED_INGRESS &&
		       got.classes[BPFLET_POL_INGRESS] ==
			       ((1u << bpflet_pol_class(BPFLET_POL_PLEN_FULL)) |
				(1u << bpflet_pol_class(BPFLET_POL_PLEN_PROTO + 14))) &&
		       !got.classes[BPFLET_POL_EGRESS],
	       "endpoint: flags %#x, classes %#x/%#x", got.flags, got.classes[0], got.classes[1]);
	EXPECT(send_pkt(true, PEER, POD, 44000, 8080, IPPROTO_TCP, SYN) == TC_ACT_OK,
	       "PEER -> POD:8080 denied after the migration");
	EXPECT(send_pkt(true, "10.244.1.5", POD, 44001, 82, IPPROTO_TCP, SYN) == TC_ACT_OK,
	       "the /24's port block 80-83 denied after the migration");
	EXPECT(send_pkt(true, "10.244.1.5", POD, 44002, 84, IPPROTO_TCP, SYN) == TC_ACT_SHOT &&
		       send_pkt(true, FAR, POD, 44003, 8080, IPPROTO_TCP, SYN) == TC_ACT_SHOT,
	       "a port or a peer no rule allows passed after the migration");
	EXPECT(access(path[0], F_OK) == 0, "the first pass removed the old pins");
	EXPECT(bl_pol_migrate(instance, &fds, true) == 0, "the last pass copied");
	EXPECT(access(path[0], F_OK) && access(path[1], F_OK) && access(path[2], F_OK),
	       "the last pass left old pins");
	EXPECT(bl_pol_migrate(instance, &fds, false) == 0, "no old maps: nothing to do");
	for (int i = 0; i < 3; i++) {
		unlink(path[i]);
		close(old[i]);
	}
	rmdir(dir);
}

const struct test_case policy_cases[] = {
	{"policy: a port range as a prefix class (80-83 of 79-84), per-rule counters",
	 test_port_prefix},
	{"policy: wildcard peer row and wildcard port", test_wildcard_peer_and_port},
	{"policy: a rule for every protocol and port", test_any_proto},
	{"policy: replies of an allowed connection pass, of a denied one not", test_replies_pass},
	{"policy: a reply judged as the other pod's flow keeps the connection's rule",
	 test_reply_keeps_rule},
	{"policy: pods without isolation are never looked at", test_not_isolated},
	{"policy: the node's own traffic is allowed, with its replies", test_node_allowed},
	{"policy: the peer's row first, then the wildcard row", test_peer_row_then_wildcard},
	{"policy: an allowed direct flow's verdict as a pass entry in conntrack", test_pass_entry},
	{"policy: a pass entry for the replies, never over a Service flow's entry",
	 test_reply_pass_entry},
	{"policy: a Service flow judged against its backend, not the ClusterIP",
	 test_service_flow_against_backend},
	{"policy: only the classes the endpoint lists are asked, longest first",
	 test_classes_listed},
	{"policy: a pod's /32 (hash) before the ipBlock prefixes (trie)",
	 test_ipcache_host_then_prefix},
	{"policy: tc_pod hands the destination's verdict to tc_pod_to, never for a SYN",
	 test_handoff},
	{"policy: the hand-off for a Service flow between local pods, both ways",
	 test_handoff_service},
	{"policy: layout-1 maps (LPM tries) migrate into the hash layout, then go",
	 test_migrate_layout1},
};
const int policy_n_cases = sizeof(policy_cases) / sizeof(policy_cases[0]);
