/* Just enough OpenAPI v3 for kubectl: the index of group versions and, per group version,
 * the PATCH operations with their GroupVersionKind and the fieldValidation parameter, which
 * is how kubectl learns it may leave validation to the server. No schemas yet. */
#include "controlplane/apiserver/discovery.h"
#include "controlplane/apiserver/resources.h"
#include "controlplane/apiserver/respond.h"

#include <stdio.h>
#include <string.h>

#define HASH "bpflet-v1"

/* "api/v1" or "apis/GROUP/VERSION" */
static void gv_path(const struct bl_resource *r, char *buf, size_t len)
{
	if (r->group[0])
		snprintf(buf, len, "apis/%s/%s", r->group, r->version);
	else
		snprintf(buf, len, "api/%s", r->version);
}

static json_t *index_doc(void)
{
	json_t *paths = json_object();
	char gv[128], url[192];

	for (size_t i = 0; i < bl_nresources; i++) {
		gv_path(&bl_resources[i], gv, sizeof(gv));
		snprintf(url, sizeof(url), "/openapi/v3/%s?hash=" HASH, gv);
		json_object_set_new(paths, gv, json_pack("{s:s}", "serverRelativeURL", url));
	}
	return json_pack("{s:o}", "paths", paths);
}

static json_t *patch_op(const struct bl_resource *r)
{
	json_t *params = json_array();
	static const char *const names[] = {"dryRun", "fieldManager", "fieldValidation", "force"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		json_array_append_new(params, json_pack("{s:s, s:s, s:{s:s}}", "name", names[i],
							"in", "query", "schema", "type",
							i == 3 ? "boolean" : "string"));
	return json_pack("{s:{s:s, s:s, s:s}, s:o, s:{s:{s:s}}}", "x-kubernetes-group-version-kind",
			 "group", r->group, "version", r->version, "kind", r->kind, "parameters",
			 params, "responses", "200", "description", "OK");
}

static json_t *gv_doc(const char *want)
{
	json_t *paths = json_object();
	char gv[128], path[256];
	bool any = false;

	for (size_t i = 0; i < bl_nresources; i++) {
		const struct bl_resource *r = &bl_resources[i];

		gv_path(r, gv, sizeof(gv));
		if (strcmp(gv, want))
			continue;
		any = true;
		snprintf(path, sizeof(path), "/%s/%s%s/{name}", gv,
			 r->namespaced ? "namespaces/{namespace}/" : "", r->name);
		json_object_set_new(paths, path, json_pack("{s:o}", "patch", patch_op(r)));
	}
	if (!any) {
		json_decref(paths);
		return NULL;
	}
	return json_pack("{s:s, s:{s:s, s:s}, s:o}", "openapi", "3.0.0", "info", "title",
			 "Kubernetes", "version", "v1.32.0", "paths", paths);
}

bool bl_openapi_handle(struct hx *x)
{
	json_t *doc = NULL;

	if (strncmp(x->path, "/openapi/", 9))
		return false;
	if (!strcmp(x->path, "/openapi/v3") || !strcmp(x->path, "/openapi/v3/"))
		doc = index_doc();
	else if (!strncmp(x->path, "/openapi/v3/", 12))
		doc = gv_doc(x->path + 12);
	if (!doc) {
		/* no OpenAPI v2, no schemas */
		bl_reply_status(x, 404, "NotFound",
				"the server could not find the requested resource", NULL, NULL);
		return true;
	}
	bl_reply_json(x, 200, doc);
	return true;
}
