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

static __always_inline int icmp_error_nat(struct __sk_buff *skb, const struct pkt *p)
{
	void *data, *end, *l4;
	struct iphdr *ip, *in;
	__u8 *icmp;
	__u16 *icmp_check, *l4_check = NULL, c, old_l4c = 0, new_l4c = 0, old_ipc;
	__u32 iihl, pull = skb->len < ICMP_ERR_PULL_LEN ? skb->len : ICMP_ERR_PULL_LEN;
	struct bpflet_ct_key k;
	struct bpflet_ct_val *ct;
	__be32 *addr, old_a, new_a;
	__be16 *port, old_p, new_p;
	bool reply;

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
	if (!ct || (ct->flags & BPFLET_CT_F_HAIRPIN) || ct_is_pass(ct))
		return ICMP_ERR_NONE;
	/* REPLY entry: the quote is client → backend, from the backend's side: its
	 * destination becomes the VIP. FORWARD entry: the quote is VIP → client, from
	 * the client's side: its source becomes the backend. */
	reply = ct->dir == BPFLET_CT_REPLY;
	addr = reply ? &in->daddr : &in->saddr;
	port = reply ? (__be16 *)l4 + 1 : (__be16 *)l4;
	old_a = *addr;
	old_p = *port;
	new_a = ct->nat_addr.addr[0];
	new_p = ct->nat_port;
	if (in->protocol == IPPROTO_UDP)
		l4_check = (__u16 *)(l4 + 6);
	else if (l4 + 18 <= end)
		l4_check = (__u16 *)(l4 + 16); /* quoted only when the error carries it */
	icmp_check = (__u16 *)(icmp + 2);

	/* quoted headers and their checksums */
	old_ipc = in->check;
	in->check = csum_update32(in->check, old_a, new_a);
	*addr = new_a;
	*port = new_p;
	if (l4_check && !(in->protocol == IPPROTO_UDP && *l4_check == 0)) {
		old_l4c = *l4_check;
		c = csum_update32(old_l4c, old_a, new_a);
		c = csum_update16(c, old_p, new_p);
		if (in->protocol == IPPROTO_UDP && c == 0)
			c = 0xffff;
		*l4_check = new_l4c = c;
	}
	/* the ICMP checksum covers every quoted byte changed above */
	c = csum_update32(*icmp_check, old_a, new_a);
	c = csum_update16(c, old_p, new_p);
	c = csum_update16(c, old_ipc, in->check);
	if (old_l4c != new_l4c)
		c = csum_update16(c, old_l4c, new_l4c);
	*icmp_check = c;
	/* the outer header: from the backend it now comes from the VIP; a client's error
	 * goes on to the backend. Routers on the way keep their own address. */
	if (reply && ip->saddr == old_a) {
		ip->check = csum_update32(ip->check, ip->saddr, new_a);
		ip->saddr = new_a;
	} else if (!reply && ip->daddr == old_a) {
		ip->check = csum_update32(ip->check, ip->daddr, new_a);
		ip->daddr = new_a;
	}
	ct_touch(ct, p);
	return ICMP_ERR_DONE;
}

#endif
