/* IPv4 fragments on the uplink. A first fragment carries the ports: they are
 * remembered (lib/frag.h) and it takes the normal path. A later fragment of a tracked
 * north-south flow gets the same address rewrites as its first (no L4 header: only the
 * IP checksum changes) and goes where its first went. Any other fragment is the
 * kernel's, counted. Left to the kernel, a fragment to a LoadBalancer IP or externalIP
 * would be routed on as it is. */
#ifndef BPFLET_BPF_XDP_FRAG_H
#define BPFLET_BPF_XDP_FRAG_H

#include "lib/conntrack.h"
#include "lib/dsr.h"
#include "lib/frag.h"
#include "lib/xdp_fwd.h"

static __always_inline void frag_set_addr(struct iphdr *ip, __be32 *a, __be32 to)
{
	ip->check = csum_update32(ip->check, *a, to);
	*a = to;
}

/* A later fragment whose first left its ports in p. Returns an XDP verdict. */
static __noinline int xdp_frag_follow(struct xdp_md *ctx, struct pkt *p)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	struct bpflet_ct_val *ct;
	struct bpflet_ct_key k;
	bool fwd, snat;

	if ((void *)(ip + 1) > end)
		return XDP_DROP;
	ct_key_of(&k, p->saddr, p->daddr, p->sport, p->dport, p->proto);
	ct = ct_lookup(&k);
	if (!ct || (ct->flags & BPFLET_CT_F_HAIRPIN)) {
		count_len(BPFLET_CNT_FRAGMENT, end - data);
		return XDP_PASS;
	}
	fwd = ct->dir == BPFLET_CT_FORWARD;
	snat = ct->flags & BPFLET_CT_F_SNAT;
	/* forward: destination → backend (source → this node under SNAT); reply: source →
	 * frontend (destination → the client under SNAT) */
	frag_set_addr(ip, fwd ? &ip->daddr : &ip->saddr, ct->nat_addr.addr[0]);
	if (snat)
		frag_set_addr(ip, fwd ? &ip->saddr : &ip->daddr, ct->hairpin_addr.addr[0]);
	count_len(BPFLET_CNT_FRAGMENT_NAT, end - data);
	if (fwd && (ct->flags & BPFLET_CT_F_DSR)) {
		if (dsr_too_big(ctx)) {
			count_len(BPFLET_CNT_DROP_DSR_TOO_BIG, end - data);
			return XDP_DROP; /* a fragment: XDP cannot split it further */
		}
		return dsr_send(ctx, ct->hairpin_addr.addr[0], ct->hairpin_port,
				ct->nat_addr.addr[0]);
	}
	if (snat)
		return xdp_forward_to(ctx, ip->saddr, ip->daddr, p->proto, 0);
	return XDP_PASS;
}

#endif
