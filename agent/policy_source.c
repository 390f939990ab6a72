/*
 * NetworkPolicy source: the Pods, Namespaces and NetworkPolicies among the agent's
 * objects, with each local pod's address taken from its CNI registration
 * (K8S_POD_NAMESPACE / K8S_POD_NAME matched to its Pod object; a registered pod
 * without one counts as a pod without labels), compiled and written as a diff.
 */
#include "agent/agent.h"
#include "agent/common/log.h"
#include "controlplane/compile/netpol.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct pod_fill {
	json_t *objs;  /* array: the objects handed to the compiler */
	json_t *named; /* "ns/name" → Pod object in objs, for local pods to match */
};

static const char *meta_str(const json_t *o, const char *field)
{
	return json_string_value(json_object_get(json_object_get(o, "metadata"), field));
}

static void fill_local(const struct bl_endpoint_msg *m, void *ctx)
{
	struct pod_fill *f = ctx;
	char key[330];
	json_t *pod, *status;

	if (!m->pod_name[0] || !m->ip[0])
		return;
	snprintf(key, sizeof(key), "%s/%s", m->pod_namespace[0] ? m->pod_namespace : "default",
		 m->pod_name);
	pod = json_object_get(f->named, key);
	if (!pod) {
		pod = json_pack("{s:s, s:{s:s, s:s}, s:{}}", "kind", "Pod", "metadata", "name",
				m->pod_name, "namespace",
				m->pod_namespace[0] ? m->pod_namespace : "default", "spec");
		if (!pod)
			return;
		json_array_append_new(f->objs, pod);
	}
	status = json_object_get(pod, "status");
	if (!json_is_object(status)) {
		status = json_object();
		json_object_set_new(pod, "status", status);
	}
	/* the registration is the truth for a pod on this node */
	json_object_set_new(status, "podIP", json_string(m->ip));
}

/* Copies of the objects the compiler needs, local pods' addresses filled in. */
static json_t *policy_objects(struct bl_agent *a, json_t **objs, size_t n)
{
	struct pod_fill f = {.objs = json_array(), .named = json_object()};

	for (size_t i = 0; f.objs && f.named && i < n; i++) {
		const char *kind = json_string_value(json_object_get(objs[i], "kind"));
		json_t *c;

		if (!kind || (strcmp(kind, "Pod") && strcmp(kind, "Namespace") &&
			      strcmp(kind, "NetworkPolicy")))
			continue;
		c = json_deep_copy(objs[i]);
		if (!c)
			continue;
		json_array_append_new(f.objs, c);
		if (!strcmp(kind, "Pod") && meta_str(c, "name")) {
			char key[330];

			snprintf(key, sizeof(key), "%s/%s",
				 meta_str(c, "namespace") ? meta_str(c, "namespace") : "default",
				 meta_str(c, "name"));
			json_object_set(f.named, key, c);
		}
	}
	if (f.objs && f.named)
		bl_endpoints_foreach(&a->eps, fill_local, &f);
	json_decref(f.named);
	return f.objs;
}

int bl_policy_resync(struct bl_agent *a, json_t **objs, size_t n)
{
	json_t *list = policy_objects(a, objs, n);
	struct bl_pol_table next;
	struct bl_pol_sync_stats st;
	struct bl_errlist errs;
	size_t cnt;
	json_t **arr;
	int rc;

	if (!list)
		return -ENOMEM;
	cnt = json_array_size(list);
	arr = calloc(cnt + 1, sizeof(*arr));
	if (!arr) {
		json_decref(list);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cnt; i++)
		arr[i] = json_array_get(list, i);
	bl_errlist_init(&errs);
	/* a bad object is reported by name; its last good version stands in for it */
	if (!a->pol_keep.good)
		bl_netpol_keep_init(&a->pol_keep);
	cnt = bl_netpol_keep_apply(&a->pol_keep, arr, cnt, &errs);
	rc = bl_netpol_compile(arr, cnt, &next, &errs);
	for (size_t i = 0; i < errs.n; i++)
		log_warn("%s", errs.msgs[i]);
	if (rc) {
		log_err("compiling NetworkPolicies failed: %s; keeping the current policy maps",
			strerror(-rc));
		goto out;
	}
	rc = bl_pol_sync(&a->dp.pol, &a->pol_applied, &next, &st);
	if (rc) {
		/* the maps hold a mix: forget what we think they hold, rewrite all next time */
		log_err("writing the policy maps failed: %s (map full?)", strerror(-rc));
		bl_pol_table_free(&next);
		bl_pol_table_free(&a->pol_applied);
		a->pol_dirty = true;
		goto out;
	}
	if (st.writes || st.removes)
		log_info("policy: %zu isolated endpoints, %zu rules, %zu identities: %u entries "
			 "written, %u removed",
			 next.n_endpoints, next.n_rules, next.n_ipcache, st.writes, st.removes);
	bl_pol_table_free(&a->pol_applied);
	a->pol_applied = next;
	a->pol_dirty = false;
out:
	bl_errlist_free(&errs);
	free(arr);
	json_decref(list);
	return rc;
}
