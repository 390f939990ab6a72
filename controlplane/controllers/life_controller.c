/* Node lifecycle: every few seconds each Node is judged by its Lease in kube-node-lease
 * (life_plan.c); a node silent for the grace period gets Ready=Unknown and the
 * unreachable taints, written through nodes/NAME/status and nodes/NAME; once it is Ready
 * again the taints go. */
#include "controlplane/controllers/client.h"
#include "controlplane/controllers/ctl_util.h"
#include "controlplane/controllers/life_plan.h"
#include "controlplane/controllers/manager.h"
#include "controlplane/apiserver/objmeta.h"
#include "agent/common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define LEASE_NS "kube-node-lease"

struct life_ctl {
	struct event *ev;
	double since; /* when this controller began watching */
	struct timeval period;
};

static double now_s(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static void changed_log(struct bl_controllers *c, json_t *old, json_t *want, unsigned what)
{
	const char *name = bl_ctl_str(old, "metadata.name");
	char msg[400];

	if (!(what & BL_LIFE_STATUS)) {
		if (!bl_ctl_condition(want, "Ready") ||
		    strcmp(json_string_value(
				   json_object_get(bl_ctl_condition(want, "Ready"), "status"))
				   ?: "",
			   "True"))
			return;
		log_info("node lifecycle: node %s is Ready again: unreachable taints removed",
			 name);
		return;
	}
	log_warn("node lifecycle: node %s: no Lease renewal or status for %d s: Ready=Unknown, "
		 "tainted %s",
		 name, c->cfg.node_grace, BL_TAINT_UNREACHABLE);
	snprintf(msg, sizeof(msg), "Node %s status is now: NodeNotReady", name);
	bl_ctl_record_event(c->srv, old, "Node", "Normal", "NodeNotReady", msg, "node-controller");
}

/* 0, or -1 when a write failed (tried again at the next tick). */
static int apply(struct bl_controllers *c, json_t *old, json_t *want, unsigned what)
{
	const char *name = bl_ctl_str(old, "metadata.name");
	json_t *answer = NULL;
	char path[400];
	int code;

	if (what & BL_LIFE_STATUS) {
		snprintf(path, sizeof(path), "/api/v1/nodes/%s/status", name);
		code = bl_ctl_request(c->srv, "PUT", path, NULL, want, &answer);
		if (code != 200) {
			json_decref(answer);
			return code == 404 ? 0 : -1;
		}
		/* the taints go on top of what was just written */
		json_object_set(bl_meta(want), "resourceVersion",
				bl_ctl_get(answer, "metadata.resourceVersion"));
		json_decref(answer);
	}
	if (what & BL_LIFE_TAINTS) {
		snprintf(path, sizeof(path), "/api/v1/nodes/%s", name);
		code = bl_ctl_request(c->srv, "PUT", path, NULL, want, NULL);
		if (code != 200)
			return code == 404 ? 0 : -1;
	}
	changed_log(c, old, want, what);
	return 0;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct bl_controllers *c = arg;
	struct life_ctl *s = c->life;
	json_t *nodes = bl_ctl_list(c->srv, "/registry/nodes/");
	json_t *leases = bl_ctl_list(c->srv, "/registry/leases/" LEASE_NS "/");
	json_t *byname = json_object(), *l, *n;
	double now = now_s();
	char ts[32];
	size_t i;

	(void)fd;
	(void)what;
	bl_timestamp((time_t)now, ts);
	json_array_foreach(leases, i, l) if (bl_ctl_str(l, "metadata.name"))
		json_object_set(byname, bl_ctl_str(l, "metadata.name"), l);
	json_array_foreach(nodes, i, n)
	{
		const char *name = bl_ctl_str(n, "metadata.name");
		unsigned todo;
		json_t *want;

		if (!name)
			continue;
		want = bl_life_plan(n, json_object_get(byname, name), now, s->since,
				    c->cfg.node_grace, ts, &todo);
		if (want && apply(c, n, want, todo))
			log_debug("node lifecycle: node %s: write failed, next tick", name);
		json_decref(want);
	}
	json_decref(byname);
	json_decref(nodes);
	json_decref(leases);
	event_add(s->ev, &s->period);
}

int bl_life_ctl_start(struct bl_controllers *c)
{
	struct life_ctl *s = calloc(1, sizeof(*s));
	int p = c->cfg.node_grace / 5;

	if (!s)
		return -1;
	c->life = s;
	s->since = now_s();
	/* kube checks every 5 s; a short grace period is checked more often */
	s->period.tv_sec = p < 1 ? 1 : p > 5 ? 5 : p;
	s->ev = evtimer_new(c->base, on_tick, c);
	if (!s->ev)
		return -1;
	event_add(s->ev, &s->period);
	return 0;
}

/* A tainted node that reports Ready again is untainted at once, not at the next tick. */
void bl_life_ctl_event(struct bl_controllers *c, const struct ctl_event *e)
{
	json_t *node, *t;
	bool tainted = false;
	size_t i;

	if (!c->life || !c->life->ev || strcmp(e->res, "nodes") || e->ev->type != BL_EV_PUT)
		return;
	/* cheap test before parsing: most node writes are heartbeats of healthy nodes */
	if (!memmem(e->ev->kv->value, e->ev->kv->len, BL_TAINT_UNREACHABLE,
		    strlen(BL_TAINT_UNREACHABLE)))
		return;
	node = json_loadb(e->ev->kv->value, e->ev->kv->len, 0, NULL);
	json_array_foreach(bl_ctl_get(node, "spec.taints"), i, t) tainted |=
		!strcmp(bl_ctl_str(t, "key") ?: "", BL_TAINT_UNREACHABLE);
	if (tainted &&
	    !strcmp(json_string_value(json_object_get(bl_ctl_condition(node, "Ready"), "status"))
			    ?: "",
		    "True")) {
		static const struct timeval now = {0, 0};

		/* the tick's timer, moved to now */
		event_add(c->life->ev, &now);
	}
	json_decref(node);
}

void bl_life_ctl_stop(struct bl_controllers *c)
{
	if (!c->life)
		return;
	if (c->life->ev)
		event_free(c->life->ev);
	free(c->life);
	c->life = NULL;
}
