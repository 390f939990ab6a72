/*
 * BPF_PROG_TEST_RUN cases for tc_pod: crafted packets in, verdict, exact output bytes,
 * checksums, conntrack contents and counter deltas checked.
 */
#include "agent/common/maps_util.h"
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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Two loads of tc_pod: the default one patches L4 checksums in place (the skbs of
 * test_run carry CHECKSUM_NONE); the other goes through the kernel's helpers, the
 * path CHECKSUM_PARTIAL packets take on a real veth. */
static struct tc_pod *skel_plain, *skel_helpers, *skel;
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

static void reset(void)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpflet_counter_val *zero = calloc((size_t)ncpu, sizeof(*zero));

	bl_map_clear(fd_fe);
	bl_map_clear(fd_slot);
	bl_map_clear(fd_be);
	bl_map_clear(fd_ct_tcp);
	bl_map_clear(fd_ct_any);
	for (__u32 i = 0; i < BPFLET_CNT_MAX; i++)
		bpf_map_update_elem(fd_cnt, &i, zero, BPF_ANY);
	free(zero);
}

static void use_skel(struct tc_pod *s)
{
	skel = s;
	fd_fe = bpf_map__fd(s->maps.bl_fe_v1);
	fd_slot = bpf_map__fd(s->maps.bl_slot_v1);
	fd_be = bpf_map__fd(s->maps.bl_be_v1);
	fd_ct_tcp = bpf_map__fd(s->maps.bl_ct_tcp_v2);
	fd_ct_any = bpf_map__fd(s->maps.bl_ct_any_v2);
	fd_cnt = bpf_map__fd(s->maps.bl_cnt_v1);
}

/* Sum over CPUs of one counter (the maps are reset before every case). */
static struct bpflet_counter_val counter_val(enum bpflet_counter c)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpflet_counter_val v[ncpu], sum = {~0ull, ~0ull};
	__u32 k = c;

	if (bpf_map_lookup_elem(fd_cnt, &k, v))
		return sum;
	sum.packets = sum.bytes = 0;
	for (int i = 0; i < ncpu; i++) {
		sum.packets += v[i].packets;
		sum.bytes += v[i].bytes;
	}
	return sum;
}

static unsigned long long counter(enum bpflet_counter c)
{
	return counter_val(c).packets;
}

/* Packets over all counters: every packet must land in exactly one. */
static unsigned long long counted_total(void)
{
	unsigned long long n = 0;

	for (int c = 0; c < BPFLET_CNT_MAX; c++)
		n += counter((enum bpflet_counter)c);
	return n;
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
	EXPECT(fwd.flags == BPFLET_CT_F_SYN_SEEN, "only SYN recorded, flags %#x", fwd.flags);
	EXPECT(fwd.hairpin_addr.addr[0] == 0 && fwd.created_ns != 0 &&
		       fwd.last_seen_ns == fwd.created_ns,
	       "no hairpin address, timestamps set");
	REQUIRE(ct_get(IPPROTO_TCP, BE1, 8080, CLIENT, 40000, &rev), "reply conntrack entry");
	EXPECT(rev.dir == BPFLET_CT_REPLY && rev.nat_addr.addr[0] == ip4(VIP) &&
		       rev.nat_port == htons(80) && rev.svc_id == 1 && rev.backend_id == 101 &&
		       rev.hairpin_addr.addr[0] == 0 && rev.created_ns == fwd.created_ns,
	       "reply entry content");
	EXPECT(map_entries(fd_ct_tcp, sizeof(struct bpflet_ct_key)) == 2, "exactly 2 entries");
	struct bpflet_counter_val c = counter_val(BPFLET_CNT_DNAT_NEW);

	EXPECT(c.packets == 1 && c.bytes == len, "dnat_new %llu packets %llu bytes", c.packets,
	       c.bytes);
	EXPECT(counted_total() == 1, "one counter moved, total %llu", counted_total());
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
	/* a FIN is ORed into the entry's flags */
	struct bpflet_ct_val fwd;

	s.tcp_flags = 0x11;
	r = run_spec(&s, in, &len);
	EXPECT(r.retval == TC_ACT_OK && pkt_ip_dst(r.out) == first, "FIN follows the flow");
	REQUIRE(ct_get(IPPROTO_TCP, CLIENT, 40002, VIP, 80, &fwd), "forward entry");
	EXPECT(fwd.flags == (BPFLET_CT_F_SYN_SEEN | BPFLET_CT_F_FIN_SEEN), "flags %#x", fwd.flags);
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
	a.dport = 5354;
	a.udp_no_csum = true;
	r = run_spec(&a, in, &len);
	EXPECT(r.retval == TC_ACT_OK && pkt_ip_src(r.out) == ip4(VIP) && pkt_sport(r.out) == 53,
	       "answer without checksum from the VIP");
	EXPECT(pkt_udp_csum(r.out) == 0, "reply checksum stays 0, got %#x", pkt_udp_csum(r.out));
	EXPECT(counter(BPFLET_CNT_DNAT_NEW) == 2 && counter(BPFLET_CNT_RNAT) == 2,
	       "dnat_new %llu reverse_nat %llu", counter(BPFLET_CNT_DNAT_NEW),
	       counter(BPFLET_CNT_RNAT));
}

/* A rewrite whose new UDP checksum computes to 0 must send 0xffff: 0 means "none". */
static void test_udp_csum_zero_result(void)
{
	struct pkt_spec q = {.src = CLIENT,
			     .dst = VIP,
			     .sport = 5353,
			     .dport = 53,
			     .proto = IPPROTO_UDP,
			     .payload = 2};
	struct pkt_spec t = q;
	uint8_t in[PKT_MAX], want[PKT_MAX];
	size_t len = 0;
	uint32_t w;
	struct run r;

	/* find the 2 payload bytes that make the translated datagram's checksum 0 */
	t.dst = BE1;
	t.dport = 1053;
	for (w = 0; w < 0x10000; w++) {
		len = pkt_build(want, &t);
		want[OFF_L4 + 8] = (uint8_t)(w >> 8);
		want[OFF_L4 + 9] = (uint8_t)w;
		if (pkt_udp_csum_calc(want) == 0)
			break;
	}
	REQUIRE(w < 0x10000, "payload found");
	want[OFF_L4 + 6] = want[OFF_L4 + 7] = 0xff;
	pkt_build(in, &q);
	in[OFF_L4 + 8] = (uint8_t)(w >> 8);
	in[OFF_L4 + 9] = (uint8_t)w;
	uint16_t c = pkt_udp_csum_calc(in);

	in[OFF_L4 + 6] = (uint8_t)(c >> 8);
	in[OFF_L4 + 7] = (uint8_t)c;
	add_service(VIP, 53, IPPROTO_UDP, 2, one_be, 1, 1053);
	r = run_pkt(in, len);
	EXPECT(r.retval == TC_ACT_OK, "verdict %d", r.retval);
	EXPECT(pkt_udp_csum(r.out) == 0xffff, "checksum %#x, want 0xffff", pkt_udp_csum(r.out));
	EXPECT(r.out_len == len && memcmp(r.out, want, len) == 0, "bytes as built by hand");
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
	EXPECT(get32(r.out + OFF_L4 + 4) == 0, "seq 0 when the segment had no ACK");
	EXPECT(r.out[OFF_L4 + 12] == 0x50, "a bare 20-byte TCP header");
	EXPECT(r.out[OFF_IP_LEN] == 0 && r.out[OFF_IP_LEN + 1] == 40, "IP total length 40");
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
	/* data without ACK: ack covers the payload and the FIN */
	s.tcp_flags = 0x09;
	s.seq = 100;
	r = run_spec(&s, in, &len);
	EXPECT(r.retval == TC_ACT_REDIRECT && r.out[OFF_L4 + 13] == 0x14, "RST|ACK for PSH|FIN");
	EXPECT(get32(r.out + OFF_L4 + 8) == 111, "ack %u = seq + 10 bytes + FIN",
	       get32(r.out + OFF_L4 + 8));
	CSUMS_OK(r);
	EXPECT(counter(BPFLET_CNT_REJECT_TCP) == 3, "3 rejects counted");
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
	/* counted as rejected: the connection attempt met a Service without endpoints */
	EXPECT(counter(BPFLET_CNT_REJECT_TCP) == 1 && counted_total() == 1, "reject_tcp %llu",
	       counter(BPFLET_CNT_REJECT_TCP));
	EXPECT(map_entries(fd_ct_tcp, sizeof(struct bpflet_ct_key)) == 0, "no conntrack entry");
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
	EXPECT(memcmp(r.out + OFF_ETH_DST, in + OFF_ETH_SRC, 6) == 0 &&
		       memcmp(r.out + OFF_ETH_SRC, in + OFF_ETH_DST, 6) == 0,
	       "MACs swapped");
	EXPECT(r.out[OFF_IP_LEN] == 0 && r.out[OFF_IP_LEN + 1] == 56, "IP total length 56");
	EXPECT(get32(r.out + OFF_L4 + 4) == 0, "unused word is 0");
	CSUMS_OK(r);
	EXPECT(counter(BPFLET_CNT_REJECT_UDP) == 1, "reject counted");
	EXPECT(map_entries(fd_ct_any, sizeof(struct bpflet_ct_key)) == 0, "no conntrack entry");
	/* an empty datagram: the reply grows the packet */
	s.payload = 0;
	r = run_spec(&s, in, &len);
	EXPECT(r.retval == TC_ACT_REDIRECT && r.out_len == 70, "ICMP for an empty datagram, %u",
	       r.out_len);
	CSUMS_OK(r);
	/* quoting assumes a 20-byte IP header: with options the reply is not built */
	s.ip_options = 4;
	r = run_spec(&s, in, &len);
	EXPECT(r.retval == TC_ACT_SHOT, "verdict %d", r.retval);
	EXPECT(counter(BPFLET_CNT_DROP_REJECT_FAILED) == 1, "reject_failed counted");
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
	EXPECT(pkt_sport(r.out) == 40005, "source port kept");
	struct bpflet_ct_val fwd, rev;

	REQUIRE(ct_get(IPPROTO_TCP, CLIENT, 40005, VIP, 80, &fwd), "forward entry");
	EXPECT(fwd.dir == BPFLET_CT_FORWARD && (fwd.flags & BPFLET_CT_F_HAIRPIN) &&
		       fwd.hairpin_addr.addr[0] == ip4("169.254.42.1") &&
		       fwd.nat_addr.addr[0] == ip4(CLIENT) && fwd.nat_port == htons(8080),
	       "forward entry content, flags %#x", fwd.flags);
	EXPECT(!ct_get(IPPROTO_TCP, CLIENT, 8080, CLIENT, 40005, &rev),
	       "no reply entry keyed by the client address");
	REQUIRE(ct_get(IPPROTO_TCP, CLIENT, 8080, "169.254.42.1", 40005, &rev),
		"reply entry keyed by the hairpin address");
	EXPECT(rev.dir == BPFLET_CT_REPLY && (rev.flags & BPFLET_CT_F_HAIRPIN) &&
		       rev.hairpin_addr.addr[0] == ip4(CLIENT) &&
		       rev.nat_addr.addr[0] == ip4(VIP) && rev.nat_port == htons(80),
	       "reply entry content");
	r = run_spec(&sa, in, &len);
	EXPECT(r.retval == TC_ACT_OK, "verdict %d", r.retval);
	EXPECT(pkt_ip_src(r.out) == ip4(VIP) && pkt_sport(r.out) == 80, "reply from the VIP");
	EXPECT(pkt_ip_dst(r.out) == ip4(CLIENT) && pkt_dport(r.out) == 40005,
	       "reply back to the original client");
	CSUMS_OK(r);
	/* the next forward packet takes the same translation from conntrack */
	syn.tcp_flags = 0x10;
	r = run_spec(&syn, in, &len);
	EXPECT(pkt_ip_src(r.out) == ip4("169.254.42.1") && pkt_ip_dst(r.out) == ip4(CLIENT),
	       "established hairpin packet SNATed and DNATed");
	CSUMS_OK(r);
	EXPECT(counter(BPFLET_CNT_DNAT_NEW) == 1 && counter(BPFLET_CNT_RNAT) == 1 &&
		       counter(BPFLET_CNT_DNAT_EST) == 1,
	       "counters new/rnat/est %llu/%llu/%llu", counter(BPFLET_CNT_DNAT_NEW),
	       counter(BPFLET_CNT_RNAT), counter(BPFLET_CNT_DNAT_EST));
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
	EXPECT(map_entries(fd_ct_any, sizeof(struct bpflet_ct_key)) == 0, "no UDP entry");
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
	struct pkt_spec u = {
		.src = CLIENT, .dst = VIP, .sport = 9, .dport = 53, .proto = IPPROTO_UDP};
	uint8_t in[PKT_MAX];
	size_t len = pkt_build(in, &s);
	unsigned long long bytes = 0;
	struct run r;

	add_service(VIP, 80, IPPROTO_TCP, 1, one_be, 1, 8080);
	add_service(VIP, 53, IPPROTO_UDP, 2, one_be, 1, 1053);
	/* the shortest frame test_run takes: 20 bytes of IP, but ihl says 24 */
	in[OFF_IP] = 0x46;
	r = run_pkt(in, 34);
	EXPECT(r.retval == TC_ACT_SHOT, "IP header cut by the frame: verdict %d", r.retval);
	bytes += 34;
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
	in[OFF_IP] = 0x65; /* version 6 in an IPv4 frame */
	r = run_pkt(in, len);
	EXPECT(r.retval == TC_ACT_SHOT, "version 6: verdict %d", r.retval);
	pkt_build(in, &s);
	in[OFF_IP_LEN] = 0x05; /* total length 1280+ beyond the frame */
	r = run_pkt(in, len);
	EXPECT(r.retval == TC_ACT_SHOT, "tot_len past the frame: verdict %d", r.retval);
	bytes += 5 * len;
	pkt_build(in, &s);
	in[OFF_IP_LEN] = 0;
	in[OFF_IP_LEN + 1] = 30; /* claims only 10 bytes of TCP */
	r = run_pkt(in, 14 + 30);
	EXPECT(r.retval == TC_ACT_SHOT, "truncated TCP header: verdict %d", r.retval);
	bytes += 14 + 30;
	pkt_build(in, &s);
	in[OFF_L4 + 12] = 0x30; /* doff 3 */
	r = run_pkt(in, len);
	EXPECT(r.retval == TC_ACT_SHOT, "doff < 5: verdict %d", r.retval);
	bytes += len;
	len = pkt_build(in, &u);
	in[OFF_IP_LEN] = 0;
	in[OFF_IP_LEN + 1] = 24; /* claims only 4 bytes of UDP */
	r = run_pkt(in, 14 + 24);
	EXPECT(r.retval == TC_ACT_SHOT, "truncated UDP header: verdict %d", r.retval);
	bytes += 14 + 24;
	struct bpflet_counter_val c = counter_val(BPFLET_CNT_DROP_MALFORMED);

	EXPECT(c.packets == 9 && c.bytes == bytes, "malformed counted %llu packets %llu bytes",
	       c.packets, c.bytes);
	EXPECT(counted_total() == 9, "only drop_malformed moved");
	EXPECT(map_entries(fd_ct_tcp, sizeof(struct bpflet_ct_key)) == 0 &&
		       map_entries(fd_ct_any, sizeof(struct bpflet_ct_key)) == 0,
	       "nothing tracked");
}

/* test_run refuses frames shorter than an Ethernet header, and IPv4 frames without a
 * whole 20-byte IP header, before the program runs: those shapes cannot be fed to it. */
static void test_runt_refused_by_kernel(void)
{
	uint8_t in[PKT_MAX] = {0};
	struct run r = run_pkt(in, 0);

	EXPECT(r.retval == -EINVAL, "zero-length frame: %d (want -EINVAL)", r.retval);
	r = run_pkt(in, 13);
	EXPECT(r.retval == -EINVAL, "13-byte frame: %d (want -EINVAL)", r.retval);
	in[12] = 0x08; /* IPv4 */
	r = run_pkt(in, 14);
	EXPECT(r.retval == -EINVAL, "IPv4 frame without IP header: %d (want -EINVAL)", r.retval);
	r = run_pkt(in, 24);
	EXPECT(r.retval == -EINVAL, "IPv4 frame with 10 bytes of IP: %d (want -EINVAL)", r.retval);
	EXPECT(counted_total() == 0, "the program never saw them");
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
	/* a later fragment (offset 1480) whose first fragment was never seen: held for
	 * it (translated, held and replayed fragments: test_frag.c) */
	in[OFF_IP + 6] = 0x20;
	in[OFF_IP + 7] = 185;
	in[OFF_IP + 10] = in[OFF_IP + 11] = 0;
	r = run_pkt(in, len);
	EXPECT(r.retval == TC_ACT_SHOT, "fragment not held for its first (verdict %d)", r.retval);
	EXPECT(counter(BPFLET_CNT_FRAGMENT_HELD) == 1, "fragment_held counted");
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

/* The cases whose bytes depend on how L4 checksums are patched, run again through the
 * kernel's helpers. */
static void test_helper_path(void)
{
	static void (*const again[])(void) = {
		test_syn_dnat,	    test_synack_reverse_nat,   test_established_follows_conntrack,
		test_udp_both_ways, test_udp_csum_zero_result, test_hairpin};

	use_skel(skel_helpers);
	for (size_t i = 0; i < sizeof(again) / sizeof(again[0]); i++) {
		reset();
		again[i]();
	}
	use_skel(skel_plain);
}

static struct tc_pod *load(bool helpers_only)
{
	struct tc_pod *s = tc_pod__open();

	if (!s)
		return NULL;
	s->rodata->l4_csum_helpers_only = helpers_only;
	s->rodata->dsr_mss = DSR_TEST_MSS; /* only DSR reply entries are clamped */
	if (tc_pod__load(s)) {
		tc_pod__destroy(s);
		return NULL;
	}
	return s;
}

int main(void)
{
	static const struct test_case cases[] = {
		{"SYN to a ClusterIP is DNATed, checksums valid, both CT entries", test_syn_dnat},
		{"SYN-ACK from the backend is reverse-NATed to VIP:port", test_synack_reverse_nat},
		{"established packets follow conntrack (50 of 50 to one backend)",
		 test_established_follows_conntrack},
		{"UDP both ways, checksum 0 stays 0", test_udp_both_ways},
		{"a UDP checksum that computes to 0 is sent as 0xffff", test_udp_csum_zero_result},
		{"random selection spreads 200 new flows over 2 backends", test_random_spreads},
		{"no endpoints: TCP answered with RST", test_reject_tcp_rst},
		{"no endpoints: a RST is dropped, never answered", test_reject_never_answers_rst},
		{"no endpoints: UDP answered with ICMP port unreachable", test_reject_udp_icmp},
		{"hairpin: SNAT to 169.254.42.1 and the reply restored", test_hairpin},
		{"non-Service TCP, ICMP and other-protocol packets pass byte-identical",
		 test_non_service_passes},
		{"ARP passes untouched", test_arp_passes},
		{"malformed and truncated packets dropped and counted", test_malformed_dropped},
		{"runt frames are refused by the kernel before the program",
		 test_runt_refused_by_kernel},
		{"an IPv4 fragment of no known datagram is held for its first, counted",
		 test_fragment_passes},
		{"a slot without backend drops and counts", test_missing_backend_dropped},
		{"a RST forgets the flow; a direct SYN clears a stale reply entry",
		 test_rst_ends_flow},
		{"NAT cases again with the kernel's checksum helpers (CHECKSUM_PARTIAL path)",
		 test_helper_path},
	};
	int rc;

	if (geteuid() != 0) {
		printf("FAIL: setup: BPF_PROG_TEST_RUN needs root (CAP_BPF and CAP_NET_ADMIN); "
		       "run as root\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	skel_plain = load(false);
	skel_helpers = load(true);
	if (!skel_plain || !skel_helpers) {
		printf("FAIL: setup: loading tc_pod failed: %s (needs root, BPF and kernel BTF at "
		       "/sys/kernel/btf/vmlinux)\n",
		       strerror(errno));
		printf("0 passed, 1 failed\n");
		return 1;
	}
	use_skel(skel_plain);
	svc_lb_skel = skel_plain;
	int n = (int)(sizeof(cases) / sizeof(cases[0]));
	const struct {
		const struct test_case *c;
		int n;
	} extra[] = {{svc_lb_cases, svc_lb_n_cases},	 {ct_gc_cases, ct_gc_n_cases},
		     {icmp_err_cases, icmp_err_n_cases}, {frag_cases, frag_n_cases},
		     {xdp_cases, xdp_n_cases},		 {policy_cases, policy_n_cases},
		     {batch_cases, batch_n_cases},	 {ct_tcp_cases, ct_tcp_n_cases},
		     {dsr_cases, dsr_n_cases},		 {monitor_cases, monitor_n_cases}};
	int total = n;

	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		total += extra[i].n;
	struct test_case *all = calloc((size_t)total, sizeof(*all));

	if (!all)
		return 1;
	memcpy(all, cases, sizeof(cases));
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); n += extra[i].n, i++)
		memcpy(all + n, extra[i].c, (size_t)extra[i].n * sizeof(*all));
	rc = harness_run(all, total, reset);
	free(all);
	tc_pod__destroy(skel_helpers);
	tc_pod__destroy(skel_plain);
	return rc;
}
