/* The SQLite store: revisions, conflicts, reads at a revision, watches and compaction. */
#include "controlplane/store/store.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/bl-store-XXXXXX";
static char path[256];
static struct bl_store *st;

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.db", dir);
	cr_assert_eq(bl_sqlite_store_open(path, &st), 0);
}

static void teardown(void)
{
	char cmd[300];

	bl_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static int64_t put(const char *key, const char *val)
{
	int64_t rev = 0;

	cr_assert_eq(bl_store_create(st, key, val, strlen(val), 0, &rev), 0, "create %s", key);
	return rev;
}

TestSuite(store, .init = setup, .fini = teardown);

Test(store, revisions_are_row_ids_and_grow_by_one)
{
	cr_assert_eq(bl_store_current_rev(st), 0);
	cr_assert_eq(put("/a", "1"), 1);
	cr_assert_eq(put("/b", "2"), 2);
	cr_assert_eq(bl_store_current_rev(st), 2);
}

Test(store, create_twice_is_exists_and_recreate_after_delete_works)
{
	struct bl_kv kv;
	int64_t rev;

	put("/a", "1");
	cr_assert_eq(bl_store_create(st, "/a", "x", 1, 0, NULL), BL_STORE_EXISTS);
	cr_assert_eq(bl_store_delete(st, "/a", 0, &rev, NULL), 0);
	cr_assert_eq(rev, 2);
	cr_assert_eq(bl_store_get(st, "/a", 0, &kv), BL_STORE_NOT_FOUND);
	cr_assert_eq(put("/a", "again"), 3);
	cr_assert_eq(bl_store_get(st, "/a", 0, &kv), 0);
	cr_assert_str_eq(kv.value, "again");
	cr_assert_eq(kv.create_rev, 3);
	bl_kv_free(&kv);
}

Test(store, update_checks_the_expected_revision)
{
	struct bl_kv kv;
	int64_t r1 = put("/a", "1"), r2;

	cr_assert_eq(bl_store_update(st, "/a", "2", 1, r1, &r2), 0);
	cr_assert_eq(bl_store_update(st, "/a", "3", 1, r1, NULL), BL_STORE_CONFLICT);
	cr_assert_eq(bl_store_update(st, "/a", "4", 1, 0, NULL), 0, "unconditional update");
	cr_assert_eq(bl_store_update(st, "/missing", "4", 1, 0, NULL), BL_STORE_NOT_FOUND);
	cr_assert_eq(bl_store_delete(st, "/a", r2, NULL, NULL), BL_STORE_CONFLICT);
	cr_assert_eq(bl_store_get(st, "/a", 0, &kv), 0);
	cr_assert_str_eq(kv.value, "4");
	cr_assert_eq(kv.create_rev, r1);
	cr_assert_eq(kv.mod_rev, 3);
	bl_kv_free(&kv);
}

Test(store, reads_at_an_old_revision_see_the_old_state)
{
	struct bl_kv kv;
	struct bl_kv_list l;
	int64_t r1 = put("/p/a", "a1");

	put("/p/b", "b1");
	cr_assert_eq(bl_store_update(st, "/p/a", "a2", 2, 0, NULL), 0);
	cr_assert_eq(bl_store_delete(st, "/p/b", 0, NULL, NULL), 0);
	put("/q/c", "c1");

	cr_assert_eq(bl_store_get(st, "/p/a", r1, &kv), 0);
	cr_assert_str_eq(kv.value, "a1");
	bl_kv_free(&kv);
	cr_assert_eq(bl_store_list(st, "/p/", NULL, 2, 0, &l), 0);
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(l.items[0].value, "a1");
	cr_assert_str_eq(l.items[1].key, "/p/b");
	bl_kv_list_free(&l);
	cr_assert_eq(bl_store_list(st, "/p/", NULL, 0, 0, &l), 0);
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(l.items[0].value, "a2");
	cr_assert_eq(l.rev, 5);
	bl_kv_list_free(&l);
	cr_assert_eq(bl_store_list(st, "/p/", NULL, 99, 0, &l), BL_STORE_FUTURE);
}

Test(store, list_pages_with_limit_and_start_after)
{
	struct bl_kv_list l;

	put("/p/a", "1");
	put("/p/b", "2");
	put("/p/c", "3");
	put("/pz", "not under /p/");
	cr_assert_eq(bl_store_list(st, "/p/", NULL, 0, 2, &l), 0);
	cr_assert_eq(l.n, 2);
	cr_assert(l.more);
	cr_assert_str_eq(l.items[1].key, "/p/b");
	bl_kv_list_free(&l);
	cr_assert_eq(bl_store_list(st, "/p/", "/p/b", 0, 2, &l), 0);
	cr_assert_eq(l.n, 1);
	cr_assert_not(l.more);
	cr_assert_str_eq(l.items[0].key, "/p/c");
	bl_kv_list_free(&l);
}

/* Pages at a fixed revision, through tombstones and rows written after it, give
 * exactly the unpaged list at that revision. */
Test(store, pages_at_a_revision_equal_the_whole_list_at_it)
{
	struct bl_kv_list all, l;
	char key[32], val[32], *after = NULL;
	int64_t rev;
	size_t got = 0;

	for (int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "/p/%02d", i);
		put(key, "v0");
	}
	for (int i = 0; i < 40; i += 3) {
		snprintf(key, sizeof(key), "/p/%02d", i);
		cr_assert_eq(bl_store_delete(st, key, 0, NULL, NULL), 0);
	}
	for (int i = 1; i < 40; i += 4) {
		if (i % 3 == 0)
			continue;
		snprintf(key, sizeof(key), "/p/%02d", i);
		cr_assert_eq(bl_store_update(st, key, "v1", 2, 0, NULL), 0);
	}
	rev = bl_store_current_rev(st);
	cr_assert_eq(bl_store_list(st, "/p/", NULL, rev, 0, &all), 0);
	cr_assert_eq(all.n, 40 - 14);
	for (int i = 0; i < 40; i++) {
		/* after rev: none of this may show */
		snprintf(key, sizeof(key), "/p/%02d", i);
		snprintf(val, sizeof(val), "late%d", i);
		if (i % 3 == 0)
			put(key, val);
		else if (i % 2)
			cr_assert_eq(bl_store_delete(st, key, 0, NULL, NULL), 0);
		else
			cr_assert_eq(bl_store_update(st, key, val, strlen(val), 0, NULL), 0);
	}
	do {
		cr_assert_eq(bl_store_list(st, "/p/", after, rev, 3, &l), 0);
		cr_assert_eq(l.rev, rev);
		cr_assert(l.n == 3 || !l.more);
		for (size_t i = 0; i < l.n; i++, got++) {
			cr_assert_lt(got, all.n);
			cr_assert_str_eq(l.items[i].key, all.items[got].key);
			cr_assert_str_eq(l.items[i].value, all.items[got].value);
			cr_assert_eq(l.items[i].mod_rev, all.items[got].mod_rev);
		}
		free(after);
		after = l.n ? strdup(l.items[l.n - 1].key) : NULL;
		bl_kv_list_free(&l);
	} while (l.more);
	cr_assert_eq(got, all.n);
	free(after);
	bl_kv_list_free(&all);
}

struct seen {
	int n;
	char what[16][64];
};

static void record(const struct bl_event *ev, void *arg)
{
	struct seen *s = arg;

	if (s->n < 16)
		snprintf(s->what[s->n++], 64, "%s %s %s@%lld prev=%s",
			 ev->type == BL_EV_PUT ? "PUT" : "DEL", ev->kv->key, ev->kv->value,
			 (long long)ev->kv->mod_rev, ev->prev ? ev->prev->value : "-");
}

Test(store, watch_replays_history_then_follows_live_writes)
{
	struct seen s = {0};
	struct bl_watch *w;

	put("/p/a", "1");
	cr_assert_eq(bl_store_update(st, "/p/a", "2", 1, 0, NULL), 0);
	put("/other", "x");
	cr_assert_eq(bl_store_watch(st, "/p/", 1, record, &s, &w), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.what[0], "PUT /p/a 2@2 prev=1");
	put("/p/b", "3");
	cr_assert_eq(bl_store_delete(st, "/p/a", 0, NULL, NULL), 0);
	put("/x", "not watched");
	cr_assert_eq(s.n, 3);
	cr_assert_str_eq(s.what[1], "PUT /p/b 3@4 prev=-");
	cr_assert_str_eq(s.what[2], "DEL /p/a 2@5 prev=2");
	bl_store_unwatch(st, w);
	put("/p/c", "after unwatch");
	cr_assert_eq(s.n, 3);
}

static struct bl_watch *self_w;
static void unwatch_self(const struct bl_event *ev, void *arg)
{
	(void)ev;
	(*(int *)arg)++;
	bl_store_unwatch(st, self_w);
}

Test(store, a_watcher_may_unwatch_itself_from_its_callback)
{
	int n = 0;

	cr_assert_eq(bl_store_watch(st, "/", 0, unwatch_self, &n, &self_w), 0);
	put("/a", "1");
	put("/b", "2");
	cr_assert_eq(n, 1);
}

Test(store, compaction_keeps_the_present_and_refuses_the_past)
{
	struct bl_kv kv;
	struct bl_kv_list l;
	struct bl_watch *w;
	struct seen s = {0};

	put("/a", "1");
	cr_assert_eq(bl_store_update(st, "/a", "2", 1, 0, NULL), 0);
	put("/b", "x");
	cr_assert_eq(bl_store_delete(st, "/b", 0, NULL, NULL), 0);
	put("/c", "y");
	cr_assert_eq(bl_store_compact(st, 4), 0);
	cr_assert_eq(bl_store_compact_rev(st), 4);
	cr_assert_eq(bl_store_get(st, "/a", 1, &kv), BL_STORE_COMPACTED);
	cr_assert_eq(bl_store_watch(st, "/", 2, record, &s, &w), BL_STORE_COMPACTED);
	cr_assert_eq(bl_store_list(st, "/", NULL, 0, 0, &l), 0);
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(l.items[0].value, "2");
	bl_kv_list_free(&l);
	cr_assert_eq(bl_store_watch(st, "/", 4, record, &s, &w), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.what[0], "PUT /c y@5 prev=-");
	cr_assert_eq(bl_store_compact(st, 99), BL_STORE_FUTURE);
}

Test(store, state_survives_reopen)
{
	struct bl_kv kv;

	put("/a", "1");
	cr_assert_eq(bl_store_delete(st, "/a", 0, NULL, NULL), 0);
	cr_assert_eq(bl_store_compact(st, 2), 0);
	bl_store_close(st);
	cr_assert_eq(bl_sqlite_store_open(path, &st), 0);
	cr_assert_eq(bl_store_current_rev(st), 2, "revisions never go back, even compacted");
	cr_assert_eq(bl_store_compact_rev(st), 2);
	cr_assert_eq(put("/a", "2"), 3);
	cr_assert_eq(bl_store_get(st, "/a", 0, &kv), 0);
	bl_kv_free(&kv);
}
