/*
 * NetworkPolicy enforcement (headers/bpflet/policy_abi.h), shared by the pod's two
 * hooks: tc_pod checks what a pod sends (its egress, after the Service translation, so
 * the peer is the real backend) and tc_pod_to what is delivered to it (its ingress).
 * The rules are read only for a connection without a verdict yet; an allowed one
 * leaves entries for itself and for its replies. What a pod sends keeps its verdict in
 * the Service conntrack (a pass entry, see ct_is_pass), which tc_pod looks up first
 * anyway: an established flow of an isolated pod costs that one lookup, and skips the
 * frontend lookups a flow of a pod without policy still pays. What a pod receives keeps
 * its verdict in the policy conntrack of tc_pod_to.
 */
#ifndef BPFLET_BPF_POLICY_H
#define BPFLET_BPF_POLICY_H

#include "lib/clock.h"
#include "lib/conntrack.h"
#include "lib/counters.h"
#include "lib/parse.h"

#include <bpflet/policy_abi.h>

/* --policy-audit: would-be denies are reported and counted but pass */
const volatile bool policy_audit = false;
/* --policy-allow-events: new connections a rule allowed are reported too */
const volatile bool policy_allow_events = false;

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BPFLET_MAX_IPCACHE);
	__type(key, struct bpflet_ipcache_key);
	__type(value, struct bpflet_ipcache_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bl_ipc_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BPFLET_MAX_POLICY);
	__type(key, struct bpflet_pol_key);
	__type(value, struct bpflet_pol_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bl_pol_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFLET_MAX_POL_EP);
	__type(key, __be32);
	__type(value, struct bpflet_pol_ep);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bl_polep_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BPFLET_POL_CT_MAX);
	__type(key, struct bpflet_polct_key);
	__type(value, struct bpflet_polct_val);
} bl_polct_v1 SEC(".maps");

/* per rule id: packets and bytes of the connections it allowed */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BPFLET_POL_RULES);
	__type(key, __u32);
	__type(value, struct bpflet_counter_val);
} bl_polcnt_v1 SEC(".maps");

/* rule id → name; written by the agent, never read per packet */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFLET_POL_RULES);
	__type(key, __u32);
	__type(value, struct bpflet_pol_name);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bl_polname_v1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, BPFLET_POL_EV_BYTES);
} bl_polev_v1 SEC(".maps");

/* idle time after which a policy conntrack entry no longer vouches for a packet */
#define POLCT_TCP_IDLE_NS   (24ull * 3600 * 1000000000ull)
#define POLCT_OTHER_IDLE_NS (180ull * 1000000000ull)

static __always_inline void polct_key(struct bpflet_polct_key *k, __be32 saddr, __be32 daddr,
				      __be16 sport, __be16 dport, __u8 proto, __u8 hook)
{
	k->saddr = saddr;
	k->daddr = daddr;
	k->sport = sport;
	k->dport = dport;
	k->proto = proto;
	k->hook = hook;
	k->pad = 0;
}

static __always_inline void pol_count_rule(__u32 rule_id, __u32 len)
{
	struct bpflet_counter_val *c;

	if (!rule_id)
		return;
	c = bpf_map_lookup_elem(&bl_polcnt_v1, &rule_id);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

/* One question to the rules, for a connection without a policy conntrack entry. */
struct pol_ask {
	struct bpflet_polct_key own;   /* entry for this hook (if has_own) */
	struct bpflet_polct_key reply; /* entry for the hook the replies reach */
	__be32 ep;		       /* the local pod whose rules decide */
	__be32 peer;		       /* the other end (the backend for a Service flow) */
	__be16 port;		       /* destination port the rules are asked about */
	__u8 dir;		       /* enum bpflet_pol_dir */
	__u8 has_own;
	__u32 epf; /* the endpoint's BPFLET_POL_EP_* flags */
	/* scratch for the lookups and entries, off the stack */
	struct bpflet_ipcache_key ik;
	struct bpflet_pol_key rk;
	struct bpflet_polct_val ct;
	struct bpflet_ct_key ck;
	struct bpflet_ct_val cv;
};

/* The rules of a's endpoint for its peer: the peer's identity, then the wildcard
 * row. Returns the allowing rule id, or 0 for a deny. */
static __noinline __u32 pol_rules_allow(struct pol_ask *a, __u32 proto, __u32 *peer_id)
{
	struct bpflet_ipcache_val *iv;
	struct bpflet_pol_val *v;

	a->ik.prefixlen = 32;
	a->ik.addr = a->peer;
	iv = bpf_map_lookup_elem(&bl_ipc_v1, &a->ik);
	a->rk.prefixlen = BPFLET_POL_PLEN_FULL;
	a->rk.ep_addr = a->ep;
	a->rk.peer_id = iv ? iv->id : BPFLET_POL_PEER_ANY;
	a->rk.dir = a->dir;
	a->rk.proto = (__u8)proto;
	a->rk.port = a->port;
	*peer_id = a->rk.peer_id;
	v = bpf_map_lookup_elem(&bl_pol_v1, &a->rk);
	if (!v && a->rk.peer_id != BPFLET_POL_PEER_ANY) {
		a->rk.peer_id = BPFLET_POL_PEER_ANY;
		v = bpf_map_lookup_elem(&bl_pol_v1, &a->rk);
	}
	return v ? (v->rule_id ? v->rule_id : 1) : 0;
}

static __noinline void pol_event(const struct pkt *p, __u32 dir_verdict, __u32 rule_id,
				 __u32 ifindex, __u32 peer_id)
{
	struct bpflet_pol_event *e = bpf_ringbuf_reserve(&bl_polev_v1, sizeof(*e), 0);

	if (!e)
		return; /* a full ring loses the event, never the verdict */
	e->ts_ns = bpf_ktime_get_ns();
	e->saddr = p->saddr;
	e->daddr = p->daddr;
	e->sport = p->sport;
	e->dport = p->dport;
	e->proto = p->proto;
	e->dir = (__u8)(dir_verdict >> 8);
	e->verdict = (__u8)dir_verdict;
	e->pad = 0;
	e->rule_id = rule_id;
	e->ifindex = ifindex;
	e->peer_id = peer_id;
	e->pad2 = 0;
	bpf_ringbuf_submit(e, 0);
}

static __always_inline bool polct_fresh(const struct bpflet_polct_val *v, __u8 proto, __u64 now)
{
	__u64 idle = proto == IPPROTO_TCP ? POLCT_TCP_IDLE_NS : POLCT_OTHER_IDLE_NS;

	return now - v->last_seen_ns <= idle;
}

/* A TCP SYN opens a connection anew: it is always judged by the rules, so a tuple
 * reused after a policy change gets the new verdict. */
static __always_inline bool opens_connection(const struct pkt *p)
{
	return p->proto == IPPROTO_TCP && (p->tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN;
}

/* An established entry for this tuple at this hook: count it, keep it fresh. */
static __always_inline bool polct_follow(const struct bpflet_polct_key *k, const struct pkt *p,
					 __u32 len)
{
	struct bpflet_polct_val *v;
	__u64 now;

	if (opens_connection(p))
		return false;
	v = bpf_map_lookup_elem(&bl_polct_v1, k);
	if (!v)
		return false;
	now = coarse_now();
	if (!polct_fresh(v, p->proto, now))
		return false;
	if (now - v->last_seen_ns > 1000000000ull)
		v->last_seen_ns = now;
	pol_count_rule(v->rule_id, len);
	return true;
}

static __always_inline void polct_put(struct bpflet_polct_val *v, const struct bpflet_polct_key *k,
				      __u32 rule_id, __u32 flags)
{
	v->last_seen_ns = coarse_now();
	v->rule_id = rule_id;
	v->flags = flags;
	/* a full map evicts the least recent entry (LRU); a failure only costs a lookup
	 * of the rules for the next packet */
	bpf_map_update_elem(&bl_polct_v1, k, v, BPF_ANY);
}

/*
 * The verdict for what a pod sends, as a pass entry of the Service conntrack keyed by
 * the tuple as tc_pod sees it. A reply entry never replaces a Service flow's own entry
 * for the same tuple (the backend's side of a translated flow); the GC ages pass
 * entries like any other, by protocol and TCP state.
 */
static __always_inline void pol_put_pass(struct pol_ask *a, const struct bpflet_polct_key *k,
					 __u32 rule_id, __u8 tcp_bits, bool reply)
{
	struct bpflet_ct_val *v = &a->cv;

	ct_key_of(&a->ck, k->saddr, k->daddr, k->sport, k->dport, k->proto);
	__builtin_memset(v, 0, sizeof(*v));
	v->nat_addr.addr[0] = k->daddr; /* identity: nothing to translate */
	v->nat_port = k->dport;
	v->dir = BPFLET_CT_FORWARD;
	v->backend_id = rule_id;
	v->flags = tcp_bits;
	v->created_ns = v->last_seen_ns = coarse_now();
	/* full: the next packet asks the rules again */
	ct_insert(&a->ck, v, reply ? BPF_NOEXIST : BPF_ANY);
}

static __always_inline void pol_put(struct pol_ask *a, const struct pkt *p,
				    const struct bpflet_polct_key *k, __u32 rule_id, __u32 flags)
{
	bool reply = flags & BPFLET_POLCT_F_REPLY;

	if (k->hook == BPFLET_POL_HOOK_FROM_POD)
		pol_put_pass(a, k, rule_id, reply ? 0 : ct_tcp_bits(p->tcp_flags), reply);
	else
		polct_put(&a->ct, k, rule_id, flags);
}

/*
 * tc_pod found a pass entry for the packet's tuple: the flow's verdict. A TCP SYN
 * opens the tuple anew and is judged again (false; the entry is gone).
 */
static __always_inline bool pol_pass_follow(struct __sk_buff *skb, const struct pkt *p,
					    struct bpflet_ct_val *ct, const struct bpflet_ct_key *k)
{
	if (opens_connection(p)) {
		ct_remove(k);
		return false;
	}
	ct_touch(ct, p);
	/* the client's first ACK ends the handshake: established, for the GC's timeouts
	 * (the SYN-ACK is seen by the entry for the other way, when there is one) */
	if (p->proto == IPPROTO_TCP && (p->tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_ACK &&
	    !(ct->flags & BPFLET_CT_F_SYNACK_SEEN))
		ct->flags |= BPFLET_CT_F_SYNACK_SEEN;
	pol_count_rule(ct->backend_id, skb->len);
	return true;
}

enum pol_result { POL_PASS, POL_DROP };

/* Per-CPU room for the question: the pod program's own stack is nearly full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pol_ask);
} bl_polscratch SEC(".maps");

static __always_inline struct pol_ask *pol_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&bl_polscratch, &zero);
}

/*
 * The verdict of a's endpoint. On allow, a->own is written when asked for and
 * a->reply when the endpoint is isolated in the replies' direction (otherwise no
 * rule there would stop them).
 */
static __noinline int pol_decide(struct __sk_buff *skb, const struct pkt *p, struct pol_ask *a)
{
	__u32 isolated = a->dir == BPFLET_POL_INGRESS ? BPFLET_POL_EP_ISOLATED_INGRESS
						      : BPFLET_POL_EP_ISOLATED_EGRESS;
	__u32 reply_isolated = a->dir == BPFLET_POL_INGRESS ? BPFLET_POL_EP_ISOLATED_EGRESS
							    : BPFLET_POL_EP_ISOLATED_INGRESS;
	__u32 rule_id = 0, peer_id = 0, flags = 0;

	if (a->epf & isolated) {
		rule_id = pol_rules_allow(a, p->proto, &peer_id);
		mon_policy(a->dir, a->peer, a->port, rule_id, policy_audit);
		if (!rule_id) {
			__u32 verdict = policy_audit ? BPFLET_POL_AUDIT : BPFLET_POL_DENY;

			pol_event(p, ((__u32)a->dir << 8) | verdict, 0, skb->ifindex, peer_id);
			if (!policy_audit) {
				count(skb, BPFLET_CNT_DROP_POLICY);
				return POL_DROP;
			}
			count(skb, BPFLET_CNT_POLICY_AUDIT);
			flags = BPFLET_POLCT_F_AUDIT;
		} else if (policy_allow_events) {
			pol_event(p, ((__u32)a->dir << 8) | BPFLET_POL_ALLOW, rule_id, skb->ifindex,
				  peer_id);
		}
	}
	pol_count_rule(rule_id, skb->len);
	if (a->has_own)
		pol_put(a, p, &a->own, rule_id, flags);
	if (a->epf & reply_isolated)
		pol_put(a, p, &a->reply, rule_id, flags | BPFLET_POLCT_F_REPLY);
	return POL_PASS;
}

static __always_inline __u32 pol_ep_flags(__be32 addr)
{
	struct bpflet_pol_ep *e = bpf_map_lookup_elem(&bl_polep_v1, &addr);

	return e ? e->flags : 0;
}

/*
 * tc_pod, a packet the pod sends that is not Service traffic and has no pass entry:
 * the pod's egress rules for its destination. Replies reach tc_pod_to with the tuple
 * reversed.
 */
static __always_inline int pol_from_pod(struct __sk_buff *skb, const struct pkt *p)
{
	struct pol_ask *a;
	__u32 epf = pol_ep_flags(p->saddr);

	if (!epf || !(a = pol_scratch()))
		return POL_PASS;
	a->epf = epf;
	polct_key(&a->own, p->saddr, p->daddr, p->sport, p->dport, p->proto,
		  BPFLET_POL_HOOK_FROM_POD);
	polct_key(&a->reply, p->daddr, p->saddr, p->dport, p->sport, p->proto,
		  BPFLET_POL_HOOK_TO_POD);
	a->ep = p->saddr;
	a->peer = p->daddr;
	a->port = p->dport;
	a->dir = BPFLET_POL_EGRESS;
	a->has_own = 1;
	return pol_decide(skb, p, a);
}

/*
 * tc_pod, a new Service flow: the pod's egress rules for the chosen backend. The
 * replies reach the pod from the frontend, so that is their entry's tuple; later
 * packets of the flow follow the Service conntrack and need no entry of their own.
 */
static __always_inline int pol_from_pod_service(struct __sk_buff *skb, const struct pkt *p,
						__be32 backend, __be16 backend_port)
{
	struct pol_ask *a;
	__u32 epf = pol_ep_flags(p->saddr);

	if (!epf || !(a = pol_scratch()))
		return POL_PASS;
	a->epf = epf;
	polct_key(&a->own, 0, 0, 0, 0, 0, 0);
	polct_key(&a->reply, p->daddr, p->saddr, p->dport, p->sport, p->proto,
		  BPFLET_POL_HOOK_TO_POD);
	a->ep = p->saddr;
	a->peer = backend;
	a->port = backend_port;
	a->dir = BPFLET_POL_EGRESS;
	a->has_own = 0;
	return pol_decide(skb, p, a);
}

/*
 * tc_pod_to: the pod's ingress rules for a packet delivered to it. Traffic the node
 * itself sends (kubelet probes; no ingress device) is always allowed, and a hairpin
 * flow's peer is the pod itself.
 */
static __always_inline int pol_to_pod(struct __sk_buff *skb, const struct pkt *p,
				      __be32 hairpin_addr)
{
	struct bpflet_polct_key own;
	struct pol_ask *a;
	__u32 epf = pol_ep_flags(p->daddr);

	if (!epf)
		return POL_PASS;
	/* the established path first, its key on the stack: one lookup */
	polct_key(&own, p->saddr, p->daddr, p->sport, p->dport, p->proto, BPFLET_POL_HOOK_TO_POD);
	if (polct_follow(&own, p, skb->len) || !(a = pol_scratch()))
		return POL_PASS;
	/* from the node: allowed whatever the ingress rules say, but its replies still
	 * need their entry when the pod's egress is isolated */
	if (skb->ingress_ifindex == 0)
		epf &= ~BPFLET_POL_EP_ISOLATED_INGRESS;
	a->epf = epf;
	a->own = own;
	polct_key(&a->reply, p->daddr, p->saddr, p->dport, p->sport, p->proto,
		  BPFLET_POL_HOOK_FROM_POD);
	a->ep = p->daddr;
	a->peer = p->saddr == hairpin_addr ? p->daddr : p->saddr;
	a->port = p->dport;
	a->dir = BPFLET_POL_INGRESS;
	a->has_own = 1;
	return pol_decide(skb, p, a);
}

/* SCTP carries its ports where TCP and UDP do; the rest of its header is not needed. */
static __always_inline bool parse_sctp_ports(struct __sk_buff *skb, struct pkt *p)
{
	__be16 ports[2];

	if (p->proto != IPPROTO_SCTP ||
	    bpf_skb_load_bytes(skb, p->l4_off, ports, sizeof(ports)) < 0)
		return false;
	p->sport = ports[0];
	p->dport = ports[1];
	p->tcp_flags = 0;
	return true;
}

#endif
