/* One's complement checksum arithmetic: whole checksums for the reject replies,
 * RFC 1624 incremental updates for rewrites. */
#ifndef BPFLET_BPF_CSUM_H
#define BPFLET_BPF_CSUM_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* One's complement checksum of a stack buffer whose size is a multiple of 4. */
static __always_inline __u16 csum_buf(void *buf, __u32 len)
{
	__s64 sum = bpf_csum_diff(0, 0, buf, len, 0);

	return sum < 0 ? 0 : csum_fold32((__u32)sum);
}

/* HC' = ~(~HC + ~m + m') for a 32-bit field changing from m to m'. The sum does not
 * care about byte order as long as the checksum and the fields are all taken raw
 * from the packet. */
static __always_inline __u16 csum_update32(__u16 check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16) ~(from & 0xffff) + (__u16) ~(from >> 16) + (to & 0xffff) + (to >> 16);
	return csum_fold32(sum);
}

static __always_inline __u16 csum_update16(__u16 check, __u16 from, __u16 to)
{
	return csum_fold32((__u32)(__u16)~check + (__u16)~from + to);
}

#endif
