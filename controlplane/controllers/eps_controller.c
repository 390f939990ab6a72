/* The EndpointSlice controller's thin part: each change to a pod, Service, slice or
 * node makes it sync again only the Services that change concerns (eps_index.c says
 * which), a few at a time so the server keeps answering; eps_plan.c decides, this
 * reads the store and writes. */
#include "controlplane/controllers/client.h"
#include "controlplane/controllers/eps_controller.h"
#include "controlplane/controllers/eps_plan.h"
#include "controlplane/controllers/manager.h"
#include "controlplane/apiserver/objmeta.h"
#include "controlplane/apiserver/server.h"
#include "agent/common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLICES "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices"
/* Services synced per turn of the loop: requests are served in between */
#define CHUNK 64

static const char *name_of(json_t *obj)
{
	return bl_meta_str(obj, "name");
}

static json_t *parse(const struct bl_kv *kv)
{
	return kv ? json_loadb(kv->value, kv->len, 0, NULL) : NULL;
}

/* Our write of slice ns/name came back as revision rev. */
static void own_write(struct eps_ctl_state *st, const char *ns, const char *name, int64_t rev)
{
	char key[600];

	snprintf(key, sizeof(key), "%s/%s", ns, name);
	if (json_is_true(json_object_get(st->own, key)) || rev <= 0)
		json_object_del(st->own, key); /* its event came already */
	else
		json_object_set_new(st->own, key, json_integer(rev));
}

/* 0, or -1 when a write failed (the Service is tried again later). */
static int write_slice(struct bl_controllers *c, const char *ns, const char *method, json_t *slice)
{
	struct eps_ctl_state *st = c->eps.st;
	char path[700];
	json_t *body = NULL, *answer = NULL;
	int code;

	if (!strcmp(method, "POST")) {
		snprintf(path, sizeof(path), SLICES, ns);
	} else {
		snprintf(path, sizeof(path), SLICES "/%s", ns, name_of(slice));
		if (!strcmp(method, "DELETE"))
			body = json_pack("{s:{s:s}}", "preconditions", "resourceVersion",
					 bl_meta_str(slice, "resourceVersion") ?: "");
	}
	st->writing_ns = ns;
	st->writing_name = strcmp(method, "POST") ? name_of(slice) : "";
	code = bl_ctl_request(c->srv, method, path, NULL, body ? body : slice, &answer);
	st->writing_ns = st->writing_name = NULL;
	json_decref(body);
	if (code < 300 && strcmp(method, "DELETE") && name_of(answer))
		own_write(st, ns, name_of(answer),
			  bl_parse_rv(bl_meta_str(answer, "resourceVersion")));
	json_decref(answer);
	if (code < 300 || (code == 404 && !strcmp(method, "DELETE"))) {
		st->writes++;
		return 0;
	}
	log_warn("endpointslice controller: %s %s: %d", method, path, code);
	return -1;
}

static int apply_plan(struct bl_controllers *c, const char *ns, json_t *plan)
{
	static const char *const what[][2] = {
		{"create", "POST"}, {"update", "PUT"}, {"delete", "DELETE"}};
	int rc = 0;

	for (size_t k = 0; k < 3; k++) {
		json_t *s;
		size_t i;

		json_array_foreach(json_object_get(plan, what[k][0]), i, s) rc |=
			write_slice(c, ns, what[k][1], s);
	}
	return rc;
}

/* The stored object res/nskey ("ns/name") appended to arr when it exists; -1 when
 * the store fails. */
static int load(struct bl_controllers *c, const char *res, const char *nskey, json_t *arr)
{
	char key[700];
	struct bl_kv kv;
	json_t *obj;
	int rc;

	snprintf(key, sizeof(key), "/registry/%s/%s", res, nskey);
	rc = bl_store_get(c->store, key, 0, &kv);
	if (rc == BL_STORE_NOT_FOUND)
		return 0;
	if (rc)
		return -1;
	obj = bl_obj_from_kv(&kv);
	bl_kv_free(&kv);
	if (obj)
		json_array_append_new(arr, obj);
	return 0;
}

static int load_set(struct bl_controllers *c, const char *res, json_t *set, json_t *arr)
{
	const char *k;
	json_t *v;
	int rc = 0;

	json_object_foreach(set, k, v) rc |= load(c, res, k, arr);
	return rc;
}

/* svc is "ns/name". */
static int sync_service(struct bl_controllers *c, const char *svc)
{
	struct eps_ctl_state *st = c->eps.st;
	json_t *svcs = json_array(), *slices = json_array(), *pods = json_array(), *s, *plan;
	const char *slash = strchr(svc, '/');
	char ns[300];
	size_t i;
	int rc;

	st->synced++;
	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - svc), svc);
	rc = load(c, "services", svc, svcs) |
	     load_set(c, "endpointslices", bl_eps_index_slices(&st->idx, svc), slices);
	s = json_array_get(svcs, 0);
	if (rc) {
		/* the store failed: nothing decided on half the facts */
	} else if (!s) {
		/* ours, for a Service that is gone: nothing else removes them */
		json_array_foreach(slices, i, s) rc |= write_slice(c, ns, "DELETE", s);
	} else {
		json_t *sel = json_object_get(json_object_get(s, "spec"), "selector");

		rc = bl_eps_service_managed(s)
			     ? load_set(c, "pods", bl_eps_index_candidates(&st->idx, svc, sel),
					pods)
			     : 0;
		if (!rc) {
			plan = bl_eps_plan(s, pods, st->idx.nodes, slices, BL_EPS_MAX_ENDPOINTS);
			rc = apply_plan(c, ns, plan);
			json_decref(plan);
		}
	}
	json_decref(svcs);
	json_decref(slices);
	json_decref(pods);
	return rc;
}

static void on_sync(evutil_socket_t fd, short what, void *arg)
{
	struct bl_controllers *c = arg;
	struct eps_ctl_state *st = c->eps.st;
	const char *todo[CHUNK];
	size_t n = 0;
	void *it;

	(void)fd;
	(void)what;
	for (it = json_object_iter(st->dirty); it && n < CHUNK;
	     it = json_object_iter_next(st->dirty, it))
		todo[n++] = strdup(json_object_iter_key(it));
	for (size_t i = 0; i < n; i++) {
		/* changes made while syncing (our own writes too) mark it again */
		json_object_del(st->dirty, todo[i]);
		if (sync_service(c, todo[i])) {
			/* conflicts with other writers: read again and retry in a second */
			struct timeval later = {1, 0};

			json_object_set_new(st->retry, todo[i], json_true());
			if (!event_pending(st->retry_ev, EV_TIMEOUT, NULL))
				event_add(st->retry_ev, &later);
		}
		free((char *)todo[i]);
	}
	if (json_object_size(st->dirty))
		bl_ctl_kick(c->eps.ev);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct bl_controllers *c = arg;
	struct eps_ctl_state *st = c->eps.st;

	(void)fd;
	(void)what;
	json_object_update(st->dirty, st->retry);
	json_object_clear(st->retry);
	bl_ctl_kick(c->eps.ev);
}

/* Every object under /registry/RES/, a page at a time, into the index. */
static int index_all(struct bl_controllers *c, const char *res)
{
	struct eps_ctl_state *st = c->eps.st;
	char prefix[64], *start = NULL;
	int64_t rev = 0;
	int rc;

	snprintf(prefix, sizeof(prefix), "/registry/%s/", res);
	for (;;) {
		struct bl_kv_list l;

		rc = bl_store_list(c->store, prefix, start, rev, 500, &l);
		if (rc)
			break;
		rev = l.rev;
		for (size_t i = 0; i < l.n; i++) {
			const char *rest = l.items[i].key + strlen(prefix), *slash;
			json_t *obj = parse(&l.items[i]);
			char ns[300];

			slash = strchr(rest, '/');
			snprintf(ns, sizeof(ns), "%.*s", slash ? (int)(slash - rest) : 0, rest);
			if (!strcmp(res, "nodes"))
				bl_eps_index_node(&st->idx, rest, obj);
			else if (!slash)
				; /* not a namespaced key: not ours to read */
			else if (!strcmp(res, "services"))
				bl_eps_index_service(&st->idx, ns, slash + 1, obj, NULL);
			else if (!strcmp(res, "pods"))
				bl_eps_index_pod(&st->idx, ns, slash + 1, NULL, obj, NULL);
			else
				bl_eps_index_slice(&st->idx, ns, slash + 1, NULL, obj, NULL);
			json_decref(obj);
		}
		free(start);
		start = l.n ? strdup(l.items[l.n - 1].key) : NULL;
		bl_kv_list_free(&l);
		if (!l.more || !start)
			break;
	}
	free(start);
	if (rc)
		log_err("endpointslice controller: cannot list %s: %s", prefix,
			bl_store_strerror(rc));
	return rc;
}

int bl_eps_ctl_start(struct bl_controllers *c)
{
	static const char *const res[] = {"nodes", "services", "pods", "endpointslices"};
	struct eps_ctl_state *st = calloc(1, sizeof(*st));

	c->eps.st = st;
	if (!st || bl_eps_index_init(&st->idx))
		return -1;
	st->dirty = json_object();
	st->retry = json_object();
	st->own = json_object();
	st->retry_ev = evtimer_new(c->base, on_retry, c);
	c->eps.ev = evtimer_new(c->base, on_sync, c);
	if (!st->dirty || !st->retry || !st->own || !st->retry_ev || !c->eps.ev)
		return -1;
	/* read after the watches started: an event for what the lists already hold
	 * changes the index no further */
	for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++)
		if (index_all(c, res[i]))
			return -1;
	bl_eps_index_all(&st->idx, st->dirty);
	bl_ctl_kick(c->eps.ev);
	return 0;
}

/* The event is the one of our write in progress: the same slice, or for a create
 * the creation of one (an etcd store may hand over others' events queued before). */
static bool of_our_write(const struct eps_ctl_state *st, const struct ctl_event *e)
{
	if (!st->writing_ns || strcmp(st->writing_ns, e->ns))
		return false;
	if (st->writing_name && st->writing_name[0])
		return !strcmp(st->writing_name, e->name);
	return e->ev->type == BL_EV_PUT && !e->ev->prev;
}

/* A slice event that our own write caused concerns nobody. */
static bool own_event(struct eps_ctl_state *st, const struct ctl_event *e)
{
	char key[600];
	json_t *rev;

	snprintf(key, sizeof(key), "%s/%s", e->ns, e->name);
	if (of_our_write(st, e)) {
		if (e->ev->type == BL_EV_PUT)
			json_object_set_new(st->own, key, json_true());
		return true;
	}
	rev = json_object_get(st->own, key);
	if (json_is_integer(rev) && json_integer_value(rev) == e->ev->kv->mod_rev) {
		json_object_del(st->own, key);
		return true;
	}
	json_object_del(st->own, key);
	return false;
}

void bl_eps_ctl_event(struct bl_controllers *c, const struct ctl_event *e)
{
	struct eps_ctl_state *st = c->eps.st;
	const struct bl_event *ev = e->ev;
	json_t *now, *before;

	if (!c->eps.ev || !st)
		return;
	if (strcmp(e->res, "pods") && strcmp(e->res, "services") &&
	    strcmp(e->res, "endpointslices") && strcmp(e->res, "nodes"))
		return;
	now = ev->type == BL_EV_PUT ? parse(ev->kv) : NULL;
	before = parse(ev->prev ? ev->prev : ev->type == BL_EV_DELETE ? ev->kv : NULL);
	if (!strcmp(e->res, "nodes")) {
		if (bl_eps_index_node(&st->idx, e->name, now))
			bl_eps_index_all(&st->idx, st->dirty);
	} else if (!strcmp(e->res, "services")) {
		bl_eps_index_service(&st->idx, e->ns, e->name, now, st->dirty);
	} else if (!strcmp(e->res, "pods")) {
		bl_eps_index_pod(&st->idx, e->ns, e->name, before, now, st->dirty);
	} else {
		bl_eps_index_slice(&st->idx, e->ns, e->name, before, now,
				   own_event(st, e) ? NULL : st->dirty);
	}
	json_decref(now);
	json_decref(before);
	if (json_object_size(st->dirty))
		bl_ctl_kick(c->eps.ev);
}

void bl_eps_ctl_stop(struct bl_controllers *c)
{
	struct eps_ctl_state *st = c->eps.st;

	if (c->eps.ev)
		event_free(c->eps.ev);
	c->eps.ev = NULL;
	if (!st)
		return;
	if (st->retry_ev)
		event_free(st->retry_ev);
	bl_eps_index_free(&st->idx);
	json_decref(st->dirty);
	json_decref(st->retry);
	json_decref(st->own);
	free(st);
	c->eps.st = NULL;
}
