/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The map ABI shared by the BPF programs and userspace (agent, bpfletctl, tests).
 *
 * Rules: fixed-width types only, explicit padding (every struct is a multiple of 8
 * bytes or documents why not), addresses and ports in network byte order as they
 * appear on the wire. Changing any layout here means bumping BPFLET_ABI_VERSION,
 * which is part of every pinned map's name, so an old agent's maps are never read
 * with a new layout.
 */
#ifndef BPFLET_ABI_H
#define BPFLET_ABI_H

#include <linux/types.h>

#define BPFLET_ABI_VERSION 1
#define BPFLET_PIN_ROOT	   "/sys/fs/bpf/bpflet"

/* Map names as seen by bpftool; they are also the pin file names. */
#define BPFLET_MAP_FRONTENDS "bl_fe_v1"
#define BPFLET_MAP_SLOTS     "bl_slot_v1"
#define BPFLET_MAP_BACKENDS  "bl_be_v1"
#define BPFLET_MAP_CT_TCP    "bl_ct_tcp_v2"
#define BPFLET_MAP_CT_ANY    "bl_ct_any_v2"
/* The conntrack maps of layout 1 (struct bpflet_ct_val without `win`): a new agent
 * copies their entries into the v2 maps and removes them (agent/dataplane/ct_migrate.c). */
#define BPFLET_MAP_CT_TCP_V1 "bl_ct_tcp_v1"
#define BPFLET_MAP_CT_ANY_V1 "bl_ct_any_v1"
#define BPFLET_MAP_COUNTERS  "bl_cnt_v1"
#define BPFLET_MAP_SVC_NAMES "bl_svcname_v1"

/* Map sizes. Conntrack sizes are defaults; the agent may resize before load. */
#define BPFLET_MAX_FRONTENDS  262144
#define BPFLET_MAX_SLOTS      1048576
#define BPFLET_MAX_BACKENDS   262144
#define BPFLET_CT_TCP_DEFAULT 524288
#define BPFLET_CT_ANY_DEFAULT 131072
#define BPFLET_SVC_NAME_LEN   124

enum bpflet_family {
	BPFLET_AF_INET = 4,
	BPFLET_AF_INET6 = 6,
};

/* Which traffic a frontend serves: kube-proxy keeps internal (ClusterIP, from pods)
 * and external (NodePort/LB/externalIPs, from outside) policies apart. */
enum bpflet_scope {
	BPFLET_SCOPE_EXTERNAL = 0,
	BPFLET_SCOPE_INTERNAL = 1,
};

/* An IPv4 address sits in addr[0]; the other words are zero until IPv6 lands. */
struct bpflet_addr {
	__u32 addr[4];
};

/* frontends: {vip, port, proto, scope} → service */
struct bpflet_fe_key {
	struct bpflet_addr addr;
	__u16 port;  /* network order */
	__u8 proto;  /* IPPROTO_TCP / IPPROTO_UDP / IPPROTO_SCTP */
	__u8 family; /* enum bpflet_family */
	__u8 scope;  /* enum bpflet_scope */
	__u8 pad[3];
};

#define BPFLET_FE_F_AFFINITY	 (1u << 0) /* sessionAffinity: ClientIP */
#define BPFLET_FE_F_MAGLEV	 (1u << 1) /* select through the Maglev table at maglev_base */
#define BPFLET_FE_F_MAGLEV_LARGE (1u << 2) /* that table has BPFLET_MAGLEV_M_LARGE entries */

struct bpflet_fe_val {
	__u32 svc_id;		/* also the reverse-NAT id */
	__u16 count;		/* usable backends in slots 0..count-1; 0 means reject */
	__u16 flags;		/* BPFLET_FE_F_* */
	__u32 affinity_timeout; /* seconds */
	__u32 maglev_base;	/* first entry of the Maglev table (BPFLET_FE_F_MAGLEV) */
};

/* backend slots: {svc_id, slot} → backend_id */
struct bpflet_slot_key {
	__u32 svc_id;
	__u32 slot;
};

enum bpflet_backend_state {
	BPFLET_BE_ACTIVE = 0,
	BPFLET_BE_TERMINATING = 1,
};

#define BPFLET_BE_F_LOCAL (1u << 0) /* endpoint runs on this node */

/* backends: backend_id → {addr, port, proto, ...} */
struct bpflet_backend {
	struct bpflet_addr addr;
	__u16 port; /* network order */
	__u8 proto;
	__u8 family;
	__u8 state; /* enum bpflet_backend_state */
	__u8 flags; /* BPFLET_BE_F_* */
	__u16 zone; /* zone id, 0 = unknown */
};

/* Conntrack key: the 5-tuple exactly as a packet carries it on the wire. A flow
 * through a Service has two entries: the forward one (client → VIP) and the reply
 * one (backend → client, as the backend sends it). */
struct bpflet_ct_key {
	struct bpflet_addr saddr;
	struct bpflet_addr daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 family;
	__u8 pad[2];
};

enum bpflet_ct_dir {
	BPFLET_CT_FORWARD = 0, /* rewrite destination to the backend */
	BPFLET_CT_REPLY = 1,   /* rewrite source back to the VIP */
};

#define BPFLET_CT_F_SYN_SEEN	(1u << 0)
#define BPFLET_CT_F_SYNACK_SEEN (1u << 1)
#define BPFLET_CT_F_FIN_SEEN	(1u << 2)
#define BPFLET_CT_F_RST_SEEN	(1u << 3)
#define BPFLET_CT_F_HAIRPIN	(1u << 4) /* source was rewritten to the hairpin address */
/* North-south flow to a backend on another node (uplink XDP): FORWARD also writes
 * hairpin_addr:hairpin_port (this node) as source, REPLY writes it (the external
 * client) as destination; the packet leaves by the uplink again. */
#define BPFLET_CT_F_SNAT (1u << 5)
/* North-south flow to a backend on this node (uplink XDP, DNAT only): tc_pod sends
 * the reverse-translated reply out by the FIB itself, because its source is now this
 * node's address and the kernel's input path would drop it as martian. */
#define BPFLET_CT_F_NORTH_SOUTH (1u << 6)
/* --lb-mode dsr. Ingress node: FORWARD also wraps the packet in IPIP to the backend,
 * the outer header carrying hairpin_addr:hairpin_port (the frontend). Backend's node:
 * the REPLY entry the unwrapped packet left; tc_pod clamps the MSS of its SYN-ACK. */
#define BPFLET_CT_F_DSR (1u << 7)

/* TCP window tracking (after Linux conntrack's tcp_in_window, from "Real Stateful TCP
 * Packet Filtering in IP Filter", G. van Rooij) of one direction: the sender of the
 * packets that carry this entry's key. Sequence numbers in host order. All zero
 * (state 0) means not tracked yet: the next packet is taken as it comes. */
#define BPFLET_CT_W_TRACKED (1u << 0) /* end/maxwin hold this side's values */
#define BPFLET_CT_W_ACKED   (1u << 1) /* ack_limit holds a value (this side sent an ACK) */
#define BPFLET_CT_W_WSCALE  (1u << 2) /* this side's SYN offered window scaling */
#define BPFLET_CT_W_DATA    (1u << 3) /* a non-SYN packet passed: the handshake is behind */
#define BPFLET_CT_W_PICKUP  (1u << 4) /* taken up mid-stream: window scale unknown (14 assumed) */
#define BPFLET_CT_W_ONEWAY  (1u << 5) /* the other direction is not tracked here (DSR) */

struct bpflet_ct_tcp_win {
	__u32 end;	   /* highest sequence number sent, plus its length */
	__u32 ack_limit;   /* highest ack + scaled window sent: the peer's sequence limit */
	__u32 maxwin;	   /* largest scaled window sent (at least 1) */
	__u32 peer_limit;  /* copy of the peer entry's ack_limit: this side's sequence limit */
	__u32 peer_maxwin; /* copy of the peer entry's maxwin */
	__u8 wscale;	   /* window scale of this side (RFC 7323), 0 unless both offered it */
	__u8 state;	   /* BPFLET_CT_W_* */
	__u16 pad;
};

/* A NetworkPolicy pass entry: FORWARD with svc_id 0 and nat_addr/nat_port equal to the
 * key's destination (nothing to translate), backend_id = the policy rule that allowed
 * the flow (0: the pod is not isolated that way). It holds the verdict of a direct
 * flow a pod sends (headers/bpflet/policy_abi.h), so its later packets need no other
 * lookup. When the destination is a pod of this node, pol_to also carries the
 * verdict its tc_pod_to keeps for the tuple, which tc_pod hands on with the packet:
 * 0 not recorded (tc_pod_to asks its own maps), BPFLET_CT_POL_TO_NO_RULE allowed
 * while the destination was not isolated that way, else the rule id. */
#define BPFLET_CT_POL_TO_NONE	 0u
#define BPFLET_CT_POL_TO_NO_RULE 0xffffu

struct bpflet_ct_val {
	/* FORWARD: the backend's address/port to write as destination.
	 * REPLY: the VIP address/port to write as source. */
	struct bpflet_addr nat_addr;
	/* Hairpin / SNAT only: FORWARD writes this as source (the hairpin address, or
	 * this node with hairpin_port), REPLY writes it as destination (the original
	 * client, with hairpin_port under SNAT). Zero otherwise. */
	struct bpflet_addr hairpin_addr;
	__u16 nat_port;
	__u16 hairpin_port;
	__u8 dir;   /* enum bpflet_ct_dir */
	__u8 flags; /* BPFLET_CT_F_* */
	/* the verdict tc_pod_to keeps at the destination pod (its policy conntrack entry)
	 * for the tuple this entry's packets have once translated, BPFLET_CT_POL_TO_*: on
	 * pass entries and on Service entries between pods of this node; zero in older
	 * entries */
	__u16 pol_to;
	__u32 svc_id;
	__u32 backend_id;
	__u64 created_ns; /* bpf_ktime_get_coarse_ns(): CLOCK_MONOTONIC_COARSE */
	__u64 last_seen_ns;
	/* layout 2: everything above is layout 1 unchanged, so a v1 entry becomes a v2 one
	 * by appending a zero `win` (not tracked yet) */
	struct bpflet_ct_tcp_win win; /* TCP only; zero for other protocols */
};

#define BPFLET_CT_VAL_V1_SIZE 64
_Static_assert(__builtin_offsetof(struct bpflet_ct_val, win) == BPFLET_CT_VAL_V1_SIZE,
	       "conntrack layout 1 must stay the prefix of layout 2");
_Static_assert(sizeof(struct bpflet_ct_val) % 8 == 0, "conntrack value padding");

/* Per-CPU counters, one slot per reason; index = enum bpflet_counter. */
enum bpflet_counter {
	BPFLET_CNT_PASS = 0,	       /* not Service traffic, untouched */
	BPFLET_CNT_DNAT_NEW,	       /* new flow translated to a backend */
	BPFLET_CNT_DNAT_EST,	       /* established flow, forward direction */
	BPFLET_CNT_RNAT,	       /* reply reverse-translated to the VIP */
	BPFLET_CNT_REJECT_TCP,	       /* no endpoints: TCP RST sent */
	BPFLET_CNT_REJECT_UDP,	       /* no endpoints: ICMP port unreachable sent */
	BPFLET_CNT_DROP_MALFORMED,     /* truncated or invalid headers */
	BPFLET_CNT_DROP_NO_BACKEND,    /* slot or backend missing (agent mid-update) */
	BPFLET_CNT_DROP_CT_FULL,       /* conntrack insert failed */
	BPFLET_CNT_DROP_REWRITE,       /* a helper failed while rewriting */
	BPFLET_CNT_DROP_REJECT_FAILED, /* could not build the reject reply */
	BPFLET_CNT_FRAGMENT,	       /* IPv4 fragment of no tracked flow, passed untouched */
	BPFLET_CNT_NON_IP,	       /* not IPv4, passed untouched */
	BPFLET_CNT_DROP_CT_INVALID,    /* TCP to a Service: not a SYN without conntrack, or
					  an invalid flag combination (SYN+FIN, none, ...) */
	BPFLET_CNT_DROP_NO_LOCAL,      /* traffic policy Local, no endpoint on this node */
	BPFLET_CNT_ICMP_ERROR_NAT,     /* ICMP error about a translated flow, translated */
	BPFLET_CNT_FRAGMENT_NAT,       /* later IPv4 fragment of a translated datagram */
	BPFLET_CNT_XDP_LOCAL,	       /* uplink: north-south packet translated to a local pod */
	BPFLET_CNT_XDP_TX,	       /* uplink: translated and sent back out (remote backend) */
	BPFLET_CNT_DROP_NO_ROUTE,      /* uplink: no route or neighbour for the translated packet */
	BPFLET_CNT_DROP_SRC_RANGE,     /* uplink: source outside loadBalancerSourceRanges */
	BPFLET_CNT_DSR_IN,	       /* uplink: DSR packet from an ingress node, unwrapped */
	BPFLET_CNT_DROP_POLICY,	       /* NetworkPolicy denied a new connection */
	BPFLET_CNT_POLICY_AUDIT,       /* --policy-audit: would have been denied, passed */
	BPFLET_CNT_DROP_CT_WINDOW,     /* TCP segment outside the flow's window (conntrack) */
	BPFLET_CNT_DSR_FRAG_NEEDED,  /* uplink: too big for the DSR tunnel, ICMP frag-needed sent */
	BPFLET_CNT_DROP_DSR_TOO_BIG, /* uplink: too big for the DSR tunnel and no DF: dropped */
	BPFLET_CNT_FRAGMENT_HELD,    /* later fragment ahead of its first: held for it */
	BPFLET_CNT_FRAGMENT_REPLAYED, /* a held fragment sent on behind its first */
	BPFLET_CNT_MAX,
};

/* The counters map's size: room beyond BPFLET_CNT_MAX, so a new reason is not a new
 * layout (an older pinned map keeps loading; the extra slots read as zero). */
#define BPFLET_CNT_SLOTS 64
_Static_assert(BPFLET_CNT_MAX <= BPFLET_CNT_SLOTS, "counter reasons exceed the map");

struct bpflet_counter_val {
	__u64 packets;
	__u64 bytes;
};

/* Service names for inspection only (bpftool prints them); never read per packet. */
struct bpflet_svc_name {
	char name[BPFLET_SVC_NAME_LEN]; /* "namespace/name:port-name" */
	__u32 pad;
};

#include <bpflet/frag.h>
#include <bpflet/svc_lb.h>

#endif /* BPFLET_ABI_H */
