/* The id table against a plain array: random puts and deletes (runs that wrap around
 * the end, backward shifts), every id checked after each step. */
#include "agent/dataplane/id_table.h"

#include <criterion/criterion.h>
#include <stdlib.h>

#define IDS 3000

Test(id_table, random_puts_and_deletes_match_an_array)
{
	static void *ref[IDS + 1];
	struct bl_id_table t = {0};
	size_t live = 0;

	srandom(3);
	for (int step = 0; step < 20000; step++) {
		/* clustered ids: long probe runs */
		uint32_t id = 1 + (uint32_t)(random() % (step < 10000 ? 300 : IDS));

		if (ref[id]) {
			bl_id_del(&t, id);
			ref[id] = NULL;
			live--;
		} else {
			ref[id] = (void *)(uintptr_t)(id * 16);
			cr_assert_eq(bl_id_put(&t, id, ref[id]), 0);
			live++;
		}
		cr_assert_eq(t.n, live);
		if (step % 97 == 0 || step > 19900)
			for (uint32_t i = 1; i <= IDS; i++)
				cr_assert_eq(bl_id_find(&t, i), ref[i], "step %d id %u", step, i);
	}
	cr_assert_null(bl_id_find(&t, 0));
	bl_id_table_free(&t);
	cr_assert_null(bl_id_find(&t, 5));
}
