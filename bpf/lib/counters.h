/* Per-CPU outcome counters: every packet the program sees lands in exactly one. */
#ifndef BPFLET_BPF_COUNTERS_H
#define BPFLET_BPF_COUNTERS_H

#include "lib/maps.h"
#include "lib/monitor.h"

static __always_inline void count_len(__u32 reason, __u32 len)
{
	struct bpflet_counter_val *c = bpf_map_lookup_elem(&bl_cnt_v1, &reason);

	mon_note(reason);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

static __always_inline void count(struct __sk_buff *skb, __u32 reason)
{
	count_len(reason, skb->len);
}

#endif
