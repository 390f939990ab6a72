/* Direct server return (--lb-mode dsr) between nodes: the ingress node sends the
 * DNATed packet to the backend's node inside IPIP, the outer header carrying the
 * frontend (source address = the frontend's address, IP id = its port); the backend's
 * node takes the packet out, remembers the frontend for the reply and the pod answers
 * the client directly from there. The reply never crosses the ingress node again. */
#ifndef BPFLET_BPF_DSR_H
#define BPFLET_BPF_DSR_H

#include "lib/conntrack.h"
#include "lib/xdp_fwd.h"

#include <linux/if_ether.h>

static __always_inline __u16 ip_hdr_csum(const __u16 *w)
{
	__u32 sum = 0;

	for (int i = 0; i < 10; i++)
		sum += w[i];
	return csum_fold32(sum);
}

/* Wraps the frame's IPv4 packet in an outer IPv4/IPIP header to `to` and sends it on.
 * Returns an XDP verdict. */
static __noinline int dsr_send(struct xdp_md *ctx, __be32 fe_addr, __be16 fe_port, __be32 to)
{
	void *data, *end;
	struct iphdr *outer, *inner;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	outer = data + ETH_HLEN;
	inner = (void *)(outer + 1);
	if ((void *)(inner + 1) > end)
		return XDP_DROP;
	/* the Ethernet header moves to the new front (20 bytes apart: no overlap) */
	__builtin_memcpy(data, data + sizeof(struct iphdr), ETH_HLEN);
	outer->version = 4;
	outer->ihl = 5;
	outer->tos = inner->tos;
	outer->tot_len = bpf_htons(bpf_ntohs(inner->tot_len) + sizeof(struct iphdr));
	outer->id = fe_port;
	outer->frag_off = 0;
	outer->ttl = 64;
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	outer->saddr = fe_addr;
	outer->daddr = to;
	outer->check = ip_hdr_csum((const __u16 *)outer);
	return xdp_forward_to(ctx, fe_addr, to, IPPROTO_IPIP, 0);
}

/* The backend's node: an IPIP packet from an ingress node in DSR mode. The reply
 * entry {backend → client} restores the frontend as source; the inner packet goes
 * on to the pod. Anything else IPIP is left to the kernel. */
static __noinline int dsr_receive(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *outer = data + ETH_HLEN, *inner;
	struct bpflet_ct_val rv = {};
	struct bpflet_ct_key k;
	__be16 *ports;

	inner = (void *)(outer + 1);
	ports = (void *)(inner + 1);
	if ((void *)(ports + 2) > end || outer->ihl != 5 || inner->ihl != 5 ||
	    inner->daddr != outer->daddr ||
	    (inner->protocol != IPPROTO_TCP && inner->protocol != IPPROTO_UDP))
		return XDP_PASS;
	ct_key_of(&k, inner->daddr, inner->saddr, ports[1], ports[0], inner->protocol);
	rv.dir = BPFLET_CT_REPLY;
	rv.flags = BPFLET_CT_F_NORTH_SOUTH | BPFLET_CT_F_DSR; /* DSR: tc_pod clamps the MSS */
	rv.nat_addr.addr[0] = outer->saddr;
	rv.nat_port = outer->id;
	rv.created_ns = rv.last_seen_ns = coarse_now();
	rv.win.state = BPFLET_CT_W_ONEWAY; /* the client's side is tracked on the ingress node */
	if (!ct_lookup(&k) && ct_insert(&k, &rv, BPF_NOEXIST) && !ct_lookup(&k)) {
		count_len(BPFLET_CNT_DROP_CT_FULL, end - data);
		return XDP_DROP;
	}
	/* the Ethernet header moves over the outer IP header (no overlap) */
	__builtin_memcpy((char *)data + sizeof(struct iphdr), data, ETH_HLEN);
	if (bpf_xdp_adjust_head(ctx, (int)sizeof(struct iphdr)))
		return XDP_DROP;
	count_len(BPFLET_CNT_DSR_IN, end - data);
	return XDP_PASS;
}

#endif
