// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_uplink: runs on the node's uplink (through libxdp), on every packet arriving
 * from outside the node. Read top to bottom it is the packet's path:
 *   parse → conntrack (established north-south flows, and replies of flows that pods
 *   of this node opened to backends elsewhere) → external frontend lookup (NodePort on
 *   the node's address, LoadBalancer ingress IPs, externalIPs) → backend selection →
 *   conntrack entries for both directions → DNAT, and for a backend on another node
 *   SNAT to this node and straight back out (XDP_TX / redirect). ICMP errors and
 *   later IPv4 fragments of those flows follow them (lib/xdp_icmp.h, lib/xdp_frag.h).
 * A local backend gets plain DNAT and the kernel routes it to the pod, whose reply
 * tc_pod reverse-translates; the external client's address is kept. Everything else
 * passes untouched.
 */
#include "lib/conntrack.h"
#include "lib/ct_tcp.h"
#include "lib/dsr.h"
#include "lib/counters.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/select.h"
#include "lib/svc_stats.h"
#include "lib/xdp_frag.h"
#include "lib/xdp_icmp.h"
#include "lib/xdp_fwd.h"

/* This node's address (network order), the source of SNATed flows; set before load. */
const volatile __be32 node_ip = 0;
/* --lb-mode dsr: remote backends get the packet in IPIP and answer the client
 * directly (set alike on every node: it also makes a node accept such packets) */
const volatile bool lb_dsr = false;

/* ephemeral range for SNAT source ports when the client's own port is taken */
#define SNAT_PORT_MIN  32768
#define SNAT_PORT_SPAN 28232 /* up to 60999, Linux's default ip_local_port_range */
#define SNAT_TRIES     4

static __always_inline __u32 frame_len(struct xdp_md *ctx)
{
	return ctx->data_end - ctx->data;
}

/* loadBalancerSourceRanges: the client's address inside one of the frontend's CIDRs */
static __always_inline bool source_allowed(const struct bpflet_fe_key *fe, __be32 saddr)
{
	struct bpflet_srcrange_key k = {.prefixlen = 64 + 32,
					.fe_addr = fe->addr.addr[0],
					.fe_port = fe->port,
					.proto = fe->proto,
					.src = saddr};

	return bpf_map_lookup_elem(&bl_srcr_v1, &k) != NULL;
}

/* Established flow or reply (entry ct, found with key self): apply what conntrack
 * recorded, once the segment is judged valid and inside the flow's window. */
static __noinline int follow_ct(struct xdp_md *ctx, struct pkt *p, const struct bpflet_ct_key *self,
				struct bpflet_ct_val *ct)
{
	bool snat = ct->flags & BPFLET_CT_F_SNAT;
	struct bpflet_ct_key peer;
	int err;

	if (ct->flags & BPFLET_CT_F_HAIRPIN) {
		count_len(BPFLET_CNT_PASS, frame_len(ctx)); /* a pod's own flow: tc_pod's */
		return XDP_PASS;
	}
	if (p->proto == IPPROTO_TCP) {
		err = ct_tcp_track(ct, self, (void *)(long)ctx->data, (void *)(long)ctx->data_end,
				   p);
		if (err) {
			count_len(err == CT_TCP_INVALID ? BPFLET_CNT_DROP_CT_INVALID
							: BPFLET_CNT_DROP_CT_WINDOW,
				  frame_len(ctx));
			return XDP_DROP;
		}
	}
	if (p->tcp_flags & TCPF_RST)
		bpflet_ct_peer_key(&peer, self, ct);
	ct_touch(ct, p);
	svc_stats(&ct->svc_id, &ct->backend_id, frame_len(ctx));
	if ((ct->flags & BPFLET_CT_F_DSR) && ct->dir == BPFLET_CT_FORWARD) {
		if (dsr_too_big(ctx))
			return dsr_frag_needed(ctx);
		if (xdp_rewrite_dst(ctx, p, ct->nat_addr.addr[0], ct->nat_port)) {
			count_len(BPFLET_CNT_DROP_REWRITE, frame_len(ctx));
			return XDP_DROP;
		}
		return dsr_send(ctx, ct->hairpin_addr.addr[0], ct->hairpin_port,
				ct->nat_addr.addr[0]);
	}
	if (ct->dir == BPFLET_CT_FORWARD) {
		err = xdp_rewrite_dst(ctx, p, ct->nat_addr.addr[0], ct->nat_port);
		if (!err && snat)
			err = xdp_rewrite_src(ctx, p, ct->hairpin_addr.addr[0], ct->hairpin_port);
	} else {
		err = xdp_rewrite_src(ctx, p, ct->nat_addr.addr[0], ct->nat_port);
		if (!err && snat)
			err = xdp_rewrite_dst(ctx, p, ct->hairpin_addr.addr[0], ct->hairpin_port);
	}
	if (p->tcp_flags & TCPF_RST) {
		ct_remove(self);
		ct_remove(&peer);
	}
	if (err) {
		count_len(BPFLET_CNT_DROP_REWRITE, frame_len(ctx));
		return XDP_DROP;
	}
	if (snat)
		return xdp_forward(ctx, p);
	count_len(ct->dir == BPFLET_CT_FORWARD ? BPFLET_CNT_XDP_LOCAL : BPFLET_CNT_RNAT,
		  frame_len(ctx));
	return XDP_PASS;
}

/* The reply entry of an SNATed flow: the client's port if free, else a few random
 * ones from the ephemeral range. Returns the port used, or 0 when all were taken. */
static __always_inline __be16 snat_insert(struct bpflet_ct_key *rev_key, struct bpflet_ct_val *rev,
					  __be32 be_ip, __be16 be_port, __be16 cport, __u8 proto)
{
	__be16 port = cport;

	for (int i = 0; i < SNAT_TRIES; i++) {
		ct_key_of(rev_key, be_ip, node_ip, be_port, port, proto);
		if (!ct_insert(rev_key, rev, BPF_NOEXIST))
			return port;
		port = bpf_htons(SNAT_PORT_MIN + bpf_get_prandom_u32() % SNAT_PORT_SPAN);
	}
	return 0;
}

/* new_flow lost a race with another CPU on the same flow: follow the winner */
#define NEW_FLOW_RACED (-1)
/* too big for the DSR tunnel: the caller answers (its frame, not new_flow's, has the
 * stack room for dsr_frag_needed's chain) */
#define NEW_FLOW_TOO_BIG (-2)

/* A new north-south flow: pick a backend, record both directions, translate. One
 * value struct serves both entries (reply first, then forward): the stack of the
 * three-deep call chain must stay within 512 bytes. */
static __noinline int new_flow(struct xdp_md *ctx, struct pkt *p, const struct bpflet_fe_val *fe)
{
	struct bpflet_ct_key fwd_key, rev_key;
	struct bpflet_ct_val v = {};
	struct bpflet_backend *be;
	__u32 backend_id = 0;
	__be32 client = p->saddr, vip = p->daddr, be_ip;
	__be16 cport = p->sport, vport = p->dport, be_port, sport = cport;
	bool snat, dsr;

	be = select_backend(fe, p, &backend_id);
	if (!be) {
		count_len(BPFLET_CNT_DROP_NO_BACKEND, frame_len(ctx));
		return XDP_DROP;
	}
	be_ip = be->addr.addr[0];
	be_port = be->port;
	dsr = lb_dsr && !(be->flags & BPFLET_BE_F_LOCAL);
	snat = !lb_dsr && !(be->flags & BPFLET_BE_F_LOCAL);
	if (dsr && dsr_too_big(ctx))
		return NEW_FLOW_TOO_BIG;
	v.svc_id = fe->svc_id;
	v.backend_id = backend_id;
	v.created_ns = v.last_seen_ns = coarse_now();
	v.flags = ct_tcp_bits(p->tcp_flags) | (snat  ? BPFLET_CT_F_SNAT
					       : dsr ? BPFLET_CT_F_DSR
						     : BPFLET_CT_F_NORTH_SOUTH);
	/* reply: backend → client (or → this node under SNAT), source back to the VIP */
	v.dir = BPFLET_CT_REPLY;
	v.nat_addr.addr[0] = vip;
	v.nat_port = vport;
	if (snat) {
		v.hairpin_addr.addr[0] = client;
		v.hairpin_port = cport;
		sport = snat_insert(&rev_key, &v, be_ip, be_port, cport, p->proto);
		if (!sport) {
			count_len(BPFLET_CNT_DROP_CT_FULL, frame_len(ctx));
			return XDP_DROP;
		}
	} else if (!dsr) { /* under DSR the reply never comes back through here */
		ct_key_of(&rev_key, be_ip, client, be_port, cport, p->proto);
		if (ct_insert(&rev_key, &v, BPF_ANY)) {
			count_len(BPFLET_CNT_DROP_CT_FULL, frame_len(ctx));
			return XDP_DROP;
		}
	}
	/* forward: client → VIP, destination to the backend (and source to this node) */
	if (p->proto == IPPROTO_TCP &&
	    ct_tcp_open(&v.win, (void *)(long)ctx->data, (void *)(long)ctx->data_end, p)) {
		if (!dsr)
			ct_remove(&rev_key);
		count_len(BPFLET_CNT_DROP_CT_INVALID, frame_len(ctx));
		return XDP_DROP;
	}
	v.dir = BPFLET_CT_FORWARD;
	v.nat_addr.addr[0] = be_ip;
	v.nat_port = be_port;
	v.hairpin_addr.addr[0] = snat ? node_ip : dsr ? vip : 0;
	v.hairpin_port = snat ? sport : dsr ? vport : 0;
	ct_key_of(&fwd_key, client, vip, cport, vport, p->proto);
	/* NOEXIST: when two CPUs race on one new flow, the first choice wins */
	if (ct_insert(&fwd_key, &v, BPF_NOEXIST)) {
		if (!dsr)
			ct_remove(&rev_key);
		return NEW_FLOW_RACED;
	}
	if (xdp_rewrite_dst(ctx, p, be_ip, be_port) ||
	    (snat && xdp_rewrite_src(ctx, p, node_ip, sport))) {
		count_len(BPFLET_CNT_DROP_REWRITE, frame_len(ctx));
		return XDP_DROP;
	}
	svc_stats(&v.svc_id, &v.backend_id, frame_len(ctx));
	count_len(BPFLET_CNT_DNAT_NEW, frame_len(ctx));
	if (dsr)
		return dsr_send(ctx, vip, vport, be_ip);
	return snat ? xdp_forward(ctx, p) : XDP_PASS;
}

static __always_inline int xdp_uplink_path(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct bpflet_fe_key fe_key = {};
	struct bpflet_ct_key ct_key;
	struct bpflet_ct_val *ct;
	struct bpflet_fe_val *fe;
	struct pkt p = {};
	int rc;

	switch (parse_frame(data, end, end - data, &p)) {
	case PARSE_L4:
		break;
	case PARSE_MALFORMED:
		count_len(BPFLET_CNT_DROP_MALFORMED, frame_len(ctx));
		return XDP_DROP;
	case PARSE_OTHER_L4:
		if (lb_dsr && p.proto == IPPROTO_IPIP)
			return dsr_receive(ctx);
		if (p.proto == IPPROTO_ICMP)
			return xdp_icmp_error(ctx, &p);
		return XDP_PASS;
	case PARSE_FRAGMENT:
		switch (frag_note(data, end, &p)) {
		case FRAG_FIRST:
			break; /* it has its ports: the normal path */
		case FRAG_FOLLOW:
			return xdp_frag_follow(ctx, &p);
		default:
			count_len(BPFLET_CNT_FRAGMENT, frame_len(ctx));
			return XDP_PASS;
		}
		break;
	default: /* not IPv4, ICMP, ...: the kernel's */
		return XDP_PASS;
	}

	ct_key_of(&ct_key, p.saddr, p.daddr, p.sport, p.dport, p.proto);
	ct = ct_lookup(&ct_key);
	if (ct)
		return follow_ct(ctx, &p, &ct_key, ct);

	fe_key.addr.addr[0] = p.daddr;
	fe_key.port = p.dport;
	fe_key.proto = p.proto;
	fe_key.family = BPFLET_AF_INET;
	fe_key.scope = BPFLET_SCOPE_EXTERNAL;
	fe = bpf_map_lookup_elem(&bl_fe_v1, &fe_key);
	if (!fe)
		return XDP_PASS; /* not north-south Service traffic: uncounted, untouched */
	if (fe->count == 0) {
		/* policy Local without a local endpoint: dropped, as kube-proxy does. No
		 * endpoints at all: the kernel answers a NodePort itself (RST / port
		 * unreachable, nothing listens there); other addresses are dropped. */
		if (fe->flags & BPFLET_FE_F_NO_LOCAL_DROP || p.daddr != node_ip) {
			count_len(fe->flags & BPFLET_FE_F_NO_LOCAL_DROP
					  ? BPFLET_CNT_DROP_NO_LOCAL
					  : BPFLET_CNT_DROP_NO_BACKEND,
				  frame_len(ctx));
			return XDP_DROP;
		}
		count_len(BPFLET_CNT_PASS, frame_len(ctx));
		return XDP_PASS;
	}
	if ((fe->flags & BPFLET_FE_F_SRC_RANGES) && !source_allowed(&fe_key, p.saddr)) {
		count_len(BPFLET_CNT_DROP_SRC_RANGE, frame_len(ctx));
		return XDP_DROP;
	}
	if (p.proto == IPPROTO_TCP && !tcp_opens_flow(p.tcp_flags)) {
		count_len(BPFLET_CNT_DROP_CT_INVALID, frame_len(ctx));
		return XDP_DROP;
	}
	rc = new_flow(ctx, &p, fe);
	if (rc == NEW_FLOW_TOO_BIG)
		return dsr_frag_needed(ctx);
	if (rc != NEW_FLOW_RACED)
		return rc;
	ct = ct_lookup(&ct_key);
	if (ct)
		return follow_ct(ctx, &p, &ct_key, ct);
	count_len(BPFLET_CNT_DROP_CT_FULL, frame_len(ctx));
	return XDP_DROP;
}

/* The program: its path between the monitor's hooks (lib/monitor.h). */
SEC("xdp")
int xdp_uplink(struct xdp_md *ctx)
{
	mon_xdp_enter(ctx);
	return mon_exit(xdp_uplink_path(ctx));
}

char LICENSE[] SEC("license") = "GPL";
