/* healthCheckNodePort: which ports this node serves and the local endpoint count
 * each answers with (kube-proxy's rule: ready, local, distinct addresses). */
#include "helpers.h"

#include <criterion/criterion.h>

static const struct bl_svc_health_check *hc_at(const struct bl_svc_table *t, uint16_t port)
{
	for (size_t i = 0; i < t->n_hc; i++)
		if (t->hc[i].port == port)
			return &t->hc[i];
	return NULL;
}

static bool errs_mention(const struct bl_errlist *e, const char *what)
{
	for (size_t i = 0; i < e->n; i++)
		if (strstr(e->msgs[i], what))
			return true;
	return false;
}

Test(health_check, counts_local_ready_endpoints_once)
{
	struct bl_compile_opts a = {.node_name = "node-a"};
	struct bl_svc_table t = {0};
	struct bl_errlist e;
	const struct bl_svc_health_check *h;

	bl_errlist_init(&e);
	compile_fixtures(&a, &t, &e, "health_check.yaml", NULL);
	cr_assert_eq(t.n_hc, 2, "lb and drain only, got %zu", t.n_hc);
	h = hc_at(&t, 32100);
	cr_assert_not_null(h);
	cr_assert_str_eq(h->ns, "web");
	cr_assert_str_eq(h->name, "lb", "the first in name order keeps a shared port");
	/* 10.244.1.2 (in both slices) and 10.244.1.3 (ready by default); not the
	 * not-ready 10.244.1.9 nor node-b's endpoint */
	cr_assert_eq(h->local_endpoints, 2);
	cr_assert(errs_mention(&e, "healthCheckNodePort 32100: claimed by web/lb and web/other; "
				   "kept for web/lb"));
	bl_svc_table_free(&t);
	bl_errlist_free(&e);
}

Test(health_check, only_terminating_endpoints_count_zero)
{
	struct bl_compile_opts a = {.node_name = "node-a"};
	struct bl_svc_table t = {0};
	struct bl_errlist e;

	bl_errlist_init(&e);
	compile_fixtures(&a, &t, &e, "health_check.yaml", NULL);
	cr_assert_not_null(hc_at(&t, 32101));
	cr_assert_eq(hc_at(&t, 32101)->local_endpoints, 0);
	cr_assert_null(hc_at(&t, 32102), "policy Cluster serves no health check");
	bl_svc_table_free(&t);
	bl_errlist_free(&e);
}

Test(health_check, other_node_sees_its_own_endpoints)
{
	struct bl_compile_opts b = {.node_name = "node-b"}, none = {0};
	struct bl_svc_table t = {0};
	struct bl_errlist e;

	bl_errlist_init(&e);
	compile_fixtures(&b, &t, &e, "health_check.yaml", NULL);
	cr_assert_eq(hc_at(&t, 32100)->local_endpoints, 1);
	bl_svc_table_free(&t);
	/* without a node name nothing is local: ports still served, answering 503 */
	compile_fixtures(&none, &t, &e, "health_check.yaml", NULL);
	cr_assert_eq(t.n_hc, 2);
	cr_assert_eq(hc_at(&t, 32100)->local_endpoints, 0);
	bl_svc_table_free(&t);
	bl_errlist_free(&e);
}

Test(health_check, bad_port_names_the_field)
{
	struct bl_compile_opts a = {.node_name = "node-a"};
	struct bl_svc_table t = {0};
	struct bl_errlist e;
	json_t *svc = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:i, s:[{s:i}]}}",
				"apiVersion", "v1", "kind", "Service", "metadata", "name", "x",
				"namespace", "web", "spec", "type", "LoadBalancer", "clusterIP",
				"10.96.7.9", "externalTrafficPolicy", "Local",
				"healthCheckNodePort", 70000, "ports", "port", 80);

	bl_errlist_init(&e);
	cr_assert_eq(bl_compile_objects(&svc, 1, &a, &t, &e), 0);
	cr_assert_eq(t.n, 0, "the bad Service is skipped whole");
	cr_assert_eq(t.n_hc, 0);
	cr_assert(errs_mention(&e, "spec.healthCheckNodePort"), "%s", e.n ? e.msgs[0] : "");
	json_decref(svc);
	bl_svc_table_free(&t);
	bl_errlist_free(&e);
}
