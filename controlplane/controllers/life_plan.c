#include "controlplane/controllers/life_plan.h"
#include "controlplane/controllers/ctl_util.h"

#include <string.h>

/* the conditions the kubelet owns: unknown when it is */
static const char *const kubelet_conditions[] = {"Ready", "MemoryPressure", "DiskPressure",
						 "PIDPressure"};

static double later(double a, double b)
{
	return a > b ? a : b;
}

double bl_life_last_seen(json_t *node, json_t *lease, double since)
{
	double t = since;

	t = later(t, bl_ctl_time(bl_ctl_str(lease, "spec.renewTime")));
	t = later(t, bl_ctl_time(json_string_value(json_object_get(bl_ctl_condition(node, "Ready"),
								   "lastHeartbeatTime"))));
	return later(t, bl_ctl_time(bl_ctl_str(node, "metadata.creationTimestamp")));
}

static bool is_unreachable(json_t *taint, const char *effect)
{
	return !strcmp(json_string_value(json_object_get(taint, "key")) ?: "",
		       BL_TAINT_UNREACHABLE) &&
	       (!effect ||
		!strcmp(json_string_value(json_object_get(taint, "effect")) ?: "", effect));
}

static bool add_taint(json_t *node, const char *effect, const char *now_ts)
{
	json_t *taints = bl_ctl_child(bl_ctl_child(node, "spec", false), "taints", true), *t;
	size_t i;

	json_array_foreach(taints, i, t) if (is_unreachable(t, effect)) return false;
	t = json_pack("{s:s, s:s}", "key", BL_TAINT_UNREACHABLE, "effect", effect);
	if (!strcmp(effect, "NoExecute"))
		json_object_set_new(t, "timeAdded", json_string(now_ts));
	json_array_append_new(taints, t);
	return true;
}

static bool remove_taints(json_t *node)
{
	json_t *taints = bl_ctl_get(node, "spec.taints");
	bool removed = false;

	for (size_t i = json_array_size(taints); i-- > 0;) {
		if (is_unreachable(json_array_get(taints, i), NULL)) {
			json_array_remove(taints, i);
			removed = true;
		}
	}
	if (removed && !json_array_size(taints))
		json_object_del(json_object_get(node, "spec"), "taints");
	return removed;
}

json_t *bl_life_plan(json_t *node, json_t *lease, double now, double since, int grace,
		     const char *now_ts, unsigned *what)
{
	json_t *n = json_deep_copy(node), *ready = bl_ctl_condition(node, "Ready");
	bool stale = now - bl_life_last_seen(node, lease, since) > grace;

	*what = 0;
	if (!n)
		return NULL;
	if (stale) {
		/* once Unknown, a condition keeps the reason it got then */
		if (!ready)
			/* kube's words for a node that never said anything */
			bl_ctl_set_condition(n, "Ready", "Unknown", "NodeStatusNeverUpdated",
					     "Kubelet never posted node status.", now_ts);
		for (size_t i = 0; i < sizeof(kubelet_conditions) / sizeof(*kubelet_conditions);
		     i++) {
			json_t *c = bl_ctl_condition(n, kubelet_conditions[i]);

			if (c && strcmp(json_string_value(json_object_get(c, "status")) ?: "",
					"Unknown"))
				bl_ctl_set_condition(
					n, kubelet_conditions[i], "Unknown", "NodeStatusUnknown",
					"Kubelet stopped posting node status.", now_ts);
		}
		if (!json_equal(bl_ctl_get(n, "status"), bl_ctl_get(node, "status")))
			*what |= BL_LIFE_STATUS;
		if (add_taint(n, "NoSchedule", now_ts) | add_taint(n, "NoExecute", now_ts))
			*what |= BL_LIFE_TAINTS;
	} else if (ready &&
		   !strcmp(json_string_value(json_object_get(ready, "status")) ?: "", "True") &&
		   remove_taints(n)) {
		*what |= BL_LIFE_TAINTS;
	}
	if (!*what) {
		json_decref(n);
		return NULL;
	}
	return n;
}
