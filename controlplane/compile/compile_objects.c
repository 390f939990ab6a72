/* Raw objects → parsed Services and EndpointSlices → bl_compile_services. */
#include "controlplane/compile/compile.h"

#include "controlplane/compile/k8s_object.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int bl_compile_objects(json_t *const *objs, size_t n, const struct bl_compile_opts *opts,
		       struct bl_svc_table *out, struct bl_errlist *errs)
{
	struct bl_k8s_service *svcs = calloc(n + 1, sizeof(*svcs));
	struct bl_k8s_endpointslice *slices = calloc(n + 1, sizeof(*slices));
	size_t n_svcs = 0, n_slices = 0;
	char err[256], what[200];
	int e = 0;

	memset(out, 0, sizeof(*out));
	if (!svcs || !slices) {
		e = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && !e; i++) {
		int kind = bl_k8s_kind_of(objs[i], err, sizeof(err));

		if (kind == BL_K8S_SERVICE)
			e = bl_k8s_service_parse(objs[i], &svcs[n_svcs], err, sizeof(err));
		else if (kind == BL_K8S_ENDPOINTSLICE)
			e = bl_k8s_endpointslice_parse(objs[i], &slices[n_slices], err,
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
			n_svcs++;
		else if (!e)
			n_slices++;
	}
	if (!e)
		e = bl_compile_services(svcs, n_svcs, slices, n_slices, opts, out, errs);
out:
	for (size_t i = 0; svcs && i < n_svcs; i++)
		bl_k8s_service_free(&svcs[i]);
	for (size_t i = 0; slices && i < n_slices; i++)
		bl_k8s_endpointslice_free(&slices[i]);
	free(svcs);
	free(slices);
	return e;
}
