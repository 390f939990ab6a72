/* IPv4 fragments: the first one carries the L4 header and is translated like any packet
 * (an incremental checksum update is right for the whole datagram's checksum); its ports
 * are remembered by {addresses, id, protocol} so the later fragments can find the flow's
 * conntrack entry and get the same address rewrite. */
#ifndef BPFLET_BPF_FRAG_H
#define BPFLET_BPF_FRAG_H

#include "lib/conntrack.h"
#include "lib/csum.h"
#include "lib/maps.h"
#include "lib/nat.h"
#include "lib/parse.h"

enum frag_result {
	FRAG_PASS,   /* not for us: count and pass */
	FRAG_FIRST,  /* first fragment: p has ports now, take the normal path */
	FRAG_FOLLOW, /* later fragment of a known datagram: p has its ports */
	FRAG_EARLY,  /* later fragment whose first has not been seen (yet) */
};

/* The frame's fragment (parse_frame said PARSE_FRAGMENT): a first one's ports go into
 * p and are remembered; a later one gets the ports its first left. TC and XDP. */
static __always_inline int frag_note(void *data, void *end, struct pkt *p)
{
	struct iphdr *ip = data + ETH_HLEN;
	struct bpflet_frag_key fk = {};
	struct bpflet_frag_val fv = {}, *known;
	__u8 *l4;

	if ((void *)(ip + 1) > end || (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP))
		return FRAG_PASS;
	fk.saddr.addr[0] = p->saddr;
	fk.daddr.addr[0] = p->daddr;
	fk.id = ip->id;
	fk.proto = p->proto;
	fk.family = BPFLET_AF_INET;
	if (ip->frag_off & bpf_htons(IP_OFFSET)) {
		known = bpf_map_lookup_elem(&bl_frag_v1, &fk);
		if (!known)
			return FRAG_EARLY;
		p->sport = known->sport;
		p->dport = known->dport;
		p->tcp_flags = 0;
		return FRAG_FOLLOW;
	}
	if (p->ihl < 20 || p->ihl > 60)
		return FRAG_PASS;
	l4 = (void *)ip + p->ihl;
	if (l4 + (p->proto == IPPROTO_TCP ? 20 : 8) > (__u8 *)end)
		return FRAG_PASS; /* a first fragment too short for its header */
	p->l4_off = ETH_HLEN + p->ihl;
	p->sport = ((__be16 *)l4)[0];
	p->dport = ((__be16 *)l4)[1];
	p->tcp_flags = p->proto == IPPROTO_TCP ? l4[13] : 0;
	fv.sport = p->sport;
	fv.dport = p->dport;
	bpf_map_update_elem(&bl_frag_v1, &fk, &fv, BPF_ANY);
	return FRAG_FIRST;
}

static __always_inline int frag_prepare(struct __sk_buff *skb, struct pkt *p)
{
	return frag_note((void *)(long)skb->data, (void *)(long)skb->data_end, p);
}

/* Rewrites one IPv4 address of a later fragment (no L4 header): IP checksum only. */
static __always_inline int frag_rewrite_addr(struct __sk_buff *skb, bool src, __be32 to)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	__be32 *a;

	if ((void *)(ip + 1) > end)
		return -1;
	a = src ? &ip->saddr : &ip->daddr;
	ip->check = csum_update32(ip->check, *a, to);
	*a = to;
	return 0;
}

/* A later fragment: the address rewrite its flow's conntrack entry says, or pass. */
static __always_inline int frag_follow(struct __sk_buff *skb, struct pkt *p, bool *translated)
{
	struct bpflet_ct_key k;
	struct bpflet_ct_val *ct;
	bool fwd, hairpin;
	int err;

	*translated = false;
	ct_key_of(&k, p->saddr, p->daddr, p->sport, p->dport, p->proto);
	ct = ct_lookup(&k);
	if (!ct || ct_is_pass(ct))
		return 0;
	fwd = ct->dir == BPFLET_CT_FORWARD;
	hairpin = ct->flags & BPFLET_CT_F_HAIRPIN;
	/* forward: destination → backend (source → hairpin address); reply: source →
	 * VIP (destination → the original client) */
	err = frag_rewrite_addr(skb, !fwd, ct->nat_addr.addr[0]);
	if (!err && hairpin)
		err = frag_rewrite_addr(skb, fwd, ct->hairpin_addr.addr[0]);
	*translated = !err;
	return err;
}

#endif
