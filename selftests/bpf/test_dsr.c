/*
 * BPF_PROG_TEST_RUN cases for --lb-mode dsr: the ingress node's xdp_uplink wraps a
 * NodePort SYN for a backend elsewhere in IPIP (outer header: frontend address as
 * source, frontend port as IP id); the backend node's xdp_uplink, given that very frame,
 * unwraps it and records the reply entry; the backend node's tc_pod restores the
 * frontend on the backend's SYN-ACK and lowers its MSS by the tunnel's 20 bytes.
 */
#include "agent/common/maps_util.h"
#include "selftests/bpf/harness.h"
#include "selftests/bpf/packet.h"
#include "selftests/bpf/svc_lb_cases.h"
#include "selftests/bpf/xdp_util.h"
#include "tc_pod.skel.h"
#include "xdp_uplink.skel.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <string.h>

static struct xdp_uplink *dsr_skel, *plain_skel;

/* The fixture's helpers on a program loaded with lb_dsr (restored by dsr_leave). */
static bool dsr_enter(void)
{
	if (!xdp_fresh()) /* the plain program, loaded once */
		return false;
	if (!dsr_skel) {
		dsr_skel = xdp_uplink__open();
		if (!dsr_skel)
			return false;
		dsr_skel->rodata->node_ip = ip4(NODE);
		dsr_skel->rodata->lb_dsr = true;
		dsr_skel->rodata->uplink_mtu = 1500;
		if (xdp_uplink__load(dsr_skel)) {
			xdp_uplink__destroy(dsr_skel);
			dsr_skel = NULL;
			return false;
		}
	}
	plain_skel = xdp_skel;
	xdp_skel = dsr_skel;
	return xdp_fresh();
}

static void dsr_leave(void)
{
	if (plain_skel)
		xdp_skel = plain_skel;
}

__attribute__((destructor)) static void dsr_unload(void)
{
	xdp_uplink__destroy(dsr_skel);
}

/* The frame without its outer IPv4 header: Ethernet + the inner packet. */
static size_t strip_outer(const uint8_t *in, size_t len, uint8_t *out)
{
	memcpy(out, in, 14);
	memcpy(out + 14, in + 34, len - 34);
	return len - 20;
}

static int syn_through_ingress(uint8_t *out, size_t *out_len, size_t *in_len)
{
	struct pkt_spec syn = {.src = CLIENT,
			       .dst = NODE,
			       .sport = 40000,
			       .dport = NP,
			       .proto = IPPROTO_TCP,
			       .tcp_flags = 0x02,
			       .mss = 1460};
	uint8_t in[PKT_MAX];
	size_t n = pkt_build(in, &syn);
	uint32_t got = 0;
	int v;

	xdp_frontend(NODE, NP, REMOTE, false, 0);
	v = xdp_run_frame(in, n, out, &got);
	*out_len = got;
	*in_len = n;
	return v;
}

static void test_ingress_encap(void)
{
	uint8_t out[PKT_MAX], inner[PKT_MAX];
	struct bpflet_ct_val fwd, rev;
	size_t len, in_len;
	char why[128];
	int v;

	REQUIRE(dsr_enter(), "loading xdp_uplink with lb_dsr: %s", strerror(errno));
	v = syn_through_ingress(out, &len, &in_len);
	EXPECT(xdp_forwarded(v), "verdict %d", v);
	REQUIRE(len == in_len + 20, "frame %zu bytes, want %zu + 20", len, in_len);
	EXPECT(out[OFF_IP] == 0x45 && out[OFF_IP_PROTO] == IPPROTO_IPIP,
	       "outer header %#x proto %u", out[OFF_IP], out[OFF_IP_PROTO]);
	EXPECT(pkt_ip_src(out) == ip4(NODE) && pkt_ip_dst(out) == ip4(REMOTE),
	       "outer addresses: from the frontend to the backend");
	EXPECT((out[OFF_IP + 4] << 8 | out[OFF_IP + 5]) == NP, "outer IP id carries the port");
	EXPECT((size_t)(out[OFF_IP + 2] << 8 | out[OFF_IP + 3]) == in_len - 14 + 20,
	       "outer length");
	EXPECT(pkt_csums_ok(out, len, why, sizeof(why)), "outer: %s", why);
	strip_outer(out, len, inner);
	EXPECT(pkt_ip_src(inner) == ip4(CLIENT) && pkt_sport(inner) == 40000,
	       "inner source is the client");
	EXPECT(pkt_ip_dst(inner) == ip4(REMOTE) && pkt_dport(inner) == 8080, "inner not DNATed");
	EXPECT(pkt_csums_ok(inner, len - 20, why, sizeof(why)), "inner: %s", why);
	REQUIRE(xdp_ct_get(CLIENT, 40000, NODE, NP, &fwd), "no forward entry");
	EXPECT((fwd.flags & BPFLET_CT_F_DSR) && fwd.hairpin_addr.addr[0] == ip4(NODE) &&
		       fwd.hairpin_port == htons(NP),
	       "forward entry: flags %#x", fwd.flags);
	EXPECT(!xdp_ct_get(REMOTE, 8080, CLIENT, 40000, &rev), "a reply entry on the ingress node");
	dsr_leave();
}

static void test_backend_decap(void)
{
	uint8_t wrapped[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	struct bpflet_ct_val rev;
	size_t len, in_len;
	uint32_t out_len;
	int v;

	REQUIRE(dsr_enter(), "loading xdp_uplink with lb_dsr");
	v = syn_through_ingress(wrapped, &len, &in_len);
	REQUIRE(xdp_forwarded(v) && len == in_len + 20, "ingress did not wrap");
	REQUIRE(xdp_fresh(), "clearing maps"); /* now the backend's node */
	v = xdp_run_frame(wrapped, len, out, &out_len);
	EXPECT(v == XDP_PASS, "verdict %d", v);
	EXPECT(out_len == len - 20 && !memcmp(out, want, strip_outer(wrapped, len, want)),
	       "the output is not exactly the inner packet (%u bytes)", out_len);
	REQUIRE(xdp_ct_get(REMOTE, 8080, CLIENT, 40000, &rev), "no reply entry");
	EXPECT(rev.dir == BPFLET_CT_REPLY && rev.nat_addr.addr[0] == ip4(NODE) &&
		       rev.nat_port == htons(NP),
	       "reply entry does not restore the frontend");
	EXPECT((rev.flags & (BPFLET_CT_F_DSR | BPFLET_CT_F_NORTH_SOUTH)) ==
			       (BPFLET_CT_F_DSR | BPFLET_CT_F_NORTH_SOUTH) &&
		       (rev.win.state & BPFLET_CT_W_ONEWAY),
	       "reply entry flags %#x window state %#x", rev.flags, rev.win.state);
	EXPECT(xdp_counter(BPFLET_CNT_DSR_IN) == 1, "dsr_unwrapped %llu",
	       xdp_counter(BPFLET_CNT_DSR_IN));
	dsr_leave();
}

/* A full-size segment of an open DSR flow (1500 bytes of IPv4, DF) cannot get 20 more:
 * the client gets ICMP frag-needed for 1480 quoting it; 1480 bytes still fit. */
static void test_ingress_frag_needed(void)
{
	struct pkt_spec big = {.src = CLIENT,
			       .dst = NODE,
			       .sport = 40000,
			       .dport = NP,
			       .proto = IPPROTO_TCP,
			       .tcp_flags = 0x10,
			       .seq = 1,
			       .ack = 1,
			       .payload = 1460};
	uint8_t syn_out[PKT_MAX], in[PKT_MAX], out[PKT_MAX];
	unsigned long long no_route;
	size_t len, in_len, n;
	uint32_t out_len;
	char why[128];
	int v;

	REQUIRE(dsr_enter(), "loading xdp_uplink with lb_dsr");
	v = syn_through_ingress(syn_out, &len, &in_len);
	REQUIRE(xdp_forwarded(v), "SYN verdict %d", v);
	n = pkt_build(in, &big);
	no_route = xdp_counter(BPFLET_CNT_DROP_NO_ROUTE);
	v = xdp_run_frame(in, n, out, &out_len);
	EXPECT(xdp_sent(v, no_route), "verdict %d", v);
	REQUIRE(out_len == 14 + 20 + 8 + 20 + 8, "reply of %u bytes", out_len);
	EXPECT(out[OFF_IP_PROTO] == IPPROTO_ICMP && out[OFF_L4] == 3 && out[OFF_L4 + 1] == 4,
	       "not ICMP frag-needed");
	EXPECT((out[OFF_L4 + 6] << 8 | out[OFF_L4 + 7]) == 1480, "next-hop MTU %u",
	       out[OFF_L4 + 6] << 8 | out[OFF_L4 + 7]);
	EXPECT(pkt_ip_src(out) == ip4(NODE) && pkt_ip_dst(out) == ip4(CLIENT),
	       "not from the frontend to the client");
	EXPECT(!memcmp(out, in + 6, 6) && !memcmp(out + 6, in, 6), "MACs not turned around");
	EXPECT(!memcmp(out + OFF_L4 + 8, in + OFF_IP, 28),
	       "the quote is not the packet as the client sent it");
	EXPECT(pkt_csums_ok(out, out_len, why, sizeof(why)), "%s", why);
	EXPECT(xdp_counter(BPFLET_CNT_DSR_FRAG_NEEDED) == 1, "dsr_icmp_frag_needed %llu",
	       xdp_counter(BPFLET_CNT_DSR_FRAG_NEEDED));
	big.payload = 1440; /* 1480 bytes: fits with the tunnel's 20 */
	n = pkt_build(in, &big);
	xdp_run_frame(in, n, out, &out_len);
	EXPECT(out_len == n + 20 && out[OFF_IP_PROTO] == IPPROTO_IPIP,
	       "a 1480-byte packet was not wrapped (%u bytes)", out_len);
	dsr_leave();
}

/* tc_pod on the backend's node: the backend's SYN-ACK, with the reply entry the
 * unwrapped SYN left. */
static int synack_through_pod(uint16_t mss, uint8_t *out, size_t *len)
{
	struct bpflet_ct_key k = {.sport = htons(8080),
				  .dport = htons(40000),
				  .proto = IPPROTO_TCP,
				  .family = BPFLET_AF_INET};
	struct bpflet_ct_val rv = {.nat_port = htons(NP),
				   .dir = BPFLET_CT_REPLY,
				   .flags = BPFLET_CT_F_NORTH_SOUTH | BPFLET_CT_F_DSR,
				   .win = {.state = BPFLET_CT_W_ONEWAY}};
	struct pkt_spec sa = {.src = REMOTE,
			      .dst = CLIENT,
			      .sport = 8080,
			      .dport = 40000,
			      .proto = IPPROTO_TCP,
			      .tcp_flags = 0x12,
			      .ack = 1,
			      .mss = mss};
	uint8_t in[PKT_MAX];
	size_t n = pkt_build(in, &sa);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)n, .data_out = out,
		    .data_size_out = PKT_MAX, .repeat = 1);

	k.saddr.addr[0] = ip4(REMOTE);
	k.daddr.addr[0] = ip4(CLIENT);
	rv.nat_addr.addr[0] = ip4(NODE);
	if (bpf_map_update_elem(bpf_map__fd(svc_lb_skel->maps.bl_ct_tcp_v2), &k, &rv, BPF_ANY))
		return -errno;
	if (bpf_prog_test_run_opts(bpf_program__fd(svc_lb_skel->progs.tc_pod), &o))
		return -errno;
	*len = o.data_size_out;
	return (int)o.retval;
}

static uint16_t mss_of(const uint8_t *p)
{
	return (uint16_t)(p[OFF_L4 + 22] << 8 | p[OFF_L4 + 23]);
}

static void test_backend_mss_clamp(void)
{
	uint8_t out[PKT_MAX];
	char why[128];
	size_t len;
	int v;

	v = synack_through_pod(1460, out, &len);
	/* the verdict is the FIB's (tc_route_out): test_run's namespace may have no route */
	REQUIRE(v >= 0, "run: %s", strerror(-v));
	EXPECT(pkt_ip_src(out) == ip4(NODE) && pkt_sport(out) == NP,
	       "SYN-ACK not from the frontend");
	EXPECT(out[OFF_L4 + 20] == 2 && mss_of(out) == DSR_TEST_MSS, "MSS %u, want %u", mss_of(out),
	       DSR_TEST_MSS);
	EXPECT(pkt_csums_ok(out, len, why, sizeof(why)), "%s", why);
	/* an MSS already small enough stays */
	v = synack_through_pod(1200, out, &len);
	EXPECT(v >= 0 && mss_of(out) == 1200, "MSS 1200 became %u", mss_of(out));
	EXPECT(pkt_csums_ok(out, len, why, sizeof(why)), "%s", why);
}

const struct test_case dsr_cases[] = {
	{"dsr: ingress wraps the DNATed SYN in IPIP from the frontend, no reply entry",
	 test_ingress_encap},
	{"dsr: a packet too big for the tunnel gets ICMP frag-needed (1480), quoted",
	 test_ingress_frag_needed},
	{"dsr: the backend's node unwraps that frame and records the reply entry",
	 test_backend_decap},
	{"dsr: the backend's SYN-ACK leaves from the frontend with its MSS lowered by 20",
	 test_backend_mss_clamp},
};
const int dsr_n_cases = sizeof(dsr_cases) / sizeof(dsr_cases[0]);
