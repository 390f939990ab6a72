/*
 * BPF_PROG_TEST_RUN cases for backend selection: Maglev (the program picks exactly the
 * backend the userspace generator and flow hash predict) and sessionAffinity ClientIP
 * (sticks, expires, breaks when the backend leaves). Run from test_tc_pod.c's main on
 * its skeleton; the shared maps are reset before every case there.
 */
#include "selftests/bpf/svc_lb_cases.h"

#include "controlplane/compile/maglev.h"
#include "selftests/bpf/harness.h"
#include "selftests/bpf/packet.h"
#include "tc_pod.skel.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpflet/jhash.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tc_pod *svc_lb_skel;

#define VIP    "10.96.0.30"
#define CLIENT "10.244.0.4"

static const char *const backends[] = {"10.244.0.11", "10.244.0.12", "10.244.0.13", "10.244.0.14"};

static int fd(struct bpf_map *m)
{
	return bpf_map__fd(m);
}

static int run(const struct pkt_spec *s, uint8_t *out, uint32_t *out_len)
{
	uint8_t in[PKT_MAX];
	size_t len = pkt_build(in, s);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = PKT_MAX, .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(svc_lb_skel->progs.tc_pod), &o);

	*out_len = o.data_size_out;
	return err ? -errno : (int)o.retval;
}

static void clear_affinity(void)
{
	struct bpflet_aff_key k, next;

	while (bpf_map_get_next_key(fd(svc_lb_skel->maps.bl_aff_v1), NULL, &next) == 0) {
		k = next;
		if (bpf_map_delete_elem(fd(svc_lb_skel->maps.bl_aff_v1), &k))
			break;
	}
}

/* Backends 1..n (ids svc*100+i+1) in slots, the frontend with flags/base/timeout. */
static void add_svc(uint32_t svc_id, int n, uint16_t flags, uint32_t base, uint32_t timeout)
{
	struct bpflet_fe_key k = {
		.port = htons(80), .proto = IPPROTO_TCP, .family = BPFLET_AF_INET, .scope = 1};
	struct bpflet_fe_val v = {.svc_id = svc_id,
				  .count = (uint16_t)n,
				  .flags = flags,
				  .affinity_timeout = timeout,
				  .maglev_base = base};

	k.addr.addr[0] = ip4(VIP);
	for (int i = 0; i < n; i++) {
		struct bpflet_slot_key sk = {.svc_id = svc_id, .slot = (uint32_t)i};
		struct bpflet_backend b = {
			.port = htons(8080), .proto = IPPROTO_TCP, .family = BPFLET_AF_INET};
		uint32_t id = svc_id * 100 + (uint32_t)i + 1;

		b.addr.addr[0] = ip4(backends[i]);
		bpf_map_update_elem(fd(svc_lb_skel->maps.bl_be_v1), &id, &b, BPF_ANY);
		bpf_map_update_elem(fd(svc_lb_skel->maps.bl_slot_v1), &sk, &id, BPF_ANY);
	}
	bpf_map_update_elem(fd(svc_lb_skel->maps.bl_fe_v1), &k, &v, BPF_ANY);
	clear_affinity();
}

/* Writes the generator's table for backends[0..n-1] at base; returns it (caller frees). */
static uint32_t *write_maglev(uint32_t svc_id, int n, uint32_t base, uint32_t m)
{
	struct bpflet_backend b[4];
	uint32_t *t = malloc(m * sizeof(*t));

	for (int i = 0; i < n; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].addr.addr[0] = ip4(backends[i]);
		b[i].port = htons(8080);
		b[i].proto = IPPROTO_TCP;
		b[i].family = BPFLET_AF_INET;
	}
	if (!t || bl_maglev_build(b, (size_t)n, m, t)) {
		free(t);
		return NULL;
	}
	for (uint32_t i = 0; i < m; i++) {
		uint32_t key = base + i, id = svc_id * 100 + t[i] + 1;

		bpf_map_update_elem(fd(svc_lb_skel->maps.bl_mg_v1), &key, &id, BPF_ANY);
	}
	return t;
}

static struct pkt_spec syn(const char *src, uint16_t sport)
{
	return (struct pkt_spec){.src = src,
				 .dst = VIP,
				 .sport = sport,
				 .dport = 80,
				 .proto = IPPROTO_TCP,
				 .tcp_flags = 0x02};
}

/* The backend index the Maglev table gives a SYN from src:sport. */
static int predicted(const uint32_t *t, uint32_t m, const char *src, uint16_t sport)
{
	uint32_t h = bl_flow_hash4(ip4(src), ip4(VIP), htons(sport), htons(80), IPPROTO_TCP);

	return (int)t[h % m];
}

static int backend_of(const uint8_t *out)
{
	for (int i = 0; i < 4; i++)
		if (pkt_ip_dst(out) == ip4(backends[i]))
			return i;
	return -1;
}

static void maglev_case(uint32_t m, uint16_t flags, uint32_t base)
{
	uint8_t out[PKT_MAX];
	uint32_t out_len, *t;
	int wrong = 0, seen = 0;

	add_svc(3, 4, flags, base, 0);
	t = write_maglev(3, 4, base, m);
	REQUIRE(t, "Maglev table built");
	for (uint16_t i = 0; i < 64; i++) {
		struct pkt_spec s = syn(CLIENT, (uint16_t)(30000 + i * 7));
		int rc = run(&s, out, &out_len), want = predicted(t, m, CLIENT, s.sport);
		char why[128] = "";

		if (rc != TC_ACT_OK || backend_of(out) != want || pkt_dport(out) != 8080)
			wrong++;
		if (!pkt_csums_ok(out, out_len, why, sizeof(why)))
			EXPECT(false, "flow %u: %s", i, why);
		if (backend_of(out) >= 0)
			seen |= 1 << backend_of(out);
	}
	EXPECT(wrong == 0, "%d of 64 flows not at the predicted backend", wrong);
	EXPECT(seen == 0xf, "flows reached all 4 backends (mask %#x)", seen);
	free(t);
}

static void test_maglev_predicted(void)
{
	maglev_case(BPFLET_MAGLEV_M, BPFLET_FE_F_MAGLEV, BPFLET_MAGLEV_M); /* block 1 */
}

static void test_maglev_large(void)
{
	maglev_case(BPFLET_MAGLEV_M_LARGE, BPFLET_FE_F_MAGLEV | BPFLET_FE_F_MAGLEV_LARGE,
		    2 * BPFLET_MAGLEV_M);
}

static bool aff_get(const char *client, uint32_t svc_id, struct bpflet_aff_val *v)
{
	struct bpflet_aff_key k = {.svc_id = svc_id, .family = BPFLET_AF_INET};

	k.client.addr[0] = ip4(client);
	return bpf_map_lookup_elem(fd(svc_lb_skel->maps.bl_aff_v1), &k, v) == 0;
}

static void aff_put(const char *client, uint32_t svc_id, const struct bpflet_aff_val *v)
{
	struct bpflet_aff_key k = {.svc_id = svc_id, .family = BPFLET_AF_INET};

	k.client.addr[0] = ip4(client);
	bpf_map_update_elem(fd(svc_lb_skel->maps.bl_aff_v1), &k, v, BPF_ANY);
}

static uint64_t coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void test_affinity_sticks(void)
{
	uint8_t out[PKT_MAX];
	uint32_t out_len;
	struct bpflet_aff_val v;
	int first = -1, other = 0, seen2 = 0;

	add_svc(4, 4, BPFLET_FE_F_AFFINITY, 0, 10800);
	for (uint16_t i = 0; i < 30; i++) {
		struct pkt_spec s = syn(CLIENT, (uint16_t)(40000 + i));

		EXPECT(run(&s, out, &out_len) == TC_ACT_OK, "verdict");
		if (first < 0)
			first = backend_of(out);
		else if (backend_of(out) != first)
			other++;
	}
	EXPECT(first >= 0 && other == 0, "30 flows from one client: %d left backend %d", other,
	       first);
	REQUIRE(aff_get(CLIENT, 4, &v), "affinity entry for the client");
	EXPECT(v.backend_id == 400u + (uint32_t)first + 1 && v.slot == (uint32_t)first &&
		       v.last_seen_ns > 0,
	       "entry names backend %u slot %u", v.backend_id, v.slot);
	/* other clients are spread independently */
	for (int c = 0; c < 40; c++) {
		char ip[32];
		struct pkt_spec s;

		snprintf(ip, sizeof(ip), "10.244.0.%d", 100 + c);
		s = syn(ip, 50000);
		run(&s, out, &out_len);
		if (backend_of(out) >= 0)
			seen2 |= 1 << backend_of(out);
	}
	EXPECT(__builtin_popcount((unsigned)seen2) >= 2, "40 clients spread (mask %#x)", seen2);
}

/* Maglev + affinity: a fresh entry beats the table; an expired one or one whose backend
 * left its place does not. */
static void test_affinity_expiry_and_removed_backend(void)
{
	uint8_t out[PKT_MAX];
	uint32_t out_len, *t, m = BPFLET_MAGLEV_M;
	struct pkt_spec s = syn(CLIENT, 41000);
	struct bpflet_aff_val v = {0}, got;
	int want, stuck;

	add_svc(5, 4, BPFLET_FE_F_AFFINITY | BPFLET_FE_F_MAGLEV, 0, 60);
	t = write_maglev(5, 4, 0, m);
	REQUIRE(t, "table");
	want = predicted(t, m, CLIENT, s.sport);
	stuck = (want + 1) % 4;
	/* fresh entry pointing at another backend's slot: followed */
	v.backend_id = 500u + (uint32_t)stuck + 1;
	v.slot = (uint32_t)stuck;
	v.last_seen_ns = coarse_ns();
	aff_put(CLIENT, 5, &v);
	run(&s, out, &out_len);
	EXPECT(backend_of(out) == stuck, "fresh affinity followed: got %d, want %d",
	       backend_of(out), stuck);
	/* expired (61 s old with a 60 s timeout): the table decides and the entry is renewed */
	v.last_seen_ns = coarse_ns() - 61ull * 1000000000ull;
	aff_put(CLIENT, 5, &v);
	s.sport = 41001; /* a new flow: 41000 is in conntrack now */
	want = predicted(t, m, CLIENT, s.sport);
	run(&s, out, &out_len);
	EXPECT(backend_of(out) == want, "expired affinity ignored: got %d, want %d",
	       backend_of(out), want);
	REQUIRE(aff_get(CLIENT, 5, &got), "entry renewed");
	EXPECT(got.backend_id == 500u + (uint32_t)want + 1 && (got.slot & BPFLET_AFF_MAGLEV) &&
		       got.last_seen_ns + 2000000000ull > coarse_ns(),
	       "renewed entry: backend %u slot %#x", got.backend_id, got.slot);
	/* fresh, but its slot no longer holds that backend (endpoint removed) */
	v.last_seen_ns = coarse_ns();
	v.slot = 9; /* >= count */
	aff_put(CLIENT, 5, &v);
	s.sport = 41002;
	want = predicted(t, m, CLIENT, s.sport);
	run(&s, out, &out_len);
	EXPECT(backend_of(out) == want, "affinity to a removed backend ignored: got %d",
	       backend_of(out));
	free(t);
}

/* Without the flag the map is neither read nor written. */
static void test_no_affinity_no_entries(void)
{
	uint8_t out[PKT_MAX];
	uint32_t out_len;
	struct bpflet_aff_val v;

	add_svc(6, 2, 0, 0, 0);
	for (uint16_t i = 0; i < 5; i++) {
		struct pkt_spec s = syn(CLIENT, (uint16_t)(42000 + i));

		EXPECT(run(&s, out, &out_len) == TC_ACT_OK, "verdict");
	}
	EXPECT(!aff_get(CLIENT, 6, &v), "no affinity entry written");
}

static unsigned long long counter_sum(enum bpflet_counter c)
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

/* Traffic policy Local with no endpoint here: dropped and counted, never answered;
 * without the flag the same empty frontend rejects with a RST. */
static void test_no_local_endpoint_drops(void)
{
	uint8_t out[PKT_MAX];
	uint32_t out_len;
	struct pkt_spec s = syn(CLIENT, 43000);

	add_svc(7, 0, BPFLET_FE_F_NO_LOCAL_DROP, 0, 0);
	EXPECT(run(&s, out, &out_len) == TC_ACT_SHOT, "dropped");
	EXPECT(counter_sum(BPFLET_CNT_DROP_NO_LOCAL) == 1, "drop_no_local_endpoint counted");
	EXPECT(counter_sum(BPFLET_CNT_REJECT_TCP) == 0, "no RST sent");
	add_svc(7, 0, 0, 0, 0);
	s.sport = 43001;
	EXPECT(run(&s, out, &out_len) != TC_ACT_SHOT, "plain empty frontend answers");
	EXPECT(counter_sum(BPFLET_CNT_REJECT_TCP) == 1, "with a RST");
}

const struct test_case svc_lb_cases[] = {
	{"policy Local, no local endpoint: dropped and counted, not rejected",
	 test_no_local_endpoint_drops},
	{"Maglev: 64 new flows land where the generator and flow hash predict",
	 test_maglev_predicted},
	{"Maglev: a large table (M=65521) over 4 blocks, same prediction", test_maglev_large},
	{"affinity ClientIP: 30 flows stick to one backend, entry recorded", test_affinity_sticks},
	{"affinity: fresh entry beats Maglev, expired or removed backend does not",
	 test_affinity_expiry_and_removed_backend},
	{"no affinity flag: the affinity map stays empty", test_no_affinity_no_entries},
};
const int svc_lb_n_cases = sizeof(svc_lb_cases) / sizeof(svc_lb_cases[0]);
