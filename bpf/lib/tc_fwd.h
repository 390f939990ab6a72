/* Sending a packet from a pod's veth straight out by the FIB (TC side), for replies
 * whose rewritten source is this node's own address. */
#ifndef BPFLET_BPF_TC_FWD_H
#define BPFLET_BPF_TC_FWD_H

#include "lib/counters.h"
#include "lib/csum.h"
#include "lib/parse.h"

#include <linux/pkt_cls.h>

#ifndef AF_INET
#define AF_INET 2
#endif

/* The lookup's parameters live here, not on the stack: tc_pod's stack is full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpf_fib_lookup);
} bl_fib_scratch SEC(".maps");

/* Route lookup (as if the packet came in on the pod veth: no source check), then bpf_redirect_neigh
 * (which resolves the next hop's MAC itself); TTL drops by one as in forwarding. */
static __always_inline int tc_route_out(struct __sk_buff *skb, __be32 saddr, __be32 daddr)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	__u32 zero = 0;
	struct bpf_fib_lookup *fib = bpf_map_lookup_elem(&bl_fib_scratch, &zero);

	if ((void *)(ip + 1) > end || !fib)
		return TC_ACT_SHOT;
	if (ip->ttl <= 1)
		return TC_ACT_OK;
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = AF_INET;
	fib->ipv4_src = saddr;
	fib->ipv4_dst = daddr;
	fib->ifindex = skb->ingress_ifindex;
	if (bpf_fib_lookup(skb, fib, sizeof(*fib), BPF_FIB_LOOKUP_SKIP_NEIGH) !=
	    BPF_FIB_LKUP_RET_SUCCESS) {
		count(skb, BPFLET_CNT_DROP_NO_ROUTE);
		return TC_ACT_SHOT;
	}
	ip->check = csum_update16(ip->check, bpf_htons((__u16)ip->ttl << 8),
				  bpf_htons((__u16)(ip->ttl - 1) << 8));
	ip->ttl--;
	return bpf_redirect_neigh(fib->ifindex, NULL, 0, 0);
}

#endif
