/* Backend selection for a new flow to a frontend. One place for every attach point
 * (pod TC, uplink XDP), so random, Maglev and affinity are decided alike. */
#ifndef BPFLET_BPF_SELECT_H
#define BPFLET_BPF_SELECT_H

#include "maps.h"
#include "parse.h"

/* The backend for a new flow to @fe, or NULL when a slot or backend is missing
 * (the agent is between writes). *backend_id gets the chosen id. */
static __always_inline struct bpflet_backend *select_backend(const struct bpflet_fe_val *fe,
							     const struct pkt *p,
							     __u32 *backend_id)
{
	struct bpflet_slot_key sk = {.svc_id = fe->svc_id};
	__u32 *id;

	sk.slot = bpf_get_prandom_u32() % fe->count;
	id = bpf_map_lookup_elem(&bl_slot_v1, &sk);
	if (!id)
		return NULL;
	*backend_id = *id;
	return bpf_map_lookup_elem(&bl_be_v1, id);
}

#endif
