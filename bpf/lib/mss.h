/* TCP MSS clamping for --lb-mode dsr. A client's segments reach the backend inside the
 * ingress node's IPIP tunnel, 20 bytes larger than they left the client; the client
 * sizes them by the MSS in the backend's SYN-ACK, which under DSR leaves from the
 * backend's node and never crosses the ingress node. So that node lowers it. */
#ifndef BPFLET_BPF_MSS_H
#define BPFLET_BPF_MSS_H

#include "lib/parse.h"

#include <linux/pkt_cls.h>

#define TCPOPT_MSS 2

/* The largest MSS a backend of this node may announce through a DSR reply: the
 * uplink's MTU minus the IPv4 and TCP headers and the tunnel's outer IPv4 header;
 * 0 = no clamping. Set by the agent before load. */
const volatile __u16 dsr_mss = 0;

/* Lowers the MSS option of the SYN(-ACK) at l4_off to at most mss_max, with the TCP
 * checksum (the helper knows partial and complete checksums). Returns 1 when it
 * changed the option, 0 when there was nothing to lower, -1 on a helper failure. */
static __noinline int tcp_clamp_mss(struct __sk_buff *skb, __u32 l4_off, __u16 mss_max)
{
	__u8 opts[40], doff;
	__u32 optlen, i = 0;

	if (bpf_skb_load_bytes(skb, l4_off + 12, &doff, 1))
		return 0;
	optlen = (doff >> 4) * 4;
	if (optlen <= 20)
		return 0;
	optlen -= 20;
	if (optlen > sizeof(opts))
		return 0;
	/* options are whole 32-bit words: fixed-size loads, which the verifier takes */
	for (__u32 w = 0; w < sizeof(opts) / 4; w++) {
		if (w * 4 >= optlen)
			break;
		if (bpf_skb_load_bytes(skb, l4_off + 20 + w * 4, opts + w * 4, 4))
			return 0;
	}
	for (int n = 0; n < 40; n++) {
		__u16 old, new;

		if (i + 1 >= optlen)
			break;
		i &= 0x3f; /* no change (i < 40): a bound the verifier can see */
		if (i > sizeof(opts) - 4)
			break;
		if (opts[i] == 0)
			break;
		if (opts[i] == 1) {
			i++;
			continue;
		}
		if (opts[i] == TCPOPT_MSS && opts[i + 1] == 4 && i + 4 <= optlen) {
			old = (__u16)opts[i + 2] << 8 | opts[i + 3];
			if (old <= mss_max)
				return 0;
			old = bpf_htons(old);
			new = bpf_htons(mss_max);
			if (bpf_l4_csum_replace(skb, l4_off + 16, old, new, sizeof(new)) ||
			    bpf_skb_store_bytes(skb, l4_off + 20 + i + 2, &new, sizeof(new), 0))
				return -1;
			return 1;
		}
		if (opts[i + 1] < 2)
			break;
		i += opts[i + 1];
	}
	return 0;
}

#endif
