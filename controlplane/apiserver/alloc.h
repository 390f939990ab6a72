/* A set of allocated numbers in [lo, hi]: ClusterIPs (host-order IPv4) and NodePorts. */
#ifndef BPFLET_CP_ALLOC_H
#define BPFLET_CP_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

struct bl_alloc_entry;

struct bl_alloc {
	uint32_t lo, hi;
	uint32_t dyn_lo; /* random picks start here: the band below is for explicit asks */
	struct bl_alloc_entry *used;
};

void bl_alloc_init(struct bl_alloc *a, uint32_t lo, uint32_t hi, uint32_t dyn_lo);
void bl_alloc_free(struct bl_alloc *a);
/* -ERANGE outside [lo, hi], -EEXIST when taken, 0 when now ours. */
int bl_alloc_take(struct bl_alloc *a, uint32_t v);
/* A free value picked at random; -ENOSPC when full. */
int bl_alloc_any(struct bl_alloc *a, uint32_t *v);
void bl_alloc_release(struct bl_alloc *a, uint32_t v);
bool bl_alloc_used(struct bl_alloc *a, uint32_t v);

#endif
