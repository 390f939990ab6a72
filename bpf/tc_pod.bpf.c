// SPDX-License-Identifier: GPL-2.0
/*
 * tc_pod: runs on each pod's host-side veth at tc ingress, i.e. on every packet the
 * pod sends. Read top to bottom it is the packet's path:
 *   parse → conntrack (established flows and replies) → frontend lookup → backend
 *   selection → conntrack entries for both directions → DNAT,
 * with rejects for Services without endpoints and hairpin SNAT for a pod reaching
 * itself. Everything that is not Service traffic passes untouched unless a
 * NetworkPolicy isolates the pod (lib/policy.h): then its egress rules decide new
 * connections, for a Service flow against the chosen backend.
 *
 * tc_pod_to runs at tc egress of the same veth, on every packet delivered to the pod,
 * and applies the pod's ingress rules.
 */
#include "lib/conntrack.h"
#include "lib/counters.h"
#include "lib/ct_tcp.h"
#include "lib/frag.h"
#include "lib/frag_hold.h"
#include "lib/icmp_err.h"
#include "lib/maps.h"
#include "lib/mss.h"
#include "lib/nat.h"
#include "lib/parse.h"
#include "lib/policy.h"
#include "lib/reject.h"
#include "lib/select.h"
#include "lib/svc_stats.h"
#include "lib/tc_fwd.h"

#include <linux/pkt_cls.h>

/* Source address for hairpin flows (network order; 169.254.42.1 unless the agent
 * sets another before load). The pod would drop a packet carrying its own address. */
const volatile __be32 hairpin_ip = 0x012afea9;
/* Benchmarks only: skip the conntrack lookup so every run takes the new-flow path. */
const volatile bool bench_skip_ct_lookup = false;

/* Established flow or reply (entry ct, found with key self): apply what conntrack
 * recorded, once the segment is judged valid and inside the flow's window. */
static __always_inline int follow_ct(struct __sk_buff *skb, struct pkt *p,
				     const struct bpflet_ct_key *self, struct bpflet_ct_val *ct)
{
	bool hairpin = ct->flags & BPFLET_CT_F_HAIRPIN;
	struct bpflet_ct_key peer;
	int err;

	if (p->proto == IPPROTO_TCP) {
		err = ct_tcp_track(ct, self, (void *)(long)skb->data, (void *)(long)skb->data_end,
				   p);
		if (err) {
			count(skb, err == CT_TCP_INVALID ? BPFLET_CNT_DROP_CT_INVALID
							 : BPFLET_CNT_DROP_CT_WINDOW);
			return TC_ACT_SHOT;
		}
	}
	/* a DSR backend's SYN-ACK: its MSS must leave room for the ingress node's tunnel */
	if (dsr_mss && (ct->flags & BPFLET_CT_F_DSR) && (p->tcp_flags & TCPF_SYN) &&
	    tcp_clamp_mss(skb, p->l4_off, dsr_mss) < 0) {
		count(skb, BPFLET_CNT_DROP_REWRITE);
		return TC_ACT_SHOT;
	}
	/* a RST ends the flow: forget both directions once this packet is through, so
	 * a later flow reusing the tuple (even straight to the pod) is not rewritten */
	if (p->tcp_flags & TCPF_RST)
		bpflet_ct_peer_key(&peer, self, ct);
	ct_touch(ct, p);
	svc_stats(&ct->svc_id, &ct->backend_id, skb->len);
	if (ct->dir == BPFLET_CT_FORWARD) {
		err = rewrite_dst(skb, p, ct->nat_addr.addr[0], ct->nat_port);
		if (!err && hairpin)
			err = rewrite_src(skb, p, ct->hairpin_addr.addr[0], p->sport);
		count(skb, err ? BPFLET_CNT_DROP_REWRITE : BPFLET_CNT_DNAT_EST);
	} else {
		err = rewrite_src(skb, p, ct->nat_addr.addr[0], ct->nat_port);
		if (!err && hairpin)
			err = rewrite_dst(skb, p, ct->hairpin_addr.addr[0], p->dport);
		count(skb, err ? BPFLET_CNT_DROP_REWRITE : BPFLET_CNT_RNAT);
	}
	if (p->tcp_flags & TCPF_RST) {
		ct_remove(self);
		ct_remove(&peer);
	}
	if (err)
		return TC_ACT_SHOT;
	if (ct->dir == BPFLET_CT_REPLY && (ct->flags & BPFLET_CT_F_NORTH_SOUTH))
		return tc_route_out(skb, p->saddr, p->daddr);
	/* to a pod of this node whose tc_pod_to verdict the entry carries (translated) */
	if (ct->pol_to)
		pol_handoff_put(p, ct->pol_to);
	return TC_ACT_OK;
}

static __always_inline int reject(struct __sk_buff *skb, const struct pkt *p)
{
	int rc;

	if (p->proto == IPPROTO_TCP) {
		if (p->tcp_flags & TCPF_RST) {
			count(skb, BPFLET_CNT_REJECT_TCP); /* never answer a RST */
			return TC_ACT_SHOT;
		}
		rc = reject_tcp(skb, p);
	} else {
		rc = reject_udp(skb, p);
	}
	if (rc < 0) {
		count(skb, BPFLET_CNT_DROP_REJECT_FAILED);
		return TC_ACT_SHOT;
	}
	count(skb, p->proto == IPPROTO_TCP ? BPFLET_CNT_REJECT_TCP : BPFLET_CNT_REJECT_UDP);
	return rc;
}

/* A new flow to a Service: pick a backend, record both directions, translate. One
 * value struct serves both entries (forward first, then turned into the reply): the
 * stack must leave room for the window tracker's calls. */
static __always_inline int new_flow(struct __sk_buff *skb, struct pkt *p,
				    const struct bpflet_fe_val *fe)
{
	struct bpflet_ct_key fwd_key, rev_key;
	struct bpflet_ct_val v = {};
	struct bpflet_backend *be;
	__u32 backend_id = 0;
	__be32 client = p->saddr, vip = p->daddr, be_ip;
	__be16 cport = p->sport, vport = p->dport, be_port;
	bool hairpin;
	int reply_to;

	be = select_backend(fe, p, &backend_id);
	if (!be) {
		count(skb, BPFLET_CNT_DROP_NO_BACKEND);
		return TC_ACT_SHOT;
	}
	reply_to = pol_from_pod_service(skb, p, be->addr.addr[0], be->port);
	if (reply_to < 0)
		return TC_ACT_SHOT;
	be_ip = be->addr.addr[0];
	be_port = be->port;
	hairpin = be_ip == client;

	v.nat_addr.addr[0] = be_ip;
	v.nat_port = be_port;
	v.dir = BPFLET_CT_FORWARD;
	v.svc_id = fe->svc_id;
	v.backend_id = backend_id;
	v.created_ns = v.last_seen_ns = coarse_now();
	v.flags = ct_tcp_bits(p->tcp_flags) | (hairpin ? BPFLET_CT_F_HAIRPIN : 0);
	if (hairpin)
		v.hairpin_addr.addr[0] = hairpin_ip;
	if (p->proto == IPPROTO_TCP &&
	    ct_tcp_open(&v.win, (void *)(long)skb->data, (void *)(long)skb->data_end, p)) {
		count(skb, BPFLET_CNT_DROP_CT_INVALID);
		return TC_ACT_SHOT;
	}
	ct_key_of(&fwd_key, client, vip, cport, vport, p->proto);
	ct_key_of(&rev_key, be_ip, hairpin ? hairpin_ip : client, be_port, cport, p->proto);

	/* NOEXIST: when two CPUs race on one new flow, the first choice wins */
	if (ct_insert(&fwd_key, &v, bench_skip_ct_lookup ? BPF_ANY : BPF_NOEXIST)) {
		struct bpflet_ct_val *won = ct_lookup(&fwd_key);

		if (won)
			return follow_ct(skb, p, &fwd_key, won);
		count(skb, BPFLET_CNT_DROP_CT_FULL);
		return TC_ACT_SHOT;
	}
	/* reply: backend → client (or → the hairpin address), source back to the VIP;
	 * its window is learnt from the backend's SYN-ACK */
	v.dir = BPFLET_CT_REPLY;
	v.nat_addr.addr[0] = vip;
	v.nat_port = vport;
	v.hairpin_addr.addr[0] = hairpin ? client : 0;
	/* the client's tc_pod_to keeps the replies' verdict: they carry it there */
	v.pol_to = hairpin ? BPFLET_CT_POL_TO_NONE : (__u16)reply_to;
	__builtin_memset(&v.win, 0, sizeof(v.win));
	if (ct_insert(&rev_key, &v, BPF_ANY)) {
		ct_remove(&fwd_key);
		count(skb, BPFLET_CNT_DROP_CT_FULL);
		return TC_ACT_SHOT;
	}
	if (rewrite_dst(skb, p, be_ip, be_port) ||
	    (hairpin && rewrite_src(skb, p, hairpin_ip, cport))) {
		count(skb, BPFLET_CNT_DROP_REWRITE);
		return TC_ACT_SHOT;
	}
	/* a backend pod of this node copies its verdict into the forward entry */
	if (!hairpin)
		pol_handoff_note(p, vip, vport, (__u32)reply_to);
	svc_stats(&v.svc_id, &v.backend_id, skb->len);
	count(skb, BPFLET_CNT_DNAT_NEW);
	return TC_ACT_OK;
}

static __always_inline int tc_pod_path(struct __sk_buff *skb)
{
	struct bpflet_fe_key fe_key = {};
	struct bpflet_ct_key ct_key;
	struct bpflet_ct_val *ct;
	struct bpflet_fe_val *fe;
	struct pkt p = {};

	switch (parse_pkt(skb, &p)) {
	case PARSE_L4:
		break;
	case PARSE_NON_IP:
		count(skb, BPFLET_CNT_NON_IP);
		return TC_ACT_OK;
	case PARSE_FRAGMENT: {
		int fr = frag_prepare(skb, &p);
		bool done;

		if (fr == FRAG_FOLLOW) {
			if (frag_follow(skb, &p, &done)) {
				count(skb, BPFLET_CNT_DROP_REWRITE);
				return TC_ACT_SHOT;
			}
			count(skb, done ? BPFLET_CNT_FRAGMENT_NAT : BPFLET_CNT_FRAGMENT);
			return TC_ACT_OK;
		}
		if (fr == FRAG_EARLY && frag_hold(skb, &p) == 0) {
			count(skb, BPFLET_CNT_FRAGMENT_HELD);
			return TC_ACT_SHOT; /* its copy goes on behind the first fragment */
		}
		if (fr != FRAG_FIRST) {
			count(skb, BPFLET_CNT_FRAGMENT);
			return TC_ACT_OK;
		}
		switch (frag_replay(skb, &p)) {
		case 1:
			count(skb, BPFLET_CNT_FRAGMENT_REPLAYED);
			break;
		case -1:
			count(skb, BPFLET_CNT_DROP_REWRITE);
			return TC_ACT_SHOT;
		}
		break; /* the first fragment takes the normal path */
	}
	case PARSE_OTHER_L4:
		if (parse_sctp_ports(skb, &p)) {
			ct_key_of(&ct_key, p.saddr, p.daddr, p.sport, p.dport, p.proto);
			ct = ct_lookup(&ct_key);
			if (!(ct && ct_is_pass(ct) && pol_pass_follow(skb, &p, ct, &ct_key)) &&
			    pol_from_pod(skb, &p) == POL_DROP)
				return TC_ACT_SHOT;
			count(skb, BPFLET_CNT_PASS);
			return TC_ACT_OK;
		}
		if (icmp_error_nat(skb, &p) == ICMP_ERR_DONE) {
			count(skb, BPFLET_CNT_ICMP_ERROR_NAT);
			return TC_ACT_OK;
		}
		count(skb, BPFLET_CNT_PASS);
		return TC_ACT_OK;
	default:
		count(skb, BPFLET_CNT_DROP_MALFORMED);
		return TC_ACT_SHOT;
	}

	if (!bench_skip_ct_lookup) {
		ct_key_of(&ct_key, p.saddr, p.daddr, p.sport, p.dport, p.proto);
		ct = ct_lookup(&ct_key);
		if (ct && ct_is_pass(ct)) {
			/* a direct flow NetworkPolicy allowed: nothing else to look up */
			if (pol_pass_follow(skb, &p, ct, &ct_key)) {
				count(skb, BPFLET_CNT_PASS);
				return TC_ACT_OK;
			}
		} else if (ct) {
			return follow_ct(skb, &p, &ct_key, ct);
		}
	}

	fe_key.addr.addr[0] = p.daddr;
	fe_key.port = p.dport;
	fe_key.proto = p.proto;
	fe_key.family = BPFLET_AF_INET;
	fe_key.scope = BPFLET_SCOPE_INTERNAL;
	fe = bpf_map_lookup_elem(&bl_fe_v1, &fe_key);
	if (!fe) {
		/* a pod reaching this node's NodePort, a LoadBalancer IP or an externalIP
		 * gets the Service too (only the uplink agent emits these frontends) */
		fe_key.scope = BPFLET_SCOPE_EXTERNAL;
		fe = bpf_map_lookup_elem(&bl_fe_v1, &fe_key);
	}
	if (!fe) {
		/* a new direct connection must not have its replies caught by a stale
		 * reply entry of an earlier Service flow with the same tuple */
		if ((p.tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN && p.proto == IPPROTO_TCP) {
			ct_key_of(&ct_key, p.daddr, p.saddr, p.dport, p.sport, p.proto);
			ct = ct_lookup(&ct_key);
			if (ct && ct->dir == BPFLET_CT_REPLY)
				ct_remove(&ct_key);
		}
		if (pol_from_pod(skb, &p) == POL_DROP)
			return TC_ACT_SHOT;
		count(skb, BPFLET_CNT_PASS);
		return TC_ACT_OK;
	}
	if (fe->count == 0) {
		if (fe->flags & BPFLET_FE_F_NO_LOCAL_DROP) {
			count(skb, BPFLET_CNT_DROP_NO_LOCAL);
			return TC_ACT_SHOT;
		}
		return reject(skb, &p);
	}
	/* only a SYN opens a TCP flow: anything else without conntrack (state lost,
	 * out of window, a scan) would reach a backend that never saw the handshake */
	if (p.proto == IPPROTO_TCP && !tcp_opens_flow(p.tcp_flags)) {
		count(skb, BPFLET_CNT_DROP_CT_INVALID);
		return TC_ACT_SHOT;
	}
	return new_flow(skb, &p, fe);
}

/* Delivered to the pod: its ingress rules. Service translation already happened on the
 * sender's side (or at XDP), so the destination is the pod's own address. Counts only
 * its denies; what it passes was counted where it entered. */
static __always_inline int tc_pod_to_path(struct __sk_buff *skb)
{
	struct pkt p = {};

	switch (parse_pkt(skb, &p)) {
	case PARSE_L4:
		break;
	case PARSE_OTHER_L4:
		if (parse_sctp_ports(skb, &p))
			break;
		return TC_ACT_OK;
	default:
		return TC_ACT_OK; /* fragments, ICMP, non-IP: not policy's business */
	}
	return pol_to_pod(skb, &p, hairpin_ip) == POL_DROP ? TC_ACT_SHOT : TC_ACT_OK;
}

/* The programs: each path between the monitor's hooks (lib/monitor.h). */
SEC("tcx/ingress")
int tc_pod(struct __sk_buff *skb)
{
	mon_tc_enter(skb, BPFLET_HOOK_FROM_POD);
	return mon_exit(tc_pod_path(skb));
}

SEC("tcx/egress")
int tc_pod_to(struct __sk_buff *skb)
{
	mon_tc_enter(skb, BPFLET_HOOK_TO_POD);
	return mon_exit(tc_pod_to_path(skb));
}

char LICENSE[] SEC("license") = "GPL";
