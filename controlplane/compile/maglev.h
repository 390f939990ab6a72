/*
 * Maglev lookup tables (Eisenbud et al., NSDI 2016): each backend walks its own
 * permutation of the M slots (offset + j * skip, from two hashes of its identity) and
 * the backends take turns claiming the next free slot of their walk. The result
 * depends only on the set of backend identities, never on their order or on local
 * ids, so every node builds the same table; a change of one backend moves only about
 * M / N slots. Pure code, no kernel.
 */
#ifndef BPFLET_MAGLEV_H
#define BPFLET_MAGLEV_H

#include <bpflet/abi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Table size for a Service with n backends: BPFLET_MAGLEV_M, or BPFLET_MAGLEV_M_LARGE
 * past BPFLET_MAGLEV_LARGE_THRESHOLD. */
uint32_t bl_maglev_size(size_t n);
bool bl_maglev_is_prime(uint32_t m);

/* Fills table[0..m-1] with indexes into be[0..n-1]. m must be prime and >= n, n >= 1.
 * Returns 0, -EINVAL or -ENOMEM. */
int bl_maglev_build(const struct bpflet_backend *be, size_t n, uint32_t m, uint32_t *table);

#endif
