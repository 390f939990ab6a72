/* The informer's list/watch state machine: list → watch, pagination, bookmarks, 410 as
 * HTTP status and as an ERROR event, lost connections resumed without a relist, the
 * cache kept whole through a relist, backoff growth and cap. */
#include "agent/kube/informer_state.h"

#include <criterion/criterion.h>
#include <string.h>

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);

	cr_assert_not_null(j, "bad test JSON: %s: %s", s, e.text);
	return j;
}

static struct bl_inf_step page(struct bl_inf_state *s, const char *body)
{
	json_t *b = J(body);
	struct bl_inf_step st = bl_inf_list_page(s, b);

	json_decref(b);
	return st;
}

static struct bl_inf_step event(struct bl_inf_state *s, const char *ev)
{
	json_t *e = J(ev);
	struct bl_inf_step st = bl_inf_watch_event(s, e);

	json_decref(e);
	return st;
}

static const char *port_of(struct bl_inf_state *s, const char *key)
{
	json_t *o = json_object_get(s->cache, key);

	return json_string_value(json_object_get(json_object_get(o, "spec"), "p"));
}

#define SVC(ns, name, rv, p)                                                                       \
	"{\"metadata\":{\"namespace\":\"" ns "\",\"name\":\"" name "\",\"resourceVersion\":\"" rv  \
	"\"},\"spec\":{\"p\":\"" p "\"}}"

/* list of two in two pages, then watching from the list's resourceVersion */
static void listed(struct bl_inf_state *s)
{
	bl_inf_init(s, "Service", "v1");
	cr_assert_eq(bl_inf_start(s).what, BL_INF_LIST);
	cr_assert_eq(page(s, "{\"metadata\":{\"resourceVersion\":\"10\",\"continue\":\"tok\"},"
			     "\"items\":[" SVC("default", "a", "5", "80") "]}")
			     .what,
		     BL_INF_LIST);
	cr_assert_str_eq(s->cont, "tok");
	cr_assert_not(s->synced, "synced before the last page");
	cr_assert_eq(json_object_size(s->cache), 0, "cache changed before the list was whole");
	cr_assert_eq(page(s, "{\"metadata\":{\"resourceVersion\":\"10\"},"
			     "\"items\":[" SVC("kube-system", "b", "7", "53") "]}")
			     .what,
		     BL_INF_WATCH);
}

Test(informer_state, list_pages_then_watch_from_the_list_rv)
{
	struct bl_inf_state s;
	json_t *a;

	listed(&s);
	cr_assert(s.synced);
	cr_assert_str_eq(s.rv, "10");
	cr_assert_null(s.cont);
	cr_assert(s.watching);
	cr_assert_eq(json_object_size(s.cache), 2);
	a = json_object_get(s.cache, "default/a");
	cr_assert_str_eq(json_string_value(json_object_get(a, "kind")), "Service",
			 "list items get their kind");
	cr_assert_str_eq(json_string_value(json_object_get(a, "apiVersion")), "v1");
	cr_assert_str_eq(port_of(&s, "kube-system/b"), "53");
	cr_assert_eq(s.generation, 1);
	bl_inf_free(&s);
}

Test(informer_state, events_update_the_cache_and_the_rv)
{
	struct bl_inf_state s;
	unsigned long g;

	listed(&s);
	g = s.generation;
	cr_assert_eq(
		event(&s, "{\"type\":\"MODIFIED\",\"object\":" SVC("default", "a", "11", "81") "}")
			.what,
		BL_INF_CONTINUE);
	cr_assert_str_eq(port_of(&s, "default/a"), "81");
	cr_assert_str_eq(s.rv, "11");
	cr_assert_eq(s.generation, g + 1);
	event(&s, "{\"type\":\"ADDED\",\"object\":" SVC("default", "c", "12", "90") "}");
	event(&s, "{\"type\":\"DELETED\",\"object\":" SVC("kube-system", "b", "13", "53") "}");
	cr_assert_eq(json_object_size(s.cache), 2);
	cr_assert_null(json_object_get(s.cache, "kube-system/b"));
	cr_assert_str_eq(s.rv, "13");
	cr_assert_eq(s.generation, g + 3);
	/* the same object again changes nothing */
	event(&s, "{\"type\":\"MODIFIED\",\"object\":" SVC("default", "c", "12", "90") "}");
	cr_assert_eq(s.generation, g + 3);
	/* garbage is counted and skipped, the stream goes on */
	cr_assert_eq(event(&s, "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{}}}").what,
		     BL_INF_CONTINUE);
	cr_assert_eq(bl_inf_watch_event(&s, NULL).what, BL_INF_CONTINUE);
	cr_assert_eq(s.bad_events, 2);
	bl_inf_free(&s);
}

Test(informer_state, bookmark_moves_only_the_rv)
{
	struct bl_inf_state s;
	unsigned long g;

	listed(&s);
	g = s.generation;
	cr_assert_eq(event(&s, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Service\","
			       "\"metadata\":{\"resourceVersion\":\"99\"}}}")
			     .what,
		     BL_INF_CONTINUE);
	cr_assert_str_eq(s.rv, "99");
	cr_assert_eq(s.generation, g);
	cr_assert_eq(json_object_size(s.cache), 2);
	/* the watch times out cleanly: resumed from the bookmark, no relist */
	cr_assert_eq(bl_inf_done(&s, 200, true, 0).what, BL_INF_WATCH);
	cr_assert_str_eq(s.rv, "99");
	cr_assert_eq(s.relists, 0);
	cr_assert_eq(s.restarts, 1);
	bl_inf_free(&s);
}

Test(informer_state, gone_as_http_status_relists_and_keeps_the_cache_until_done)
{
	struct bl_inf_state s;

	listed(&s);
	cr_assert_eq(bl_inf_done(&s, 410, true, 0).what, BL_INF_LIST);
	cr_assert_null(s.rv, "a relist reads the latest state");
	cr_assert_eq(s.relists, 1);
	cr_assert_eq(json_object_size(s.cache), 2, "the cache stays while relisting");
	/* a was deleted while we were away: gone after the relist completes */
	cr_assert_eq(page(&s, "{\"metadata\":{\"resourceVersion\":\"50\"},"
			      "\"items\":[" SVC("kube-system", "b", "40", "5353") "]}")
			     .what,
		     BL_INF_WATCH);
	cr_assert_eq(json_object_size(s.cache), 1);
	cr_assert_null(json_object_get(s.cache, "default/a"));
	cr_assert_str_eq(port_of(&s, "kube-system/b"), "5353");
	cr_assert_str_eq(s.rv, "50");
	bl_inf_free(&s);
}

Test(informer_state, gone_as_error_event_aborts_and_relists)
{
	struct bl_inf_state s;

	listed(&s);
	cr_assert_eq(event(&s, "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
			       "\"reason\":\"Expired\"}}")
			     .what,
		     BL_INF_ABORT);
	cr_assert_eq(json_object_size(s.cache), 2);
	/* the aborted stream ends as a transfer error: still a relist, no backoff */
	cr_assert_eq(bl_inf_done(&s, 200, false, 0).what, BL_INF_LIST);
	cr_assert_eq(s.relists, 1);
	cr_assert_eq(s.failures, 0);
	bl_inf_free(&s);
}

Test(informer_state, other_error_event_backs_off_and_resumes)
{
	struct bl_inf_state s;

	listed(&s);
	cr_assert_eq(event(&s, "{\"type\":\"ERROR\",\"object\":{\"code\":500}}").what,
		     BL_INF_ABORT);
	cr_assert_eq(bl_inf_done(&s, 200, false, 0).what, BL_INF_WAIT);
	cr_assert_eq(bl_inf_backoff_done(&s).what, BL_INF_WATCH);
	cr_assert_str_eq(s.rv, "10");
	cr_assert_eq(s.relists, 0);
	bl_inf_free(&s);
}

Test(informer_state, lost_connection_resumes_from_the_last_rv_without_relist)
{
	struct bl_inf_state s;
	struct bl_inf_step st;

	listed(&s);
	event(&s, "{\"type\":\"MODIFIED\",\"object\":" SVC("default", "a", "15", "82") "}");
	/* connection reset, then the server is down twice (no response at all) */
	st = bl_inf_done(&s, 200, false, 0);
	cr_assert_eq(st.what, BL_INF_WAIT);
	cr_assert_float_eq(st.delay, 0.8, 1e-9);
	cr_assert_eq(bl_inf_backoff_done(&s).what, BL_INF_WATCH);
	st = bl_inf_done(&s, 0, false, 0);
	cr_assert_eq(st.what, BL_INF_WAIT);
	cr_assert_float_eq(st.delay, 1.6, 1e-9);
	cr_assert_eq(bl_inf_backoff_done(&s).what, BL_INF_WATCH);
	cr_assert_str_eq(s.rv, "15", "resumed from the last event's resourceVersion");
	cr_assert_eq(s.relists, 0);
	cr_assert_eq(s.restarts, 2);
	cr_assert_eq(json_object_size(s.cache), 2, "a lost connection never clears the cache");
	/* the first event on the new watch resets the backoff */
	event(&s, "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"16\"}}}");
	cr_assert_eq(s.failures, 0);
	/* a server error status (not 410) is a failure too, not a relist */
	cr_assert_eq(bl_inf_done(&s, 503, true, 0).what, BL_INF_WAIT);
	cr_assert_eq(bl_inf_backoff_done(&s).what, BL_INF_WATCH);
	cr_assert_eq(s.relists, 0);
	bl_inf_free(&s);
}

Test(informer_state, failed_list_retries_the_whole_list)
{
	struct bl_inf_state s;

	bl_inf_init(&s, "Node", "v1");
	bl_inf_start(&s);
	page(&s, "{\"metadata\":{\"resourceVersion\":\"3\",\"continue\":\"t\"},\"items\":["
		 "{\"metadata\":{\"name\":\"n1\"}}]}");
	cr_assert_eq(bl_inf_done(&s, 0, false, 0).what, BL_INF_WAIT);
	cr_assert_null(s.cont, "the next list starts from the first page");
	cr_assert_eq(bl_inf_backoff_done(&s).what, BL_INF_LIST);
	/* an expired continue token: at once from the start */
	page(&s, "{\"metadata\":{\"resourceVersion\":\"3\",\"continue\":\"t\"},\"items\":[]}");
	cr_assert_eq(bl_inf_done(&s, 410, true, 0).what, BL_INF_LIST);
	cr_assert_null(s.cont);
	/* a body that is not a list is a failure */
	cr_assert_eq(page(&s, "{\"kind\":\"Status\"}").what, BL_INF_WAIT);
	cr_assert_not(s.synced);
	cr_assert_eq(bl_inf_backoff_done(&s).what, BL_INF_LIST);
	cr_assert_eq(page(&s, "{\"metadata\":{\"resourceVersion\":\"4\"},\"items\":["
			      "{\"metadata\":{\"name\":\"n1\"}}]}")
			     .what,
		     BL_INF_WATCH);
	cr_assert(json_object_get(s.cache, "n1"), "cluster-scoped objects keyed by name");
	bl_inf_free(&s);
}

Test(informer_state, backoff_grows_doubles_and_caps_with_jitter_below)
{
	struct bl_backoff b = {.base = 0.8, .cap = 30, .jitter = 0.2};

	cr_assert_float_eq(bl_backoff_delay(&b, 1, 0), 0.8, 1e-9);
	cr_assert_float_eq(bl_backoff_delay(&b, 2, 0), 1.6, 1e-9);
	cr_assert_float_eq(bl_backoff_delay(&b, 3, 0), 3.2, 1e-9);
	cr_assert_float_eq(bl_backoff_delay(&b, 6, 0), 25.6, 1e-9);
	cr_assert_float_eq(bl_backoff_delay(&b, 7, 0), 30, 1e-9);
	cr_assert_float_eq(bl_backoff_delay(&b, 1000, 0), 30, 1e-9);
	/* jitter takes up to 20% off, never adds */
	cr_assert_float_eq(bl_backoff_delay(&b, 1000, 0.999), 30 * (1 - 0.2 * 0.999), 1e-9);
	cr_assert_float_eq(bl_backoff_delay(&b, 2, 0.5), 1.6 * 0.9, 1e-9);
	cr_assert_float_eq(bl_backoff_delay(&b, 0, 0.5), 0, 1e-9);
}

Test(informer_state, consecutive_failures_in_the_machine_reach_the_cap)
{
	struct bl_inf_state s;
	struct bl_inf_step st = {0};

	listed(&s);
	for (int i = 0; i < 12; i++) {
		st = bl_inf_done(&s, 0, false, 0);
		cr_assert_eq(st.what, BL_INF_WAIT);
		cr_assert_eq(bl_inf_backoff_done(&s).what, BL_INF_WATCH);
	}
	cr_assert_float_eq(st.delay, 30, 1e-9);
	cr_assert_eq(s.failures, 12);
	bl_inf_free(&s);
}

/* A page read from its text, an item at a time, fills the cache as the parsed page
 * does: compact text kept as written when it has kind and apiVersion, stamped and
 * written again when not; bad items skipped and counted; a page that is not one
 * well-formed list leaves the cache alone and backs off. */
Test(informer_state, list_text_equals_list_page)
{
	static const char *const pages[] = {
		"{\"kind\":\"ServiceList\",\"metadata\":{\"resourceVersion\":\"7\",\"continue\":"
		"\"c\"},"
		"\"items\":[{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"
		"\"a\","
		"\"namespace\":\"d\"},\"spec\":{\"ports\":[{\"port\":1}]}},{\"metadata\":{}}]}",
		" {\"items\" : [ {\"metadata\":{\"name\":\"b\",\"namespace\":\"d\"},\"spec\":{"
		"\"x\":\"\\u00e9\\n\"}} ] , \"metadata\":{\"resourceVersion\":\"7\"}} \n",
	};
	struct bl_inf_state a, b;
	json_t *v;
	const char *k;

	bl_inf_init(&a, "Service", "v1");
	bl_inf_init(&b, "Service", "v1");
	a.compact = b.compact = true;
	bl_inf_start(&a);
	bl_inf_start(&b);
	for (int i = 0; i < 2; i++) {
		json_t *body = J(pages[i]);
		struct bl_inf_step sa = bl_inf_list_page(&a, body);
		struct bl_inf_step sb = bl_inf_list_text(&b, pages[i], strlen(pages[i]));

		cr_assert_eq(sa.what, sb.what);
		cr_assert_eq(sb.what, i == 0 ? BL_INF_LIST : BL_INF_WATCH);
		json_decref(body);
	}
	cr_assert_eq(json_object_size(b.cache), 2);
	cr_assert_eq(b.bad_events, 1, "the item without a name");
	cr_assert_str_eq(b.rv, "7");
	json_object_foreach(a.cache, k, v)
	{
		json_t *x = bl_inf_object(v), *y = bl_inf_object(json_object_get(b.cache, k));

		cr_assert(json_equal(x, y), "%s differs", k);
		cr_assert_str_eq(json_string_value(json_object_get(y, "kind")), "Service");
		json_decref(x);
		json_decref(y);
	}
	cr_assert_str_eq(json_string_value(json_object_get(b.cache, "d/a")),
			 "{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"a\","
			 "\"namespace\":\"d\"},\"spec\":{\"ports\":[{\"port\":1}]}}",
			 "kept as the server wrote it");

	/* not a list, or not whole: nothing taken */
	static const char *const bad[] = {
		"{\"metadata\":{\"resourceVersion\":\"8\"},\"items\":[{\"metadata\":{\"name\":"
		"\"c\"}}",
		"{\"metadata\":{\"resourceVersion\":\"8\"},\"items\":{}}",
		"{\"items\":[]}",
		"[]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bl_inf_start(&b);
		cr_assert_eq(bl_inf_list_text(&b, bad[i], strlen(bad[i])).what, BL_INF_WAIT, "%s",
			     bad[i]);
		cr_assert_eq(json_object_size(b.cache), 2);
		cr_assert_null(json_object_get(b.cache, "c"));
	}
	bl_inf_free(&a);
	bl_inf_free(&b);
}

static int n_listed;
static char listed_md[256];

static void count_listed(void *arg, const char *key, json_t *obj, json_t *stored)
{
	char *md;

	(void)arg;
	if (!key)
		return;
	n_listed++;
	cr_assert(json_is_string(stored));
	md = json_dumps(json_object_get(obj, "metadata"), JSON_COMPACT | JSON_SORT_KEYS);
	snprintf(listed_md, sizeof(listed_md), "%s", md);
	free(md);
}

/* A compact list item is read without parsing all of it: the kind and apiVersion it
 * lacks are written in front of its text, on_list_item gets its metadata, and an item
 * whose metadata is not an object still takes the whole parse's way (counted). */
Test(informer_state, compact_items_stamped_from_text)
{
	static const char page[] =
		"{\"metadata\":{\"resourceVersion\":\"3\"},\"items\":["
		"{\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"a\",\"namespace\":\"d\","
		"\"labels\":{\"x\":\"y\"}},\"spec\":{}},"
		"{ \"metadata\" : {\"name\":\"b\",\"namespace\":\"d\"} },"
		"{\"metadata\":[],\"spec\":{}}]}";
	struct bl_inf_state s;
	json_t *o;

	bl_inf_init(&s, "Service", "v1");
	s.compact = true;
	s.on_list_item = count_listed;
	n_listed = 0;
	bl_inf_start(&s);
	cr_assert_eq(bl_inf_list_text(&s, page, strlen(page)).what, BL_INF_WATCH);
	cr_assert_eq(json_object_size(s.cache), 2);
	cr_assert_eq(s.bad_events, 1, "the item whose metadata is a list");
	cr_assert_eq(n_listed, 2);
	cr_assert_str_eq(listed_md, "{\"name\":\"b\",\"namespace\":\"d\"}");
	cr_assert_str_eq(json_string_value(json_object_get(s.cache, "d/a")),
			 "{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":"
			 "\"a\",\"namespace\":\"d\",\"labels\":{\"x\":\"y\"}},\"spec\":{}}");
	cr_assert_str_eq(json_string_value(json_object_get(s.cache, "d/b")),
			 "{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\" : {\"name\":"
			 "\"b\",\"namespace\":\"d\"} }");
	o = bl_inf_object(json_object_get(s.cache, "d/b"));
	cr_assert_str_eq(json_string_value(json_object_get(o, "apiVersion")), "v1");
	json_decref(o);
	bl_inf_free(&s);
}
