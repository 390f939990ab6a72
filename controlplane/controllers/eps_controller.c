/* The EndpointSlice controller's thin part: on changes to pods, services, slices or
 * nodes, the namespaces concerned are synced again; eps_plan.c decides, this writes. */
#include "controlplane/controllers/client.h"
#include "controlplane/controllers/eps_plan.h"
#include "controlplane/controllers/manager.h"
#include "agent/common/log.h"

#include <stdio.h>
#include <string.h>

#define SLICES "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices"

static const char *name_of(json_t *obj)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
}

static const char *rv_of(json_t *obj)
{
	return json_string_value(
		json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));
}

/* 0, or -1 when a write failed (the namespace is tried again later). */
static int write_slice(struct bl_controllers *c, const char *ns, const char *method, json_t *slice)
{
	char path[700];
	json_t *body = NULL;
	int code;

	if (!strcmp(method, "POST")) {
		snprintf(path, sizeof(path), SLICES, ns);
	} else {
		snprintf(path, sizeof(path), SLICES "/%s", ns, name_of(slice));
		if (!strcmp(method, "DELETE"))
			body = json_pack("{s:{s:s}}", "preconditions", "resourceVersion",
					 rv_of(slice) ?: "");
	}
	code = bl_ctl_request(c->srv, method, path, NULL, body ? body : slice, NULL);
	json_decref(body);
	if (code < 300 || (code == 404 && !strcmp(method, "DELETE")))
		return 0;
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

static json_t *nodes_by_name(struct bl_controllers *c)
{
	json_t *list = bl_ctl_list(c->srv, "/registry/nodes/"), *byname = json_object(), *n;
	size_t i;

	json_array_foreach(list, i, n) if (name_of(n)) json_object_set(byname, name_of(n), n);
	json_decref(list);
	return byname;
}

static json_t *list_ns(struct bl_controllers *c, const char *res, const char *ns)
{
	char prefix[400];

	snprintf(prefix, sizeof(prefix), "/registry/%s/%s/", res, ns);
	return bl_ctl_list(c->srv, prefix);
}

static int sync_namespace(struct bl_controllers *c, const char *ns, json_t *nodes)
{
	json_t *svcs = list_ns(c, "services", ns), *pods = list_ns(c, "pods", ns);
	json_t *slices = list_ns(c, "endpointslices", ns), *svc, *s;
	json_t *names = json_object();
	size_t i;
	int rc = 0;

	if (!svcs || !pods || !slices) {
		rc = -1;
		goto out;
	}
	json_array_foreach(svcs, i, svc)
	{
		json_t *plan = bl_eps_plan(svc, pods, nodes, slices, BL_EPS_MAX_ENDPOINTS);

		json_object_set_new(names, name_of(svc) ?: "", json_true());
		rc |= apply_plan(c, ns, plan);
		json_decref(plan);
	}
	/* ours, for a Service that is gone: nothing else removes them */
	json_array_foreach(slices, i, s)
	{
		const char *svc_name = json_string_value(
			json_object_get(json_object_get(json_object_get(s, "metadata"), "labels"),
					"kubernetes.io/service-name"));

		if (bl_eps_slice_of(s, NULL) && !json_object_get(names, svc_name))
			rc |= write_slice(c, ns, "DELETE", s);
	}
out:
	json_decref(names);
	json_decref(svcs);
	json_decref(pods);
	json_decref(slices);
	return rc;
}

static void on_sync(evutil_socket_t fd, short what, void *arg)
{
	struct bl_controllers *c = arg;
	struct eps_ctl *e = &c->eps;
	json_t *todo = e->dirty, *nodes, *v;
	bool all = e->all;
	const char *ns;

	(void)fd;
	(void)what;
	/* changes made while syncing (our own writes too) land in a fresh set */
	e->dirty = json_object();
	e->all = false;
	if (all) {
		json_t *list = bl_ctl_list(c->srv, "/registry/namespaces/"), *n;
		size_t i;

		json_array_foreach(list, i, n) if (name_of(n))
			json_object_set_new(todo, name_of(n), json_true());
		json_decref(list);
	}
	nodes = nodes_by_name(c);
	json_object_foreach(todo, ns, v)
	{
		if (sync_namespace(c, ns, nodes) == 0)
			continue;
		/* conflicts with other writers: read again and retry in a second */
		json_object_set_new(e->dirty, ns, json_true());
		if (!event_pending(e->ev, EV_TIMEOUT, NULL)) {
			struct timeval later = {1, 0};

			event_add(e->ev, &later);
		}
	}
	json_decref(nodes);
	json_decref(todo);
}

int bl_eps_ctl_start(struct bl_controllers *c)
{
	c->eps.dirty = json_object();
	c->eps.all = true;
	c->eps.ev = evtimer_new(c->base, on_sync, c);
	if (!c->eps.ev)
		return -1;
	bl_ctl_kick(c->eps.ev);
	return 0;
}

static const char *zone_of(json_t *node)
{
	return json_string_value(
		json_object_get(json_object_get(json_object_get(node, "metadata"), "labels"),
				"topology.kubernetes.io/zone"));
}

/* Endpoints carry their node's zone: only a zone change concerns this controller. */
static bool zone_changed(const struct bl_event *ev)
{
	json_t *now = ev->type == BL_EV_PUT ? json_loads(ev->kv->value, 0, NULL) : NULL;
	json_t *before =
		ev->prev ? json_loads(ev->prev->value, 0, NULL)
			 : (ev->type == BL_EV_DELETE ? json_loads(ev->kv->value, 0, NULL) : NULL);
	const char *a = zone_of(now), *b = zone_of(before);
	bool changed = (a || b) && (!a || !b || strcmp(a, b));

	json_decref(now);
	json_decref(before);
	return changed;
}

void bl_eps_ctl_event(struct bl_controllers *c, const struct ctl_event *e)
{
	if (!c->eps.ev)
		return;
	if (!strcmp(e->res, "nodes")) {
		if (!zone_changed(e->ev))
			return;
		c->eps.all = true;
	} else if (!strcmp(e->res, "pods") || !strcmp(e->res, "services") ||
		   !strcmp(e->res, "endpointslices"))
		json_object_set_new(c->eps.dirty, e->ns, json_true());
	else
		return;
	bl_ctl_kick(c->eps.ev);
}

void bl_eps_ctl_stop(struct bl_controllers *c)
{
	if (c->eps.ev)
		event_free(c->eps.ev);
	c->eps.ev = NULL;
	json_decref(c->eps.dirty);
	c->eps.dirty = NULL;
}
