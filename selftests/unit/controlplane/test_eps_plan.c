/* The EndpointSlice controller's decisions: endpoints, conditions, named ports, chunks. */
#include "controlplane/controllers/eps_plan.h"

#include <criterion/criterion.h>
#include <stdio.h>

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);

	cr_assert(j, "%s", e.text);
	return j;
}

static const char *SVC = "{\"metadata\":{\"name\":\"web\",\"namespace\":\"d\",\"uid\":\"u1\"},"
			 "\"spec\":{\"selector\":{\"app\":\"web\"},\"ports\":[{\"name\":\"http\","
			 "\"port\":80,\"targetPort\":\"web\"}]}}";

static json_t *pod(const char *name, const char *ip, bool ready, bool deleting)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"d\",\"labels\":{\"app\":\"web\"}%"
		 "s},"
		 "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"ports\":[{\"name\":\"web\","
		 "\"containerPort\":8080}]}]},\"status\":{\"podIP\":\"%s\",\"conditions\":[{"
		 "\"type\":\"Ready\",\"status\":\"%s\"}]}}",
		 name, deleting ? ",\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"" : "", ip,
		 ready ? "True" : "False");
	return J(buf);
}

Test(eps, endpoint_conditions_named_port_zone)
{
	json_t *svc = J(SVC), *nodes = J("{\"n1\":{\"metadata\":{\"labels\":{"
					 "\"topology.kubernetes.io/zone\":\"z1\"}}}}");
	json_t *p = pod("a", "10.0.0.1", true, false), *ports, *ep;

	ep = bl_eps_endpoint(svc, p, nodes, &ports);
	cr_assert(ep);
	cr_assert(json_is_true(json_object_get(json_object_get(ep, "conditions"), "ready")));
	cr_assert_str_eq(json_string_value(json_object_get(ep, "zone")), "z1");
	cr_assert_str_eq(json_string_value(json_object_get(ep, "nodeName")), "n1");
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(ports, 0), "port")), 8080);
	json_decref(ep);
	json_decref(ports);
	json_decref(p);
	p = pod("b", "10.0.0.2", true, true);
	ep = bl_eps_endpoint(svc, p, nodes, &ports);
	cr_assert(json_is_false(json_object_get(json_object_get(ep, "conditions"), "ready")));
	cr_assert(json_is_true(json_object_get(json_object_get(ep, "conditions"), "serving")));
	cr_assert(json_is_true(json_object_get(json_object_get(ep, "conditions"), "terminating")));
	json_decref(ep);
	json_decref(ports);
	json_decref(p);
	p = pod("c", "", true, false);
	cr_assert_null(bl_eps_endpoint(svc, p, nodes, &ports), "no podIP: skipped");
	json_decref(p);
	json_decref(svc);
	json_decref(nodes);
}

Test(eps, chunks_of_max_and_no_rewrite_when_unchanged)
{
	json_t *svc = J(SVC), *nodes = J("{}"), *pods = json_array(), *plan, *slices;
	char name[32], ip[32];

	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		snprintf(ip, sizeof(ip), "10.0.0.%d", i + 1);
		json_array_append_new(pods, pod(name, ip, true, false));
	}
	slices = json_array();
	plan = bl_eps_plan(svc, pods, nodes, slices, 2);
	json_decref(slices);
	cr_assert_eq(json_array_size(json_object_get(plan, "create")), 3);
	slices = json_deep_copy(json_object_get(plan, "create"));
	for (size_t i = 0; i < json_array_size(slices); i++) {
		snprintf(name, sizeof(name), "web-%zu", i);
		json_object_set_new(json_object_get(json_array_get(slices, i), "metadata"), "name",
				    json_string(name));
	}
	json_decref(plan);
	plan = bl_eps_plan(svc, pods, nodes, slices, 2);
	cr_assert_eq(json_array_size(json_object_get(plan, "create")) +
			     json_array_size(json_object_get(plan, "update")) +
			     json_array_size(json_object_get(plan, "delete")),
		     0, "stored slices already right: nothing written");
	json_decref(plan);
	json_array_remove(pods, 4); /* p4 was alone in the last slice */
	plan = bl_eps_plan(svc, pods, nodes, slices, 2);
	cr_assert_eq(json_array_size(json_object_get(plan, "delete")), 1);
	cr_assert_eq(json_array_size(json_object_get(plan, "update")), 0);
	json_decref(plan);
	json_decref(slices);
	json_decref(pods);
	json_decref(nodes);
	json_decref(svc);
}

Test(eps, service_without_selector_left_alone)
{
	json_t *svc = J("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"ports\":[{\"port\":1}]}}");
	json_t *none = json_array(), *nodes = json_object();
	json_t *plan = bl_eps_plan(svc, none, nodes, none, 0);

	cr_assert_eq(json_array_size(json_object_get(plan, "create")), 0);
	json_decref(plan);
	json_decref(none);
	json_decref(nodes);
	json_decref(svc);
}
