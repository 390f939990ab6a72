/* Leader election through the Lease kube-system/bpflet-controlplane, read and written
 * through the REST handlers like any client's (so resourceVersion guards every write:
 * of two control planes trying at once, one gets 409). The decisions are in
 * leader_plan.c; here are the clock, the writes, and starting and stopping the
 * controllers. */
#include "controlplane/controllers/leader.h"
#include "controlplane/controllers/client.h"
#include "controlplane/controllers/ctl_util.h"
#include "controlplane/controllers/leader_plan.h"
#include "agent/common/log.h"
#include "agent/common/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LEASE_PATH                                                                                 \
	"/apis/coordination.k8s.io/v1/namespaces/" BL_LEADER_LEASE_NS                              \
	"/leases/" BL_LEADER_LEASE_NAME

struct bl_leader {
	struct event_base *base;
	struct bl_apiserver *srv;
	struct bl_controllers_config cfg;
	struct bl_controllers *ctl; /* running while we lead */
	struct event *tick;
	char id[300];
	char seen_rv[32];      /* resourceVersion of the Lease version last read */
	char seen_holder[300]; /* its holder, for logging changes only */
	double observed;       /* when that version was first read */
	bool leading;
	double renewed; /* when the last successful write was sent */
};

static void step_down(struct bl_leader *l, const char *why)
{
	if (!l->leading)
		return;
	log_warn("leader election: %s no longer leads (%s): controllers stop", l->id, why);
	bl_controllers_stop(l->ctl);
	l->ctl = NULL;
	l->leading = false;
}

/* The first time a version of the Lease is read starts its expiry clock. */
static void observe(struct bl_leader *l, json_t *lease, double now)
{
	const char *rv = bl_ctl_str(lease, "metadata.resourceVersion") ?: "";
	const char *holder = bl_ctl_str(lease, "spec.holderIdentity") ?: "";

	if (strcmp(rv, l->seen_rv)) {
		snprintf(l->seen_rv, sizeof(l->seen_rv), "%s", rv);
		l->observed = now;
	}
	if (strcmp(holder, l->seen_holder)) {
		snprintf(l->seen_holder, sizeof(l->seen_holder), "%s", holder);
		if (holder[0] && strcmp(holder, l->id))
			log_info("leader election: %s holds the Lease; %s serves the API only",
				 holder, l->id);
	}
}

static void try_lease(struct bl_leader *l)
{
	double now = bl_mono_now();
	json_t *lease = NULL, *want, *answer = NULL;
	enum bl_le_verdict v;
	char ts[40];
	int code = bl_ctl_request(l->srv, "GET", LEASE_PATH, NULL, NULL, &lease);

	if (code != 200 && code != 404) {
		json_decref(lease);
		if (l->leading && bl_le_lost(bl_mono_now(), l->renewed, BL_LEADER_DEADLINE_S))
			step_down(l, "the Lease cannot be read");
		return;
	}
	if (code == 404) {
		json_decref(lease);
		lease = NULL;
	}
	observe(l, lease, now);
	v = bl_le_decide(lease, l->id, now, l->observed, BL_LEADER_LEASE_S);
	if (v == BL_LE_WAIT) {
		step_down(l, "another control plane holds the Lease");
		json_decref(lease);
		return;
	}
	bl_now_rfc3339(ts, sizeof(ts), true);
	want = bl_le_record(lease, v, l->id, BL_LEADER_LEASE_S, ts);
	now = bl_mono_now(); /* the Lease lasts from when the write is sent */
	code = want ? bl_ctl_request(l->srv, v == BL_LE_CREATE ? "POST" : "PUT",
				     v == BL_LE_CREATE ? "/apis/coordination.k8s.io/v1/"
							 "namespaces/" BL_LEADER_LEASE_NS "/leases"
						       : LEASE_PATH,
				     NULL, want, &answer)
		    : 500;
	json_decref(want);
	json_decref(lease);
	if (code != 200 && code != 201) {
		json_decref(answer);
		log_debug("leader election: writing the Lease: HTTP %d", code);
		if (l->leading && bl_le_lost(bl_mono_now(), l->renewed, BL_LEADER_DEADLINE_S))
			step_down(l, "the Lease was not renewed in time");
		return;
	}
	observe(l, answer, now);
	json_decref(answer);
	l->renewed = now;
	if (!l->leading) {
		l->leading = true;
		log_info("leader election: %s holds the Lease %s/%s: controllers start", l->id,
			 BL_LEADER_LEASE_NS, BL_LEADER_LEASE_NAME);
	}
	if (!l->ctl && bl_controllers_start(l->base, l->srv, &l->cfg, &l->ctl))
		log_err("leader election: the controllers did not start; tried again in %d s",
			BL_LEADER_RETRY_S);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	try_lease(arg);
}

int bl_leader_start(struct event_base *base, struct bl_apiserver *srv,
		    const struct bl_controllers_config *cfg, const char *id, struct bl_leader **out)
{
	struct bl_leader *l = calloc(1, sizeof(*l));
	struct timeval every = {BL_LEADER_RETRY_S, 0};

	*out = NULL;
	if (!l)
		return -1;
	l->base = base;
	l->srv = srv;
	l->cfg = *cfg;
	if (id) {
		snprintf(l->id, sizeof(l->id), "%s", id);
	} else {
		char host[256] = "localhost";

		gethostname(host, sizeof(host) - 1);
		snprintf(l->id, sizeof(l->id), "%s_%d", host, (int)getpid());
	}
	l->tick = event_new(base, -1, EV_PERSIST, on_tick, l);
	if (!l->tick || event_add(l->tick, &every)) {
		bl_leader_stop(l);
		return -1;
	}
	log_info("leader election: %s tries for the Lease %s/%s every %d s", l->id,
		 BL_LEADER_LEASE_NS, BL_LEADER_LEASE_NAME, BL_LEADER_RETRY_S);
	try_lease(l);
	*out = l;
	return 0;
}

void bl_leader_stop(struct bl_leader *l)
{
	json_t *lease = NULL, *gone;
	char ts[40];

	if (!l)
		return;
	if (l->tick)
		event_free(l->tick);
	if (l->leading) {
		bl_controllers_stop(l->ctl);
		l->ctl = NULL;
		/* only while it still names us, and only that version (resourceVersion) */
		if (bl_ctl_request(l->srv, "GET", LEASE_PATH, NULL, NULL, &lease) == 200 &&
		    !strcmp(bl_ctl_str(lease, "spec.holderIdentity") ?: "", l->id)) {
			bl_now_rfc3339(ts, sizeof(ts), true);
			gone = bl_le_release(lease, ts);
			if (gone &&
			    bl_ctl_request(l->srv, "PUT", LEASE_PATH, NULL, gone, NULL) == 200)
				log_info("leader election: %s released the Lease", l->id);
			json_decref(gone);
		}
		json_decref(lease);
	}
	free(l);
}
