#include "controlplane/controllers/eps_index.h"
#include "controlplane/controllers/eps_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZONE_LABEL "topology.kubernetes.io/zone"
#define SVC_LABEL  "kubernetes.io/service-name"

int bl_eps_index_init(struct bl_eps_index *x)
{
	x->sel = json_object();
	x->by_pair = json_object();
	x->pods = json_object();
	x->owner = json_object();
	x->owned = json_object();
	x->nodes = json_object();
	return x->sel && x->by_pair && x->pods && x->owner && x->owned && x->nodes ? 0 : -1;
}

void bl_eps_index_free(struct bl_eps_index *x)
{
	json_decref(x->sel);
	json_decref(x->by_pair);
	json_decref(x->pods);
	json_decref(x->owner);
	json_decref(x->owned);
	json_decref(x->nodes);
	memset(x, 0, sizeof(*x));
}

static json_t *labels_of(json_t *obj)
{
	return json_object_get(json_object_get(obj, "metadata"), "labels");
}

static void set_add(json_t *sets, const char *set, const char *member)
{
	json_t *s = json_object_get(sets, set);

	if (!s) {
		s = json_object();
		json_object_set_new(sets, set, s);
	}
	json_object_set_new(s, member, json_true());
}

static void set_del(json_t *sets, const char *set, const char *member)
{
	json_t *s = json_object_get(sets, set);

	if (!s)
		return;
	json_object_del(s, member);
	if (!json_object_size(s))
		json_object_del(sets, set);
}

static char *pair(const char *ns, const char *k, const char *v)
{
	char *p = NULL;

	return asprintf(&p, "%s/%s=%s", ns, k, v) < 0 ? NULL : p;
}

/* The selector's least key and its value as "ns/k=v"; NULL when a value is no string
 * (nothing can match it) or the selector is empty. */
static char *least_pair(const char *ns, json_t *sel)
{
	const char *k, *least = NULL;
	json_t *v;

	json_object_foreach(sel, k, v)
	{
		if (!json_is_string(v))
			return NULL;
		if (!least || strcmp(k, least) < 0)
			least = k;
	}
	return least ? pair(ns, least, json_string_value(json_object_get(sel, least))) : NULL;
}

static bool sel_matches(json_t *sel, json_t *labels)
{
	const char *k;
	json_t *v;

	if (!json_object_size(sel) || !json_is_object(labels))
		return false;
	json_object_foreach(sel, k, v)
	{
		const char *have = json_string_value(json_object_get(labels, k));

		if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)))
			return false;
	}
	return true;
}

static void key_of(const char *ns, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", ns, name);
}

static void mark(json_t *dirty, const char *svc)
{
	if (dirty)
		json_object_set_new(dirty, svc, json_true());
}

void bl_eps_index_service(struct bl_eps_index *x, const char *ns, const char *name, json_t *now,
			  json_t *dirty)
{
	char key[600], *p;
	json_t *old, *sel;

	key_of(ns, name, key, sizeof(key));
	old = json_object_get(x->sel, key);
	if (old && (p = least_pair(ns, old))) {
		set_del(x->by_pair, p, key);
		free(p);
	}
	json_object_del(x->sel, key);
	if (now && bl_eps_service_managed(now)) {
		sel = json_object_get(json_object_get(now, "spec"), "selector");
		json_object_set(x->sel, key, sel);
		if ((p = least_pair(ns, sel))) {
			set_add(x->by_pair, p, key);
			free(p);
		}
	}
	mark(dirty, key);
}

/* The Services whose selector matches labels (pod labels of ns). */
static void selecting(struct bl_eps_index *x, const char *ns, json_t *labels, json_t *dirty)
{
	const char *k, *svc;
	json_t *v, *m;

	json_object_foreach(labels, k, v)
	{
		char *p = json_is_string(v) ? pair(ns, k, json_string_value(v)) : NULL;
		json_t *svcs = p ? json_object_get(x->by_pair, p) : NULL;

		free(p);
		json_object_foreach(svcs, svc, m) if (sel_matches(json_object_get(x->sel, svc),
								  labels)) mark(dirty, svc);
	}
}

static void pod_labels(struct bl_eps_index *x, const char *ns, const char *key, json_t *labels,
		       bool add)
{
	const char *k;
	json_t *v;

	json_object_foreach(labels, k, v)
	{
		char *p = json_is_string(v) ? pair(ns, k, json_string_value(v)) : NULL;

		if (p && add)
			set_add(x->pods, p, key);
		else if (p)
			set_del(x->pods, p, key);
		free(p);
	}
}

void bl_eps_index_pod(struct bl_eps_index *x, const char *ns, const char *name, json_t *before,
		      json_t *now, json_t *dirty)
{
	char key[600];

	key_of(ns, name, key, sizeof(key));
	selecting(x, ns, labels_of(before), dirty);
	selecting(x, ns, labels_of(now), dirty);
	pod_labels(x, ns, key, labels_of(before), false);
	pod_labels(x, ns, key, labels_of(now), true);
}

void bl_eps_index_slice(struct bl_eps_index *x, const char *ns, const char *name, json_t *before,
			json_t *now, json_t *dirty)
{
	char key[600], svc[600];
	json_t *was = NULL;

	key_of(ns, name, key, sizeof(key));
	/* the index's own memory of the owner: before may be missing or stale */
	if (json_object_get(x->owner, key)) {
		was = json_incref(json_object_get(x->owner, key));
		set_del(x->owned, json_string_value(was), key);
		json_object_del(x->owner, key);
		mark(dirty, json_string_value(was));
	}
	json_decref(was);
	if (before && bl_eps_slice_of(before, NULL)) {
		key_of(ns, json_string_value(json_object_get(labels_of(before), SVC_LABEL)), svc,
		       sizeof(svc));
		mark(dirty, svc);
	}
	if (now && bl_eps_slice_of(now, NULL)) {
		key_of(ns, json_string_value(json_object_get(labels_of(now), SVC_LABEL)), svc,
		       sizeof(svc));
		json_object_set_new(x->owner, key, json_string(svc));
		set_add(x->owned, svc, key);
		mark(dirty, svc);
	}
}

bool bl_eps_index_node(struct bl_eps_index *x, const char *name, json_t *now)
{
	const char *zone = json_string_value(json_object_get(labels_of(now), ZONE_LABEL));
	const char *was = json_string_value(
		json_object_get(labels_of(json_object_get(x->nodes, name)), ZONE_LABEL));

	if (!zone && !was)
		return false;
	if (zone && was && !strcmp(zone, was))
		return false;
	if (zone)
		json_object_set_new(
			x->nodes, name,
			json_pack("{s:{s:{s:s}}}", "metadata", "labels", ZONE_LABEL, zone));
	else
		json_object_del(x->nodes, name);
	return true;
}

void bl_eps_index_all(struct bl_eps_index *x, json_t *dirty)
{
	const char *k;
	json_t *v;

	json_object_foreach(x->sel, k, v) mark(dirty, k);
	json_object_foreach(x->owned, k, v) mark(dirty, k);
}

json_t *bl_eps_index_candidates(struct bl_eps_index *x, const char *svc, json_t *sel)
{
	char ns[300];
	const char *slash = strchr(svc, '/');
	char *p;
	json_t *set;

	if (!slash)
		return NULL;
	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - svc), svc);
	p = least_pair(ns, sel);
	set = p ? json_object_get(x->pods, p) : NULL;
	free(p);
	return set;
}

json_t *bl_eps_index_slices(struct bl_eps_index *x, const char *svc)
{
	return json_object_get(x->owned, svc);
}
