/* The rebuild's read-ahead thread: every group comes back, in order, with its own
 * objects, the thread never more than a window ahead, and stopping half-way frees
 * what was read and not taken (ASan would say). */
#include "agent/kube/parse_ahead.h"

#include "agent/common/json_arena.h"

#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define N 1000

static atomic_size_t taken, max_ahead;
static char names[N][16];
static const char *keys[N];

static struct bl_group_objs fake(const struct bl_kube_source *k, const char *key)
{
	struct bl_group_objs g = {calloc(2, sizeof(*g.objs)), 2, bl_json_arena_new()};
	size_t i = (size_t)atoi(key + 1), t = atomic_load(&taken), ahead = i > t ? i - t : 0;

	(void)k;
	while (ahead > atomic_load(&max_ahead))
		atomic_store(&max_ahead, ahead);
	bl_json_arena_enter(g.arena);
	g.objs[0] = json_string(key);
	g.objs[1] = json_integer((json_int_t)i);
	bl_json_arena_leave();
	return g;
}

static void setup(void)
{
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "g%d", i);
		keys[i] = names[i];
	}
	atomic_store(&taken, 0);
	atomic_store(&max_ahead, 0);
}

TestSuite(parse_ahead, .init = setup, .timeout = 30);

Test(parse_ahead, every_group_in_order_within_the_window)
{
	struct bl_parse_ahead *pa = bl_parse_ahead_start(NULL, keys, N, fake);

	cr_assert_not_null(pa);
	for (size_t i = 0; i < N; i++) {
		struct bl_group_objs g = bl_parse_ahead_take(pa, NULL, keys, i, fake);

		cr_assert_eq(g.n, 2);
		cr_assert_str_eq(json_string_value(g.objs[0]), keys[i]);
		cr_assert_eq(json_integer_value(g.objs[1]), (json_int_t)i);
		bl_group_objs_free(&g);
		atomic_store(&taken, i + 1);
	}
	bl_parse_ahead_stop(pa);
	cr_assert_leq(atomic_load(&max_ahead), 64 + 1, "read %zu groups ahead",
		      atomic_load(&max_ahead));
}

Test(parse_ahead, stopping_half_way_frees_what_was_not_taken)
{
	struct bl_parse_ahead *pa = bl_parse_ahead_start(NULL, keys, N, fake);

	for (size_t i = 0; i < 10; i++) {
		struct bl_group_objs g = bl_parse_ahead_take(pa, NULL, keys, i, fake);

		bl_group_objs_free(&g);
	}
	bl_parse_ahead_stop(pa);
}

Test(parse_ahead, one_group_needs_no_thread)
{
	struct bl_group_objs g;

	cr_assert_null(bl_parse_ahead_start(NULL, keys, 1, fake));
	g = bl_parse_ahead_take(NULL, NULL, keys, 0, fake);
	cr_assert_str_eq(json_string_value(g.objs[0]), "g0");
	bl_group_objs_free(&g);
}
