#include "agent/kube/parse_ahead.h"

#include "agent/common/json_arena.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define WINDOW 64 /* groups read ahead at most: their trees are what it costs */

struct bl_parse_ahead {
	const struct bl_kube_source *k;
	const char *const *keys;
	size_t n;
	bl_group_reader read;
	struct bl_group_objs *slots;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t done;  /* the thread has read its groups below this */
	size_t taken; /* the compiler took the groups below this */
	bool stop;
};

static void *reader(void *arg)
{
	struct bl_parse_ahead *pa = arg;

	for (size_t i = 1; i < pa->n; i += 2) {
		bool stop;

		pthread_mutex_lock(&pa->mu);
		while (!pa->stop && i >= pa->taken + WINDOW)
			pthread_cond_wait(&pa->cv, &pa->mu);
		stop = pa->stop;
		pthread_mutex_unlock(&pa->mu);
		if (stop)
			break;
		pa->slots[i] = pa->read(pa->k, pa->keys[i]);
		pthread_mutex_lock(&pa->mu);
		pa->done = i + 1;
		pthread_cond_broadcast(&pa->cv);
		pthread_mutex_unlock(&pa->mu);
	}
	pthread_mutex_lock(&pa->mu);
	pa->done = pa->n;
	pthread_cond_broadcast(&pa->cv);
	pthread_mutex_unlock(&pa->mu);
	return NULL;
}

struct bl_parse_ahead *bl_parse_ahead_start(const struct bl_kube_source *k, const char *const *keys,
					    size_t n, bl_group_reader read)
{
	struct bl_parse_ahead *pa = calloc(1, sizeof(*pa));

	if (!pa || n < 2 || !(pa->slots = calloc(n, sizeof(*pa->slots)))) {
		if (pa)
			free(pa->slots);
		free(pa);
		return NULL;
	}
	pa->k = k;
	pa->keys = keys;
	pa->n = n;
	pa->read = read;
	pthread_mutex_init(&pa->mu, NULL);
	pthread_cond_init(&pa->cv, NULL);
	if (pthread_create(&pa->thread, NULL, reader, pa)) {
		pthread_mutex_destroy(&pa->mu);
		pthread_cond_destroy(&pa->cv);
		free(pa->slots);
		free(pa);
		return NULL;
	}
	return pa;
}

void bl_group_objs_free(struct bl_group_objs *g)
{
	/* the trees are the arena's: no json_decref */
	free(g->objs);
	bl_json_arena_free(g->arena);
	*g = (struct bl_group_objs){0};
}

struct bl_group_objs bl_parse_ahead_take(struct bl_parse_ahead *pa, const struct bl_kube_source *k,
					 const char *const *keys, size_t i, bl_group_reader read)
{
	struct bl_group_objs g;

	if (!pa || i % 2 == 0) {
		g = read(k, keys[i]);
	} else {
		pthread_mutex_lock(&pa->mu);
		while (pa->done <= i)
			pthread_cond_wait(&pa->cv, &pa->mu);
		pthread_mutex_unlock(&pa->mu);
		g = pa->slots[i];
		pa->slots[i] = (struct bl_group_objs){0};
	}
	if (pa) {
		pthread_mutex_lock(&pa->mu);
		pa->taken = i + 1;
		pthread_cond_broadcast(&pa->cv);
		pthread_mutex_unlock(&pa->mu);
	}
	return g;
}

void bl_parse_ahead_stop(struct bl_parse_ahead *pa)
{
	if (!pa)
		return;
	pthread_mutex_lock(&pa->mu);
	pa->stop = true;
	pthread_cond_broadcast(&pa->cv);
	pthread_mutex_unlock(&pa->mu);
	pthread_join(pa->thread, NULL);
	for (size_t i = 0; i < pa->n; i++)
		bl_group_objs_free(&pa->slots[i]);
	pthread_mutex_destroy(&pa->mu);
	pthread_cond_destroy(&pa->cv);
	free(pa->slots);
	free(pa);
}
