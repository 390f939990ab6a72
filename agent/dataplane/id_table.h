/* uint32 id → pointer, open addressing: 16 bytes a slot at most half full, where a
 * uthash handle costs 56 bytes an entry (the syncer keeps one per backend). */
#ifndef BPFLET_ID_TABLE_H
#define BPFLET_ID_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct bl_id_table {
	struct bl_id_slot {
		uint32_t id; /* 0: empty (ids start at 1) */
		void *p;
	} * slot;
	size_t cap, n; /* cap a power of two */
};

void *bl_id_find(const struct bl_id_table *t, uint32_t id);
/* 0, or -ENOMEM (nothing changed). id must not be there yet and not be 0. */
int bl_id_put(struct bl_id_table *t, uint32_t id, void *p);
void bl_id_del(struct bl_id_table *t, uint32_t id);
void bl_id_table_free(struct bl_id_table *t);

#endif
