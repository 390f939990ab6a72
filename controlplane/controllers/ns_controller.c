/* Namespace deletion: a Namespace marked for deletion (DELETE sets deletionTimestamp and
 * phase Terminating while spec.finalizers holds "kubernetes") is emptied of every
 * namespaced object the server has, through the REST handlers (bound pods get their
 * graceful deletion); once nothing is left its finalizer is removed through
 * namespaces/NAME/finalize and the Namespace goes. What still remains is looked at
 * again every second. */
#include "controlplane/controllers/client.h"
#include "controlplane/controllers/ctl_util.h"
#include "controlplane/controllers/manager.h"
#include "controlplane/controllers/ns_status.h"
#include "controlplane/apiserver/objmeta.h"
#include "controlplane/apiserver/resources.h"
#include "agent/common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FINALIZER "kubernetes"

struct ns_ctl {
	struct event *ev;
	json_t *dirty; /* namespace names to look at (set) */
};

static void base_path(const struct bl_resource *res, char *buf, size_t len)
{
	if (res->group[0])
		snprintf(buf, len, "/apis/%s/%s", res->group, res->version);
	else
		snprintf(buf, len, "/api/%s", res->version);
}

static void count(json_t *counts, const char *key)
{
	json_object_set_new(counts, key,
			    json_integer(json_integer_value(json_object_get(counts, key)) + 1));
}

/* Deletes what is in ns; returns how many objects remain (being deleted gracefully or
 * held by finalizers) and counts them in resources and finalizers, or -1 when the store
 * failed. */
static long empty_namespace(struct bl_controllers *c, const char *ns, json_t *resources,
			    json_t *finalizers)
{
	long left = 0;

	for (size_t i = 0; i < bl_nresources; i++) {
		const struct bl_resource *res = &bl_resources[i];
		char prefix[400], path[900], base[128];
		json_t *list, *obj;
		size_t j;

		if (!res->namespaced)
			continue;
		base_path(res, base, sizeof(base));
		bl_resource_key(res, ns, NULL, prefix, sizeof(prefix));
		list = bl_ctl_list(c->srv, prefix);
		if (!list)
			return -1;
		json_array_foreach(list, j, obj)
		{
			const char *name = bl_ctl_str(obj, "metadata.name");
			int code;

			if (!name || bl_ctl_get(obj, "metadata.deletionTimestamp"))
				continue;
			snprintf(path, sizeof(path), "%s/namespaces/%s/%s/%s", base, ns, res->name,
				 name);
			code = bl_ctl_request(c->srv, "DELETE", path, NULL, NULL, NULL);
			if (code != 200 && code != 404)
				log_warn("namespace controller: DELETE %s: %d", path, code);
		}
		json_decref(list);
		/* what the deletes left behind */
		list = bl_ctl_list(c->srv, prefix);
		if (!list)
			return -1;
		json_array_foreach(list, j, obj)
		{
			json_t *f;
			size_t k;
			char q[128];

			bl_resource_qualified(res, q, sizeof(q));
			count(resources, q);
			json_array_foreach(bl_ctl_get(obj, "metadata.finalizers"), k, f)
				count(finalizers, json_string_value(f) ?: "");
		}
		left += (long)json_array_size(list);
		json_decref(list);
	}
	return left;
}

/* 0 done with ns (gone, or not ours to finish), 1 look again later. */
static int sync_one(struct bl_controllers *c, const char *ns)
{
	json_t *obj = NULL, *fin, *keep, *v, *resources, *finalizers;
	char path[400];
	size_t i;
	long left;
	int code;

	snprintf(path, sizeof(path), "/api/v1/namespaces/%s", ns);
	code = bl_ctl_request(c->srv, "GET", path, NULL, NULL, &obj);
	if (code == 404)
		return 0;
	if (code != 200) {
		json_decref(obj);
		return 1;
	}
	fin = bl_ctl_get(obj, "spec.finalizers");
	keep = json_array();
	json_array_foreach(fin, i, v) if (strcmp(json_string_value(v) ?: "", FINALIZER))
		json_array_append(keep, v);
	if (!bl_ctl_get(obj, "metadata.deletionTimestamp") ||
	    json_array_size(keep) == json_array_size(fin)) {
		json_decref(keep);
		json_decref(obj);
		return 0;
	}
	resources = json_object();
	finalizers = json_object();
	left = empty_namespace(c, ns, resources, finalizers);
	if (left) {
		char ts[32];

		/* why it is still here, for kubectl describe */
		bl_timestamp(time(NULL), ts);
		if (left > 0 && bl_ns_set_conditions(obj, resources, finalizers, ts)) {
			snprintf(path, sizeof(path), "/api/v1/namespaces/%s/status", ns);
			bl_ctl_request(c->srv, "PUT", path, NULL, obj, NULL);
		}
		json_decref(resources);
		json_decref(finalizers);
		json_decref(keep);
		json_decref(obj);
		return 1;
	}
	json_decref(resources);
	json_decref(finalizers);
	json_object_set_new(json_object_get(obj, "spec"), "finalizers", keep);
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/finalize", ns);
	code = bl_ctl_request(c->srv, "PUT", path, NULL, obj, NULL);
	json_decref(obj);
	if (code == 200)
		log_info("namespace controller: %s emptied and finalized", ns);
	return code == 200 || code == 404 ? 0 : 1;
}

static void on_sync(evutil_socket_t fd, short what, void *arg)
{
	struct bl_controllers *c = arg;
	struct ns_ctl *s = c->ns;
	json_t *todo = s->dirty, *v;
	const char *ns;

	(void)fd;
	(void)what;
	s->dirty = json_object();
	json_object_foreach(todo, ns, v)
	{
		if (sync_one(c, ns))
			json_object_set_new(s->dirty, ns, json_true());
	}
	json_decref(todo);
	if (json_object_size(s->dirty)) {
		struct timeval later = {1, 0};

		event_add(s->ev, &later);
	}
}

int bl_ns_ctl_start(struct bl_controllers *c)
{
	struct ns_ctl *s = calloc(1, sizeof(*s));
	json_t *list, *n;
	size_t i;

	if (!s)
		return -1;
	c->ns = s;
	s->dirty = json_object();
	s->ev = evtimer_new(c->base, on_sync, c);
	list = bl_ctl_list(c->srv, "/registry/namespaces/");
	if (!s->ev || !list) {
		json_decref(list);
		return -1;
	}
	/* deletions a previous run did not finish */
	json_array_foreach(list, i, n) if (bl_ctl_get(n, "metadata.deletionTimestamp"))
		json_object_set_new(s->dirty, bl_ctl_str(n, "metadata.name"), json_true());
	json_decref(list);
	if (json_object_size(s->dirty))
		bl_ctl_kick(s->ev);
	return 0;
}

void bl_ns_ctl_event(struct bl_controllers *c, const struct ctl_event *e)
{
	json_t *obj;

	if (!c->ns || !c->ns->ev || strcmp(e->res, "namespaces") || e->ev->type != BL_EV_PUT ||
	    !memmem(e->ev->kv->value, e->ev->kv->len, "deletionTimestamp", 17))
		return;
	obj = json_loadb(e->ev->kv->value, e->ev->kv->len, 0, NULL);
	if (bl_ctl_get(obj, "metadata.deletionTimestamp")) {
		json_object_set_new(c->ns->dirty, e->name, json_true());
		bl_ctl_kick(c->ns->ev);
	}
	json_decref(obj);
}

void bl_ns_ctl_stop(struct bl_controllers *c)
{
	if (!c->ns)
		return;
	if (c->ns->ev)
		event_free(c->ns->ev);
	json_decref(c->ns->dirty);
	free(c->ns);
	c->ns = NULL;
}
