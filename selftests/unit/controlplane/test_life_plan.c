/* Node lifecycle decisions: last sign of life from Lease, heartbeat, creation and the
 * controller's start; Unknown and unreachable taints after the grace period; the taints
 * go once the node is Ready again. */
#include "controlplane/controllers/ctl_util.h"
#include "controlplane/controllers/life_plan.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);

	cr_assert(j, "%s", e.text);
	return j;
}

#define T0 1798761600.0 /* 2027-01-01T00:00:00Z */

static json_t *node(const char *ready, const char *heartbeat, const char *taints)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"metadata\":{\"name\":\"n\",\"creationTimestamp\":\"2026-12-31T23:00:00Z\"},"
		 "\"spec\":{%s},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\","
		 "\"reason\":\"KubeletReady\",\"lastHeartbeatTime\":\"%s\"},{\"type\":"
		 "\"MemoryPressure\",\"status\":\"False\"}]}}",
		 taints ? taints : "", ready, heartbeat);
	return J(buf);
}

static json_t *lease(const char *renew)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "{\"spec\":{\"renewTime\":\"%s\"}}", renew);
	return J(buf);
}

static const char *cond(json_t *n, const char *type, const char *field)
{
	return json_string_value(json_object_get(bl_ctl_condition(n, type), field));
}

Test(life, times)
{
	cr_assert_float_eq(bl_ctl_time("2027-01-01T00:00:00Z"), T0, 1e-6);
	cr_assert_float_eq(bl_ctl_time("2027-01-01T00:00:01.250000Z"), T0 + 1.25, 1e-6);
	cr_assert_float_eq(bl_ctl_time("2027-01-01T02:00:00+02:00"), T0, 1e-6);
	cr_assert_float_eq(bl_ctl_time("garbage"), -1, 1e-9);
	cr_assert_float_eq(bl_ctl_time(NULL), -1, 1e-9);
}

Test(life, last_seen_is_the_latest_sign)
{
	json_t *n = node("True", "2027-01-01T00:00:10Z", NULL),
	       *l = lease("2027-01-01T00:00:20.5Z");

	cr_assert_float_eq(bl_life_last_seen(n, l, 0), T0 + 20.5, 1e-6, "the Lease");
	cr_assert_float_eq(bl_life_last_seen(n, NULL, 0), T0 + 10, 1e-6, "no Lease: heartbeat");
	cr_assert_float_eq(bl_life_last_seen(n, l, T0 + 100), T0 + 100, 1e-6,
			   "the controller's start gives a grace period");
	json_decref(n);
	json_decref(l);
}

Test(life, stale_node_becomes_unknown_and_tainted)
{
	json_t *n = node("True", "2027-01-01T00:00:00Z", NULL), *l = lease("2027-01-01T00:00:05Z");
	json_t *want, *t;
	unsigned what;

	cr_assert_null(bl_life_plan(n, l, T0 + 50, 0, 50, "2027-01-01T00:00:50Z", &what),
		       "45 s after the Lease: fine");
	want = bl_life_plan(n, l, T0 + 56, 0, 50, "2027-01-01T00:00:56Z", &what);
	cr_assert(want);
	cr_assert_eq(what, BL_LIFE_STATUS | BL_LIFE_TAINTS);
	cr_assert_str_eq(cond(want, "Ready", "status"), "Unknown");
	cr_assert_str_eq(cond(want, "Ready", "reason"), "NodeStatusUnknown");
	cr_assert_str_eq(cond(want, "Ready", "message"), "Kubelet stopped posting node status.");
	cr_assert_str_eq(cond(want, "Ready", "lastTransitionTime"), "2027-01-01T00:00:56Z");
	cr_assert_str_eq(cond(want, "Ready", "lastHeartbeatTime"), "2027-01-01T00:00:00Z",
			 "the heartbeat stays the kubelet's");
	cr_assert_str_eq(cond(want, "MemoryPressure", "status"), "Unknown");
	t = bl_ctl_get(want, "spec.taints");
	cr_assert_eq(json_array_size(t), 2);
	cr_assert_str_eq(bl_ctl_str(json_array_get(t, 0), "key"), BL_TAINT_UNREACHABLE);
	cr_assert_str_eq(bl_ctl_str(json_array_get(t, 0), "effect"), "NoSchedule");
	cr_assert_str_eq(bl_ctl_str(json_array_get(t, 1), "effect"), "NoExecute");
	cr_assert_str_eq(bl_ctl_str(json_array_get(t, 1), "timeAdded"), "2027-01-01T00:00:56Z");
	/* applied: the next look changes nothing */
	cr_assert_null(bl_life_plan(want, l, T0 + 70, 0, 50, "2027-01-01T00:01:10Z", &what));
	cr_assert_not(json_equal(n, want), "the input is not touched");
	json_decref(want);
	json_decref(n);
	json_decref(l);
}

Test(life, recovery_removes_only_unreachable_taints)
{
	const char *taints =
		"\"taints\":[{\"key\":\"mine\",\"effect\":\"NoSchedule\"},{\"key\":"
		"\"node.kubernetes.io/unreachable\",\"effect\":\"NoSchedule\"},{"
		"\"key\":\"node.kubernetes.io/unreachable\",\"effect\":\"NoExecute\"}]";
	json_t *n = node("Unknown", "2027-01-01T00:00:00Z", taints);
	json_t *l = lease("2027-01-01T00:01:00Z"), *want;
	unsigned what;

	cr_assert_null(bl_life_plan(n, l, T0 + 61, 0, 50, "x", &what),
		       "renewed but not Ready yet: the taints stay");
	json_object_set_new(bl_ctl_condition(n, "Ready"), "status", json_string("True"));
	want = bl_life_plan(n, l, T0 + 61, 0, 50, "x", &what);
	cr_assert(want);
	cr_assert_eq(what, BL_LIFE_TAINTS);
	cr_assert_eq(json_array_size(bl_ctl_get(want, "spec.taints")), 1);
	cr_assert_str_eq(bl_ctl_str(json_array_get(bl_ctl_get(want, "spec.taints"), 0), "key"),
			 "mine");
	json_decref(want);
	json_decref(n);
	json_decref(l);
}

Test(life, never_reported_and_no_lease)
{
	json_t *n =
		J("{\"metadata\":{\"name\":\"n\",\"creationTimestamp\":\"2027-01-01T00:00:00Z\"}}");
	json_t *want;
	unsigned what;

	cr_assert_null(bl_life_plan(n, NULL, T0 + 10, 0, 50, "x", &what), "young node");
	want = bl_life_plan(n, NULL, T0 + 51, 0, 50, "2027-01-01T00:00:51Z", &what);
	cr_assert(want);
	cr_assert_str_eq(cond(want, "Ready", "status"), "Unknown");
	cr_assert_str_eq(cond(want, "Ready", "reason"), "NodeStatusNeverUpdated");
	cr_assert_eq(json_array_size(bl_ctl_get(want, "spec.taints")), 2);
	cr_assert_null(bl_life_plan(want, NULL, T0 + 60, 0, 50, "2027-01-01T00:01:00Z", &what),
		       "written once: the next look keeps it as it is");
	json_decref(want);
	json_decref(n);
}

Test(life, set_condition)
{
	json_t *o = json_object();

	cr_assert(bl_ctl_set_condition(o, "PodScheduled", "False", "Unschedulable", "m", "t1"));
	cr_assert_not(bl_ctl_set_condition(o, "PodScheduled", "False", "Unschedulable", "m", "t2"),
		      "same again: nothing changed");
	cr_assert_str_eq(cond(o, "PodScheduled", "lastTransitionTime"), "t1");
	cr_assert(bl_ctl_set_condition(o, "PodScheduled", "False", "Unschedulable", "m2", "t3"));
	cr_assert_str_eq(cond(o, "PodScheduled", "lastTransitionTime"), "t1",
			 "a new message is no transition");
	json_decref(o);
}
