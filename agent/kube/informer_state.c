/* The informer's list/watch protocol as a pure state machine (see informer_state.h). */
#include "agent/kube/informer_state.h"
#include "agent/common/json_skip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct bl_inf_step CONT = {BL_INF_CONTINUE, 0};
static const struct bl_inf_step ABORT = {BL_INF_ABORT, 0};

void bl_inf_init(struct bl_inf_state *s, const char *kind, const char *api_version)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->api_version = api_version;
	/* client-go's reflector: 800 ms doubling to 30 s */
	s->bo = (struct bl_backoff){.base = 0.8, .cap = 30, .jitter = 0.2};
	s->cache = json_object();
}

void bl_inf_free(struct bl_inf_state *s)
{
	free(s->rv);
	free(s->cont);
	json_decref(s->cache);
	json_decref(s->pending);
	memset(s, 0, sizeof(*s));
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v && *v ? strdup(v) : NULL;
}

bool bl_inf_key(json_t *obj, char *buf, size_t len)
{
	json_t *md = json_object_get(obj, "metadata");
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	const char *name = json_string_value(json_object_get(md, "name"));
	int n;

	if (!name || !*name)
		return false;
	n = ns && *ns ? snprintf(buf, len, "%s/%s", ns, name) : snprintf(buf, len, "%s", name);
	return n > 0 && (size_t)n < len;
}

static const char *obj_rv(json_t *obj)
{
	return json_string_value(
		json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
}

double bl_backoff_delay(const struct bl_backoff *b, unsigned n, double r01)
{
	double d = b->base;

	if (n == 0)
		return 0;
	for (unsigned i = 1; i < n && d < b->cap; i++)
		d *= 2;
	if (d > b->cap)
		d = b->cap;
	/* jitter spreads agents that failed together; never above the cap */
	return d * (1.0 - b->jitter * r01);
}

struct bl_inf_step bl_inf_start(struct bl_inf_state *s)
{
	s->watching = false;
	s->lists++;
	return (struct bl_inf_step){BL_INF_LIST, 0};
}

static struct bl_inf_step relist(struct bl_inf_state *s)
{
	set_str(&s->rv, NULL);
	set_str(&s->cont, NULL);
	json_decref(s->pending);
	s->pending = NULL;
	s->relists++;
	return bl_inf_start(s);
}

static struct bl_inf_step watch(struct bl_inf_state *s)
{
	s->watching = true;
	s->abort_relist = false;
	s->events_this_watch = 0;
	s->watches++;
	return (struct bl_inf_step){BL_INF_WATCH, 0};
}

static struct bl_inf_step wait(struct bl_inf_state *s, bool then_relist, double r01)
{
	s->failures++;
	s->relist = then_relist;
	return (struct bl_inf_step){BL_INF_WAIT, bl_backoff_delay(&s->bo, s->failures, r01)};
}

/* Lists omit kind and apiVersion on their items; the compiler dispatches on them. */
static void stamp(struct bl_inf_state *s, json_t *obj)
{
	if (s->kind && !json_object_get(obj, "kind"))
		json_object_set_new(obj, "kind", json_string(s->kind));
	if (s->api_version && !json_object_get(obj, "apiVersion"))
		json_object_set_new(obj, "apiVersion", json_string(s->api_version));
}

/* What the cache holds for obj: obj itself, or its text. A new reference. */
static json_t *stored(const struct bl_inf_state *s, json_t *obj)
{
	char *text;
	json_t *v;

	if (!s->compact)
		return json_incref(obj);
	text = json_dumps(obj, JSON_COMPACT);
	v = text ? json_string_nocheck(text) : NULL;
	free(text);
	return v;
}

json_t *bl_inf_object(json_t *cached)
{
	if (!json_is_string(cached))
		return json_incref(cached);
	return json_loadb(json_string_value(cached), json_string_length(cached), 0, NULL);
}

/* A page that is not a list: a failure, the list starts over after a wait. */
static struct bl_inf_step bad_page(struct bl_inf_state *s)
{
	s->bad_events++;
	set_str(&s->cont, NULL);
	json_decref(s->pending);
	s->pending = NULL;
	return wait(s, true, 0.5);
}

static void page_begins(struct bl_inf_state *s)
{
	if (s->pending)
		return;
	s->pending = json_object();
	if (s->on_list_item)
		s->on_list_item(s->change_arg, NULL, NULL, NULL);
}

/* One list item; text (len bytes, may be NULL) is how the server wrote it: a compact
 * cache keeps that as it is when nothing had to be added. */
static void page_item(struct bl_inf_state *s, json_t *it, const char *text, size_t len)
{
	char key[600];
	json_t *st;

	if (!json_is_object(it) || !bl_inf_key(it, key, sizeof(key))) {
		s->bad_events++;
		return;
	}
	if (s->compact && text && json_object_get(it, "kind") && json_object_get(it, "apiVersion"))
		st = json_stringn_nocheck(text, len);
	else {
		stamp(s, it);
		st = stored(s, it);
	}
	if (st && s->on_list_item)
		s->on_list_item(s->change_arg, key, it, st);
	json_object_set_new(s->pending, key, st);
}

/* After a page's items: the next page, or the whole list replaces the cache. */
static struct bl_inf_step page_ends(struct bl_inf_state *s, const char *rv, const char *cont)
{
	bool changed;

	if (cont && *cont) {
		set_str(&s->cont, cont);
		s->lists++;
		return (struct bl_inf_step){BL_INF_LIST, 0};
	}
	changed = !json_equal(s->pending, s->cache) || !s->synced;
	if (changed)
		s->generation++;
	json_decref(s->cache);
	s->cache = s->pending;
	s->pending = NULL;
	if (changed && s->on_change)
		s->on_change(s->change_arg, NULL, NULL, NULL);
	set_str(&s->cont, NULL);
	set_str(&s->rv, rv);
	s->synced = true;
	s->failures = 0;
	return watch(s);
}

static const char *list_continue(json_t *meta)
{
	return json_string_value(json_object_get(meta, "continue"));
}

struct bl_inf_step bl_inf_list_page(struct bl_inf_state *s, json_t *body)
{
	json_t *items = json_object_get(body, "items"), *it;
	const char *rv = obj_rv(body);
	size_t i;

	if (!json_is_array(items) || !rv)
		return bad_page(s);
	page_begins(s);
	json_array_foreach(items, i, it) page_item(s, it, NULL, 0);
	return page_ends(s, rv, list_continue(json_object_get(body, "metadata")));
}

/* Where a list's metadata and items are in its text. */
struct page_parts {
	const char *meta, *meta_end, *items, *items_end;
};

static bool on_page_key(void *arg, const char *k, size_t n, const char *v, const char *v_end)
{
	struct page_parts *pp = arg;

	if (bl_json_key_is(k, n, "metadata")) {
		pp->meta = v;
		pp->meta_end = v_end;
	} else if (bl_json_key_is(k, n, "items") && *v == '[') {
		pp->items = v;
		pp->items_end = v_end;
	}
	return true;
}

/* Where an item's metadata is, and whether it names its kind and apiVersion. */
struct item_parts {
	const char *meta, *meta_end;
	bool kind, api_version;
};

static bool on_item_key(void *arg, const char *k, size_t n, const char *v, const char *v_end)
{
	struct item_parts *ip = arg;

	if (bl_json_key_is(k, n, "metadata")) {
		ip->meta = v;
		ip->meta_end = v_end;
	} else if (bl_json_key_is(k, n, "kind")) {
		ip->kind = true;
	} else if (bl_json_key_is(k, n, "apiVersion")) {
		ip->api_version = true;
	}
	return true;
}

/* The item's text with the kind and apiVersion it lacks put first (a new string). */
static json_t *stamped_text(const struct bl_inf_state *s, const struct item_parts *ip,
			    const char *v, const char *v_end)
{
	const char *rest = bl_json_ws(v + 1, v_end);
	size_t cap = (size_t)(v_end - v) + 40 + (ip->kind ? 0 : strlen(s->kind)) +
		     (ip->api_version ? 0 : strlen(s->api_version));
	char *buf = malloc(cap);
	int n = 1;
	json_t *st;

	if (!buf)
		return NULL;
	buf[0] = '{';
	if (!ip->kind)
		n += snprintf(buf + n, cap - n, "\"kind\":\"%s\",", s->kind);
	if (!ip->api_version)
		n += snprintf(buf + n, cap - n, "\"apiVersion\":\"%s\",", s->api_version);
	/* an empty object's } follows the last member added without its comma */
	if (*rest == '}')
		n--;
	memcpy(buf + n, rest, (size_t)(v_end - rest));
	st = json_stringn_nocheck(buf, (size_t)n + (size_t)(v_end - rest));
	free(buf);
	return st;
}

/* A compact cache's item taken from its text without parsing all of it: only its
 * metadata is parsed (the key, and what on_list_item reads). Anything unusual goes
 * the whole parse's way. true when taken. */
static bool compact_item(struct bl_inf_state *s, const char *v, const char *v_end)
{
	struct item_parts ip = {0};
	json_t *md, *it, *st;
	char key[600];

	if (*v != '{' || !bl_json_each(v, v_end, on_item_key, &ip) || !ip.meta || *ip.meta != '{' ||
	    (!ip.kind && !s->kind) || (!ip.api_version && !s->api_version))
		return false;
	md = json_loadb(ip.meta, (size_t)(ip.meta_end - ip.meta), 0, NULL);
	it = md ? json_pack("{s:o}", "metadata", md) : NULL;
	if (!it || !bl_inf_key(it, key, sizeof(key))) {
		json_decref(it);
		return false;
	}
	st = ip.kind && ip.api_version ? json_stringn_nocheck(v, (size_t)(v_end - v))
				       : stamped_text(s, &ip, v, v_end);
	if (st && s->on_list_item)
		s->on_list_item(s->change_arg, key, it, st);
	if (st)
		json_object_set_new(s->pending, key, st);
	json_decref(it);
	return st != NULL;
}

static bool on_page_item(void *arg, const char *k, size_t n, const char *v, const char *v_end)
{
	struct bl_inf_state *s = arg;
	json_t *it;

	(void)k;
	(void)n;
	if (s->compact && compact_item(s, v, v_end))
		return true;
	it = json_loadb(v, (size_t)(v_end - v), 0, NULL);
	if (it)
		page_item(s, it, v, (size_t)(v_end - v));
	else
		s->bad_events++;
	json_decref(it);
	return true;
}

struct bl_inf_step bl_inf_list_text(struct bl_inf_state *s, const char *text, size_t len)
{
	const char *end = text + len, *p = bl_json_ws(text, end);
	struct page_parts pp = {0};
	json_t *meta;
	struct bl_inf_step step;

	/* the whole page is checked before any item is taken */
	p = bl_json_each(p, end, on_page_key, &pp);
	if (!p || bl_json_ws(p, end) != end || !pp.items || !pp.meta)
		return bad_page(s);
	meta = json_loadb(pp.meta, (size_t)(pp.meta_end - pp.meta), 0, NULL);
	if (!json_string_value(json_object_get(meta, "resourceVersion"))) {
		json_decref(meta);
		return bad_page(s);
	}
	page_begins(s);
	bl_json_each(pp.items, pp.items_end, on_page_item, s);
	step = page_ends(s, json_string_value(json_object_get(meta, "resourceVersion")),
			 list_continue(meta));
	json_decref(meta);
	return step;
}

struct bl_inf_step bl_inf_watch_event(struct bl_inf_state *s, json_t *ev)
{
	const char *type = json_string_value(json_object_get(ev, "type"));
	json_t *obj = json_object_get(ev, "object"), *old;
	char key[600];

	if (!type || !json_is_object(obj)) {
		s->bad_events++;
		return CONT;
	}
	if (!strcmp(type, "ERROR")) {
		/* 410: our resourceVersion is compacted away; anything else: retry later */
		s->abort_relist = json_integer_value(json_object_get(obj, "code")) == 410;
		return ABORT;
	}
	s->events++;
	s->events_this_watch++;
	if (!strcmp(type, "BOOKMARK")) {
		if (obj_rv(obj))
			set_str(&s->rv, obj_rv(obj));
		s->failures = 0;
		return CONT;
	}
	if (strcmp(type, "ADDED") && strcmp(type, "MODIFIED") && strcmp(type, "DELETED")) {
		s->bad_events++;
		return CONT;
	}
	if (obj_rv(obj))
		set_str(&s->rv, obj_rv(obj));
	s->failures = 0;
	if (!bl_inf_key(obj, key, sizeof(key))) {
		s->bad_events++;
		return CONT;
	}
	old = json_object_get(s->cache, key);
	if (!strcmp(type, "DELETED")) {
		if (old) {
			if (s->on_change)
				s->on_change(s->change_arg, key, NULL, NULL);
			json_object_del(s->cache, key);
			s->generation++;
		}
		return CONT;
	}
	stamp(s, obj);
	json_t *st = stored(s, obj);

	if (st && (!old || !json_equal(old, st))) {
		if (s->on_change)
			s->on_change(s->change_arg, key, obj, st);
		json_object_set(s->cache, key, st);
		s->generation++;
	}
	json_decref(st);
	return CONT;
}

struct bl_inf_step bl_inf_done(struct bl_inf_state *s, long status, bool transport_ok, double r01)
{
	if (!s->watching) {
		/* a list page failed; 410 means its continue token expired */
		set_str(&s->cont, NULL);
		json_decref(s->pending);
		s->pending = NULL;
		if (status == 410)
			return relist(s);
		return wait(s, true, r01);
	}
	s->restarts++;
	if (s->abort_relist || status == 410 || !s->rv)
		return relist(s);
	/* a clean end is the server's timeoutSeconds: watch on from where we are */
	if (transport_ok && status == 200)
		return watch(s);
	return wait(s, false, r01);
}

struct bl_inf_step bl_inf_backoff_done(struct bl_inf_state *s)
{
	if (s->relist || !s->rv)
		return bl_inf_start(s);
	return watch(s);
}
