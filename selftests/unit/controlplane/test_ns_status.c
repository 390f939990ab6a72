/* A Terminating namespace's conditions: what remains and which finalizers hold it, in
 * kube's words; transition times kept while nothing changes. */
#include "controlplane/controllers/ctl_util.h"
#include "controlplane/controllers/ns_status.h"

#include <criterion/criterion.h>

static const char *cond(json_t *ns, const char *type, const char *field)
{
	return json_string_value(json_object_get(bl_ctl_condition(ns, type), field));
}

Test(ns_status, remaining_content_and_finalizers)
{
	json_t *ns = json_pack("{s:{s:s}}", "metadata", "name", "doomed");
	json_t *res = json_pack("{s:i, s:i}", "pods", 2, "configmaps", 1);
	json_t *fin = json_pack("{s:i}", "example.com/hold", 1);

	cr_assert(bl_ns_set_conditions(ns, res, fin, "t1"));
	cr_assert_eq(json_array_size(bl_ctl_get(ns, "status.conditions")), 5);
	cr_assert_str_eq(cond(ns, "NamespaceContentRemaining", "status"), "True");
	cr_assert_str_eq(cond(ns, "NamespaceContentRemaining", "reason"), "SomeResourcesRemain");
	cr_assert_str_eq(cond(ns, "NamespaceContentRemaining", "message"),
			 "Some resources are remaining: configmaps has 1 resource instances, pods "
			 "has 2 resource instances");
	cr_assert_str_eq(cond(ns, "NamespaceFinalizersRemaining", "message"),
			 "Some content in the namespace has finalizers remaining: "
			 "example.com/hold in 1 resource instances");
	cr_assert_str_eq(cond(ns, "NamespaceDeletionDiscoveryFailure", "status"), "False");
	cr_assert_not(bl_ns_set_conditions(ns, res, fin, "t2"), "the same again: no write");
	cr_assert_str_eq(cond(ns, "NamespaceContentRemaining", "lastTransitionTime"), "t1");
	json_object_clear(fin);
	json_object_del(res, "pods");
	cr_assert(bl_ns_set_conditions(ns, res, fin, "t3"));
	cr_assert_str_eq(cond(ns, "NamespaceFinalizersRemaining", "status"), "False");
	cr_assert_str_eq(cond(ns, "NamespaceFinalizersRemaining", "reason"),
			 "ContentHasNoFinalizers");
	cr_assert_str_eq(cond(ns, "NamespaceFinalizersRemaining", "lastTransitionTime"), "t3");
	cr_assert_str_eq(cond(ns, "NamespaceContentRemaining", "message"),
			 "Some resources are remaining: configmaps has 1 resource instances");
	json_decref(ns);
	json_decref(res);
	json_decref(fin);
}
