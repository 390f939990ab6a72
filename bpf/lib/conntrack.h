/* Conntrack: one entry per direction, keyed by the tuple exactly as it is on the wire. */
#ifndef BPFLET_BPF_CONNTRACK_H
#define BPFLET_BPF_CONNTRACK_H

#include "lib/clock.h"
#include "lib/maps.h"
#include "lib/parse.h"

#include <bpflet/ct_peer.h>

/* refresh last_seen at most this often: one write per second, not per packet */
#define CT_TOUCH_NS 1000000000ull

static __always_inline void ct_key_of(struct bpflet_ct_key *k, __be32 saddr, __be32 daddr,
				      __be16 sport, __be16 dport, __u8 proto)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->saddr.addr[0] = saddr;
	k->daddr.addr[0] = daddr;
	k->sport = sport;
	k->dport = dport;
	k->proto = proto;
	k->family = BPFLET_AF_INET;
}

/* A NetworkPolicy pass entry (lib/policy.h): a direct flow's verdict, nothing to
 * translate. Service entries always carry their svc_id (>= 1). */
static __always_inline bool ct_is_pass(const struct bpflet_ct_val *v)
{
	return v->svc_id == 0 && v->dir == BPFLET_CT_FORWARD;
}

static __always_inline struct bpflet_ct_val *ct_lookup(const struct bpflet_ct_key *k)
{
	struct bpflet_ct_val *v;

	/* two call sites, one map each, so the verifier inlines both lookups; the
	 * empty asm keeps clang from merging them into one call on a chosen map */
	if (k->proto == IPPROTO_TCP) {
		v = bpf_map_lookup_elem(&bl_ct_tcp_v2, k);
		asm volatile("" ::: "memory");
		return v;
	}
	return bpf_map_lookup_elem(&bl_ct_any_v2, k);
}

static __always_inline long ct_insert(const struct bpflet_ct_key *k, const struct bpflet_ct_val *v,
				      __u64 flags)
{
	if (k->proto == IPPROTO_TCP)
		return bpf_map_update_elem(&bl_ct_tcp_v2, k, v, flags);
	return bpf_map_update_elem(&bl_ct_any_v2, k, v, flags);
}

static __always_inline void ct_remove(const struct bpflet_ct_key *k)
{
	if (k->proto == IPPROTO_TCP)
		bpf_map_delete_elem(&bl_ct_tcp_v2, k);
	else
		bpf_map_delete_elem(&bl_ct_any_v2, k);
}

static __always_inline __u8 ct_tcp_bits(__u8 tcp_flags)
{
	__u8 b = 0;

	if (tcp_flags & TCPF_SYN)
		b |= (tcp_flags & TCPF_ACK) ? BPFLET_CT_F_SYNACK_SEEN : BPFLET_CT_F_SYN_SEEN;
	if (tcp_flags & TCPF_FIN)
		b |= BPFLET_CT_F_FIN_SEEN;
	if (tcp_flags & TCPF_RST)
		b |= BPFLET_CT_F_RST_SEEN;
	return b;
}

/* Keep the entry's age and TCP state current with as few writes as possible. */
static __always_inline void ct_touch(struct bpflet_ct_val *v, const struct pkt *p)
{
	__u64 now = coarse_now();
	__u8 bits = ct_tcp_bits(p->tcp_flags);

	if (now - v->last_seen_ns > CT_TOUCH_NS)
		v->last_seen_ns = now;
	if ((v->flags | bits) != v->flags)
		v->flags |= bits; /* racy OR of monotonic bits: a lost bit is re-set by the next
				     packet */
}

#endif
