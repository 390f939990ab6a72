/*
 * IPv4 fragments of a Service datagram: the first is translated with its L4 checksum
 * (right for the whole datagram), the later ones follow it by {addresses, id, proto}
 * with only their address and IP checksum rewritten; replies' fragments likewise.
 */
#include "agent/common/maps_util.h"
#include "selftests/bpf/harness.h"
#include "selftests/bpf/packet.h"
#include "selftests/bpf/svc_lb_cases.h"
#include "tc_pod.skel.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpflet/abi.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/pkt_cls.h>
#include <string.h>

#define VIP    "10.96.0.60"
#define CLIENT "10.244.0.4"
#define BE     "10.244.0.41"

static int fd(struct bpf_map *m)
{
	return bpf_map__fd(m);
}

static int run(uint8_t *in, size_t len, uint8_t *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = PKT_MAX, .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(svc_lb_skel->progs.tc_pod), &o);

	return err ? -errno : (int)o.retval;
}

/* Fragments held for their first. */
static long held(void)
{
	return bl_map_count(fd(svc_lb_skel->maps.bl_fragh_v1));
}

static void clear_frag(void)
{
	struct bpflet_frag_key k, next;

	while (bpf_map_get_next_key(fd(svc_lb_skel->maps.bl_frag_v1), NULL, &next) == 0) {
		k = next;
		if (bpf_map_delete_elem(fd(svc_lb_skel->maps.bl_frag_v1), &k))
			break;
	}
	bl_map_clear(fd(svc_lb_skel->maps.bl_fragh_v1));
}

static void add_svc(void)
{
	struct bpflet_fe_key k = {
		.port = htons(53), .proto = IPPROTO_UDP, .family = BPFLET_AF_INET, .scope = 1};
	struct bpflet_fe_val v = {.svc_id = 12, .count = 1};
	struct bpflet_slot_key sk = {.svc_id = 12, .slot = 0};
	struct bpflet_backend b = {
		.port = htons(8053), .proto = IPPROTO_UDP, .family = BPFLET_AF_INET};
	uint32_t id = 1201;

	k.addr.addr[0] = ip4(VIP);
	b.addr.addr[0] = ip4(BE);
	bpf_map_update_elem(fd(svc_lb_skel->maps.bl_be_v1), &id, &b, BPF_ANY);
	bpf_map_update_elem(fd(svc_lb_skel->maps.bl_slot_v1), &sk, &id, BPF_ANY);
	bpf_map_update_elem(fd(svc_lb_skel->maps.bl_fe_v1), &k, &v, BPF_ANY);
	clear_frag();
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

/* A 2-fragment UDP datagram: the first fragment is the head of the datagram (UDP
 * checksum over the whole), the second a payload chunk at offset 1480. */
static void test_fragments_to_vip_translated(void)
{
	struct pkt_spec s = {.src = CLIENT,
			     .dst = VIP,
			     .sport = 5400,
			     .dport = 53,
			     .proto = IPPROTO_UDP,
			     .payload = 200};
	struct pkt_spec t = s;
	uint8_t first[PKT_MAX], second[PKT_MAX], want[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(first, &s);

	add_svc();
	t.dst = BE;
	t.dport = 8053;
	pkt_build(want, &t);
	/* the datagram as the backend must see it, cut the same way */
	pkt_set_frag(first, 0, true);
	pkt_set_frag(want, 0, true);
	EXPECT(run(first, len, out) == TC_ACT_OK, "first verdict");
	EXPECT(memcmp(out, want, len) == 0,
	       "first fragment equals the datagram sent to the backend (UDP csum %#x vs %#x)",
	       pkt_udp_csum(out), pkt_udp_csum(want));
	/* the later fragment: IP header + raw payload, no UDP header */
	memcpy(second, first, len);
	pkt_set_frag(second, 185, false);
	memcpy(want, second, len);
	memcpy(want + OFF_IP_DST, &(uint32_t){ip4(BE)}, 4);
	pkt_set_frag(want, 185, false);
	EXPECT(run(second, len, out) == TC_ACT_OK, "second verdict");
	EXPECT(memcmp(out, want, len) == 0, "second fragment: destination and IP checksum only");
	EXPECT(pkt_ip_csum_ok(out), "IP header checksum verifies");
	EXPECT(counter(BPFLET_CNT_DNAT_NEW) == 1 && counter(BPFLET_CNT_FRAGMENT_NAT) == 1,
	       "dnat_new 1, fragment_translated 1");
}

/* The backend's fragmented reply: both fragments come from the VIP. */
static void test_reply_fragments_reverse_translated(void)
{
	struct pkt_spec q = {.src = CLIENT,
			     .dst = VIP,
			     .sport = 5401,
			     .dport = 53,
			     .proto = IPPROTO_UDP,
			     .payload = 8};
	struct pkt_spec r = {.src = BE,
			     .dst = CLIENT,
			     .sport = 8053,
			     .dport = 5401,
			     .proto = IPPROTO_UDP,
			     .payload = 300};
	uint8_t in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	size_t len;

	add_svc();
	len = pkt_build(in, &q);
	REQUIRE(run(in, len, out) == TC_ACT_OK && pkt_ip_dst(out) == ip4(BE), "query translated");
	len = pkt_build(in, &r);
	pkt_set_frag(in, 0, true);
	r.src = VIP;
	r.sport = 53;
	pkt_build(want, &r);
	pkt_set_frag(want, 0, true);
	EXPECT(run(in, len, out) == TC_ACT_OK && memcmp(out, want, len) == 0,
	       "first reply fragment from VIP:53");
	r.src = BE;
	r.sport = 8053;
	pkt_build(in, &r);
	pkt_set_frag(in, 185, false);
	memcpy(want, in, len);
	memcpy(want + OFF_IP_SRC, &(uint32_t){ip4(VIP)}, 4);
	pkt_set_frag(want, 185, false);
	EXPECT(run(in, len, out) == TC_ACT_OK && memcmp(out, want, len) == 0,
	       "later reply fragment from the VIP");
}

/* A later fragment of another datagram (other id) is not taken for this one. */
static void test_unknown_id_not_followed(void)
{
	struct pkt_spec s = {.src = CLIENT,
			     .dst = VIP,
			     .sport = 5402,
			     .dport = 53,
			     .proto = IPPROTO_UDP,
			     .payload = 100};
	uint8_t in[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(in, &s);

	uint8_t other[PKT_MAX];

	add_svc();
	pkt_set_frag(in, 0, true);
	REQUIRE(run(in, len, out) == TC_ACT_OK, "first fragment");
	in[OFF_IP + 4] ^= 0xff; /* another IP id */
	pkt_set_frag(in, 185, false);
	/* it may be early: held for its first (its skb dropped) */
	EXPECT(run(in, len, out) == TC_ACT_SHOT && held() == 1, "not held");
	/* a second early one of the same datagram is not: it passes untouched, counted */
	memcpy(other, in, len);
	pkt_set_frag(other, 370, false);
	EXPECT(run(other, len, out) == TC_ACT_OK && memcmp(other, out, len) == 0,
	       "a second early fragment did not pass untouched");
	EXPECT(counter(BPFLET_CNT_FRAGMENT_HELD) == 1 && counter(BPFLET_CNT_FRAGMENT) == 1 &&
		       counter(BPFLET_CNT_FRAGMENT_NAT) == 0,
	       "counted: held 1, passed 1, translated 0");
}

/* The sender (or the network) put the last fragment first: it is held; the first
 * fragment leaves translated and byte-exact (the skb played the held frame for a moment
 * to send it back to ingress behind the first), and the held frame is gone. The clone
 * goes to lo's ingress in a namespace of this test's own. */
static void test_early_fragment_held(void)
{
	struct pkt_spec s = {.src = CLIENT,
			     .dst = VIP,
			     .sport = 5403,
			     .dport = 53,
			     .proto = IPPROTO_UDP,
			     .payload = 200};
	struct pkt_spec t = s;
	uint8_t first[PKT_MAX], later[PKT_MAX], want[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(first, &s);
	int self = open("/proc/self/ns/net", O_RDONLY);

	REQUIRE(self >= 0 && unshare(CLONE_NEWNET) == 0 && system("ip link set lo up") == 0,
		"a namespace of its own with lo up: %s", strerror(errno));
	add_svc();
	memcpy(later, first, len);
	pkt_set_frag(first, 0, true);
	pkt_set_frag(later, 185, false);
	t.dst = BE;
	t.dport = 8053;
	pkt_build(want, &t);
	pkt_set_frag(want, 0, true);
	EXPECT(run(later, len, out) == TC_ACT_SHOT && held() == 1, "the early fragment not held");
	EXPECT(run(first, len, out) == TC_ACT_OK && !memcmp(out, want, len),
	       "the first fragment is not exactly the translated datagram head");
	EXPECT(held() == 0, "the held fragment is still there");
	EXPECT(counter(BPFLET_CNT_FRAGMENT_HELD) == 1 && counter(BPFLET_CNT_FRAGMENT_REPLAYED) == 1,
	       "fragment_held %llu fragment_replayed %llu", counter(BPFLET_CNT_FRAGMENT_HELD),
	       counter(BPFLET_CNT_FRAGMENT_REPLAYED));
	if (setns(self, CLONE_NEWNET))
		EXPECT(false, "back to the test's namespace: %s", strerror(errno));
	close(self);
}

const struct test_case frag_cases[] = {
	{"IPv4 fragments to a VIP: first translated with L4 checksum, later follows",
	 test_fragments_to_vip_translated},
	{"fragmented reply: every fragment leaves from the VIP",
	 test_reply_fragments_reverse_translated},
	{"an unknown datagram's later fragment is held (one per datagram), never translated",
	 test_unknown_id_not_followed},
	{"a later fragment ahead of its first is held, then sent on behind it",
	 test_early_fragment_held},
};
const int frag_n_cases = sizeof(frag_cases) / sizeof(frag_cases[0]);
