/*
 * ICMP errors about translated flows (bpf/lib/icmp_err.h): the program's output must
 * be byte for byte the error the peer would get had the other side been the VIP (or
 * the backend) all along: outer address, quoted header, and all four checksums.
 */
#include "selftests/bpf/harness.h"
#include "selftests/bpf/packet.h"
#include "selftests/bpf/svc_lb_cases.h"
#include "tc_pod.skel.h"

#include <bpflet/abi.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <string.h>

#define VIP	"10.96.0.50"
#define CLIENT	"10.244.0.4"
#define BE	"10.244.0.31"
#define ROUTER	"10.244.0.254"
#define HAIRPIN "169.254.42.1" /* tc_pod's default hairpin source */

static int fd(struct bpf_map *m)
{
	return bpf_map__fd(m);
}

static int run_raw(const uint8_t *in, size_t len, uint8_t *out, uint32_t *out_len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = PKT_MAX, .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(svc_lb_skel->progs.tc_pod), &o);

	*out_len = o.data_size_out;
	return err ? -errno : (int)o.retval;
}

static void add_svc(uint8_t proto, uint16_t port)
{
	struct bpflet_fe_key k = {
		.port = htons(port), .proto = proto, .family = BPFLET_AF_INET, .scope = 1};
	struct bpflet_fe_val v = {.svc_id = 11, .count = 1};
	struct bpflet_slot_key sk = {.svc_id = 11, .slot = 0};
	struct bpflet_backend b = {.port = htons(8080), .proto = proto, .family = BPFLET_AF_INET};
	uint32_t id = 1101;

	k.addr.addr[0] = ip4(VIP);
	b.addr.addr[0] = ip4(BE);
	bpf_map_update_elem(fd(svc_lb_skel->maps.bl_be_v1), &id, &b, BPF_ANY);
	bpf_map_update_elem(fd(svc_lb_skel->maps.bl_slot_v1), &sk, &id, BPF_ANY);
	bpf_map_update_elem(fd(svc_lb_skel->maps.bl_fe_v1), &k, &v, BPF_ANY);
}

static unsigned long long counter(enum bpflet_counter c)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpflet_counter_val v[ncpu];
	unsigned long long s = 0;
	__u32 k = c;

	if (bpf_map_lookup_elem(fd(svc_lb_skel->maps.bl_cnt_v1), &k, v))
		return ~0ull;
	for (int i = 0; i < ncpu; i++)
		s += v[i].packets;
	return s;
}

/* Opens the flow client:cport → VIP:vport through the program. */
static bool open_flow(uint8_t proto, uint16_t cport, uint16_t vport)
{
	struct pkt_spec s = {.src = CLIENT,
			     .dst = VIP,
			     .sport = cport,
			     .dport = vport,
			     .proto = proto,
			     .tcp_flags = 0x02,
			     .payload = 8};
	uint8_t in[PKT_MAX], out[PKT_MAX];
	uint32_t out_len;

	add_svc(proto, vport);
	return run_raw(in, pkt_build(in, &s), out, &out_len) == TC_ACT_OK &&
	       pkt_ip_dst(out) == ip4(BE);
}

/* in: the error as sent; want: as the receiver must see it. */
static void expect_translated(const uint8_t *in, size_t len, const uint8_t *want)
{
	uint8_t out[PKT_MAX];
	uint32_t out_len;
	char why[128] = "";

	EXPECT(run_raw(in, len, out, &out_len) == TC_ACT_OK, "verdict");
	REQUIRE(out_len == len, "length %u", out_len);
	EXPECT(pkt_csums_ok(out, out_len, why, sizeof(why)), "outer: %s", why);
	EXPECT(pkt_quote_csums_ok(out, why, sizeof(why)), "quote: %s", why);
	for (size_t i = 0; i < len; i++)
		if (out[i] != want[i]) {
			EXPECT(false, "byte %zu is %#x, want %#x", i, out[i], want[i]);
			break;
		}
	EXPECT(counter(BPFLET_CNT_ICMP_ERROR_NAT) >= 1, "icmp_error_translated counted");
}

/* The backend's port unreachable about client → backend:8080 reaches the client as
 * VIP's port unreachable about client → VIP:53. */
static void test_udp_port_unreachable_from_backend(void)
{
	struct pkt_spec sent = {.src = CLIENT,
				.dst = BE,
				.sport = 5353,
				.dport = 8080,
				.proto = IPPROTO_UDP,
				.payload = 8};
	struct pkt_spec orig = sent;
	uint8_t in[PKT_MAX], want[PKT_MAX];
	size_t len;

	REQUIRE(open_flow(IPPROTO_UDP, 5353, 53), "flow open");
	orig.dst = VIP;
	orig.dport = 53;
	len = pkt_icmp_error(in, BE, CLIENT, 3, 3, &sent, 0);
	pkt_icmp_error(want, VIP, CLIENT, 3, 3, &orig, 0);
	expect_translated(in, len, want);
}

/* Frag-needed about a TCP segment (quote cut after the TCP header). */
static void test_tcp_frag_needed_from_backend(void)
{
	struct pkt_spec sent = {.src = CLIENT,
				.dst = BE,
				.sport = 41234,
				.dport = 8080,
				.proto = IPPROTO_TCP,
				.tcp_flags = 0x10,
				.seq = 77,
				.ack = 88,
				.payload = 100};
	struct pkt_spec orig = sent;
	uint8_t in[PKT_MAX], want[PKT_MAX];
	size_t len;

	REQUIRE(open_flow(IPPROTO_TCP, 41234, 80), "flow open");
	orig.dst = VIP;
	orig.dport = 80;
	len = pkt_icmp_error(in, BE, CLIENT, 3, 4, &sent, 40);
	pkt_icmp_error(want, VIP, CLIENT, 3, 4, &orig, 40);
	uint8_t out[PKT_MAX];
	uint32_t out_len;
	char why[128] = "";

	EXPECT(run_raw(in, len, out, &out_len) == TC_ACT_OK, "verdict");
	EXPECT(pkt_csums_ok(out, out_len, why, sizeof(why)), "outer: %s", why);
	/* the quote is cut, so its TCP checksum cannot be verified over the payload; it
	 * must still equal the one of the segment sent to the VIP */
	EXPECT(out_len == len && memcmp(out, want, len) == 0, "bytes as if sent to the VIP");
}

/* A router's error keeps the router as source; only the quote is translated. */
static void test_router_error_keeps_outer_source(void)
{
	struct pkt_spec sent = {.src = CLIENT,
				.dst = BE,
				.sport = 5354,
				.dport = 8080,
				.proto = IPPROTO_UDP,
				.payload = 8};
	struct pkt_spec orig = sent;
	uint8_t in[PKT_MAX], want[PKT_MAX];
	size_t len;

	REQUIRE(open_flow(IPPROTO_UDP, 5354, 53), "flow open");
	orig.dst = VIP;
	orig.dport = 53;
	len = pkt_icmp_error(in, ROUTER, CLIENT, 11, 0, &sent, 0);
	pkt_icmp_error(want, ROUTER, CLIENT, 11, 0, &orig, 0);
	expect_translated(in, len, want);
}

/* The client's port unreachable about a reply from VIP:53 goes to the backend as an
 * error about its own reply from BE:8080. */
static void test_client_error_about_reply(void)
{
	struct pkt_spec reply = {.src = VIP,
				 .dst = CLIENT,
				 .sport = 53,
				 .dport = 5355,
				 .proto = IPPROTO_UDP,
				 .payload = 8};
	struct pkt_spec orig = reply;
	uint8_t in[PKT_MAX], want[PKT_MAX];
	size_t len;

	REQUIRE(open_flow(IPPROTO_UDP, 5355, 53), "flow open");
	orig.src = BE;
	orig.sport = 8080;
	len = pkt_icmp_error(in, CLIENT, VIP, 3, 3, &reply, 0);
	pkt_icmp_error(want, CLIENT, BE, 3, 3, &orig, 0);
	expect_translated(in, len, want);
}

/* The backend reaching itself through the VIP: hairpin SNAT to HAIRPIN. */
static bool open_hairpin(uint8_t proto, uint16_t cport, uint16_t vport)
{
	struct pkt_spec s = {.src = BE,
			     .dst = VIP,
			     .sport = cport,
			     .dport = vport,
			     .proto = proto,
			     .tcp_flags = 0x02,
			     .payload = 8};
	uint8_t in[PKT_MAX], out[PKT_MAX];
	uint32_t out_len;

	add_svc(proto, vport);
	return run_raw(in, pkt_build(in, &s), out, &out_len) == TC_ACT_OK &&
	       pkt_ip_dst(out) == ip4(BE) && pkt_ip_src(out) == ip4(HAIRPIN);
}

/* Hairpin: the pod's port unreachable about HAIRPIN:c → itself:8080 reaches it (as
 * the client) as the VIP's error about its own datagram to VIP:53. */
static void test_hairpin_error_from_backend(void)
{
	struct pkt_spec sent = {.src = HAIRPIN,
				.dst = BE,
				.sport = 5356,
				.dport = 8080,
				.proto = IPPROTO_UDP,
				.payload = 8};
	struct pkt_spec orig = {.src = BE,
				.dst = VIP,
				.sport = 5356,
				.dport = 53,
				.proto = IPPROTO_UDP,
				.payload = 8};
	uint8_t in[PKT_MAX], want[PKT_MAX];
	size_t len;

	REQUIRE(open_hairpin(IPPROTO_UDP, 5356, 53), "hairpin flow open");
	len = pkt_icmp_error(in, BE, HAIRPIN, 3, 3, &sent, 0);
	pkt_icmp_error(want, VIP, BE, 3, 3, &orig, 0);
	expect_translated(in, len, want);
}

/* Hairpin, the other way: the pod (as client) refuses a reply VIP:53 → itself; the
 * error reaches it (as the backend) about its reply itself:8080 → HAIRPIN. */
static void test_hairpin_error_about_reply(void)
{
	struct pkt_spec reply = {.src = VIP,
				 .dst = BE,
				 .sport = 53,
				 .dport = 5357,
				 .proto = IPPROTO_UDP,
				 .payload = 8};
	struct pkt_spec orig = {.src = BE,
				.dst = HAIRPIN,
				.sport = 8080,
				.dport = 5357,
				.proto = IPPROTO_UDP,
				.payload = 8};
	uint8_t in[PKT_MAX], want[PKT_MAX];
	size_t len;

	REQUIRE(open_hairpin(IPPROTO_UDP, 5357, 53), "hairpin flow open");
	len = pkt_icmp_error(in, BE, VIP, 3, 3, &reply, 0);
	pkt_icmp_error(want, HAIRPIN, BE, 3, 3, &orig, 0);
	expect_translated(in, len, want);
}

/* No flow: untouched, counted as pass. */
static void test_untracked_error_passes(void)
{
	struct pkt_spec sent = {.src = CLIENT,
				.dst = BE,
				.sport = 6000,
				.dport = 8080,
				.proto = IPPROTO_UDP,
				.payload = 8};
	uint8_t in[PKT_MAX], out[PKT_MAX];
	uint32_t out_len;
	size_t len = pkt_icmp_error(in, BE, CLIENT, 3, 3, &sent, 0);

	EXPECT(run_raw(in, len, out, &out_len) == TC_ACT_OK, "verdict");
	EXPECT(out_len == len && !memcmp(in, out, len), "byte-identical");
	EXPECT(counter(BPFLET_CNT_PASS) == 1 && counter(BPFLET_CNT_ICMP_ERROR_NAT) == 0,
	       "counted as pass");
}

const struct test_case icmp_err_cases[] = {
	{"ICMP port unreachable from a UDP backend reaches the client as the VIP's",
	 test_udp_port_unreachable_from_backend},
	{"ICMP frag-needed about a TCP segment translated, quote cut after TCP",
	 test_tcp_frag_needed_from_backend},
	{"ICMP time exceeded from a router: quote translated, router stays the source",
	 test_router_error_keeps_outer_source},
	{"client's port unreachable about a reply goes to the backend, translated",
	 test_client_error_about_reply},
	{"ICMP error about an untracked flow passes byte-identical", test_untracked_error_passes},
	{"hairpin: the pod's error about its own hairpinned datagram comes from the VIP",
	 test_hairpin_error_from_backend},
	{"hairpin: the pod's error about a reply reaches it as the backend, translated",
	 test_hairpin_error_about_reply},
};
const int icmp_err_n_cases = sizeof(icmp_err_cases) / sizeof(icmp_err_cases[0]);
