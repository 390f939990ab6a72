/* Raw objects → parsed Services and EndpointSlices → bl_compile_services. */
#include "controlplane/compile/compile.h"

#include "controlplane/compile/k8s_object.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int bl_parse_objects(json_t *const *objs, size_t n, struct bl_parsed_objects *p,
		     struct bl_errlist *errs)
{
	char err[256], what[200];
	int e = 0;

	memset(p, 0, sizeof(*p));
	p->svcs = calloc(n + 1, sizeof(*p->svcs));
	p->slices = calloc(n + 1, sizeof(*p->slices));
	if (!p->svcs || !p->slices) {
		bl_parsed_objects_free(p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && !e; i++) {
		int kind = bl_k8s_kind_of(objs[i], err, sizeof(err));

		if (kind == BL_K8S_SERVICE)
			e = bl_k8s_service_parse(objs[i], &p->svcs[p->n_svcs], err, sizeof(err));
		else if (kind == BL_K8S_ENDPOINTSLICE)
			e = bl_k8s_endpointslice_parse(objs[i], &p->slices[p->n_slices], err,
						       sizeof(err));
		else if (kind < 0)
			e = kind;
		else
			continue;
		if (e == -EINVAL) {
			bl_errlist_add(errs, "%s: %s; skipped",
				       bl_k8s_describe(objs[i], what, sizeof(what)), err);
			e = 0;
			continue;
		}
		if (!e && kind == BL_K8S_SERVICE)
			p->n_svcs++;
		else if (!e)
			p->n_slices++;
	}
	if (e)
		bl_parsed_objects_free(p);
	return e;
}

void bl_parsed_objects_free(struct bl_parsed_objects *p)
{
	for (size_t i = 0; p->svcs && i < p->n_svcs; i++)
		bl_k8s_service_free(&p->svcs[i]);
	for (size_t i = 0; p->slices && i < p->n_slices; i++)
		bl_k8s_endpointslice_free(&p->slices[i]);
	free(p->svcs);
	free(p->slices);
	memset(p, 0, sizeof(*p));
}

int bl_compile_objects(json_t *const *objs, size_t n, const struct bl_compile_opts *opts,
		       struct bl_svc_table *out, struct bl_errlist *errs)
{
	struct bl_parsed_objects p;
	int e;

	memset(out, 0, sizeof(*out));
	e = bl_parse_objects(objs, n, &p, errs);
	if (e)
		return e;
	e = bl_compile_services(p.svcs, p.n_svcs, p.slices, p.n_slices, opts, out, errs);
	bl_parsed_objects_free(&p);
	return e;
}
