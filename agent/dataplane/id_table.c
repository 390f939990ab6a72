#include "agent/dataplane/id_table.h"

#include <errno.h>
#include <stdlib.h>

static size_t home(const struct bl_id_table *t, uint32_t id)
{
	/* Fibonacci hashing spreads sequential ids */
	return (size_t)((id * 2654435769u) & (t->cap - 1));
}

void *bl_id_find(const struct bl_id_table *t, uint32_t id)
{
	if (!t->cap || !id)
		return NULL;
	for (size_t i = home(t, id);; i = (i + 1) & (t->cap - 1)) {
		if (t->slot[i].id == id)
			return t->slot[i].p;
		if (!t->slot[i].id)
			return NULL;
	}
}

static void insert(struct bl_id_table *t, uint32_t id, void *p)
{
	size_t i = home(t, id);

	while (t->slot[i].id)
		i = (i + 1) & (t->cap - 1);
	t->slot[i].id = id;
	t->slot[i].p = p;
	t->n++;
}

int bl_id_put(struct bl_id_table *t, uint32_t id, void *p)
{
	if ((t->n + 1) * 2 > t->cap) {
		struct bl_id_table g = {.cap = t->cap ? t->cap * 2 : 64};

		g.slot = calloc(g.cap, sizeof(*g.slot));
		if (!g.slot)
			return -ENOMEM;
		for (size_t i = 0; i < t->cap; i++)
			if (t->slot[i].id)
				insert(&g, t->slot[i].id, t->slot[i].p);
		free(t->slot);
		*t = g;
	}
	insert(t, id, p);
	return 0;
}

void bl_id_del(struct bl_id_table *t, uint32_t id)
{
	size_t i, j;

	if (!t->cap || !id)
		return;
	for (i = home(t, id); t->slot[i].id != id; i = (i + 1) & (t->cap - 1))
		if (!t->slot[i].id)
			return;
	/* backward shift: later entries of the run move up so lookups never stop early */
	for (j = (i + 1) & (t->cap - 1); t->slot[j].id; j = (j + 1) & (t->cap - 1)) {
		size_t h = home(t, t->slot[j].id);

		/* j's entry may fill the hole at i unless its home lies in (i, j] */
		if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
			t->slot[i] = t->slot[j];
			i = j;
		}
	}
	t->slot[i].id = 0;
	t->slot[i].p = NULL;
	t->n--;
}

void bl_id_table_free(struct bl_id_table *t)
{
	free(t->slot);
	t->slot = NULL;
	t->cap = t->n = 0;
}
