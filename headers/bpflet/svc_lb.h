/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Maglev tables and session affinity: the maps backend selection reads besides the
 * frontend and slot maps (included from abi.h).
 *
 * Maglev storage is one big ARRAY of backend ids cut into blocks of
 * BPFLET_MAGLEV_M entries. A Service with a table owns one block (M = 16381) or,
 * when large, BPFLET_MAGLEV_LARGE_BLOCKS consecutive blocks (M = 65521 fits in 4 x
 * 16381). The frontend value's maglev_base is the index of its first entry, so the
 * per-packet cost is one array lookup at maglev_base + hash % M. An array (not
 * HASH_OF_MAPS) keeps re-adoption trivial: the agent finds its tables by the
 * frontends that point at them, and the verifier sees one plain map.
 */
#ifndef BPFLET_SVC_LB_H
#define BPFLET_SVC_LB_H

#include <linux/types.h>

#define BPFLET_MAP_MAGLEV   "bl_mg_v1"
#define BPFLET_MAP_AFFINITY "bl_aff_v1"

#define BPFLET_MAGLEV_M		   16381u /* prime, default table size */
#define BPFLET_MAGLEV_M_LARGE	   65521u /* prime, for Services past the threshold */
#define BPFLET_MAGLEV_LARGE_BLOCKS 4u	  /* 4 * 16381 >= 65521 */
/* Services with more backends than this get the large table: M stays >= 100 * N,
 * which keeps every backend's share within ~1% of even. */
#define BPFLET_MAGLEV_LARGE_THRESHOLD 160u
/* Default number of blocks; the agent may resize the map before load. */
#define BPFLET_MAGLEV_BLOCKS 64u

/* Traffic policy Local with no endpoint on this node while other nodes have some: the
 * frontend (count 0) drops instead of rejecting, as kube-proxy does. */
#define BPFLET_FE_F_NO_LOCAL_DROP (1u << 3)
/* Informational (bpfletctl): the frontend's traffic policy is Local, so its backends
 * are this node's only. Never read per packet. */
#define BPFLET_FE_F_POLICY_LOCAL (1u << 4)
/* loadBalancerSourceRanges: a new flow needs its source in bl_srcr_v1 for this
 * frontend, else it is dropped at XDP */
#define BPFLET_FE_F_SRC_RANGES (1u << 5)

#define BPFLET_SRCRANGE_MAX 16384

/* LPM key of bl_srcr_v1: the frontend (64 bits, always matched whole) then the
 * client's source CIDR; prefixlen = 64 + the CIDR's length. Value: __u32 1. */
struct bpflet_srcrange_key {
	__u32 prefixlen;
	__u32 fe_addr; /* network order */
	__u16 fe_port; /* network order */
	__u8 proto;
	__u8 pad;
	__u32 src; /* network order */
};

#define BPFLET_AFFINITY_MAX 65536
#define BPFLET_AFF_MAGLEV   (1u << 31) /* bpflet_aff_val.slot is a Maglev index */

/* affinity: {client address, svc_id} → the backend it stuck to */
struct bpflet_aff_key {
	struct bpflet_addr client;
	__u32 svc_id;
	__u8 family;
	__u8 pad[3];
};

struct bpflet_aff_val {
	__u32 backend_id;
	/* where the backend was found: a slot of the Service, or with BPFLET_AFF_MAGLEV
	 * a Maglev entry index. The entry holds only while that place still names the
	 * backend, so a removed endpoint breaks the affinity at once. */
	__u32 slot;
	__u64 last_seen_ns; /* bpf_ktime_get_coarse_ns() of the last new flow */
};

#endif
