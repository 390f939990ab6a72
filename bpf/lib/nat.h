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

/* Rewrite the IPv4 address at ip_off (source or destination) and the port at
 * port_off. Returns 0 or a negative helper error. */
static __always_inline int rewrite(struct __sk_buff *skb, const struct pkt *p, __u32 ip_off,
				   __be32 old_ip, __be32 new_ip, __u32 port_off, __be16 old_port,
				   __be16 new_port)
{
	__u32 coff = l4_csum_off(p);
	__u64 fl = l4_flags(p);

	if (old_ip != new_ip) {
		if (bpf_l4_csum_replace(skb, coff, old_ip, new_ip, fl | BPF_F_PSEUDO_HDR | 4) ||
		    bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_ip, new_ip, 4) ||
		    bpf_skb_store_bytes(skb, ip_off, &new_ip, 4, 0))
			return -1;
	}
	if (old_port != new_port) {
		if (bpf_l4_csum_replace(skb, coff, old_port, new_port, fl | 2) ||
		    bpf_skb_store_bytes(skb, port_off, &new_port, 2, 0))
			return -1;
	}
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
