/* jansson's trees in an arena: parsed whole inside it, intact after leaving it, gone
 * with it (ASan says if anything leaks or is freed twice), while jansson outside any
 * arena allocates and frees as before, on this thread and another at the same time. */
#include "agent/common/json_arena.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* An EndpointSlice-like text with n endpoints. */
static char *slice_text(int n)
{
	json_t *eps = json_array(), *o;
	char *s;

	for (int i = 0; i < n; i++)
		json_array_append_new(eps, json_pack("{s:[s],s:{s:b},s:s}", "addresses", "10.0.0.1",
						     "conditions", "ready", 1, "nodeName", "n1"));
	o = json_pack("{s:s,s:{s:s,s:s},s:o}", "kind", "EndpointSlice", "metadata", "name", "a",
		      "namespace", "d", "endpoints", eps);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

Test(json_arena, trees_parsed_inside_live_until_the_arena_goes)
{
	struct bl_json_arena *a = bl_json_arena_new();
	char *text = slice_text(5000); /* far over one chunk */
	json_t *big, *small, *copy, *bad;
	json_error_t err;

	cr_assert_not_null(a);
	bl_json_arena_enter(a);
	big = json_loads(text, 0, NULL);
	small = json_loads("{\"a\":[1,2,{\"b\":\"c\"}]}", 0, NULL);
	copy = json_deep_copy(small);
	bad = json_loads("{\"a\":[1,2", 0, &err);
	bl_json_arena_leave();
	free(text);
	cr_assert_null(bad, "a partial tree is dropped with the arena");
	cr_assert_eq(json_array_size(json_object_get(big, "endpoints")), 5000);
	cr_assert_str_eq(
		json_string_value(json_object_get(
			json_array_get(json_object_get(big, "endpoints"), 4999), "nodeName")),
		"n1");
	cr_assert(json_equal(small, copy));
	/* outside the arena jansson's memory is malloc's: json_dumps' text goes to free() */
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS);
	cr_assert_str_eq(text, "{\"a\":[1,2,{\"b\":\"c\"}]}");
	free(text);
	bl_json_arena_free(a);
	bl_json_arena_free(NULL);
}

static void *outside(void *arg)
{
	(void)arg;
	for (int i = 0; i < 2000; i++) {
		json_t *o = json_pack("{s:i,s:[s]}", "i", i, "l", "x");
		char *s = json_dumps(o, 0);

		json_decref(o);
		free(s);
	}
	return NULL;
}

Test(json_arena, other_threads_are_untouched)
{
	pthread_t t;
	char *text = slice_text(20);

	cr_assert_eq(pthread_create(&t, NULL, outside, NULL), 0);
	for (int i = 0; i < 200; i++) {
		struct bl_json_arena *a = bl_json_arena_new();
		json_t *o;

		bl_json_arena_enter(a);
		o = json_loads(text, 0, NULL);
		bl_json_arena_leave();
		cr_assert_eq(json_array_size(json_object_get(o, "endpoints")), 20);
		bl_json_arena_free(a);
	}
	pthread_join(t, NULL);
	free(text);
}
