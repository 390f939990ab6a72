/* What the controllers share: the server, the loop, and one watch per resource whose
 * events are handed to every controller (internal to controllers/). */
#ifndef BPFLET_CTL_MANAGER_H
#define BPFLET_CTL_MANAGER_H

#include "controlplane/controllers/controllers.h"
#include "controlplane/store/store.h"

#include <jansson.h>

struct eps_ctl_state;
struct eps_ctl {
	struct eps_ctl_state *st; /* eps_controller.h */
	struct event *ev;
};

struct bl_controllers {
	struct event_base *base;
	struct bl_apiserver *srv;
	struct bl_store *store;
	struct bl_controllers_config cfg;
	struct bl_watch *watches[12];
	int nwatches;
	struct eps_ctl eps;
	/* the others keep their state in their own files */
	struct sched_ctl *sched;
	struct life_ctl *life;
	struct cidr_ctl *cidr;
	struct ksvc_ctl *ksvc;
	struct ns_ctl *ns;
};

/* What a watch event is about: resource ("pods"), namespace ("" when cluster-scoped)
 * and name, from the key /registry/RES/[NS/]NAME. */
struct ctl_event {
	const struct bl_event *ev;
	char res[64], ns[256], name[256];
};

/* eps_controller.c */
int bl_eps_ctl_start(struct bl_controllers *c);
void bl_eps_ctl_event(struct bl_controllers *c, const struct ctl_event *e);
void bl_eps_ctl_stop(struct bl_controllers *c);

/* Each controller: start (0 or -1), an event, stop (safe after a failed start). */
int bl_sched_ctl_start(struct bl_controllers *c);
void bl_sched_ctl_event(struct bl_controllers *c, const struct ctl_event *e);
void bl_sched_ctl_stop(struct bl_controllers *c);
int bl_life_ctl_start(struct bl_controllers *c);
void bl_life_ctl_event(struct bl_controllers *c, const struct ctl_event *e);
void bl_life_ctl_stop(struct bl_controllers *c);
int bl_cidr_ctl_start(struct bl_controllers *c);
void bl_cidr_ctl_event(struct bl_controllers *c, const struct ctl_event *e);
void bl_cidr_ctl_stop(struct bl_controllers *c);
int bl_ksvc_ctl_start(struct bl_controllers *c);
void bl_ksvc_ctl_event(struct bl_controllers *c, const struct ctl_event *e);
void bl_ksvc_ctl_stop(struct bl_controllers *c);
int bl_ns_ctl_start(struct bl_controllers *c);
void bl_ns_ctl_event(struct bl_controllers *c, const struct ctl_event *e);
void bl_ns_ctl_stop(struct bl_controllers *c);

/* Runs cb on the loop as soon as it is idle (coalescing repeated asks). */
void bl_ctl_kick(struct event *ev);

#endif
