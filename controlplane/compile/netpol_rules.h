/*
 * The pieces of NetworkPolicy semantics both policy compilers use (netpol.c, whole;
 * netpol_incr.c, by change): policyTypes defaults, which peer takes which identity,
 * and a rule's ports as LPM entries (named ports resolved on the destination pod,
 * endPort ranges as aligned blocks).
 */
#ifndef BPFLET_NETPOL_RULES_H
#define BPFLET_NETPOL_RULES_H

#include "agent/common/netaddr.h"
#include "controlplane/compile/netpol.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* An IPv4 ipBlock: cidr minus its excepts. */
#define BL_NP_MAX_EXCEPT 64
struct bl_np_block {
	struct bl_cidr4 cidr, ex[BL_NP_MAX_EXCEPT];
	size_t n_ex;
};

/* Membership of an address range (a /32 for a pod) in each of blocks[0..n), as '0'/'1'
 * in bits[0..n) (NUL-terminated). */
void bl_np_block_bits(const struct bl_np_block *blocks, size_t n, const struct bl_cidr4 *r,
		      char *bits);
/* A pod identity's signature: "P<bits>\n<ns>\n<labels>\n<ports>" (labels and all
 * containers' ports as sorted JSON). NULL on ENOMEM; caller frees. */
char *bl_np_pod_sig(const char *bits, const char *ns, const json_t *labels,
		    const json_t *containers);
/* FNV-1a: an identity is its signature's hash (clashes resolved by the callers). */
uint32_t bl_np_fnv1a(const char *s);
/* One LPM entry: key fields past the prefix left zero. */
void bl_np_rule_fill(struct bl_pol_rule *r, uint32_t ep, uint32_t peer, uint8_t dir, uint8_t proto,
		     uint16_t port, uint32_t plen, uint32_t rule_id);

/* Does the policy (its spec) isolate for "Ingress" / "Egress"? Ingress by default,
 * Egress when spec.egress is set. */
bool bl_np_lists_type(const json_t *spec, const char *type);
/* The peer's ipBlock when it is an IPv4 one (IPv6 blocks never match), else NULL. */
const json_t *bl_np_v4_block(const json_t *peer);

/* An identity as a peer sees it: a pod's namespace, its namespace's labels and its
 * own labels; or an address range (ns NULL) with its membership of the ipBlocks. */
struct bl_np_ident {
	const char *ns;
	const json_t *ns_labels, *labels;
	const char *block_bits; /* '0'/'1' per ipBlock, in block order */
};

/* Does peer (of a policy in pol_ns; its ipBlock, if any, is number block_idx) take
 * identity k? */
bool bl_np_peer_matches(const struct bl_np_ident *k, const json_t *peer, const char *pol_ns,
			size_t block_idx, size_t n_blocks);

/* Receives each LPM entry of a rule (ep, peer, dir, proto, port, prefix length). */
typedef int (*bl_np_push_fn)(void *ctx, uint32_t ep, uint32_t peer, uint8_t dir, uint8_t proto,
			     uint16_t port, uint32_t plen, uint32_t rule_id);

/* The entries of one rule's ports for endpoint ep (host order, its containers for
 * ingress named ports) and one peer identity (peer_containers: a pod carrying it, for
 * egress named ports; NULL for ranges and the wildcard). */
int bl_np_emit_ports(uint32_t ep, const json_t *ep_containers, uint32_t peer,
		     const json_t *peer_containers, uint8_t dir, const json_t *ports,
		     uint32_t rule_id, bl_np_push_fn push, void *ctx);
bool bl_np_has_named_port(const json_t *ports);

#endif
