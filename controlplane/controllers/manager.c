/* Starts and stops the controllers and turns store watch events into ctl_events. */
#include "controlplane/controllers/manager.h"
#include "controlplane/apiserver/resources.h"
#include "controlplane/apiserver/server.h"
#include "agent/common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const watched[] = {"pods",	"services",   "endpointslices", "nodes",
				      "leases", "namespaces", "endpoints"};

static const struct {
	int (*start)(struct bl_controllers *c);
	void (*event)(struct bl_controllers *c, const struct ctl_event *e);
	void (*stop)(struct bl_controllers *c);
} ctls[] = {
	{bl_eps_ctl_start, bl_eps_ctl_event, bl_eps_ctl_stop},
	{bl_sched_ctl_start, bl_sched_ctl_event, bl_sched_ctl_stop},
	{bl_life_ctl_start, bl_life_ctl_event, bl_life_ctl_stop},
	{bl_cidr_ctl_start, bl_cidr_ctl_event, bl_cidr_ctl_stop},
	{bl_ksvc_ctl_start, bl_ksvc_ctl_event, bl_ksvc_ctl_stop},
	{bl_ns_ctl_start, bl_ns_ctl_event, bl_ns_ctl_stop},
};
#define NCTLS (sizeof(ctls) / sizeof(ctls[0]))

static int parse_key(const char *key, struct ctl_event *e)
{
	const char *p = key + strlen("/registry/"), *slash;
	const struct bl_resource *r = NULL;

	if (strncmp(key, "/registry/", 10) || !(slash = strchr(p, '/')))
		return -1;
	snprintf(e->res, sizeof(e->res), "%.*s", (int)(slash - p), p);
	for (size_t i = 0; i < bl_nresources; i++)
		if (!strcmp(bl_resources[i].name, e->res))
			r = &bl_resources[i];
	if (!r)
		return -1;
	p = slash + 1;
	e->ns[0] = '\0';
	if (r->namespaced) {
		slash = strchr(p, '/');
		if (!slash)
			return -1;
		snprintf(e->ns, sizeof(e->ns), "%.*s", (int)(slash - p), p);
		p = slash + 1;
	}
	snprintf(e->name, sizeof(e->name), "%s", p);
	return 0;
}

static void on_store_event(const struct bl_event *ev, void *arg)
{
	struct bl_controllers *c = arg;
	struct ctl_event e = {.ev = ev};

	if (parse_key(ev->kv->key, &e))
		return;
	for (size_t i = 0; i < NCTLS; i++)
		ctls[i].event(c, &e);
}

void bl_ctl_kick(struct event *ev)
{
	static const struct timeval now = {0, 0};

	if (!event_pending(ev, EV_TIMEOUT, NULL))
		event_add(ev, &now);
}

int bl_controllers_start(struct event_base *base, struct bl_apiserver *srv,
			 const struct bl_controllers_config *cfg, struct bl_controllers **out)
{
	struct bl_controllers *c = calloc(1, sizeof(*c));
	int64_t rev;

	*out = NULL;
	if (!c)
		return -1;
	c->base = base;
	c->srv = srv;
	c->store = srv->store;
	c->cfg = *cfg;
	/* watch first, from the revision the controllers' first full sync reads at or
	 * after: nothing committed in between is missed */
	rev = bl_store_current_rev(c->store);
	for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++) {
		char prefix[64];

		snprintf(prefix, sizeof(prefix), "/registry/%s/", watched[i]);
		if (bl_store_watch(c->store, prefix, rev, on_store_event, c,
				   &c->watches[c->nwatches])) {
			log_err("controllers: cannot watch %s", prefix);
			bl_controllers_stop(c);
			return -1;
		}
		c->nwatches++;
	}
	for (size_t i = 0; i < NCTLS; i++) {
		if (ctls[i].start(c)) {
			bl_controllers_stop(c);
			return -1;
		}
	}
	*out = c;
	return 0;
}

void bl_controllers_stop(struct bl_controllers *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nwatches; i++)
		bl_store_unwatch(c->store, c->watches[i]);
	for (size_t i = 0; i < NCTLS; i++)
		ctls[i].stop(c);
	free(c);
}
