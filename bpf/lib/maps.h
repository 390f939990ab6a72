/* Every map of the pod program. Names are the ABI's (headers/bpflet/abi.h) and are the
 * pin file names; the agent pins them, the object itself sets no pinning. */
#ifndef BPFLET_BPF_MAPS_H
#define BPFLET_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpflet/abi.h>

/* {vip, port, proto, scope} → service id and usable backend count */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFLET_MAX_FRONTENDS);
	__type(key, struct bpflet_fe_key);
	__type(value, struct bpflet_fe_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bl_fe_v1 SEC(".maps");

/* {svc_id, slot} → backend id; slots 0..count-1 of a frontend are always filled */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFLET_MAX_SLOTS);
	__type(key, struct bpflet_slot_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bl_slot_v1 SEC(".maps");

/* backend id → address, port, state */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFLET_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct bpflet_backend);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bl_be_v1 SEC(".maps");

/* TCP conntrack, both directions of every translated flow */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BPFLET_CT_TCP_DEFAULT);
	__type(key, struct bpflet_ct_key);
	__type(value, struct bpflet_ct_val);
} bl_ct_tcp_v2 SEC(".maps");

/* UDP (and later other non-TCP) conntrack */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BPFLET_CT_ANY_DEFAULT);
	__type(key, struct bpflet_ct_key);
	__type(value, struct bpflet_ct_val);
} bl_ct_any_v2 SEC(".maps");

/* per-CPU packet/byte counters indexed by enum bpflet_counter */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BPFLET_CNT_SLOTS);
	__type(key, __u32);
	__type(value, struct bpflet_counter_val);
} bl_cnt_v1 SEC(".maps");

/* svc_id → "namespace/name:port" for bpftool and bpfletctl; never read per packet */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BPFLET_MAX_FRONTENDS);
	__type(key, __u32);
	__type(value, struct bpflet_svc_name);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bl_svcname_v1 SEC(".maps");

/* Maglev tables, blocks of BPFLET_MAGLEV_M backend ids (headers/bpflet/svc_lb.h) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BPFLET_MAGLEV_BLOCKS *BPFLET_MAGLEV_M);
	__type(key, __u32);
	__type(value, __u32);
} bl_mg_v1 SEC(".maps");

/* first fragment's ports by {addresses, id, proto}, for the later fragments */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BPFLET_FRAG_MAX);
	__type(key, struct bpflet_frag_key);
	__type(value, struct bpflet_frag_val);
} bl_frag_v1 SEC(".maps");

/* a later fragment ahead of its first, held until the first comes (TC) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BPFLET_FRAG_HELD_MAX);
	__type(key, struct bpflet_frag_key);
	__type(value, struct bpflet_frag_held);
} bl_fragh_v1 SEC(".maps");

/* per-CPU room for one frame while another takes its place in the skb */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bpflet_frag_held);
} bl_fragscr_v1 SEC(".maps");

/* sessionAffinity ClientIP: {client, svc_id} → backend; LRU bounds it */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BPFLET_AFFINITY_MAX);
	__type(key, struct bpflet_aff_key);
	__type(value, struct bpflet_aff_val);
} bl_aff_v1 SEC(".maps");

/* loadBalancerSourceRanges per LoadBalancer frontend (BPFLET_FE_F_SRC_RANGES) */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, BPFLET_SRCRANGE_MAX);
	__type(key, struct bpflet_srcrange_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} bl_srcr_v1 SEC(".maps");

#endif
