/* XDP-side packet rewrites and forwarding: address/port NAT on the linear frame, and
 * sending a translated packet on by the kernel's FIB (XDP_TX or redirect). */
#ifndef BPFLET_BPF_XDP_FWD_H
#define BPFLET_BPF_XDP_FWD_H

#include "lib/counters.h"
#include "lib/nat.h"

#include <linux/if_ether.h>

#ifndef AF_INET
#define AF_INET 2
#endif

static __always_inline int xdp_rewrite_dst(struct xdp_md *ctx, struct pkt *p, __be32 ip,
					   __be16 port)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	int err = l4_csum_in_place(data, end, p, p->daddr, ip, p->dport, port);

	if (!err)
		err = rewrite_fields(data, end, IP_DST_OFF, p->daddr, ip, p->l4_off + 2, port);
	p->daddr = ip;
	p->dport = port;
	return err;
}

static __always_inline int xdp_rewrite_src(struct xdp_md *ctx, struct pkt *p, __be32 ip,
					   __be16 port)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	int err = l4_csum_in_place(data, end, p, p->saddr, ip, p->sport, port);

	if (!err)
		err = rewrite_fields(data, end, IP_SRC_OFF, p->saddr, ip, p->l4_off, port);
	p->saddr = ip;
	p->sport = port;
	return err;
}

/* A translated packet that must leave again (its backend is on another node, or it
 * is a reply to an external client): the FIB gives next hop and MACs, TTL drops by
 * one as in any router. No route or no neighbour yet: dropped and counted (the
 * client retransmits; the kernel learns the neighbour from other traffic). */
static __noinline int xdp_forward_to(struct xdp_md *ctx, __be32 saddr, __be32 daddr, __u32 proto,
				     __u32 ports)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + ETH_HLEN;
	struct bpf_fib_lookup fib = {};
	__u32 len = end - data;
	long rc;

	if ((void *)(ip + 1) > end)
		return XDP_DROP;
	if (ip->ttl <= 1)
		return XDP_PASS; /* the kernel sends the time-exceeded error */
	fib.family = AF_INET;
	fib.tos = ip->tos;
	fib.l4_protocol = (__u8)proto;
	fib.sport = (__be16)(ports >> 16);
	fib.dport = (__be16)ports;
	fib.tot_len = bpf_ntohs(ip->tot_len);
	fib.ipv4_src = saddr;
	fib.ipv4_dst = daddr;
	fib.ifindex = ctx->ingress_ifindex;
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
		count_len(BPFLET_CNT_DROP_NO_ROUTE, len);
		return XDP_DROP;
	}
	ip->check = csum_update16(ip->check, bpf_htons((__u16)ip->ttl << 8),
				  bpf_htons((__u16)(ip->ttl - 1) << 8));
	ip->ttl--;
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	count_len(BPFLET_CNT_XDP_TX, len);
	if (fib.ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect(fib.ifindex, 0);
}

static __always_inline int xdp_forward(struct xdp_md *ctx, const struct pkt *p)
{
	return xdp_forward_to(ctx, p->saddr, p->daddr, p->proto,
			      ((__u32)p->sport << 16) | p->dport);
}

#endif
