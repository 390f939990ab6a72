/* Backend selection for a new flow to a frontend. One place for every attach point
 * (pod TC, uplink XDP), so random, Maglev and affinity are decided alike:
 *   affinity (ClientIP, still fresh and its backend still in the Service's slot)
 *   → else Maglev table (flow hash, identical on every node) or a random slot
 *   → affinity entry refreshed for the next flow. */
#ifndef BPFLET_BPF_SELECT_H
#define BPFLET_BPF_SELECT_H

#include "clock.h"
#include "maps.h"
#include "parse.h"

#include <bpflet/jhash.h>

/* The Maglev slot of a flow: maglev_base + flow hash % M. */
static __always_inline __u32 maglev_index(const struct bpflet_fe_val *fe, const struct pkt *p)
{
	__u32 m = fe->flags & BPFLET_FE_F_MAGLEV_LARGE ? BPFLET_MAGLEV_M_LARGE : BPFLET_MAGLEV_M;

	return fe->maglev_base +
	       bl_flow_hash4(p->saddr, p->daddr, p->sport, p->dport, p->proto) % m;
}

/* refresh an affinity entry's time at most this often */
#define AFF_TOUCH_NS 1000000000ull

/* The client's affinity entry if it is fresh and its backend still holds the place it
 * was chosen from (a slot below count, or a Maglev entry), else NULL. */
static __always_inline struct bpflet_aff_val *
affinity_get(const struct bpflet_fe_val *fe, const struct bpflet_aff_key *ak, __u64 now)
{
	struct bpflet_aff_val *av = bpf_map_lookup_elem(&bl_aff_v1, ak);
	struct bpflet_slot_key sk = {.svc_id = fe->svc_id};
	__u32 *id, idx;

	if (!av || now - av->last_seen_ns > (__u64)fe->affinity_timeout * 1000000000ull)
		return NULL;
	if (av->slot & BPFLET_AFF_MAGLEV) {
		idx = av->slot & ~BPFLET_AFF_MAGLEV;
		id = bpf_map_lookup_elem(&bl_mg_v1, &idx);
	} else {
		if (av->slot >= fe->count)
			return NULL;
		sk.slot = av->slot;
		id = bpf_map_lookup_elem(&bl_slot_v1, &sk);
	}
	return id && *id == av->backend_id ? av : NULL;
}

/* The backend for a new flow to @fe, or NULL when a slot or backend is missing
 * (the agent is between writes). *backend_id gets the chosen id. */
static __always_inline struct bpflet_backend *select_backend(const struct bpflet_fe_val *fe,
							     const struct pkt *p, __u32 *backend_id)
{
	struct bpflet_slot_key sk = {.svc_id = fe->svc_id};
	struct bpflet_aff_key ak = {};
	struct bpflet_aff_val *av, nv = {};
	bool affinity = fe->flags & BPFLET_FE_F_AFFINITY;
	__u64 now = 0;
	__u32 *id, idx = 0;

	if (affinity) {
		now = coarse_now();
		ak.client.addr[0] = p->saddr;
		ak.svc_id = fe->svc_id;
		ak.family = BPFLET_AF_INET;
		av = affinity_get(fe, &ak, now);
		if (av) {
			struct bpflet_backend *be = bpf_map_lookup_elem(&bl_be_v1, &av->backend_id);

			if (be) {
				if (now - av->last_seen_ns > AFF_TOUCH_NS)
					av->last_seen_ns = now;
				*backend_id = av->backend_id;
				return be;
			}
		}
	}
	if (fe->flags & BPFLET_FE_F_MAGLEV) {
		idx = maglev_index(fe, p);
		id = bpf_map_lookup_elem(&bl_mg_v1, &idx);
	} else {
		sk.slot = bpf_get_prandom_u32() % fe->count;
		id = bpf_map_lookup_elem(&bl_slot_v1, &sk);
	}
	if (!id)
		return NULL;
	*backend_id = *id;
	if (affinity) {
		/* remember where the backend was found, to check it is still there */
		nv.backend_id = *id;
		nv.last_seen_ns = now;
		nv.slot = fe->flags & BPFLET_FE_F_MAGLEV ? idx | BPFLET_AFF_MAGLEV : sk.slot;
		bpf_map_update_elem(&bl_aff_v1, &ak, &nv, BPF_ANY);
	}
	return bpf_map_lookup_elem(&bl_be_v1, id);
}

#endif
