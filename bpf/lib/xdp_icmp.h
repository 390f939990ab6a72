/* ICMP errors on the uplink about translated flows: a backend on another node refusing
 * an SNATed datagram, a router's frag-needed about a reply, a client's error about one.
 * Rewritten as lib/icmp_err.h does in TC, then sent where the flow's own packets go:
 * straight back out for SNAT flows, to the stack (a pod of this node) otherwise. */
#ifndef BPFLET_BPF_XDP_ICMP_H
#define BPFLET_BPF_XDP_ICMP_H

#include "lib/icmp_err.h"
#include "lib/xdp_fwd.h"

static __noinline int xdp_icmp_error(struct xdp_md *ctx, const struct pkt *p)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	struct bpflet_ct_val *ct;

	ct = icmp_error_rewrite(data, end, p);
	if (!ct)
		return XDP_PASS; /* the node's own business */
	count_len(BPFLET_CNT_ICMP_ERROR_NAT, end - data);
	if ((void *)(ip + 1) > end)
		return XDP_DROP;
	if (ct->flags & BPFLET_CT_F_SNAT)
		return xdp_forward_to(ctx, ip->saddr, ip->daddr, IPPROTO_ICMP, 0);
	return XDP_PASS;
}

#endif
