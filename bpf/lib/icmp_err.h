/* ICMP errors about translated flows, translated back: a port unreachable or
 * frag-needed that a backend sends about a packet it got from a client quotes the
 * client → backend header, which the client's stack would not match to its socket
 * (it sent to the VIP). The quoted header and the outer source become the VIP again;
 * the mirror case (a client's error about a reply from the VIP) is sent on to the
 * backend. Checksums: outer IP, quoted IP, quoted L4 (when quoted) and ICMP. */
#ifndef BPFLET_BPF_ICMP_ERR_H
#define BPFLET_BPF_ICMP_ERR_H

#include "lib/conntrack.h"
#include "lib/csum.h"
#include "lib/parse.h"

/* ICMP types (RFC 792) that quote the packet they are about */
#define ICMP_DEST_UNREACH  3
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12

enum icmp_err_result {
	ICMP_ERR_NONE, /* not an error about a tracked flow: untouched */
	ICMP_ERR_DONE, /* translated */
};

/* Enough linear bytes for Ethernet, two IPv4 headers with options, ICMP and a TCP
 * header up to its checksum. */
#define ICMP_ERR_PULL_LEN (ETH_HLEN + 60 + 8 + 60 + 20)

/* The parts of an ICMP error whose checksums follow a change in its quote. */
struct icmp_quote {
	__u8 *icmp;
	struct iphdr *in;
	__u16 *l4_check; /* NULL when the quote stops before it */
};

/* One quoted address and its port change (the port may stay): the quoted IP and L4
 * checksums and the ICMP checksum, which covers every quoted byte, follow. */
static __always_inline void quote_rewrite(struct icmp_quote *q, __be32 *addr, __be32 new_a,
					  __be16 *port, __be16 new_p)
{
	__u16 *icmp_check = (__u16 *)(q->icmp + 2), c, old_l4c = 0, new_l4c = 0;
	__u16 old_ipc = q->in->check;
	bool udp = q->in->protocol == IPPROTO_UDP;
	__be32 old_a = *addr;
	__be16 old_p = *port;

	q->in->check = csum_update32(q->in->check, old_a, new_a);
	*addr = new_a;
	*port = new_p;
	if (q->l4_check && !(udp && *q->l4_check == 0)) {
		old_l4c = *q->l4_check;
		c = csum_update32(old_l4c, old_a, new_a);
		c = csum_update16(c, old_p, new_p);
		if (udp && c == 0)
			c = 0xffff;
		*q->l4_check = new_l4c = c;
	}
	c = csum_update32(*icmp_check, old_a, new_a);
	c = csum_update16(c, old_p, new_p);
	c = csum_update16(c, old_ipc, q->in->check);
	if (old_l4c != new_l4c)
		c = csum_update16(c, old_l4c, new_l4c);
	*icmp_check = c;
}

/* The outer header's address at a, when it is `was`, becomes `to`. */
static __always_inline void outer_rewrite(struct iphdr *ip, __be32 *a, __be32 was, __be32 to)
{
	if (*a != was)
		return;
	ip->check = csum_update32(ip->check, *a, to);
	*a = to;
}

/* The ICMP error in [data, end) (its outer header parsed into p): when it quotes a
 * packet of a translated flow, rewrites it as the receiver must see it and returns
 * the flow's entry; NULL leaves it untouched. TC and XDP. */
static __always_inline struct bpflet_ct_val *icmp_error_rewrite(void *data, void *end,
								const struct pkt *p)
{
	struct iphdr *ip = data + ETH_HLEN, *in;
	struct bpflet_ct_val *ct;
	struct icmp_quote q;
	struct bpflet_ct_key k;
	__be32 *addr, *other, old_a, old_b;
	__be16 *port, *oport;
	bool reply, second, snat;
	__u8 *icmp, *l4;
	__u32 iihl;

	if ((void *)(ip + 1) > end || p->ihl < 20 || p->ihl > 60)
		return NULL;
	icmp = (void *)ip + p->ihl;
	if ((void *)(icmp + 8) > end)
		return NULL;
	if (icmp[0] != ICMP_DEST_UNREACH && icmp[0] != ICMP_TIME_EXCEEDED &&
	    icmp[0] != ICMP_PARAMETERPROB)
		return NULL;
	in = (void *)(icmp + 8);
	if ((void *)(in + 1) > end || in->version != 4 || in->ihl < 5)
		return NULL;
	if (in->protocol != IPPROTO_TCP && in->protocol != IPPROTO_UDP)
		return NULL;
	iihl = in->ihl * 4;
	l4 = (void *)in + iihl;
	if ((void *)(l4 + 8) > end)
		return NULL;
	/* the quoted packet went is → id; its flow's entry for the other way is id → is */
	ct_key_of(&k, in->daddr, in->saddr, ((__be16 *)l4)[1], ((__be16 *)l4)[0], in->protocol);
	ct = ct_lookup(&k);
	if (!ct || ct_is_pass(ct)) /* a policy pass entry: nothing was translated */
		return NULL;
	/* REPLY entry: the quote is client → backend, from the backend's side: its
	 * destination becomes the VIP. FORWARD entry: the quote is VIP → client, from
	 * the client's side: its source becomes the backend. Under hairpin or SNAT the
	 * other address changes too: in the backend's quote the hairpin address (or this
	 * node) is the client, and the client in its own quote of a reply was the hairpin
	 * address (or this node); SNAT changes that side's port as well. */
	reply = ct->dir == BPFLET_CT_REPLY;
	snat = ct->flags & BPFLET_CT_F_SNAT;
	second = snat || (ct->flags & BPFLET_CT_F_HAIRPIN);
	q.icmp = icmp;
	q.in = in;
	q.l4_check = NULL;
	if (in->protocol == IPPROTO_UDP)
		q.l4_check = (__u16 *)(l4 + 6);
	else if ((void *)(l4 + 18) <= end)
		q.l4_check = (__u16 *)(l4 + 16); /* quoted only when the error carries it */
	addr = reply ? &in->daddr : &in->saddr;
	port = reply ? (__be16 *)l4 + 1 : (__be16 *)l4;
	other = reply ? &in->saddr : &in->daddr;
	oport = reply ? (__be16 *)l4 : (__be16 *)l4 + 1;
	old_a = *addr;
	old_b = *other;
	quote_rewrite(&q, addr, ct->nat_addr.addr[0], port, ct->nat_port);
	if (second)
		quote_rewrite(&q, other, ct->hairpin_addr.addr[0], oport,
			      snat ? ct->hairpin_port : *oport);
	/* the outer header: from the backend it now comes from the VIP; a client's error
	 * goes on to the backend. Routers on the way keep their own address. */
	outer_rewrite(ip, reply ? &ip->saddr : &ip->daddr, old_a, ct->nat_addr.addr[0]);
	if (second)
		outer_rewrite(ip, reply ? &ip->daddr : &ip->saddr, old_b, ct->hairpin_addr.addr[0]);
	return ct;
}

static __always_inline int icmp_error_nat(struct __sk_buff *skb, const struct pkt *p)
{
	__u32 pull = skb->len < ICMP_ERR_PULL_LEN ? skb->len : ICMP_ERR_PULL_LEN;
	struct bpflet_ct_val *ct;

	if (p->proto != IPPROTO_ICMP)
		return ICMP_ERR_NONE;
	if ((__u32)(skb->data_end - skb->data) < pull)
		bpf_skb_pull_data(skb, pull);
	ct = icmp_error_rewrite((void *)(long)skb->data, (void *)(long)skb->data_end, p);
	if (!ct)
		return ICMP_ERR_NONE;
	ct_touch(ct, p);
	return ICMP_ERR_DONE;
}

#endif
