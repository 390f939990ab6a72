/* The EndpointSlice controller's state (internal to controllers/; tests read its
 * counters). */
#ifndef BPFLET_CTL_EPS_CONTROLLER_H
#define BPFLET_CTL_EPS_CONTROLLER_H

#include "controlplane/controllers/eps_index.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>

struct eps_ctl_state {
	struct bl_eps_index idx;
	json_t *dirty; /* "ns/svc" to sync (a set) */
	json_t *retry; /* failed: synced again a second later */
	/* "ns/slice" → the revision of our own last write to it (the watch event that
	 * brings it back concerns nobody), or true when that event came during the write */
	json_t *own;
	/* our write in progress: namespace and slice name ("" while creating); its
	 * event comes back before the write returns */
	const char *writing_ns, *writing_name;
	struct event *retry_ev;
	unsigned long synced; /* Services looked at */
	unsigned long writes; /* slices created, updated or deleted */
};

#endif
