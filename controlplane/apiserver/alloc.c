#include "controlplane/apiserver/alloc.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <uthash.h>

struct bl_alloc_entry {
	uint32_t v;
	UT_hash_handle hh;
};

void bl_alloc_init(struct bl_alloc *a, uint32_t lo, uint32_t hi, uint32_t dyn_lo)
{
	a->lo = lo;
	a->hi = hi;
	a->dyn_lo = dyn_lo < lo || dyn_lo > hi ? lo : dyn_lo;
	a->used = NULL;
}

void bl_alloc_free(struct bl_alloc *a)
{
	struct bl_alloc_entry *e, *tmp;

	HASH_ITER(hh, a->used, e, tmp)
	{
		HASH_DEL(a->used, e);
		free(e);
	}
}

bool bl_alloc_used(struct bl_alloc *a, uint32_t v)
{
	struct bl_alloc_entry *e;

	HASH_FIND(hh, a->used, &v, sizeof(v), e);
	return e != NULL;
}

int bl_alloc_take(struct bl_alloc *a, uint32_t v)
{
	struct bl_alloc_entry *e;

	if (v < a->lo || v > a->hi)
		return -ERANGE;
	if (bl_alloc_used(a, v))
		return -EEXIST;
	e = malloc(sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->v = v;
	HASH_ADD(hh, a->used, v, sizeof(e->v), e);
	return 0;
}

int bl_alloc_any(struct bl_alloc *a, uint32_t *v)
{
	uint64_t span = (uint64_t)a->hi - a->dyn_lo + 1;
	uint32_t r = 0;

	/* a random start then a linear scan: no bias worth a bitmap at these sizes */
	RAND_bytes((unsigned char *)&r, sizeof(r));
	for (uint64_t i = 0; i < span; i++) {
		uint32_t c = (uint32_t)(a->dyn_lo + (r + i) % span);

		if (!bl_alloc_used(a, c) && bl_alloc_take(a, c) == 0) {
			*v = c;
			return 0;
		}
	}
	return -ENOSPC;
}

void bl_alloc_release(struct bl_alloc *a, uint32_t v)
{
	struct bl_alloc_entry *e;

	HASH_FIND(hh, a->used, &v, sizeof(v), e);
	if (e) {
		HASH_DEL(a->used, e);
		free(e);
	}
}
