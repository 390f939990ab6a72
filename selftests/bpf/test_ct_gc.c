/*
 * Conntrack hygiene against the real maps: entries created by tc_pod itself, then
 * aged by handing bl_ct_gc_run a clock in the future; UDP purge of removed backends;
 * TCP packets that cannot open a flow dropped and counted.
 */
#include "agent/dataplane/ct_gc.h"
#include "selftests/bpf/harness.h"
#include "selftests/bpf/packet.h"
#include "selftests/bpf/svc_lb_cases.h"
#include "tc_pod.skel.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <string.h>
#include <time.h>

#define VIP    "10.96.0.40"
#define CLIENT "10.244.0.4"
#define BE1    "10.244.0.21"

static const struct bl_ct_timeouts T = BL_CT_TIMEOUTS_DEFAULT;

static int fd(struct bpf_map *m)
{
	return bpf_map__fd(m);
}

static int run(const struct pkt_spec *s, uint8_t *out)
{
	uint8_t in[PKT_MAX];
	size_t len = pkt_build(in, s);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = PKT_MAX, .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(svc_lb_skel->progs.tc_pod), &o);

	return err ? -errno : (int)o.retval;
}

static void add_svc(uint8_t proto, uint16_t port)
{
	struct bpflet_fe_key k = {
		.port = htons(port), .proto = proto, .family = BPFLET_AF_INET, .scope = 1};
	struct bpflet_fe_val v = {.svc_id = 9, .count = 1};
	struct bpflet_slot_key sk = {.svc_id = 9, .slot = 0};
	struct bpflet_backend b = {.port = htons(8080), .proto = proto, .family = BPFLET_AF_INET};
	uint32_t id = 901;

	k.addr.addr[0] = ip4(VIP);
	b.addr.addr[0] = ip4(BE1);
	bpf_map_update_elem(fd(svc_lb_skel->maps.bl_be_v1), &id, &b, BPF_ANY);
	bpf_map_update_elem(fd(svc_lb_skel->maps.bl_slot_v1), &sk, &id, BPF_ANY);
	bpf_map_update_elem(fd(svc_lb_skel->maps.bl_fe_v1), &k, &v, BPF_ANY);
}

static long entries(struct bpf_map *m)
{
	struct bpflet_ct_key k, next;
	void *prev = NULL;
	long n = 0;

	while (bpf_map_get_next_key(fd(m), prev, &next) == 0) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define S(x) ((uint64_t)(x)*1000000000ull)

static struct pkt_spec tcp(const char *src, const char *dst, uint16_t sp, uint16_t dp,
			   uint8_t flags)
{
	return (struct pkt_spec){.src = src,
				 .dst = dst,
				 .sport = sp,
				 .dport = dp,
				 .proto = IPPROTO_TCP,
				 .tcp_flags = flags};
}

static int gc_tcp(uint64_t at)
{
	struct bl_ct_gc_stats st = {0};

	bl_ct_gc_run(fd(svc_lb_skel->maps.bl_ct_tcp_v2), true, at, &T, true, NULL, NULL, &st);
	return (int)st.expired;
}

static void test_timeouts_by_state(void)
{
	EXPECT(bl_ct_timeout(&T, true, BPFLET_CT_F_SYN_SEEN) == 60, "SYN only: 60 s");
	EXPECT(bl_ct_timeout(&T, true, BPFLET_CT_F_SYN_SEEN | BPFLET_CT_F_SYNACK_SEEN) == 21600,
	       "established: 6 h");
	EXPECT(bl_ct_timeout(&T, true, BPFLET_CT_F_SYNACK_SEEN | BPFLET_CT_F_FIN_SEEN) == 10,
	       "FIN: 10 s");
	EXPECT(bl_ct_timeout(&T, true, BPFLET_CT_F_RST_SEEN) == 10, "RST: 10 s");
	EXPECT(bl_ct_timeout(&T, false, 0) == 60, "UDP: 60 s");
}

/* A half-open flow expires after the SYN timeout, both directions together. */
static void test_gc_half_open(void)
{
	uint8_t out[PKT_MAX];
	struct pkt_spec s = tcp(CLIENT, VIP, 45000, 80, 0x02);
	uint64_t t0 = now_ns();

	add_svc(IPPROTO_TCP, 80);
	REQUIRE(run(&s, out) == TC_ACT_OK, "SYN translated");
	REQUIRE(entries(svc_lb_skel->maps.bl_ct_tcp_v2) == 2, "two entries");
	EXPECT(gc_tcp(t0 + S(30)) == 0, "kept at 30 s");
	EXPECT(entries(svc_lb_skel->maps.bl_ct_tcp_v2) == 2, "still two");
	EXPECT(gc_tcp(t0 + S(62)) == 2, "both deleted at 62 s");
	EXPECT(entries(svc_lb_skel->maps.bl_ct_tcp_v2) == 0, "map empty");
}

/* The reply direction's SYN-ACK makes the whole flow established; a FIN closes it. */
static void test_gc_established_then_fin(void)
{
	uint8_t out[PKT_MAX];
	struct pkt_spec syn = tcp(CLIENT, VIP, 45001, 80, 0x02);
	struct pkt_spec synack = tcp(BE1, CLIENT, 8080, 45001, 0x12);
	struct pkt_spec fin = tcp(CLIENT, VIP, 45001, 80, 0x11);
	uint64_t t0 = now_ns();

	add_svc(IPPROTO_TCP, 80);
	REQUIRE(run(&syn, out) == TC_ACT_OK && run(&synack, out) == TC_ACT_OK, "handshake");
	EXPECT(gc_tcp(t0 + S(3600)) == 0, "established flow kept after 1 h idle");
	EXPECT(gc_tcp(t0 + S(21602)) == 2, "deleted after 6 h idle");
	REQUIRE(run(&syn, out) == TC_ACT_OK && run(&synack, out) == TC_ACT_OK, "again");
	REQUIRE(run(&fin, out) == TC_ACT_OK, "FIN follows conntrack");
	EXPECT(gc_tcp(t0 + S(12)) == 2, "closing flow deleted after 10 s");
}

static bool none_live(void *arg, uint32_t svc, uint32_t be)
{
	(void)arg;
	(void)svc;
	(void)be;
	return false;
}

static bool all_live(void *arg, uint32_t svc, uint32_t be)
{
	(void)arg;
	(void)svc;
	(void)be;
	return true;
}

/* UDP flows of a removed backend are purged at once; live ones and TCP stay. */
static void test_udp_purge(void)
{
	uint8_t out[PKT_MAX];
	struct pkt_spec u = {.src = CLIENT,
			     .dst = VIP,
			     .sport = 5353,
			     .dport = 53,
			     .proto = IPPROTO_UDP,
			     .payload = 8};
	struct pkt_spec t = tcp(CLIENT, VIP, 45002, 53, 0x02);
	struct bl_ct_gc_stats st = {0};
	uint64_t now = now_ns();

	add_svc(IPPROTO_UDP, 53);
	add_svc(IPPROTO_TCP, 53);
	REQUIRE(run(&u, out) == TC_ACT_OK && run(&t, out) == TC_ACT_OK, "flows created");
	REQUIRE(entries(svc_lb_skel->maps.bl_ct_any_v2) == 2, "UDP entries");
	bl_ct_gc_run(fd(svc_lb_skel->maps.bl_ct_any_v2), false, now, &T, false, all_live, NULL,
		     &st);
	EXPECT(st.backend_gone == 0 && entries(svc_lb_skel->maps.bl_ct_any_v2) == 2,
	       "live backend: kept");
	bl_ct_gc_run(fd(svc_lb_skel->maps.bl_ct_any_v2), false, now, &T, false, none_live, NULL,
		     &st);
	EXPECT(st.backend_gone == 2, "both UDP directions purged (%lu)", st.backend_gone);
	EXPECT(entries(svc_lb_skel->maps.bl_ct_any_v2) == 0, "UDP map empty");
	EXPECT(entries(svc_lb_skel->maps.bl_ct_tcp_v2) == 2, "TCP flow untouched");
	/* the next datagram picks a backend afresh */
	EXPECT(run(&u, out) == TC_ACT_OK && pkt_ip_dst(out) == ip4(BE1), "re-selected");
}

static unsigned long long cnt(enum bpflet_counter c)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpflet_counter_val v[ncpu];
	unsigned long long n = 0;
	__u32 k = c;

	if (bpf_map_lookup_elem(fd(svc_lb_skel->maps.bl_cnt_v1), &k, v))
		return ~0ull;
	for (int i = 0; i < ncpu; i++)
		n += v[i].packets;
	return n;
}

/* Only a bare SYN opens a flow to a Service: ACK, SYN-ACK, FIN, RST without conntrack
 * are dropped and counted, and leave no entry. */
static void test_invalid_tcp_dropped(void)
{
	static const uint8_t flags[] = {0x10, 0x12, 0x11, 0x18, 0x04, 0x00};
	uint8_t out[PKT_MAX];

	add_svc(IPPROTO_TCP, 80);
	for (unsigned i = 0; i < sizeof(flags); i++) {
		struct pkt_spec s = tcp(CLIENT, VIP, (uint16_t)(46000 + i), 80, flags[i]);

		EXPECT(run(&s, out) == TC_ACT_SHOT, "flags %#x dropped", flags[i]);
	}
	EXPECT(cnt(BPFLET_CNT_DROP_CT_INVALID) == sizeof(flags), "counted %llu",
	       cnt(BPFLET_CNT_DROP_CT_INVALID));
	EXPECT(entries(svc_lb_skel->maps.bl_ct_tcp_v2) == 0, "no conntrack entry");
	/* the same packets to a non-Service address pass */
	struct pkt_spec other = tcp(CLIENT, "10.244.0.99", 46100, 80, 0x10);

	EXPECT(run(&other, out) == TC_ACT_OK, "non-Service ACK passes");
}

const struct test_case ct_gc_cases[] = {
	{"conntrack timeouts by protocol and TCP state", test_timeouts_by_state},
	{"GC: a half-open TCP flow goes after 60 s, both directions", test_gc_half_open},
	{"GC: established kept 1 h, gone after 6 h; after FIN gone in 10 s",
	 test_gc_established_then_fin},
	{"GC: UDP flows of a removed backend purged, TCP kept, next datagram re-selected",
	 test_udp_purge},
	{"non-SYN TCP to a Service without conntrack dropped and counted",
	 test_invalid_tcp_dropped},
};
const int ct_gc_n_cases = sizeof(ct_gc_cases) / sizeof(ct_gc_cases[0]);
