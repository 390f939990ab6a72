/* watch: one streaming response per watcher, fed by the store's fan-out. Events are JSON
 * lines {"type":..., "object":...}; the stream ends at timeoutSeconds, when the client
 * leaves, or with an ERROR event (410 Expired) when the start revision was compacted. */
#include "controlplane/apiserver/obj_text.h"
#include "controlplane/apiserver/objmeta.h"
#include "controlplane/apiserver/respond.h"
#include "controlplane/apiserver/rest.h"
#include "controlplane/apiserver/server.h"
#include "controlplane/apiserver/table.h"

#include <event2/event.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utlist.h>

#define MIN_TIMEOUT 1800 /* kube-apiserver's --min-request-timeout */

struct watch_stream {
	struct hx *x;
	struct bl_apiserver *srv;
	const struct bl_resource *res;
	char prefix[600];
	struct bl_filter f;
	struct bl_watch *w;
	struct event *timeout, *bookmark;
	bool table;
	struct watch_stream *prev, *next;
};

static void send_event(struct watch_stream *ws, const char *type, json_t *obj)
{
	json_t *ev;
	size_t n;
	char *s, *line;

	if (ws->table && strcmp(type, "ERROR") && strcmp(type, "BOOKMARK"))
		obj = bl_table_of(ws->res, obj, false);
	ev = json_pack("{s:s, s:o}", "type", type, "object", obj);
	s = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
	json_decref(ev);
	if (!s)
		return;
	/* one event per line; the newline lets line-based clients split them */
	n = strlen(s);
	line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	ws->x->ops->stream_write(ws->x, line, n + 1);
	free(line);
}

static void bookmark(struct watch_stream *ws, bool initial_end)
{
	char av[96];
	json_t *obj;

	bl_resource_api_version(ws->res, av, sizeof(av));
	obj = json_pack("{s:s, s:s, s:{}}", "kind", ws->res->kind, "apiVersion", av, "metadata");
	bl_obj_set_rv(obj, bl_store_current_rev(ws->srv->store));
	if (initial_end)
		json_object_set_new(bl_meta(obj), "annotations",
				    json_pack("{s:s}", "k8s.io/initial-events-end", "true"));
	send_event(ws, "BOOKMARK", obj);
}

static void ws_free(struct watch_stream *ws)
{
	if (ws->w)
		bl_store_unwatch(ws->srv->store, ws->w);
	if (ws->timeout)
		event_free(ws->timeout);
	if (ws->bookmark)
		event_free(ws->bookmark);
	bl_filter_free(&ws->f);
	DL_DELETE(ws->srv->watches, ws);
	free(ws);
}

/* We end it: the response finishes normally. */
static void ws_end(struct watch_stream *ws)
{
	struct hx *x = ws->x;

	x->on_close = NULL;
	ws_free(ws);
	x->ops->stream_end(x);
}

/* The client ended it: the exchange is going away. */
static void ws_closed(struct hx *x, void *arg)
{
	(void)x;
	ws_free(arg);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ws_end(arg);
}

static void on_bookmark(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	bookmark(arg, false);
}

static json_t *decode(const struct bl_kv *kv, int64_t rev)
{
	json_t *obj = kv ? bl_obj_from_kv(kv) : NULL;

	if (obj)
		bl_obj_set_rv(obj, rev);
	return obj;
}

/* One store change as every watcher of it sees it, made once and shared: the object's
 * text, each event line, and the parsed versions for watchers with selectors or
 * tables. Changes are dispatched one at a time, so the last one is all there is to
 * keep. */
enum { L_ADDED, L_MODIFIED, L_DELETED, L_N };
static const char *const line_type[L_N] = {"ADDED", "MODIFIED", "DELETED"};

static struct ev_cache {
	const struct bl_apiserver *srv; /* one process may run more than one */
	int64_t rev;
	enum bl_event_type type;
	char *key;
	bool text_done, obj_done, prev_done;
	struct bl_text text; /* the object; n == 0: corrupt */
	struct bl_text line[L_N];
	json_t *obj, *prev;
} cache;

static void cache_reset(void)
{
	free(cache.key);
	bl_text_free(&cache.text);
	for (int i = 0; i < L_N; i++)
		bl_text_free(&cache.line[i]);
	json_decref(cache.obj);
	json_decref(cache.prev);
	memset(&cache, 0, sizeof(cache));
}

static void cache_for(const struct bl_apiserver *srv, const struct bl_event *ev)
{
	if (cache.key && cache.srv == srv && cache.rev == ev->kv->mod_rev &&
	    cache.type == ev->type && !strcmp(cache.key, ev->kv->key))
		return;
	cache_reset();
	cache.srv = srv;
	cache.rev = ev->kv->mod_rev;
	cache.type = ev->type;
	cache.key = strdup(ev->kv->key);
}

static json_t *cache_obj(const struct bl_event *ev)
{
	if (!cache.obj_done) {
		cache.obj = decode(ev->kv, ev->kv->mod_rev);
		cache.obj_done = true;
	}
	return cache.obj;
}

static json_t *cache_prev(const struct bl_event *ev)
{
	if (!cache.prev_done) {
		cache.prev = decode(ev->prev, ev->kv->mod_rev);
		cache.prev_done = true;
	}
	return cache.prev;
}

/* The object's text at the event's revision; false when it is corrupt. */
static bool cache_text(const struct bl_event *ev)
{
	if (!cache.text_done) {
		cache.text_done = true;
		if (bl_text_add_obj(&cache.text, ev->kv, ev->kv->mod_rev)) {
			json_t *obj = cache_obj(ev);
			char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

			if (s)
				bl_text_adds(&cache.text, s);
			free(s);
		}
		if (cache.text.oom)
			bl_text_free(&cache.text);
	}
	return cache.text.n > 0;
}

static void add_line(struct bl_text *t, const char *type, const char *obj, size_t len)
{
	bl_text_adds(t, "{\"type\":\"");
	bl_text_adds(t, type);
	bl_text_adds(t, "\",\"object\":");
	bl_text_add(t, obj, len);
	bl_text_adds(t, "}\n");
}

static void send_cached(struct watch_stream *ws, const struct bl_event *ev, int which)
{
	struct bl_text *l = &cache.line[which];

	if (ws->table) {
		json_t *obj = cache_obj(ev);

		if (obj)
			send_event(ws, line_type[which], json_incref(obj));
		return;
	}
	if (!l->n && cache_text(ev))
		add_line(l, line_type[which], cache.text.p, cache.text.n);
	if (l->n && !l->oom)
		ws->x->ops->stream_write(ws->x, l->p, l->n);
}

/* A store change → ADDED / MODIFIED / DELETED as seen through the selectors: an object
 * moving into the selection is ADDED for this watcher, one moving out DELETED. */
static void on_change(const struct bl_event *ev, void *arg)
{
	struct watch_stream *ws = arg;
	bool now, before;

	cache_for(ws->srv, ev);
	if (!bl_filter_empty(&ws->f) || ws->table) {
		json_t *obj = cache_obj(ev), *prev = cache_prev(ev);

		now = obj && bl_filter_match(&ws->f, obj);
		before = prev && bl_filter_match(&ws->f, prev);
	} else {
		now = cache_text(ev);
		before = ev->prev != NULL;
	}
	if (ev->type == BL_EV_DELETE) {
		if (now)
			send_cached(ws, ev, L_DELETED);
	} else if (now && before) {
		send_cached(ws, ev, L_MODIFIED);
	} else if (now) {
		send_cached(ws, ev, L_ADDED);
	} else if (before) {
		send_cached(ws, ev, L_DELETED);
	}
}

static bool query_is(struct hx *x, const char *key, const char *val)
{
	const char *v = hx_query(x, key);

	return v && !strcmp(v, val);
}

static int send_initial(struct watch_stream *ws, int64_t rev)
{
	struct bl_kv_list l;
	struct bl_text t = {0};
	int rc = bl_store_list(ws->srv->store, ws->prefix, NULL, rev, 0, &l);

	if (rc)
		return rc;
	for (size_t i = 0; i < l.n; i++) {
		bool parse = !bl_filter_empty(&ws->f) || ws->table;
		json_t *obj = parse ? bl_obj_from_kv(&l.items[i]) : NULL;
		struct bl_text o = {0};

		if (parse && (!obj || !bl_filter_match(&ws->f, obj))) {
			json_decref(obj);
			continue;
		}
		if (ws->table || bl_text_add_obj(&o, &l.items[i], l.items[i].mod_rev)) {
			obj = obj ? obj : bl_obj_from_kv(&l.items[i]);
			if (obj)
				send_event(ws, "ADDED", obj);
		} else {
			json_decref(obj);
			t.n = 0;
			add_line(&t, "ADDED", o.p, o.n);
			if (!t.oom)
				ws->x->ops->stream_write(ws->x, t.p, t.n);
		}
		bl_text_free(&o);
	}
	bl_text_free(&t);
	bl_kv_list_free(&l);
	return 0;
}

static void send_error(struct watch_stream *ws, int rc, int64_t rev)
{
	char msg[160];

	if (rc == BL_STORE_COMPACTED) {
		snprintf(msg, sizeof(msg), "too old resource version: %lld (%lld)", (long long)rev,
			 (long long)bl_store_compact_rev(ws->srv->store));
		send_event(ws, "ERROR", bl_status_new(410, "Expired", msg));
	} else if (rc == BL_STORE_FUTURE) {
		send_event(ws, "ERROR",
			   bl_status_new(504, "Timeout", "Too large resource version"));
	} else {
		send_event(ws, "ERROR", bl_status_new(500, "InternalError", "storage error"));
	}
}

void bl_rest_watch(struct hx *x, const struct bl_route *r)
{
	struct bl_apiserver *srv = x->srv;
	const char *rvs = hx_query(x, "resourceVersion");
	const char *tos = hx_query(x, "timeoutSeconds");
	bool initial_events = query_is(x, "sendInitialEvents", "true");
	bool bookmarks = query_is(x, "allowWatchBookmarks", "true") ||
			 query_is(x, "allowWatchBookmarks", "1");
	struct timeval tv = {0};
	struct watch_stream *ws;
	int64_t rev = bl_store_current_rev(srv->store);
	bool initial = !rvs || !rvs[0] || !strcmp(rvs, "0");
	int rc;

	if (initial_events &&
	    (!bookmarks || !query_is(x, "resourceVersionMatch", "NotOlderThan"))) {
		bl_reply_invalid(x, r->res, "", "sendInitialEvents", "FieldValueForbidden",
				 "Forbidden: sendInitialEvents requires allowWatchBookmarks=true "
				 "and resourceVersionMatch=NotOlderThan");
		return;
	}
	if (!initial && !initial_events) {
		rev = bl_parse_rv(rvs);
		if (rev < 0) {
			bl_reply_statusf(x, 400, "BadRequest", NULL, NULL,
					 "invalid resource version \"%s\"", rvs);
			return;
		}
	}
	initial = initial || initial_events;
	ws = calloc(1, sizeof(*ws));
	if (!ws) {
		bl_reply_status(x, 500, "InternalError", "out of memory", NULL, NULL);
		return;
	}
	if (bl_filter_parse(x, r, &ws->f)) {
		free(ws);
		return;
	}
	ws->x = x;
	ws->srv = srv;
	ws->res = r->res;
	ws->table = bl_wants_table(x);
	bl_resource_key(r->res, r->ns[0] ? r->ns : NULL, NULL, ws->prefix, sizeof(ws->prefix));
	DL_APPEND(srv->watches, ws);
	x->on_close = ws_closed;
	x->close_arg = ws;
	x->ops->stream_start(x, 200, "application/json");

	rc = initial ? send_initial(ws, rev) : 0;
	if (initial_events && !rc)
		bookmark(ws, true);
	if (!rc)
		rc = bl_store_watch(srv->store, ws->prefix, rev, on_change, ws, &ws->w);
	if (rc) {
		send_error(ws, rc, rev);
		ws_end(ws);
		return;
	}
	if (tos && strtol(tos, NULL, 10) > 0) {
		tv.tv_sec = strtol(tos, NULL, 10);
	} else {
		unsigned char jitter;

		/* spread the reconnects of many watchers over [min, 2*min) */
		RAND_bytes(&jitter, 1);
		tv.tv_sec = MIN_TIMEOUT + MIN_TIMEOUT * jitter / 256;
	}
	ws->timeout = evtimer_new(srv->base, on_timeout, ws);
	evtimer_add(ws->timeout, &tv);
	if (bookmarks) {
		struct timeval btv = {srv->cfg.bookmark_interval, 0};

		ws->bookmark = event_new(srv->base, -1, EV_PERSIST, on_bookmark, ws);
		event_add(ws->bookmark, &btv);
	}
}

void bl_watch_close_all(struct bl_apiserver *srv)
{
	while (srv->watches)
		ws_end(srv->watches);
}
