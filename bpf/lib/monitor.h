/*
 * `bpfletctl monitor` (headers/bpflet/monitor_abi.h): flow, drop and policy events and
 * packet captures, emitted only while a monitor runs. Each program calls
 * mon_*_enter first and mon_exit last; in between, count_len notes the packet's
 * counter reason (mon_note) and policy its verdict (mon_policy). With no monitor the
 * cost is an array lookup at entry and a per-CPU lookup at each of the other hooks.
 *
 * The packet's tuple as the program received it is kept per CPU between enter and
 * exit (a program runs to its end on one CPU), so the exit can name the client and
 * frontend of a flow the body translated, or the packet a drop was about.
 */
#ifndef BPFLET_BPF_MONITOR_H
#define BPFLET_BPF_MONITOR_H

#include "lib/clock.h"
#include "lib/conntrack.h"
#include "lib/maps.h"

#include <bpflet/monitor_abi.h>
#include <bpflet/policy_abi.h>
#include <linux/if_ether.h>
#include <linux/in.h>

/* the monitor's switch and heartbeat, set by bpfletctl monitor */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpflet_mon_ctl);
} bl_mon_v1 SEC(".maps");

/* flow, drop and policy events (struct bpflet_mon_event) */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BPFLET_MON_EV_BYTES);
} bl_monev_v1 SEC(".maps");

/* captured packets: struct bpflet_pcap_meta, then the packet's first bytes */
struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} bl_pcap_v1 SEC(".maps");

#define MON_NO_REASON 0xffffffffu

/* the key of the one-entry maps, read from .rodata: no stack slot for it in the
 * programs' frames, which are at the verifier's limit */
static const __u32 mon_zero = 0;

/* Ethernet + IPv4 header + ports, from a copy of the frame's first bytes. */
struct mon_hdr {
	__u8 eth[ETH_HLEN];
	__u8 ip[20];
	__be16 ports[2];
};

/* The packet being monitored on this CPU, from enter to exit, and the hooks' scratch
 * (off the programs' stack: their frames are near the verifier's 512 bytes). */
struct mon_pkt {
	__be32 saddr, daddr;
	__be16 sport, dport;
	__u8 proto;
	__u8 hook;     /* enum bpflet_mon_hook */
	__u8 armed;    /* events wanted for this packet */
	__u8 new_flow; /* counted as dnat_new (a forward to another node may follow) */
	__u32 reason;  /* last other counter reason noted, MON_NO_REASON before any */
	__u32 ifindex;
	__u32 len;
	struct mon_hdr hdr;
	struct bpflet_pcap_meta meta;
	struct bpflet_ct_key key;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mon_pkt);
} bl_monpkt SEC(".maps");

static __always_inline struct mon_pkt *mon_pkt(void)
{
	return bpf_map_lookup_elem(&bl_monpkt, &mon_zero);
}

/* The monitor's settings while its flag is on, else NULL. */
static __always_inline struct bpflet_mon_ctl *mon_ctl(void)
{
	struct bpflet_mon_ctl *c = bpf_map_lookup_elem(&bl_mon_v1, &mon_zero);

	return c && c->flags ? c : NULL;
}

/* A monitor that died without clearing its flag stops costing after a while. */
static __always_inline bool mon_alive(const struct bpflet_mon_ctl *c)
{
	return coarse_now() <= c->heartbeat_ns + BPFLET_MON_STALE_NS;
}

/* Counter reasons reported as drop events: what was dropped or answered instead of
 * delivered. */
static __always_inline bool mon_is_drop(__u32 r)
{
	switch (r) {
	case BPFLET_CNT_REJECT_TCP:
	case BPFLET_CNT_REJECT_UDP:
	case BPFLET_CNT_DROP_MALFORMED:
	case BPFLET_CNT_DROP_NO_BACKEND:
	case BPFLET_CNT_DROP_CT_FULL:
	case BPFLET_CNT_DROP_REWRITE:
	case BPFLET_CNT_DROP_REJECT_FAILED:
	case BPFLET_CNT_DROP_CT_INVALID:
	case BPFLET_CNT_DROP_NO_LOCAL:
	case BPFLET_CNT_DROP_NO_ROUTE:
	case BPFLET_CNT_DROP_SRC_RANGE:
	case BPFLET_CNT_DROP_POLICY:
	case BPFLET_CNT_DROP_CT_WINDOW:
	case BPFLET_CNT_DSR_FRAG_NEEDED:
	case BPFLET_CNT_DROP_DSR_TOO_BIG:
		return true;
	default:
		return false;
	}
}

/* m's tuple from a copy of the frame's first got bytes (ports only when ports_ok). */
static __always_inline void mon_tuple(struct mon_pkt *m, const struct mon_hdr *h, long got,
				      bool ports_ok)
{
	__be16 proto = *(const __be16 *)&h->eth[12];

	m->saddr = m->daddr = 0;
	m->sport = m->dport = 0;
	m->proto = 0;
	if (got < ETH_HLEN + 20 || proto != bpf_htons(ETH_P_IP))
		return;
	m->proto = h->ip[9];
	__builtin_memcpy(&m->saddr, &h->ip[12], 4);
	__builtin_memcpy(&m->daddr, &h->ip[16], 4);
	if (ports_ok &&
	    (m->proto == IPPROTO_TCP || m->proto == IPPROTO_UDP || m->proto == IPPROTO_SCTP)) {
		m->sport = h->ports[0];
		m->dport = h->ports[1];
	}
}

static __always_inline bool mon_pcap_wanted(const struct bpflet_mon_ctl *c, const struct mon_pkt *m)
{
	if (!(c->flags & BPFLET_MON_F_PCAP))
		return false;
	/* IPv4 only so far: an address of another family matches nothing */
	if (c->pcap_family &&
	    (c->pcap_family != BPFLET_AF_INET ||
	     (m->saddr != c->pcap_addr.addr[0] && m->daddr != c->pcap_addr.addr[0])))
		return false;
	if (c->pcap_port && m->sport != c->pcap_port && m->dport != c->pcap_port)
		return false;
	return true;
}

static __always_inline long mon_load(void *ctx, bool xdp, __u32 off, void *to, __u32 len)
{
	return xdp ? bpf_xdp_load_bytes(ctx, off, to, len) : bpf_skb_load_bytes(ctx, off, to, len);
}

/* Shared by TC (skb) and XDP: note the packet's tuple, arm its events, capture it. */
static __always_inline void mon_arm(void *ctx, bool xdp, struct bpflet_mon_ctl *c, __u32 hook,
				    __u32 ifindex, __u32 len)
{
	struct mon_pkt *m = mon_pkt();
	struct bpflet_pcap_meta *meta;
	struct mon_hdr *h;
	bool ports_ok = false;
	long got = 0;
	__u32 ihl;

	if (!m || !mon_alive(c))
		return;
	h = &m->hdr;
	__builtin_memset(h, 0, sizeof(*h));
	if (len >= sizeof(*h) && !mon_load(ctx, xdp, 0, h, sizeof(*h)))
		got = sizeof(*h);
	else if (len >= ETH_HLEN + 20 && !mon_load(ctx, xdp, 0, h, ETH_HLEN + 20))
		got = ETH_HLEN + 20;
	ihl = (h->ip[0] & 0x0f) * 4;
	if (ihl == 20)
		ports_ok = got == sizeof(*h);
	else if (got && ihl > 20 && ihl <= 60)
		ports_ok = !mon_load(ctx, xdp, ETH_HLEN + ihl, h->ports, sizeof(h->ports));
	mon_tuple(m, h, got, ports_ok);
	m->hook = (__u8)hook;
	m->ifindex = ifindex;
	m->len = len;
	m->reason = MON_NO_REASON;
	m->new_flow = 0;
	m->armed = !!(c->flags & BPFLET_MON_F_EVENTS);
	if (!mon_pcap_wanted(c, m))
		return;
	meta = &m->meta;
	__builtin_memset(meta, 0, sizeof(*meta));
	meta->ts_ns = bpf_ktime_get_ns();
	meta->len = len;
	meta->caplen = len < c->snaplen ? len : c->snaplen;
	if (meta->caplen > BPFLET_MON_SNAPLEN_MAX)
		meta->caplen = BPFLET_MON_SNAPLEN_MAX;
	meta->ifindex = ifindex;
	meta->hook = (__u8)hook;
	bpf_perf_event_output(ctx, &bl_pcap_v1, ((__u64)meta->caplen << 32) | BPF_F_CURRENT_CPU,
			      meta, sizeof(*meta));
}

static __noinline void mon_tc_arm(struct __sk_buff *skb, __u32 hook)
{
	struct bpflet_mon_ctl *c = mon_ctl();

	if (c)
		mon_arm(skb, false, c, hook, skb->ifindex, skb->len);
}

static __noinline void mon_xdp_arm(struct xdp_md *ctx, struct bpflet_mon_ctl *c)
{
	mon_arm(ctx, true, c, BPFLET_HOOK_XDP_UPLINK, ctx->ingress_ifindex,
		ctx->data_end - ctx->data);
}

/* First thing a TC program does: arm the events and capture the packet while a
 * monitor runs. */
static __always_inline void mon_tc_enter(struct __sk_buff *skb, __u32 hook)
{
	if (mon_ctl())
		mon_tc_arm(skb, hook);
}

static __always_inline void mon_xdp_enter(struct xdp_md *ctx)
{
	struct bpflet_mon_ctl *c = mon_ctl();

	if (c)
		mon_xdp_arm(ctx, c);
}

/* count_len's hook: the reason the packet is counted under. */
static __always_inline void mon_note(__u32 reason)
{
	struct mon_pkt *m = mon_pkt();

	if (m && m->armed) {
		if (reason == BPFLET_CNT_DNAT_NEW)
			m->new_flow = 1;
		else
			m->reason = reason;
	}
}

static __always_inline struct bpflet_mon_event *mon_event(const struct mon_pkt *m, __u8 type)
{
	struct bpflet_mon_event *e = bpf_ringbuf_reserve(&bl_monev_v1, sizeof(*e), 0);

	if (!e) { /* a full ring loses the event, never the packet; the monitor says so */
		struct bpflet_mon_ctl *c = bpf_map_lookup_elem(&bl_mon_v1, &mon_zero);

		if (c)
			__sync_fetch_and_add(&c->lost_events, 1);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->type = type;
	e->hook = m->hook;
	e->proto = m->proto;
	e->family = BPFLET_AF_INET;
	e->ifindex = m->ifindex;
	e->saddr.addr[0] = m->saddr;
	e->daddr.addr[0] = m->daddr;
	e->sport = m->sport;
	e->dport = m->dport;
	e->len = m->len;
	return e;
}

/* The translated flow's backend and Service, from the forward conntrack entry the
 * program just made for the tuple it received. */
static __noinline void mon_flow(struct mon_pkt *m)
{
	struct bpflet_mon_event *e;
	struct bpflet_ct_val *ct;

	ct_key_of(&m->key, m->saddr, m->daddr, m->sport, m->dport, m->proto);
	ct = ct_lookup(&m->key);
	if (!ct || ct->dir != BPFLET_CT_FORWARD)
		return;
	e = mon_event(m, BPFLET_MON_FLOW);
	if (!e)
		return;
	e->be_addr = ct->nat_addr;
	e->be_port = ct->nat_port;
	e->svc_id = ct->svc_id;
	e->backend_id = ct->backend_id;
	bpf_ringbuf_submit(e, 0);
}

static __noinline void mon_drop(struct mon_pkt *m)
{
	struct bpflet_mon_event *e = mon_event(m, BPFLET_MON_DROP);

	if (!e)
		return;
	e->reason = m->reason;
	bpf_ringbuf_submit(e, 0);
}

static __noinline void mon_out(struct mon_pkt *m)
{
	m->armed = 0;
	if (m->new_flow)
		mon_flow(m);
	if (mon_is_drop(m->reason)) /* also after a new flow: no route to its backend */
		mon_drop(m);
}

/* Last thing a program does: the events its outcome raised. Returns the verdict. */
static __always_inline int mon_exit(int verdict)
{
	struct mon_pkt *m = mon_pkt();

	if (m && m->armed)
		mon_out(m);
	return verdict;
}

/* A NetworkPolicy verdict on a new connection: rule_id allowed it, or none did (then
 * audit tells whether it passed anyway). peer:port is what the rules were asked about
 * (the backend of a Service flow). Called on every rule evaluation (a policy conntrack
 * miss, not per packet); the gate sits inside so the caller's frame does not grow. */
static __noinline __attribute__((unused)) void mon_policy(__u32 dir, __be32 peer, __be16 port,
							  __u32 rule_id, bool audit)
{
	struct mon_pkt *m = mon_pkt();
	struct bpflet_mon_event *e;

	if (!m || !m->armed)
		return;
	e = mon_event(m, BPFLET_MON_POLICY);
	if (!e)
		return;
	e->verdict = rule_id ? BPFLET_POL_ALLOW : audit ? BPFLET_POL_AUDIT : BPFLET_POL_DENY;
	e->dir = (__u8)dir;
	e->rule_id = rule_id;
	e->be_addr.addr[0] = peer;
	e->be_port = port;
	bpf_ringbuf_submit(e, 0);
}

#endif
