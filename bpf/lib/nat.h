/* Address/port rewrites with IP and L4 checksum fixes through the kernel's helpers. */
#ifndef BPFLET_BPF_NAT_H
#define BPFLET_BPF_NAT_H

#include "lib/parse.h"

#include <linux/pkt_cls.h>
#include <stddef.h>

#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define IP_SRC_OFF  (ETH_HLEN + offsetof(struct iphdr, saddr))
#define IP_DST_OFF  (ETH_HLEN + offsetof(struct iphdr, daddr))

static __always_inline __u32 l4_csum_off(const struct pkt *p)
{
	return p->l4_off + (p->proto == IPPROTO_TCP ? offsetof(struct tcphdr, check)
						    : offsetof(struct udphdr, check));
}

/* UDP's "no checksum" (0) must stay 0; helpers keep it with MARK_MANGLED_0 */
static __always_inline __u64 l4_flags(const struct pkt *p)
{
	return p->proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
}

/* RFC 1624 incremental update of a 16-bit one's complement checksum for a 32-bit
 * field change; byte order does not matter as long as all words are raw. */
static __always_inline __u16 csum_update32(__u16 check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16) ~(from & 0xffff) + (__u16) ~(from >> 16) + (to & 0xffff) + (to >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Rewrite the IPv4 address at ip_off (source or destination) and the port at
 * port_off. The L4 checksum goes through the kernel's helper, which knows whether
 * the skb carries a full or a partial (offloaded) checksum; the IP header checksum
 * and the fields themselves are written directly, which is cheaper than helpers.
 * Returns 0 or -1. */
static __always_inline int rewrite(struct __sk_buff *skb, const struct pkt *p, __u32 ip_off,
				   __be32 old_ip, __be32 new_ip, __u32 port_off, __be16 old_port,
				   __be16 new_port)
{
	__u32 coff = l4_csum_off(p);
	__u64 fl = l4_flags(p);
	void *data, *end;
	struct iphdr *ip;

	if (old_ip != new_ip &&
	    bpf_l4_csum_replace(skb, coff, old_ip, new_ip, fl | BPF_F_PSEUDO_HDR | 4))
		return -1;
	if (old_port != new_port && bpf_l4_csum_replace(skb, coff, old_port, new_port, fl | 2))
		return -1;
	/* the helpers may have moved the data: derive pointers afresh */
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	ip = data + ETH_HLEN;
	if ((void *)(ip + 1) > end || port_off > ETH_HLEN + 60 + 2)
		return -1;
	if (data + port_off + sizeof(__be16) > end)
		return -1;
	if (old_ip != new_ip) {
		ip->check = csum_update32(ip->check, old_ip, new_ip);
		if (ip_off == IP_SRC_OFF)
			ip->saddr = new_ip;
		else
			ip->daddr = new_ip;
	}
	*(__be16 *)(data + port_off) = new_port;
	return 0;
}

static __always_inline int rewrite_dst(struct __sk_buff *skb, struct pkt *p, __be32 ip, __be16 port)
{
	int err = rewrite(skb, p, IP_DST_OFF, p->daddr, ip, p->l4_off + 2, p->dport, port);

	p->daddr = ip;
	p->dport = port;
	return err;
}

static __always_inline int rewrite_src(struct __sk_buff *skb, struct pkt *p, __be32 ip, __be16 port)
{
	int err = rewrite(skb, p, IP_SRC_OFF, p->saddr, ip, p->l4_off, p->sport, port);

	p->saddr = ip;
	p->sport = port;
	return err;
}

#endif
