/* Per-CPU outcome counters: every packet the program sees lands in exactly one. */
#ifndef BPFLET_BPF_COUNTERS_H
#define BPFLET_BPF_COUNTERS_H

#include "lib/maps.h"

static __always_inline void count(struct __sk_buff *skb, __u32 reason)
{
	struct bpflet_counter_val *c = bpf_map_lookup_elem(&bl_cnt_v1, &reason);

	if (c) {
		c->packets++;
		c->bytes += skb->len;
	}
}

#endif
