/*
 * BPF_PROG_TEST_RUN cases for TCP conntrack hygiene (bpf/lib/ct_tcp.h) on xdp_uplink:
 * a NodePort flow to a backend on another node, whose both directions cross this
 * program (DNAT+SNAT), driven segment by segment. In-window segments go on; invalid
 * flag combinations and segments far outside the window are dropped and counted;
 * window scaling counts only when both SYNs offered it; an entry without a window
 * record (taken over from layout 1) is picked up. Also the layout-1 → 2 migration.
 */
#include "agent/common/paths.h"
#include "agent/dataplane/ct_migrate.h"
#include "selftests/bpf/harness.h"
#include "selftests/bpf/packet.h"
#include "selftests/bpf/xdp_util.h"
#include "xdp_uplink.skel.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CPORT 41000
#define ISN_C 1000u
#define ISN_S 5000u

#define SYN 0x02
#define ACK 0x10
#define FIN 0x01
#define RST 0x04
#define PSH 0x08
#define URG 0x20

static struct pkt_spec seg(bool from_client, uint8_t flags, uint32_t seq, uint32_t ack,
			   uint16_t win, uint16_t payload)
{
	struct pkt_spec s = {.proto = IPPROTO_TCP,
			     .tcp_flags = flags,
			     .seq = seq,
			     .ack = ack,
			     .window = win,
			     .payload = payload};

	if (from_client) {
		s.src = CLIENT;
		s.dst = NODE;
		s.sport = CPORT;
		s.dport = NP;
	} else { /* the backend answers this node at the SNAT port (the client's) */
		s.src = REMOTE;
		s.dst = NODE;
		s.sport = 8080;
		s.dport = CPORT;
	}
	return s;
}

/* Whether the segment went on: passed, sent, or dropped only because test_run's
 * namespace has no route to the other node (counted as such). */
static bool through(struct pkt_spec s)
{
	unsigned long long no_route = xdp_counter(BPFLET_CNT_DROP_NO_ROUTE);
	uint8_t in[PKT_MAX], out[PKT_MAX];
	int v = xdp_run(&s, out, in, NULL);

	if (v == XDP_PASS || v == XDP_TX || v == XDP_REDIRECT)
		return true;
	return v == XDP_DROP && xdp_counter(BPFLET_CNT_DROP_NO_ROUTE) > no_route;
}

/* SYN, SYN-ACK, ACK; each side offers window scale 7 when asked to. */
static bool handshake(bool client_ws, bool server_ws)
{
	struct pkt_spec s;

	if (!xdp_fresh())
		return false;
	xdp_frontend(NODE, NP, REMOTE, false, 0);
	s = seg(true, SYN, ISN_C, 0, 64240, 0);
	s.wscale_opt = client_ws;
	s.wscale = 7;
	if (!through(s))
		return false;
	s = seg(false, SYN | ACK, ISN_S, ISN_C + 1, 65160, 0);
	s.wscale_opt = server_ws;
	s.wscale = 7;
	if (!through(s))
		return false;
	return through(seg(true, ACK, ISN_C + 1, ISN_S + 1, 502, 0));
}

static bool fwd_entry(struct bpflet_ct_val *v)
{
	return xdp_ct_get(CLIENT, CPORT, NODE, NP, v);
}

static void test_in_window(void)
{
	struct bpflet_ct_val f, r;

	REQUIRE(handshake(true, true), "handshake: %s", strerror(errno));
	EXPECT(through(seg(true, ACK | PSH, ISN_C + 1, ISN_S + 1, 502, 100)), "client data");
	EXPECT(through(seg(false, ACK, ISN_S + 1, ISN_C + 101, 510, 0)), "server ack");
	EXPECT(through(seg(false, ACK | PSH, ISN_S + 1, ISN_C + 101, 510, 1000)), "server data");
	EXPECT(through(seg(true, ACK, ISN_C + 101, ISN_S + 1001, 502, 0)), "client ack");
	EXPECT(through(seg(true, ACK | PSH, ISN_C + 1, ISN_S + 1001, 502, 100)),
	       "a retransmission of old data");
	EXPECT(through(seg(true, FIN | ACK, ISN_C + 101, ISN_S + 1001, 502, 0)), "client FIN");
	EXPECT(xdp_counter(BPFLET_CNT_DROP_CT_WINDOW) == 0 &&
		       xdp_counter(BPFLET_CNT_DROP_CT_INVALID) == 0,
	       "drops: window %llu invalid %llu", xdp_counter(BPFLET_CNT_DROP_CT_WINDOW),
	       xdp_counter(BPFLET_CNT_DROP_CT_INVALID));
	REQUIRE(fwd_entry(&f) && xdp_ct_get(REMOTE, 8080, NODE, CPORT, &r), "entries");
	EXPECT(f.win.end == ISN_C + 102 && f.win.wscale == 7 && (f.win.state & BPFLET_CT_W_DATA) &&
		       f.win.ack_limit == ISN_S + 1001 + (502 << 7),
	       "client record: end %u wscale %u ack_limit %u", f.win.end, f.win.wscale,
	       f.win.ack_limit);
	EXPECT(r.win.end == ISN_S + 1001 && r.win.wscale == 7 && r.win.maxwin == 510u << 7,
	       "server record: end %u wscale %u maxwin %u", r.win.end, r.win.wscale, r.win.maxwin);
}

static void test_out_of_window(void)
{
	struct bpflet_ct_val f;

	REQUIRE(handshake(true, true), "handshake");
	EXPECT(!through(seg(true, ACK | PSH, ISN_C + 1 + 10000000, ISN_S + 1, 502, 100)),
	       "data 10 MB ahead passed");
	EXPECT(!through(seg(true, ACK | PSH, ISN_C + 1 - 3000000, ISN_S + 1, 502, 100)),
	       "data 3 MB behind passed");
	EXPECT(!through(seg(true, ACK, ISN_C + 1, ISN_S + 1 + 5000000, 502, 0)),
	       "an ack of data never sent passed");
	EXPECT(!through(seg(false, ACK | PSH, ISN_S + 1 + 10000000, ISN_C + 1, 510, 100)),
	       "server data 10 MB ahead passed");
	EXPECT(!through(seg(true, RST, ISN_C + 1 + 50000000, 0, 0, 0)),
	       "a blind RST far out of window passed");
	EXPECT(xdp_counter(BPFLET_CNT_DROP_CT_WINDOW) == 5, "drop_ct_out_of_window %llu",
	       xdp_counter(BPFLET_CNT_DROP_CT_WINDOW));
	EXPECT(fwd_entry(&f), "the blind RST ended the flow");
	EXPECT(through(seg(true, ACK | PSH, ISN_C + 1, ISN_S + 1, 502, 100)),
	       "the flow's own next segment was refused after the drops");
	EXPECT(through(seg(true, RST | ACK, ISN_C + 101, ISN_S + 1, 0, 0)), "in-window RST");
	EXPECT(!fwd_entry(&f), "the in-window RST did not end the flow");
}

static void test_invalid_flags(void)
{
	static const uint8_t bad[] = {SYN | FIN,      SYN | RST, 0, FIN, SYN | FIN | PSH | URG,
				      RST | FIN | ACK};
	struct pkt_spec s;
	struct bpflet_ct_val f;

	REQUIRE(handshake(true, true), "handshake");
	for (size_t i = 0; i < sizeof(bad); i++)
		EXPECT(!through(seg(true, bad[i], ISN_C + 1, ISN_S + 1, 502, 0)),
		       "flags %#x on an open flow passed", bad[i]);
	EXPECT(xdp_counter(BPFLET_CNT_DROP_CT_INVALID) == sizeof(bad), "drop_ct_invalid %llu",
	       xdp_counter(BPFLET_CNT_DROP_CT_INVALID));
	EXPECT(through(seg(true, ACK | PSH | URG, ISN_C + 1, ISN_S + 1, 502, 10)),
	       "ACK|PSH|URG is valid");
	/* SYN+FIN cannot open a flow either */
	s = seg(true, SYN | FIN, 7, 0, 64240, 0);
	s.sport = CPORT + 1;
	EXPECT(!through(s), "SYN+FIN opened a flow");
	EXPECT(!xdp_ct_get(CLIENT, CPORT + 1, NODE, NP, &f), "SYN+FIN left an entry");
	/* a SYN inside the open flow passes (the backend answers it) but moves nothing */
	REQUIRE(fwd_entry(&f), "entry");
	EXPECT(through(seg(true, SYN, 999999, 0, 64240, 0)), "SYN in an open flow dropped");
	EXPECT(through(seg(true, ACK | PSH, ISN_C + 11, ISN_S + 1, 502, 10)),
	       "the flow's own segment refused after a stray SYN");
}

static void test_window_scaling(void)
{
	struct bpflet_ct_val f;

	/* both offered 7: the server's window of 1000 means 128000 bytes */
	REQUIRE(handshake(true, true), "handshake");
	EXPECT(through(seg(false, ACK, ISN_S + 1, ISN_C + 1, 1000, 0)), "server window update");
	EXPECT(through(seg(true, ACK | PSH, ISN_C + 1 + 100000, ISN_S + 1, 502, 100)),
	       "a segment 100 kB ahead, inside the scaled window, was dropped");
	/* only the client offered: no scaling either way (RFC 7323), 1000 is 1000 */
	REQUIRE(handshake(true, false), "handshake without the server's option");
	REQUIRE(fwd_entry(&f), "entry");
	EXPECT(f.win.wscale == 0 && (f.win.state & BPFLET_CT_W_WSCALE), "client scale %u kept",
	       f.win.wscale);
	EXPECT(through(seg(false, ACK, ISN_S + 1, ISN_C + 1, 1000, 0)), "server window update");
	EXPECT(!through(seg(true, ACK | PSH, ISN_C + 1 + 100000, ISN_S + 1, 502, 100)),
	       "a segment 100 kB ahead passed an unscaled 64 kB window");
	EXPECT(through(seg(true, ACK | PSH, ISN_C + 1 + 60000, ISN_S + 1, 502, 100)),
	       "a segment inside the SYN-ACK's window was dropped");
	EXPECT(xdp_counter(BPFLET_CNT_DROP_CT_WINDOW) == 1, "drop_ct_out_of_window %llu",
	       xdp_counter(BPFLET_CNT_DROP_CT_WINDOW));
}

/* An entry as the layout migration leaves it (no window record) is learnt from the
 * next segments, with the largest scale assumed. */
static void test_pickup(void)
{
	struct bpflet_ct_val f;

	REQUIRE(handshake(true, true), "handshake");
	REQUIRE(fwd_entry(&f), "entry");
	/* wipe both records, as a layout-1 entry arrives */
	struct bpflet_ct_val r;
	struct bpflet_ct_key fk = {.sport = htons(CPORT),
				   .dport = htons(NP),
				   .proto = IPPROTO_TCP,
				   .family = BPFLET_AF_INET},
			     rk = {.sport = htons(8080),
				   .dport = htons(CPORT),
				   .proto = IPPROTO_TCP,
				   .family = BPFLET_AF_INET};

	REQUIRE(xdp_ct_get(REMOTE, 8080, NODE, CPORT, &r), "reply entry");
	fk.saddr.addr[0] = ip4(CLIENT);
	fk.daddr.addr[0] = ip4(NODE);
	rk.saddr.addr[0] = ip4(REMOTE);
	rk.daddr.addr[0] = ip4(NODE);
	memset(&f.win, 0, sizeof(f.win));
	memset(&r.win, 0, sizeof(r.win));
	REQUIRE(!bpf_map_update_elem(bpf_map__fd(xdp_skel->maps.bl_ct_tcp_v2), &fk, &f, BPF_ANY) &&
			!bpf_map_update_elem(bpf_map__fd(xdp_skel->maps.bl_ct_tcp_v2), &rk, &r,
					     BPF_ANY),
		"rewrite entries");
	EXPECT(through(seg(true, ACK | PSH, 777777, 888888, 502, 100)), "client mid-stream");
	EXPECT(through(seg(false, ACK | PSH, 888888, 777877, 510, 100)), "server mid-stream");
	REQUIRE(fwd_entry(&f), "entry");
	EXPECT((f.win.state & (BPFLET_CT_W_TRACKED | BPFLET_CT_W_PICKUP)) ==
			       (BPFLET_CT_W_TRACKED | BPFLET_CT_W_PICKUP) &&
		       f.win.end == 777877 && f.win.wscale == 14,
	       "picked-up record: state %#x end %u scale %u", f.win.state, f.win.end, f.win.wscale);
	EXPECT(through(seg(true, ACK | PSH, 777877, 888988, 502, 100)), "next client segment");
	EXPECT(xdp_counter(BPFLET_CNT_DROP_CT_WINDOW) == 0, "dropped while picking up");
}

/* Layout-1 maps pinned by an older agent: their entries move into the v2 maps. */
static void test_migrate_layout1(void)
{
	char instance[64], dir[160], path[256];
	struct bpflet_ct_key k1 = {.sport = 1, .proto = IPPROTO_TCP, .family = BPFLET_AF_INET},
			     k2 = {.sport = 2, .proto = IPPROTO_TCP, .family = BPFLET_AF_INET};
	uint8_t v1[BPFLET_CT_VAL_V1_SIZE];
	struct bpflet_ct_val got, mine = {.svc_id = 99};
	int old_fd, tcp_fd, any_fd;
	long n;

	snprintf(instance, sizeof(instance), "ctmig%d", (int)getpid());
	bl_pin_dir(dir, sizeof(dir), instance);
	snprintf(path, sizeof(path), "%s/%s", dir, BPFLET_MAP_CT_TCP_V1);
	mkdir("/sys/fs/bpf/bpflet", 0700);
	REQUIRE(mkdir(dir, 0700) == 0 || errno == EEXIST, "mkdir %s", dir);
	old_fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "bl_ct_tcp_v1", sizeof(k1), sizeof(v1), 64,
				NULL);
	tcp_fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "bl_ct_tcp_v2", sizeof(k1),
				sizeof(struct bpflet_ct_val), 64, NULL);
	any_fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "bl_ct_any_v2", sizeof(k1),
				sizeof(struct bpflet_ct_val), 64, NULL);
	REQUIRE(old_fd >= 0 && tcp_fd >= 0 && any_fd >= 0, "maps: %s", strerror(errno));
	memset(v1, 0xab, sizeof(v1));
	REQUIRE(!bpf_map_update_elem(old_fd, &k1, v1, BPF_ANY) &&
			!bpf_map_update_elem(old_fd, &k2, v1, BPF_ANY) &&
			!bpf_map_update_elem(tcp_fd, &k1, &mine, BPF_ANY) &&
			!bpf_obj_pin(old_fd, path),
		"seed: %s", strerror(errno));
	n = bl_ct_migrate(instance, tcp_fd, any_fd, false);
	EXPECT(n == 1, "first pass copied %ld (one entry was there already)", n);
	EXPECT(!bpf_map_lookup_elem(tcp_fd, &k2, &got) && !memcmp(&got, v1, sizeof(v1)) &&
		       got.win.state == 0 && got.win.end == 0,
	       "copied entry: layout-1 bytes kept, window record zero");
	EXPECT(!bpf_map_lookup_elem(tcp_fd, &k1, &got) && got.svc_id == 99,
	       "an entry the new programs wrote was overwritten");
	EXPECT(access(path, F_OK) == 0, "first pass removed the old pin");
	n = bl_ct_migrate(instance, tcp_fd, any_fd, true);
	EXPECT(n == 0, "last pass copied %ld", n);
	EXPECT(access(path, F_OK) != 0, "last pass left the old pin");
	EXPECT(bl_ct_migrate(instance, tcp_fd, any_fd, true) == 0, "no old maps: nothing to do");
	unlink(path);
	rmdir(dir);
	close(old_fd);
	close(tcp_fd);
	close(any_fd);
}

const struct test_case ct_tcp_cases[] = {
	{"ct tcp: in-window segments pass both ways, records follow them", test_in_window},
	{"ct tcp: far out-of-window data, acks and a blind RST dropped and counted",
	 test_out_of_window},
	{"ct tcp: invalid flag combinations dropped (open flow and new flow)", test_invalid_flags},
	{"ct tcp: window scaling applies only when both SYNs offered it", test_window_scaling},
	{"ct tcp: an entry without a window record is picked up mid-stream", test_pickup},
	{"ct tcp: layout-1 conntrack maps migrate into v2, then go", test_migrate_layout1},
};
const int ct_tcp_n_cases = sizeof(ct_tcp_cases) / sizeof(ct_tcp_cases[0]);
