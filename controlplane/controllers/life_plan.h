/* The node lifecycle controller's decisions, pure: when a node last showed it was alive,
 * and what its status and taints should then be. */
#ifndef BPFLET_CTL_LIFE_PLAN_H
#define BPFLET_CTL_LIFE_PLAN_H

#include <jansson.h>
#include <stdbool.h>

#define BL_TAINT_UNREACHABLE "node.kubernetes.io/unreachable"

/* The latest of: lease's spec.renewTime (lease may be NULL), node's Ready
 * lastHeartbeatTime, node's creationTimestamp, and since (when the controller began
 * watching, so a restarted control plane gives every node a full grace period). */
double bl_life_last_seen(json_t *node, json_t *lease, double since);

enum {
	BL_LIFE_STATUS = 1 << 0, /* status.conditions differ */
	BL_LIFE_TAINTS = 1 << 1, /* spec.taints differ */
};

/* node as it should be at now (now_ts is now as RFC 3339), given grace seconds: not seen
 * for longer, Ready (and the other kubelet conditions) become Unknown with reason
 * NodeStatusUnknown and the node gets the unreachable taint with effects NoSchedule and
 * NoExecute; seen in time and Ready=True, those taints go. Returns a new node (new
 * reference) and *what (BL_LIFE_*), or NULL when nothing is to change. */
json_t *bl_life_plan(json_t *node, json_t *lease, double now, double since, int grace,
		     const char *now_ts, unsigned *what);

#endif
