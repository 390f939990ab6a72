/*
 * The Service syncer: keeps the frontend, slot, backend and name maps equal to a
 * desired list with the fewest writes, in an order that never shows the dataplane a
 * frontend pointing at a missing slot or backend.
 *
 * It is pure: it keeps a mirror of what the maps hold and emits writes through a
 * bl_map_writer, so it is unit-tested without a kernel. On agent start the mirror is
 * re-adopted from the pinned maps (bl_svc_sync_adopt_*), so ids survive restarts.
 */
#ifndef BPFLET_SVC_SYNC_H
#define BPFLET_SVC_SYNC_H

#include <bpflet/abi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* BL_DP_MAGLEV: key uint32_t entry index, value uint32_t backend id. */
enum bl_dp_map { BL_DP_FE, BL_DP_SLOT, BL_DP_BE, BL_DP_SVCNAME, BL_DP_MAGLEV, BL_DP_MAP_MAX };

struct bl_map_writer {
	void *ctx;
	/* Both return 0 or -errno; a failure stops that frontend's update, which is
	 * retried at the next sync (the mirror records only writes that succeeded). */
	int (*update)(void *ctx, enum bl_dp_map map, const void *key, const void *val);
	int (*remove)(void *ctx, enum bl_dp_map map, const void *key);
	/* Optional, for writers that hold updates back: everything held goes out now.
	 * Called before the syncer reuses what a published entry pointed at. */
	int (*flush)(void *ctx);
};

/* One desired frontend. A backend's identity is {addr, family, port, proto}. */
struct bl_dp_frontend {
	struct bpflet_fe_key key;
	char name[BPFLET_SVC_NAME_LEN];
	uint16_t flags; /* BPFLET_FE_F_*; MAGLEV asks for a table (LARGE is the syncer's) */
	uint32_t affinity_timeout;
	size_t n_backends;
	const struct bpflet_backend *backends;
};

struct bl_sync_stats {
	unsigned updates; /* map entries written */
	unsigned removes; /* map entries deleted */
	unsigned fe_added, fe_changed, fe_removed;
	unsigned be_added, be_removed;
	unsigned errors;	   /* frontends left at their previous state this round */
	unsigned maglev_writes;	   /* Maglev entries written (only changed ones) */
	unsigned maglev_rebuilds;  /* tables recomputed */
	unsigned maglev_fallbacks; /* Maglev wanted, table space full: random used */
};

struct bl_svc_sync;

struct bl_svc_sync *bl_svc_sync_new(void);
void bl_svc_sync_free(struct bl_svc_sync *s);

/* Size of the Maglev map in blocks of BPFLET_MAGLEV_M entries (default
 * BPFLET_MAGLEV_BLOCKS); call before adopting or applying anything. */
int bl_svc_sync_set_maglev_blocks(struct bl_svc_sync *s, uint32_t blocks);

/* Re-adoption from pinned maps, in any order, then adopt_done once. */
int bl_svc_sync_adopt_frontend(struct bl_svc_sync *s, const struct bpflet_fe_key *k,
			       const struct bpflet_fe_val *v);
int bl_svc_sync_adopt_slot(struct bl_svc_sync *s, const struct bpflet_slot_key *k,
			   uint32_t backend_id);
int bl_svc_sync_adopt_backend(struct bl_svc_sync *s, uint32_t id, const struct bpflet_backend *b);
/* Drops adopted slots of unknown services and counts references. Returns the
 * number of orphan entries found (they are removed by the next apply). */
int bl_svc_sync_adopt_done(struct bl_svc_sync *s, const struct bl_map_writer *w);

/* Make the maps equal to `want` (n entries, keys unique). Returns 0, or -errno of
 * the first failure (stats->errors says how many frontends kept their old state). */
int bl_svc_sync_apply(struct bl_svc_sync *s, const struct bl_dp_frontend *want, size_t n,
		      const struct bl_map_writer *w, struct bl_sync_stats *stats);

/* Only the frontends named: `want` written (added or changed), `gone` removed (keys
 * not in the mirror are ignored), then the backends nobody points at any more are
 * deleted. Every other frontend stays as it is. Same returns as bl_svc_sync_apply. */
int bl_svc_sync_apply_delta(struct bl_svc_sync *s, const struct bl_dp_frontend *want, size_t n,
			    const struct bpflet_fe_key *gone, size_t n_gone,
			    const struct bl_map_writer *w, struct bl_sync_stats *st);
/* Mirror sizes, for metrics and tests. */
size_t bl_svc_sync_frontends(const struct bl_svc_sync *s);
size_t bl_svc_sync_backends(const struct bl_svc_sync *s);
/* Calls fn for every published {svc_id, backend_id} pair; stops at a non-zero return. */
int bl_svc_sync_for_each_member(const struct bl_svc_sync *s,
				int (*fn)(void *arg, uint32_t svc_id, uint32_t backend_id),
				void *arg);
/* svc_id of a frontend in the mirror, 0 if absent. */
uint32_t bl_svc_sync_svc_id(const struct bl_svc_sync *s, const struct bpflet_fe_key *k);

#endif
