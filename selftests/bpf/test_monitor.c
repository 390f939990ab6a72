/*
 * BPF_PROG_TEST_RUN cases for the inspection hooks: per-Service and per-backend
 * counter deltas (bpf/lib/svc_stats.h) on tc_pod and xdp_uplink, and the monitor's
 * events and captures (bpf/lib/monitor.h): emitted only while bl_mon_v1's flag is on
 * and its heartbeat fresh, with the fields of the packet and of its outcome.
 */
#include "agent/common/maps_util.h"
#include "agent/dataplane/loader.h"
#include "agent/dataplane/mon_flag.h"
#include "selftests/bpf/harness.h"
#include "selftests/bpf/packet.h"
#include "selftests/bpf/svc_lb_cases.h"
#include "tc_pod.skel.h"
#include "xdp_uplink.skel.h"

#include <bpflet/abi.h>
#include <bpflet/monitor_abi.h>
#include <bpflet/policy_abi.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VIP    "10.96.7.1"
#define CLIENT "10.244.7.4"
#define BE     "10.244.7.2"
#define SVC_ID 41u
#define BE_ID  4101u
#define NODE   "192.168.78.1"
#define EXT    "192.168.78.100"
#define NP     30777

static struct tc_pod *s;      /* svc_lb_skel: test_tc_pod's load */
static struct xdp_uplink *xs; /* loaded once by the first XDP case */

static int fd(struct bpf_map *m)
{
	return bpf_map__fd(m);
}

/* Received events, by the ring buffer callback. */
static struct bpflet_mon_event evs[16];
static int n_evs;

static int on_ev(void *ctx, void *data, size_t size)
{
	(void)ctx;
	if (size >= sizeof(evs[0]) && n_evs < 16)
		memcpy(&evs[n_evs++], data, sizeof(evs[0]));
	return 0;
}

/* Drains whatever earlier runs left in the ring, then counts from zero. */
static int events(struct ring_buffer *rb)
{
	n_evs = 0;
	ring_buffer__consume(rb);
	return n_evs;
}

static __u64 coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/* The monitor's flag as bpfletctl monitor writes it; age: how old its heartbeat is. */
static void mon_set(int ctl_fd, __u32 flags, __u64 age_ns, __u32 snaplen, const char *addr)
{
	struct bpflet_mon_ctl c = {.flags = flags,
				   .snaplen = snaplen,
				   .heartbeat_ns = coarse_ns() - age_ns,
				   .pid = 1,
				   .pcap_family = addr ? BPFLET_AF_INET : 0};
	__u32 zero = 0;

	c.pcap_addr.addr[0] = addr ? ip4(addr) : 0;
	bpf_map_update_elem(ctl_fd, &zero, &c, BPF_ANY);
}

static void zero_percpu(int map_fd, __u32 key)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpflet_counter_val *z = calloc((size_t)ncpu, sizeof(*z));

	if (z)
		bpf_map_update_elem(map_fd, &key, z, BPF_ANY);
	free(z);
}

static struct bpflet_counter_val sum(int map_fd, __u32 key)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpflet_counter_val v[ncpu], t = {~0ull, ~0ull};

	if (bpf_map_lookup_elem(map_fd, &key, v))
		return t;
	t.packets = t.bytes = 0;
	for (int i = 0; i < ncpu; i++) {
		t.packets += v[i].packets;
		t.bytes += v[i].bytes;
	}
	return t;
}

/* VIP:80/TCP (or UDP) → BE:8080, svc SVC_ID, backend BE_ID (count 0: no backends) */
static void service(uint8_t proto, int count)
{
	struct bpflet_fe_key k = {.port = htons(80),
				  .proto = proto,
				  .family = BPFLET_AF_INET,
				  .scope = BPFLET_SCOPE_INTERNAL};
	struct bpflet_fe_val v = {.svc_id = SVC_ID, .count = (__u16)count};
	struct bpflet_slot_key sk = {.svc_id = SVC_ID, .slot = 0};
	struct bpflet_backend b = {.port = htons(8080), .proto = proto, .family = BPFLET_AF_INET};
	__u32 id = BE_ID;

	k.addr.addr[0] = ip4(VIP);
	b.addr.addr[0] = ip4(BE);
	bpf_map_update_elem(fd(s->maps.bl_be_v1), &id, &b, BPF_ANY);
	bpf_map_update_elem(fd(s->maps.bl_slot_v1), &sk, &id, BPF_ANY);
	bpf_map_update_elem(fd(s->maps.bl_fe_v1), &k, &v, BPF_ANY);
	zero_percpu(fd(s->maps.bl_svcst_v1), SVC_ID);
	zero_percpu(fd(s->maps.bl_best_v1), BE_ID);
	/* other suites' hand-made conntrack entries carry id 0 */
	zero_percpu(fd(s->maps.bl_svcst_v1), 0);
	zero_percpu(fd(s->maps.bl_best_v1), 0);
}

static int run_tc(struct bpf_program *prog, const struct pkt_spec *spec, size_t *len_out)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(in, spec);
	struct __sk_buff ctx = {.ingress_ifindex = 1, .ifindex = 1};
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = PKT_MAX, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = 1);

	if (len_out)
		*len_out = len;
	return bpf_prog_test_run_opts(bpf_program__fd(prog), &o) ? -errno : (int)o.retval;
}

static const struct pkt_spec syn = {.src = CLIENT,
				    .dst = VIP,
				    .sport = 41000,
				    .dport = 80,
				    .proto = IPPROTO_TCP,
				    .tcp_flags = 0x02,
				    .seq = 1};

static void test_counters_tc(void)
{
	struct pkt_spec ack = syn, reply = {.src = BE,
					    .dst = CLIENT,
					    .sport = 8080,
					    .dport = 41000,
					    .proto = IPPROTO_TCP,
					    .tcp_flags = 0x12,
					    .payload = 10};
	struct pkt_spec other = syn;
	struct bpflet_counter_val sv, bv;
	size_t l1, l2, l3, l4;

	s = svc_lb_skel;
	service(IPPROTO_TCP, 1);
	ack.tcp_flags = 0x10;
	ack.payload = 100;
	other.dst = "10.96.7.99"; /* no Service there */
	REQUIRE(run_tc(s->progs.tc_pod, &syn, &l1) == TC_ACT_OK, "SYN translated");
	sv = sum(fd(s->maps.bl_svcst_v1), SVC_ID);
	bv = sum(fd(s->maps.bl_best_v1), BE_ID);
	EXPECT(sv.packets == 1 && sv.bytes == l1,
	       "new flow: service +1 packet, +%zu bytes: %llu %llu", l1, sv.packets, sv.bytes);
	EXPECT(bv.packets == 1 && bv.bytes == l1, "new flow: backend +1: %llu %llu", bv.packets,
	       bv.bytes);
	REQUIRE(run_tc(s->progs.tc_pod, &ack, &l2) == TC_ACT_OK, "established packet passes");
	REQUIRE(run_tc(s->progs.tc_pod, &reply, &l3) == TC_ACT_OK, "reply passes");
	REQUIRE(run_tc(s->progs.tc_pod, &other, &l4) == TC_ACT_OK, "non-Service passes");
	sv = sum(fd(s->maps.bl_svcst_v1), SVC_ID);
	bv = sum(fd(s->maps.bl_best_v1), BE_ID);
	EXPECT(sv.packets == 3 && sv.bytes == l1 + l2 + l3,
	       "established + reply counted, non-Service not: %llu packets %llu bytes", sv.packets,
	       sv.bytes);
	EXPECT(bv.packets == 3 && bv.bytes == l1 + l2 + l3, "backend alike: %llu %llu", bv.packets,
	       bv.bytes);
	EXPECT(sum(fd(s->maps.bl_svcst_v1), 0).packets == 0 &&
		       sum(fd(s->maps.bl_best_v1), 0).packets == 0,
	       "no packet counted under id 0");
}

/* The agent retires an id with its entry: the counters go back to zero for the next
 * owner. */
static void test_retired_ids_zeroed(void)
{
	struct bl_dataplane dp = {.svcst_fd = -1, .best_fd = -1};
	struct bpflet_svc_name nm = {.name = "default/x:p"};
	struct bpflet_backend b = {.family = BPFLET_AF_INET};
	__u32 svc = SVC_ID, be = BE_ID;

	s = svc_lb_skel;
	service(IPPROTO_TCP, 1);
	REQUIRE(run_tc(s->progs.tc_pod, &syn, NULL) == TC_ACT_OK, "SYN translated");
	REQUIRE(sum(fd(s->maps.bl_svcst_v1), SVC_ID).packets == 1, "service counted");
	dp.fds[BL_DP_SVCNAME] = fd(s->maps.bl_svcname_v1);
	dp.fds[BL_DP_BE] = fd(s->maps.bl_be_v1);
	dp.svcst_fd = fd(s->maps.bl_svcst_v1);
	dp.best_fd = fd(s->maps.bl_best_v1);
	bpf_map_update_elem(dp.fds[BL_DP_SVCNAME], &svc, &nm, BPF_ANY);
	bpf_map_update_elem(dp.fds[BL_DP_BE], &be, &b, BPF_ANY);
	EXPECT(bl_dp_delete(&dp, BL_DP_SVCNAME, &svc) == 0, "name removed");
	EXPECT(bl_dp_delete(&dp, BL_DP_BE, &be) == 0, "backend removed");
	EXPECT(sum(dp.svcst_fd, SVC_ID).packets == 0 && sum(dp.svcst_fd, SVC_ID).bytes == 0,
	       "the retired svc id's counters are zero");
	EXPECT(sum(dp.best_fd, BE_ID).packets == 0, "the retired backend id's counters are zero");
	EXPECT(bl_dp_delete(&dp, BL_DP_BE, &be) == -ENOENT, "a second removal says ENOENT");
}

static bool xdp_load(void)
{
	if (xs)
		return true;
	xs = xdp_uplink__open();
	if (!xs)
		return false;
	xs->rodata->node_ip = ip4(NODE);
	if (xdp_uplink__load(xs)) {
		xdp_uplink__destroy(xs);
		xs = NULL;
		return false;
	}
	return true;
}

/* NODE:NP → BE:8080 on this node (DNAT only), svc SVC_ID, backend BE_ID */
static void xdp_nodeport(void)
{
	struct bpflet_fe_key k = {.port = htons(NP),
				  .proto = IPPROTO_TCP,
				  .family = BPFLET_AF_INET,
				  .scope = BPFLET_SCOPE_EXTERNAL};
	struct bpflet_fe_val v = {.svc_id = SVC_ID, .count = 1};
	struct bpflet_slot_key sk = {.svc_id = SVC_ID, .slot = 0};
	struct bpflet_backend b = {.port = htons(8080),
				   .proto = IPPROTO_TCP,
				   .family = BPFLET_AF_INET,
				   .flags = BPFLET_BE_F_LOCAL};
	__u32 id = BE_ID;

	k.addr.addr[0] = ip4(NODE);
	b.addr.addr[0] = ip4(BE);
	bl_map_clear(fd(xs->maps.bl_ct_tcp_v2));
	bpf_map_update_elem(fd(xs->maps.bl_be_v1), &id, &b, BPF_ANY);
	bpf_map_update_elem(fd(xs->maps.bl_slot_v1), &sk, &id, BPF_ANY);
	bpf_map_update_elem(fd(xs->maps.bl_fe_v1), &k, &v, BPF_ANY);
	zero_percpu(fd(xs->maps.bl_svcst_v1), SVC_ID);
	zero_percpu(fd(xs->maps.bl_best_v1), BE_ID);
}

static int run_xdp(const struct pkt_spec *spec, size_t *len_out)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(in, spec);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = PKT_MAX, .repeat = 1);

	if (len_out)
		*len_out = len;
	return bpf_prog_test_run_opts(bpf_program__fd(xs->progs.xdp_uplink), &o) ? -errno
										 : (int)o.retval;
}

static const struct pkt_spec np_syn = {.src = EXT,
				       .dst = NODE,
				       .sport = 42000,
				       .dport = NP,
				       .proto = IPPROTO_TCP,
				       .tcp_flags = 0x02};

static void test_counters_xdp(void)
{
	struct pkt_spec ack = np_syn;
	struct bpflet_counter_val sv, bv;
	size_t l1, l2;

	REQUIRE(xdp_load(), "xdp_uplink loads");
	xdp_nodeport();
	ack.tcp_flags = 0x10;
	ack.payload = 50;
	REQUIRE(run_xdp(&np_syn, &l1) == XDP_PASS, "NodePort SYN to a local backend passes");
	REQUIRE(run_xdp(&ack, &l2) == XDP_PASS, "its next packet too");
	sv = sum(fd(xs->maps.bl_svcst_v1), SVC_ID);
	bv = sum(fd(xs->maps.bl_best_v1), BE_ID);
	EXPECT(sv.packets == 2 && sv.bytes == l1 + l2, "service: %llu packets %llu bytes",
	       sv.packets, sv.bytes);
	EXPECT(bv.packets == 2 && bv.bytes == l1 + l2, "backend: %llu packets %llu bytes",
	       bv.packets, bv.bytes);
}

static void test_events_gated(void)
{
	int ctl = fd(svc_lb_skel->maps.bl_mon_v1);
	struct ring_buffer *rb =
		ring_buffer__new(fd(svc_lb_skel->maps.bl_monev_v1), on_ev, NULL, NULL);
	struct pkt_spec again = syn;

	s = svc_lb_skel;
	REQUIRE(rb, "ring buffer opens: %s", strerror(errno));
	service(IPPROTO_TCP, 1);
	events(rb);
	mon_set(ctl, 0, 0, 0, NULL);
	EXPECT(run_tc(s->progs.tc_pod, &syn, NULL) == TC_ACT_OK, "SYN translated");
	events(rb);
	EXPECT(n_evs == 0, "no monitor: no event (%d)", n_evs);

	mon_set(ctl, BPFLET_MON_F_EVENTS, 10ull * 1000000000ull, 0, NULL);
	again.sport = 41001;
	EXPECT(run_tc(s->progs.tc_pod, &again, NULL) == TC_ACT_OK, "SYN translated");
	events(rb);
	EXPECT(n_evs == 0, "a stale heartbeat (10 s): no event (%d)", n_evs);

	mon_set(ctl, BPFLET_MON_F_EVENTS, 0, 0, NULL);
	again.sport = 41002;
	EXPECT(run_tc(s->progs.tc_pod, &again, NULL) == TC_ACT_OK, "SYN translated");
	again.tcp_flags = 0x10; /* established: no event */
	EXPECT(run_tc(s->progs.tc_pod, &again, NULL) == TC_ACT_OK, "ACK follows conntrack");
	events(rb);
	REQUIRE(n_evs == 1, "monitor on: one event for the new flow, none for the ACK (%d)", n_evs);
	EXPECT(evs[0].type == BPFLET_MON_FLOW && evs[0].hook == BPFLET_HOOK_FROM_POD,
	       "a flow from tc_pod: type %u hook %u", evs[0].type, evs[0].hook);
	EXPECT(evs[0].saddr.addr[0] == ip4(CLIENT) && evs[0].sport == htons(41002) &&
		       evs[0].daddr.addr[0] == ip4(VIP) && evs[0].dport == htons(80) &&
		       evs[0].proto == IPPROTO_TCP,
	       "client -> frontend as sent");
	EXPECT(evs[0].be_addr.addr[0] == ip4(BE) && evs[0].be_port == htons(8080) &&
		       evs[0].svc_id == SVC_ID && evs[0].backend_id == BE_ID,
	       "backend %x:%u svc %u backend %u", ntohl(evs[0].be_addr.addr[0]),
	       ntohs(evs[0].be_port), evs[0].svc_id, evs[0].backend_id);
	EXPECT(evs[0].ifindex == 1 && evs[0].len > 0 && evs[0].ts_ns > 0, "ifindex, length, time");
	mon_set(ctl, 0, 0, 0, NULL);
	ring_buffer__free(rb);
}

static int count_ev(void *ctx, void *data, size_t size)
{
	(void)data;
	(void)size;
	(*(int *)ctx)++;
	return 0;
}

/* A monitor that reads too slowly: what the full ring refused is counted for it. */
static void test_lost_events(void)
{
	int ctl = fd(svc_lb_skel->maps.bl_mon_v1), got = 0;
	struct ring_buffer *rb =
		ring_buffer__new(fd(svc_lb_skel->maps.bl_monev_v1), count_ev, &got, NULL);
	struct bpflet_mon_ctl c;
	struct pkt_spec p = syn;
	__u32 zero = 0;
	int n = 6000;

	s = svc_lb_skel;
	REQUIRE(rb, "ring buffer opens");
	service(IPPROTO_TCP, 1);
	ring_buffer__consume(rb);
	got = 0;
	mon_set(ctl, BPFLET_MON_F_EVENTS, 0, 0, NULL);
	for (int i = 0; i < n; i++) {
		p.sport = (uint16_t)(20000 + i);
		if (run_tc(s->progs.tc_pod, &p, NULL) != TC_ACT_OK)
			break;
	}
	ring_buffer__consume(rb);
	REQUIRE(!bpf_map_lookup_elem(ctl, &zero, &c), "bl_mon_v1 read");
	EXPECT(c.lost_events > 0 && got + (int)c.lost_events == n,
	       "%d new flows: %d events read + %llu lost", n, got,
	       (unsigned long long)c.lost_events);
	mon_set(ctl, 0, 0, 0, NULL);
	bl_map_clear(fd(s->maps.bl_ct_tcp_v2));
	ring_buffer__free(rb);
}

/* The agent's reaper: a stale flag is cleared, a fresh one kept. */
static void test_reap_stale_flag(void)
{
	int ctl = fd(svc_lb_skel->maps.bl_mon_v1);
	struct bpflet_mon_ctl c;
	__u32 zero = 0;

	mon_set(ctl, BPFLET_MON_F_EVENTS, 0, 0, NULL);
	EXPECT(bl_mon_clear_stale(ctl, coarse_ns()) == 0, "a fresh heartbeat: kept");
	REQUIRE(!bpf_map_lookup_elem(ctl, &zero, &c), "read");
	EXPECT(c.flags == BPFLET_MON_F_EVENTS, "flag still on");
	mon_set(ctl, BPFLET_MON_F_EVENTS, 6ull * 1000000000ull, 0, NULL);
	EXPECT(bl_mon_clear_stale(ctl, coarse_ns()) == 1,
	       "6 s old: cleared, the monitor's pid back");
	REQUIRE(!bpf_map_lookup_elem(ctl, &zero, &c), "read");
	EXPECT(c.flags == 0, "flag off");
	EXPECT(bl_mon_clear_stale(ctl, coarse_ns()) == 0, "nothing left to clear");
}

static void test_drop_events(void)
{
	int ctl = fd(svc_lb_skel->maps.bl_mon_v1);
	struct ring_buffer *rb =
		ring_buffer__new(fd(svc_lb_skel->maps.bl_monev_v1), on_ev, NULL, NULL);
	struct pkt_spec p = syn;
	uint8_t junk[PKT_MAX];
	size_t len;

	s = svc_lb_skel;
	REQUIRE(rb, "ring buffer opens");
	events(rb);
	mon_set(ctl, BPFLET_MON_F_EVENTS, 0, 0, NULL);
	service(IPPROTO_TCP, 0); /* no endpoints: rejected */
	EXPECT(run_tc(s->progs.tc_pod, &p, NULL) != TC_ACT_SHOT, "SYN answered with a RST");
	events(rb);
	REQUIRE(n_evs == 1, "one event (%d)", n_evs);
	EXPECT(evs[0].type == BPFLET_MON_DROP && evs[0].reason == BPFLET_CNT_REJECT_TCP &&
		       evs[0].daddr.addr[0] == ip4(VIP) && evs[0].saddr.addr[0] == ip4(CLIENT),
	       "a drop, reason reject_tcp (%u), the packet's addresses", evs[0].reason);

	p.tcp_flags = 0x10; /* an ACK without conntrack to a Service with endpoints */
	service(IPPROTO_TCP, 1);
	EXPECT(run_tc(s->progs.tc_pod, &p, NULL) == TC_ACT_SHOT, "dropped");
	events(rb);
	REQUIRE(n_evs == 1, "one event (%d)", n_evs);
	EXPECT(evs[0].type == BPFLET_MON_DROP && evs[0].reason == BPFLET_CNT_DROP_CT_INVALID,
	       "reason drop_ct_invalid (%u)", evs[0].reason);

	/* a truncated TCP header: dropped as malformed, the addresses still known */
	len = pkt_build(junk, &syn);
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = junk,
			    .data_size_in = (__u32)(len - 10), .repeat = 1);
		EXPECT(bpf_prog_test_run_opts(bpf_program__fd(s->progs.tc_pod), &o) == 0 &&
			       o.retval == TC_ACT_SHOT,
		       "truncated packet dropped");
	}
	events(rb);
	REQUIRE(n_evs == 1, "one event (%d)", n_evs);
	EXPECT(evs[0].reason == BPFLET_CNT_DROP_MALFORMED && evs[0].saddr.addr[0] == ip4(CLIENT),
	       "reason drop_malformed (%u)", evs[0].reason);

	p.dst = "10.96.7.99"; /* not a Service: passes, no event */
	EXPECT(run_tc(s->progs.tc_pod, &p, NULL) == TC_ACT_OK, "passes");
	events(rb);
	EXPECT(n_evs == 0, "no event for a passed packet (%d)", n_evs);
	mon_set(ctl, 0, 0, 0, NULL);
	ring_buffer__free(rb);
}

#define POD  "10.244.7.50"
#define PEER "10.244.7.51"

static void test_policy_events(void)
{
	int ctl = fd(svc_lb_skel->maps.bl_mon_v1);
	struct ring_buffer *rb =
		ring_buffer__new(fd(svc_lb_skel->maps.bl_monev_v1), on_ev, NULL, NULL);
	struct pkt_spec p = {.src = PEER,
			     .dst = POD,
			     .sport = 43000,
			     .dport = 8080,
			     .proto = IPPROTO_TCP,
			     .tcp_flags = 0x02};
	struct bpflet_pol_ep ep = {.flags = BPFLET_POL_EP_ISOLATED_INGRESS,
				   .classes = {1u << bpflet_pol_class(BPFLET_POL_PLEN_FULL)}};
	__be32 ik = ip4(PEER);
	struct bpflet_ipcache_val iv = {.id = 5000};
	struct bpflet_pol_key rk = {.prefixlen = BPFLET_POL_PLEN_FULL,
				    .ep_addr = ip4(POD),
				    .peer_id = 5000,
				    .dir = BPFLET_POL_INGRESS,
				    .proto = IPPROTO_TCP,
				    .port = htons(8080)};
	struct bpflet_pol_val rv = {.rule_id = 77};
	__be32 a = ip4(POD);
	bool drop_seen = false;

	s = svc_lb_skel;
	REQUIRE(rb, "ring buffer opens");
	bpf_map_update_elem(fd(s->maps.bl_polep_v2), &a, &ep, BPF_ANY);
	bpf_map_update_elem(fd(s->maps.bl_ipch_v1), &ik, &iv, BPF_ANY);
	bl_map_clear(fd(s->maps.bl_polct_v1));
	events(rb);
	mon_set(ctl, BPFLET_MON_F_EVENTS, 0, 0, NULL);
	EXPECT(run_tc(s->progs.tc_pod_to, &p, NULL) == TC_ACT_SHOT, "no rule: denied");
	events(rb);
	EXPECT(n_evs == 2, "a verdict and a drop (%d)", n_evs);
	for (int i = 0; i < n_evs; i++) {
		if (evs[i].type == BPFLET_MON_POLICY)
			EXPECT(evs[i].verdict == BPFLET_POL_DENY &&
				       evs[i].dir == BPFLET_POL_INGRESS && evs[i].rule_id == 0 &&
				       evs[i].hook == BPFLET_HOOK_TO_POD &&
				       evs[i].saddr.addr[0] == ip4(PEER) &&
				       evs[i].be_addr.addr[0] == ip4(PEER),
			       "deny, ingress, no rule, to-pod, peer %x",
			       ntohl(evs[i].be_addr.addr[0]));
		else
			drop_seen = evs[i].type == BPFLET_MON_DROP &&
				    evs[i].reason == BPFLET_CNT_DROP_POLICY;
	}
	EXPECT(drop_seen, "the drop says drop_policy");
	bpf_map_update_elem(fd(s->maps.bl_pol_v2), &rk, &rv, BPF_ANY);
	p.sport = 43001;
	EXPECT(run_tc(s->progs.tc_pod_to, &p, NULL) == TC_ACT_OK, "rule 77 allows");
	events(rb);
	REQUIRE(n_evs == 1, "one verdict (%d)", n_evs);
	EXPECT(evs[0].type == BPFLET_MON_POLICY && evs[0].verdict == BPFLET_POL_ALLOW &&
		       evs[0].rule_id == 77,
	       "allow by rule 77 (verdict %u rule %u)", evs[0].verdict, evs[0].rule_id);
	p.tcp_flags = 0x10;
	EXPECT(run_tc(s->progs.tc_pod_to, &p, NULL) == TC_ACT_OK, "its next packet passes");
	events(rb);
	EXPECT(n_evs == 0, "no verdict for an allowed connection's later packets");
	mon_set(ctl, 0, 0, 0, NULL);
	bpf_map_delete_elem(fd(s->maps.bl_polep_v2), &a);
	bpf_map_delete_elem(fd(s->maps.bl_ipch_v1), &ik);
	bpf_map_delete_elem(fd(s->maps.bl_pol_v2), &rk);
	ring_buffer__free(rb);
}

/* Captured samples, by the perf buffer callback. */
static struct {
	struct bpflet_pcap_meta meta;
	uint8_t data[256];
} caps[8];
static int n_caps;

static void on_cap(void *ctx, int cpu, void *data, __u32 size)
{
	(void)ctx;
	(void)cpu;
	if (n_caps >= 8 || size < sizeof(caps[0].meta))
		return;
	memcpy(&caps[n_caps].meta, data, sizeof(caps[0].meta));
	memcpy(caps[n_caps].data, (uint8_t *)data + sizeof(caps[0].meta),
	       size - sizeof(caps[0].meta) < 256 ? size - sizeof(caps[0].meta) : 256);
	n_caps++;
}

static int captures(struct perf_buffer *pb)
{
	n_caps = 0;
	perf_buffer__consume(pb);
	return n_caps;
}

static void test_capture(void)
{
	int ctl = fd(svc_lb_skel->maps.bl_mon_v1);
	struct perf_buffer *pb =
		perf_buffer__new(fd(svc_lb_skel->maps.bl_pcap_v1), 8, on_cap, NULL, NULL, NULL);
	struct pkt_spec p = syn, other = syn;
	uint8_t in[PKT_MAX];
	size_t len;

	s = svc_lb_skel;
	REQUIRE(pb, "perf buffer opens: %s", strerror(errno));
	service(IPPROTO_TCP, 1);
	p.payload = 200;
	p.sport = 41010;
	len = pkt_build(in, &p);
	captures(pb);
	mon_set(ctl, BPFLET_MON_F_EVENTS, 0, 0, NULL);
	run_tc(s->progs.tc_pod, &p, NULL);
	captures(pb);
	EXPECT(n_caps == 0, "events only: no capture (%d)", n_caps);

	mon_set(ctl, BPFLET_MON_F_EVENTS | BPFLET_MON_F_PCAP, 0, 64, CLIENT);
	p.sport = 41011;
	len = pkt_build(in, &p);
	run_tc(s->progs.tc_pod, &p, NULL);
	captures(pb);
	REQUIRE(n_caps == 1, "capture on: one sample (%d)", n_caps);
	EXPECT(caps[0].meta.len == len && caps[0].meta.caplen == 64 &&
		       caps[0].meta.hook == BPFLET_HOOK_FROM_POD && caps[0].meta.ts_ns > 0,
	       "len %u (want %zu), caplen %u (snaplen 64)", caps[0].meta.len, len,
	       caps[0].meta.caplen);
	EXPECT(!memcmp(caps[0].data, in, 64), "the first 64 bytes as received (before DNAT)");

	other.src = "10.244.7.9"; /* neither address is the filter's */
	other.dst = "10.96.7.99";
	run_tc(s->progs.tc_pod, &other, NULL);
	captures(pb);
	EXPECT(n_caps == 0, "the address filter leaves other packets out (%d)", n_caps);

	mon_set(ctl, BPFLET_MON_F_EVENTS | BPFLET_MON_F_PCAP, 0, 1514, NULL);
	p.sport = 41012;
	len = pkt_build(in, &p);
	run_tc(s->progs.tc_pod_to, &p, NULL);
	captures(pb);
	REQUIRE(n_caps == 1, "tc_pod_to captures too (%d)", n_caps);
	EXPECT(caps[0].meta.caplen == len && caps[0].meta.hook == BPFLET_HOOK_TO_POD &&
		       !memcmp(caps[0].data, in, len < 256 ? len : 256),
	       "whole packet under the snaplen, hook to-pod (caplen %u)", caps[0].meta.caplen);
	mon_set(ctl, 0, 0, 0, NULL);
	perf_buffer__free(pb);
}

static void test_xdp_monitor(void)
{
	struct ring_buffer *rb;
	struct perf_buffer *pb;
	struct pkt_spec p = np_syn;
	uint8_t in[PKT_MAX];
	size_t len;

	REQUIRE(xdp_load(), "xdp_uplink loads");
	xdp_nodeport();
	rb = ring_buffer__new(fd(xs->maps.bl_monev_v1), on_ev, NULL, NULL);
	pb = perf_buffer__new(fd(xs->maps.bl_pcap_v1), 8, on_cap, NULL, NULL, NULL);
	REQUIRE(rb && pb, "ring and perf buffers open");
	events(rb);
	captures(pb);
	p.sport = 42010;
	len = pkt_build(in, &p);
	mon_set(fd(xs->maps.bl_mon_v1), BPFLET_MON_F_EVENTS | BPFLET_MON_F_PCAP, 0, 1514, NULL);
	EXPECT(run_xdp(&p, NULL) == XDP_PASS, "NodePort SYN translated");
	events(rb);
	REQUIRE(n_evs == 1, "one event (%d)", n_evs);
	EXPECT(evs[0].type == BPFLET_MON_FLOW && evs[0].hook == BPFLET_HOOK_XDP_UPLINK &&
		       evs[0].saddr.addr[0] == ip4(EXT) && evs[0].daddr.addr[0] == ip4(NODE) &&
		       evs[0].dport == htons(NP) && evs[0].be_addr.addr[0] == ip4(BE) &&
		       evs[0].svc_id == SVC_ID && evs[0].backend_id == BE_ID,
	       "xdp flow: external client -> node:NodePort => backend");
	captures(pb);
	REQUIRE(n_caps == 1, "one capture (%d)", n_caps);
	EXPECT(caps[0].meta.hook == BPFLET_HOOK_XDP_UPLINK && caps[0].meta.caplen == len &&
		       !memcmp(caps[0].data, in, len < 256 ? len : 256),
	       "the frame as it arrived at XDP");
	/* a backend on another node: translated, SNATed and sent back out (or dropped
	 * for want of a route in the test's namespace): the flow is reported either way */
	{
		struct bpflet_backend b;
		__u32 id = BE_ID;
		int v;

		REQUIRE(!bpf_map_lookup_elem(fd(xs->maps.bl_be_v1), &id, &b), "backend there");
		b.flags = 0;
		bpf_map_update_elem(fd(xs->maps.bl_be_v1), &id, &b, BPF_ANY);
		p.sport = 42012;
		v = run_xdp(&p, NULL);
		events(rb);
		EXPECT(n_evs >= 1 && evs[0].type == BPFLET_MON_FLOW &&
			       evs[0].saddr.addr[0] == ip4(EXT) &&
			       evs[0].be_addr.addr[0] == ip4(BE),
		       "remote backend: the flow reported (verdict %d, %d events)", v, n_evs);
		EXPECT(v != XDP_DROP || (n_evs == 2 && evs[1].type == BPFLET_MON_DROP &&
					 evs[1].reason == BPFLET_CNT_DROP_NO_ROUTE),
		       "dropped for want of a route: a drop event follows (%d events)", n_evs);
		captures(pb);
		b.flags = BPFLET_BE_F_LOCAL;
		bpf_map_update_elem(fd(xs->maps.bl_be_v1), &id, &b, BPF_ANY);
	}
	mon_set(fd(xs->maps.bl_mon_v1), 0, 0, 0, NULL);
	p.sport = 42011;
	EXPECT(run_xdp(&p, NULL) == XDP_PASS, "translated");
	EXPECT(events(rb) == 0 && captures(pb) == 0, "flag off: nothing");
	ring_buffer__free(rb);
	perf_buffer__free(pb);
	xdp_uplink__destroy(xs); /* the last case that needs it */
	xs = NULL;
}

const struct test_case monitor_cases[] = {
	{"counters: a new flow, an established packet and a reply add one packet and their "
	 "bytes each to the Service and the backend; non-Service traffic nothing",
	 test_counters_tc},
	{"counters: an id retired by the agent (bl_dp_delete) has its counters zeroed",
	 test_retired_ids_zeroed},
	{"counters: a NodePort flow at XDP is counted for its Service and backend",
	 test_counters_xdp},
	{"monitor: a flow event only while the flag is on and the heartbeat fresh, with "
	 "client, frontend, backend and ids",
	 test_events_gated},
	{"monitor: events a full ring refuses are counted in bl_mon_v1 (read + lost = sent)",
	 test_lost_events},
	{"monitor: the agent clears a stale flag (bl_mon_clear_stale), keeps a fresh one",
	 test_reap_stale_flag},
	{"monitor: drop events carry the counter reason (reject, ct invalid, malformed)",
	 test_drop_events},
	{"monitor: policy verdict events (deny with its drop, allow by rule)", test_policy_events},
	{"monitor --pcap: packets as received, snaplen and address filter applied, both TC "
	 "hooks",
	 test_capture},
	{"monitor at XDP: flow event and the frame captured, nothing with the flag off",
	 test_xdp_monitor},
};
const int monitor_n_cases = sizeof(monitor_cases) / sizeof(monitor_cases[0]);
