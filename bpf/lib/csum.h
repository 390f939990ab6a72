/* Checksums built from scratch (reject replies); rewrites use the kernel's
 * incremental helpers instead, which also handle CHECKSUM_PARTIAL skbs. */
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

#endif
