/* internalTrafficPolicy Local as the dataplane sees it: the drop flag when other nodes
 * have endpoints but this one has none, and the terminating fallback per scope. */
#include "helpers.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>

static uint16_t flags_at(const struct bl_svc_table *t, const char *vip)
{
	const struct bl_svc_frontend *fe = fe_get(t, vip, 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);

	cr_assert_not_null(fe, "%s", vip);
	return fe->flags;
}

Test(traffic_policy, local_without_local_endpoints_drops_not_rejects)
{
	struct bl_compile_opts a = {.node_name = "node-a"}, c = {.node_name = "node-c"};
	struct bl_svc_table t = {0};
	struct bl_errlist e;

	bl_errlist_init(&e);
	/* node-a has a (terminating, serving) local endpoint: no drop flag */
	compile_fixtures(&a, &t, &e, "policy.yaml", NULL);
	cr_assert_eq(flags_at(&t, "10.96.4.2") & BPFLET_FE_F_NO_LOCAL_DROP, 0);
	bl_svc_table_free(&t);
	/* node-c has none, node-a and node-b do: count 0 with the drop flag */
	compile_fixtures(&c, &t, &e, "policy.yaml", NULL);
	cr_assert_neq(flags_at(&t, "10.96.4.2") & BPFLET_FE_F_NO_LOCAL_DROP, 0);
	cr_assert_eq(fe_get(&t, "10.96.4.2", 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL)->n_backends,
		     0);
	/* policy Cluster never drops; the informational policy flag follows the policy */
	cr_assert_eq(flags_at(&t, "10.96.4.1") & BPFLET_FE_F_NO_LOCAL_DROP, 0);
	cr_assert_eq(flags_at(&t, "10.96.4.1") & BPFLET_FE_F_POLICY_LOCAL, 0);
	cr_assert_neq(flags_at(&t, "10.96.4.2") & BPFLET_FE_F_POLICY_LOCAL, 0);
	bl_svc_table_free(&t);
	bl_errlist_free(&e);
}

/* The fallback is decided inside the Local scope: node-a's frontend falls back to its
 * terminating endpoint although a ready one exists on node-b. */
Test(traffic_policy, terminating_fallback_is_per_scope)
{
	struct bl_compile_opts a = {.node_name = "node-a"};
	struct bl_svc_table t = {0};
	struct bl_errlist e;
	const struct bl_svc_frontend *fe;
	char ip[48];

	bl_errlist_init(&e);
	compile_fixtures(&a, &t, &e, "policy.yaml", NULL);
	fe = fe_get(&t, "10.96.4.2", 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);
	cr_assert_eq(fe->n_backends, 1);
	cr_assert_str_eq(be_ip(&fe->backends[0], ip), "10.244.1.2");
	cr_assert(fe->backends[0].terminating);
	bl_svc_table_free(&t);
	bl_errlist_free(&e);
}
