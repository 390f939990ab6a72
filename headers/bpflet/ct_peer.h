/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The other direction's conntrack key of an entry: the BPF programs (window tracking,
 * RST clean-up) and userspace (GC, bpfletctl) must agree on it, so there is one copy.
 */
#ifndef BPFLET_CT_PEER_H
#define BPFLET_CT_PEER_H

#include <bpflet/abi.h>
#include <stdbool.h>

#ifdef __bpf__
#define BPFLET_CT_INLINE static __always_inline
#else
#define BPFLET_CT_INLINE static inline
#endif

/* k/v: an entry; out: the key of its other direction.
 *   FORWARD client → VIP        peer: backend → client (hairpin: → hairpin address;
 *                                      SNAT: → this node at the SNAT port)
 *   REPLY   backend → client    peer: client → VIP (hairpin: the hairpin address is
 *                                      the client; SNAT: the real client and its port) */
BPFLET_CT_INLINE void bpflet_ct_peer_key(struct bpflet_ct_key *out, const struct bpflet_ct_key *k,
					 const struct bpflet_ct_val *v)
{
	bool hairpin = v->flags & BPFLET_CT_F_HAIRPIN, snat = v->flags & BPFLET_CT_F_SNAT;

	__builtin_memset(out, 0, sizeof(*out));
	out->proto = k->proto;
	out->family = k->family;
	if (v->dir == BPFLET_CT_FORWARD) {
		out->saddr = v->nat_addr;
		out->daddr = (hairpin || snat) ? v->hairpin_addr : k->saddr;
		out->sport = v->nat_port;
		out->dport = snat ? v->hairpin_port : k->sport;
	} else {
		out->saddr = (hairpin || snat) ? v->hairpin_addr : k->daddr;
		out->daddr = v->nat_addr;
		out->sport = snat ? v->hairpin_port : k->dport;
		out->dport = v->nat_port;
	}
}

#endif /* BPFLET_CT_PEER_H */
