/* Address/port rewrites with IP and L4 checksum fixes. */
#ifndef BPFLET_BPF_NAT_H
#define BPFLET_BPF_NAT_H

#include "lib/csum.h"
#include "lib/parse.h"

#include <bpf/bpf_core_read.h>
#include <linux/pkt_cls.h>
#include <stddef.h>

#define IP_SRC_OFF (ETH_HLEN + offsetof(struct iphdr, saddr))
#define IP_DST_OFF (ETH_HLEN + offsetof(struct iphdr, daddr))
/* the largest L4 offset parse_pkt lets through (a 60-byte IPv4 header) */
#define L4_OFF_MAX (ETH_HLEN + 60)

/* skb->ip_summed values (include/linux/skbuff.h) */
#define CHECKSUM_UNNECESSARY 1

/* Just the field we read, relocated against the running kernel's BTF (CO-RE). */
struct sk_buff {
	__u8 ip_summed : 2;
} __attribute__((preserve_access_index));

/* Inlined by the verifier into a register move: the kernel's view of the ctx. */
extern void *bpf_cast_to_kern_ctx(void *obj) __ksym __weak;

/* Tests set this to run the helper path that CHECKSUM_PARTIAL packets take. */
const volatile bool l4_csum_helpers_only = false;

static __always_inline __u32 l4_csum_off(const struct pkt *p)
{
	return p->l4_off + (p->proto == IPPROTO_TCP ? offsetof(struct tcphdr, check)
						    : offsetof(struct udphdr, check));
}

/* Whether the L4 checksum field holds a full checksum (CHECKSUM_NONE/UNNECESSARY),
 * which we may patch ourselves. A partial (offloaded) one must only follow the
 * pseudo header, and a CHECKSUM_COMPLETE skb->csum must follow too: the kernel's
 * helper knows both, at ~20 ns a call. */
static __always_inline bool l4_csum_plain(struct __sk_buff *skb)
{
	struct sk_buff *kskb;

	if (l4_csum_helpers_only || !bpf_ksym_exists(bpf_cast_to_kern_ctx) ||
	    !bpf_core_field_exists(struct sk_buff, ip_summed))
		return false;
	kskb = bpf_cast_to_kern_ctx(skb);
	return BPF_CORE_READ_BITFIELD(kskb, ip_summed) <= CHECKSUM_UNNECESSARY;
}

/* The L4 checksum through the kernel's helpers. UDP's "no checksum" (0) must stay
 * 0: MARK_MANGLED_0 keeps it, and writes a computed 0 as 0xffff. */
static __always_inline int l4_csum_by_helpers(struct __sk_buff *skb, const struct pkt *p,
					      __be32 old_ip, __be32 new_ip, __be16 old_port,
					      __be16 new_port)
{
	__u64 fl = p->proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	__u32 coff = l4_csum_off(p);

	if (old_ip != new_ip &&
	    bpf_l4_csum_replace(skb, coff, old_ip, new_ip, fl | BPF_F_PSEUDO_HDR | 4))
		return -1;
	if (old_port != new_port && bpf_l4_csum_replace(skb, coff, old_port, new_port, fl | 2))
		return -1;
	return 0;
}

/* The same update done in place, with the helpers' UDP rules (TC and XDP). */
static __always_inline int l4_csum_in_place(void *data, void *end, const struct pkt *p,
					    __be32 old_ip, __be32 new_ip, __be16 old_port,
					    __be16 new_port)
{
	__u32 coff = l4_csum_off(p);
	__u16 *check, c;

	if (coff > L4_OFF_MAX + offsetof(struct tcphdr, check))
		return -1;
	check = data + coff;
	if ((void *)(check + 1) > end)
		return -1;
	c = *check;
	if (p->proto == IPPROTO_UDP && c == 0)
		return 0;
	c = csum_update32(c, old_ip, new_ip);
	c = csum_update16(c, old_port, new_port);
	if (p->proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	*check = c;
	return 0;
}

/* The address at ip_off and the port at port_off, with the IP header checksum; the
 * L4 checksum is the caller's. Returns 0 or -1. */
static __always_inline int rewrite_fields(void *data, void *end, __u32 ip_off, __be32 old_ip,
					  __be32 new_ip, __u32 port_off, __be16 new_port)
{
	struct iphdr *ip = data + ETH_HLEN;

	if ((void *)(ip + 1) > end || port_off > L4_OFF_MAX + 2)
		return -1;
	/* keeps the bound in the register that is used (clang may test a copy) */
	asm volatile("%0 &= 0xff" : "+r"(port_off));
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

/* Rewrite the IPv4 address at ip_off (source or destination) and the port at
 * port_off, with both checksums. The IP header checksum and the fields themselves are
 * written directly, which is cheaper than helpers. Returns 0 or -1. */
static __always_inline int rewrite(struct __sk_buff *skb, const struct pkt *p, __u32 ip_off,
				   __be32 old_ip, __be32 new_ip, __u32 port_off, __be16 old_port,
				   __be16 new_port)
{
	int err;

	if (l4_csum_plain(skb))
		err = l4_csum_in_place((void *)(long)skb->data, (void *)(long)skb->data_end, p,
				       old_ip, new_ip, old_port, new_port);
	else
		err = l4_csum_by_helpers(skb, p, old_ip, new_ip, old_port, new_port);
	if (err)
		return -1;
	/* the helpers may have moved the data: derive pointers afresh */
	return rewrite_fields((void *)(long)skb->data, (void *)(long)skb->data_end, ip_off, old_ip,
			      new_ip, port_off, new_port);
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
