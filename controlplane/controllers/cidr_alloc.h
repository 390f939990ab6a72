/* Nodes' pod CIDRs: the cluster CIDR cut into blocks of one prefix length, handed out
 * lowest free first, each to one owner. Pure; the controller keeps it in step with the
 * stored Nodes. */
#ifndef BPFLET_CTL_CIDR_ALLOC_H
#define BPFLET_CTL_CIDR_ALLOC_H

#include "agent/common/netaddr.h"

#include <stddef.h>
#include <stdint.h>

struct bl_cidr_alloc {
	struct bl_cidr4 cluster;
	int mask;     /* prefix length of each block */
	size_t n;     /* blocks */
	size_t nused; /* blocks taken */
	uint8_t *used;
};

/* 0, or -1 when mask is not in cluster.plen..30 (or more than 2^24 blocks). */
int bl_cidr_alloc_init(struct bl_cidr_alloc *a, const struct bl_cidr4 *cluster, int mask);
void bl_cidr_alloc_free(struct bl_cidr_alloc *a);

/* Takes the lowest free block, written "10.244.3.0/24" into buf (32 bytes). 0, or -1 when
 * every block is taken. */
int bl_cidr_alloc_next(struct bl_cidr_alloc *a, char *buf, size_t len);
/* Marks cidr (an existing allocation, as text) taken: 0; -EEXIST when it already is;
 * -ERANGE when it is not one of the blocks (outside the cluster CIDR, another prefix
 * length, not aligned); -EINVAL when it is not a CIDR. */
int bl_cidr_alloc_adopt(struct bl_cidr_alloc *a, const char *cidr);
/* Frees cidr: 0, or -ERANGE/-EINVAL as adopt, -ENOENT when it was free. */
int bl_cidr_alloc_release(struct bl_cidr_alloc *a, const char *cidr);

#endif
