/* The scheduler's decisions: quantities, which nodes a pod may go to, the least loaded
 * choice, pods counted against their node, and kube's FitError message. */
#include "controlplane/controllers/quantity.h"
#include "controlplane/controllers/sched_plan.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);

	cr_assert(j, "%s: %s", e.text, s);
	return j;
}

static int64_t Q(const char *s)
{
	json_t *v = json_string(s);
	int64_t out = -42;

	cr_assert_eq(bl_quantity_milli(v, &out), 0, "%s", s);
	json_decref(v);
	return out;
}

static bool Qbad(const char *s)
{
	json_t *v = json_string(s);
	int64_t out;
	int rc = bl_quantity_milli(v, &out);

	json_decref(v);
	return rc == -1;
}

Test(quantity, units)
{
	cr_assert_eq(Q("250m"), 250);
	cr_assert_eq(Q("2"), 2000);
	cr_assert_eq(Q("0.5"), 500);
	cr_assert_eq(Q("0.1"), 100, "decimal fractions are exact");
	cr_assert_eq(Q("1Ki"), 1024000);
	cr_assert_eq(Q("128Mi"), 128LL * 1024 * 1024 * 1000);
	cr_assert_eq(Q("1.5Gi"), 1536LL * 1024 * 1024 * 1000);
	cr_assert_eq(Q("1k"), 1000000);
	cr_assert_eq(Q("1M"), 1000000000LL);
	cr_assert_eq(Q("2e3"), 2000000);
	cr_assert_eq(Q("1n"), 1, "rounded up to a thousandth");
	cr_assert_eq(Q("0"), 0);
	cr_assert(Qbad("abc") && Qbad("") && Qbad("1x") && Qbad("-1") && Qbad("1Ki2") && Qbad("."));
	cr_assert(Qbad("100E"), "100 exa does not fit");
	json_t *n = json_integer(110);
	int64_t v;
	cr_assert_eq(bl_quantity_milli(n, &v), 0);
	cr_assert_eq(v, 110000);
	json_decref(n);
}

/* A Ready node: cpu and memory allocatable, up to pods, with extra spec JSON. */
static json_t *node(const char *name, const char *cpu, const char *mem, int pods, const char *spec,
		    const char *labels)
{
	char buf[2048];

	snprintf(buf, sizeof(buf),
		 "{\"metadata\":{\"name\":\"%s\",\"labels\":{%s}},\"spec\":{%s},\"status\":{"
		 "\"allocatable\":{\"cpu\":\"%s\",\"memory\":\"%s\",\"pods\":\"%d\"},"
		 "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
		 name, labels ? labels : "", spec ? spec : "", cpu, mem, pods);
	return J(buf);
}

/* A pod asking for cpu/mem (NULL: nothing), bound to node (NULL: pending), extra spec. */
static json_t *pod(const char *name, const char *cpu, const char *mem, const char *nodeName,
		   const char *spec, const char *created)
{
	char req[256] = "", buf[2048];

	if (cpu || mem)
		snprintf(req, sizeof(req), "\"resources\":{\"requests\":{%s%s%s%s%s%s%s}}",
			 cpu ? "\"cpu\":\"" : "", cpu ? cpu : "", cpu ? "\"" : "",
			 cpu && mem ? "," : "", mem ? "\"memory\":\"" : "", mem ? mem : "",
			 mem ? "\"" : "");
	snprintf(buf, sizeof(buf),
		 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"d\",\"creationTimestamp\":\"%s\"},"
		 "\"spec\":{%s%s%s\"schedulerName\":\"default-scheduler\",\"containers\":[{"
		 "\"name\":\"c\",%s}]},\"status\":{\"phase\":\"%s\"}}",
		 name, created ? created : "2026-01-01T00:00:00Z",
		 nodeName ? "\"nodeName\":\"" : "", nodeName ? nodeName : "", nodeName ? "\"," : "",
		 req[0] ? req : "\"image\":\"x\"", nodeName ? "Running" : "Pending");
	if (spec) {
		json_t *p = J(buf), *extra = J(spec);

		json_object_update(json_object_get(p, "spec"), extra);
		json_decref(extra);
		return p;
	}
	return J(buf);
}

static json_t *arr(json_t *a, ...)
{
	json_t *out = json_array(), *x;
	va_list ap;

	va_start(ap, a);
	for (x = a; x; x = va_arg(ap, json_t *))
		json_array_append_new(out, x);
	va_end(ap);
	return out;
}

/* field of the entry for pod name in the plan's list, or NULL */
static const char *entry(json_t *plan, const char *list, const char *name, const char *field)
{
	json_t *b;
	size_t i;

	json_array_foreach(json_object_get(plan, list), i, b)
	{
		if (!strcmp(json_string_value(json_object_get(b, "name")), name))
			return json_string_value(json_object_get(b, field));
	}
	return NULL;
}

static const char *bound_to(json_t *plan, const char *name)
{
	return entry(plan, "bind", name, "node");
}

static const char *why_not(json_t *plan, const char *name)
{
	return entry(plan, "unschedulable", name, "message");
}

Test(sched, pending)
{
	json_t *p = pod("a", NULL, NULL, NULL, NULL, NULL);

	cr_assert(bl_sched_pending(p));
	json_object_set_new(json_object_get(p, "spec"), "schedulerName", json_string("other"));
	cr_assert_not(bl_sched_pending(p), "another scheduler's pod");
	json_object_set_new(json_object_get(p, "spec"), "schedulerName", json_string(""));
	cr_assert(bl_sched_pending(p), "empty schedulerName is ours");
	json_object_set_new(json_object_get(p, "metadata"), "deletionTimestamp",
			    json_string("2026-01-01T00:00:00Z"));
	cr_assert_not(bl_sched_pending(p), "being deleted");
	json_decref(p);
	p = pod("b", NULL, NULL, "n1", NULL, NULL);
	cr_assert_not(bl_sched_pending(p), "bound");
	json_decref(p);
	p = pod("c", NULL, NULL, NULL, NULL, NULL);
	json_object_set_new(json_object_get(p, "status"), "phase", json_string("Failed"));
	cr_assert_not(bl_sched_pending(p), "finished");
	json_decref(p);
}

Test(sched, least_loaded_with_room)
{
	/* n1 has 4 cpus, 3 in use; n2 has 4 cpus, 1 in use; n3 is full of pods */
	json_t *nodes =
		arr(node("n1", "4", "8Gi", 10, NULL, NULL), node("n2", "4", "8Gi", 10, NULL, NULL),
		    node("n3", "16", "64Gi", 1, NULL, NULL), NULL);
	json_t *pods = arr(pod("u1", "3", "1Gi", "n1", NULL, NULL),
			   pod("u2", "1", "1Gi", "n2", NULL, NULL),
			   pod("u3", NULL, NULL, "n3", NULL, NULL),
			   pod("new", "2", "1Gi", NULL, NULL, NULL), NULL);
	json_t *plan = bl_sched_plan(nodes, pods, NULL);

	cr_assert_str_eq(bound_to(plan, "new"), "n2", "n1 lacks cpu, n3 pods; n2 has room");
	cr_assert_eq(json_array_size(json_object_get(plan, "unschedulable")), 0);
	json_decref(plan);
	/* a pod that fits nowhere: every reason counted, sorted as kube prints them */
	json_array_append_new(pods, pod("huge", "5", NULL, NULL, NULL, NULL));
	plan = bl_sched_plan(nodes, pods, NULL);
	cr_assert_str_eq(why_not(plan, "huge"),
			 "0/3 nodes are available: 1 Too many pods, 2 Insufficient cpu.");
	json_decref(plan);
	json_decref(nodes);
	json_decref(pods);
}

Test(sched, finished_pods_free_room_and_bindings_count)
{
	json_t *nodes = arr(node("n1", "2", "1Gi", 10, NULL, NULL), NULL);
	json_t *done = pod("done", "2", NULL, "n1", NULL, NULL);
	json_t *pods, *plan;

	json_object_set_new(json_object_get(done, "status"), "phase", json_string("Succeeded"));
	pods = arr(done, pod("a", "1", NULL, NULL, NULL, "2026-01-01T00:00:01Z"),
		   pod("b", "1", NULL, NULL, NULL, "2026-01-01T00:00:02Z"),
		   pod("c", "1", NULL, NULL, NULL, "2026-01-01T00:00:03Z"), NULL);
	plan = bl_sched_plan(nodes, pods, NULL);
	/* the succeeded pod holds nothing; a and b (oldest first) fill the node, c waits */
	cr_assert_str_eq(bound_to(plan, "a"), "n1");
	cr_assert_str_eq(bound_to(plan, "b"), "n1");
	cr_assert_null(bound_to(plan, "c"));
	cr_assert_str_eq(why_not(plan, "c"), "0/1 nodes are available: 1 Insufficient cpu.");
	json_decref(plan);
	json_decref(nodes);
	json_decref(pods);
}

Test(sched, spreads_and_ties_by_name)
{
	json_t *nodes = arr(node("b", "4", "8Gi", 10, NULL, NULL),
			    node("a", "4", "8Gi", 10, NULL, NULL), NULL);
	json_t *pods = arr(pod("p1", NULL, NULL, NULL, NULL, "2026-01-01T00:00:01Z"),
			   pod("p2", NULL, NULL, NULL, NULL, "2026-01-01T00:00:02Z"),
			   pod("p3", NULL, NULL, NULL, NULL, "2026-01-01T00:00:03Z"), NULL);
	json_t *plan = bl_sched_plan(nodes, pods, NULL);

	/* pods without requests still count (kube's 100m/200Mi for scoring): they spread */
	cr_assert_str_eq(bound_to(plan, "p1"), "a", "equal nodes: the first by name");
	cr_assert_str_eq(bound_to(plan, "p2"), "b");
	cr_assert_str_eq(bound_to(plan, "p3"), "a");
	json_decref(plan);
	json_decref(nodes);
	json_decref(pods);
}

Test(sched, taints_unschedulable_selector_not_ready)
{
	json_t *notready = node("nr", "4", "8Gi", 10, NULL, NULL);
	json_t *nodes, *pods, *plan, *p, *only;

	json_object_set_new(
		json_array_get(json_object_get(json_object_get(notready, "status"), "conditions"),
			       0),
		"status", json_string("Unknown"));
	nodes = arr(node("t", "4", "8Gi", 10,
			 "\"taints\":[{\"key\":\"node.kubernetes.io/unreachable\",\"effect\":"
			 "\"NoExecute\"},{\"key\":\"soft\",\"effect\":\"PreferNoSchedule\"}]",
			 NULL),
		    node("u", "4", "8Gi", 10, "\"unschedulable\":true", NULL),
		    node("s", "4", "8Gi", 10, NULL, "\"disk\":\"hdd\""), notready, NULL);
	pods = arr(pod("plain", NULL, NULL, NULL, "{\"nodeSelector\":{\"disk\":\"ssd\"}}", NULL),
		   NULL);
	plan = bl_sched_plan(nodes, pods, NULL);
	cr_assert_str_eq(why_not(plan, "plain"),
			 "0/4 nodes are available: 1 node(s) didn't match Pod's node "
			 "affinity/selector, 1 node(s) had untolerated taint "
			 "{node.kubernetes.io/unreachable: }, 1 node(s) were not ready, 1 node(s) "
			 "were unschedulable.");
	json_decref(plan);
	json_decref(pods);
	/* tolerating the taint (Exists on the key) opens t; PreferNoSchedule never blocks */
	p = pod("tol", NULL, NULL, NULL,
		"{\"tolerations\":[{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":"
		"\"Exists\",\"effect\":\"NoExecute\"}]}",
		NULL);
	pods = arr(p, NULL);
	only = arr(json_incref(json_array_get(nodes, 0)), NULL);
	plan = bl_sched_plan(only, pods, NULL);
	cr_assert_str_eq(bound_to(plan, "tol"), "t");
	json_decref(only);
	cr_assert(bl_sched_tolerates(p, json_array_get(nodes, 0)));
	json_decref(plan);
	json_decref(pods);
	/* an Equal toleration with another value does not */
	p = pod("eq", NULL, NULL, NULL,
		"{\"nodeSelector\":{\"disk\":\"hdd\"},\"tolerations\":[{\"key\":\"node.kubernetes."
		"io/"
		"unreachable\",\"value\":\"x\",\"effect\":\"NoExecute\"}]}",
		NULL);
	cr_assert_not(bl_sched_tolerates(p, json_array_get(nodes, 0)));
	pods = arr(p, NULL);
	plan = bl_sched_plan(nodes, pods, NULL);
	cr_assert_str_eq(bound_to(plan, "eq"), "s", "its selector matches s");
	json_decref(plan);
	json_decref(pods);
	json_decref(nodes);
}

Test(sched, no_allocatable_no_pods_and_no_nodes)
{
	json_t *bare = J("{\"metadata\":{\"name\":\"bare\"},\"status\":{\"conditions\":[{\"type\":"
			 "\"Ready\",\"status\":\"True\"}]}}");
	json_t *nodes = arr(bare, NULL), *pods = arr(pod("p", NULL, NULL, NULL, NULL, NULL), NULL);
	json_t *plan = bl_sched_plan(nodes, pods, NULL), *none = json_array();

	cr_assert_str_eq(why_not(plan, "p"), "0/1 nodes are available: 1 Too many pods.");
	json_decref(plan);
	plan = bl_sched_plan(none, pods, NULL);
	cr_assert_str_eq(why_not(plan, "p"), "no nodes available to schedule pods");
	json_decref(plan);
	json_decref(none);
	json_decref(nodes);
	json_decref(pods);
}

Test(sched, init_containers_and_priority)
{
	json_t *nodes = arr(node("n", "2", "8Gi", 10, NULL, NULL), NULL);
	json_t *low = pod("low", "1", NULL, NULL, NULL, "2026-01-01T00:00:01Z");
	json_t *high = pod("high", "1", NULL, NULL,
			   "{\"priority\":100,\"initContainers\":[{\"name\":\"i\",\"resources\":{"
			   "\"requests\":{\"cpu\":\"1500m\"}}}]}",
			   "2026-01-01T00:00:09Z");
	json_t *pods = arr(low, high, NULL), *plan = bl_sched_plan(nodes, pods, NULL);

	/* high goes first (priority) and takes 1.5 cpus (its init container): low waits */
	cr_assert_str_eq(bound_to(plan, "high"), "n");
	cr_assert_null(bound_to(plan, "low"));
	json_decref(plan);
	json_decref(nodes);
	json_decref(pods);
}

Test(sched, usage_plans_like_whole_pods)
{
	json_t *nodes = arr(node("n1", "2", "1Gi", 10, NULL, NULL),
			    node("n2", "2", "1Gi", 10, NULL, NULL), NULL);
	json_t *ran = pod("ran", "1500m", "512Mi", "n1",
			  "{\"initContainers\":[{\"name\":\"i\",\"image\":\"x\",\"resources\":{"
			  "\"requests\":{\"cpu\":\"1900m\"}}}]}",
			  NULL);
	json_t *gone = pod("gone", "2", NULL, "n2", NULL, NULL);
	json_t *whole = arr(ran, pod("new", "1", NULL, NULL, NULL, NULL), NULL);
	json_t *pending = arr(pod("new", "1", NULL, NULL, NULL, NULL), NULL);
	json_t *usage = json_object(), *c1 = bl_sched_charge(ran), *c2 = bl_sched_charge(gone);
	json_t *a, *b, *pend = pod("p", "1", NULL, NULL, NULL, NULL);

	cr_assert_null(bl_sched_charge(pend), "a pending pod takes nothing yet");
	json_decref(pend);
	cr_assert_str_eq(json_string_value(json_object_get(c1, "node")), "n1");
	cr_assert_eq(json_integer_value(json_array_get(json_object_get(c1, "r"), 0)), 1900,
		     "its init container's cpu");
	/* n2 charged and discharged again: nothing left of it */
	bl_sched_usage_apply(usage, c1, 1);
	bl_sched_usage_apply(usage, c2, 1);
	bl_sched_usage_apply(usage, c2, -1);
	cr_assert_eq(json_object_size(usage), 1);
	a = bl_sched_plan(nodes, whole, NULL);
	b = bl_sched_plan(nodes, pending, usage);
	/* ran holds 1.9 cpus of n1: new goes to n2 either way */
	cr_assert_str_eq(bound_to(a, "new"), "n2");
	cr_assert(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	json_decref(c1);
	json_decref(c2);
	json_decref(gone);
	json_decref(usage);
	json_decref(nodes);
	json_decref(whole);
	json_decref(pending);
}
