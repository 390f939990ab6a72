/* The scheduler's thin part: while pods wait, changes to pods and nodes run the plan
 * again (sched_plan.c decides); bindings go through pods/NAME/binding and pods that fit
 * nowhere get PodScheduled=False (Unschedulable) with kube's message. Nothing runs while
 * no pod waits. Pods are followed through watch events: the waiting ones whole, the
 * others as what they take of their node, summed per node, so a plan reads only the
 * Nodes and costs the same however many pods run. */
#include "controlplane/controllers/client.h"
#include "controlplane/controllers/ctl_util.h"
#include "controlplane/controllers/manager.h"
#include "controlplane/controllers/sched_plan.h"
#include "controlplane/apiserver/objmeta.h"
#include "agent/common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sched_ctl {
	struct event *ev;
	json_t *waiting; /* "ns/name" → pending pod */
	json_t *placed;	 /* "ns/name" → bl_sched_charge of a bound, running pod */
	json_t *usage;	 /* node name → the sum of its pods' charges */
};

static void pod_key(json_t *pod, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", bl_ctl_str(pod, "metadata.namespace") ?: "",
		 bl_ctl_str(pod, "metadata.name") ?: "");
}

/* pod (NULL: gone) as the caches keep it; returns whether it waits. */
static bool follow(struct sched_ctl *s, const char *key, json_t *pod)
{
	json_t *charge;

	json_object_del(s->waiting, key);
	bl_sched_usage_apply(s->usage, json_object_get(s->placed, key), -1);
	json_object_del(s->placed, key);
	if (!pod)
		return false;
	if (bl_sched_pending(pod)) {
		json_object_set(s->waiting, key, pod);
		return true;
	}
	charge = bl_sched_charge(pod);
	if (charge) {
		bl_sched_usage_apply(s->usage, charge, 1);
		json_object_set_new(s->placed, key, charge);
	}
	return false;
}

static int bind_pod(struct bl_controllers *c, json_t *b)
{
	const char *ns = bl_ctl_str(b, "namespace"), *name = bl_ctl_str(b, "name");
	const char *node = bl_ctl_str(b, "node");
	json_t *body = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s}}", "apiVersion", "v1",
				 "kind", "Binding", "metadata", "name", name, "namespace", ns,
				 "target", "apiVersion", "v1", "kind", "Node", "name", node);
	char path[700], msg[800];
	int code;

	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s/binding", ns, name);
	code = bl_ctl_request(c->srv, "POST", path, NULL, body, NULL);
	json_decref(body);
	if (code == 201) {
		json_t *pod =
			json_pack("{s:{s:s, s:s}}", "metadata", "name", name, "namespace", ns);

		log_info("scheduler: %s/%s bound to %s", ns, name, node);
		snprintf(msg, sizeof(msg), "Successfully assigned %s/%s to %s", ns, name, node);
		bl_ctl_record_event(c->srv, pod, "Pod", "Normal", "Scheduled", msg, BL_SCHED_NAME);
		json_decref(pod);
		return 0;
	}
	/* 409: bound or deleted meanwhile; 404: gone. The next plan sees it. */
	log_warn("scheduler: binding %s/%s to %s: %d", ns, name, node, code);
	return code == 404 ? 0 : -1;
}

/* PodScheduled=False Unschedulable with msg, written only when it says something new. */
static int unschedulable(struct bl_controllers *c, json_t *pod, const char *msg)
{
	json_t *copy = json_deep_copy(pod);
	char path[700], ts[32];
	int code;

	bl_timestamp(time(NULL), ts);
	if (!bl_ctl_set_condition(copy, "PodScheduled", "False", "Unschedulable", msg, ts)) {
		json_decref(copy);
		return 0;
	}
	json_object_set_new(bl_ctl_condition(copy, "PodScheduled"), "lastProbeTime", json_null());
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s/status",
		 bl_ctl_str(pod, "metadata.namespace"), bl_ctl_str(pod, "metadata.name"));
	code = bl_ctl_request(c->srv, "PUT", path, NULL, copy, NULL);
	json_decref(copy);
	if (code == 200) {
		log_info("scheduler: %s/%s: %s", bl_ctl_str(pod, "metadata.namespace"),
			 bl_ctl_str(pod, "metadata.name"), msg);
		bl_ctl_record_event(c->srv, pod, "Pod", "Warning", "FailedScheduling", msg,
				    BL_SCHED_NAME);
		return 0;
	}
	return code == 404 ? 0 : -1;
}

static void on_sync(evutil_socket_t fd, short what, void *arg)
{
	struct bl_controllers *c = arg;
	struct sched_ctl *s = c->sched;
	json_t *nodes, *pods, *plan, *e, *p;
	const char *k;
	char key[520];
	size_t i;
	int rc = 0;

	(void)fd;
	(void)what;
	if (!json_object_size(s->waiting))
		return;
	nodes = bl_ctl_list(c->srv, "/registry/nodes/");
	if (!nodes) {
		rc = -1;
		goto out;
	}
	pods = json_array();
	json_object_foreach(s->waiting, k, p) json_array_append(pods, p);
	plan = bl_sched_plan(nodes, pods, s->usage);
	json_decref(pods);
	json_decref(nodes);
	json_array_foreach(json_object_get(plan, "bind"), i, e) rc |= bind_pod(c, e);
	json_array_foreach(json_object_get(plan, "unschedulable"), i, e)
	{
		json_t *pod;

		snprintf(key, sizeof(key), "%s/%s", bl_ctl_str(e, "namespace"),
			 bl_ctl_str(e, "name"));
		/* our own writes' events may have replaced it meanwhile: the newest */
		pod = json_incref(json_object_get(s->waiting, key));
		if (pod)
			rc |= unschedulable(c, pod, bl_ctl_str(e, "message"));
		json_decref(pod);
	}
	json_decref(plan);
out:
	if (rc) {
		struct timeval later = {1, 0};

		event_add(s->ev, &later);
	}
}

int bl_sched_ctl_start(struct bl_controllers *c)
{
	json_t *pods, *pod;
	char key[520];
	size_t i;

	c->sched = calloc(1, sizeof(*c->sched));
	if (!c->sched)
		return -1;
	c->sched->waiting = json_object();
	c->sched->placed = json_object();
	c->sched->usage = json_object();
	c->sched->ev = evtimer_new(c->base, on_sync, c);
	pods = bl_ctl_list(c->srv, "/registry/pods/");
	if (!c->sched->ev || !pods) {
		json_decref(pods);
		return -1;
	}
	json_array_foreach(pods, i, pod)
	{
		pod_key(pod, key, sizeof(key));
		follow(c->sched, key, pod);
	}
	json_decref(pods);
	bl_ctl_kick(c->sched->ev);
	return 0;
}

/* What of a node the plan looks at; heartbeats change none of it. */
static json_t *node_fit(const struct bl_kv *kv)
{
	json_t *n = kv ? json_loadb(kv->value, kv->len, 0, NULL) : NULL, *fit;

	if (!n)
		return NULL;
	fit = json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?}", "labels",
			bl_ctl_get(n, "metadata.labels"), "taints", bl_ctl_get(n, "spec.taints"),
			"unschedulable", bl_ctl_get(n, "spec.unschedulable"), "allocatable",
			bl_ctl_get(n, "status.allocatable"), "ready",
			json_object_get(bl_ctl_condition(n, "Ready"), "status"));
	json_decref(n);
	return fit;
}

static bool node_fit_changed(const struct bl_event *ev)
{
	json_t *now = ev->type == BL_EV_PUT ? node_fit(ev->kv) : NULL, *before = node_fit(ev->prev);
	bool changed = ev->type == BL_EV_DELETE || !now || !before || !json_equal(now, before);

	json_decref(now);
	json_decref(before);
	return changed;
}

/* A pod waits (plan now) or stopped waiting; a bound pod went away or finished (room
 * for the waiting ones); a node changed in what the plan looks at. */
void bl_sched_ctl_event(struct bl_controllers *c, const struct ctl_event *e)
{
	struct sched_ctl *s = c->sched;
	char key[520];
	json_t *pod;
	bool had;

	if (!s || !s->ev)
		return;
	if (!strcmp(e->res, "nodes")) {
		if (json_object_size(s->waiting) && node_fit_changed(e->ev))
			bl_ctl_kick(s->ev);
		return;
	}
	if (strcmp(e->res, "pods"))
		return;
	snprintf(key, sizeof(key), "%s/%s", e->ns, e->name);
	had = json_object_get(s->waiting, key) || json_object_get(s->placed, key);
	pod = e->ev->type == BL_EV_PUT ? bl_obj_from_kv(e->ev->kv) : NULL;
	/* the caches follow every event; a plan runs for a pod that waits, or when a pod
	 * that waited or ran no longer does (room may have come free) */
	if ((follow(s, key, pod) || (had && !json_object_get(s->placed, key))) &&
	    json_object_size(s->waiting))
		bl_ctl_kick(s->ev);
	json_decref(pod);
}

void bl_sched_ctl_stop(struct bl_controllers *c)
{
	if (!c->sched)
		return;
	if (c->sched->ev)
		event_free(c->sched->ev);
	json_decref(c->sched->waiting);
	json_decref(c->sched->placed);
	json_decref(c->sched->usage);
	free(c->sched);
	c->sched = NULL;
}
