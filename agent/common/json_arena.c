#include "agent/common/json_arena.h"

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

#define CHUNK_MIN (16u << 10)
#define CHUNK_MAX (1u << 20)
#define ALIGN	  _Alignof(max_align_t)

struct chunk {
	struct chunk *next;
	size_t cap, used;
	max_align_t data[];
};

struct bl_json_arena {
	struct chunk *head;
	size_t next_cap;
};

static _Thread_local struct bl_json_arena *current;
static pthread_once_t installed = PTHREAD_ONCE_INIT;

static void *arena_malloc(size_t size)
{
	struct bl_json_arena *a = current;
	struct chunk *c;
	void *p;

	if (!a)
		return malloc(size);
	size = (size + ALIGN - 1) & ~(ALIGN - 1);
	c = a->head;
	if (!c || c->cap - c->used < size) {
		size_t cap = a->next_cap > size ? a->next_cap : size;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		c->used = 0;
		c->next = a->head;
		a->head = c;
		if (a->next_cap < CHUNK_MAX)
			a->next_cap *= 2;
	}
	p = (char *)c->data + c->used;
	c->used += size;
	return p;
}

static void arena_free(void *p)
{
	/* inside an arena only its own memory is freed: it goes with the arena */
	if (!current)
		free(p);
}

/* Outside an arena these are malloc and free: memory jansson took before they were
 * installed is freed by either. */
static void install(void)
{
	json_set_alloc_funcs(arena_malloc, arena_free);
}

struct bl_json_arena *bl_json_arena_new(void)
{
	struct bl_json_arena *a = calloc(1, sizeof(*a));

	pthread_once(&installed, install);
	if (a)
		a->next_cap = CHUNK_MIN;
	return a;
}

void bl_json_arena_enter(struct bl_json_arena *a)
{
	current = a;
}

void bl_json_arena_leave(void)
{
	current = NULL;
}

void bl_json_arena_free(struct bl_json_arena *a)
{
	struct chunk *c, *next;

	if (!a)
		return;
	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}
