/*
 * BPF_PROG_TEST_RUN cases for xdp_uplink: north-south packets crafted as they arrive
 * from outside; verdict, output bytes, checksums, conntrack entries and counters
 * checked. Forwarding to another node needs the FIB: test_run looks it up in the
 * test's own namespace, so those cases accept TX, REDIRECT or a counted no-route drop
 * and check the translated bytes and entries, which do not depend on it.
 */
#include "agent/common/maps_util.h"
#include "selftests/bpf/harness.h"
#include "selftests/bpf/packet.h"
#include "selftests/bpf/svc_lb_cases.h"
#include "selftests/bpf/xdp_util.h"
#include "xdp_uplink.skel.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpflet/abi.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>

struct xdp_uplink *xdp_skel;

static int mfd(struct bpf_map *m)
{
	return bpf_map__fd(m);
}

/* Loaded once; every case starts from empty maps and zero counters. */
bool xdp_fresh(void)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpflet_counter_val *zero = calloc((size_t)ncpu, sizeof(*zero));

	if (!xdp_skel) {
		xdp_skel = xdp_uplink__open();
		if (!xdp_skel)
			return false;
		xdp_skel->rodata->node_ip = ip4(NODE);
		if (xdp_uplink__load(xdp_skel)) {
			xdp_uplink__destroy(xdp_skel);
			xdp_skel = NULL;
			free(zero);
			return false;
		}
	}
	bl_map_clear(mfd(xdp_skel->maps.bl_fe_v1));
	bl_map_clear(mfd(xdp_skel->maps.bl_slot_v1));
	bl_map_clear(mfd(xdp_skel->maps.bl_be_v1));
	bl_map_clear(mfd(xdp_skel->maps.bl_ct_tcp_v2));
	bl_map_clear(mfd(xdp_skel->maps.bl_ct_any_v2));
	bl_map_clear(mfd(xdp_skel->maps.bl_srcr_v1));
	for (__u32 i = 0; zero && i < BPFLET_CNT_MAX; i++)
		bpf_map_update_elem(mfd(xdp_skel->maps.bl_cnt_v1), &i, zero, BPF_ANY);
	free(zero);
	return true;
}

unsigned long long xdp_counter(enum bpflet_counter c)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpflet_counter_val v[ncpu];
	unsigned long long n = 0;
	__u32 k = c;

	if (bpf_map_lookup_elem(mfd(xdp_skel->maps.bl_cnt_v1), &k, v))
		return ~0ull;
	for (int i = 0; i < ncpu; i++)
		n += v[i].packets;
	return n;
}

/* An external frontend {addr, port, TCP} → one backend. */
void xdp_frontend_proto(const char *addr, uint16_t port, uint8_t proto, const char *be_ip,
			bool local, uint16_t flags)
{
	struct bpflet_fe_key k = {.port = htons(port),
				  .proto = proto,
				  .family = BPFLET_AF_INET,
				  .scope = BPFLET_SCOPE_EXTERNAL};
	struct bpflet_fe_val v = {.svc_id = 7, .count = be_ip ? 1 : 0, .flags = flags};
	struct bpflet_slot_key sk = {.svc_id = 7, .slot = 0};
	struct bpflet_backend b = {.port = htons(8080),
				   .proto = proto,
				   .family = BPFLET_AF_INET,
				   .flags = local ? BPFLET_BE_F_LOCAL : 0};
	__u32 id = 70;

	k.addr.addr[0] = ip4(addr);
	if (be_ip) {
		b.addr.addr[0] = ip4(be_ip);
		bpf_map_update_elem(mfd(xdp_skel->maps.bl_be_v1), &id, &b, BPF_ANY);
		bpf_map_update_elem(mfd(xdp_skel->maps.bl_slot_v1), &sk, &id, BPF_ANY);
	}
	bpf_map_update_elem(mfd(xdp_skel->maps.bl_fe_v1), &k, &v, BPF_ANY);
}

void xdp_frontend(const char *addr, uint16_t port, const char *be_ip, bool local, uint16_t flags)
{
	xdp_frontend_proto(addr, port, IPPROTO_TCP, be_ip, local, flags);
}

bool xdp_ct_get(const char *s, uint16_t sp, const char *d, uint16_t dp, struct bpflet_ct_val *out)
{
	struct bpflet_ct_key k = {.sport = htons(sp),
				  .dport = htons(dp),
				  .proto = IPPROTO_TCP,
				  .family = BPFLET_AF_INET};

	k.saddr.addr[0] = ip4(s);
	k.daddr.addr[0] = ip4(d);
	return bpf_map_lookup_elem(mfd(xdp_skel->maps.bl_ct_tcp_v2), &k, out) == 0;
}

int xdp_run_frame(const uint8_t *in, size_t len, uint8_t *out, uint32_t *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = PKT_MAX, .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(xdp_skel->progs.xdp_uplink), &o);

	if (out_len)
		*out_len = o.data_size_out;
	return err ? -errno : (int)o.retval;
}

int xdp_run(const struct pkt_spec *s, uint8_t *out, uint8_t *in, size_t *len)
{
	size_t n = pkt_build(in, s);

	if (len)
		*len = n;
	return xdp_run_frame(in, n, out, NULL);
}

bool xdp_sent(int verdict, unsigned long long no_route_before)
{
	return verdict == XDP_TX || verdict == XDP_REDIRECT ||
	       (verdict == XDP_DROP && xdp_counter(BPFLET_CNT_DROP_NO_ROUTE) > no_route_before);
}

void xdp_fib_part_aside(uint8_t *out, const uint8_t *want)
{
	memcpy(out, want, 12);				  /* MACs */
	out[OFF_IP + 8] = want[OFF_IP + 8];		  /* TTL */
	memcpy(out + OFF_IP + 10, want + OFF_IP + 10, 2); /* and so the header checksum */
}

bool xdp_forwarded(int verdict)
{
	return verdict == XDP_TX || verdict == XDP_REDIRECT ||
	       (verdict == XDP_DROP && xdp_counter(BPFLET_CNT_DROP_NO_ROUTE) == 1);
}

static void test_local_dnat(void)
{
	struct pkt_spec syn = {.src = CLIENT,
			       .dst = NODE,
			       .sport = 40000,
			       .dport = NP,
			       .proto = IPPROTO_TCP,
			       .tcp_flags = 0x02,
			       .tcp_options = true};
	struct bpflet_ct_val fwd, rev;
	uint8_t in[PKT_MAX], out[PKT_MAX];
	char why[128];
	size_t len;
	int v;

	REQUIRE(xdp_fresh(), "loading xdp_uplink: %s", strerror(errno));
	xdp_frontend(NODE, NP, LOCALBE, true, 0);
	v = xdp_run(&syn, out, in, &len);
	EXPECT(v == XDP_PASS, "verdict %d", v);
	EXPECT(pkt_ip_dst(out) == ip4(LOCALBE) && pkt_dport(out) == 8080, "not DNATed");
	EXPECT(pkt_ip_src(out) == ip4(CLIENT) && pkt_sport(out) == 40000, "client changed");
	EXPECT(pkt_csums_ok(out, len, why, sizeof(why)), "%s", why);
	REQUIRE(xdp_ct_get(CLIENT, 40000, NODE, NP, &fwd), "no forward entry");
	EXPECT(fwd.dir == BPFLET_CT_FORWARD && fwd.nat_addr.addr[0] == ip4(LOCALBE) &&
		       (fwd.flags & BPFLET_CT_F_NORTH_SOUTH) && !(fwd.flags & BPFLET_CT_F_SNAT),
	       "forward entry flags %#x", fwd.flags);
	REQUIRE(xdp_ct_get(LOCALBE, 8080, CLIENT, 40000, &rev), "no reply entry");
	EXPECT(rev.dir == BPFLET_CT_REPLY && rev.nat_addr.addr[0] == ip4(NODE) &&
		       rev.nat_port == htons(NP) && (rev.flags & BPFLET_CT_F_NORTH_SOUTH),
	       "reply entry");
	EXPECT(xdp_counter(BPFLET_CNT_DNAT_NEW) == 1, "dnat_new %llu",
	       xdp_counter(BPFLET_CNT_DNAT_NEW));
	/* the next packet of the flow follows conntrack */
	syn.tcp_flags = 0x10;
	syn.tcp_options = false;
	v = xdp_run(&syn, out, in, &len);
	EXPECT(v == XDP_PASS && pkt_ip_dst(out) == ip4(LOCALBE), "ACK: verdict %d", v);
	EXPECT(xdp_counter(BPFLET_CNT_XDP_LOCAL) == 1, "xdp_to_local_pod %llu",
	       xdp_counter(BPFLET_CNT_XDP_LOCAL));
}

static void test_remote_snat(void)
{
	struct pkt_spec syn = {.src = CLIENT,
			       .dst = NODE,
			       .sport = 40001,
			       .dport = NP,
			       .proto = IPPROTO_TCP,
			       .tcp_flags = 0x02};
	struct bpflet_ct_val fwd, rev;
	uint8_t in[PKT_MAX], out[PKT_MAX];
	char why[128];
	size_t len;
	int v;

	REQUIRE(xdp_fresh(), "loading xdp_uplink");
	xdp_frontend(NODE, NP, REMOTE, false, 0);
	v = xdp_run(&syn, out, in, &len);
	EXPECT(xdp_forwarded(v), "verdict %d", v);
	EXPECT(pkt_ip_dst(out) == ip4(REMOTE) && pkt_dport(out) == 8080, "not DNATed");
	EXPECT(pkt_ip_src(out) == ip4(NODE) && pkt_sport(out) == 40001,
	       "not SNATed to the node with the client's port");
	EXPECT(pkt_csums_ok(out, len, why, sizeof(why)), "%s", why);
	REQUIRE(xdp_ct_get(CLIENT, 40001, NODE, NP, &fwd), "no forward entry");
	EXPECT((fwd.flags & BPFLET_CT_F_SNAT) && fwd.hairpin_addr.addr[0] == ip4(NODE) &&
		       fwd.hairpin_port == htons(40001),
	       "forward SNAT fields");
	REQUIRE(xdp_ct_get(REMOTE, 8080, NODE, 40001, &rev), "no reply entry at the SNAT tuple");
	EXPECT(rev.nat_addr.addr[0] == ip4(NODE) && rev.nat_port == htons(NP) &&
		       rev.hairpin_addr.addr[0] == ip4(CLIENT) && rev.hairpin_port == htons(40001),
	       "reply entry restores frontend and client");

	/* the backend's SYN-ACK, arriving back at this node, goes to the client */
	struct pkt_spec synack = {.src = REMOTE,
				  .dst = NODE,
				  .sport = 8080,
				  .dport = 40001,
				  .proto = IPPROTO_TCP,
				  .tcp_flags = 0x12};
	v = xdp_run(&synack, out, in, &len);
	EXPECT(v == XDP_TX || v == XDP_REDIRECT || v == XDP_DROP, "reply verdict %d", v);
	EXPECT(pkt_ip_src(out) == ip4(NODE) && pkt_sport(out) == NP,
	       "reply source not the NodePort");
	EXPECT(pkt_ip_dst(out) == ip4(CLIENT) && pkt_dport(out) == 40001,
	       "reply not to the client");
	EXPECT(pkt_csums_ok(out, len, why, sizeof(why)), "reply: %s", why);
}

static void test_snat_port_taken(void)
{
	struct pkt_spec syn = {.src = "192.168.77.101",
			       .dst = NODE,
			       .sport = 40002,
			       .dport = NP,
			       .proto = IPPROTO_TCP,
			       .tcp_flags = 0x02};
	struct bpflet_ct_key taken = {.sport = htons(8080),
				      .dport = htons(40002),
				      .proto = IPPROTO_TCP,
				      .family = BPFLET_AF_INET};
	struct bpflet_ct_val busy = {.dir = BPFLET_CT_REPLY}, fwd;
	uint8_t in[PKT_MAX], out[PKT_MAX];
	uint16_t port;

	REQUIRE(xdp_fresh(), "loading xdp_uplink");
	xdp_frontend(NODE, NP, REMOTE, false, 0);
	taken.saddr.addr[0] = ip4(REMOTE);
	taken.daddr.addr[0] = ip4(NODE);
	bpf_map_update_elem(mfd(xdp_skel->maps.bl_ct_tcp_v2), &taken, &busy, BPF_ANY);
	EXPECT(xdp_forwarded(xdp_run(&syn, out, in, NULL)), "verdict");
	REQUIRE(xdp_ct_get("192.168.77.101", 40002, NODE, NP, &fwd), "no forward entry");
	port = ntohs(fwd.hairpin_port);
	EXPECT(port != 40002 && port >= 32768 && port <= 60999, "SNAT port %u", port);
	EXPECT(pkt_sport(out) == port, "packet carries port %u, entry %u", pkt_sport(out), port);
}

static void test_policy_local_drops(void)
{
	struct pkt_spec syn = {.src = CLIENT,
			       .dst = NODE,
			       .sport = 40003,
			       .dport = NP,
			       .proto = IPPROTO_TCP,
			       .tcp_flags = 0x02};
	uint8_t in[PKT_MAX], out[PKT_MAX];

	REQUIRE(xdp_fresh(), "loading xdp_uplink");
	xdp_frontend(NODE, NP, NULL, false, BPFLET_FE_F_NO_LOCAL_DROP);
	EXPECT(xdp_run(&syn, out, in, NULL) == XDP_DROP, "not dropped");
	EXPECT(xdp_counter(BPFLET_CNT_DROP_NO_LOCAL) == 1, "drop_no_local %llu",
	       xdp_counter(BPFLET_CNT_DROP_NO_LOCAL));
	/* no endpoints at all on the node address: the kernel answers (nothing listens) */
	xdp_frontend(NODE, NP, NULL, false, 0);
	EXPECT(xdp_run(&syn, out, in, NULL) == XDP_PASS, "no-endpoint NodePort not passed");
	/* ... on a LoadBalancer IP it is dropped */
	xdp_frontend("192.168.77.200", 80, NULL, false, 0);
	syn.dst = "192.168.77.200";
	syn.dport = 80;
	EXPECT(xdp_run(&syn, out, in, NULL) == XDP_DROP, "no-endpoint LB IP not dropped");
}

static void test_invalid_and_other(void)
{
	struct pkt_spec ack = {.src = CLIENT,
			       .dst = NODE,
			       .sport = 40004,
			       .dport = NP,
			       .proto = IPPROTO_TCP,
			       .tcp_flags = 0x10};
	struct pkt_spec ssh = {.src = CLIENT,
			       .dst = NODE,
			       .sport = 40005,
			       .dport = 22,
			       .proto = IPPROTO_TCP,
			       .tcp_flags = 0x02};
	uint8_t in[PKT_MAX], out[PKT_MAX];
	size_t len;
	int v;

	REQUIRE(xdp_fresh(), "loading xdp_uplink");
	xdp_frontend(NODE, NP, LOCALBE, true, 0);
	EXPECT(xdp_run(&ack, out, in, NULL) == XDP_DROP, "a non-SYN without conntrack passed");
	EXPECT(xdp_counter(BPFLET_CNT_DROP_CT_INVALID) == 1, "drop_ct_invalid");
	v = xdp_run(&ssh, out, in, &len);
	EXPECT(v == XDP_PASS && !memcmp(in, out, len), "node traffic not untouched");
	EXPECT(xdp_counter(BPFLET_CNT_PASS) == 0 && xdp_counter(BPFLET_CNT_DNAT_NEW) == 0,
	       "node traffic counted");
	/* a header claiming more bytes than the frame holds */
	len = pkt_build(in, &ssh);
	in[OFF_IP_LEN] = 0x40;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = PKT_MAX, .repeat = 1);
	EXPECT(!bpf_prog_test_run_opts(bpf_program__fd(xdp_skel->progs.xdp_uplink), &o) &&
		       o.retval == XDP_DROP,
	       "malformed not dropped");
	EXPECT(xdp_counter(BPFLET_CNT_DROP_MALFORMED) == 1, "drop_malformed");
}

static void test_source_ranges(void)
{
	struct bpflet_srcrange_key k = {.prefixlen = 64 + 24, .proto = IPPROTO_TCP};
	struct pkt_spec syn = {.src = "198.51.100.20",
			       .dst = "192.168.77.200",
			       .sport = 40010,
			       .dport = 80,
			       .proto = IPPROTO_TCP,
			       .tcp_flags = 0x02};
	uint8_t in[PKT_MAX], out[PKT_MAX];
	__u32 one = 1;

	REQUIRE(xdp_fresh(), "loading xdp_uplink");
	xdp_frontend("192.168.77.200", 80, LOCALBE, true, BPFLET_FE_F_SRC_RANGES);
	k.fe_addr = ip4("192.168.77.200");
	k.fe_port = htons(80);
	k.src = ip4("198.51.100.0");
	REQUIRE(!bpf_map_update_elem(mfd(xdp_skel->maps.bl_srcr_v1), &k, &one, BPF_ANY),
		"LPM write");
	EXPECT(xdp_run(&syn, out, in, NULL) == XDP_PASS && pkt_ip_dst(out) == ip4(LOCALBE),
	       "a source inside the range was not admitted");
	syn.src = "198.51.101.20";
	EXPECT(xdp_run(&syn, out, in, NULL) == XDP_DROP, "a source outside the range passed");
	EXPECT(xdp_counter(BPFLET_CNT_DROP_SRC_RANGE) == 1, "drop_source_range %llu",
	       xdp_counter(BPFLET_CNT_DROP_SRC_RANGE));
	/* the same range on another frontend admits nothing here */
	k.fe_port = htons(81);
	bpf_map_update_elem(mfd(xdp_skel->maps.bl_srcr_v1), &k, &one, BPF_ANY);
	syn.sport = 40011;
	EXPECT(xdp_run(&syn, out, in, NULL) == XDP_DROP, "another frontend's range admitted it");
}

/* A pod of this node reached a ClusterIP whose backend is elsewhere: tc_pod wrote the
 * entries; the reply comes in on the uplink and is reverse-translated here. */
static void test_east_west_reply(void)
{
	struct bpflet_ct_key k = {.sport = htons(8080),
				  .dport = htons(50000),
				  .proto = IPPROTO_TCP,
				  .family = BPFLET_AF_INET};
	struct bpflet_ct_val rv = {.nat_port = htons(80), .dir = BPFLET_CT_REPLY, .svc_id = 3};
	struct pkt_spec synack = {.src = REMOTE,
				  .dst = "10.244.1.9",
				  .sport = 8080,
				  .dport = 50000,
				  .proto = IPPROTO_TCP,
				  .tcp_flags = 0x12};
	uint8_t in[PKT_MAX], out[PKT_MAX];
	char why[128];
	size_t len;

	REQUIRE(xdp_fresh(), "loading xdp_uplink");
	k.saddr.addr[0] = ip4(REMOTE);
	k.daddr.addr[0] = ip4("10.244.1.9");
	rv.nat_addr.addr[0] = ip4("10.96.0.33");
	bpf_map_update_elem(mfd(xdp_skel->maps.bl_ct_tcp_v2), &k, &rv, BPF_ANY);
	EXPECT(xdp_run(&synack, out, in, &len) == XDP_PASS, "verdict");
	EXPECT(pkt_ip_src(out) == ip4("10.96.0.33") && pkt_sport(out) == 80, "not from the VIP");
	EXPECT(pkt_ip_dst(out) == ip4("10.244.1.9") && pkt_dport(out) == 50000, "dst changed");
	EXPECT(pkt_csums_ok(out, len, why, sizeof(why)), "%s", why);
	EXPECT(xdp_counter(BPFLET_CNT_RNAT) == 1, "reverse_nat");
}

/* A fragmented UDP datagram to a NodePort whose backend is on another node: the first
 * fragment is translated as any packet, the later one follows it (addresses and IP
 * checksum only) instead of being left to the kernel; a stray one passes, counted. */
static void test_fragments_follow(void)
{
	struct pkt_spec s = {.src = CLIENT,
			     .dst = NODE,
			     .sport = 40100,
			     .dport = NP,
			     .proto = IPPROTO_UDP,
			     .payload = 300};
	uint8_t first[PKT_MAX], later[PKT_MAX], in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	size_t len = pkt_build(first, &s);
	unsigned long long no_route;
	int v;

	REQUIRE(xdp_fresh(), "loading xdp_uplink");
	xdp_frontend_proto(NODE, NP, IPPROTO_UDP, REMOTE, false, 0);
	memcpy(later, first, len);
	pkt_set_frag(first, 0, true);
	pkt_set_frag(later, 185, false);
	v = xdp_run_frame(first, len, out, NULL);
	EXPECT(xdp_forwarded(v), "first fragment verdict %d", v);
	EXPECT(pkt_ip_dst(out) == ip4(REMOTE) && pkt_dport(out) == 8080 &&
		       pkt_ip_src(out) == ip4(NODE),
	       "first fragment not DNATed+SNATed");
	/* the later fragment: both addresses, nothing else */
	memcpy(want, later, len);
	memcpy(want + OFF_IP_DST, &(uint32_t){ip4(REMOTE)}, 4);
	memcpy(want + OFF_IP_SRC, &(uint32_t){ip4(NODE)}, 4);
	pkt_set_frag(want, 185, false);
	no_route = xdp_counter(BPFLET_CNT_DROP_NO_ROUTE);
	v = xdp_run_frame(later, len, out, NULL);
	EXPECT(xdp_sent(v, no_route), "later fragment verdict %d", v);
	EXPECT(pkt_ip_csum_ok(out), "later fragment: bad IP header checksum");
	xdp_fib_part_aside(out, want);
	EXPECT(!memcmp(out, want, len), "later fragment: not exactly the addresses rewritten");
	EXPECT(xdp_counter(BPFLET_CNT_FRAGMENT_NAT) == 1, "fragment_translated %llu",
	       xdp_counter(BPFLET_CNT_FRAGMENT_NAT));
	/* a later fragment of another datagram: the kernel's, counted */
	memcpy(in, later, len);
	in[OFF_IP + 4] ^= 0xff;
	pkt_set_frag(in, 185, false);
	v = xdp_run_frame(in, len, out, NULL);
	EXPECT(v == XDP_PASS && !memcmp(out, in, len), "stray fragment not passed as it is");
	EXPECT(xdp_counter(BPFLET_CNT_FRAGMENT) == 1, "fragment %llu",
	       xdp_counter(BPFLET_CNT_FRAGMENT));
}

/* The remote backend refuses an SNATed datagram: its port unreachable (to this node,
 * about this node's port) reaches the client as the NodePort's, byte for byte; the
 * client's own error about a reply goes to the backend about its reply to this node. */
static void test_icmp_errors_snat(void)
{
	struct pkt_spec d = {.src = CLIENT,
			     .dst = NODE,
			     .sport = 40200,
			     .dport = NP,
			     .proto = IPPROTO_UDP,
			     .payload = 8};
	struct pkt_spec as_sent = {.src = NODE,
				   .dst = REMOTE,
				   .sport = 40200,
				   .dport = 8080,
				   .proto = IPPROTO_UDP,
				   .payload = 8};
	struct pkt_spec reply = {.src = NODE,
				 .dst = CLIENT,
				 .sport = NP,
				 .dport = 40200,
				 .proto = IPPROTO_UDP,
				 .payload = 8};
	struct pkt_spec be_reply = {.src = REMOTE,
				    .dst = NODE,
				    .sport = 8080,
				    .dport = 40200,
				    .proto = IPPROTO_UDP,
				    .payload = 8};
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	uint32_t out_len;
	size_t len;
	char why[128];
	int v;

	REQUIRE(xdp_fresh(), "loading xdp_uplink");
	xdp_frontend_proto(NODE, NP, IPPROTO_UDP, REMOTE, false, 0);
	REQUIRE(xdp_forwarded(xdp_run(&d, out, in, NULL)) && pkt_ip_dst(out) == ip4(REMOTE) &&
			pkt_sport(out) == 40200,
		"datagram not SNATed to the node's port 40200");
	for (int dir = 0; dir < 2; dir++) {
		unsigned long long no_route = xdp_counter(BPFLET_CNT_DROP_NO_ROUTE);

		if (dir == 0) { /* the backend's error, and what the client must get */
			len = pkt_icmp_error(in, REMOTE, NODE, 3, 3, &as_sent, 0);
			pkt_icmp_error(want, NODE, CLIENT, 3, 3, &d, 0);
		} else { /* the client's error about a reply, and what the backend must get */
			len = pkt_icmp_error(in, CLIENT, NODE, 3, 3, &reply, 0);
			pkt_icmp_error(want, NODE, REMOTE, 3, 3, &be_reply, 0);
		}
		v = xdp_run_frame(in, len, out, &out_len);
		EXPECT(xdp_sent(v, no_route), "%s: verdict %d",
		       dir ? "client's error" : "backend's error", v);
		REQUIRE(out_len == len, "length %u", out_len);
		EXPECT(pkt_quote_csums_ok(out, why, sizeof(why)), "quote: %s", why);
		xdp_fib_part_aside(out, want);
		EXPECT(!memcmp(out, want, len), "%s: not the error the other side must get",
		       dir ? "client's error" : "backend's error");
	}
	EXPECT(xdp_counter(BPFLET_CNT_ICMP_ERROR_NAT) == 2, "icmp_error_translated %llu",
	       xdp_counter(BPFLET_CNT_ICMP_ERROR_NAT));
}

/* the skeleton lives across cases; freed when the test binary exits */
__attribute__((destructor)) static void xdp_unload(void)
{
	xdp_uplink__destroy(xdp_skel);
}

const struct test_case xdp_cases[] = {
	{"xdp: NodePort SYN to a local backend is DNATed only, client IP kept", test_local_dnat},
	{"xdp: remote backend gets DNAT+SNAT to the node; its reply goes to the client",
	 test_remote_snat},
	{"xdp: a taken SNAT port moves to the ephemeral range", test_snat_port_taken},
	{"xdp: policy Local without local endpoint drops; no endpoints: NodePort to the kernel",
	 test_policy_local_drops},
	{"xdp: non-SYN without conntrack dropped, node traffic untouched, malformed counted",
	 test_invalid_and_other},
	{"xdp: a cross-node ClusterIP reply is reverse-NATed on the uplink", test_east_west_reply},
	{"xdp: loadBalancerSourceRanges admit inside, drop outside (counted)", test_source_ranges},
	{"xdp: a later fragment follows its first's translation; a stray one is counted",
	 test_fragments_follow},
	{"xdp: ICMP errors of an SNATed flow reach the other side translated, both ways",
	 test_icmp_errors_snat},
};
const int xdp_n_cases = sizeof(xdp_cases) / sizeof(xdp_cases[0]);
