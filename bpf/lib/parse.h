/* Bounds-checked Ethernet/IPv4/TCP/UDP parsing into a small summary of the packet. */
#ifndef BPFLET_BPF_PARSE_H
#define BPFLET_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <stdbool.h>

#define IP_MF	  0x2000
#define IP_OFFSET 0x1fff
/* enough linear bytes for Ethernet + the largest IPv4 header + a TCP header */
#define PARSE_PULL_LEN (ETH_HLEN + 60 + 20)

enum parse_result {
	PARSE_L4,	/* TCP or UDP with a whole header: ports valid */
	PARSE_OTHER_L4, /* a valid IPv4 packet of another protocol (ICMP, ...) */
	PARSE_NON_IP,
	PARSE_FRAGMENT,
	PARSE_MALFORMED,
};

struct pkt {
	__be32 saddr, daddr;
	__be16 sport, dport;
	__u32 l4_off; /* from the start of the frame */
	__u16 ip_len; /* IPv4 total length */
	__u8 ihl;     /* header length in bytes */
	__u8 proto;
	__u8 tcp_flags; /* TCP only: the flags byte (FIN 0x01 SYN 0x02 RST 0x04 ACK 0x10) */
};

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_ACK 0x10

/* Parses the frame in [data, end) of wire length pkt_len; shared by TC and XDP. */
static __always_inline int parse_frame(void *data, void *end, __u32 pkt_len, struct pkt *p)
{
	struct ethhdr *eth;
	struct iphdr *ip;

	eth = data;
	if ((void *)(eth + 1) > end)
		return PARSE_MALFORMED;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return PARSE_NON_IP;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return PARSE_MALFORMED;
	if (ip->version != 4 || ip->ihl < 5)
		return PARSE_MALFORMED;
	p->ihl = ip->ihl * 4;
	p->ip_len = bpf_ntohs(ip->tot_len);
	if (p->ip_len < p->ihl || ETH_HLEN + (__u32)p->ip_len > pkt_len)
		return PARSE_MALFORMED;
	p->saddr = ip->saddr;
	p->daddr = ip->daddr;
	p->proto = ip->protocol;
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return PARSE_FRAGMENT;
	p->l4_off = ETH_HLEN + p->ihl;
	if (p->proto == IPPROTO_TCP) {
		struct tcphdr *th = (void *)ip + p->ihl;

		if ((void *)(th + 1) > end || p->ip_len < p->ihl + sizeof(*th) || th->doff < 5)
			return PARSE_MALFORMED;
		p->sport = th->source;
		p->dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		return PARSE_L4;
	}
	if (p->proto == IPPROTO_UDP) {
		struct udphdr *uh = (void *)ip + p->ihl;

		if ((void *)(uh + 1) > end || p->ip_len < p->ihl + sizeof(*uh))
			return PARSE_MALFORMED;
		p->sport = uh->source;
		p->dport = uh->dest;
		p->tcp_flags = 0;
		return PARSE_L4;
	}
	return PARSE_OTHER_L4;
}

static __always_inline int parse_pkt(struct __sk_buff *skb, struct pkt *p)
{
	__u32 linear = skb->data_end - skb->data;

	/* headers may sit in paged data; make them linear once, only when needed */
	if (linear < PARSE_PULL_LEN && skb->len > linear)
		bpf_skb_pull_data(skb, skb->len < PARSE_PULL_LEN ? skb->len : PARSE_PULL_LEN);
	return parse_frame((void *)(long)skb->data, (void *)(long)skb->data_end, skb->len, p);
}

#endif
