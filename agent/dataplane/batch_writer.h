/*
 * Map writes gathered and sent with BPF_MAP_UPDATE_BATCH: the first sync of a node
 * with 10k Services writes ~200k entries, one syscall each otherwise. Updates wait in
 * per-map buffers and go out in dependency order (backends, names, slots, Maglev,
 * frontends) before any removal and at the end, so the maps never show a frontend
 * pointing at an entry not written yet.
 *
 * Published entries stay consistent: a removal, and the syncer's barrier before it
 * reuses Maglev blocks a published frontend read, send what waits first, so no
 * frontend in the map ever points at an entry rewritten for another.
 *
 * The syncer records a write as done when update returns; a batch that fails later
 * cannot undo that, so bl_batch_flush reports it and the caller re-reads its mirror
 * from the maps (entries that did land stay; the next sync writes the rest).
 */
#ifndef BPFLET_BATCH_WRITER_H
#define BPFLET_BATCH_WRITER_H

#include "agent/dataplane/svc_sync.h"

struct bl_dataplane;

struct bl_batch_writer {
	struct bl_dataplane *dp;
	struct bl_batch_buf {
		unsigned char *k, *v;
		size_t n, cap;
	} buf[BL_DP_MAP_MAX];
	/* a big buffer's second half, sent from a second thread */
	struct bl_batch_half {
		unsigned char *k, *v;
		size_t kcap, vcap;
	} half;
	int err;	   /* first failure; later updates are dropped */
	unsigned syscalls; /* for the log: batches plus single writes */
	double sys_ms;	   /* and the time they took */
};

/* A writer for svc_sync backed by b (zeroed by this call). */
struct bl_map_writer bl_batch_writer(struct bl_batch_writer *b, struct bl_dataplane *dp);
/* Sends what waits; 0 or the first failure (-errno) since bl_batch_writer. */
int bl_batch_flush(struct bl_batch_writer *b);
void bl_batch_free(struct bl_batch_writer *b);

#endif
