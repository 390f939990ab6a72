/* Per-Service and per-backend packet/byte counters, bumped on the translated paths
 * (new flows and conntrack hits, both directions) by the ids conntrack carries. Two
 * per-CPU array slots a packet: no atomics, no hashing. */
#ifndef BPFLET_BPF_SVC_STATS_H
#define BPFLET_BPF_SVC_STATS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpflet/abi.h>
#include <bpflet/monitor_abi.h>

/* svc_id → packets/bytes of the Service's translated flows (forward and reply) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BPFLET_SVC_ID_LIMIT);
	__type(key, __u32);
	__type(value, struct bpflet_counter_val);
} bl_svcst_v1 SEC(".maps");

/* backend_id → packets/bytes of the flows translated to it (forward and reply) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BPFLET_BE_ID_LIMIT);
	__type(key, __u32);
	__type(value, struct bpflet_counter_val);
} bl_best_v1 SEC(".maps");

/* The ids by pointer (into conntrack or a frontend): used as keys where they are,
 * no stack slot of their own in frames at the verifier's limit. */
static __always_inline void svc_stats(const __u32 *svc_id, const __u32 *backend_id, __u32 len)
{
	struct bpflet_counter_val *c = bpf_map_lookup_elem(&bl_svcst_v1, svc_id);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
	c = bpf_map_lookup_elem(&bl_best_v1, backend_id);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

#endif
