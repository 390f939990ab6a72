/* loadBalancerSourceRanges: only the LoadBalancer ingress frontends are restricted
 * (as kube-proxy does), with one LPM entry per IPv4 CIDR; bad CIDRs name the field. */
#include "helpers.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>

Test(source_ranges, lb_frontend_restricted_with_lpm_keys)
{
	struct bl_compile_opts o = {.node_name = "n1", .external = true};
	struct bl_svc_table t = {0};
	struct bl_errlist e;
	const struct bl_svc_frontend *lb, *eip;

	bl_errlist_init(&e);
	compile_fixtures(&o, &t, &e, "source_ranges.yaml", NULL);
	lb = fe_get(&t, "203.0.113.9", 443, IPPROTO_TCP, BPFLET_SCOPE_EXTERNAL);
	eip = fe_get(&t, "198.51.100.7", 443, IPPROTO_TCP, BPFLET_SCOPE_EXTERNAL);
	cr_assert_not_null(lb);
	cr_assert_not_null(eip);
	cr_assert(lb->flags & BPFLET_FE_F_SRC_RANGES);
	cr_assert_eq(eip->flags & BPFLET_FE_F_SRC_RANGES, 0, "externalIPs are not restricted");
	cr_assert_eq(fe_get(&t, "10.96.8.1", 443, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL)->flags &
			     BPFLET_FE_F_SRC_RANGES,
		     0);
	/* the duplicate CIDR collapses, IPv6 is skipped, spaces are trimmed */
	cr_assert_eq(t.n_src, 2, "got %zu", t.n_src);
	for (size_t i = 0; i < t.n_src; i++) {
		cr_assert_eq(t.src[i].fe_addr, inet_addr("203.0.113.9"));
		cr_assert_eq(t.src[i].fe_port, htons(443));
		cr_assert_eq(t.src[i].proto, IPPROTO_TCP);
		cr_assert_eq(t.src[i].pad, 0);
	}
	/* sorted as bytes: the shorter prefix first */
	cr_assert(t.src[0].src == inet_addr("192.168.0.0") && t.src[0].prefixlen == 80);
	cr_assert(t.src[1].src == inet_addr("10.1.2.3") && t.src[1].prefixlen == 96);
	bl_svc_table_free(&t);
	bl_errlist_free(&e);
}

Test(source_ranges, bad_cidr_names_the_field)
{
	struct bl_compile_opts o = {.external = true};
	struct bl_svc_table t = {0};
	struct bl_errlist e;
	json_t *svc =
		json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:[s], s:[{s:i}]}}", "apiVersion",
			  "v1", "kind", "Service", "metadata", "name", "x", "namespace", "web",
			  "spec", "type", "LoadBalancer", "clusterIP", "10.96.8.2",
			  "loadBalancerSourceRanges", "10.0.0.0/33", "ports", "port", 80);

	bl_errlist_init(&e);
	cr_assert_eq(bl_compile_objects(&svc, 1, &o, &t, &e), 0);
	cr_assert_eq(t.n, 0);
	cr_assert_eq(t.n_src, 0);
	cr_assert(e.n && strstr(e.msgs[0], "spec.loadBalancerSourceRanges[0]"), "%s",
		  e.n ? e.msgs[0] : "(none)");
	json_decref(svc);
	bl_svc_table_free(&t);
	bl_errlist_free(&e);
}

/* --nodeport-range: a nodePort outside it is reported and not served */
Test(nodeport_range, outside_range_reported_and_skipped)
{
	struct bl_compile_opts o = {.external = true, .nodeport_min = 30000, .nodeport_max = 31000};
	struct bpflet_addr node = {.addr = {inet_addr("192.168.77.1")}};
	struct bl_svc_table t = {0};
	struct bl_errlist e;

	o.n_node_ips = 1;
	o.node_ips = &node;
	bl_errlist_init(&e);
	compile_fixtures(&o, &t, &e, "source_ranges.yaml", NULL);
	cr_assert_null(fe_get(&t, "192.168.77.1", 31443, IPPROTO_TCP, BPFLET_SCOPE_EXTERNAL));
	cr_assert(e.n && strstr(e.msgs[e.n - 1], "nodePort 31443 is outside the node port range "
						 "30000-31000"),
		  "%s", e.n ? e.msgs[e.n - 1] : "(none)");
	bl_svc_table_free(&t);
	o.nodeport_max = 32767;
	compile_fixtures(&o, &t, &e, "source_ranges.yaml", NULL);
	cr_assert_not_null(fe_get(&t, "192.168.77.1", 31443, IPPROTO_TCP, BPFLET_SCOPE_EXTERNAL));
	bl_svc_table_free(&t);
	bl_errlist_free(&e);
}
