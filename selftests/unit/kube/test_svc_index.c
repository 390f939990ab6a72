/* Services and slices by group: touched groups, slices moving between Services,
 * deletes and relists, and the informer's change hook that feeds it. */
#include "agent/kube/informer_state.h"
#include "agent/kube/svc_index.h"

#include <criterion/criterion.h>

static json_t *slice(const char *name, const char *svc)
{
	return json_pack("{s:s, s:{s:s, s:s, s:s, s:{s:s}}}", "kind", "EndpointSlice", "metadata",
			 "name", name, "namespace", "ns", "resourceVersion", "1", "labels",
			 "kubernetes.io/service-name", svc);
}

static bool touched_only(struct bl_svc_index *x, const char *group)
{
	bool all;
	json_t *d = bl_svc_index_take(x, &all);
	bool ok = !all && json_object_size(d) == (group ? 1 : 0) &&
		  (!group || json_object_get(d, group));

	json_decref(d);
	return ok;
}

Test(svc_index, slices_follow_their_service_label)
{
	struct bl_svc_index x;
	json_t *a = slice("s1", "web"), *b = slice("s1", "api");
	bool all;

	bl_svc_index_init(&x);
	json_decref(bl_svc_index_take(&x, &all));
	cr_assert(all, "a new index has everything to do");
	bl_svc_index_slice(&x, "ns/s1", a, a);
	cr_assert(touched_only(&x, "ns/web"));
	cr_assert_eq(json_object_size(bl_svc_index_slices(&x, "ns/web")), 1);
	/* the label moves the slice to another Service: both are touched */
	bl_svc_index_slice(&x, "ns/s1", b, b);
	{
		json_t *d = bl_svc_index_take(&x, &all);

		cr_assert(json_object_get(d, "ns/web") && json_object_get(d, "ns/api"));
		json_decref(d);
	}
	cr_assert_null(bl_svc_index_slices(&x, "ns/web"));
	cr_assert_eq(json_object_get(bl_svc_index_slices(&x, "ns/api"), "ns/s1"), b);
	bl_svc_index_slice(&x, "ns/s1", NULL, NULL);
	cr_assert(touched_only(&x, "ns/api"));
	cr_assert_null(bl_svc_index_slices(&x, "ns/api"));
	bl_svc_index_service(&x, "ns/db");
	cr_assert(touched_only(&x, "ns/db"));
	cr_assert(touched_only(&x, NULL), "taken once");
	json_decref(a);
	json_decref(b);
	bl_svc_index_free(&x);
}

static void hook(void *arg, const char *key, json_t *obj, json_t *stored)
{
	struct bl_svc_index *x = arg;

	if (key)
		bl_svc_index_slice(x, key, obj, stored);
}

/* Through a compact informer: the cache holds text, watch events reach the index
 * before the cache changes, a relist is a reset. */
Test(svc_index, fed_by_the_informer_hook)
{
	struct bl_inf_state s;
	struct bl_svc_index x;
	json_t *ev, *list, *back, *cached;
	bool all;

	bl_svc_index_init(&x);
	bl_inf_init(&s, "EndpointSlice", "discovery.k8s.io/v1");
	s.compact = true;
	s.on_change = hook;
	s.change_arg = &x;
	bl_inf_start(&s);
	list = json_pack("{s:{s:s}, s:[o]}", "metadata", "resourceVersion", "5", "items",
			 slice("s1", "web"));
	bl_inf_list_page(&s, list);
	json_decref(list);
	bl_svc_index_slices_reset(&x, s.cache);
	json_decref(bl_svc_index_take(&x, &all));
	cr_assert(all);
	cr_assert_not_null(bl_svc_index_slices(&x, "ns/web"));
	cached = json_object_get(s.cache, "ns/s1");
	cr_assert(json_is_string(cached), "compact: the cache holds text");
	back = bl_inf_object(cached);
	cr_assert_str_eq(json_string_value(json_object_get(back, "kind")), "EndpointSlice");
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(json_object_get(back, "metadata"), "labels"),
				 "kubernetes.io/service-name")),
			 "web");
	json_decref(back);
	/* the same object again changes nothing */
	ev = json_pack("{s:s, s:o}", "type", "MODIFIED", "object", slice("s1", "web"));
	bl_inf_watch_event(&s, ev);
	json_decref(ev);
	cr_assert(touched_only(&x, NULL), "an unchanged object touches nothing");
	ev = json_pack("{s:s, s:o}", "type", "DELETED", "object", slice("s1", "web"));
	bl_inf_watch_event(&s, ev);
	json_decref(ev);
	cr_assert(touched_only(&x, "ns/web"));
	cr_assert_null(bl_svc_index_slices(&x, "ns/web"));
	bl_inf_free(&s);
	bl_svc_index_free(&x);
}

static void listed(void *arg, const char *key, json_t *obj, json_t *stored)
{
	bl_svc_index_slice_listed(arg, key, obj, stored);
}

static void relisted(void *arg, const char *key, json_t *obj, json_t *stored)
{
	(void)obj;
	(void)stored;
	if (!key)
		bl_svc_index_slices_relisted(arg, NULL);
}

/* The index built from a relist's items as they arrive (a list that failed half-way
 * forgotten) is the one a reset from the finished cache gives. */
Test(svc_index, built_from_list_items_equals_reset_from_the_cache)
{
	struct bl_inf_state s;
	struct bl_svc_index x, y;
	json_t *page;

	bl_svc_index_init(&x);
	bl_svc_index_init(&y);
	bl_inf_init(&s, "EndpointSlice", "discovery.k8s.io/v1");
	s.compact = true;
	s.on_change = relisted;
	s.on_list_item = listed;
	s.change_arg = &x;
	bl_inf_start(&s);
	page = json_pack("{s:{s:s, s:s}, s:[o, o]}", "metadata", "resourceVersion", "5", "continue",
			 "c1", "items", slice("s1", "web"), slice("s2", "db"));
	cr_assert_eq(bl_inf_list_page(&s, page).what, BL_INF_LIST);
	json_decref(page);
	/* the second page fails: the list starts over */
	bl_inf_done(&s, 500, true, 0.5);
	bl_inf_backoff_done(&s);
	page = json_pack("{s:{s:s, s:s}, s:[o, o]}", "metadata", "resourceVersion", "6", "continue",
			 "c2", "items", slice("s1", "web"), slice("s3", "web"));
	bl_inf_list_page(&s, page);
	json_decref(page);
	page = json_pack("{s:{s:s}, s:[o]}", "metadata", "resourceVersion", "6", "items",
			 slice("s4", "api"));
	cr_assert_eq(bl_inf_list_page(&s, page).what, BL_INF_WATCH);
	json_decref(page);
	cr_assert_null(bl_svc_index_slices(&x, "ns/db"), "s2 was in the failed list only");
	cr_assert_eq(json_object_size(bl_svc_index_slices(&x, "ns/web")), 2);
	cr_assert_eq(json_object_get(bl_svc_index_slices(&x, "ns/api"), "ns/s4"),
		     json_object_get(s.cache, "ns/s4"), "the cache's own values");
	bl_svc_index_slices_reset(&y, s.cache);
	cr_assert(json_equal(x.slices, y.slices));
	cr_assert(json_equal(x.group, y.group));
	bl_inf_free(&s);
	bl_svc_index_free(&x);
	bl_svc_index_free(&y);
}
