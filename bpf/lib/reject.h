/*
 * Rejecting a connection to a Service without endpoints, as kube-proxy does: a TCP RST
 * for TCP, an ICMP port unreachable for UDP. The packet is turned into the reply in
 * place (resized with bpf_skb_change_tail, then written whole from the stack) and sent
 * back out of the veth toward the pod.
 */
#ifndef BPFLET_BPF_REJECT_H
#define BPFLET_BPF_REJECT_H

#include "lib/csum.h"
#include "lib/parse.h"

#include <linux/pkt_cls.h>
#include <stddef.h>

/* linux/icmp.h drags in libc headers; the two constants and the header are enough */
#define ICMP_DEST_UNREACH 3
#define ICMP_PORT_UNREACH 3

struct icmp_unreach {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 unused;
};

struct rst_frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr tcp;
} __attribute__((packed));

struct icmp_frame {
	struct ethhdr eth;
	struct iphdr ip;
	struct icmp_unreach icmp;
	struct iphdr quoted_ip;
	__u8 quoted_l4[8];
} __attribute__((packed));

/* TCP pseudo header + header, summed in one go */
struct tcp_csum_buf {
	__be32 saddr, daddr;
	__u8 zero, proto;
	__be16 len;
	struct tcphdr tcp;
};

/* Writes a fresh IPv4 header at dst (a packed frame member, hence void *). */
static __always_inline void reply_ip(void *dst, __be32 saddr, __be32 daddr, __u8 proto,
				     __u16 tot_len)
{
	struct iphdr ip = {};

	ip.version = 4;
	ip.ihl = 5;
	ip.tot_len = bpf_htons(tot_len);
	ip.frag_off = bpf_htons(0x4000); /* DF */
	ip.ttl = 64;
	ip.protocol = proto;
	ip.saddr = saddr;
	ip.daddr = daddr;
	ip.check = csum_buf(&ip, sizeof(ip));
	__builtin_memcpy(dst, &ip, sizeof(ip));
}

static __always_inline void reply_eth(struct ethhdr *out, const struct ethhdr *in)
{
	__builtin_memcpy(out->h_dest, in->h_source, ETH_ALEN);
	__builtin_memcpy(out->h_source, in->h_dest, ETH_ALEN);
	out->h_proto = bpf_htons(ETH_P_IP);
}

/* Returns TC_ACT_REDIRECT with the RST in place, or -1 when it could not be built. */
static __always_inline int reject_tcp(struct __sk_buff *skb, const struct pkt *p)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *th = data + p->l4_off;
	struct tcp_csum_buf cb = {};
	struct rst_frame f = {};
	__u32 payload;

	if ((void *)(eth + 1) > end)
		return -1;
	if (p->l4_off > ETH_HLEN + 60 || (void *)(th + 1) > end)
		return -1;
	payload = p->ip_len - p->ihl - th->doff * 4;
	reply_eth(&f.eth, eth);
	f.tcp.source = p->dport;
	f.tcp.dest = p->sport;
	f.tcp.doff = 5;
	f.tcp.rst = 1;
	if (th->ack) {
		f.tcp.seq = th->ack_seq; /* RFC 793: RST takes its sequence from the ACK */
	} else {
		f.tcp.ack = 1;
		f.tcp.ack_seq = bpf_htonl(bpf_ntohl(th->seq) + payload + th->syn + th->fin);
	}
	cb.saddr = p->daddr;
	cb.daddr = p->saddr;
	cb.proto = IPPROTO_TCP;
	cb.len = bpf_htons(sizeof(struct tcphdr));
	cb.tcp = f.tcp;
	f.tcp.check = csum_buf(&cb, sizeof(cb));
	reply_ip((void *)&f + offsetof(struct rst_frame, ip), p->daddr, p->saddr, IPPROTO_TCP,
		 sizeof(f.ip) + sizeof(f.tcp));
	if (bpf_skb_change_tail(skb, sizeof(f), 0) || bpf_skb_store_bytes(skb, 0, &f, sizeof(f), 0))
		return -1;
	return bpf_redirect(skb->ifindex, 0);
}

/* Returns TC_ACT_REDIRECT with an ICMP port unreachable quoting the datagram. */
static __always_inline int reject_udp(struct __sk_buff *skb, const struct pkt *p)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + ETH_HLEN;
	void *l4 = data + ETH_HLEN + sizeof(*ip);
	struct icmp_frame f = {};

	/* quoting assumes a plain 20-byte header; options are rare enough to drop */
	if ((void *)(eth + 1) > end)
		return -1;
	if (p->ihl != sizeof(*ip) || l4 + 8 > end)
		return -1;
	reply_eth(&f.eth, eth);
	__builtin_memcpy(&f.quoted_ip, ip, sizeof(*ip));
	__builtin_memcpy(f.quoted_l4, l4, 8);
	f.icmp.type = ICMP_DEST_UNREACH;
	f.icmp.code = ICMP_PORT_UNREACH;
	f.icmp.checksum = csum_buf(&f.icmp, sizeof(f.icmp) + sizeof(f.quoted_ip) + 8);
	reply_ip((void *)&f + offsetof(struct icmp_frame, ip), p->daddr, p->saddr, IPPROTO_ICMP,
		 sizeof(f) - sizeof(f.eth));
	if (bpf_skb_change_tail(skb, sizeof(f), 0) || bpf_skb_store_bytes(skb, 0, &f, sizeof(f), 0))
		return -1;
	return bpf_redirect(skb->ifindex, 0);
}

#endif
