/* The scheduler's decisions, as pure functions over JSON objects: which pending pods go to
 * which node, and why the others fit nowhere. */
#ifndef BPFLET_CTL_SCHED_PLAN_H
#define BPFLET_CTL_SCHED_PLAN_H

#include <jansson.h>
#include <stdbool.h>

#define BL_SCHED_NAME "default-scheduler"

/* pod waits for this scheduler: no spec.nodeName, not being deleted, not finished,
 * schedulerName empty or default-scheduler. */
bool bl_sched_pending(json_t *pod);

/* What of a pod the plan needs when it is not pending (its node, phase and requests):
 * the scheduler keeps these instead of whole pods. New reference. */
json_t *bl_sched_pod_summary(json_t *pod);

/* pod tolerates every NoSchedule and NoExecute taint of node? */
bool bl_sched_tolerates(json_t *pod, json_t *node);

/* Binds the pending pods of pods (all pods, bound ones count against their node) to
 * nodes, one at a time (priority, then age, then namespace/name), each to the least
 * loaded node that is Ready, schedulable, whose taints it tolerates, whose labels match
 * its nodeSelector and that has room for its cpu and memory requests and one more pod
 * (ties by node name). Returns {"bind":[{"namespace","name","node"}...],
 * "unschedulable":[{"namespace","name","message"}...]} (new reference). */
json_t *bl_sched_plan(json_t *nodes, json_t *pods);

#endif
