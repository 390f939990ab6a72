/*
 * BPF_PROG_TEST_RUN cases for NetworkPolicy enforcement (bpf/lib/policy.h): the rule
 * lookup itself (a port block as an LPM prefix, the wildcard peer row, a wildcard
 * port), the policy conntrack that lets replies through, and the deny counter.
 * tc_pod_to is the pod's ingress, tc_pod its egress.
 */
#include "agent/common/maps_util.h"
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
#include <linux/pkt_cls.h>
#include <string.h>

#define POD  "10.244.0.50" /* the isolated endpoint */
#define PEER "10.244.0.51"
#define FAR  "10.244.0.52" /* a pod no rule names */

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

static void ipc(const char *addr, uint32_t plen, uint32_t id)
{
	struct bpflet_ipcache_key k = {.prefixlen = plen, .addr = ip4(addr)};
	struct bpflet_ipcache_val v = {.id = id};

	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_ipc_v1), &k, &v, BPF_ANY);
}

/* The endpoint isolated for the given directions, the peers in the ipcache. */
static void setup_ep(uint32_t flags)
{
	struct bpflet_pol_ep v = {.flags = flags};
	__be32 a = ip4(POD);

	bl_map_clear(bpf_map__fd(svc_lb_skel->maps.bl_ipc_v1));
	bl_map_clear(bpf_map__fd(svc_lb_skel->maps.bl_pol_v1));
	bl_map_clear(bpf_map__fd(svc_lb_skel->maps.bl_polep_v1));
	bl_map_clear(bpf_map__fd(svc_lb_skel->maps.bl_polct_v1));
	ipc(PEER, 32, PEER_ID);
	ipc(FAR, 32, FAR_ID);
	ipc(POD, 32, 999);
	ipc("0.0.0.0", 0, REST_ID);
	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_polep_v1), &a, &v, BPF_ANY);
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

	bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_pol_v1), &k, &v, BPF_ANY);
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

const struct test_case policy_cases[] = {
	{"policy: a port range as an LPM prefix (80-83 of 79-84), per-rule counters",
	 test_port_prefix},
	{"policy: wildcard peer row and wildcard port", test_wildcard_peer_and_port},
	{"policy: a rule for every protocol and port", test_any_proto},
	{"policy: replies of an allowed connection pass, of a denied one not", test_replies_pass},
	{"policy: pods without isolation are never looked at", test_not_isolated},
	{"policy: the node's own traffic is allowed, with its replies", test_node_allowed},
};
const int policy_n_cases = sizeof(policy_cases) / sizeof(policy_cases[0]);
