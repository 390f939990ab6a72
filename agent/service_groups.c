#include "agent/service_groups.h"

#include "agent/common/json_arena.h"
#include "agent/common/log.h"
#include "agent/kube/informer_state.h"
#include "agent/kube/kube_source.h"
#include "agent/kube/parse_ahead.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A manifest Service or slice by its group (a Service's own name, a slice's
 * service-name); i keeps input order, so the first definition of a Service wins. */
struct ref {
	const char *ns, *name;
	size_t i;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	if (!c)
		c = strcmp(x->name, y->name);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* The refs of group ns/name in a sorted array. */
static size_t range(const struct ref *r, size_t n, const char *ns, const char *name, size_t *first)
{
	size_t lo = 0, hi = n, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r[mid].ns, ns);

		if (!c)
			c = strcmp(r[mid].name, name);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < n && !strcmp(r[end].ns, ns) && !strcmp(r[end].name, name); end++)
		;
	*first = lo;
	return end - lo;
}

/* The manifests' Services and slices, parsed and sorted by group. */
struct bl_manifest_groups {
	struct bl_parsed_objects p;
	struct ref *sv, *sl;
	size_t n_sv, n_sl;
};

static int manifest_groups(json_t *const *objs, size_t n, struct bl_manifest_groups *m,
			   struct bl_errlist *errs)
{
	int e = bl_parse_objects(objs, n, &m->p, errs);

	m->sv = m->sl = NULL;
	m->n_sv = m->n_sl = 0;
	if (e)
		return e;
	m->sv = calloc(m->p.n_svcs + 1, sizeof(*m->sv));
	m->sl = calloc(m->p.n_slices + 1, sizeof(*m->sl));
	if (!m->sv || !m->sl)
		return -ENOMEM;
	for (size_t i = 0; i < m->p.n_svcs; i++)
		m->sv[m->n_sv++] = (struct ref){m->p.svcs[i].ns, m->p.svcs[i].name, i};
	for (size_t i = 0; i < m->p.n_slices; i++)
		if (*m->p.slices[i].service_name)
			m->sl[m->n_sl++] =
				(struct ref){m->p.slices[i].ns, m->p.slices[i].service_name, i};
	qsort(m->sv, m->n_sv, sizeof(*m->sv), ref_cmp);
	qsort(m->sl, m->n_sl, sizeof(*m->sl), ref_cmp);
	return 0;
}

void bl_manifest_groups_free(struct bl_manifest_groups *m)
{
	if (!m)
		return;
	bl_parsed_objects_free(&m->p);
	free(m->sv);
	free(m->sl);
	free(m);
}

/* A cached object parsed into g (in its arena). List items are kept as text after a
 * check of their structure alone: one that jansson refuses (bad UTF-8, say) is left
 * out here. */
static void take(struct bl_group_objs *g, json_t *cached, const char *key)
{
	json_t *o;

	bl_json_arena_enter(g->arena);
	o = json_is_string(cached) ? bl_inf_object(cached) : json_deep_copy(cached);
	bl_json_arena_leave();
	if (o)
		g->objs[g->n++] = o;
	else
		log_warn("kube: %s from the API is not valid JSON; left out", key);
}

/* The API's objects of one group as JSON: its Service and the slices naming it (objs
 * NULL only when out of memory). Reads the caches only: the parse-ahead thread calls
 * it too. */
static struct bl_group_objs group_json(const struct bl_kube_source *k, const char *key)
{
	json_t *svc = k ? bl_kube_source_service(k, key) : NULL;
	json_t *slices = k ? bl_kube_source_slices_of(k, key) : NULL, *v;
	struct bl_group_objs g = {calloc(2 + json_object_size(slices), sizeof(*g.objs)), 0,
				  bl_json_arena_new()};
	const char *sk;

	if (!g.objs || !g.arena) {
		bl_group_objs_free(&g);
		return g;
	}
	if (svc)
		take(&g, svc, key);
	json_object_foreach(slices, sk, v) take(&g, v, sk);
	return g;
}

/* The API's objects of one group, parsed (g from group_json: consumed). */
static int kube_group(struct bl_group_objs *g, struct bl_parsed_objects *p, struct bl_errlist *errs)
{
	int e;

	if (!g->objs)
		return -ENOMEM;
	e = bl_parse_objects(g->objs, g->n, p, errs);
	bl_group_objs_free(g);
	return e;
}

/* One group compiled from the manifests' definitions (first) and the API's. */
static int set_group(struct bl_compile_incr *ci, const char *key,
		     const struct bl_manifest_groups *m, struct bl_group_objs *g,
		     const struct bl_compile_opts *o, struct bl_errlist *errs)
{
	struct bl_parsed_objects p;
	struct bl_k8s_service *svcs = NULL;
	struct bl_k8s_endpointslice *sl = NULL;
	size_t fs = 0, fl = 0, ns = 0, nl = 0;
	char ns_buf[200];
	const char *slash = strchr(key, '/');
	int e = kube_group(g, &p, errs);

	if (e)
		return e;
	if (m && slash && (size_t)(slash - key) < sizeof(ns_buf)) {
		memcpy(ns_buf, key, slash - key);
		ns_buf[slash - key] = 0;
		ns = range(m->sv, m->n_sv, ns_buf, slash + 1, &fs);
		nl = range(m->sl, m->n_sl, ns_buf, slash + 1, &fl);
	}
	if (!ns && !nl) {
		e = bl_compile_incr_set(ci, key, p.svcs, p.n_svcs, p.slices, p.n_slices, o, errs);
		bl_parsed_objects_free(&p);
		return e;
	}
	svcs = calloc(ns + p.n_svcs + 1, sizeof(*svcs));
	sl = calloc(nl + p.n_slices + 1, sizeof(*sl));
	if (svcs && sl) {
		for (size_t i = 0; i < ns; i++)
			svcs[i] = m->p.svcs[m->sv[fs + i].i];
		for (size_t i = 0; i < nl; i++)
			sl[i] = m->p.slices[m->sl[fl + i].i];
		if (p.n_svcs)
			memcpy(svcs + ns, p.svcs, p.n_svcs * sizeof(*svcs));
		if (p.n_slices)
			memcpy(sl + nl, p.slices, p.n_slices * sizeof(*sl));
		e = bl_compile_incr_set(ci, key, svcs, ns + p.n_svcs, sl, nl + p.n_slices, o, errs);
	} else {
		e = -ENOMEM;
	}
	free(svcs);
	free(sl);
	bl_parsed_objects_free(&p);
	return e;
}

/* Every group, in the keys' order, the API's JSON read one group ahead on a thread. */
static int compile_all(struct bl_compile_incr *ci, json_t *keys, const struct bl_manifest_groups *m,
		       const struct bl_kube_source *k, const struct bl_compile_opts *o,
		       struct bl_errlist *errs)
{
	const char **names = calloc(json_object_size(keys) + 1, sizeof(*names)), *key;
	struct bl_parse_ahead *pa;
	size_t n = 0;
	json_t *v;
	int e = 0;

	if (!names)
		return -ENOMEM;
	json_object_foreach(keys, key, v) names[n++] = key;
	pa = bl_parse_ahead_start(k, names, n, group_json);
	bl_compile_incr_begin(ci);
	for (size_t i = 0; !e && i < n; i++) {
		struct bl_group_objs g = bl_parse_ahead_take(pa, k, names, i, group_json);

		e = set_group(ci, names[i], m, &g, o, errs);
	}
	bl_parse_ahead_stop(pa);
	free(names);
	return e;
}

int bl_service_groups_rebuild(struct bl_compile_incr *ci, json_t *const *objs, size_t n,
			      const struct bl_kube_source *k, const struct bl_compile_opts *o,
			      struct bl_errlist *errs, struct bl_manifest_groups **mg)
{
	struct bl_manifest_groups *m = calloc(1, sizeof(*m));
	json_t *keys = k ? bl_kube_source_groups(k) : json_object();
	char buf[300];
	int e = keys && m ? manifest_groups(objs, n, m, errs) : -ENOMEM;

	for (size_t i = 0; !e && i < m->n_sv + m->n_sl; i++) {
		const struct ref *r = i < m->n_sv ? &m->sv[i] : &m->sl[i - m->n_sv];

		snprintf(buf, sizeof(buf), "%s/%s", r->ns, r->name);
		json_object_set_new(keys, buf, json_true());
	}
	if (!e)
		e = compile_all(ci, keys, m, k, o, errs);
	/* a failed rebuild drops nothing: the next one starts over */
	if (!e) {
		bl_compile_incr_end(ci);
		bl_manifest_groups_free(*mg);
		*mg = m;
	} else {
		bl_manifest_groups_free(m);
	}
	json_decref(keys);
	return e;
}

int bl_service_groups_update(struct bl_compile_incr *ci, const struct bl_kube_source *k,
			     json_t *touched, const struct bl_manifest_groups *m,
			     const struct bl_compile_opts *o, struct bl_errlist *errs)
{
	const char *key;
	json_t *v;
	int e = 0;

	json_object_foreach(touched, key, v)
	{
		struct bl_group_objs g = group_json(k, key);

		e = set_group(ci, key, m, &g, o, errs);
		if (e)
			break;
	}
	return e;
}
