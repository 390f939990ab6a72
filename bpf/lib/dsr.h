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

/* A fresh 20-byte IPv4 header with its checksum; tot_len and id in network order. */
static __always_inline void ip_hdr_init(struct iphdr *ip, __u8 tos, __be16 tot_len, __be16 id,
					__u8 proto, __be32 saddr, __be32 daddr)
{
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = tos;
	ip->tot_len = tot_len;
	ip->id = id;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = proto;
	ip->check = 0;
	ip->saddr = saddr;
	ip->daddr = daddr;
	ip->check = ip_hdr_csum((const __u16 *)ip);
}

/* The uplink's MTU (set by the agent before load); 0: unknown, packets not checked. */
const volatile __u32 uplink_mtu = 0;

#define IP_DF	      0x4000
#define ICMP_FRAG_HDR (sizeof(struct iphdr) + 8) /* what a frag-needed puts before its quote */

/* Whether the frame's packet would exceed the uplink's MTU inside the tunnel. */
static __always_inline bool dsr_too_big(struct xdp_md *ctx)
{
	return uplink_mtu &&
	       ctx->data_end - ctx->data - ETH_HLEN + sizeof(struct iphdr) > uplink_mtu;
}

/* A packet that the tunnel's 20 bytes would push past the MTU (a client that ignored
 * the clamped MSS, or UDP): with DF set, ICMP frag-needed back to the client quoting
 * its packet as it arrived (RFC 1191), so its stack lowers the path MTU; without DF it
 * is dropped and counted (XDP cannot fragment). Runs before any rewrite. */
static __noinline int dsr_frag_needed(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	__u32 qlen, len, sum = 0;
	__be32 client, fe;
	struct ethhdr *eth, *old;
	__u16 *w;
	__u8 *icmp;

	if ((void *)(ip + 1) > end)
		return XDP_DROP;
	if (!(ip->frag_off & bpf_htons(IP_DF))) {
		count_len(BPFLET_CNT_DROP_DSR_TOO_BIG, end - data);
		return XDP_DROP;
	}
	qlen = ip->ihl * 4 + 8; /* the quote: its IPv4 header and 8 bytes of what follows */
	client = ip->saddr;
	fe = ip->daddr;
	/* 28 bytes in front: the packet, now the quote, starts right after the new IPv4
	 * and ICMP headers; they overwrite the old Ethernet header once its MACs are read */
	if (bpf_xdp_adjust_head(ctx, -(int)ICMP_FRAG_HDR))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	old = data + ICMP_FRAG_HDR;
	if ((void *)(old + 1) > end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, old->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, old->h_dest, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IP);
	len = ETH_HLEN + ICMP_FRAG_HDR + qlen;
	if (bpf_xdp_adjust_tail(ctx, (int)len - (int)(end - data)))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	ip = data + ETH_HLEN;
	icmp = (void *)(ip + 1);
	if ((void *)(icmp + 8) > end)
		return XDP_DROP;
	ip_hdr_init(ip, 0, bpf_htons(ICMP_FRAG_HDR + qlen), 0, IPPROTO_ICMP, fe, client);
	icmp[0] = 3; /* destination unreachable */
	icmp[1] = 4; /* fragmentation needed and DF set */
	*(__u16 *)(icmp + 2) = 0;
	*(__u16 *)(icmp + 4) = 0;
	*(__u16 *)(icmp + 6) = bpf_htons(uplink_mtu - sizeof(struct iphdr));
	/* the ICMP checksum over its header and the quote (an even length: ihl*4 + 16) */
	w = (__u16 *)icmp;
	for (int i = 0; i < (8 + 60 + 8) / 2; i++) {
		if ((void *)(w + i + 1) > end)
			break;
		sum += w[i];
	}
	*(__u16 *)(icmp + 2) = csum_fold32(sum);
	count_len(BPFLET_CNT_DSR_FRAG_NEEDED, end - data);
	return xdp_forward_to(ctx, fe, client, IPPROTO_ICMP, 0);
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
	ip_hdr_init(outer, inner->tos, bpf_htons(bpf_ntohs(inner->tot_len) + sizeof(struct iphdr)),
		    fe_port, IPPROTO_IPIP, fe_addr, to);
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
	if (inner->frag_off & bpf_htons(IP_OFFSET))
		goto unwrap; /* a later fragment: no ports, its first made the entry */
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
unwrap:
	/* the Ethernet header moves over the outer IP header (no overlap) */
	__builtin_memcpy((char *)data + sizeof(struct iphdr), data, ETH_HLEN);
	if (bpf_xdp_adjust_head(ctx, (int)sizeof(struct iphdr)))
		return XDP_DROP;
	count_len(BPFLET_CNT_DSR_IN, end - data);
	return XDP_PASS;
}

#endif
