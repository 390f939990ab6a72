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

/* What a bound, unfinished pod takes of its node: {"node": NAME, "r": [cpu, memory,
 * pods, cpu and memory as scored]} (thousandths), or NULL for any other pod. New
 * reference. */
json_t *bl_sched_charge(json_t *pod);
/* Adds (sign 1) or takes back (-1) a charge in usage (node name → the same five). */
void bl_sched_usage_apply(json_t *usage, json_t *charge, int sign);

/* pod tolerates every NoSchedule and NoExecute taint of node? */
bool bl_sched_tolerates(json_t *pod, json_t *node);

/* Binds the pending pods of pods (bound ones count against their node, as does usage
 * when not NULL: what bl_sched_usage_apply summed up) to nodes, one at a time (priority, then age,
 * then namespace/name), each to the least loaded node that is Ready, schedulable, whose taints it
 * tolerates, whose labels match its nodeSelector and that has room for its cpu and memory requests
 * and one more pod (ties by node name). Returns {"bind":[{"namespace","name","node"}...],
 * "unschedulable":[{"namespace","name","message"}...]} (new reference). */
json_t *bl_sched_plan(json_t *nodes, json_t *pods, json_t *usage);

#endif
