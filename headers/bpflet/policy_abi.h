/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NetworkPolicy map ABI (same rules as abi.h: fixed widths, explicit padding).
 *
 * ipcache: address → peer identity, in two maps read as one longest match: a HASH of
 * the /32s (every pod IP, and an ipBlock cidr or except that is one address) and an
 * LPM trie of the shorter prefixes (every other ipBlock cidr and except, and
 * 0.0.0.0/0 for the rest). A /32 is always the longest match, so the program asks the
 * hash first and the trie only on a miss: the trie holds ipBlocks, never pods, and its
 * depth stays within 32 whatever the cluster's size. The longest match names the
 * identity whose policy membership is right for the address. Identities are shared by
 * pods with the same namespace, labels, named ports and ipBlock membership.
 *
 * policy: one HASH for all endpoints, keyed {prefix length, endpoint IP, peer, dir,
 * proto, port} with the bits after the prefix length zero. The endpoint, peer and
 * direction are always matched in full; a prefix ending before proto allows every
 * protocol and port, one ending inside port covers an aligned port block, so an
 * endPort range is a few entries. Each prefix length is a class (bpflet_pol_class);
 * the endpoint's entry lists the classes its entries use per direction, and the
 * program asks one exact lookup per listed class, longest first, for the real peer
 * and then for BPFLET_POL_PEER_ANY (the wildcard row): at most 2 x 18 lookups and
 * usually one or two, however many rules the endpoint has.
 *
 * endpoints: HASH pod IP → isolation flags and the classes of its entries. A pod
 * absent here, or without the flag for a direction, is not isolated in that direction
 * (default allow).
 *
 * Layouts: bl_ipc_v1 (every prefix in one trie), bl_pol_v1 (an LPM trie of the same
 * key) and bl_polep_v1 (flags only) are the previous layout; a new agent copies them
 * into the new maps before its programs replace the old ones, then removes them
 * (agent/dataplane/pol_migrate.c).
 */
#ifndef BPFLET_POLICY_ABI_H
#define BPFLET_POLICY_ABI_H

#include <linux/types.h>

#define BPFLET_MAP_IPCACHE	"bl_ipc_v2"  /* LPM: prefixes shorter than /32 */
#define BPFLET_MAP_IPCACHE_HOST "bl_ipch_v1" /* HASH: /32s */
#define BPFLET_MAP_POLICY	"bl_pol_v2"
#define BPFLET_MAP_POL_EP	"bl_polep_v2"
#define BPFLET_MAP_IPCACHE_V1	"bl_ipc_v1"
#define BPFLET_MAP_POLICY_V1	"bl_pol_v1"
#define BPFLET_MAP_POL_EP_V1	"bl_polep_v1"
#define BPFLET_MAX_IPCACHE	262144
#define BPFLET_MAX_IPCACHE_CIDR 65536
#define BPFLET_MAX_POLICY	1048576
#define BPFLET_MAX_POL_EP	65536
#define BPFLET_MAP_POL_CT	"bl_polct_v1"
#define BPFLET_MAP_POL_CNT	"bl_polcnt_v1"
#define BPFLET_MAP_POL_NAME	"bl_polname_v1"
#define BPFLET_MAP_POL_EV	"bl_polev_v1"
#define BPFLET_POL_CT_MAX	262144
#define BPFLET_POL_RULES	65536 /* rule ids 1..65535; 0 = "not isolated" */
#define BPFLET_POL_EV_BYTES	(256 * 1024)
#define BPFLET_POL_NAME_LEN	124

#define BPFLET_POL_PEER_ANY 0u	 /* wildcard peer: empty from/to */
#define BPFLET_POL_PEER_MIN 256u /* first compiled identity; below are reserved */

enum bpflet_pol_dir {
	BPFLET_POL_INGRESS = 0, /* traffic to the endpoint; peer = source */
	BPFLET_POL_EGRESS = 1,	/* traffic from the endpoint; peer = destination */
};

/* Bits of the key data (after prefixlen) up to and including each field. */
#define BPFLET_POL_PLEN_DIR   72u /* ep + peer + dir: any protocol, any port */
#define BPFLET_POL_PLEN_PROTO 80u /* + proto: any port of that protocol */
#define BPFLET_POL_PLEN_FULL  96u /* + port: one port */

/* Classes of prefix length, one bit each in bpflet_pol_ep.classes: 0 is
 * BPFLET_POL_PLEN_DIR, 1 BPFLET_POL_PLEN_PROTO, 1 + n a port prefix of n bits (17: one
 * port). No other prefix length is valid. */
#define BPFLET_POL_CLASSES 18

static inline __u32 bpflet_pol_class(__u32 prefixlen)
{
	return prefixlen <= BPFLET_POL_PLEN_DIR ? 0 : prefixlen - (BPFLET_POL_PLEN_PROTO - 1);
}

static inline __u32 bpflet_pol_class_plen(__u32 cls)
{
	return cls ? BPFLET_POL_PLEN_PROTO - 1 + cls : BPFLET_POL_PLEN_DIR;
}

struct bpflet_ipcache_key {
	__u32 prefixlen; /* 0..32 */
	__be32 addr;
};

struct bpflet_ipcache_val {
	__u32 id; /* peer identity, >= BPFLET_POL_PEER_MIN */
	__u32 pad;
};

struct bpflet_pol_key {
	__u32 prefixlen; /* BPFLET_POL_PLEN_DIR .. BPFLET_POL_PLEN_FULL (see classes) */
	__be32 ep_addr;	 /* the local pod the policy protects */
	__u32 peer_id;	 /* host order; always matched in full */
	__u8 dir;	 /* enum bpflet_pol_dir */
	__u8 proto;	 /* IPPROTO_TCP / UDP / SCTP */
	__be16 port;	 /* destination port, network order (prefix bits high first) */
};

struct bpflet_pol_val {
	__u32 rule_id; /* which policy rule allowed it (first one), for inspection */
	__u32 pad;
};

#define BPFLET_POL_EP_ISOLATED_INGRESS (1u << 0)
#define BPFLET_POL_EP_ISOLATED_EGRESS  (1u << 1)

struct bpflet_pol_ep {
	__u32 flags;	  /* BPFLET_POL_EP_* */
	__u32 classes[2]; /* by enum bpflet_pol_dir: bit c set = an entry of class c */
	__u32 pad;
};

/* layout 1 of the endpoint value (bl_polep_v1), for the migration */
struct bpflet_pol_ep_v1 {
	__u32 flags;
	__u32 pad;
};

/*
 * Policy conntrack: one entry per direction the verdict was taken for, keyed by the
 * tuple as the hook sees it. An allowed connection gets the entry for its own hook and
 * one for the hook its replies reach (the reverse tuple, before the Service
 * translation for a ClusterIP flow), so replies pass without a lookup of the rules.
 * Denies are never stored: a policy that starts allowing a peer is seen at once.
 * Entries for BPFLET_POL_HOOK_FROM_POD live in the Service conntrack instead, as pass
 * entries (abi.h), found by the lookup tc_pod does first; this map holds those of
 * BPFLET_POL_HOOK_TO_POD.
 */
enum bpflet_pol_hook {
	BPFLET_POL_HOOK_FROM_POD = 0, /* tc_pod: packets the pod sends (its egress) */
	BPFLET_POL_HOOK_TO_POD = 1,   /* tc_pod_to: packets delivered to the pod (ingress) */
};

struct bpflet_polct_key {
	__be32 saddr, daddr;
	__be16 sport, dport;
	__u8 proto;
	__u8 hook; /* enum bpflet_pol_hook */
	__u16 pad;
};

#define BPFLET_POLCT_F_REPLY 1u /* entry made for the replies of a connection */
#define BPFLET_POLCT_F_AUDIT 2u /* --policy-audit let a would-be deny through */

struct bpflet_polct_val {
	__u64 last_seen_ns; /* coarse monotonic clock, as conntrack */
	__u32 rule_id;	    /* the rule that allowed it; 0: endpoint not isolated */
	__u32 flags;	    /* BPFLET_POLCT_F_* */
};

/* A decision on a new connection, for `bpfletctl monitor` (ring buffer bl_polev_v1). */
enum bpflet_pol_verdict {
	BPFLET_POL_DENY = 0,
	BPFLET_POL_AUDIT = 1, /* denied by policy, passed by --policy-audit */
	BPFLET_POL_ALLOW = 2,
};

struct bpflet_pol_event {
	__u64 ts_ns; /* bpf_ktime_get_ns() */
	__be32 saddr, daddr;
	__be16 sport, dport;
	__u8 proto;
	__u8 dir;     /* enum bpflet_pol_dir of the endpoint that decided */
	__u8 verdict; /* enum bpflet_pol_verdict */
	__u8 pad;
	__u32 rule_id;
	__u32 ifindex;
	__u32 peer_id;
	__u32 pad2;
};

/* rule id → "namespace/policy ingress[i]" for bpftool and bpfletctl. */
struct bpflet_pol_name {
	char name[BPFLET_POL_NAME_LEN];
	__u32 pad;
};

#endif /* BPFLET_POLICY_ABI_H */
