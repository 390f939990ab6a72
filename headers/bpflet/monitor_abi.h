/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inspection maps: per-Service and per-backend traffic counters, and what
 * `bpfletctl monitor` reads (flow, drop and policy events on a ring buffer, packets
 * on a perf event array). Same rules as abi.h: fixed-width types, explicit padding,
 * addresses and ports in network order.
 *
 * Events and captures cost one array lookup per packet while no monitor runs: the
 * programs emit only while bl_mon_v1 has a flag set and its heartbeat is fresh, so a
 * monitor that died without clearing the flag stops them within
 * BPFLET_MON_STALE_NS.
 */
#ifndef BPFLET_MONITOR_ABI_H
#define BPFLET_MONITOR_ABI_H

#include <bpflet/abi.h>
#include <linux/types.h>

#define BPFLET_MAP_SVC_STATS "bl_svcst_v1" /* PERCPU_ARRAY svc_id → bpflet_counter_val */
#define BPFLET_MAP_BE_STATS  "bl_best_v1"  /* PERCPU_ARRAY backend_id → bpflet_counter_val */
#define BPFLET_MAP_MON	     "bl_mon_v1"   /* ARRAY[1] of bpflet_mon_ctl */
#define BPFLET_MAP_MON_EV    "bl_monev_v1" /* RINGBUF of bpflet_mon_event */
#define BPFLET_MAP_PCAP	     "bl_pcap_v1"  /* PERF_EVENT_ARRAY: bpflet_pcap_meta + packet */

/* svc ids and backend ids index the stats arrays, so the agent hands out ids below
 * these: no more Services or backends can be live than their maps hold. */
#define BPFLET_SVC_ID_LIMIT BPFLET_MAX_FRONTENDS
#define BPFLET_BE_ID_LIMIT  BPFLET_MAX_BACKENDS

#define BPFLET_MON_F_EVENTS (1u << 0) /* flow, drop and policy events to bl_monev_v1 */
#define BPFLET_MON_F_PCAP   (1u << 1) /* packets to bl_pcap_v1 */

/* A monitor refreshes heartbeat_ns every second; older than this, it is gone. */
#define BPFLET_MON_STALE_NS    (5ull * 1000000000ull)
#define BPFLET_MON_EV_BYTES    (256 * 1024)
#define BPFLET_MON_SNAPLEN_MAX 65000 /* a perf sample's size field is 16 bits */

struct bpflet_mon_ctl {
	__u32 flags;	    /* BPFLET_MON_F_*; 0: no monitor */
	__u32 snaplen;	    /* bytes of each packet captured */
	__u64 heartbeat_ns; /* CLOCK_MONOTONIC_COARSE, as bpf_ktime_get_coarse_ns() */
	__u32 pid;	    /* the monitor's, so a second one can tell it is not alone */
	__be16 pcap_port;   /* capture only packets from or to this port (0: all) */
	__u8 pcap_family;   /* ... and from or to pcap_addr (0: any address) */
	__u8 pad;
	struct bpflet_addr pcap_addr;
	__u64 lost_events; /* events the full ring buffer refused (the programs add) */
};

enum bpflet_mon_type {
	BPFLET_MON_FLOW = 1,   /* a new connection translated to a backend */
	BPFLET_MON_DROP = 2,   /* a packet dropped or rejected, with its counter reason */
	BPFLET_MON_POLICY = 3, /* a NetworkPolicy verdict on a new connection */
};

/* Which program saw the packet. */
enum bpflet_mon_hook {
	BPFLET_HOOK_XDP_UPLINK = 0, /* xdp_uplink: from outside the node */
	BPFLET_HOOK_FROM_POD = 1,   /* tc_pod: sent by a pod */
	BPFLET_HOOK_TO_POD = 2,	    /* tc_pod_to: delivered to a pod */
};

struct bpflet_mon_event {
	__u64 ts_ns; /* bpf_ktime_get_ns() */
	__u8 type;   /* enum bpflet_mon_type */
	__u8 hook;   /* enum bpflet_mon_hook */
	__u8 proto;
	__u8 family; /* enum bpflet_family of every address below */
	__u32 ifindex;
	/* the packet as the program received it: client → frontend for a flow */
	struct bpflet_addr saddr, daddr;
	__be16 sport, dport;
	__u32 reason; /* DROP: enum bpflet_counter */
	/* FLOW: the backend chosen; POLICY: the peer the rules were asked about */
	struct bpflet_addr be_addr;
	__be16 be_port; /* FLOW: the backend's; POLICY: the port asked about */
	__u8 verdict;	/* POLICY: enum bpflet_pol_verdict */
	__u8 dir;	/* POLICY: enum bpflet_pol_dir of the endpoint that decided */
	__u32 svc_id;	/* FLOW */
	__u32 backend_id;
	__u32 len;     /* the packet's length */
	__u32 rule_id; /* POLICY: the rule that allowed (0: none, default deny) */
	__u32 pad;
};

_Static_assert(sizeof(struct bpflet_mon_ctl) % 8 == 0, "bpflet_mon_ctl padding");
_Static_assert(sizeof(struct bpflet_mon_event) % 8 == 0, "bpflet_mon_event padding");

/* Before each captured packet's bytes in a bl_pcap_v1 sample. */
struct bpflet_pcap_meta {
	__u64 ts_ns; /* bpf_ktime_get_ns() */
	__u32 len;   /* the packet's whole length */
	__u32 caplen;
	__u32 ifindex;
	__u8 hook; /* enum bpflet_mon_hook */
	__u8 pad[3];
};

#endif /* BPFLET_MONITOR_ABI_H */
