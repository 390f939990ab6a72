/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IPv4 fragments of translated flows (included from abi.h). Only a datagram's first
 * fragment carries the ports; the pod program remembers them by the fragment id so the
 * later fragments follow the same conntrack entry instead of being routed to the VIP.
 */
#ifndef BPFLET_FRAG_H
#define BPFLET_FRAG_H

#include <linux/types.h>

#define BPFLET_MAP_FRAG "bl_frag_v1"
#define BPFLET_FRAG_MAX 8192

/* {source, destination, IP id, protocol} of a fragmented datagram → its ports */
struct bpflet_frag_key {
	struct bpflet_addr saddr;
	struct bpflet_addr daddr;
	__u32 id; /* IPv4 id (network order, upper half 0); room for IPv6's 32 bits */
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};

struct bpflet_frag_val {
	__u16 sport; /* network order */
	__u16 dport;
	__u32 pad;
};

/* A later fragment that came before its datagram's first, held (one per datagram, by
 * the same key) until the first arrives and it can follow it. */
#define BPFLET_MAP_FRAG_HELD   "bl_fragh_v1"
#define BPFLET_FRAG_HELD_MAX   256
#define BPFLET_FRAG_HELD_BYTES 1536 /* an Ethernet frame of a 1500-byte MTU, rounded up */

struct bpflet_frag_held {
	__u32 len; /* bytes of frame */
	__u32 pad;
	__u8 frame[BPFLET_FRAG_HELD_BYTES];
};

#endif
