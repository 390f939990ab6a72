/* The EndpointSlice controller in process (real API server, SQLite store, no socket
 * traffic): a change makes it look again at the Services it concerns and no others, and
 * the slices of the others keep their resourceVersion. */
#include "controlplane/apiserver/server.h"
#include "controlplane/controllers/client.h"
#include "controlplane/controllers/controllers.h"
#include "controlplane/controllers/eps_controller.h"
#include "controlplane/controllers/manager.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSVC 12

static char dir[] = "/tmp/bl-epsctl-XXXXXX";
static struct event_base *base;
static struct bl_store *st;
static struct bl_apiserver *srv;
static struct bl_controllers *ctl;

static void setup(void)
{
	struct bl_apiserver_config cfg = {
		.listen_host = "127.0.0.1", .nodeport_lo = 30000, .nodeport_hi = 32767};
	struct bl_controllers_config ccfg = {.node_cidr_mask = 24, .node_grace = 50};
	char path[300];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.db", dir);
	cr_assert_eq(bl_sqlite_store_open(path, &st), 0);
	base = event_base_new();
	cfg.data_dir = dir;
	bl_cidr4_parse("10.96.0.0/12", &cfg.service_cidr);
	bl_cidr4_parse("10.244.0.0/16", &ccfg.cluster_cidr);
	cr_assert_eq(bl_apiserver_start(base, &cfg, st, &srv), 0);
	cr_assert_eq(bl_controllers_start(base, srv, &ccfg, &ctl), 0);
}

static void teardown(void)
{
	char cmd[300];

	bl_controllers_stop(ctl);
	bl_apiserver_stop(srv);
	bl_store_close(st);
	event_base_free(base);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(epsctl, .init = setup, .fini = teardown, .timeout = 60);

/* Runs the loop until the controller has nothing left to do. */
static void settle(void)
{
	for (int i = 0; i < 1000; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (!json_object_size(ctl->eps.st->dirty) &&
		    !event_pending(ctl->eps.ev, EV_TIMEOUT, NULL))
			return;
	}
	cr_assert_fail("the controller did not settle");
}

static void req(const char *method, const char *path, const char *ctype, const char *body)
{
	json_t *b = body ? json_loads(body, 0, NULL) : NULL;
	int code = bl_ctl_request(srv, method, path, ctype, b, NULL);

	cr_assert(code < 300, "%s %s: %d", method, path, code);
	json_decref(b);
}

static void service(int i)
{
	char body[300];

	snprintf(body, sizeof(body),
		 "{\"metadata\":{\"name\":\"s%d\"},\"spec\":{\"selector\":{\"app\":\"a%d\"},"
		 "\"ports\":[{\"port\":80,\"targetPort\":8080}]}}",
		 i, i);
	req("POST", "/api/v1/namespaces/default/services", NULL, body);
}

static void pod(const char *name, const char *app, const char *ip, bool ready)
{
	char path[200], body[400];

	snprintf(body, sizeof(body),
		 "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"app\":\"%s\"}},\"spec\":{"
		 "\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}",
		 name, app);
	req("POST", "/api/v1/namespaces/default/pods", NULL, body);
	snprintf(path, sizeof(path), "/api/v1/namespaces/default/pods/%s/status", name);
	snprintf(body, sizeof(body),
		 "{\"status\":{\"podIP\":\"%s\",\"conditions\":[{\"type\":\"Ready\",\"status\":"
		 "\"%s\"}]}}",
		 ip, ready ? "True" : "False");
	req("PATCH", path, "application/merge-patch+json", body);
}

/* svc's slices: {name → resourceVersion}; *eps gets the endpoint count, *ready the
 * ready ones, *zoned those with a zone. */
static json_t *slices_of(int svc, int *eps, int *ready, int *zoned)
{
	json_t *all = bl_ctl_list(srv, "/registry/endpointslices/default/"), *out = json_object();
	char want[32];
	json_t *s, *e;
	size_t i, j;

	*eps = *ready = *zoned = 0;
	snprintf(want, sizeof(want), "s%d", svc);
	json_array_foreach(all, i, s)
	{
		json_t *meta = json_object_get(s, "metadata");
		const char *of = json_string_value(json_object_get(json_object_get(meta, "labels"),
								   "kubernetes.io/service-name"));

		if (!of || strcmp(of, want))
			continue;
		json_object_set(out, json_string_value(json_object_get(meta, "name")),
				json_object_get(meta, "resourceVersion"));
		json_array_foreach(json_object_get(s, "endpoints"), j, e)
		{
			(*eps)++;
			*ready += json_is_true(
				json_object_get(json_object_get(e, "conditions"), "ready"));
			*zoned += json_object_get(e, "zone") != NULL;
		}
	}
	json_decref(all);
	return out;
}

static json_t *rvs[NSVC];

static void snapshot(void)
{
	int e, r, z;

	for (int i = 0; i < NSVC; i++) {
		json_decref(rvs[i]);
		rvs[i] = slices_of(i, &e, &r, &z);
	}
}

/* Which Services' slices changed since the snapshot: a bit each. */
static unsigned changed_since(void)
{
	unsigned mask = 0;
	int e, r, z;

	for (int i = 0; i < NSVC; i++) {
		json_t *now = slices_of(i, &e, &r, &z);

		if (!json_equal(now, rvs[i]))
			mask |= 1u << i;
		json_decref(now);
	}
	return mask;
}

static void populate(void)
{
	char name[16], app[16], ip[32];

	for (int i = 0; i < NSVC; i++) {
		service(i);
		snprintf(name, sizeof(name), "p%d", i);
		snprintf(app, sizeof(app), "a%d", i);
		snprintf(ip, sizeof(ip), "10.244.1.%d", i + 1);
		pod(name, app, ip, true);
	}
	settle();
	for (int i = 0; i < NSVC; i++) {
		int e, r, z;
		json_t *s = slices_of(i, &e, &r, &z);

		cr_assert_eq(json_object_size(s), 1, "s%d has one slice", i);
		cr_assert_eq(e, 1, "s%d has its pod", i);
		cr_assert_eq(r, 1);
		json_decref(s);
	}
	snapshot();
}

static void cleanup_rvs(void)
{
	for (int i = 0; i < NSVC; i++) {
		json_decref(rvs[i]);
		rvs[i] = NULL;
	}
}

/* A merge patch of path, then the loop until the controller is done: how many
 * Services it looked at for it. */
static unsigned long patched(const char *path, const char *body)
{
	unsigned long synced = ctl->eps.st->synced;

	req("PATCH", path, "application/merge-patch+json", body);
	settle();
	return ctl->eps.st->synced - synced;
}

Test(epsctl, a_pod_change_syncs_only_the_service_selecting_it)
{
	unsigned long n;
	int e, r, z;
	json_t *s;

	populate();
	n = patched("/api/v1/namespaces/default/pods/p3/status",
		    "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"}]}}");
	cr_assert_eq(n, 1, "one Service looked at, not %lu", n);
	cr_assert_eq(changed_since(), 1u << 3, "only s3's slice rewritten: %#x", changed_since());
	s = slices_of(3, &e, &r, &z);
	cr_assert_eq(e, 1);
	cr_assert_eq(r, 0, "not ready any more");
	json_decref(s);
	cleanup_rvs();
}

Test(epsctl, a_relabelled_pod_moves_between_the_two_services_only)
{
	int e, r, z;
	json_t *s;

	populate();
	cr_assert_eq(patched("/api/v1/namespaces/default/pods/p5",
			     "{\"metadata\":{\"labels\":{\"app\":\"a6\"}}}"),
		     2);
	cr_assert_eq(changed_since(), (1u << 5) | (1u << 6), "%#x", changed_since());
	s = slices_of(5, &e, &r, &z);
	cr_assert_eq(e, 0, "s5 lost its pod");
	json_decref(s);
	s = slices_of(6, &e, &r, &z);
	cr_assert_eq(e, 2, "s6 has both");
	json_decref(s);
	cleanup_rvs();
}

Test(epsctl, a_service_change_or_deletion_touches_its_own_slices_only)
{
	unsigned long synced;
	int e, r, z;
	json_t *s;

	populate();
	synced = ctl->eps.st->synced;
	req("PATCH", "/api/v1/namespaces/default/services/s2", "application/merge-patch+json",
	    "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090}]}}");
	req("DELETE", "/api/v1/namespaces/default/services/s7", NULL, NULL);
	settle();
	cr_assert_eq(ctl->eps.st->synced - synced, 2);
	cr_assert_eq(changed_since(), (1u << 2) | (1u << 7), "%#x", changed_since());
	s = slices_of(7, &e, &r, &z);
	cr_assert_eq(json_object_size(s), 0, "the slice went with its Service");
	json_decref(s);
	cleanup_rvs();
}

Test(epsctl, a_slice_of_ours_edited_by_someone_else_is_put_back)
{
	json_t *s, *before;
	const char *name;
	json_t *v;
	char path[200];
	int e, r, z;

	populate();
	before = slices_of(4, &e, &r, &z);
	json_object_foreach(before, name, v)
		snprintf(path, sizeof(path),
			 "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/%s", name);
	req("PATCH", path, "application/merge-patch+json", "{\"endpoints\":[]}");
	settle();
	s = slices_of(4, &e, &r, &z);
	cr_assert_eq(e, 1, "the controller wrote its endpoint back");
	json_decref(s);
	json_decref(before);
	cr_assert_eq(changed_since(), 1u << 4, "%#x", changed_since());
	cleanup_rvs();
}

Test(epsctl, a_node_zone_change_reaches_every_endpoint_on_it)
{
	int e, r, z, zoned = 0;

	populate();
	req("POST", "/api/v1/nodes", NULL,
	    "{\"metadata\":{\"name\":\"n1\",\"labels\":{\"topology.kubernetes.io/zone\":\"z1\"}}}");
	settle();
	for (int i = 0; i < NSVC; i++) {
		json_decref(slices_of(i, &e, &r, &z));
		zoned += z;
	}
	cr_assert_eq(zoned, NSVC);
	cleanup_rvs();
}
