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

static __always_inline int icmp_error_nat(struct __sk_buff *skb, const struct pkt *p)
{
	void *data, *end, *l4;
	struct iphdr *ip, *in;
	__u8 *icmp;
	__u32 iihl, pull = skb->len < ICMP_ERR_PULL_LEN ? skb->len : ICMP_ERR_PULL_LEN;
	struct icmp_quote q;
	struct bpflet_ct_key k;
	struct bpflet_ct_val *ct;
	__be32 *addr, *other, old_a, old_b;
	__be16 *port;
	bool reply, hairpin;

	if (p->proto != IPPROTO_ICMP)
		return ICMP_ERR_NONE;
	if ((__u32)(skb->data_end - skb->data) < pull)
		bpf_skb_pull_data(skb, pull);
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	ip = data + ETH_HLEN;
	if ((void *)(ip + 1) > end || p->ihl < 20 || p->ihl > 60)
		return ICMP_ERR_NONE;
	icmp = (void *)ip + p->ihl;
	if ((void *)(icmp + 8) > end)
		return ICMP_ERR_NONE;
	if (icmp[0] != ICMP_DEST_UNREACH && icmp[0] != ICMP_TIME_EXCEEDED &&
	    icmp[0] != ICMP_PARAMETERPROB)
		return ICMP_ERR_NONE;
	in = (void *)(icmp + 8);
	if ((void *)(in + 1) > end || in->version != 4 || in->ihl < 5)
		return ICMP_ERR_NONE;
	if (in->protocol != IPPROTO_TCP && in->protocol != IPPROTO_UDP)
		return ICMP_ERR_NONE;
	iihl = in->ihl * 4;
	l4 = (void *)in + iihl;
	if (l4 + 8 > end)
		return ICMP_ERR_NONE;
	/* the quoted packet went is → id; its flow's entry for the other way is id → is */
	ct_key_of(&k, in->daddr, in->saddr, ((__be16 *)l4)[1], ((__be16 *)l4)[0], in->protocol);
	ct = ct_lookup(&k);
	if (!ct)
		return ICMP_ERR_NONE;
	/* REPLY entry: the quote is client → backend, from the backend's side: its
	 * destination becomes the VIP. FORWARD entry: the quote is VIP → client, from
	 * the client's side: its source becomes the backend. A hairpin flow's other
	 * address changes too: the hairpin address in the backend's quote is the client,
	 * and the client in its own quote of a reply was the hairpin address. */
	reply = ct->dir == BPFLET_CT_REPLY;
	hairpin = ct->flags & BPFLET_CT_F_HAIRPIN;
	q.icmp = icmp;
	q.in = in;
	q.l4_check = NULL;
	if (in->protocol == IPPROTO_UDP)
		q.l4_check = (__u16 *)(l4 + 6);
	else if (l4 + 18 <= end)
		q.l4_check = (__u16 *)(l4 + 16); /* quoted only when the error carries it */
	addr = reply ? &in->daddr : &in->saddr;
	port = reply ? (__be16 *)l4 + 1 : (__be16 *)l4;
	other = reply ? &in->saddr : &in->daddr;
	old_a = *addr;
	old_b = *other;
	quote_rewrite(&q, addr, ct->nat_addr.addr[0], port, ct->nat_port);
	if (hairpin) /* the other side's port stays: hairpin SNAT keeps it */
		quote_rewrite(&q, other, ct->hairpin_addr.addr[0],
			      reply ? (__be16 *)l4 : (__be16 *)l4 + 1,
			      reply ? ((__be16 *)l4)[0] : ((__be16 *)l4)[1]);
	/* the outer header: from the backend it now comes from the VIP; a client's error
	 * goes on to the backend. Routers on the way keep their own address. */
	outer_rewrite(ip, reply ? &ip->saddr : &ip->daddr, old_a, ct->nat_addr.addr[0]);
	if (hairpin)
		outer_rewrite(ip, reply ? &ip->daddr : &ip->saddr, old_b, ct->hairpin_addr.addr[0]);
	ct_touch(ct, p);
	return ICMP_ERR_DONE;
}

#endif
