#include "controlplane/controllers/leader_plan.h"
#include "controlplane/controllers/ctl_util.h"

#include <string.h>

enum bl_le_verdict bl_le_decide(json_t *lease, const char *me, double now, double observed,
				int dflt)
{
	const char *holder;
	json_t *d;
	double duration = dflt;

	if (!lease)
		return BL_LE_CREATE;
	holder = bl_ctl_str(lease, "spec.holderIdentity");
	if (!holder || !holder[0])
		return BL_LE_TAKE;
	if (!strcmp(holder, me))
		return BL_LE_RENEW;
	d = bl_ctl_get(lease, "spec.leaseDurationSeconds");
	if (json_is_integer(d) && json_integer_value(d) > 0)
		duration = (double)json_integer_value(d);
	/* a clock that runs backwards (now < observed) never makes a Lease expire */
	return now - observed > duration ? BL_LE_TAKE : BL_LE_WAIT;
}

bool bl_le_lost(double now, double renewed, double deadline)
{
	/* a clock that ran backwards cannot tell how long it has been: stop */
	return now - renewed > deadline || now < renewed;
}

json_t *bl_le_record(json_t *old, enum bl_le_verdict v, const char *me, int duration,
		     const char *now_micro)
{
	json_t *l, *spec;

	if (v == BL_LE_CREATE || !old)
		l = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "coordination.k8s.io/v1",
			      "kind", "Lease", "metadata", "name", "bpflet-controlplane",
			      "namespace", "kube-system");
	else
		l = json_deep_copy(old);
	if (!l)
		return NULL;
	spec = bl_ctl_child(l, "spec", false);
	if (v != BL_LE_RENEW || !json_object_get(spec, "acquireTime"))
		json_object_set_new(spec, "acquireTime", json_string(now_micro));
	if (v == BL_LE_TAKE) {
		json_t *t = json_object_get(spec, "leaseTransitions");

		json_object_set_new(
			spec, "leaseTransitions",
			json_integer(json_is_integer(t) ? json_integer_value(t) + 1 : 1));
	} else if (!json_is_integer(json_object_get(spec, "leaseTransitions"))) {
		json_object_set_new(spec, "leaseTransitions", json_integer(0));
	}
	json_object_set_new(spec, "holderIdentity", json_string(me));
	json_object_set_new(spec, "leaseDurationSeconds", json_integer(duration));
	json_object_set_new(spec, "renewTime", json_string(now_micro));
	return l;
}

json_t *bl_le_release(json_t *old, const char *now_micro)
{
	json_t *l = json_deep_copy(old), *spec;

	if (!l)
		return NULL;
	spec = bl_ctl_child(l, "spec", false);
	json_object_set_new(spec, "holderIdentity", json_string(""));
	json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
	json_object_set_new(spec, "renewTime", json_string(now_micro));
	json_object_set_new(spec, "acquireTime", json_string(now_micro));
	return l;
}
