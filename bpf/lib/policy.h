/*
 * NetworkPolicy enforcement (headers/bpflet/policy_abi.h), shared by the pod's two
 * hooks: tc_pod checks what a pod sends (its egress, after the Service translation, so
 * the peer is the real backend) and tc_pod_to what is delivered to it (its ingress).
 * The rules are read only for a connection without a verdict yet; an allowed one
 * leaves entries for itself and for its replies. What a pod sends keeps its verdict in
 * the Service conntrack (a pass entry, see ct_is_pass), which tc_pod looks up first
 * anyway: an established flow of an isolated pod costs that one lookup, and skips the
 * frontend lookups a flow of a pod without policy still pays. What a pod receives keeps
 * its verdict in the policy conntrack of tc_pod_to; between two pods of this node the
 * sender's conntrack entry carries a copy (pol_to) that tc_pod hands to tc_pod_to with
 * the packet, so that hook looks nothing up (pol_handoff_*).
 *
 * A new connection costs a fixed number of hash lookups whatever the rule count: the
 * endpoint, the peer's /32 (the ipBlock trie only on a miss), then one exact lookup per
 * prefix class the endpoint lists, for the peer and then the wildcard row.
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

/* ipcache, /32s: every pod IP (asked first: a /32 is the longest match) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFLET_MAX_IPCACHE);
	__type(key, __be32);
	__type(value, struct bpflet_ipcache_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bl_ipch_v1 SEC(".maps");

/* ipcache, shorter prefixes: ipBlocks and 0.0.0.0/0 */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BPFLET_MAX_IPCACHE_CIDR);
	__type(key, struct bpflet_ipcache_key);
	__type(value, struct bpflet_ipcache_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bl_ipc_v2 SEC(".maps");

/* allow entries: one exact lookup per prefix class the endpoint uses */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFLET_MAX_POLICY);
	__type(key, struct bpflet_pol_key);
	__type(value, struct bpflet_pol_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bl_pol_v2 SEC(".maps");

/* isolated pods: flags and the prefix classes of their entries */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFLET_MAX_POL_EP);
	__type(key, __be32);
	__type(value, struct bpflet_pol_ep);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bl_polep_v2 SEC(".maps");

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

/*
 * The hand-off from tc_pod to tc_pod_to of the same CPU: a packet between two pods of
 * this node passes both hooks in one go (veth ingress, forwarding, the other veth's
 * egress). For a flow's later packets tc_pod writes the tuple (as translated) and the
 * verdict its conntrack entry records for the destination (pol_to); tc_pod_to takes it
 * for that tuple instead of its two lookups. That says no more than the destination's
 * policy conntrack entry for the same tuple, which is where pol_to was copied from, so
 * a stale slot only ever matches packets of a connection that was allowed.
 * For a flow's first packet tc_pod leaves a note instead: which entry it just made
 * (for tc_pod_to to copy its verdict into) and the verdict its own tc_pod_to keeps for
 * the replies (for the replies' pass entry). A first packet from another node finds
 * no note and costs tc_pod_to no conntrack lookup.
 */
struct pol_handoff {
	__be32 saddr, daddr; /* the tuple tc_pod_to sees */
	__be16 sport, dport;
	__u8 proto;
	__u8 note;	 /* 1: a new flow's note; 0: a verdict */
	__u16 reply_to;	 /* note: pol_to for the replies' pass entry */
	__u32 rule_id;	 /* verdict: the rule tc_pod_to counts */
	__be32 ct_daddr; /* note: the entry's destination (before translation) */
	__be16 ct_dport;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pol_handoff);
} bl_polho SEC(".maps");

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
	__u32 epf;	  /* the endpoint's BPFLET_POL_EP_* flags */
	__u32 classes[2]; /* and its entries' prefix classes, by direction */
	__u16 reply_to;	  /* out: the replies' verdict at tc_pod_to as a pol_to (0: none) */
	/* scratch for the lookups and entries, off the stack */
	struct bpflet_ipcache_key ik;
	struct bpflet_pol_key rk;
	struct bpflet_polct_val ct;
	struct bpflet_ct_key ck;
	struct bpflet_ct_val cv;
};

/* The peer's identity: its /32, else the longest ipBlock prefix (0.0.0.0/0 names the
 * rest when any ipBlock exists), else the wildcard. */
static __always_inline __u32 pol_peer_id(struct pol_ask *a)
{
	struct bpflet_ipcache_val *iv = bpf_map_lookup_elem(&bl_ipch_v1, &a->peer);

	if (!iv) {
		a->ik.prefixlen = 32;
		a->ik.addr = a->peer;
		iv = bpf_map_lookup_elem(&bl_ipc_v2, &a->ik);
	}
	return iv ? iv->id : BPFLET_POL_PEER_ANY;
}

/* The entry of a's endpoint for peer, its classes longest first: the rule id, or 0. */
static __noinline __u32 pol_match(struct pol_ask *a, __u32 peer, __u32 proto)
{
	__u32 classes = a->classes[a->dir & 1];
	struct bpflet_pol_val *v;

	a->rk.ep_addr = a->ep;
	a->rk.peer_id = peer;
	a->rk.dir = a->dir;
	for (int c = BPFLET_POL_CLASSES - 1; c >= 0; c--) {
		if (!(classes & (1u << c)))
			continue;
		a->rk.prefixlen = bpflet_pol_class_plen(c);
		a->rk.proto = c ? (__u8)proto : 0;
		/* class 1 + n keeps the port's n high bits */
		a->rk.port = c > 1 ? a->port & bpf_htons((__u16)(0xffff0000u >> (c - 1))) : 0;
		v = bpf_map_lookup_elem(&bl_pol_v2, &a->rk);
		if (v)
			return v->rule_id ? v->rule_id : 1;
	}
	return 0;
}

/* The rules of a's endpoint for its peer: the peer's identity, then the wildcard
 * row. Returns the allowing rule id, or 0 for a deny. */
static __noinline __u32 pol_rules_allow(struct pol_ask *a, __u32 proto, __u32 *peer_id)
{
	__u32 id = pol_peer_id(a), rule_id;

	*peer_id = id;
	rule_id = pol_match(a, id, proto);
	if (!rule_id && id != BPFLET_POL_PEER_ANY)
		rule_id = pol_match(a, BPFLET_POL_PEER_ANY, proto);
	return rule_id;
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

/* A tc_pod_to verdict as a pass entry's pol_to (0: cannot be carried). */
static __always_inline __u16 pol_to_of(__u32 rule_id)
{
	if (!rule_id)
		return BPFLET_CT_POL_TO_NO_RULE;
	return rule_id < BPFLET_CT_POL_TO_NO_RULE ? (__u16)rule_id : BPFLET_CT_POL_TO_NONE;
}

/* Flows whose packets reach the other pod by the plain route, so both hooks see them
 * on one CPU: no hairpin, SNAT, DSR or north-south rewrite. */
#define POL_TO_SKIP                                                                                \
	(BPFLET_CT_F_HAIRPIN | BPFLET_CT_F_SNAT | BPFLET_CT_F_NORTH_SOUTH | BPFLET_CT_F_DSR)

static __always_inline struct pol_handoff *pol_handoff(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&bl_polho, &zero);
}

static __always_inline bool pol_handoff_is(const struct pol_handoff *h, __be32 saddr, __be32 daddr,
					   __be16 sport, __be16 dport, __u8 proto)
{
	return h->saddr == saddr && h->daddr == daddr && h->sport == sport && h->dport == dport &&
	       h->proto == proto;
}

/* The slot for p's tuple (NULL: none); note 0 is a verdict, 1 a new flow's note. */
static __always_inline struct pol_handoff *pol_handoff_set(const struct pkt *p, __u8 note)
{
	struct pol_handoff *h = pol_handoff();

	if (h) {
		h->saddr = p->saddr;
		h->daddr = p->daddr;
		h->sport = p->sport;
		h->dport = p->dport;
		h->proto = p->proto;
		h->note = note;
	}
	return h;
}

/*
 * tc_pod_to just kept a verdict for k: when tc_pod left a note for k, the conntrack
 * entry it made carries the verdict too (a direct flow's pass entry, or a Service
 * flow's forward entry keyed by the frontend).
 */
static __noinline void pol_to_stamp(struct pol_ask *a, const struct bpflet_polct_key *k,
				    __u32 rule_id)
{
	struct pol_handoff *h = pol_handoff();
	struct bpflet_ct_val *e;

	if (!h || !h->note || !pol_handoff_is(h, k->saddr, k->daddr, k->sport, k->dport, k->proto))
		return;
	ct_key_of(&a->ck, k->saddr, h->ct_daddr, k->sport, h->ct_dport, k->proto);
	e = ct_lookup(&a->ck);
	if (e && e->dir == BPFLET_CT_FORWARD && !(e->flags & POL_TO_SKIP) &&
	    e->nat_addr.addr[0] == k->daddr && e->nat_port == k->dport)
		e->pol_to = pol_to_of(rule_id);
}

static __always_inline void polct_put(struct pol_ask *a, const struct bpflet_polct_key *k,
				      __u32 rule_id, __u32 flags)
{
	struct bpflet_polct_val *v = &a->ct, *old;
	__u64 now = coarse_now();

	/* An entry for the replies never replaces a live verdict the rules gave that
	 * tuple: a reply judged as the other pod's new flow (its egress not isolated)
	 * would otherwise turn the connection's rule into 0. A stale one or an older
	 * reply entry is replaced, so replies of a reused tuple still pass. */
	if (flags & BPFLET_POLCT_F_REPLY) {
		old = bpf_map_lookup_elem(&bl_polct_v1, k);
		if (old && !(old->flags & BPFLET_POLCT_F_REPLY) && polct_fresh(old, k->proto, now))
			return;
	}
	v->last_seen_ns = now;
	v->rule_id = rule_id;
	v->flags = flags;
	/* a full map evicts the least recent entry (LRU); a failure only costs a lookup
	 * of the rules for the next packet */
	if (!bpf_map_update_elem(&bl_polct_v1, k, v, BPF_ANY) && !(flags & BPFLET_POLCT_F_REPLY))
		pol_to_stamp(a, k, rule_id);
}

/* The verdict the other pod's tc_pod_to keeps for k (a reply's tuple), from the note
 * its tc_pod left with the request. */
static __always_inline __u16 pol_note_reply_to(const struct bpflet_polct_key *k)
{
	struct pol_handoff *h = pol_handoff();

	if (!h || !h->note || !pol_handoff_is(h, k->daddr, k->saddr, k->dport, k->sport, k->proto))
		return BPFLET_CT_POL_TO_NONE;
	return h->reply_to;
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
	/* a reply's entry follows the request's: the other pod's tc_pod already left its
	 * verdict for the reply tuple; a new connection's own entry gets one when the
	 * destination's tc_pod_to allows its first packet (polct_put) */
	v->pol_to = reply ? pol_note_reply_to(k) : BPFLET_CT_POL_TO_NONE;
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
		polct_put(a, k, rule_id, flags);
}

static __always_inline void pol_handoff_put(const struct pkt *p, __u16 pol_to)
{
	struct pol_handoff *h = pol_handoff_set(p, 0);

	if (h)
		h->rule_id = pol_to == BPFLET_CT_POL_TO_NO_RULE ? 0 : pol_to;
}

/* tc_pod made an entry for p's new flow (destination ct_daddr:ct_dport before
 * translation; p as translated). */
static __noinline void pol_handoff_note(const struct pkt *p, __be32 ct_daddr, __u32 ct_dport,
					__u32 reply_to)
{
	struct pol_handoff *h = pol_handoff_set(p, 1);

	if (!h)
		return;
	h->reply_to = (__u16)reply_to;
	h->rule_id = 0;
	h->ct_daddr = ct_daddr;
	h->ct_dport = (__be16)ct_dport;
}

/* tc_pod_to: tc_pod handed this packet's tuple on with its verdict here. */
static __always_inline bool pol_handoff_take(const struct pkt *p, __u32 len)
{
	struct pol_handoff *h = pol_handoff();

	if (!h || h->note || !pol_handoff_is(h, p->saddr, p->daddr, p->sport, p->dport, p->proto) ||
	    opens_connection(p))
		return false;
	pol_count_rule(h->rule_id, len);
	return true;
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
	if (ct->pol_to)
		pol_handoff_put(p, ct->pol_to);
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
	a->reply_to = (a->epf & reply_isolated) && a->reply.hook == BPFLET_POL_HOOK_TO_POD
			      ? pol_to_of(rule_id)
			      : BPFLET_CT_POL_TO_NONE;
	if (a->epf & reply_isolated)
		pol_put(a, p, &a->reply, rule_id, flags | BPFLET_POLCT_F_REPLY);
	return POL_PASS;
}

static __always_inline struct bpflet_pol_ep *pol_ep(__be32 addr)
{
	return bpf_map_lookup_elem(&bl_polep_v2, &addr);
}

/* The endpoint's isolation and classes into a (e non-NULL). */
static __always_inline void pol_ask_ep(struct pol_ask *a, const struct bpflet_pol_ep *e)
{
	a->epf = e->flags;
	a->classes[0] = e->classes[0];
	a->classes[1] = e->classes[1];
}

/*
 * tc_pod, a packet the pod sends that is not Service traffic and has no pass entry:
 * the pod's egress rules for its destination. Replies reach tc_pod_to with the tuple
 * reversed.
 */
static __always_inline int pol_from_pod(struct __sk_buff *skb, const struct pkt *p)
{
	struct bpflet_pol_ep *e = pol_ep(p->saddr);
	struct pol_ask *a;

	if (!e || !e->flags || !(a = pol_scratch()))
		return POL_PASS;
	pol_ask_ep(a, e);
	polct_key(&a->own, p->saddr, p->daddr, p->sport, p->dport, p->proto,
		  BPFLET_POL_HOOK_FROM_POD);
	polct_key(&a->reply, p->daddr, p->saddr, p->dport, p->sport, p->proto,
		  BPFLET_POL_HOOK_TO_POD);
	a->ep = p->saddr;
	a->peer = p->daddr;
	a->port = p->dport;
	a->dir = BPFLET_POL_EGRESS;
	a->has_own = 1;
	if (pol_decide(skb, p, a) == POL_DROP)
		return POL_DROP;
	/* its pass entry is made: a pod of this node on the other end copies its verdict */
	pol_handoff_note(p, p->daddr, p->dport, a->reply_to);
	return POL_PASS;
}

/*
 * tc_pod, a new Service flow: the pod's egress rules for the chosen backend. The
 * replies reach the pod from the frontend, so that is their entry's tuple; later
 * packets of the flow follow the Service conntrack and need no entry of their own.
 * Returns -1 for a deny, else that entry's verdict as a pol_to (0: none) for the
 * flow's reply entry (a value, not an out-parameter: tc_pod's stack is full).
 */
static __always_inline int pol_from_pod_service(struct __sk_buff *skb, const struct pkt *p,
						__be32 backend, __be16 backend_port)
{
	struct bpflet_pol_ep *e = pol_ep(p->saddr);
	struct pol_ask *a;

	if (!e || !e->flags || !(a = pol_scratch()))
		return BPFLET_CT_POL_TO_NONE;
	pol_ask_ep(a, e);
	polct_key(&a->own, 0, 0, 0, 0, 0, 0);
	polct_key(&a->reply, p->daddr, p->saddr, p->dport, p->sport, p->proto,
		  BPFLET_POL_HOOK_TO_POD);
	a->ep = p->saddr;
	a->peer = backend;
	a->port = backend_port;
	a->dir = BPFLET_POL_EGRESS;
	a->has_own = 0;
	if (pol_decide(skb, p, a) == POL_DROP)
		return -1;
	return a->reply_to;
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
	struct bpflet_pol_ep *e;
	struct pol_ask *a;

	/* an established flow from a pod of this node: its tc_pod brought the verdict */
	if (pol_handoff_take(p, skb->len))
		return POL_PASS;
	e = pol_ep(p->daddr);
	if (!e || !e->flags)
		return POL_PASS;
	/* the established path first, its key on the stack: one lookup */
	polct_key(&own, p->saddr, p->daddr, p->sport, p->dport, p->proto, BPFLET_POL_HOOK_TO_POD);
	if (polct_follow(&own, p, skb->len) || !(a = pol_scratch()))
		return POL_PASS;
	/* from the node: allowed whatever the ingress rules say, but its replies still
	 * need their entry when the pod's egress is isolated */
	pol_ask_ep(a, e);
	if (skb->ingress_ifindex == 0)
		a->epf &= ~BPFLET_POL_EP_ISOLATED_INGRESS;
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
