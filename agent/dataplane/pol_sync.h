/*
 * Writes a compiled NetworkPolicy table (controlplane/compile/netpol.h) into the
 * policy maps, only what differs from the table written last. Allow entries and
 * identities go in before endpoints become isolated, and leave after, so a change
 * never denies a connection that both the old and the new policy allow.
 */
#ifndef BPFLET_POL_SYNC_H
#define BPFLET_POL_SYNC_H

#include "controlplane/compile/netpol.h"
#include "controlplane/compile/netpol_incr.h"

/* ipcache: the LPM of prefixes shorter than /32; ipcache_host: the HASH of /32s. The
 * table's ipcache entries go to one or the other by prefix length. */
struct bl_pol_fds {
	int ipcache, ipcache_host, rules, endpoints, names;
};

struct bl_pol_sync_stats {
	unsigned writes, removes, errors;
};

/* Applies next over prev (prev may be an empty table). On success prev should be
 * replaced by next; on error (-errno) the maps hold a mix and the caller retries. */
int bl_pol_sync(const struct bl_pol_fds *fds, const struct bl_pol_table *prev,
		const struct bl_pol_table *next, struct bl_pol_sync_stats *st);

/* Writes a delta of the incremental compiler (names from c), in the same safe order:
 * names, allow entries, identities, isolation; then isolation lifted, entries and
 * identities removed. On error (-errno) the maps hold a mix: the caller rewrites them
 * whole from the compiler's table (bl_pol_sync over bl_pol_read_maps). */
int bl_pol_sync_delta(const struct bl_pol_fds *fds, const struct bl_netpol_incr *c,
		      const struct bl_pol_delta *d, struct bl_pol_sync_stats *st);
/* What the ipcache, rule and endpoint maps hold now (rule names left empty). */
int bl_pol_read_maps(const struct bl_pol_fds *fds, struct bl_pol_table *t);
/* The same of layout-1 maps (fds->ipcache the one trie of every prefix, endpoints
 * without classes: computed from the rules); fds->ipcache_host unused. */
int bl_pol_read_maps_v1(const struct bl_pol_fds *fds, struct bl_pol_table *t);

#endif
