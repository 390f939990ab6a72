/* A full rebuild reads every Service's cached JSON text again: most of its time. A
 * helper thread reads every other group meanwhile, at most a window ahead of the
 * compiler (the groups' objects are disjoint, and nothing changes the caches while a
 * rebuild runs on the loop). */
#ifndef BPFLET_PARSE_AHEAD_H
#define BPFLET_PARSE_AHEAD_H

#include <jansson.h>
#include <stddef.h>

struct bl_kube_source;
struct bl_parse_ahead;
struct bl_json_arena;

/* A group's objects, parsed into an arena of their own (objs NULL: out of memory). */
struct bl_group_objs {
	json_t **objs;
	size_t n;
	struct bl_json_arena *arena;
};

typedef struct bl_group_objs (*bl_group_reader)(const struct bl_kube_source *k, const char *key);
/* The objects and their arena go. */
void bl_group_objs_free(struct bl_group_objs *g);

/* Starts reading keys[1], keys[3]... on a thread; NULL when no thread could start
 * (bl_parse_ahead_take then reads every group itself). */
struct bl_parse_ahead *bl_parse_ahead_start(const struct bl_kube_source *k, const char *const *keys,
					    size_t n, bl_group_reader read);
/* Group i's objects (taken in order, i = 0, 1, 2...): read here or by the thread. */
struct bl_group_objs bl_parse_ahead_take(struct bl_parse_ahead *pa, const struct bl_kube_source *k,
					 const char *const *keys, size_t i, bl_group_reader read);
/* Stops and joins the thread, dropping what it read that nobody took. */
void bl_parse_ahead_stop(struct bl_parse_ahead *pa);

#endif
