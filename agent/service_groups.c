#include "agent/service_groups.h"

#include "agent/kube/kube_source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ref {
	const char *ns, *name; /* the group: a Service's own name, a slice's service-name */
	size_t i;	       /* input order: the first definition of a Service wins */
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	if (!c)
		c = strcmp(x->name, y->name);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

static int group_cmp(const struct ref *x, const struct ref *y)
{
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

int bl_service_groups_rebuild(struct bl_compile_incr *ci, json_t *const *objs, size_t n,
			      const struct bl_compile_opts *o, struct bl_errlist *errs)
{
	struct bl_parsed_objects p;
	struct ref *sv = NULL, *sl = NULL;
	struct bl_k8s_service *gs = NULL;
	struct bl_k8s_endpointslice *gl = NULL;
	size_t a = 0, b = 0, n_sl = 0;
	int e = bl_parse_objects(objs, n, &p, errs);

	if (e)
		return e;
	sv = calloc(p.n_svcs + 1, sizeof(*sv));
	sl = calloc(p.n_slices + 1, sizeof(*sl));
	gs = calloc(p.n_svcs + 1, sizeof(*gs));
	gl = calloc(p.n_slices + 1, sizeof(*gl));
	if (!sv || !sl || !gs || !gl) {
		e = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < p.n_svcs; i++)
		sv[i] = (struct ref){p.svcs[i].ns, p.svcs[i].name, i};
	for (size_t i = 0; i < p.n_slices; i++)
		if (*p.slices[i].service_name)
			sl[n_sl++] = (struct ref){p.slices[i].ns, p.slices[i].service_name, i};
	qsort(sv, p.n_svcs, sizeof(*sv), ref_cmp);
	qsort(sl, n_sl, sizeof(*sl), ref_cmp);
	bl_compile_incr_begin(ci);
	/* walk both sorted lists a group at a time */
	while (!e && (a < p.n_svcs || b < n_sl)) {
		const struct ref *g = b >= n_sl || (a < p.n_svcs && group_cmp(&sv[a], &sl[b]) <= 0)
					      ? &sv[a]
					      : &sl[b];
		size_t k = 0, m = 0;
		char key[200];

		snprintf(key, sizeof(key), "%s/%s", g->ns, g->name);
		for (; a < p.n_svcs && !group_cmp(&sv[a], g); a++)
			gs[k++] = p.svcs[sv[a].i];
		for (; b < n_sl && !group_cmp(&sl[b], g); b++)
			gl[m++] = p.slices[sl[b].i];
		e = bl_compile_incr_set(ci, key, gs, k, gl, m, o, errs);
	}
	/* a failed rebuild drops nothing: the next one starts over */
	if (!e)
		bl_compile_incr_end(ci);
out:
	free(sv);
	free(sl);
	free(gs);
	free(gl);
	bl_parsed_objects_free(&p);
	return e;
}

/* One group from the API's caches: its Service (if any) and the slices naming it. */
static int update_one(struct bl_compile_incr *ci, const struct bl_kube_source *k, const char *key,
		      const struct bl_compile_opts *o, struct bl_errlist *errs)
{
	json_t *svc = bl_kube_source_service(k, key), *slices = bl_kube_source_slices_of(k, key);
	size_t n = 0, cap = 1 + json_object_size(slices);
	json_t **objs = calloc(cap, sizeof(*objs)), *v;
	struct bl_parsed_objects p;
	const char *sk;
	int e;

	if (!objs)
		return -ENOMEM;
	if (svc)
		objs[n++] = svc;
	json_object_foreach(slices, sk, v) objs[n++] = v;
	e = bl_parse_objects(objs, n, &p, errs);
	free(objs);
	if (e)
		return e;
	e = bl_compile_incr_set(ci, key, p.svcs, p.n_svcs, p.slices, p.n_slices, o, errs);
	bl_parsed_objects_free(&p);
	return e;
}

int bl_service_groups_update(struct bl_compile_incr *ci, const struct bl_kube_source *k,
			     json_t *touched, const struct bl_compile_opts *o,
			     struct bl_errlist *errs)
{
	const char *key;
	json_t *v;
	int e = 0;

	json_object_foreach(touched, key, v)
	{
		e = update_one(ci, k, key, o, errs);
		if (e)
			break;
	}
	return e;
}
