/*
 * NetworkPolicy source: the Pods, Namespaces and NetworkPolicies among the agent's
 * objects, with each local pod's address taken from its CNI registration
 * (K8S_POD_NAMESPACE / K8S_POD_NAME matched to its Pod object; a registered pod
 * without one counts as a pod without labels). Only the objects that changed since the
 * last pass go to the incremental compiler (controlplane/compile/netpol_incr.h), and
 * only the entries it hands out are written.
 */
#include "agent/agent.h"
#include "agent/common/log.h"
#include "agent/dataplane/pol_sync.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *meta_str(const json_t *o, const char *field)
{
	return json_string_value(json_object_get(json_object_get(o, "metadata"), field));
}

static bool policy_kind(const char *kind)
{
	return kind && (!strcmp(kind, "Pod") || !strcmp(kind, "Namespace") ||
			!strcmp(kind, "NetworkPolicy"));
}

static void add_local(const struct bl_endpoint_msg *m, void *ctx)
{
	char key[330];

	if (!m->pod_name[0] || !m->ip[0])
		return;
	snprintf(key, sizeof(key), "%s/%s", m->pod_namespace[0] ? m->pod_namespace : "default",
		 m->pod_name);
	json_object_set_new(ctx, key, json_string(m->ip));
}

static uint64_t fnv1a64(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

/* What identifies this version of an object: the API's resourceVersion, else (files)
 * a hash of its text; a local pod's registered address is part of it. */
static void fingerprint(const json_t *o, const char *local_ip, char *buf, size_t len)
{
	const char *rv = meta_str(o, "resourceVersion");
	char *text = rv ? NULL : json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	if (rv)
		snprintf(buf, len, "rv:%s|%s", rv, local_ip ? local_ip : "");
	else
		snprintf(buf, len, "h:%016llx|%s", text ? (unsigned long long)fnv1a64(text) : 0ull,
			 local_ip ? local_ip : "");
	free(text);
}

/* Hands one object version to the compiler, a local pod with its registered address.
 * False when it could not be taken for want of memory (to be handed again). */
static bool give(struct bl_agent *a, const json_t *o, const char *local_ip, struct bl_errlist *errs)
{
	json_t *copy = NULL;
	int rc;

	if (local_ip) {
		json_t *status;

		copy = json_copy((json_t *)o); /* shallow: only status is replaced */
		status = copy ? json_deep_copy(json_object_get(copy, "status")) : NULL;
		if (!json_is_object(status)) {
			json_decref(status);
			status = json_object();
		}
		if (!copy || !status) {
			json_decref(copy);
			json_decref(status);
			return false;
		}
		/* the registration is the truth for a pod on this node */
		json_object_set_new(status, "podIP", json_string(local_ip));
		json_object_set_new(copy, "status", status);
		o = copy;
	}
	rc = bl_netpol_incr_set(a->pol_incr, o, errs);
	if (rc == -ENOMEM)
		log_err("policy: out of memory compiling %s; trying again at the next sync",
			meta_str(o, "name"));
	json_decref(copy);
	return rc != -ENOMEM;
}

/* Everything changed since the last pass goes to the compiler; returns the new
 * "Kind ns/name" → fingerprint map. */
static json_t *feed(struct bl_agent *a, json_t **objs, size_t n, struct bl_errlist *errs)
{
	json_t *now = json_object(), *local = json_object(), *v;
	const char *key;
	char k[400], fp[96];
	void *tmp;

	if (!now || !local) {
		json_decref(now);
		json_decref(local);
		return NULL;
	}
	bl_endpoints_foreach(&a->eps, add_local, local);
	for (size_t i = 0; i < n; i++) {
		const char *kind = json_string_value(json_object_get(objs[i], "kind"));
		const char *name = meta_str(objs[i], "name"), *ns = meta_str(objs[i], "namespace");
		const char *ip = NULL;
		char ipbuf[64];
		bool is_ns;

		if (!policy_kind(kind) || !name)
			continue;
		is_ns = !strcmp(kind, "Namespace");
		snprintf(k, sizeof(k), "%s %s/%s", kind, is_ns ? "" : ns ? ns : "default", name);
		if (!strcmp(kind, "Pod") && json_object_get(local, k + 4)) {
			snprintf(ipbuf, sizeof(ipbuf), "%s",
				 json_string_value(json_object_get(local, k + 4)));
			ip = ipbuf;
			json_object_del(local, k + 4); /* matched: not a pod without an object */
		}
		fingerprint(objs[i], ip, fp, sizeof(fp));
		v = json_object_get(a->pol_seen, k);
		if ((!v || strcmp(json_string_value(v), fp)) && !give(a, objs[i], ip, errs))
			fp[0] = '\0'; /* not taken: differs from every version next time */
		json_object_set_new(now, k, json_string(fp));
	}
	/* registered pods no Pod object names: pods without labels */
	json_object_foreach_safe(local, tmp, key, v)
	{
		const char *slash = strchr(key, '/');
		char ns[64];
		json_t *pod;

		snprintf(ns, sizeof(ns), "%.*s", (int)(slash - key), key);
		snprintf(k, sizeof(k), "Pod %s", key);
		snprintf(fp, sizeof(fp), "cni:%s", json_string_value(v));
		if (!json_object_get(a->pol_seen, k) ||
		    strcmp(json_string_value(json_object_get(a->pol_seen, k)), fp)) {
			pod = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{}, s:{s:s}}", "apiVersion",
					"v1", "kind", "Pod", "metadata", "name", slash + 1,
					"namespace", ns, "spec", "status", "podIP",
					json_string_value(v));
			if (!pod || !give(a, pod, NULL, errs))
				fp[0] = '\0';
			json_decref(pod);
		}
		json_object_set_new(now, k, json_string(fp));
	}
	json_decref(local);
	/* gone since the last pass */
	json_object_foreach(a->pol_seen, key, v)
	{
		const char *sp = strchr(key, ' '), *slash = sp ? strchr(sp, '/') : NULL;
		char kind[32], ns[64];

		if (json_object_get(now, key) || !sp || !slash)
			continue;
		snprintf(kind, sizeof(kind), "%.*s", (int)(sp - key), key);
		snprintf(ns, sizeof(ns), "%.*s", (int)(slash - sp - 1), sp + 1);
		bl_netpol_incr_remove(a->pol_incr, kind, ns, slash + 1);
	}
	return now;
}

/* After a failed write: the maps rewritten whole from the compiler's table. */
static int rewrite_all(struct bl_agent *a, struct bl_pol_sync_stats *st)
{
	struct bl_pol_table have, want;
	int rc = bl_pol_read_maps(&a->dp.pol, &have);

	if (rc)
		return rc;
	rc = bl_netpol_incr_table(a->pol_incr, &want);
	if (!rc) {
		/* every name again: the map may hold any of them */
		struct bl_pol_table no_names = have;

		no_names.n_rule_names = 0;
		rc = bl_pol_sync(&a->dp.pol, &no_names, &want, st);
	}
	bl_pol_table_free(&have);
	bl_pol_table_free(&want);
	return rc;
}

int bl_policy_resync(struct bl_agent *a, json_t **objs, size_t n)
{
	struct bl_pol_sync_stats st = {0};
	struct bl_pol_delta d;
	struct bl_errlist errs;
	double t0 = bl_now();
	json_t *seen;
	int rc;

	if (!a->pol_incr) {
		if (!(a->pol_incr = bl_netpol_incr_new()))
			return -ENOMEM;
		/* pinned maps re-adopted after a restart may hold entries nothing makes
		 * any more: the first write compares with what they hold */
		a->pol_rewrite = true;
	}
	bl_errlist_init(&errs);
	seen = feed(a, objs, n, &errs);
	/* a bad object is reported by name, once per version; its last good one stays */
	for (size_t i = 0; i < errs.n; i++)
		log_warn("%s", errs.msgs[i]);
	bl_errlist_free(&errs);
	if (!seen)
		return -ENOMEM;
	json_decref(a->pol_seen);
	a->pol_seen = seen;
	rc = bl_netpol_incr_commit(a->pol_incr, &d);
	if (rc) {
		log_err("compiling NetworkPolicies failed: %s; keeping the current policy maps",
			strerror(-rc));
		return rc;
	}
	rc = a->pol_rewrite ? rewrite_all(a, &st)
			    : bl_pol_sync_delta(&a->dp.pol, a->pol_incr, &d, &st);
	bl_pol_delta_free(&d);
	if (rc) {
		/* the maps hold a mix: rewrite them whole from the table next time */
		log_err("writing the policy maps failed: %s (map full?)", strerror(-rc));
		a->pol_rewrite = true;
		a->pol_dirty = true;
		return rc;
	}
	a->pol_rewrite = false;
	a->pol_dirty = false;
	if (st.writes || st.removes)
		log_info("policy: %u entries written, %u removed in %.2f ms", st.writes, st.removes,
			 (bl_now() - t0) * 1e3);
	return 0;
}

const char *bl_policy_rule_name(const struct bl_agent *a, uint32_t id)
{
	return a->pol_incr ? bl_netpol_incr_rule_name(a->pol_incr, id) : NULL;
}
