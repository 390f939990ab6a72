/* The status conditions kube's namespace controller gives a Terminating namespace, pure:
 * what content and which finalizers still hold it. */
#ifndef BPFLET_CTL_NS_STATUS_H
#define BPFLET_CTL_NS_STATUS_H

#include <jansson.h>
#include <stdbool.h>

/* Sets ns's status.conditions from what remains: resources ("configmaps" → count of
 * objects left) and finalizers ("example.com/hold" → count of objects holding it); now_ts
 * is the transition time of conditions that change. Returns true when anything
 * changed. */
bool bl_ns_set_conditions(json_t *ns, json_t *resources, json_t *finalizers, const char *now_ts);

#endif
