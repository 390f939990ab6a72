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
#include <uthash.h>
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
static void fingerprint(const json_t *o, const char *rv, const char *local_ip, char *buf,
			size_t len)
{
	char *text = rv ? NULL : json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	if (rv)
		snprintf(buf, len, "rv:%s|%s", rv, local_ip ? local_ip : "");
	else
		snprintf(buf, len, "h:%016llx|%s", text ? (unsigned long long)fnv1a64(text) : 0ull,
			 local_ip ? local_ip : "");
	free(text);
}

/* What the compiler was last handed for each object, stamped with the pass that last
 * saw it: what a pass does not stamp is gone. The object itself is held, so while it
 * lives no other object can take its address: the same pointer in the next pass is
 * the same version, found with one lookup and nothing else. */
struct seen_e {
	char key[400]; /* "Kind ns/name" */
	char fp[96];   /* version handed to the compiler; "" when it could not take it */
	char ip[64];   /* registered address it was handed with, "" for none */
	json_t *obj;   /* held; NULL for a registered pod without a Pod object */
	unsigned long gen;
	UT_hash_handle hh, hp; /* by key, by obj */
};

struct bl_pol_seen {
	struct seen_e *by_key, *by_obj;
	unsigned long gen;
};

/* The entry for key, stamped with this pass; NULL without memory. */
static struct seen_e *seen_get(struct bl_pol_seen *s, const char *key)
{
	struct seen_e *e;

	HASH_FIND(hh, s->by_key, key, strlen(key), e);
	if (!e) {
		if (!(e = calloc(1, sizeof(*e))))
			return NULL;
		snprintf(e->key, sizeof(e->key), "%s", key);
		HASH_ADD(hh, s->by_key, key[0], strlen(e->key), e);
	}
	e->gen = s->gen;
	return e;
}

/* e now stands for obj (NULL: none). */
static void seen_hold(struct bl_pol_seen *s, struct seen_e *e, json_t *obj)
{
	if (e->obj) {
		HASH_DELETE(hp, s->by_obj, e);
		json_decref(e->obj);
	}
	e->obj = obj ? json_incref(obj) : NULL;
	if (e->obj)
		HASH_ADD(hp, s->by_obj, obj, sizeof(e->obj), e);
}

static void seen_drop(struct bl_pol_seen *s, struct seen_e *e)
{
	seen_hold(s, e, NULL);
	HASH_DELETE(hh, s->by_key, e);
	free(e);
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

/* Hands e's object to the compiler when fp (with ip) is a version it has not seen. */
static void offer(struct bl_agent *a, struct seen_e *e, const char *ip, const char *fp,
		  struct bl_errlist *errs)
{
	if (!strcmp(e->fp, fp))
		return;
	snprintf(e->fp, sizeof(e->fp), "%s", give(a, e->obj, ip[0] ? ip : NULL, errs) ? fp : "");
	snprintf(e->ip, sizeof(e->ip), "%s", ip);
}

/* An object this pass has not met as it is: its key, its version, maybe the compiler. */
static int meet(struct bl_agent *a, json_t *o, const json_t *local, struct bl_errlist *errs)
{
	struct bl_pol_seen *s = a->pol_seen;
	const char *kind = json_string_value(json_object_get(o, "kind"));
	const json_t *md = json_object_get(o, "metadata");
	const char *name = json_string_value(json_object_get(md, "name"));
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	const char *ip = "";
	struct seen_e *e;
	char k[400], fp[96];

	if (!policy_kind(kind) || !name)
		return 0;
	snprintf(k, sizeof(k), "%s %s/%s", kind,
		 !strcmp(kind, "Namespace") ? ""
		 : ns			    ? ns
					    : "default",
		 name);
	if (!strcmp(kind, "Pod") && json_object_get(local, k + 4))
		ip = json_string_value(json_object_get(local, k + 4));
	if (!(e = seen_get(s, k)))
		return -ENOMEM;
	seen_hold(s, e, o);
	fingerprint(o, json_string_value(json_object_get(md, "resourceVersion")), ip[0] ? ip : NULL,
		    fp, sizeof(fp));
	offer(a, e, ip, fp, errs);
	return 0;
}

/* Everything changed since the last pass goes to the compiler, what went is removed.
 * Returns -ENOMEM when the pass could not be completed. */
static int feed(struct bl_agent *a, json_t **objs, size_t n, struct bl_errlist *errs)
{
	struct bl_pol_seen *s = a->pol_seen;
	json_t *local = json_object(), *v;
	struct seen_e *e, *tmp;
	const char *key;
	char k[400], fp[96];
	int rc = 0;

	if (!local)
		return -ENOMEM;
	s->gen++;
	bl_endpoints_foreach(&a->eps, add_local, local);
	for (size_t i = 0; i < n && !rc; i++) {
		HASH_FIND(hp, s->by_obj, &objs[i], sizeof(objs[i]), e);
		if (e)
			e->gen = s->gen; /* the same version: its address says so */
		else
			rc = meet(a, objs[i], local, errs);
	}
	/* local pods: a registration that came, changed or went changes their version */
	json_object_foreach(local, key, v)
	{
		snprintf(k, sizeof(k), "Pod %s", key);
		HASH_FIND(hh, s->by_key, k, strlen(k), e);
		if (rc || (e && e->obj && e->gen == s->gen && !strcmp(e->ip, json_string_value(v))))
			continue;
		if (e && e->obj && e->gen == s->gen) {
			rc = meet(a, e->obj, local, errs);
			continue;
		}
		/* no Pod object names it: a pod without labels */
		const char *slash = strchr(key, '/');
		char ns[64];
		json_t *pod;

		snprintf(ns, sizeof(ns), "%.*s", (int)(slash - key), key);
		snprintf(fp, sizeof(fp), "cni:%s", json_string_value(v));
		pod = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{}, s:{s:s}}", "apiVersion", "v1",
				"kind", "Pod", "metadata", "name", slash + 1, "namespace", ns,
				"spec", "status", "podIP", json_string_value(v));
		if (!pod || !(e = seen_get(s, k))) {
			json_decref(pod);
			rc = -ENOMEM;
			continue;
		}
		if (strcmp(e->fp, fp)) {
			seen_hold(s, e, pod);
			offer(a, e, "", fp, errs);
		}
		json_decref(pod);
	}
	HASH_ITER(hh, s->by_key, e, tmp)
	{
		const char *sp = strchr(e->key, ' '), *slash = sp ? strchr(sp, '/') : NULL;
		char kind[32], ns[64];

		if (rc) /* an incomplete pass removes nothing */
			e->gen = s->gen;
		if (e->gen == s->gen) {
			/* a registration that went: the Pod object again, without it */
			if (e->ip[0] && e->obj && !json_object_get(local, e->key + 4) &&
			    !strncmp(e->key, "Pod ", 4))
				rc = meet(a, e->obj, local, errs);
			continue;
		}
		if (sp && slash) {
			snprintf(kind, sizeof(kind), "%.*s", (int)(sp - e->key), e->key);
			snprintf(ns, sizeof(ns), "%.*s", (int)(slash - sp - 1), sp + 1);
			bl_netpol_incr_remove(a->pol_incr, kind, ns, slash + 1);
		}
		seen_drop(s, e);
	}
	json_decref(local);
	return rc;
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
	double t0 = bl_now(), t1, t2;
	int rc;

	if (!a->pol_incr) {
		if (!(a->pol_incr = bl_netpol_incr_new()) ||
		    !(a->pol_seen = calloc(1, sizeof(*a->pol_seen)))) {
			bl_netpol_incr_free(a->pol_incr);
			a->pol_incr = NULL;
			return -ENOMEM;
		}
		/* pinned maps re-adopted after a restart may hold entries nothing makes
		 * any more: the first write compares with what they hold */
		a->pol_rewrite = true;
	}
	bl_errlist_init(&errs);
	rc = feed(a, objs, n, &errs);
	/* a bad object is reported by name, once per version; its last good one stays */
	for (size_t i = 0; i < errs.n; i++)
		log_warn("%s", errs.msgs[i]);
	bl_errlist_free(&errs);
	if (rc)
		log_err("policy: out of memory reading the objects; the rest at the next sync");
	t1 = bl_now();
	rc = bl_netpol_incr_commit(a->pol_incr, &d);
	t2 = bl_now();
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
		log_info("policy: %u entries written, %u removed in %.2f ms (objects read and "
			 "compiled %.2f, delta %.2f, write %.2f)",
			 st.writes, st.removes, (bl_now() - t0) * 1e3, (t1 - t0) * 1e3,
			 (t2 - t1) * 1e3, (bl_now() - t2) * 1e3);
	return 0;
}

const char *bl_policy_rule_name(const struct bl_agent *a, uint32_t id)
{
	return a->pol_incr ? bl_netpol_incr_rule_name(a->pol_incr, id) : NULL;
}
