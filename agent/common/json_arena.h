/* Arenas for jansson trees read and dropped whole: a full rebuild parses every cached
 * Service and slice once and frees it again right after, and malloc, free and the walk
 * of json_delete were half its time. A tree parsed while an arena is entered on the
 * thread comes from that arena and goes with it: never json_decref it. */
#ifndef BPFLET_JSON_ARENA_H
#define BPFLET_JSON_ARENA_H

struct bl_json_arena;

/* NULL when out of memory. */
struct bl_json_arena *bl_json_arena_new(void);
/* Until leave, jansson's allocations on this thread come from a and its frees are
 * no-ops: call only what builds new trees (json_loadb, json_deep_copy) in between. */
void bl_json_arena_enter(struct bl_json_arena *a);
void bl_json_arena_leave(void);
/* Every tree made in a goes (NULL: nothing). */
void bl_json_arena_free(struct bl_json_arena *a);

#endif
