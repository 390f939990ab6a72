/*
 * BPF_PROG_TEST_RUN cases for tc_pod: crafted packets in, verdict, exact output bytes,
 * checksums, conntrack contents and counter deltas checked.
 */
#include "selftests/bpf/harness.h"
#include "selftests/bpf/packet.h"
#include "tc_pod.skel.h"

#include <bpflet/abi.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <stdlib.h>
#include <string.h>

static struct tc_pod *skel;
static int fd_fe, fd_slot, fd_be, fd_ct_tcp, fd_ct_any, fd_cnt;

#define VIP    "10.96.0.10"
#define CLIENT "10.244.0.4"
#define BE1    "10.244.0.2"
#define BE2    "10.244.0.3"

struct run {
	int retval;
	uint8_t out[PKT_MAX];
	uint32_t out_len;
};

static struct run run_pkt(const uint8_t *in, size_t len)
{
	struct run r = {.out_len = PKT_MAX};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = r.out, .data_size_out = PKT_MAX, .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.tc_pod), &o);

	r.retval = err ? -errno : (int)o.retval;
	r.out_len = o.data_size_out;
	return r;
}

static struct run run_spec(const struct pkt_spec *s, uint8_t *in, size_t *len)
{
	*len = pkt_build(in, s);
	return run_pkt(in, *len);
}

static void clear_map(int fd, size_t ksz)
{
	uint8_t key[64], next[64];

	while (bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(key, next, ksz);
		if (bpf_map_delete_elem(fd, key))
			break;
	}
}

static void reset(void)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpflet_counter_val *zero = calloc((size_t)ncpu, sizeof(*zero));

	clear_map(fd_fe, sizeof(struct bpflet_fe_key));
	clear_map(fd_slot, sizeof(struct bpflet_slot_key));
	clear_map(fd_be, sizeof(__u32));
	clear_map(fd_ct_tcp, sizeof(struct bpflet_ct_key));
	clear_map(fd_ct_any, sizeof(struct bpflet_ct_key));
	for (__u32 i = 0; i < BPFLET_CNT_MAX; i++)
		bpf_map_update_elem(fd_cnt, &i, zero, BPF_ANY);
	free(zero);
}

static unsigned long long counter(enum bpflet_counter c)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpflet_counter_val v[ncpu];
	unsigned long long sum = 0;
	__u32 k = c;

	if (bpf_map_lookup_elem(fd_cnt, &k, v))
		return ~0ull;
	for (int i = 0; i < ncpu; i++)
		sum += v[i].packets;
	return sum;
}

/* A Service frontend with backends (port = target port for all). */
static void add_service(const char *vip, uint16_t port, uint8_t proto, uint32_t svc_id,
			const char *const *backends, int n, uint16_t tport)
{
	struct bpflet_fe_key k = {.port = htons(port),
				  .proto = proto,
				  .family = BPFLET_AF_INET,
				  .scope = BPFLET_SCOPE_INTERNAL};
	struct bpflet_fe_val v = {.svc_id = svc_id, .count = (__u16)n};

	k.addr.addr[0] = ip4(vip);
	for (int i = 0; i < n; i++) {
		struct bpflet_slot_key sk = {.svc_id = svc_id, .slot = (__u32)i};
		struct bpflet_backend be = {
			.port = htons(tport), .proto = proto, .family = BPFLET_AF_INET};
		__u32 id = svc_id * 100 + (__u32)i + 1;

		be.addr.addr[0] = ip4(backends[i]);
		bpf_map_update_elem(fd_be, &id, &be, BPF_ANY);
		bpf_map_update_elem(fd_slot, &sk, &id, BPF_ANY);
	}
	bpf_map_update_elem(fd_fe, &k, &v, BPF_ANY);
}

static bool ct_get(uint8_t proto, const char *s, uint16_t sp, const char *d, uint16_t dp,
		   struct bpflet_ct_val *out)
{
	struct bpflet_ct_key k = {
		.sport = htons(sp), .dport = htons(dp), .proto = proto, .family = BPFLET_AF_INET};

	k.saddr.addr[0] = ip4(s);
	k.daddr.addr[0] = ip4(d);
	return bpf_map_lookup_elem(proto == IPPROTO_TCP ? fd_ct_tcp : fd_ct_any, &k, out) == 0;
}

static long map_entries(int fd, size_t ksz)
{
	uint8_t key[64], next[64];
	void *prev = NULL;
	long n = 0;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, ksz);
		prev = key;
		n++;
	}
	return n;
}

#define CSUMS_OK(r)                                                                                \
	do {                                                                                       \
		char why[128] = "";                                                                \
		EXPECT(pkt_csums_ok((r).out, (r).out_len, why, sizeof(why)), "%s", why);           \
	} while (0)

/* a 32-bit big-endian field at any alignment */
static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

static const char *const one_be[] = {BE1};
static const char *const two_be[] = {BE1, BE2};

static void test_syn_dnat(void)
{
	struct pkt_spec s = {.src = CLIENT,
			     .dst = VIP,
			     .sport = 40000,
			     .dport = 80,
			     .proto = IPPROTO_TCP,
			     .tcp_flags = 0x02,
			     .seq = 1000,
			     .tcp_options = true};
	struct bpflet_ct_val fwd, rev;
	uint8_t in[PKT_MAX];
	size_t len;
	struct run r;

	add_service(VIP, 80, IPPROTO_TCP, 1, one_be, 1, 8080);
	r = run_spec(&s, in, &len);
	EXPECT(r.retval == TC_ACT_OK, "verdict %d", r.retval);
	REQUIRE(r.out_len == len, "length %u, sent %zu", r.out_len, len);
	EXPECT(pkt_ip_dst(r.out) == ip4(BE1), "destination rewritten to the backend");
	EXPECT(pkt_dport(r.out) == 8080, "dport %u", pkt_dport(r.out));
	EXPECT(pkt_ip_src(r.out) == ip4(CLIENT), "no SNAT: client address kept");
	EXPECT(pkt_sport(r.out) == 40000, "sport %u", pkt_sport(r.out));
	CSUMS_OK(r);
	/* only the address, port and checksums may differ */
	uint8_t expect[PKT_MAX];

	memcpy(expect, in, len);
	memcpy(expect + OFF_IP_DST, r.out + OFF_IP_DST, 4);
	memcpy(expect + OFF_IP + 10, r.out + OFF_IP + 10, 2);
	memcpy(expect + OFF_L4 + 2, r.out + OFF_L4 + 2, 2);
	memcpy(expect + OFF_L4 + 16, r.out + OFF_L4 + 16, 2);
	EXPECT(memcmp(expect, r.out, len) == 0, "other bytes untouched");
	REQUIRE(ct_get(IPPROTO_TCP, CLIENT, 40000, VIP, 80, &fwd), "forward conntrack entry");
	EXPECT(fwd.dir == BPFLET_CT_FORWARD && fwd.nat_addr.addr[0] == ip4(BE1) &&
		       fwd.nat_port == htons(8080) && fwd.svc_id == 1 && fwd.backend_id == 101,
	       "forward entry content");
	EXPECT(fwd.flags & BPFLET_CT_F_SYN_SEEN, "SYN recorded");
	REQUIRE(ct_get(IPPROTO_TCP, BE1, 8080, CLIENT, 40000, &rev), "reply conntrack entry");
	EXPECT(rev.dir == BPFLET_CT_REPLY && rev.nat_addr.addr[0] == ip4(VIP) &&
		       rev.nat_port == htons(80),
	       "reply entry content");
	EXPECT(counter(BPFLET_CNT_DNAT_NEW) == 1, "dnat_new %llu", counter(BPFLET_CNT_DNAT_NEW));
}

static void test_synack_reverse_nat(void)
{
	struct pkt_spec syn = {.src = CLIENT,
			       .dst = VIP,
			       .sport = 40001,
			       .dport = 80,
			       .proto = IPPROTO_TCP,
			       .tcp_flags = 0x02,
			       .seq = 7};
	struct pkt_spec sa = {.src = BE1,
			      .dst = CLIENT,
			      .sport = 8080,
			      .dport = 40001,
			      .proto = IPPROTO_TCP,
			      .tcp_flags = 0x12,
			      .seq = 99,
			      .ack = 8};
	uint8_t in[PKT_MAX];
	size_t len;
	struct run r;

	add_service(VIP, 80, IPPROTO_TCP, 1, one_be, 1, 8080);
	run_spec(&syn, in, &len);
	r = run_spec(&sa, in, &len);
	EXPECT(r.retval == TC_ACT_OK, "verdict %d", r.retval);
	EXPECT(pkt_ip_src(r.out) == ip4(VIP) && pkt_sport(r.out) == 80,
	       "reply source is the VIP:port");
	EXPECT(pkt_ip_dst(r.out) == ip4(CLIENT) && pkt_dport(r.out) == 40001, "client untouched");
	CSUMS_OK(r);
	EXPECT(counter(BPFLET_CNT_RNAT) == 1, "reverse_nat %llu", counter(BPFLET_CNT_RNAT));
	struct bpflet_ct_val rev;

	REQUIRE(ct_get(IPPROTO_TCP, BE1, 8080, CLIENT, 40001, &rev), "reply entry");
	EXPECT(rev.flags & BPFLET_CT_F_SYNACK_SEEN, "SYN-ACK recorded, flags %#x", rev.flags);
}

static void test_established_follows_conntrack(void)
{
	static const char *const three[] = {BE1, BE2, "10.244.0.5"};
	struct pkt_spec s = {.src = CLIENT,
			     .dst = VIP,
			     .sport = 40002,
			     .dport = 80,
			     .proto = IPPROTO_TCP,
			     .tcp_flags = 0x02};
	uint8_t in[PKT_MAX];
	size_t len;
	struct run r;
	uint32_t first;

	add_service(VIP, 80, IPPROTO_TCP, 1, three, 3, 8080);
	r = run_spec(&s, in, &len);
	first = pkt_ip_dst(r.out);
	s.tcp_flags = 0x10;
	s.payload = 100;
	for (int i = 0; i < 50; i++) {
		s.seq = 1 + (uint32_t)i * 100;
		r = run_spec(&s, in, &len);
		EXPECT(r.retval == TC_ACT_OK && pkt_ip_dst(r.out) == first,
		       "packet %d went to another backend", i);
		CSUMS_OK(r);
	}
	EXPECT(counter(BPFLET_CNT_DNAT_EST) == 50, "dnat_established %llu",
	       counter(BPFLET_CNT_DNAT_EST));
	EXPECT(counter(BPFLET_CNT_DNAT_NEW) == 1, "dnat_new %llu", counter(BPFLET_CNT_DNAT_NEW));
}

static void test_udp_both_ways(void)
{
	struct pkt_spec q = {.src = CLIENT,
			     .dst = VIP,
			     .sport = 5353,
			     .dport = 53,
			     .proto = IPPROTO_UDP,
			     .payload = 33};
	struct pkt_spec a = {.src = BE1,
			     .dst = CLIENT,
			     .sport = 1053,
			     .dport = 5353,
			     .proto = IPPROTO_UDP,
			     .payload = 61};
	uint8_t in[PKT_MAX];
	size_t len;
	struct run r;

	add_service(VIP, 53, IPPROTO_UDP, 2, one_be, 1, 1053);
	r = run_spec(&q, in, &len);
	EXPECT(r.retval == TC_ACT_OK, "verdict %d", r.retval);
	EXPECT(pkt_ip_dst(r.out) == ip4(BE1) && pkt_dport(r.out) == 1053, "query DNATed");
	CSUMS_OK(r);
	r = run_spec(&a, in, &len);
	EXPECT(pkt_ip_src(r.out) == ip4(VIP) && pkt_sport(r.out) == 53, "answer from the VIP");
	CSUMS_OK(r);
	EXPECT(map_entries(fd_ct_any, sizeof(struct bpflet_ct_key)) == 2, "UDP conntrack holds 2");
	EXPECT(map_entries(fd_ct_tcp, sizeof(struct bpflet_ct_key)) == 0, "TCP conntrack empty");
	/* a datagram without checksum keeps none */
	q.sport = 5354;
	q.udp_no_csum = true;
	r = run_spec(&q, in, &len);
	EXPECT(r.retval == TC_ACT_OK && pkt_ip_dst(r.out) == ip4(BE1), "DNAT without checksum");
	EXPECT(pkt_udp_csum(r.out) == 0, "UDP checksum stays 0, got %#x", pkt_udp_csum(r.out));
	CSUMS_OK(r);
}

static void test_random_spreads(void)
{
	struct pkt_spec s = {
		.src = CLIENT, .dst = VIP, .dport = 80, .proto = IPPROTO_TCP, .tcp_flags = 0x02};
	uint8_t in[PKT_MAX];
	int hits[2] = {0, 0};
	size_t len;

	add_service(VIP, 80, IPPROTO_TCP, 1, two_be, 2, 8080);
	for (int i = 0; i < 200; i++) {
		struct run r;

		s.sport = (uint16_t)(20000 + i);
		r = run_spec(&s, in, &len);
		if (pkt_ip_dst(r.out) == ip4(BE1))
			hits[0]++;
		else if (pkt_ip_dst(r.out) == ip4(BE2))
			hits[1]++;
	}
	EXPECT(hits[0] + hits[1] == 200, "every flow reached a backend (%d)", hits[0] + hits[1]);
	EXPECT(hits[0] >= 50 && hits[1] >= 50, "spread %d/%d over 200 flows", hits[0], hits[1]);
}

static void test_reject_tcp_rst(void)
{
	struct pkt_spec s = {.src = CLIENT,
			     .dst = VIP,
			     .sport = 40003,
			     .dport = 80,
			     .proto = IPPROTO_TCP,
			     .tcp_flags = 0x02,
			     .seq = 5000,
			     .tcp_options = true};
	uint8_t in[PKT_MAX];
	size_t len;
	struct run r;

	add_service(VIP, 80, IPPROTO_TCP, 1, NULL, 0, 0);
	r = run_spec(&s, in, &len);
	EXPECT(r.retval == TC_ACT_REDIRECT, "verdict %d (want redirect back to the pod)", r.retval);
	REQUIRE(r.out_len == 54, "RST frame is %u bytes", r.out_len);
	EXPECT(memcmp(r.out + OFF_ETH_DST, in + OFF_ETH_SRC, 6) == 0 &&
		       memcmp(r.out + OFF_ETH_SRC, in + OFF_ETH_DST, 6) == 0,
	       "MACs swapped");
	EXPECT(pkt_ip_src(r.out) == ip4(VIP) && pkt_ip_dst(r.out) == ip4(CLIENT), "addresses");
	EXPECT(pkt_sport(r.out) == 80 && pkt_dport(r.out) == 40003, "ports");
	EXPECT(r.out[OFF_L4 + 13] == 0x14, "flags RST|ACK, got %#x", r.out[OFF_L4 + 13]);
	uint32_t ack = get32(r.out + OFF_L4 + 8);

	EXPECT(ack == 5001, "ack %u = seq + 1 for the SYN", ack);
	CSUMS_OK(r);
	EXPECT(counter(BPFLET_CNT_REJECT_TCP) == 1, "reject counted");
	EXPECT(map_entries(fd_ct_tcp, sizeof(struct bpflet_ct_key)) == 0, "no conntrack entry");
	/* a segment with ACK set: RST takes its sequence number from the ACK */
	s.tcp_flags = 0x18;
	s.ack = 777;
	s.payload = 10;
	s.tcp_options = false;
	r = run_spec(&s, in, &len);
	EXPECT(r.retval == TC_ACT_REDIRECT && r.out_len == 54, "RST for a data segment");
	EXPECT(r.out[OFF_L4 + 13] == 0x04, "flags RST only, got %#x", r.out[OFF_L4 + 13]);
	EXPECT(get32(r.out + OFF_L4 + 4) == 777, "seq from the ACK");
	CSUMS_OK(r);
}

static void test_reject_never_answers_rst(void)
{
	struct pkt_spec s = {.src = CLIENT,
			     .dst = VIP,
			     .sport = 40004,
			     .dport = 80,
			     .proto = IPPROTO_TCP,
			     .tcp_flags = 0x04};
	uint8_t in[PKT_MAX];
	size_t len;
	struct run r;

	add_service(VIP, 80, IPPROTO_TCP, 1, NULL, 0, 0);
	r = run_spec(&s, in, &len);
	EXPECT(r.retval == TC_ACT_SHOT, "verdict %d", r.retval);
}

static void test_reject_udp_icmp(void)
{
	struct pkt_spec s = {.src = CLIENT,
			     .dst = VIP,
			     .sport = 5000,
			     .dport = 53,
			     .proto = IPPROTO_UDP,
			     .payload = 40};
	uint8_t in[PKT_MAX];
	size_t len;
	struct run r;

	add_service(VIP, 53, IPPROTO_UDP, 2, NULL, 0, 0);
	r = run_spec(&s, in, &len);
	EXPECT(r.retval == TC_ACT_REDIRECT, "verdict %d", r.retval);
	REQUIRE(r.out_len == 14 + 20 + 8 + 20 + 8, "ICMP frame is %u bytes", r.out_len);
	EXPECT(r.out[OFF_IP_PROTO] == IPPROTO_ICMP, "ICMP");
	EXPECT(r.out[OFF_L4] == 3 && r.out[OFF_L4 + 1] == 3, "type 3 code 3, got %u/%u",
	       r.out[OFF_L4], r.out[OFF_L4 + 1]);
	EXPECT(pkt_ip_src(r.out) == ip4(VIP) && pkt_ip_dst(r.out) == ip4(CLIENT), "addresses");
	EXPECT(memcmp(r.out + OFF_L4 + 8, in + OFF_IP, 28) == 0,
	       "quotes the original IP header and 8 bytes of UDP");
	CSUMS_OK(r);
	EXPECT(counter(BPFLET_CNT_REJECT_UDP) == 1, "reject counted");
}

static void test_hairpin(void)
{
	static const char *const self[] = {CLIENT};
	struct pkt_spec syn = {.src = CLIENT,
			       .dst = VIP,
			       .sport = 40005,
			       .dport = 80,
			       .proto = IPPROTO_TCP,
			       .tcp_flags = 0x02};
	struct pkt_spec sa = {.src = CLIENT,
			      .dst = "169.254.42.1",
			      .sport = 8080,
			      .dport = 40005,
			      .proto = IPPROTO_TCP,
			      .tcp_flags = 0x12};
	uint8_t in[PKT_MAX];
	size_t len;
	struct run r;

	add_service(VIP, 80, IPPROTO_TCP, 1, self, 1, 8080);
	r = run_spec(&syn, in, &len);
	EXPECT(r.retval == TC_ACT_OK, "verdict %d", r.retval);
	EXPECT(pkt_ip_src(r.out) == ip4("169.254.42.1"), "source rewritten to the hairpin IP");
	EXPECT(pkt_ip_dst(r.out) == ip4(CLIENT) && pkt_dport(r.out) == 8080, "to the pod itself");
	CSUMS_OK(r);
	r = run_spec(&sa, in, &len);
	EXPECT(pkt_ip_src(r.out) == ip4(VIP) && pkt_sport(r.out) == 80, "reply from the VIP");
	EXPECT(pkt_ip_dst(r.out) == ip4(CLIENT) && pkt_dport(r.out) == 40005,
	       "reply back to the original client");
	CSUMS_OK(r);
}

static void expect_untouched(const struct pkt_spec *s, enum bpflet_counter c)
{
	uint8_t in[PKT_MAX];
	size_t len;
	struct run r = run_spec(s, in, &len);

	EXPECT(r.retval == TC_ACT_OK, "verdict %d", r.retval);
	EXPECT(r.out_len == len && memcmp(r.out, in, len) == 0, "bytes unchanged");
	EXPECT(counter(c) == 1, "counter %d is %llu", c, counter(c));
}

static void test_non_service_passes(void)
{
	struct pkt_spec tcp = {.src = CLIENT,
			       .dst = BE1,
			       .sport = 40006,
			       .dport = 80,
			       .proto = IPPROTO_TCP,
			       .tcp_flags = 0x02};
	struct pkt_spec icmp = {.src = CLIENT,
				.dst = VIP,
				.sport = 1,
				.dport = 1,
				.proto = IPPROTO_ICMP,
				.payload = 56};

	add_service(VIP, 80, IPPROTO_TCP, 1, one_be, 1, 8080);
	expect_untouched(&tcp, BPFLET_CNT_PASS);
	EXPECT(map_entries(fd_ct_tcp, sizeof(struct bpflet_ct_key)) == 0, "no conntrack entry");
	reset();
	expect_untouched(&icmp, BPFLET_CNT_PASS);
	/* the right port but the other protocol is not the Service */
	struct pkt_spec udp = {
		.src = CLIENT, .dst = VIP, .sport = 9, .dport = 80, .proto = IPPROTO_UDP};

	reset();
	add_service(VIP, 80, IPPROTO_TCP, 1, one_be, 1, 8080);
	expect_untouched(&udp, BPFLET_CNT_PASS);
}

static void test_arp_passes(void)
{
	uint8_t arp[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 4, 0x08, 0x06};
	struct run r = run_pkt(arp, sizeof(arp));

	EXPECT(r.retval == TC_ACT_OK, "verdict %d", r.retval);
	EXPECT(memcmp(r.out, arp, sizeof(arp)) == 0, "bytes unchanged");
	EXPECT(counter(BPFLET_CNT_NON_IP) == 1, "non_ip counted");
}

static void test_malformed_dropped(void)
{
	struct pkt_spec s = {.src = CLIENT,
			     .dst = VIP,
			     .sport = 40007,
			     .dport = 80,
			     .proto = IPPROTO_TCP,
			     .tcp_flags = 0x02};
	uint8_t in[PKT_MAX];
	size_t len = pkt_build(in, &s);
	struct run r;

	add_service(VIP, 80, IPPROTO_TCP, 1, one_be, 1, 8080);
	/* (frames shorter than an IP header never reach the program: test_run refuses them) */
	in[OFF_IP] = 0x4f; /* ihl 15: a 60-byte header that the frame does not hold */
	r = run_pkt(in, len);
	EXPECT(r.retval == TC_ACT_SHOT, "header longer than the packet: verdict %d", r.retval);
	pkt_build(in, &s);
	in[OFF_IP_LEN] = 0;
	in[OFF_IP_LEN + 1] = 19; /* total length shorter than the header */
	r = run_pkt(in, len);
	EXPECT(r.retval == TC_ACT_SHOT, "tot_len < ihl: verdict %d", r.retval);
	pkt_build(in, &s);
	in[OFF_IP] = 0x44; /* ihl 4 */
	r = run_pkt(in, len);
	EXPECT(r.retval == TC_ACT_SHOT, "ihl < 5: verdict %d", r.retval);
	pkt_build(in, &s);
	in[OFF_IP_LEN] = 0x05; /* total length 1280+ beyond the frame */
	r = run_pkt(in, len);
	EXPECT(r.retval == TC_ACT_SHOT, "tot_len past the frame: verdict %d", r.retval);
	pkt_build(in, &s);
	in[OFF_IP_LEN] = 0;
	in[OFF_IP_LEN + 1] = 30; /* claims only 10 bytes of TCP */
	r = run_pkt(in, 14 + 30);
	EXPECT(r.retval == TC_ACT_SHOT, "truncated TCP header: verdict %d", r.retval);
	pkt_build(in, &s);
	in[OFF_L4 + 12] = 0x30; /* doff 3 */
	r = run_pkt(in, len);
	EXPECT(r.retval == TC_ACT_SHOT, "doff < 5: verdict %d", r.retval);
	EXPECT(counter(BPFLET_CNT_DROP_MALFORMED) == 6, "malformed counted %llu",
	       counter(BPFLET_CNT_DROP_MALFORMED));
	EXPECT(map_entries(fd_ct_tcp, sizeof(struct bpflet_ct_key)) == 0, "nothing tracked");
	EXPECT(counter(BPFLET_CNT_DNAT_NEW) == 0, "nothing translated");
}

static void test_fragment_passes(void)
{
	struct pkt_spec s = {.src = CLIENT,
			     .dst = VIP,
			     .sport = 5000,
			     .dport = 53,
			     .proto = IPPROTO_UDP,
			     .payload = 100};
	uint8_t in[PKT_MAX];
	size_t len = pkt_build(in, &s);
	struct run r;

	add_service(VIP, 53, IPPROTO_UDP, 2, one_be, 1, 1053);
	in[OFF_IP + 6] = 0x20; /* MF, offset 0: first fragment */
	in[OFF_IP + 10] = in[OFF_IP + 11] = 0;
	r = run_pkt(in, len);
	EXPECT(r.retval == TC_ACT_OK && memcmp(r.out, in, len) == 0, "fragment passes untouched");
	EXPECT(counter(BPFLET_CNT_FRAGMENT) == 1, "fragment counted");
}

static void test_missing_backend_dropped(void)
{
	struct bpflet_fe_key k = {.port = htons(80),
				  .proto = IPPROTO_TCP,
				  .family = BPFLET_AF_INET,
				  .scope = BPFLET_SCOPE_INTERNAL};
	struct bpflet_fe_val v = {.svc_id = 9, .count = 1};
	struct pkt_spec s = {.src = CLIENT,
			     .dst = VIP,
			     .sport = 40008,
			     .dport = 80,
			     .proto = IPPROTO_TCP,
			     .tcp_flags = 0x02};
	uint8_t in[PKT_MAX];
	size_t len;
	struct run r;

	k.addr.addr[0] = ip4(VIP);
	bpf_map_update_elem(fd_fe, &k, &v, BPF_ANY); /* a slot that does not exist */
	r = run_spec(&s, in, &len);
	EXPECT(r.retval == TC_ACT_SHOT, "verdict %d", r.retval);
	EXPECT(counter(BPFLET_CNT_DROP_NO_BACKEND) == 1, "drop_no_backend counted");
}

static void test_rst_ends_flow(void)
{
	struct pkt_spec syn = {.src = CLIENT,
			       .dst = VIP,
			       .sport = 40009,
			       .dport = 80,
			       .proto = IPPROTO_TCP,
			       .tcp_flags = 0x02};
	struct pkt_spec rst = {.src = CLIENT,
			       .dst = VIP,
			       .sport = 40009,
			       .dport = 80,
			       .proto = IPPROTO_TCP,
			       .tcp_flags = 0x14,
			       .seq = 1,
			       .ack = 1};
	struct pkt_spec direct = {.src = CLIENT,
				  .dst = BE1,
				  .sport = 40010,
				  .dport = 8080,
				  .proto = IPPROTO_TCP,
				  .tcp_flags = 0x02};
	struct pkt_spec reply = {.src = BE1,
				 .dst = CLIENT,
				 .sport = 8080,
				 .dport = 40010,
				 .proto = IPPROTO_TCP,
				 .tcp_flags = 0x12};
	struct bpflet_ct_val v;
	uint8_t in[PKT_MAX];
	size_t len;
	struct run r;

	add_service(VIP, 80, IPPROTO_TCP, 1, one_be, 1, 8080);
	run_spec(&syn, in, &len);
	EXPECT(map_entries(fd_ct_tcp, sizeof(struct bpflet_ct_key)) == 2, "flow tracked");
	r = run_spec(&rst, in, &len);
	EXPECT(r.retval == TC_ACT_OK && pkt_ip_dst(r.out) == ip4(BE1), "the RST is translated");
	EXPECT(map_entries(fd_ct_tcp, sizeof(struct bpflet_ct_key)) == 0,
	       "both directions forgotten after the RST, %ld left",
	       map_entries(fd_ct_tcp, sizeof(struct bpflet_ct_key)));
	/* a Service flow from port 40010, then a direct connection from the same port */
	syn.sport = 40010;
	run_spec(&syn, in, &len);
	REQUIRE(ct_get(IPPROTO_TCP, BE1, 8080, CLIENT, 40010, &v), "reply entry exists");
	r = run_spec(&direct, in, &len);
	EXPECT(r.retval == TC_ACT_OK && memcmp(r.out, in, len) == 0, "direct SYN untouched");
	EXPECT(!ct_get(IPPROTO_TCP, BE1, 8080, CLIENT, 40010, &v), "the stale reply entry is gone");
	r = run_spec(&reply, in, &len);
	EXPECT(pkt_ip_src(r.out) == ip4(BE1) && pkt_sport(r.out) == 8080,
	       "the direct connection's SYN-ACK keeps the pod's address");
}

int main(void)
{
	static const struct test_case cases[] = {
		{"SYN to a ClusterIP is DNATed, checksums valid, both CT entries", test_syn_dnat},
		{"SYN-ACK from the backend is reverse-NATed to VIP:port", test_synack_reverse_nat},
		{"established packets follow conntrack (50 of 50 to one backend)",
		 test_established_follows_conntrack},
		{"UDP both ways, checksum 0 stays 0", test_udp_both_ways},
		{"random selection spreads 200 new flows over 2 backends", test_random_spreads},
		{"no endpoints: TCP answered with RST", test_reject_tcp_rst},
		{"no endpoints: a RST is dropped, never answered", test_reject_never_answers_rst},
		{"no endpoints: UDP answered with ICMP port unreachable", test_reject_udp_icmp},
		{"hairpin: SNAT to 169.254.42.1 and the reply restored", test_hairpin},
		{"non-Service TCP, ICMP and other-protocol packets pass byte-identical",
		 test_non_service_passes},
		{"ARP passes untouched", test_arp_passes},
		{"malformed and truncated packets dropped and counted", test_malformed_dropped},
		{"IPv4 fragments pass untouched and are counted", test_fragment_passes},
		{"a slot without backend drops and counts", test_missing_backend_dropped},
		{"a RST forgets the flow; a direct SYN clears a stale reply entry",
		 test_rst_ends_flow},
	};

	skel = tc_pod__open_and_load();
	if (!skel) {
		printf("FAIL - loading tc_pod: %s (these tests need root and BPF)\n",
		       strerror(errno));
		printf("0 passed, 1 failed\n");
		return 1;
	}
	fd_fe = bpf_map__fd(skel->maps.bl_fe_v1);
	fd_slot = bpf_map__fd(skel->maps.bl_slot_v1);
	fd_be = bpf_map__fd(skel->maps.bl_be_v1);
	fd_ct_tcp = bpf_map__fd(skel->maps.bl_ct_tcp_v1);
	fd_ct_any = bpf_map__fd(skel->maps.bl_ct_any_v1);
	fd_cnt = bpf_map__fd(skel->maps.bl_cnt_v1);
	int rc = harness_run(cases, (int)(sizeof(cases) / sizeof(cases[0])), reset);

	tc_pod__destroy(skel);
	return rc;
}
